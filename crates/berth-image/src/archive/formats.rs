//! What an archive says it holds: Docker's `manifest.json` (Docker 20.10 and 25+, Podman's
//! and skopeo's `docker-archive`) or an OCI `index.json` (Docker 25+, `oci-archive`, umoci),
//! turned into the images to load: the archive paths of each config and its layers, and names.

use std::collections::BTreeMap;

use berth_core::Digest;
use serde::Deserialize;

use super::{ArchiveError, invalid};
use crate::Reference;
use crate::config::host_architecture;

/// Docker's annotation with an image's full name.
pub(super) const IMAGE_NAME: &str = "io.containerd.image.name";
/// OCI's annotation with a reference name (a tag, for Docker; a whole name for skopeo).
pub(super) const REF_NAME: &str = "org.opencontainers.image.ref.name";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// BuildKit's annotation on the manifests of attestations in an index.
const REFERENCE_TYPE: &str = "vnd.docker.reference.type";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// One image to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Wanted {
    /// Archive path of the config blob.
    pub config: String,
    /// Archive paths of the layers, bottom first.
    pub layers: Vec<String>,
    /// Its names.
    pub names: Vec<Reference>,
    /// Archive path of the OCI manifest it came with, if any.
    pub manifest: Option<String>,
    /// For a platform of a multi-platform image: the archive path of the index naming it, and
    /// whether it is the platform its names point at.
    pub group: Option<(String, bool)>,
}

/// An entry of Docker's `manifest.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Item {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    #[serde(default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    platform: Option<Platform>,
}

