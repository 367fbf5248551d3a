//! The layers of a pull: each downloaded (a few at a time) into a channel that a blocking
//! thread decompresses and extracts from as the bytes come, then committed bottom first.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_core::{Digest, ErrorKind};
use berth_distribution::client::{ClientError, Repository};
use berth_distribution::spec::Descriptor;
use berth_image::{ImageStore, LayerSource, Lease, NewLayer, StagedLayer};
use bytes::{Buf, Bytes};
use tokio::sync::{Semaphore, mpsc};

use super::Images;
use super::registry::{Progress, Say, short, transfer_error};
use crate::error::{Error, Result};

/// The most a config may weigh.
const CONFIG_LIMIT: usize = 8 << 20;
/// How often a layer's `Downloading` line is sent.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// The layers of an image, all in, pinned until the image is recorded.
pub struct Fetched {
    /// The chain ID of the top layer.
    pub chain: Option<Digest>,
    /// The bytes of all layers.
    pub size: u64,
    /// The diff IDs, bottom first.
    pub diff_ids: Vec<Digest>,
    /// What keeps new and existing layers from the collector until the record exists.
    pub pins: (Vec<NewLayer>, Lease),
}

/// Fetches a small blob (a config) whole.
pub async fn small_blob(
    repo: &Repository,
    desc: &Descriptor,
    attempts: u32,
) -> std::result::Result<Vec<u8>, ClientError> {
    if desc.size as usize > CONFIG_LIMIT {
        return Err(ClientError::Protocol(format!(
            "config blob of {} bytes is larger than {CONFIG_LIMIT}",
            desc.size
        )));
    }
    let (tx, mut rx) = mpsc::channel::<Bytes>(16);
    let download = async move {
        let mut ignore = |_| {};
        repo.download(&desc.digest, Some(desc.size), attempts, &tx, &mut ignore)
            .await
    };
    let collect = async {
        let mut out = Vec::new();
        while let Some(b) = rx.recv().await {
            out.extend_from_slice(&b);
        }
        out
    };
    let (done, bytes) = tokio::join!(download, collect);
    done.map(|_| bytes)
}

/// Fetches the layers `layers` (with their `diff_ids`) that are not here yet.
pub async fn fetch_all(
    images: &Arc<Images>,
    repo: &Arc<Repository>,
    layers: &[Descriptor],
    diff_ids: &[Digest],
    say: &Say,
) -> Result<Fetched> {
    let store = images.store.clone();
    let mut chains = Vec::new();
    for d in diff_ids {
        chains.push(berth_snapshot::chain_id(chains.last(), d));
    }
    let present = chains
        .iter()
        .take_while(|c| store.snapshots().parent(c).is_ok())
        .count();
    let lease = store.lease();
    lease.pin(chains[..present].iter().cloned());
    for l in &layers[..present] {
        let _ = say.send(Progress::status(Some(&short(&l.digest)), "Already exists"));
    }
    for l in &layers[present..] {
        let _ = say.send(Progress::status(
            Some(&short(&l.digest)),
            "Pulling fs layer",
        ));
    }
    let slots = Arc::new(Semaphore::new(images.registry_config.max_downloads.max(1)));
    let attempts = images.registry_config.max_attempts;
    let mut jobs = Vec::new();
    for l in &layers[present..] {
        let job = fetch_layer(
            store.clone(),
            repo.clone(),
            l.clone(),
            attempts,
            slots.clone(),
            say.clone(),
        );
        jobs.push(tokio::spawn(job));
    }
    let aborts: Vec<_> = jobs.iter().map(|j| j.abort_handle()).collect();
    let result = commit_in_order(&store, layers, diff_ids, &chains, present, jobs, say).await;
    if result.is_err() {
        aborts.iter().for_each(|a| a.abort());
    }
    let new = result?;
    let size = chains[..present]
        .iter()
        .map(|c| store.snapshots().usage(c))
        .chain(new.iter().map(|l| l.stats.content_size))
        .sum();
    Ok(Fetched {
        chain: chains.last().cloned(),
        size,
        diff_ids: diff_ids.to_vec(),
        pins: (new, lease),
    })
}

