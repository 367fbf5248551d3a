//! One repository at one endpoint: requests with the auth its registry asks for, manifests,
//! and blob downloads that verify the digest as the bytes stream and resume with `Range`
//! after a dropped connection.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RANGE, WWW_AUTHENTICATE};
use reqwest::{RequestBuilder, Response, StatusCode, Url};
use sha2::{Digest as _, Sha256};

use crate::digest::{Digest, Hasher};

use super::auth::{self, Challenge, Credentials};
use super::{Client, ClientError, Endpoint};
use crate::spec::media;

/// The most a manifest may weigh (Docker's limit).
const MANIFEST_LIMIT: usize = 4 << 20;

/// A manifest or index as the registry sent it.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its media type (the `Content-Type`, or the document's own `mediaType`).
    pub media_type: String,
    /// `sha256:<hex>` of the bytes.
    pub digest: String,
}

/// A repository of a registry, with the credentials and actions it is used for.
pub struct Repository {
    client: Client,
    pub(super) http: reqwest::Client,
    endpoint: Endpoint,
    name: String,
    creds: Credentials,
    actions: &'static str,
    /// What the registry's last 401 asked for; `None` until one came.
    challenge: tokio::sync::Mutex<Option<Challenge>>,
    /// More scopes to ask tokens for (the source repositories of mounts).
    extra_scopes: std::sync::Mutex<Vec<String>>,
}

