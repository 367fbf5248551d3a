//! The registry's errors and the ONE place they become responses: a status and the
//! distribution spec's error body (`{"errors":[{"code","message","detail"}]}`).
//!
//! Handlers return [`RegistryError`]; the variant decides the code and status, the message
//! is the one CNCF distribution sends for that code (clients show it to people).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::meta::MetaError;
use super::storage::StorageError;
use crate::spec::{ErrorBody, ErrorCode, ErrorInfo};

/// A failed registry request.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The blob is not in the repository.
    #[error("blob unknown to registry")]
    BlobUnknown(String),
    /// The upload session is not known (or belongs to another repository).
    #[error("blob upload unknown to registry")]
    UploadUnknown(String),
    /// The upload request is malformed.
    #[error("blob upload invalid: {0}")]
    UploadInvalid(String),
    /// A chunk does not start where the upload ends, or a blob range is unsatisfiable.
    #[error("requested range not satisfiable")]
    RangeInvalid {
        /// The upload's or blob's size, for the `Range`/`Content-Range` answer.
        size: u64,
        /// An upload's location, when it is a chunk that was out of order.
        upload: Option<String>,
    },
    /// The content does not match the digest, or a digest does not parse.
    #[error("provided digest did not match uploaded content")]
    DigestInvalid(String),
    /// A digest of an algorithm the registry does not verify.
    #[error("digest algorithm not supported: {0}")]
    DigestUnsupported(String),
    /// No such manifest (or tag).
    #[error("manifest unknown")]
    ManifestUnknown(String),
    /// The manifest does not parse or contradicts its headers.
    #[error("manifest invalid: {0}")]
    ManifestInvalid(String),
    /// The manifest is over the size limit.
    #[error("manifest too large: {0} bytes")]
    ManifestTooLarge(u64),
    /// The manifest names a blob or manifest that is not in the repository.
    #[error("blob unknown to registry")]
    ManifestBlobUnknown(String),
    /// The repository name is not valid.
    #[error("invalid repository name")]
    NameInvalid(String),
    /// The repository is not known.
    #[error("repository name not known to registry")]
    NameUnknown(String),
    /// The tag is not valid.
    #[error("manifest tag did not match URI")]
    TagInvalid(String),
    /// `Content-Length` or `Content-Range` contradict the body.
    #[error("provided length did not match content length")]
    SizeInvalid(String),
    /// `n` is not a number.
    #[error("invalid number of results requested")]
    PaginationInvalid,
    /// No credentials, or wrong ones: the challenge to answer with.
    #[error("authentication required")]
    Unauthorized {
        /// The `WWW-Authenticate` header value.
        challenge: String,
    },
    /// Authenticated, but the token does not grant this.
    #[error("requested access to the resource is denied")]
    Denied,
    /// A route or method the registry does not serve.
    #[error("the operation is unsupported")]
    Unsupported,
    /// No such route.
    #[error("not found")]
    NotFound,
    /// The client's body stopped, or could not be read.
    #[error("reading the request body: {0}")]
    Body(String),
    /// The blob store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The metadata failed.
    #[error(transparent)]
    Meta(#[from] MetaError),
    /// A blocking task died.
    #[error("internal error: {0}")]
    Internal(String),
}

