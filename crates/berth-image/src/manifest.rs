//! OCI image manifests: the one berth writes for the images it makes, and the blobs a stored
//! manifest references.

use std::str::FromStr;

use berth_core::Digest;
use oci_spec::image::{DescriptorBuilder, ImageManifest, ImageManifestBuilder, MediaType};

/// The OCI manifest (as stored bytes) of an image whose config blob is `config` (`config_size`
/// bytes) and whose layers are the uncompressed blobs `layers` (digest, size), bottom first.
pub fn oci(config: &Digest, config_size: u64, layers: &[(Digest, u64)]) -> Vec<u8> {
    let descriptor = |media: MediaType, digest: &Digest, size: u64| {
        DescriptorBuilder::default()
            .media_type(media)
            .digest(oci_spec::image::Digest::from_str(digest.as_str()).expect("a sha256 digest"))
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
    }
}
