//! `load`: an image archive (Docker's, Podman's, skopeo's, an OCI layout) into the store.
//!
//! The archive is read once, as it arrives. Every format puts its `manifest.json` or
//! `index.json` after the blobs it names, so nothing can be unpacked before the end: each file
//! is spooled, hashed as it is written, into an ingest of the content store (under the data
//! root; the spool must be seekable because the manifest comes last). An ingest is removed when
//! its writer drops — on every path out of `load`, success, refusal or panic — and the content
//! store clears its ingests when it opens, after a crash.
//!
//! Rules, as Docker's loader has them and then some:
//! - entry names are never used as host paths; a name that is absolute or climbs with `..`
//!   refuses the archive;
//! - `manifest.json`, `index.json`, `oci-layout` and `repositories` must be regular files (a
//!   symlinked `manifest.json` refuses the archive); other symlinks and hard links are aliases
//!   of files inside the archive (Docker 1.10–24 link shared `layer.tar`s), never outside it;
//! - devices, fifos and other entry types refuse the archive;
//! - a file under `blobs/sha256/` must have the digest its name says;
//! - every file a manifest names must be in the archive, and a config must list as many
//!   layers as its manifest;
//! - a layer may be gzip, zstd or plain (by its first bytes); a compressed one (or a compressed
//!   archive) may expand to at most 256 times its size plus 64 MiB, so a gzip bomb is refused;
//! - layers are unpacked by berth-snapshot's `apply` (its own rules for hostile tars) and each
//!   must have the diff ID its config lists;
//! - layers are extracted two at a time into the snapshot store's staging area (extraction
//!   needs no parent), then committed bottom first, each on the parent its config implies;
//! - nothing is recorded before every layer of every image is in: a refused archive leaves
//!   no image, no name and (after a collection of what it unpacked) no blob behind.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use berth_core::Digest;

use super::spool::{Spool, bomb, read_err};
use super::{ArchiveError, formats, invalid};
use super::{Compression, Tripped, expand};
use crate::store::{LayerSource, NewLayer, StagedLayer};
use crate::{Image, ImageConfig, ImageStore, Reference};

/// An image `load` recorded, with the names the archive gives it (not yet tagged: the caller
/// tags, and tells about names it moves).
#[derive(Debug)]
pub struct Loaded {
    /// The image, its ID the digest of the config as it was in the archive.
    pub image: Image,
    /// Its names in the archive.
    pub names: Vec<Reference>,
}

/// Progress of a load.
#[derive(Debug, Clone)]
pub enum LoadEvent {
    /// A layer is being unpacked: short diff ID, and the bytes of its blob.
    Layer {
        /// The first 12 hex digits of its diff ID.
        id: String,
        /// Bytes of its blob in the archive.
        size: u64,
        /// Whether it is done.
        done: bool,
    },
}

/// One image checked and ready to unpack.
struct Checked {
    id: Digest,
    config: Vec<u8>,
    diff_ids: Vec<Digest>,
    layers: Vec<String>,
    manifest: Option<Vec<u8>>,
    names: Vec<Reference>,
    /// For a platform of a multi-platform image: the index, and whether its names point here.
    group: Option<(Vec<u8>, bool)>,
}

