//! `GET`/`HEAD`/`PUT`/`DELETE /v2/<name>/manifests/<reference>` (a tag or a digest).
//!
//! A `PUT` is checked before anything is stored: the body parses as a manifest or index
//! of schema 2, its media type agrees with `Content-Type`, a digest reference matches the
//! body, the blobs a manifest names are in the repository (MANIFEST_BLOB_UNKNOWN
//! otherwise; foreign layers excepted) and so are an index's manifests. The blob check
//! happens under each blob's guard with the collector's mark gate shared, and touches the
//! blob, so a collection never sweeps what a manifest being stored names (see `gc`).
//! The body is stored as a blob and the record (with its subject, for the referrers API)
//! in the metadata; the answer carries `OCI-Subject` when there is a subject.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::Response;

use super::blobs::parse_digest;
use super::error::RegistryError;
use super::http::{DIGEST_HEADER, empty};
use super::meta::{ManifestRecord, Pulled, PutManifest};
use super::names::valid_tag;
use super::registry::{Registry, blocking, now_ms};
use super::storage::StorageError;
use crate::digest::{Algorithm, Digest};
use crate::spec::{Descriptor, Document, media};

/// The largest manifest accepted (the spec's suggestion).
pub const MAX_MANIFEST: usize = 4 * 1024 * 1024;

const SUBJECT_HEADER: HeaderName = HeaderName::from_static("oci-subject");
const TAG_HEADER: HeaderName = HeaderName::from_static("oci-tag");

/// A reference: a tag or a digest.
enum Reference {
    Tag(String),
    Digest(Digest),
}

fn reference(r: &str) -> Result<Reference, RegistryError> {
    if r.contains(':') {
        Ok(Reference::Digest(parse_digest(r)?))
    } else if valid_tag(r) {
        Ok(Reference::Tag(r.to_string()))
    } else {
        Err(RegistryError::TagInvalid(r.to_string()))
    }
}

/// `GET` (or `HEAD`) a manifest.
pub async fn get(
    reg: Arc<Registry>,
    repo: String,
    r: String,
    head: bool,
) -> Result<Response, RegistryError> {
    let reference = reference(&r)?;
    let (digest, record, bytes) = blocking(move || {
        let digest = match &reference {
            Reference::Digest(d) => d.clone(),
            Reference::Tag(t) => {
                let tag = reg
                    .meta
                    .tag(&repo, t)?
                    .ok_or_else(|| RegistryError::ManifestUnknown(r.clone()))?;
                parse_digest(&tag.digest)?
            }
        };
        let key = digest.to_string();
        let record = reg
            .meta
            .manifest(&repo, &key)?
            .ok_or(RegistryError::ManifestUnknown(r))?;
        let bytes = if head {
            Vec::new()
        } else {
            // Deleted (and collected) since the record was read: it is gone, not broken.
            reg.blobs.read(&digest).map_err(|e| match e {
                StorageError::Access { source, .. }
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    RegistryError::ManifestUnknown(key.clone())
                }
                e => e.into(),
            })?
        };
        if !head {
            if let Reference::Tag(t) = &reference {
                reg.pulled(Pulled::Tag(repo.clone(), t.clone()));
            }
            reg.pulled(Pulled::Manifest(repo, key));
            reg.metrics.sent(bytes.len() as u64);
        }
        Ok((digest, record, bytes))
    })
    .await?;
    let mut resp = empty(
        StatusCode::OK,
        &[
            (header::CONTENT_TYPE, record.media_type),
            (header::CONTENT_LENGTH, record.size.to_string()),
            (DIGEST_HEADER, digest.to_string()),
            (header::ETAG, format!("\"{digest}\"")),
        ],
    );
    if !head {
        *resp.body_mut() = Body::from(bytes);
    }
    Ok(resp)
}

