//! OCI image manifests and indexes: the ones berth writes for the images it makes (a manifest,
//! and an index naming it with its platform, as a registry serves a single-platform image), and
//! what a stored one references.

use std::str::FromStr;

use berth_core::Digest;
use oci_spec::image::{
    Arch, DescriptorBuilder, ImageIndex, ImageIndexBuilder, ImageManifest, ImageManifestBuilder,
    MediaType, Os, PlatformBuilder,
};
use serde::{Deserialize, Serialize};

/// The platform an image runs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// `linux`.
    pub os: String,
    /// `amd64`, `arm64`, ...
    pub architecture: String,
    /// `v7`, `v8`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

fn oci_digest(d: &Digest) -> oci_spec::image::Digest {
    oci_spec::image::Digest::from_str(d.as_str()).expect("a sha256 digest")
}

/// The OCI index (as stored bytes) naming manifest `manifest` (`size` bytes) for `platform`.
pub fn index(manifest: &Digest, size: u64, platform: &Platform) -> Vec<u8> {
    let mut p = PlatformBuilder::default()
        .os(Os::from(platform.os.as_str()))
        .architecture(Arch::from(platform.architecture.as_str()));
    if let Some(v) = &platform.variant {
        p = p.variant(v.clone());
    }
    let descriptor = DescriptorBuilder::default()
        .media_type(MediaType::ImageManifest)
        .digest(oci_digest(manifest))
        .size(size)
        .platform(p.build().expect("a platform has all it needs"))
        .build()
        .expect("a descriptor has all it needs");
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(vec![descriptor])
        .build()
        .expect("an index has all it needs");
    serde_json::to_vec(&index).expect("an index serializes")
}

/// What a stored manifest or index references: each blob, and whether it is itself a manifest
/// or an index (to be read in turn). Nothing for bytes that are neither.
pub fn references(bytes: &[u8]) -> Vec<(Digest, bool)> {
    let parse = |d: &oci_spec::image::Digest| d.to_string().parse::<Digest>().ok();
    if let Ok(i) = serde_json::from_slice::<ImageIndex>(bytes) {
        return i
            .manifests()
            .iter()
            .filter_map(|m| parse(m.digest()).map(|d| (d, true)))
            .collect();
    }
    blobs(bytes).into_iter().map(|d| (d, false)).collect()
}

/// The OCI manifest (as stored bytes) of an image whose config blob is `config` (`config_size`
/// bytes) and whose layers are the uncompressed blobs `layers` (digest, size), bottom first.
pub fn oci(config: &Digest, config_size: u64, layers: &[(Digest, u64)]) -> Vec<u8> {
    let descriptor = |media: MediaType, digest: &Digest, size: u64| {
        DescriptorBuilder::default()
            .media_type(media)
            .digest(oci_digest(digest))
            .size(size)
            .build()
            .expect("a descriptor has all it needs")
    };
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(descriptor(MediaType::ImageConfig, config, config_size))
        .layers(
            layers
                .iter()
                .map(|(d, size)| descriptor(MediaType::ImageLayer, d, *size))
                .collect::<Vec<_>>(),
        )
        .build()
        .expect("a manifest has all it needs");
    serde_json::to_vec(&manifest).expect("a manifest serializes")
}

/// The blobs a stored manifest references (config and layers); nothing for bytes that are not
/// a manifest berth can read.
pub fn blobs(manifest: &[u8]) -> Vec<Digest> {
    let Ok(m) = serde_json::from_slice::<ImageManifest>(manifest) else {
        return Vec::new();
    };
    std::iter::once(m.config())
        .chain(m.layers())
        .filter_map(|d| d.digest().to_string().parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn berths_manifest_names_its_config_and_layers() {
        let config: Digest = format!("sha256:{}", "a".repeat(64)).parse().unwrap();
        let layer: Digest = format!("sha256:{}", "b".repeat(64)).parse().unwrap();
        let bytes = oci(&config, 42, &[(layer.clone(), 1024)]);
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["schemaVersion"], 2);
        assert_eq!(v["mediaType"], "application/vnd.oci.image.manifest.v1+json");
        assert_eq!(
            v["config"]["mediaType"],
            "application/vnd.oci.image.config.v1+json"
        );
        assert_eq!(v["config"]["size"], 42);
        assert_eq!(
            v["layers"][0]["mediaType"],
            "application/vnd.oci.image.layer.v1.tar"
        );
        assert_eq!(v["layers"][0]["digest"], layer.as_str());
        assert_eq!(blobs(&bytes), vec![config, layer]);
        assert!(blobs(b"not a manifest").is_empty());
        let manifest: Digest = format!("sha256:{}", "c".repeat(64)).parse().unwrap();
        let platform = Platform {
            os: "linux".into(),
            architecture: "arm".into(),
            variant: Some("v7".into()),
        };
        let idx = index(&manifest, 7, &platform);
        let v: serde_json::Value = serde_json::from_slice(&idx).unwrap();
        assert_eq!(v["mediaType"], "application/vnd.oci.image.index.v1+json");
        assert_eq!(v["manifests"][0]["platform"]["architecture"], "arm");
        assert_eq!(v["manifests"][0]["platform"]["variant"], "v7");
        assert_eq!(references(&idx), vec![(manifest, true)]);
        assert_eq!(references(&bytes).len(), 2);
    }
}