fn check(spool: &Spool) -> Result<Vec<Checked>, ArchiveError> {
    let has = |p: &str| spool.has(p);
    // An index with a multi-platform image in it says more than a `manifest.json` beside it.
    let multi = match spool.has("index.json") && spool.has("manifest.json") {
        true => spool
            .bytes("index.json", "index.json")
            .and_then(|b| formats::oci(&b, &mut |p| spool.bytes("index.json", p), &has))
            .ok()
            .filter(|w| w.iter().any(|w| w.group.is_some())),
        false => None,
    };
    let wanted = if let Some(w) = multi {
        w
    } else if spool.has("manifest.json") {
        let mut read = |p: &str| spool.bytes("index.json", p);
        let manifests = match spool.has("index.json") {
            true => spool
                .bytes("index.json", "index.json")
                .and_then(|b| formats::configs(&b, &mut read, &has))
                .unwrap_or_default(),
            false => BTreeMap::new(),
        };
        formats::docker(&spool.bytes("manifest.json", "manifest.json")?, &manifests)?
    } else if spool.has("index.json") {
        let mut read = |p: &str| spool.bytes("index.json", p);
        formats::oci(&spool.bytes("index.json", "index.json")?, &mut read, &has)?
    } else {
        return Err(invalid("does not contain a manifest.json or an index.json"));
    };
    let mut out = Vec::new();
    for w in wanted {
        let config = spool.bytes("manifest.json", &w.config)?;
        let id = spool.digest("manifest.json", &w.config)?;
        let parsed: ImageConfig = serde_json::from_slice(&config)
            .map_err(|e| invalid(format!("config {}: {e}", w.config)))?;
        let diff_ids = parsed.rootfs.diff_ids;
        if w.layers.len() != diff_ids.len() {
            return Err(invalid(format!(
                "invalid manifest, layers length mismatch: expected {}, got {}",
                w.layers.len(),
                diff_ids.len()
            )));
        }
        for l in &w.layers {
            spool.resolve("the manifest", l)?;
        }
        let manifest = match &w.manifest {
            Some(p) => Some(spool.bytes("index.json", p)?),
            None => None,
        };
        let group = match &w.group {
            Some((index, primary)) => Some((spool.bytes("index.json", index)?, *primary)),
            None => None,
        };
        out.push(Checked {
            id,
            config,
            diff_ids,
            layers: w.layers,
            manifest,
            names: w.names,
            group,
        });
    }
    Ok(out)
}

/// Each image's top chain and size, and the pins of the layers unpacked.
type Unpacked = (Vec<(Option<Digest>, u64)>, Vec<NewLayer>);

/// Layers extracted at once (the machines berth runs on have a few cores; more would only
/// compete for the disk).
const THREADS: usize = 2;

/// One layer to unpack: where it sits in the stack, and where it comes from.
struct Job {
    path: String,
    diff: Digest,
    parent: Option<Digest>,
    blob_size: u64,
    source: Option<(LayerSource, Tripped)>,
}

/// The layers of `images` not unpacked yet, each once (images share layers), bottom first.
fn plan(spool: &mut Spool, images: &[Checked]) -> Result<Vec<Job>, ArchiveError> {
    let mut todo = Vec::new();
    let mut seen = BTreeSet::new();
    let mut uses: BTreeMap<String, usize> = BTreeMap::new();
    for image in images {
        let mut chain: Option<Digest> = None;
        for (path, diff) in image.layers.iter().zip(&image.diff_ids) {
            let next = berth_snapshot::chain_id(chain.as_ref(), diff);
            if seen.insert(next.clone()) {
                *uses
                    .entry(spool.resolve("the manifest", path)?)
                    .or_default() += 1;
                todo.push((path.clone(), diff.clone(), chain.clone()));
            }
            chain = Some(next);
        }
    }
    let mut jobs = Vec::new();
    for (path, diff, parent) in todo {
        let (file, blob_size, digest) = spool.open("the manifest", &path)?;
        let (tar, compression, tripped) =
            expand(std::io::BufReader::with_capacity(1 << 20, file)).map_err(read_err(&path))?;
        // An uncompressed layer with the right digest, used once (the same blob may sit on
        // several parents), becomes its blob as spooled.
        let once = uses[&spool.resolve("the manifest", &path)?] == 1;
        let ingest = match compression == Compression::None && digest == diff && once {
            true => spool.take("the manifest", &path)?,
            false => None,
        };
        let source = match ingest {
            Some(w) => LayerSource::Ingest(w),
            None => LayerSource::Tar(tar),
        };
        jobs.push(Job {
            path,
            diff,
            parent,
            blob_size,
            source: Some((source, tripped)),
        });
    }
    Ok(jobs)
}

/// Extracts every job's layer, [`THREADS`] at a time; a failure stops the others.
fn stage_all(
    store: &ImageStore,
    jobs: &mut [Job],
) -> Vec<Option<Result<StagedLayer, ArchiveError>>> {
    let queue: Mutex<Vec<(usize, LayerSource, Tripped, String)>> = Mutex::new(
        jobs.iter_mut()
            .enumerate()
            .rev()
            .filter_map(|(i, j)| j.source.take().map(|(s, t)| (i, s, t, j.path.clone())))
            .collect(),
    );
    let results = Mutex::new((0..jobs.len()).map(|_| None).collect::<Vec<_>>());
    let failed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..THREADS.min(jobs.len()) {
            scope.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let Some((i, source, tripped, path)) = queue.lock().expect("queue").pop()
                    else {
                        break;
                    };
                    let staged = store.stage_layer(source);
                    let staged = match tripped.get() {
                        Some(t) => Err(bomb(&format!("layer {path}"), t)),
                        None => staged.map_err(ArchiveError::from),
                    };
                    if staged.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    results.lock().expect("results")[i] = Some(staged);
                }
            });
        }
    });
    results.into_inner().expect("results")
}

