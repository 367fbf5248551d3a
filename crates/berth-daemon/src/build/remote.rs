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
