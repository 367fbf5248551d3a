//! `GET /v2/<name>/referrers/<digest>[?artifactType=]`: the manifests of the repository
//! whose `subject` is that digest, as an OCI image index of descriptors (with their
//! `artifactType` and annotations). With `artifactType`, only those of that type, and the
//! answer says so in `OCI-Filters-Applied`. A subject nobody refers to gets an empty index.

use std::sync::Arc;

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::blobs::parse_digest;
use super::error::RegistryError;
use super::query;
use super::registry::{Registry, blocking};
use crate::spec::{Descriptor, media};

/// The referrers index.
pub async fn list(
    reg: Arc<Registry>,
    repo: String,
    digest: String,
    q: Option<&str>,
) -> Result<Response, RegistryError> {
    let subject = parse_digest(&digest)?.to_string();
    let filter = query::get(q, "artifactType").filter(|t| !t.is_empty());
    let f = filter.clone();
    let manifests = blocking(move || {
        let refs = reg.meta.referrers(&repo, &subject)?;
        Ok(refs
            .into_iter()
            .filter(|(_, r)| {
                f.as_ref()
                    .is_none_or(|t| r.artifact_type.as_ref() == Some(t))
            })
            .map(|(d, r)| Descriptor {
                media_type: r.media_type,
                digest: d,
                size: r.size,
                platform: None,
                artifact_type: r.artifact_type,
                annotations: r.annotations,
                urls: Vec::new(),
            })
            .collect::<Vec<_>>())
    })
    .await?;
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": manifests,
    });
    let mut resp = axum::Json(index).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media::OCI_INDEX),
    );
    if filter.is_some() {
        h.insert(
            HeaderName::from_static("oci-filters-applied"),
            HeaderValue::from_static("artifactType"),
        );
    }
    Ok(resp)
}
