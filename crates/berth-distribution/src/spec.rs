//! The wire vocabulary of the OCI distribution spec and Docker's registry v2: media types,
//! manifests and indexes as JSON, and the error codes of the error body.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Media types a registry serves.
pub mod media {
    /// An OCI image manifest.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// An OCI image index.
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// An OCI image config.
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// An OCI layer, uncompressed.
    pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
    /// An OCI layer, gzip.
    pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// An OCI layer, zstd.
    pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
    /// The empty descriptor of artifacts (`{}`).
    pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
    /// Docker's schema 2 manifest.
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// Docker's manifest list.
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// Docker's image config.
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    /// Docker's layer (gzip).
    pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    /// Docker's foreign (non-distributable) layer.
    pub const DOCKER_FOREIGN_LAYER: &str =
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

    /// Whether `t` is an index (OCI or Docker's list).
    pub fn is_index(t: &str) -> bool {
        t == OCI_INDEX || t == DOCKER_LIST
    }

    /// Whether `t` is an image manifest (OCI or Docker's schema 2).
    pub fn is_manifest(t: &str) -> bool {
        t == OCI_MANIFEST || t == DOCKER_MANIFEST
    }

    /// What a client accepts for a manifest, in one `Accept` header.
    pub const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
}

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Its media type.
    pub media_type: String,
    /// `alg:hex` (sha256 or sha512); kept as text so that a server can hold either.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
    /// Where an index names a manifest: the platform it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// An artifact's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Other locations of a foreign layer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
}

/// A platform as an index names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// `arm64`, `amd64`, ...
    pub architecture: String,
    /// `linux`, ...
    pub os: String,
    /// `v8`, `v7`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// `os.version`.
    #[serde(
        default,
        rename = "os.version",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
}

/// A manifest or an index: the fields either may have, as a registry reads them to learn
/// what a pushed document references.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    /// Must be 2.
    #[serde(default)]
    pub schema_version: Option<u32>,
    /// The media type the document says it has (optional in OCI).
    #[serde(default)]
    pub media_type: Option<String>,
    /// A manifest's artifact type.
    #[serde(default)]
    pub artifact_type: Option<String>,
    /// A manifest's config.
    #[serde(default)]
    pub config: Option<Descriptor>,
    /// A manifest's layers.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// An index's manifests.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// The manifest this one refers to (referrers API).
    #[serde(default)]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

impl Document {
    /// Parses a manifest or index.
    pub fn parse(bytes: &[u8]) -> Result<Document, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Whether it is an index: by its media type, or by having `manifests` and no `config`.
    pub fn is_index(&self) -> bool {
        match &self.media_type {
            Some(t) => media::is_index(t),
            None => self.config.is_none() && !self.manifests.is_empty(),
        }
    }
}

/// The error codes of the distribution spec (and Docker's additions), in the error body
/// `{"errors":[{"code":..,"message":..,"detail":..}]}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// A blob is not in the repository.
    BlobUnknown,
    /// A blob upload is invalid.
    BlobUploadInvalid,
    /// A blob upload is not known.
    BlobUploadUnknown,
    /// A digest does not match the content.
    DigestInvalid,
    /// A manifest references a blob that is not there.
    ManifestBlobUnknown,
    /// A manifest is invalid.
    ManifestInvalid,
    /// A manifest is not known.
    ManifestUnknown,
    /// A repository name is invalid.
    NameInvalid,
    /// A repository is not known.
    NameUnknown,
    /// A content length is invalid.
    SizeInvalid,
    /// Authentication is required.
    Unauthorized,
    /// Access is denied.
    Denied,
    /// The operation is unsupported.
    Unsupported,
    /// Too many requests.
    Toomanyrequests,
    /// A range is invalid (Docker's distribution).
    RangeInvalid,
    /// A tag is invalid (Docker's distribution).
    TagInvalid,
    /// A pagination number is invalid.
    PaginationNumberInvalid,
    /// Any other code a registry sends.
    #[serde(other)]
    Unknown,
}

/// One error of an error body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// Its code.
    pub code: ErrorCode,
    /// A message for people.
    #[serde(default)]
    pub message: String,
    /// More, in any JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// The error body of a registry's failed request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The errors.
    #[serde(default)]
    pub errors: Vec<ErrorInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_is_told_by_its_type_or_its_shape() {
        let typed = Document::parse(br#"{"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]}"#).unwrap();
        assert!(typed.is_index());
        let untyped = Document::parse(
            br#"{"schemaVersion":2,"manifests":[{"mediaType":"a","digest":"sha256:00","size":1}]}"#,
        )
        .unwrap();
        assert!(untyped.is_index());
        let manifest = Document::parse(br#"{"schemaVersion":2,"config":{"mediaType":"a","digest":"sha256:00","size":1},"layers":[]}"#).unwrap();
        assert!(!manifest.is_index());
    }

    #[test]
    fn an_unknown_error_code_still_parses() {
        let body: ErrorBody = serde_json::from_str(
            r#"{"errors":[{"code":"NEW_THING","message":"m"},{"code":"MANIFEST_UNKNOWN"}]}"#,
        )
        .unwrap();
        assert_eq!(body.errors[0].code, ErrorCode::Unknown);
        assert_eq!(body.errors[1].code, ErrorCode::ManifestUnknown);
    }
}
