//! `ADD <url>`: downloads over HTTP(S) (redirects followed), hashed while written.

use std::path::Path;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{Error, Result};

/// What a download gave.
pub struct Fetched {
    /// sha256 of the body, hex.
    pub sha256: String,
    /// `Last-Modified`, as unix seconds.
    pub mtime: Option<i64>,
    /// The file name the URL (after redirects) ends with.
    pub name: String,
}

/// Docker's error for an answer of 400 or more: `failed to GET URL with status 404 Not
/// Found: BODY` (the body's first 4 KiB), a 404 for a 404, a 400 for a 400, else a 500.
async fn status_error(
    url: &str,
    status: hyper::StatusCode,
    mut body: hyper::body::Incoming,
) -> Error {
    let mut text = Vec::new();
    while text.len() < 4096
        && let Some(Ok(frame)) = body.frame().await
    {
        if let Some(data) = frame.data_ref() {
            text.extend_from_slice(data);
        }
    }
    text.truncate(4096);
    let msg = format!(
        "failed to GET {url} with status {status}: {}",
        String::from_utf8_lossy(&text).trim()
    );
    match status.as_u16() {
        404 => Error::not_found(msg),
        400 => Error::invalid(msg),
        _ => Error::new(berth_core::ErrorKind::Internal, msg),
    }
}

/// Downloads `url` into `dest`.
pub async fn fetch(url: &str, dest: &Path) -> Result<Fetched> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let mut url = url.to_string();
    for _ in 0..10 {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e| Error::invalid(format!("invalid URL {url}: {e}")))?;
        let resp = client
            .get(uri.clone())
            .await
            .map_err(|e| Error::invalid(format!("failed to fetch {url}: {e}")))?;
        let status = resp.status();
        if status.is_redirection() {
            let Some(loc) = resp.headers().get(hyper::header::LOCATION) else {
                return Err(Error::invalid(format!(
                    "{url}: redirect without a location"
                )));
            };
            let loc = loc.to_str().unwrap_or_default();
            url = if loc.starts_with("http://") || loc.starts_with("https://") {
                loc.to_string()
            } else {
                format!(
                    "{}://{}{}",
                    uri.scheme_str().unwrap_or("http"),
                    uri.authority().map(|a| a.as_str()).unwrap_or_default(),
                    loc
                )
            };
            continue;
        }
        if status.as_u16() >= 400 {
            return Err(status_error(&url, status, resp.into_body()).await);
        }
        if !status.is_success() {
            return Err(Error::invalid(format!("failed to fetch {url}: {status}")));
        }
        let mtime = resp
            .headers()
            .get(hyper::header::LAST_MODIFIED)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
            .map(|t| t.timestamp());
        let name = uri
            .path()
            .rsplit('/')
            .find(|s| !s.is_empty())
            .unwrap_or("index.html")
            .to_string();
        let mut file = tokio::fs::File::create(dest)
            .await
            .map_err(|e| Error::internal("creating download", e))?;
        let mut hasher = Sha256::new();
        let mut body = resp.into_body();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Error::invalid(format!("failed to fetch {url}: {e}")))?;
            if let Some(data) = frame.data_ref() {
                hasher.update(data);
                file.write_all(data)
                    .await
                    .map_err(|e| Error::internal("writing download", e))?;
            }
        }
        file.flush()
            .await
            .map_err(|e| Error::internal("writing download", e))?;
        return Ok(Fetched {
            sha256: format!("{:x}", hasher.finalize()),
            mtime,
            name,
        });
    }
    Err(Error::invalid(format!("{url}: too many redirects")))
}
