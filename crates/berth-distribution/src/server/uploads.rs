//! Blob uploads, the spec's push workflows:
//! - monolithic: `POST ?digest=` with the blob as body → 201;
//! - `POST` → 202 and a session (`Location`, `Docker-Upload-UUID`), then `PUT ?digest=`
//!   with the blob (or its last chunk) → 201;
//! - chunked: `PATCH`es with `Content-Range: <start>-<end>`; a chunk that does not start
//!   where the upload ends is refused with 416 and the upload's `Range`;
//! - `GET` of a session tells its `Range`, `DELETE` cancels it;
//! - `POST ?mount=<digest>&from=<repo>` links a blob of another repository (201); without
//!   `from`, any blob the registry holds (the spec's anonymous mount); when there is no
//!   such blob, a session starts instead (202).
//!
//! A session is a lease on its ingest file (see `registry::Upload`): the collector never
//! touches the file while the lease lives. Bodies stream to the file through a channel to
//! one blocking task per request, hashed as they go; nothing is held in memory.
//! Completing an upload verifies the digest, fsyncs, then publishes the file under the
//! blob's guard and touches it, and links it into the repository.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt;

use super::blobs::parse_digest;
use super::error::{RegistryError, range_header};
use super::http::{DIGEST_HEADER, empty};
use super::query;
use super::registry::{Registry, Upload, blocking, now_ms};
use super::storage::Ingest;
use crate::digest::Digest;

/// How long an upload body may pause before the request fails.
const BODY_IDLE: std::time::Duration = std::time::Duration::from_secs(120);

const UUID_HEADER: HeaderName = HeaderName::from_static("docker-upload-uuid");
const CHUNK_MIN_HEADER: HeaderName = HeaderName::from_static("oci-chunk-min-length");

fn location(repo: &str, id: &str) -> String {
    format!("/v2/{repo}/blobs/uploads/{id}")
}

/// The 202 of a session: where it is and what it holds.
fn session(reg: &Registry, status: StatusCode, repo: &str, id: &str, size: u64) -> Response {
    let mut resp = empty(
        status,
        &[
            (header::LOCATION, location(repo, id)),
            (UUID_HEADER, id.to_string()),
            (CHUNK_MIN_HEADER, reg.config.chunk_min_length.to_string()),
        ],
    );
    resp.headers_mut().insert(header::RANGE, range_header(size));
    resp
}

fn created(repo: &str, d: &Digest) -> Response {
    empty(
        StatusCode::CREATED,
        &[
            (header::LOCATION, format!("/v2/{repo}/blobs/{d}")),
            (DIGEST_HEADER, d.to_string()),
        ],
    )
}