/// Unpacks every layer of `images`: extracted in parallel, then committed bottom first.
fn unpack(
    store: &ImageStore,
    spool: &mut Spool,
    images: &[Checked],
    progress: &mut dyn FnMut(LoadEvent),
) -> Result<Unpacked, ArchiveError> {
    let mut jobs = plan(spool, images)?;
    for j in &jobs {
        progress(LoadEvent::Layer {
            id: j.diff.hex()[..12].to_string(),
            size: j.blob_size,
            done: false,
        });
    }
    let staged = stage_all(store, &mut jobs);
    let mut pins = Vec::new();
    let mut sizes: BTreeMap<Digest, u64> = BTreeMap::new();
    for (job, staged) in jobs.iter().zip(staged) {
        // A job left unstarted follows a failure, which comes first in this order or later.
        let Some(staged) = staged else { continue };
        let staged = staged?;
        let i = images
            .iter()
            .find_map(|im| im.layers.iter().position(|l| *l == job.path))
            .unwrap_or_default();
        if staged.stats().diff_id != job.diff {
            return Err(invalid(format!(
                "invalid diffID for layer {i}: expected {:?}, got {:?}",
                job.diff.as_str(),
                staged.stats().diff_id.as_str()
            )));
        }
        let layer = store.commit_layer(staged, job.parent.as_ref())?;
        sizes.insert(layer.chain.clone(), layer.stats.content_size);
        pins.push(layer);
        progress(LoadEvent::Layer {
            id: job.diff.hex()[..12].to_string(),
            size: job.blob_size,
            done: true,
        });
    }
    if pins.len() < jobs.len() {
        return Err(invalid("a layer was not unpacked"));
    }
    let mut out = Vec::new();
    for image in images {
        let (mut chain, mut size) = (None::<Digest>, 0);
        for diff in &image.diff_ids {
            let next = berth_snapshot::chain_id(chain.as_ref(), diff);
            size += sizes
                .get(&next)
                .copied()
                .unwrap_or_else(|| store.snapshots().usage(&next));
            chain = Some(next);
        }
        out.push((chain, size));
    }
    Ok((out, pins))
}

/// Loads the archive `input` into `store`: every image it holds, with its ID and the names the
/// archive gives it, or nothing at all.
pub fn load(
    store: &ImageStore,
    input: impl Read + Send,
    progress: &mut dyn FnMut(LoadEvent),
) -> Result<Vec<Loaded>, ArchiveError> {
    let started = std::time::Instant::now();
    let mut spool = Spool::read(store, input)?;
    let spooled = started.elapsed();
    let images = check(&spool)?;
    let (tops, pins) = match unpack(store, &mut spool, &images, progress) {
        Ok(done) => done,
        Err(e) => {
            // What was unpacked is referenced by nothing: collect it.
            if let Err(gc) = store.gc() {
                tracing::warn!(error = %gc, "collecting after a refused load");
            }
            return Err(e);
        }
    };
    let mut out = Vec::new();
    // Platforms whose names point elsewhere are recorded after the one they point at.
    let mut order: Vec<_> = images.into_iter().zip(tops).collect();
    order.sort_by_key(|(i, _)| i.group.as_ref().is_some_and(|(_, primary)| !primary));
    let mut primaries: BTreeMap<Vec<u8>, Digest> = BTreeMap::new();
    for (image, (chain, size)) in order {
        let group = image.group.as_ref().map(|(index, primary)| {
            let points_at = (!primary).then(|| primaries.get(index)).flatten();
            (index.as_slice(), points_at)
        });
        let recorded = store.create_loaded(
            &image.id,
            &image.config,
            image.manifest.as_deref(),
            chain,
            size,
            group,
        )?;
        match &image.group {
            Some((index, true)) => {
                primaries.insert(index.clone(), recorded.id.clone());
            }
            Some((_, false)) => continue,
            None => {}
        }
        out.push(Loaded {
            image: recorded,
            names: image.names,
        });
    }
    drop(pins);
    tracing::debug!(
        spool_ms = spooled.as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        images = out.len(),
        "archive loaded"
    );
    Ok(out)
}
