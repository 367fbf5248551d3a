//! `save`: images as the tar Docker 25+ writes — `blobs/sha256/<hex>` (layers, uncompressed,
//! under their diff IDs; configs; manifests), `index.json` naming each manifest once per tag
//! with Docker's annotations, `oci-layout`, and for older readers `manifest.json` and
//! `repositories`. Blobs stream from the content store into the tar; each goes in once, however
//! many images share it. Entries have mode 0644 (0755 for directories), owner 0 and time 0, so
//! saving the same images twice gives the same bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use berth_core::Digest;
use serde_json::json;

use super::ArchiveError;
use super::formats::{IMAGE_NAME, REF_NAME};
use crate::{Image, ImageError, ImageStore, Reference};

/// One image to save, with the names to save it under (none when it was named by ID).
#[derive(Debug, Clone)]
pub struct SaveItem {
    /// The image.
    pub image: Image,
    /// Its names in the archive.
    pub refs: Vec<Reference>,
}

/// The images `names` stand for, as Docker reads them: a name with a tag is that tag, a name
/// alone is every tag of that repository, an ID is its image without names. Several names of
/// one image make one item.
pub fn resolve(store: &ImageStore, names: &[String]) -> Result<Vec<SaveItem>, ImageError> {
    let mut out: Vec<SaveItem> = Vec::new();
    let mut add = |image: Image, refs: Vec<Reference>| match out
        .iter_mut()
        .find(|i| i.image.id == image.id)
    {
        Some(item) => {
            for r in refs {
                if !item.refs.contains(&r) {
                    item.refs.push(r);
                }
            }
        }
        None => out.push(SaveItem { image, refs }),
    };
    for name in names {
        let parsed = Reference::parse(name).ok();
        if let Some(r) = parsed
            .as_ref()
            .filter(|r| r.tag().is_none() && r.digest().is_none())
        {
            let repo = r.repository();
            let mut found = false;
            for image in store.list()? {
                let mut refs: Vec<Reference> = image
                    .refs
                    .iter()
                    .filter(|t| t.repository() == repo && t.tag().is_some())
                    .cloned()
                    .collect();
                if !refs.is_empty() {
                    refs.sort_by_key(|t| t.to_string());
                    found = true;
                    add(image, refs);
                }
            }
            if found {
                continue;
            }
        }
        let image = store.resolve(name)?;
        let by_name = parsed
            .map(Reference::with_default_tag)
            .filter(|r| image.refs.contains(r));
        add(image, by_name.into_iter().collect());
    }
    Ok(out)
}

fn header(size: u64, dir: bool) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(if dir { 0o755 } else { 0o644 });
    h.set_entry_type(if dir {
        tar::EntryType::Directory
    } else {
        tar::EntryType::Regular
    });
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

fn werr(what: impl Into<String>) -> impl FnOnce(io::Error) -> ArchiveError {
    let what = what.into();
    move |source| ArchiveError::Write { what, source }
}

fn add_bytes<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    data: &[u8],
) -> Result<(), ArchiveError> {
    let mut h = header(data.len() as u64, false);
    tar.append_data(&mut h, path, data).map_err(werr(path))
}

/// Writes `items` as one archive to `out`, streaming.
pub fn save(store: &ImageStore, items: &[SaveItem], out: impl Write) -> Result<(), ArchiveError> {
    let content = store.content();
    let mut tar = tar::Builder::new(out);
    for dir in ["blobs/", "blobs/sha256/"] {
        let mut h = header(0, true);
        tar.append_data(&mut h, dir, io::empty())
            .map_err(werr(dir))?;
    }
    // Each image's manifest and blobs, pinned against a collection (an `rmi` meanwhile)
    // until the archive is written.
    let lease = store.lease();
    let mut manifests = Vec::new();
    for item in items {
        let image = &item.image;
        let manifest = image
            .manifest
            .clone()
            .ok_or_else(|| ArchiveError::Invalid(format!("image {} has no manifest", image.id)))?;
        let bytes = content.read(&manifest)?;
        let mut blobs = crate::manifest::blobs(&bytes);
        blobs.push(manifest.clone());
        lease.pin(blobs.iter().cloned());
        manifests.push((manifest, bytes, blobs));
    }
    let mut written: BTreeSet<Digest> = BTreeSet::new();
    let (mut manifest_json, mut index, mut repositories) = (
        Vec::new(),
        Vec::new(),
        BTreeMap::<String, BTreeMap<String, String>>::new(),
    );
    for (item, (manifest, manifest_bytes, blobs)) in items.iter().zip(manifests) {
        let image = &item.image;
        for blob in blobs {
            if !written.insert(blob.clone()) {
                continue;
            }
            let path = format!("blobs/sha256/{}", blob.hex());
            let file = content.open_blob(&blob)?;
            let size = file.metadata().map_err(werr(&path))?.len();
            let mut h = header(size, false);
            tar.append_data(&mut h, &path, file).map_err(werr(&path))?;
        }
        let diff_ids = &image.config.rootfs.diff_ids;
        let descriptor = json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest.as_str(),
            "size": manifest_bytes.len(),
        });
        for r in &item.refs {
            let mut d = descriptor.clone();
            d["annotations"] = json!({
                IMAGE_NAME: r.to_string(),
                REF_NAME: r.tag().unwrap_or("latest"),
            });
            index.push(d);
            if let (Some(tag), Some(top)) = (r.tag(), diff_ids.last()) {
                repositories
                    .entry(r.familiar_repository())
                    .or_default()
                    .insert(tag.to_string(), top.hex().to_string());
            }
        }
        if item.refs.is_empty() {
            index.push(descriptor);
        }
        let tags: Vec<String> = item.refs.iter().map(Reference::familiar).collect();
        manifest_json.push(json!({
            "Config": format!("blobs/sha256/{}", image.id.hex()),
            "RepoTags": if tags.is_empty() { serde_json::Value::Null } else { json!(tags) },
            "Layers": diff_ids.iter().map(|d| format!("blobs/sha256/{}", d.hex())).collect::<Vec<_>>(),
        }));
    }
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": index,
    });
    add_bytes(
        &mut tar,
        "index.json",
        &serde_json::to_vec(&index).expect("json"),
    )?;
    let mut m = serde_json::to_vec(&manifest_json).expect("json");
    m.push(b'\n');
    add_bytes(&mut tar, "manifest.json", &m)?;
    add_bytes(
        &mut tar,
        "oci-layout",
        br#"{"imageLayoutVersion": "1.0.0"}"#,
    )?;
    if !repositories.is_empty() {
        let mut r = serde_json::to_vec(&repositories).expect("json");
        r.push(b'\n');
        add_bytes(&mut tar, "repositories", &r)?;
    }
    let mut out = tar.into_inner().map_err(werr("the end of the archive"))?;
    out.flush().map_err(werr("the end of the archive"))
}