impl RegistryError {
    /// The code and status of the error body.
    fn code(&self) -> (ErrorCode, StatusCode) {
        use RegistryError as E;
        match self {
            E::BlobUnknown(_) => (ErrorCode::BlobUnknown, StatusCode::NOT_FOUND),
            E::UploadUnknown(_) => (ErrorCode::BlobUploadUnknown, StatusCode::NOT_FOUND),
            E::UploadInvalid(_) | E::Body(_) => {
                (ErrorCode::BlobUploadInvalid, StatusCode::BAD_REQUEST)
            }
            E::RangeInvalid { .. } => (ErrorCode::RangeInvalid, StatusCode::RANGE_NOT_SATISFIABLE),
            E::DigestInvalid(_) => (ErrorCode::DigestInvalid, StatusCode::BAD_REQUEST),
            E::DigestUnsupported(_) => (ErrorCode::Unsupported, StatusCode::BAD_REQUEST),
            E::ManifestUnknown(_) => (ErrorCode::ManifestUnknown, StatusCode::NOT_FOUND),
            E::ManifestInvalid(_) => (ErrorCode::ManifestInvalid, StatusCode::BAD_REQUEST),
            E::ManifestTooLarge(_) => (ErrorCode::SizeInvalid, StatusCode::PAYLOAD_TOO_LARGE),
            E::ManifestBlobUnknown(_) => (ErrorCode::ManifestBlobUnknown, StatusCode::BAD_REQUEST),
            E::NameInvalid(_) => (ErrorCode::NameInvalid, StatusCode::BAD_REQUEST),
            E::NameUnknown(_) => (ErrorCode::NameUnknown, StatusCode::NOT_FOUND),
            E::TagInvalid(_) => (ErrorCode::TagInvalid, StatusCode::BAD_REQUEST),
            E::SizeInvalid(_) => (ErrorCode::SizeInvalid, StatusCode::BAD_REQUEST),
            E::PaginationInvalid => (ErrorCode::PaginationNumberInvalid, StatusCode::BAD_REQUEST),
            E::Unauthorized { .. } => (ErrorCode::Unauthorized, StatusCode::UNAUTHORIZED),
            E::Denied => (ErrorCode::Denied, StatusCode::FORBIDDEN),
            E::Unsupported => (ErrorCode::Unsupported, StatusCode::METHOD_NOT_ALLOWED),
            E::NotFound => (ErrorCode::Unsupported, StatusCode::NOT_FOUND),
            E::Storage(StorageError::DigestMismatch { .. }) => {
                (ErrorCode::DigestInvalid, StatusCode::BAD_REQUEST)
            }
            E::Storage(_) | E::Meta(_) | E::Internal(_) => {
                (ErrorCode::Unknown, StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    /// What the error is about, for the body's `detail`.
    fn detail(&self) -> Option<serde_json::Value> {
        use RegistryError as E;
        match self {
            E::BlobUnknown(d) | E::ManifestBlobUnknown(d) | E::DigestInvalid(d) => {
                Some(serde_json::json!({ "digest": d }))
            }
            E::ManifestUnknown(r) | E::TagInvalid(r) => Some(serde_json::json!({ "reference": r })),
            E::NameInvalid(n) | E::NameUnknown(n) => Some(serde_json::json!({ "name": n })),
            E::UploadInvalid(s) | E::ManifestInvalid(s) | E::SizeInvalid(s) | E::Body(s) => {
                Some(serde_json::json!(s))
            }
            E::Storage(e) => Some(serde_json::json!(e.to_string())),
            E::Meta(e) => Some(serde_json::json!(e.to_string())),
            _ => None,
        }
    }
}

impl IntoResponse for RegistryError {
    fn into_response(self) -> Response {
        let (code, status) = self.code();
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "registry request failed");
        }
        let body = ErrorBody {
            errors: vec![ErrorInfo {
                code,
                message: self.to_string(),
                detail: self.detail(),
            }],
        };
        // A server fault has no code in the spec: `Unknown` says UNKNOWN, as CNCF
        // distribution does.
        let mut resp = (status, axum::Json(body)).into_response();
        let headers = resp.headers_mut();
        match &self {
            RegistryError::Unauthorized { challenge } => {
                if let Ok(v) = HeaderValue::from_str(challenge) {
                    headers.insert(header::WWW_AUTHENTICATE, v);
                }
            }
            RegistryError::RangeInvalid { size, upload } => {
                if let Some(location) = upload
                    .as_deref()
                    .and_then(|l| HeaderValue::from_str(l).ok())
                {
                    headers.insert(header::LOCATION, location);
                    headers.insert(header::RANGE, range_header(*size));
                } else if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    headers.insert(header::CONTENT_RANGE, v);
                }
            }
            _ => {}
        }
        resp
    }
}

/// An upload's `Range` header: the bytes it holds, `0-<last>` (`0-0` when empty, as
/// CNCF distribution sends it).
pub fn range_header(size: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("0-{}", size.saturating_sub(1))).expect("digits are a header")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_the_spec_code_and_status() {
        let resp = RegistryError::ManifestBlobUnknown("sha256:x".into()).into_response();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let resp = RegistryError::RangeInvalid {
            size: 5,
            upload: None,
        }
        .into_response();
        assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(resp.headers()[header::CONTENT_RANGE], "bytes */5");
        let resp = RegistryError::Unauthorized {
            challenge: "Basic realm=\"r\"".into(),
        }
        .into_response();
        assert_eq!(
            resp.headers()[header::WWW_AUTHENTICATE],
            "Basic realm=\"r\""
        );
    }
}