#[derive(Debug, Deserialize)]
struct Platform {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Index {
    manifests: Vec<Descriptor>,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

fn parse<'a, T: Deserialize<'a>>(what: &str, bytes: &'a [u8]) -> Result<T, ArchiveError> {
    serde_json::from_slice(bytes).map_err(|e| invalid(format!("failed to decode {what}: {e}")))
}

/// The archive path of blob `digest`: `blobs/sha256/<hex>`.
pub(super) fn blob_path(digest: &str) -> Result<String, ArchiveError> {
    let d: Digest = digest
        .parse()
        .map_err(|_| invalid(format!("unsupported digest {digest:?}")))?;
    Ok(format!("blobs/sha256/{}", d.hex()))
}

/// A name from a `RepoTags` entry or an annotation; Docker's error for one without a tag.
fn name(s: &str) -> Result<Reference, ArchiveError> {
    let r = Reference::parse(s).map_err(|_| invalid(format!("invalid reference {s:?}")))?;
    if r.tag().is_none() {
        return Err(invalid(format!("invalid tag {s:?}")));
    }
    Ok(r)
}

/// The images of Docker's `manifest.json`; `manifests` maps config digests to the OCI manifest
/// paths an `index.json` beside it names.
pub(super) fn docker(
    bytes: &[u8],
    manifests: &BTreeMap<String, String>,
) -> Result<Vec<Wanted>, ArchiveError> {
    let items: Option<Vec<Item>> = parse("manifest.json", bytes)?;
    let items = items
        .ok_or_else(|| invalid("invalid manifest, manifest cannot be null (but can be [])"))?;
    items
        .into_iter()
        .map(|i| {
            let names = i.repo_tags.unwrap_or_default();
            let names = names.iter().map(|n| name(n)).collect::<Result<_, _>>()?;
            let manifest = i
                .config
                .strip_prefix("blobs/sha256/")
                .and_then(|hex| manifests.get(&format!("sha256:{hex}")).cloned());
            Ok(Wanted {
                config: i.config,
                layers: i.layers,
                names,
                manifest,
                group: None,
            })
        })
        .collect()
}

/// A manifest an `index.json` names: its path, its names, and for a platform of a
/// multi-platform image the index's path and whether its names point at it.
type Named = (String, Vec<Reference>, Option<(String, bool)>);

/// Whether every blob manifest `path` names is in the archive.
fn complete(
    path: &str,
    read: &mut dyn FnMut(&str) -> Result<Vec<u8>, ArchiveError>,
    has: &dyn Fn(&str) -> bool,
) -> bool {
    if !has(path) {
        return false;
    }
    let Ok(m) = read(path).and_then(|b| parse::<Manifest>(path, &b)) else {
        return false;
    };
    std::iter::once(&m.config)
        .chain(&m.layers)
        .all(|d| blob_path(&d.digest).is_ok_and(|p| has(&p)))
}

/// The OCI manifests an `index.json` names: an index inside stands for a multi-platform
/// image, each platform whose blobs are all here one manifest (the names go to this host's
/// platform, else the first); descriptors naming the same manifest are merged.
fn manifests_of(
    bytes: &[u8],
    read: &mut dyn FnMut(&str) -> Result<Vec<u8>, ArchiveError>,
    has: &dyn Fn(&str) -> bool,
) -> Result<Vec<Named>, ArchiveError> {
    let index: Index = parse("index.json", bytes)?;
    let mut out: Vec<Named> = Vec::new();
    for d in index.manifests {
        let names = match (d.annotations.get(IMAGE_NAME), d.annotations.get(REF_NAME)) {
            (Some(full), _) => vec![name(full)?],
            // skopeo and Podman write a whole name here; a bare tag (umoci, OCI's intent) names
            // no repository, so it names nothing.
            (None, Some(r)) if r.contains(':') || r.contains('/') => vec![name(r)?],
            _ => Vec::new(),
        };
        let mut path = blob_path(&d.digest)?;
        let mut media = d.media_type.clone();
        // The platforms of the innermost index, and that index's path.
        let mut platforms: Vec<(String, bool)> = Vec::new();
        let mut index_path = String::new();
        for _ in 0..4 {
            if media != INDEX && media != DOCKER_LIST {
                break;
            }
            let nested: Index = parse(&path, &read(&path)?)?;
            let mut here = Vec::new();
            for m in &nested.manifests {
                // BuildKit's attestations (`unknown/unknown`) are no platform to run.
                let attestation = m.annotations.contains_key(REFERENCE_TYPE)
                    || m.platform.as_ref().is_some_and(|p| p.os == "unknown");
                if attestation {
                    continue;
                }
                let p = blob_path(&m.digest)?;
                let is_index = m.media_type == INDEX || m.media_type == DOCKER_LIST;
                if is_index || complete(&p, read, has) {
                    here.push((m, p, is_index));
                }
            }
            let host = here.iter().position(|(m, ..)| {
                m.platform
                    .as_ref()
                    .is_some_and(|p| p.os == "linux" && p.architecture == host_architecture())
            });
            let Some((pick, picked, _)) = here.get(host.unwrap_or(0)) else {
                return Err(invalid(format!("{path}: no manifest with all its blobs")));
            };
            platforms = here
                .iter()
                .filter(|(.., is_index)| !is_index)
                .map(|(m, p, _)| (p.clone(), m.digest == pick.digest))
                .collect();
            index_path = std::mem::replace(&mut path, picked.clone());
            media = pick.media_type.clone();
        }
        // An index is kept as it came, also when only one of its platforms is here.
        if !index_path.is_empty() && !platforms.is_empty() {
            for (p, primary) in platforms {
                let n = if primary { names.clone() } else { Vec::new() };
                out.push((p, n, Some((index_path.clone(), primary))));
            }
            continue;
        }
        match out.iter_mut().find(|(p, ..)| *p == path) {
            Some((_, n, _)) => n.extend(names),
            None => out.push((path, names, None)),
        }
    }
    Ok(out)
}

/// The images of an OCI layout's `index.json`.
pub(super) fn oci(
    bytes: &[u8],
    read: &mut dyn FnMut(&str) -> Result<Vec<u8>, ArchiveError>,
    has: &dyn Fn(&str) -> bool,
) -> Result<Vec<Wanted>, ArchiveError> {
    let mut out = Vec::new();
    for (path, names, group) in manifests_of(bytes, read, has)? {
        let m: Manifest = parse(&path, &read(&path)?)?;
        out.push(Wanted {
            config: blob_path(&m.config.digest)?,
            layers: m
                .layers
                .iter()
                .map(|l| blob_path(&l.digest))
                .collect::<Result<_, _>>()?,
            names,
            manifest: Some(path),
            group,
        });
    }
    Ok(out)
}

/// Config digest → manifest path, for the manifests an `index.json` names.
pub(super) fn configs(
    bytes: &[u8],
    read: &mut dyn FnMut(&str) -> Result<Vec<u8>, ArchiveError>,
    has: &dyn Fn(&str) -> bool,
) -> Result<BTreeMap<String, String>, ArchiveError> {
    let mut out = BTreeMap::new();
    for (path, ..) in manifests_of(bytes, read, has)? {
        let m: Manifest = parse(&path, &read(&path)?)?;
        out.insert(m.config.digest, path);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockers_manifest_and_an_oci_index_name_the_same_image() {
        let hex = "a".repeat(64);
        let m = format!(
            r#"[{{"Config":"blobs/sha256/{hex}","RepoTags":["busybox:latest"],"Layers":["blobs/sha256/{hex}"]}}]"#
        );
        let manifests = BTreeMap::from([(format!("sha256:{hex}"), "blobs/sha256/m".into())]);
        let w = docker(m.as_bytes(), &manifests).unwrap();
        assert_eq!(w[0].names[0].familiar(), "busybox:latest");
        assert_eq!(w[0].manifest.as_deref(), Some("blobs/sha256/m"));
        docker(b"null", &manifests).unwrap_err();
        let untagged = r#"[{"Config":"x.json","RepoTags":["busybox"],"Layers":[]}]"#;
        let err = docker(untagged.as_bytes(), &manifests).unwrap_err();
        assert!(err.to_string().contains("invalid tag"), "{err}");

        let mhex = "b".repeat(64);
        let index = format!(
            r#"{{"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{mhex}","annotations":{{"{REF_NAME}":"latest"}}}},{{"digest":"sha256:{mhex}","annotations":{{"{IMAGE_NAME}":"docker.io/library/x:1"}}}}]}}"#
        );
        let manifest = format!(
            r#"{{"config":{{"digest":"sha256:{hex}"}},"layers":[{{"digest":"sha256:{hex}"}}]}}"#
        );
        let w = oci(
            index.as_bytes(),
            &mut |p| {
                assert_eq!(p, format!("blobs/sha256/{mhex}"));
                Ok(manifest.clone().into_bytes())
            },
            &|_| true,
        )
        .unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].names.len(), 1, "a bare tag names nothing");
        assert_eq!(w[0].config, format!("blobs/sha256/{hex}"));
    }
}
