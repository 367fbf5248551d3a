//! `GET`/`HEAD`/`DELETE /v2/<name>/blobs/<digest>`: blobs linked into a repository,
//! streamed from their file (with `Range`: 206, or 416 and `Content-Range: bytes */size`).
//!
//! A `HEAD` is how a pushing client decides to skip an upload, so it touches the blob
//! (under its guard): a collection running now keeps it for the manifest that will name
//! it. A `DELETE` only unlinks the blob from the repository; the file goes when the
//! collector finds nothing else needs it.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::error::RegistryError;
use super::http::{DIGEST_HEADER, empty};
use super::registry::{Registry, blocking};
use crate::digest::{Digest, DigestError};

/// How much of a blob is read at a time while streaming it.
const READ_CHUNK: usize = 256 * 1024;

/// Parses a digest of a request path or query.
pub fn parse_digest(s: &str) -> Result<Digest, RegistryError> {
    s.parse().map_err(|e| match e {
        DigestError::Invalid(d) => RegistryError::DigestInvalid(d),
        DigestError::Unsupported(d) => RegistryError::DigestUnsupported(d),
    })
}

/// `GET` (or `HEAD`) a blob.
pub async fn get(
    reg: Arc<Registry>,
    repo: String,
    digest: String,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response, RegistryError> {
    let d = parse_digest(&digest)?;
    let path = reg.blobs.path(&d);
    let size = {
        let (reg, key) = (reg.clone(), d.to_string());
        blocking(move || {
            let size = reg.blob_in(&repo, &key)?;
            if head && size.is_some() {
                let _g = reg.guard(&key);
                reg.touch(&key);
            }
            size.ok_or(RegistryError::BlobUnknown(key))
        })
        .await?
    };
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(r) => {
            Some(parse_range(r, size).ok_or(RegistryError::RangeInvalid { size, upload: None })?)
        }
        None => None,
    };
    let (start, len) = range.map_or((0, size), |(a, b)| (a, b - a + 1));
    let mut h = vec![
        (DIGEST_HEADER, d.to_string()),
        (header::CONTENT_LENGTH, len.to_string()),
        (header::CONTENT_TYPE, "application/octet-stream".to_string()),
        (header::ACCEPT_RANGES, "bytes".to_string()),
        (header::ETAG, format!("\"{d}\"")),
    ];
    let status = match range {
        Some((a, b)) => {
            h.push((header::CONTENT_RANGE, format!("bytes {a}-{b}/{size}")));
            StatusCode::PARTIAL_CONTENT
        }
        None => StatusCode::OK,
    };
    let mut resp = empty(status, &h);
    if head {
        return Ok(resp);
    }
    // Opened now: a sweep that removes the file later does not cut this read short.
    let mut file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| RegistryError::BlobUnknown(d.to_string()))?;
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|e| RegistryError::Internal(e.to_string()))?;
    }
    reg.metrics.sent(len);
    let stream = tokio_util::io::ReaderStream::with_capacity(file.take(len), READ_CHUNK);
    *resp.body_mut() = Body::from_stream(stream);
    Ok(resp)
}

/// One range of `bytes=a-b`, `bytes=a-` or `bytes=-n`, clamped to `size`; `None` when
/// unsatisfiable or not one range.
fn parse_range(header: &str, size: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (size.saturating_sub(n), size - 1)
        }
        (a, "") => (a.parse().ok()?, size - 1),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(size - 1)),
    };
    (start <= end && start < size).then_some((start, end))
}

/// `DELETE` a blob from a repository.
pub async fn delete(
    reg: Arc<Registry>,
    repo: String,
    digest: String,
) -> Result<Response, RegistryError> {
    if !reg.config.delete {
        return Err(RegistryError::Unsupported);
    }
    let d = parse_digest(&digest)?.to_string();
    blocking(move || {
        if reg.meta.unlink(&repo, &d)? {
            Ok(empty(StatusCode::ACCEPTED, &[(DIGEST_HEADER, d)]))
        } else {
            Err(RegistryError::BlobUnknown(d))
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_clamped_or_refused() {
        assert_eq!(parse_range("bytes=0-3", 10), Some((0, 3)));
        assert_eq!(parse_range("bytes=5-", 10), Some((5, 9)));
        assert_eq!(parse_range("bytes=-4", 10), Some((6, 9)));
        assert_eq!(parse_range("bytes=8-100", 10), Some((8, 9)));
        assert_eq!(parse_range("bytes=10-", 10), None);
        assert_eq!(parse_range("bytes=3-2", 10), None);
        assert_eq!(parse_range("bytes=0-1,3-4", 10), None);
        assert_eq!(parse_range("items=0-1", 10), None);
    }
}