/// `POST /v2/<name>/blobs/uploads/`.
pub async fn post(
    reg: Arc<Registry>,
    repo: String,
    q: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, RegistryError> {
    if let Some(mount) = query::get(q, "mount") {
        let d = parse_digest(&mount)?;
        let from = query::get(q, "from");
        let (r, dd) = (reg.clone(), d.clone());
        let repo2 = repo.clone();
        if blocking(move || mount_blob(&r, &repo2, &dd, from.as_deref())).await? {
            return Ok(created(&repo, &d));
        }
    } else if let Some(digest) = query::get(q, "digest") {
        let d = parse_digest(&digest)?;
        let ingest = blocking({
            let reg = reg.clone();
            move || Ok(reg.blobs.ingest()?)
        })
        .await?;
        let (ingest, written) = append(&reg, ingest, body).await;
        written?;
        check_length(headers, ingest.size())?;
        complete(&reg, &repo, ingest, d.clone()).await?;
        return Ok(created(&repo, &d));
    }
    let id = blocking({
        let (reg, repo) = (reg.clone(), repo.clone());
        move || reg.start_upload(&repo)
    })
    .await?;
    Ok(session(&reg, StatusCode::ACCEPTED, &repo, &id, 0))
}

/// Links `d` into `repo` from `from` (or from anywhere); whether it could.
fn mount_blob(
    reg: &Registry,
    repo: &str,
    d: &Digest,
    from: Option<&str>,
) -> Result<bool, RegistryError> {
    let key = d.to_string();
    let visible = match from {
        Some(from) => reg.blob_in(from, &key)?.is_some(),
        None => reg.blobs.size(d).is_some(),
    };
    if !visible {
        return Ok(false);
    }
    {
        // Under the guard: either the sweep already took it (and we start an upload), or
        // it sees this touch and keeps it.
        let _g = reg.guard(&key);
        if reg.blobs.size(d).is_none() {
            return Ok(false);
        }
        reg.touch(&key);
    }
    reg.meta.link(repo, &key, now_ms())?;
    Ok(true)
}

/// `PATCH` a chunk.
pub async fn patch(
    reg: Arc<Registry>,
    repo: String,
    id: String,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, RegistryError> {
    let upload = reg.take_upload(&repo, &id)?;
    if let Err(e) = check_chunk(headers, &upload, &repo, &id) {
        reg.put_upload(&id, upload);
        return Err(e);
    }
    let Upload {
        repo: r,
        ingest,
        last,
    } = upload;
    let (ingest, written) = append(&reg, ingest, body).await;
    let size = ingest.size();
    reg.put_upload(
        &id,
        Upload {
            repo: r,
            ingest,
            last,
        },
    );
    written?;
    Ok(session(&reg, StatusCode::ACCEPTED, &repo, &id, size))
}

/// `PUT ?digest=`: the last chunk (if any) and the end of the upload.
pub async fn put(
    reg: Arc<Registry>,
    repo: String,
    id: String,
    q: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, RegistryError> {
    let digest =
        query::get(q, "digest").ok_or_else(|| RegistryError::DigestInvalid(String::new()))?;
    let d = parse_digest(&digest)?;
    let upload = reg.take_upload(&repo, &id)?;
    if let Err(e) = check_chunk(headers, &upload, &repo, &id) {
        reg.put_upload(&id, upload);
        return Err(e);
    }
    let (ingest, written) = append(&reg, upload.ingest, body).await;
    // The session ends here whatever happens: a failed PUT leaves nothing to resume.
    reg.end_upload(&id);
    written?;
    complete(&reg, &repo, ingest, d.clone()).await?;
    Ok(created(&repo, &d))
}

/// `GET` a session's status.
pub async fn status(
    reg: Arc<Registry>,
    repo: String,
    id: String,
) -> Result<Response, RegistryError> {
    let size = reg.upload_size(&repo, &id)?;
    let mut resp = session(&reg, StatusCode::NO_CONTENT, &repo, &id, size);
    resp.headers_mut().remove(CHUNK_MIN_HEADER);
    Ok(resp)
}

/// `DELETE` a session.
pub async fn cancel(
    reg: Arc<Registry>,
    repo: String,
    id: String,
) -> Result<Response, RegistryError> {
    let upload = reg.take_upload(&repo, &id)?;
    reg.end_upload(&id);
    blocking(move || {
        drop(upload); // removes the file
        Ok(())
    })
    .await?;
    Ok(empty(StatusCode::NO_CONTENT, &[]))
}

/// A chunk must start where the upload ends, and its range must match its length.
fn check_chunk(
    headers: &HeaderMap,
    upload: &Upload,
    repo: &str,
    id: &str,
) -> Result<(), RegistryError> {
    let Some(range) = headers
        .get(header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(());
    };
    let size = upload.ingest.size();
    let spec = range
        .trim()
        .trim_start_matches("bytes")
        .trim_start_matches(['=', ' ']);
    let (a, b) = spec
        .split('/')
        .next()
        .and_then(|s| s.split_once('-'))
        .and_then(|(a, b)| Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?)))
        .ok_or_else(|| RegistryError::UploadInvalid(format!("bad Content-Range {range:?}")))?;
    if a != size || b < a {
        return Err(RegistryError::RangeInvalid {
            size,
            upload: Some(location(repo, id)),
        });
    }
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match length {
        Some(n) if n != b - a + 1 => Err(RegistryError::SizeInvalid(format!(
            "Content-Range {range} is not Content-Length {n}"
        ))),
        _ => Ok(()),
    }
}

/// A monolithic upload's `Content-Length` must be what arrived (hyper enforces that for
/// bodies it frames; this catches a client that says one thing and sends less).
fn check_length(headers: &HeaderMap, got: u64) -> Result<(), RegistryError> {
    let said = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    match said {
        Some(n) if n != got => Err(RegistryError::SizeInvalid(format!(
            "got {got} bytes of {n}"
        ))),
        _ => Ok(()),
    }
}

/// Streams `body` onto `ingest`, through one blocking task; the ingest comes back (with
/// whatever arrived) whether or not the body was whole.
async fn append(
    reg: &Registry,
    mut ingest: Ingest,
    body: Body,
) -> (Ingest, Result<(), RegistryError>) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(8);
    let writer = tokio::task::spawn_blocking(move || {
        let mut result = Ok(());
        while let Some(chunk) = rx.blocking_recv() {
            if result.is_ok() {
                result = ingest.append(&chunk).map_err(RegistryError::from);
            }
        }
        (ingest, result)
    });
    let mut stream = body.into_data_stream();
    let mut read = Ok(());
    let mut received = 0u64;
    loop {
        // A client that stops sending gives its upload back (with what arrived) rather
        // than holding the session forever.
        let Ok(next) = tokio::time::timeout(BODY_IDLE, stream.next()).await else {
            read = Err(RegistryError::Body(format!(
                "no data for {} s",
                BODY_IDLE.as_secs()
            )));
            break;
        };
        let Some(chunk) = next else { break };
        match chunk {
            Ok(c) => {
                received += c.len() as u64;
                if tx.send(c).await.is_err() {
                    break;
                }
            }
            Err(e) => {
                read = Err(RegistryError::Body(e.to_string()));
                break;
            }
        }
    }
    drop(tx);
    reg.metrics.received(received);
    let (ingest, written) = writer.await.expect("the upload writer does not panic");
    (ingest, written.and(read))
}

/// Verifies, publishes and links a finished upload.
async fn complete(
    reg: &Arc<Registry>,
    repo: &str,
    ingest: Ingest,
    d: Digest,
) -> Result<(), RegistryError> {
    let (reg, repo) = (reg.clone(), repo.to_string());
    blocking(move || {
        let sealed = ingest.seal(&d).map_err(|e| match e {
            super::storage::StorageError::DigestMismatch { .. } => {
                RegistryError::DigestInvalid(d.to_string())
            }
            e => e.into(),
        })?;
        let key = d.to_string();
        {
            let _g = reg.guard(&key);
            sealed.publish(&reg.blobs)?;
            reg.touch(&key);
        }
        reg.meta.link(&repo, &key, now_ms())?;
        Ok(())
    })
    .await
}
