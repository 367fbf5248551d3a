//! The image store: records and names in the metadata database.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};
use std::sync::Arc;

use berth_content::ContentStore;
use berth_core::Digest;
use berth_snapshot::Snapshotter;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::config::{History, ImageConfig, RootFs, RunConfig, host_architecture};
use crate::error::db;
use crate::gc::{GcStats, Lease, Leases};
use crate::manifest::Platform;
use crate::{ImageError, Reference};

/// Image ID (hex) → [`Record`] as JSON.
const IMAGES: TableDefinition<&str, &[u8]> = TableDefinition::new("images");
/// Fully qualified reference → image ID (hex).
const REFS: TableDefinition<&str, &str> = TableDefinition::new("image_refs");

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    chain_id: Option<Digest>,
    /// The image this one was built on, step by step (Docker's classic builder `Parent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent: Option<Digest>,
    size: u64,
    /// Unix time the image was stored here (for filters that need an order).
    stored: i64,
    /// The image's OCI manifest blob, as a registry serves it. Absent only in records of an
    /// older berth, which [`ImageStore::new`] completes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    manifest: Option<Digest>,
    /// The OCI index naming the manifest with its platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    index: Option<Digest>,
    /// The platform it runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    platform: Option<Platform>,
    /// `name@digest` of the manifests registries know it by (none for local images).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    repo_digests: Vec<String>,
    /// For another platform of a multi-platform image: the image its names point at (this
    /// record is not listed, and goes with that one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    primary: Option<Digest>,
}

/// An image: its ID, config, layers and names.
#[derive(Debug, Clone)]
pub struct Image {
    /// The image ID: the digest of its config blob.
    pub id: Digest,
    /// The parsed config.
    pub config: ImageConfig,
    /// The chain ID of its top layer; `None` for an image without layers.
    pub chain_id: Option<Digest>,
    /// Total size of its layers.
    pub size: u64,
    /// Names pointing at it, fully qualified.
    pub refs: Vec<Reference>,
    /// The image it was built on, for images a build made.
    pub parent: Option<Digest>,
    /// Its OCI manifest blob.
    pub manifest: Option<Digest>,
    /// The OCI index blob naming the manifest with its platform.
    pub index: Option<Digest>,
    /// The platform it runs on (from its config when the record has none).
    pub platform: Platform,
    /// `name@digest` of the manifests registries know it by.
    pub repo_digests: Vec<String>,
    /// For another platform of a multi-platform image, the image its names point at.
    pub primary: Option<Digest>,
}

/// A layer just stored, pinned against garbage collection until an image references it (pass
/// it along until [`ImageStore::create`] returned) or it is dropped.
#[derive(Debug)]
pub struct NewLayer {
    /// What was applied.
    pub stats: berth_snapshot::ApplyStats,
    /// The chain ID of the new stack.
    pub chain: Digest,
    _lease: Lease,
}

/// Where a layer of [`ImageStore::stage_layer`] comes from.
pub enum LayerSource {
    /// An uncompressed tar already written to an ingest (a spooled archive member) whose
    /// digest is its diff ID: it becomes the layer's blob without a second copy.
    Ingest(berth_content::Writer),
    /// An uncompressed tar stream (a decompressor over a spooled blob, say).
    Tar(Box<dyn Read + Send>),
}

/// A layer extracted and its blob stored, not yet on its parent; pinned until dropped.
#[derive(Debug)]
pub struct StagedLayer {
    staged: berth_snapshot::Staged,
    lease: Lease,
}

impl StagedLayer {
    /// What was extracted (its diff ID, sizes).
    pub fn stats(&self) -> &berth_snapshot::ApplyStats {
        &self.staged.stats
    }
}

/// What `import` records besides the layer.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Runtime defaults (from `--change`).
    pub config: RunConfig,
    /// The history comment; Docker writes `Imported from <source>`.
    pub comment: String,
    /// `--platform`: the config's os, architecture and variant (`None`: the host's).
    pub platform: Option<Platform>,
}

/// The image store. Cheap to clone.
#[derive(Clone)]
pub struct ImageStore {
    db: Arc<Database>,
    content: ContentStore,
    snapshots: Arc<dyn Snapshotter>,
    leases: Arc<Leases>,
}