/// `PUT` a manifest.
pub async fn put(
    reg: Arc<Registry>,
    repo: String,
    r: String,
    q: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, RegistryError> {
    let reference = reference(&r)?;
    // `?tag=` (repeatable) on a PUT by digest tags it too, answered with `OCI-Tag`.
    let extra: Vec<String> = super::query::pairs(q)
        .into_iter()
        .filter(|(k, _)| k == "tag")
        .map(|(_, v)| v)
        .collect();
    if let Some(bad) = extra.iter().find(|t| !valid_tag(t)) {
        return Err(RegistryError::TagInvalid(bad.clone()));
    }
    let bytes = axum::body::to_bytes(body, MAX_MANIFEST)
        .await
        .map_err(|_| RegistryError::ManifestTooLarge(MAX_MANIFEST as u64 + 1))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let doc = Document::parse(&bytes).map_err(|e| RegistryError::ManifestInvalid(e.to_string()))?;
    let media_type = media_type(&doc, content_type.as_deref())?;
    let digest = match &reference {
        Reference::Digest(d) => {
            let actual = d.algorithm().digest(&bytes);
            if actual != *d {
                return Err(RegistryError::DigestInvalid(d.to_string()));
            }
            actual
        }
        Reference::Tag(_) => Algorithm::Sha256.digest(&bytes),
    };
    let record = record(&doc, media_type, bytes.len() as u64)?;
    let tags = match reference {
        Reference::Tag(t) => vec![t],
        Reference::Digest(_) => extra.clone(),
    };
    let subject = record.subject.clone();
    let d = digest.clone();
    let repo2 = repo.clone();
    blocking(move || store(&reg, &repo2, &d, &bytes, &record, &tags)).await?;
    let mut h = vec![
        (header::LOCATION, format!("/v2/{repo}/manifests/{digest}")),
        (DIGEST_HEADER, digest.to_string()),
    ];
    if let Some(s) = subject {
        h.push((SUBJECT_HEADER, s));
    }
    if !extra.is_empty() && r.contains(':') {
        h.push((TAG_HEADER, extra.join(", ")));
    }
    Ok(empty(StatusCode::CREATED, &h))
}

/// The media type to store: the body's own, which `Content-Type` must not contradict,
/// else `Content-Type`, else what the shape says.
fn media_type(doc: &Document, content_type: Option<&str>) -> Result<String, RegistryError> {
    if doc.schema_version != Some(2) {
        return Err(RegistryError::ManifestInvalid(
            "schemaVersion must be 2".into(),
        ));
    }
    let content_type = content_type.map(|c| c.split(';').next().unwrap_or(c).trim());
    match (&doc.media_type, content_type) {
        (Some(m), Some(c)) if m != c => Err(RegistryError::ManifestInvalid(format!(
            "mediaType {m} is not Content-Type {c}"
        ))),
        (Some(m), _) => Ok(m.clone()),
        (None, Some(c)) if !c.is_empty() => Ok(c.to_string()),
        (None, _) if doc.is_index() => Ok(media::OCI_INDEX.into()),
        (None, _) => Ok(media::OCI_MANIFEST.into()),
    }
}

/// What the metadata keeps of a manifest.
fn record(doc: &Document, media_type: String, size: u64) -> Result<ManifestRecord, RegistryError> {
    let check = |d: &Descriptor| {
        parse_digest(&d.digest)
            .map(|d| d.to_string())
            .map_err(|_| RegistryError::ManifestInvalid(format!("invalid digest {:?}", d.digest)))
    };
    let index = media::is_index(&media_type) || doc.is_index();
    let mut record = ManifestRecord {
        media_type,
        size,
        pushed: now_ms(),
        annotations: doc.annotations.clone(),
        ..Default::default()
    };
    if index {
        record.children = doc.manifests.iter().map(check).collect::<Result<_, _>>()?;
        record.artifact_type = doc.artifact_type.clone();
    } else {
        let config = doc
            .config
            .as_ref()
            .ok_or_else(|| RegistryError::ManifestInvalid("no config".into()))?;
        record.blobs.push(check(config)?);
        for layer in &doc.layers {
            // A foreign layer lives elsewhere (its urls); it need not be here.
            if layer.urls.is_empty() && layer.media_type != media::DOCKER_FOREIGN_LAYER {
                record.blobs.push(check(layer)?);
            } else {
                check(layer)?;
            }
        }
        record.artifact_type = doc
            .artifact_type
            .clone()
            .or_else(|| Some(config.media_type.clone()));
    }
    record.subject = doc.subject.as_ref().map(check).transpose()?;
    Ok(record)
}

/// Checks the blobs `record` names and stores the manifest.
fn store(
    reg: &Registry,
    repo: &str,
    digest: &Digest,
    bytes: &[u8],
    record: &ManifestRecord,
    tags: &[String],
) -> Result<(), RegistryError> {
    let mut ingest = reg.blobs.ingest()?;
    ingest.append(bytes)?;
    let sealed = ingest.seal(digest)?;
    // Shared with other PUTs; a collection waits for it only to note when its mark starts.
    let _gate = reg.mark_gate.read().unwrap_or_else(|e| e.into_inner());
    for blob in &record.blobs {
        let present = reg.meta.linked(repo, blob)?;
        let _g = reg.guard(blob);
        let on_disk = blob
            .parse::<Digest>()
            .is_ok_and(|d| reg.blobs.size(&d).is_some());
        if !(present && on_disk) {
            return Err(RegistryError::ManifestBlobUnknown(blob.clone()));
        }
        reg.touch(blob);
    }
    let key = digest.to_string();
    {
        let _g = reg.guard(&key);
        sealed.publish(&reg.blobs)?;
        reg.touch(&key);
    }
    match reg.meta.put_manifest(repo, &key, record, tags)? {
        PutManifest::Stored => Ok(()),
        PutManifest::MissingChild(c) => Err(RegistryError::ManifestBlobUnknown(c)),
    }
}

/// `DELETE` a manifest (by digest: it, its tags and its referrer entry) or a tag.
pub async fn delete(
    reg: Arc<Registry>,
    repo: String,
    r: String,
) -> Result<Response, RegistryError> {
    if !reg.config.delete {
        return Err(RegistryError::Unsupported);
    }
    let reference = reference(&r)?;
    blocking(move || {
        let deleted = match &reference {
            Reference::Digest(d) => reg.meta.delete_manifest(&repo, &d.to_string())?,
            Reference::Tag(t) => reg.meta.delete_tag(&repo, t)?,
        };
        if deleted {
            Ok(empty(StatusCode::ACCEPTED, &[]))
        } else {
            Err(RegistryError::ManifestUnknown(r))
        }
    })
    .await
}