async fn commit_in_order(
    store: &ImageStore,
    layers: &[Descriptor],
    diff_ids: &[Digest],
    chains: &[Digest],
    present: usize,
    jobs: Vec<tokio::task::JoinHandle<Result<StagedLayer>>>,
    say: &Say,
) -> Result<Vec<NewLayer>> {
    let mut new = Vec::new();
    for (i, job) in (present..).zip(jobs) {
        let staged = job
            .await
            .map_err(|e| Error::internal("fetching a layer", e))??;
        if staged.stats().diff_id != diff_ids[i] {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "layers from manifest don't match image configuration",
            ));
        }
        let parent = i.checked_sub(1).map(|p| chains[p].clone());
        let s = store.clone();
        let layer = crate::blocking::run("committing a layer", move || {
            Ok(s.commit_layer(staged, parent.as_ref())?)
        })
        .await?;
        let _ = say.send(Progress::status(
            Some(&short(&layers[i].digest)),
            "Pull complete",
        ));
        new.push(layer);
    }
    Ok(new)
}

async fn fetch_layer(
    store: ImageStore,
    repo: Arc<Repository>,
    desc: Descriptor,
    attempts: u32,
    slots: Arc<Semaphore>,
    say: Say,
) -> Result<StagedLayer> {
    let id = short(&desc.digest);
    let permit = match slots.clone().try_acquire_owned() {
        Ok(p) => p,
        Err(_) => {
            let _ = say.send(Progress::status(Some(&id), "Waiting"));
            slots
                .acquire_owned()
                .await
                .expect("the semaphore stays open")
        }
    };
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let stage = tokio::task::spawn_blocking(move || -> Result<StagedLayer> {
        let (reader, _, _) = berth_image::archive::expand(ChannelReader {
            rx,
            buf: Bytes::new(),
        })
        .map_err(|e| Error::new(ErrorKind::InvalidArgument, format!("reading a layer: {e}")))?;
        Ok(store.stage_layer(LayerSource::Tar(reader))?)
    });
    let started = Instant::now();
    let mut last: Option<Instant> = None;
    let total = desc.size;
    let progress_say = say.clone();
    let progress_id = id.clone();
    let mut progress = move |n: u64| {
        if last.is_some_and(|t| t.elapsed() < PROGRESS_EVERY) {
            return;
        }
        last = Some(Instant::now());
        let _ = progress_say.send(Progress {
            detail: Some((n, total, started)),
            ..Progress::status(Some(&progress_id), "Downloading")
        });
    };
    let downloaded = repo
        .download(&desc.digest, Some(desc.size), attempts, &tx, &mut progress)
        .await;
    drop(tx);
    drop(permit);
    let staged = stage
        .await
        .map_err(|e| Error::internal("extracting a layer", e))?;
    if let Err(e) = downloaded {
        // A wrong digest says more than what the extractor made of the bytes.
        return match (staged, e) {
            (_, ClientError::DigestMismatch { expected, .. }) => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("filesystem layer verification failed for digest {expected}"),
            )),
            (Err(extract), _) => Err(extract),
            (Ok(_), e) => Err(transfer_error(e)),
        };
    }
    let staged = staged?;
    let _ = say.send(Progress::status(Some(&id), "Verifying Checksum"));
    let _ = say.send(Progress::status(Some(&id), "Download complete"));
    let _ = say.send(Progress {
        detail: Some((total, total, Instant::now())),
        ..Progress::status(Some(&id), "Extracting")
    });
    Ok(staged)
}

/// The downloader's chunks as a reader, for the extractor on its blocking thread.
struct ChannelReader {
    rx: mpsc::Receiver<Bytes>,
    buf: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.buf.is_empty() {
            match self.rx.blocking_recv() {
                Some(b) => self.buf = b,
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        self.buf.advance(n);
        Ok(n)
    }
}