impl Repository {
    pub(super) fn new(
        client: Client,
        http: reqwest::Client,
        endpoint: Endpoint,
        name: String,
        creds: Credentials,
        actions: &'static str,
    ) -> Repository {
        Repository {
            client,
            http,
            endpoint,
            name,
            creds,
            actions,
            challenge: tokio::sync::Mutex::new(None),
            extra_scopes: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The repository's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The endpoint it is reached at.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// `v2/<name>/<rest>` at the endpoint.
    pub(super) fn url(&self, rest: &str) -> Result<Url, ClientError> {
        let mut base = self.endpoint.base.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let path = match self.name.is_empty() {
            true => format!("v2/{rest}"),
            false => format!("v2/{}/{rest}", self.name),
        };
        base.join(&path)
            .map_err(|e| ClientError::Protocol(format!("invalid URL {path}: {e}")))
    }

    /// Also asks tokens for pulling from `repository` (a mount's source).
    pub(super) fn add_pull_scope(&self, repository: &str) {
        let scope = format!("repository:{repository}:pull");
        let mut extra = self.extra_scopes.lock().expect("scopes lock");
        if !extra.contains(&scope) {
            extra.push(scope);
        }
    }

    fn scopes(&self) -> Vec<String> {
        let mut scopes = Vec::new();
        if !self.name.is_empty() && !self.actions.is_empty() {
            scopes.push(format!("repository:{}:{}", self.name, self.actions));
        }
        scopes.extend(
            self.extra_scopes
                .lock()
                .expect("scopes lock")
                .iter()
                .cloned(),
        );
        scopes
    }

    /// The `Authorization` header for the registry's challenge, fetching a token if needed.
    async fn authorization(&self, refresh: bool) -> Result<Option<String>, ClientError> {
        if !self.creds.registry_token.is_empty() {
            return Ok(Some(format!("Bearer {}", self.creds.registry_token)));
        }
        let challenge = self.challenge.lock().await.clone();
        let Some(c) = challenge else {
            return Ok(None);
        };
        match c.scheme.as_str() {
            "basic" if !self.creds.username.is_empty() => {
                use base64::Engine as _;
                let pair = format!("{}:{}", self.creds.username, self.creds.password);
                let b64 = base64::engine::general_purpose::STANDARD.encode(pair);
                Ok(Some(format!("Basic {b64}")))
            }
            "bearer" => {
                let scopes = self.scopes();
                let key = format!(
                    "{}|{}|{}|{}",
                    c.params.get("realm").map_or("", |s| s),
                    c.params.get("service").map_or("", |s| s),
                    scopes.join(" "),
                    self.creds.username
                );
                if !refresh && let Some(t) = self.client.cached_token(&key) {
                    return Ok(Some(format!("Bearer {t}")));
                }
                let token = auth::fetch_token(&self.http, &c, &scopes, &self.creds, false).await?;
                let header = format!("Bearer {}", token.token);
                self.client.cache_token(key, token);
                Ok(Some(header))
            }
            _ => Ok(None),
        }
    }

    /// Sends the request `build` makes, with the registry's auth; after a 401 that brings a
    /// (new) challenge, once more. `build` runs again for the retry, so its body must be
    /// rebuildable: streamed uploads use [`send_once`](Self::send_once) after auth is known.
    pub(super) async fn send(
        &self,
        what: &str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, ClientError> {
        let mut refresh = false;
        for attempt in 0..2 {
            let mut req = build(&self.http);
            if let Some(h) = self.authorization(refresh).await? {
                req = req.header(AUTHORIZATION, h);
            }
            let response = req.send().await.map_err(ClientError::http(what))?;
            if response.status() != StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            if attempt == 0 && self.learn(&response).await {
                refresh = true;
                continue;
            }
            if self.creds.is_anonymous() && wants_basic(&response) {
                // dockerd's words for a registry that wants a login nobody gave.
                return Err(ClientError::Auth("no basic auth credentials".into()));
            }
            return Ok(response);
        }
        unreachable!("the loop returns on its second turn")
    }

    /// Sends a request that cannot be rebuilt (a streamed body), with the auth known so far.
    pub(super) async fn send_once(
        &self,
        what: &str,
        req: RequestBuilder,
    ) -> Result<Response, ClientError> {
        let req = match self.authorization(false).await? {
            Some(h) => req.header(AUTHORIZATION, h),
            None => req,
        };
        req.send().await.map_err(ClientError::http(what))
    }

    /// Takes the challenge of a 401; whether there is something new to try.
    async fn learn(&self, response: &Response) -> bool {
        let header = response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(", ");
        let challenges = auth::parse_challenges(&header);
        let usable = challenges.into_iter().find(|c| {
            c.scheme == "bearer" || (c.scheme == "basic" && !self.creds.username.is_empty())
        });
        let Some(c) = usable else {
            return false;
        };
        let mut known = self.challenge.lock().await;
        // A bearer challenge again means the token lacked a scope or expired: fetch anew.
        let new = known.as_ref() != Some(&c) || c.scheme == "bearer";
        *known = Some(c);
        new
    }

    /// Checks the credentials as `/v2/` asks; the identity token the token server gave.
    pub(super) async fn login(&self) -> Result<String, ClientError> {
        let url = self.url("")?;
        let response = self
            .http
            .get(url.clone())
            .send()
            .await
            .map_err(ClientError::http(format!("Get {url:?}")))?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(String::new());
        }
        if !self.learn(&response).await {
            return Err(login_failed(&url, response.status()));
        }
        let challenge = self.challenge.lock().await.clone().expect("learnt");
        if challenge.scheme == "bearer" {
            let token = auth::fetch_token(&self.http, &challenge, &[], &self.creds, true).await?;
            return Ok(token.refresh_token.unwrap_or_default());
        }
        let response = self
            .send(&format!("Get {url:?}"), |h| h.get(url.clone()))
            .await?;
        match response.status() {
            s if s.is_success() => Ok(String::new()),
            s => Err(login_failed(&url, s)),
        }
    }

    /// Every tag of the repository, following the registry's `Link` pages.
    pub async fn tags(&self) -> Result<Vec<String>, ClientError> {
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut url = self.url("tags/list")?;
        let mut tags = Vec::new();
        loop {
            let page_url = url.clone();
            let response = ok(self
                .send("listing tags", |h| h.get(page_url.clone()))
                .await?)
            .await?;
            let next = response
                .headers()
                .get(reqwest::header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| l.split(';').next())
                .map(|l| l.trim().trim_matches(['<', '>']).to_string());
            let body = limited_body(response, MANIFEST_LIMIT).await?;
            let page: Page = serde_json::from_slice(&body)
                .map_err(|e| ClientError::Protocol(format!("invalid tags list: {e}")))?;
            tags.extend(page.tags.unwrap_or_default());
            match next {
                Some(n) => {
                    url = url
                        .join(&n)
                        .map_err(|e| ClientError::Protocol(format!("invalid Link {n:?}: {e}")))?
                }
                None => return Ok(tags),
            }
        }
    }

    /// Fetches the manifest or index `reference` (a tag or a digest).
    pub async fn manifest(&self, reference: &str) -> Result<Manifest, ClientError> {
        let url = self.url(&format!("manifests/{reference}"))?;
        let response = self
            .send("fetching the manifest", |h| {
                h.get(url.clone()).header(ACCEPT, media::ACCEPT_MANIFESTS)
            })
            .await?;
        let response = ok(response).await?;
        let header_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|t| t.split(';').next().unwrap_or(t).trim().to_string());
        let bytes = limited_body(response, MANIFEST_LIMIT).await?;
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        if reference.contains(':') {
            verify_digest(reference, &bytes, "manifest")?;
        }
        let doc = crate::spec::Document::parse(&bytes)
            .map_err(|e| ClientError::Protocol(format!("invalid manifest {reference}: {e}")))?;
        let media_type = doc
            .media_type
            .clone()
            .or(header_type.filter(|t| media::is_index(t) || media::is_manifest(t)))
            .unwrap_or_else(|| match doc.is_index() {
                true => media::OCI_INDEX.to_string(),
                false => media::OCI_MANIFEST.to_string(),
            });
        Ok(Manifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// Downloads blob `digest` into `sink`, hashing as it streams; after a dropped connection
    /// it asks for the rest with `Range` (up to `attempts` tries in all). `progress` hears the
    /// bytes received so far. The digest is checked at the end: the caller must not use what
    /// the sink got unless this returns `Ok` (the size). A sink whose receiver is gone gets
    /// nothing more, and the download goes on to its end, for the digest.
    pub async fn download(
        &self,
        digest: &str,
        size: Option<u64>,
        attempts: u32,
        sink: &tokio::sync::mpsc::Sender<Bytes>,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<u64, ClientError> {
        let url = self.url(&format!("blobs/{digest}"))?;
        let mut hasher = hasher_for(digest)?;
        let mut received = 0u64;
        let mut tries = 0;
        loop {
            tries += 1;
            let from = received;
            let response = self
                .send("fetching a blob", |h| {
                    let req = h.get(url.clone());
                    match from {
                        0 => req,
                        n => req.header(RANGE, format!("bytes={n}-")),
                    }
                })
                .await;
            let result = match response {
                Ok(r) => {
                    self.stream_blob(r, from, &mut received, size, &mut hasher, sink, progress)
                        .await
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => break,
                Err(e) if tries < attempts.max(1) && retryable(&e) => {
                    tracing::debug!(digest, received, error = %e, "blob download broke; resuming");
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(tries))).await;
                }
                Err(e) => return Err(e),
            }
        }
        let actual = hasher.finish().to_string();
        if actual != digest {
            return Err(ClientError::DigestMismatch {
                what: "blob".into(),
                expected: digest.into(),
                actual,
            });
        }
        Ok(received)
    }

    #[allow(clippy::too_many_arguments)]
    async fn stream_blob(
        &self,
        response: Response,
        from: u64,
        received: &mut u64,
        size: Option<u64>,
        hasher: &mut Hasher,
        sink: &tokio::sync::mpsc::Sender<Bytes>,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<(), ClientError> {
        // A server that ignores `Range` starts again from byte 0: skip what we have.
        let mut skip = match response.status() {
            StatusCode::PARTIAL_CONTENT => 0,
            _ => from,
        };
        let response = ok(response).await?;
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let mut chunk = chunk.map_err(ClientError::http("reading a blob"))?;
            if skip > 0 {
                let n = skip.min(chunk.len() as u64);
                chunk = chunk.slice(n as usize..);
                skip -= n;
            }
            if chunk.is_empty() {
                continue;
            }
            *received += chunk.len() as u64;
            if size.is_some_and(|s| *received > s) {
                return Err(ClientError::Protocol(
                    "the registry sent more bytes than the blob's size".into(),
                ));
            }
            hasher.update(&chunk);
            progress(*received);
            // A reader that stopped (an extractor that refused the bytes) does not stop the
            // download: the digest, known at the end, may be the real cause.
            if !sink.is_closed() {
                let _ = sink.send(chunk).await;
            }
        }
        Ok(())
    }
}

fn wants_basic(response: &Response) -> bool {
    response
        .headers()
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            auth::parse_challenges(v)
                .iter()
                .any(|c| c.scheme == "basic")
        })
}

fn retryable(e: &ClientError) -> bool {
    match e {
        ClientError::Http { source, .. } => !source.is_builder(),
        ClientError::Registry { status, .. } => *status >= 500,
        _ => false,
    }
}

fn login_failed(url: &Url, status: StatusCode) -> ClientError {
    ClientError::Auth(format!(
        "login attempt to {url} failed with status: {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    ))
}

/// The response when its status is a success, else the registry's error.
pub(super) async fn ok(response: Response) -> Result<Response, ClientError> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    Err(ClientError::from_reply(status, &body))
}

async fn limited_body(response: Response, limit: usize) -> Result<Vec<u8>, ClientError> {
    let mut out = Vec::new();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk.map_err(ClientError::http("reading a manifest"))?);
        if out.len() > limit {
            return Err(ClientError::Protocol(format!(
                "manifest larger than {limit} bytes"
            )));
        }
    }
    Ok(out)
}

/// Checks `bytes` against `digest` (sha256 or sha512).
pub(super) fn verify_digest(digest: &str, bytes: &[u8], what: &str) -> Result<(), ClientError> {
    let mut h = hasher_for(digest)?;
    h.update(bytes);
    let actual = h.finish().to_string();
    match actual == digest {
        true => Ok(()),
        false => Err(ClientError::DigestMismatch {
            what: what.into(),
            expected: digest.into(),
            actual,
        }),
    }
}

/// A running hash of `digest`'s algorithm.
fn hasher_for(digest: &str) -> Result<Hasher, ClientError> {
    let parsed: Digest = digest
        .parse()
        .map_err(|e: crate::digest::DigestError| ClientError::Protocol(e.to_string()))?;
    Ok(Hasher::new(parsed.algorithm()))
}