struct Tee<R, W> {
    reader: R,
    writer: W,
}

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.reader.read(buf)?;
        self.writer.write_all(&buf[..n])?;
        Ok(n)
    }
}

impl ImageStore {
    /// An image store over the daemon's database, content and snapshot stores. Records of an
    /// older berth get their manifest; then what no record references is collected.
    pub fn new(
        database: Arc<Database>,
        content: ContentStore,
        snapshots: Arc<dyn Snapshotter>,
    ) -> Result<Self, ImageError> {
        let tx = database.begin_write().map_err(db)?;
        tx.open_table(IMAGES).map_err(db)?;
        tx.open_table(REFS).map_err(db)?;
        tx.open_table(distribution::BLOB_SOURCES).map_err(db)?;
        tx.open_table(distribution::PULLED).map_err(db)?;
        tx.commit().map_err(db)?;
        let store = ImageStore {
            db: database,
            content,
            snapshots,
            leases: Arc::default(),
        };
        store.add_missing_manifests()?;
        store.gc()?;
        Ok(store)
    }

    fn records(&self) -> Result<Vec<(Digest, Record)>, ImageError> {
        let tx = self.db.begin_read().map_err(db)?;
        let mut records = Vec::new();
        for row in tx.open_table(IMAGES).map_err(db)?.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            let id: Digest = format!("sha256:{}", k.value())
                .parse()
                .expect("stored ids are valid");
            let record =
                serde_json::from_slice(v.value()).map_err(|source| ImageError::Config {
                    id: id.to_string(),
                    source,
                })?;
            records.push((id, record));
        }
        Ok(records)
    }

    fn put_record(&self, id: &Digest, record: &Record) -> Result<(), ImageError> {
        let tx = self.db.begin_write().map_err(db)?;
        tx.open_table(IMAGES)
            .map_err(db)?
            .insert(
                id.hex(),
                serde_json::to_vec(record)
                    .expect("record serializes")
                    .as_slice(),
            )
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// Writes the manifest of every image recorded before manifests were kept.
    fn add_missing_manifests(&self) -> Result<(), ImageError> {
        for (id, mut record) in self.records()? {
            if record.manifest.is_none() || record.index.is_none() {
                let config = self.content.read(&id)?;
                let (manifest, index, platform) = self.write_manifests(&id, &config)?;
                record.manifest = Some(manifest);
                record.index = Some(index);
                record.platform = Some(platform);
                self.put_record(&id, &record)?;
            }
        }
        Ok(())
    }

    /// Stores the OCI manifest and index of the image whose config blob is `config` (digest
    /// `id`): the manifest's layers are the uncompressed layer blobs, stored under their diff
    /// IDs; the index names it with the config's platform.
    fn write_manifests(
        &self,
        id: &Digest,
        config: &[u8],
    ) -> Result<(Digest, Digest, Platform), ImageError> {
        let parsed: ImageConfig =
            serde_json::from_slice(config).map_err(|source| ImageError::Config {
                id: id.to_string(),
                source,
            })?;
        let mut layers = Vec::new();
        for diff in &parsed.rootfs.diff_ids {
            layers.push((diff.clone(), self.content.size(diff)?));
        }
        let manifest = crate::manifest::oci(id, config.len() as u64, &layers);
        let manifest_digest = self.content.put(&manifest)?;
        let platform = Platform {
            os: parsed.os.clone(),
            architecture: parsed.architecture.clone(),
            variant: parsed.variant.clone(),
        };
        let index = crate::manifest::index(&manifest_digest, manifest.len() as u64, &platform);
        Ok((manifest_digest, self.content.put(&index)?, platform))
    }

    /// A lease for work that stores blobs or layers before an image references them.
    pub fn lease(&self) -> Lease {
        Lease::new(&self.leases)
    }

    /// Removes every blob and layer that no image record references and no lease pins.
    pub fn gc(&self) -> Result<GcStats, ImageError> {
        let _exclusive = self.leases.lock.write().expect("gc lock");
        let (mut blobs, mut chains) = (BTreeSet::new(), BTreeSet::new());
        for (id, record) in self.records()? {
            let image = self.load(id, record, Vec::new())?;
            // Indexes and manifests, read in turn; what they name is kept.
            let mut todo: Vec<Digest> =
                image.index.iter().chain(&image.manifest).cloned().collect();
            while let Some(d) = todo.pop() {
                if !blobs.insert(d.clone()) {
                    continue;
                }
                if let Ok(bytes) = self.content.read(&d) {
                    for (r, nested) in crate::manifest::references(&bytes) {
                        if nested {
                            todo.push(r);
                        } else {
                            blobs.insert(r);
                        }
                    }
                }
            }
            blobs.insert(image.id.clone());
            blobs.extend(image.config.rootfs.diff_ids.iter().cloned());
            chains.extend(self.layers_of(&image)?);
        }
        let pinned = self.leases.pinned();
        let mut stats = GcStats::default();
        for layer in self.snapshots.walk()? {
            if !chains.contains(&layer.chain) && !pinned.contains(&layer.chain) {
                self.snapshots.remove_layer(&layer.chain)?;
                stats.layers.push(layer.chain);
            }
        }
        for blob in self.content.list()? {
            if !blobs.contains(&blob) && !pinned.contains(&blob) {
                self.content.delete(&blob)?;
                stats.blobs.push(blob);
            }
        }
        Ok(stats)
    }

    /// The snapshot store images unpack into.
    pub fn snapshots(&self) -> &dyn Snapshotter {
        self.snapshots.as_ref()
    }

    /// The content store holding configs and layers.
    pub fn content(&self) -> &ContentStore {
        &self.content
    }

    /// Stores a layer tar (uncompressed) as a blob and unpacks it on top of the stack `parent`;
    /// the new layer is pinned until the [`NewLayer`] is dropped.
    pub fn add_layer(
        &self,
        parent: Option<&Digest>,
        tar: impl Read,
    ) -> Result<NewLayer, ImageError> {
        let lease = self.lease();
        // Shared with other writers, exclusive of the collector, until the layer is pinned.
        let _writing = self.leases.lock.read().expect("gc lock");
        let mut blob = self.content.writer()?;
        let (stats, chain) = self.snapshots.unpack(
            parent,
            &mut Tee {
                reader: tar,
                writer: &mut blob,
            },
        )?;
        blob.commit(Some(&stats.diff_id))?;
        lease.pin([stats.diff_id.clone(), chain.clone()]);
        Ok(NewLayer {
            stats,
            chain,
            _lease: lease,
        })
    }

    /// The first half of [`add_layer`](Self::add_layer), which needs no parent, so that the
    /// layers of one stack can be extracted at once: the layer is extracted into the snapshot
    /// store's staging area and its blob committed (and pinned); [`commit_layer`] puts it on
    /// its parent. An [`LayerSource::Ingest`] becomes its blob as it is, hashed only once.
    ///
    /// [`commit_layer`]: Self::commit_layer
    pub fn stage_layer(&self, source: LayerSource) -> Result<StagedLayer, ImageError> {
        let lease = self.lease();
        let _writing = self.leases.lock.read().expect("gc lock");
        let staged = match source {
            LayerSource::Ingest(blob) => {
                let path = blob.ingest_path().to_path_buf();
                let file = std::fs::File::open(&path)
                    .map_err(|source| berth_content::ContentError::Write { path, source })?;
                let digest = blob.digest();
                let staged = self.snapshots.stage(
                    &mut io::BufReader::with_capacity(1 << 20, file),
                    Some(&digest),
                )?;
                blob.commit(Some(&digest))?;
                staged
            }
            LayerSource::Tar(tar) => {
                let mut blob = self.content.writer()?;
                let staged = self.snapshots.stage(
                    &mut Tee {
                        reader: tar,
                        writer: &mut blob,
                    },
                    None,
                )?;
                blob.commit(Some(&staged.stats.diff_id))?;
                staged
            }
        };
        lease.pin([staged.stats.diff_id.clone()]);
        Ok(StagedLayer { staged, lease })
    }

    /// Commits a staged layer on top of the stack `parent` (which must be there by now).
    pub fn commit_layer(
        &self,
        layer: StagedLayer,
        parent: Option<&Digest>,
    ) -> Result<NewLayer, ImageError> {
        let _writing = self.leases.lock.read().expect("gc lock");
        let (stats, chain) = self.snapshots.commit_staged(layer.staged, parent)?;
        layer.lease.pin([chain.clone()]);
        Ok(NewLayer {
            stats,
            chain,
            _lease: layer.lease,
        })
    }

    /// Imports a single-layer image from an uncompressed rootfs tar, as `docker import` does.
    pub fn import(&self, tar: impl Read, opts: ImportOptions) -> Result<Image, ImageError> {
        let layer = self.add_layer(None, tar)?;
        let (stats, chain) = (&layer.stats, layer.chain.clone());
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let platform = opts.platform.unwrap_or_else(|| Platform {
            os: "linux".into(),
            architecture: host_architecture().into(),
            variant: None,
        });
        let config = ImageConfig {
            architecture: platform.architecture,
            os: platform.os,
            variant: platform.variant,
            created: Some(now.clone()),
            author: None,
            comment: Some(opts.comment.clone()),
            container: None,
            container_config: None,
            config: opts.config,
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids: vec![stats.diff_id.clone()],
            },
            history: vec![History {
                created: Some(now),
                comment: Some(opts.comment),
                ..History::default()
            }],
        };
        self.create(&config, Some(chain), stats.content_size, None)
    }

    /// Records an image whose layers are already unpacked, with `config` as its config blob;
    /// `parent` is the image a build step made it from.
    pub fn create(
        &self,
        config: &ImageConfig,
        chain_id: Option<Digest>,
        size: u64,
        parent: Option<&Digest>,
    ) -> Result<Image, ImageError> {
        let bytes = serde_json::to_vec(config).expect("image config serializes");
        let lease = self.lease();
        let writing = self.leases.lock.read().expect("gc lock");
        let id = self.content.put(&bytes)?;
        let (manifest, index, platform) = self.write_manifests(&id, &bytes)?;
        lease.pin([id.clone(), manifest.clone(), index.clone()]);
        drop(writing);
        let record = Record {
            chain_id: chain_id.clone(),
            parent: parent.cloned(),
            size,
            stored: chrono::Utc::now().timestamp(),
            manifest: Some(manifest),
            index: Some(index),
            platform: Some(platform),
            repo_digests: Vec::new(),
            primary: None,
        };
        self.put_record(&id, &record)?;
        self.get(&id)
    }

    /// Records a loaded image whose layers are already unpacked (and pinned by the caller):
    /// `config` is its config blob byte for byte and must have digest `id`, which stays its ID.
    /// `manifest`, the OCI manifest it came with, is kept byte for byte when it names exactly
    /// this config and the uncompressed layer blobs stored here; otherwise (compressed layers)
    /// berth writes its own. `group`, for a platform of a multi-platform image, is the index
    /// naming it (kept byte for byte) and, for all platforms but the one its names point at,
    /// that one's ID. An image already here is left as it is.
    pub fn create_loaded(
        &self,
        id: &Digest,
        config: &[u8],
        manifest: Option<&[u8]>,
        chain_id: Option<Digest>,
        size: u64,
        group: Option<(&[u8], Option<&Digest>)>,
    ) -> Result<Image, ImageError> {
        if let Ok(existing) = self.get(id) {
            return Ok(existing);
        }
        let parsed: ImageConfig =
            serde_json::from_slice(config).map_err(|source| ImageError::Config {
                id: id.to_string(),
                source,
            })?;
        let lease = self.lease();
        let writing = self.leases.lock.read().expect("gc lock");
        let mut w = self.content.writer()?;
        w.write_all(config)
            .map_err(|source| berth_content::ContentError::Write {
                path: w.ingest_path().to_path_buf(),
                source,
            })?;
        w.commit(Some(id))?;
        let kept = manifest.filter(|m| {
            let names = crate::manifest::blobs(m);
            let mut want = vec![id.clone()];
            want.extend(parsed.rootfs.diff_ids.iter().cloned());
            names == want
        });
        let (manifest, index, platform) = match kept {
            Some(bytes) => {
                let digest = self.content.put(bytes)?;
                let platform = Platform {
                    os: parsed.os.clone(),
                    architecture: parsed.architecture.clone(),
                    variant: parsed.variant.clone(),
                };
                let index = crate::manifest::index(&digest, bytes.len() as u64, &platform);
                (digest, self.content.put(&index)?, platform)
            }
            None => self.write_manifests(id, config)?,
        };
        let index = match group {
            Some((bytes, _)) => self.content.put(bytes)?,
            None => index,
        };
        lease.pin([id.clone(), manifest.clone(), index.clone()]);
        drop(writing);
        let record = Record {
            chain_id,
            parent: None,
            size,
            stored: chrono::Utc::now().timestamp(),
            manifest: Some(manifest),
            index: Some(index),
            platform: Some(platform),
            repo_digests: Vec::new(),
            primary: group.and_then(|(_, p)| p.cloned()),
        };
        self.put_record(id, &record)?;
        self.get(id)
    }

    /// Loads an image by ID.
    pub fn get(&self, id: &Digest) -> Result<Image, ImageError> {
        let tx = self.db.begin_read().map_err(db)?;
        let images = tx.open_table(IMAGES).map_err(db)?;
        let record = images
            .get(id.hex())
            .map_err(db)?
            .ok_or_else(|| ImageError::NotFound(id.to_string()))?;
        let record: Record =
            serde_json::from_slice(record.value()).map_err(|source| ImageError::Config {
                id: id.to_string(),
                source,
            })?;
        let refs = tx.open_table(REFS).map_err(db)?;
        let mut names = Vec::new();
        for row in refs.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            if v.value() == id.hex()
                && let Ok(r) = Reference::parse(k.value())
            {
                names.push(r);
            }
        }
        self.load(id.clone(), record, names)
    }

    fn load(&self, id: Digest, record: Record, refs: Vec<Reference>) -> Result<Image, ImageError> {
        let config: ImageConfig =
            serde_json::from_slice(&self.content.read(&id)?).map_err(|source| {
                ImageError::Config {
                    id: id.to_string(),
                    source,
                }
            })?;
        let platform = record.platform.unwrap_or_else(|| Platform {
            os: config.os.clone(),
            architecture: config.architecture.clone(),
            variant: config.variant.clone(),
        });
        Ok(Image {
            id,
            config,
            chain_id: record.chain_id,
            size: record.size,
            refs,
            parent: record.parent,
            manifest: record.manifest,
            index: record.index,
            platform,
            repo_digests: record.repo_digests,
            primary: record.primary,
        })
    }

    /// Finds an image as Docker does: by reference (default tag `latest`), by full ID
    /// (`sha256:` optional), or by a unique ID prefix.
    pub fn resolve(&self, name: &str) -> Result<Image, ImageError> {
        let not_found = || {
            let shown = Reference::parse(name)
                .map(|r| r.with_default_tag().familiar())
                .unwrap_or_else(|_| name.to_string());
            ImageError::NotFound(shown)
        };
        let tx = self.db.begin_read().map_err(db)?;
        if let Ok(r) = Reference::parse(name) {
            let refs = tx.open_table(REFS).map_err(db)?;
            if let Some(id) = refs
                .get(r.clone().with_default_tag().to_string().as_str())
                .map_err(db)?
            {
                let id: Digest = format!("sha256:{}", id.value())
                    .parse()
                    .map_err(|_| not_found())?;
                drop(tx);
                return self.get(&id);
            }
            // `name@digest`: the manifest digest a registry knows the image by.
            if let Some(digest) = r.digest() {
                let wanted = format!("{}@{digest}", r.repository());
                drop(tx);
                let found = self
                    .records()?
                    .into_iter()
                    .find(|(_, rec)| rec.repo_digests.contains(&wanted));
                return match found {
                    Some((id, _)) => self.get(&id),
                    None => Err(not_found()),
                };
            }
        }
        let hex = name.strip_prefix("sha256:").unwrap_or(name);
        if !berth_core::id::is_hex(hex) {
            return Err(not_found());
        }
        let images = tx.open_table(IMAGES).map_err(db)?;
        let mut found = None;
        for row in images.range(hex..).map_err(db)? {
            let (k, _) = row.map_err(db)?;
            if !k.value().starts_with(hex) {
                break;
            }
            if found.is_some() {
                return Err(ImageError::Ambiguous(name.to_string()));
            }
            found = Some(k.value().to_string());
        }
        drop(tx);
        match found {
            Some(id) => self.get(
                &format!("sha256:{id}")
                    .parse()
                    .expect("stored ids are valid"),
            ),
            None => Err(not_found()),
        }
    }

    /// All images with their names.
    pub fn list(&self) -> Result<Vec<Image>, ImageError> {
        let tx = self.db.begin_read().map_err(db)?;
        let mut names: BTreeMap<String, Vec<Reference>> = BTreeMap::new();
        for row in tx.open_table(REFS).map_err(db)?.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            if let Ok(r) = Reference::parse(k.value()) {
                names.entry(v.value().to_string()).or_default().push(r);
            }
        }
        drop(tx);
        let mut out = Vec::new();
        for (id, record) in self.records()? {
            if record.primary.is_some() {
                continue;
            }
            let refs = names.remove(id.hex()).unwrap_or_default();
            out.push(self.load(id, record, refs)?);
        }
        Ok(out)
    }

    /// Points `reference` (tag `latest` if none) at image `id`, replacing what it named before.
    /// Returns the image the name used to point at, if another.
    pub fn tag(&self, id: &Digest, reference: &Reference) -> Result<Option<Digest>, ImageError> {
        let key = reference.clone().with_default_tag().to_string();
        let tx = self.db.begin_write().map_err(db)?;
        let old = {
            let mut refs = tx.open_table(REFS).map_err(db)?;
            let old = refs
                .insert(key.as_str(), id.hex())
                .map_err(db)?
                .map(|v| v.value().to_string());
            old.filter(|o| o != id.hex())
        };
        tx.commit().map_err(db)?;
        Ok(old.map(|o| format!("sha256:{o}").parse().expect("stored ids are valid")))
    }

    /// Removes a name; returns whether it existed.
    pub fn untag(&self, reference: &Reference) -> Result<bool, ImageError> {
        let key = reference.clone().with_default_tag().to_string();
        let tx = self.db.begin_write().map_err(db)?;
        let existed = tx
            .open_table(REFS)
            .map_err(db)?
            .remove(key.as_str())
            .map_err(db)?
            .is_some();
        tx.commit().map_err(db)?;
        Ok(existed)
    }

    /// Deletes an image record and its names, then collects its config, manifest and the
    /// layers no other image uses. The caller has checked that no container uses it.
    pub fn delete(&self, id: &Digest) -> Result<(), ImageError> {
        self.get(id)?;
        let tx = self.db.begin_write().map_err(db)?;
        {
            let mut refs = tx.open_table(REFS).map_err(db)?;
            refs.retain(|_, v| v != id.hex()).map_err(db)?;
            let mut images = tx.open_table(IMAGES).map_err(db)?;
            images.remove(id.hex()).map_err(db)?;
            // Its other platforms go with it.
            images
                .retain(|_, v| {
                    serde_json::from_slice::<Record>(v)
                        .map_or(true, |r| r.primary.as_ref() != Some(id))
                })
                .map_err(db)?;
        }
        tx.commit().map_err(db)?;
        self.forget_pulled(id)?;
        // Content goes after the record: a crash in between leaves garbage that the next
        // collection removes, never an image without its content.
        self.gc()?;
        Ok(())
    }

    /// The chain IDs of an image's layer stack, topmost first.
    pub fn layers_of(&self, image: &Image) -> Result<Vec<Digest>, ImageError> {
        let mut out = Vec::new();
        let mut cur = image.chain_id.clone();
        while let Some(c) = cur {
            cur = self.snapshots.parent(&c)?;
            out.push(c);
        }
        Ok(out)
    }
}

mod distribution;
mod platforms;

pub use distribution::{BlobSource, PulledManifest};
#[cfg(test)]
mod tests;
