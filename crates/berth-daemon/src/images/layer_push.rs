//! One layer of a push: sent only when the repository lacks it. A layer known (from a pull or
//! an earlier push) to be a blob of the target repository is checked with a HEAD; one known in
//! another repository of the same registry is mounted from there; otherwise it is gzipped as
//! it streams (hashed on the way) into a PATCH, and closed with its digest.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_core::Digest;
use berth_distribution::client::{ClientError, Repository, Started, Url};
use berth_distribution::spec::{Descriptor, media};
use berth_image::{BlobSource, ImageStore};
use bytes::Bytes;
use sha2::{Digest as _, Sha256};
use tokio::sync::{Semaphore, mpsc};

use super::registry::{Progress, Say, short, transfer_error};
use crate::error::{Error, Result};

const PROGRESS_EVERY: Duration = Duration::from_millis(100);
const CHUNK: usize = 1 << 20;

/// Where a push goes: the repository handle and its full name (`host/path`).
pub struct Target {
    /// The repository at the endpoint that answered.
    pub repo: Arc<Repository>,
    /// `localhost:5000/a/b`.
    pub name: String,
    /// Its registry, `localhost:5000`.
    pub domain: String,
}

/// Makes sure the repository has layer `diff_id`; its descriptor there.
pub async fn push_layer(
    store: ImageStore,
    target: Arc<Target>,
    diff_id: Digest,
    slots: Arc<Semaphore>,
    say: Say,
) -> Result<Descriptor> {
    let id = short(diff_id.as_str());
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
    let sources = store.blob_sources(&diff_id)?;
    let repo = &target.repo;
    for s in &sources {
        if let Some(size) = repo.blob_size(&s.digest).await.map_err(transfer_error)? {
            let _ = say.send(Progress::status(Some(&id), "Layer already exists"));
            return Ok(descriptor(s, size));
        }
    }
    let mount = sources.iter().find_map(|s| {
        let path = s.repository.strip_prefix(&format!("{}/", target.domain))?;
        (s.repository != target.name).then_some((s, path.to_string()))
    });
    let at = match mount {
        Some((s, from)) => match repo
            .start_upload(Some((&s.digest, &from)))
            .await
            .map_err(transfer_error)?
        {
            Started::Mounted => {
                let _ = say.send(Progress::status(Some(&id), format!("Mounted from {from}")));
                remember(&store, &diff_id, &s.digest, s.size, &target.name)?;
                return Ok(descriptor(s, s.size));
            }
            Started::Upload(at) => at,
        },
        None => match repo.start_upload(None).await.map_err(transfer_error)? {
            Started::Upload(at) => at,
            Started::Mounted => unreachable!("no mount was asked for"),
        },
    };
    let (digest, size) = upload(&store, repo, at, &diff_id, &id, &say).await?;
    drop(permit);
    let _ = say.send(Progress::status(Some(&id), "Pushed"));
    remember(&store, &diff_id, &digest, size, &target.name)?;
    Ok(Descriptor {
        media_type: media::DOCKER_LAYER.into(),
        digest,
        size,
        platform: None,
        artifact_type: None,
        annotations: Default::default(),
        urls: Vec::new(),
    })
}

fn descriptor(s: &BlobSource, size: u64) -> Descriptor {
    Descriptor {
        media_type: s.media_type.clone(),
        digest: s.digest.clone(),
        size,
        platform: None,
        artifact_type: None,
        annotations: Default::default(),
        urls: Vec::new(),
    }
}

fn remember(
    store: &ImageStore,
    diff_id: &Digest,
    digest: &str,
    size: u64,
    repo: &str,
) -> Result<()> {
    let source = BlobSource {
        digest: digest.to_string(),
        media_type: media::DOCKER_LAYER.into(),
        size,
        repository: repo.to_string(),
    };
    Ok(store.add_blob_source(diff_id, source)?)
}

/// Streams the layer gzipped to the upload at `at` and closes it; its digest and size.
async fn upload(
    store: &ImageStore,
    repo: &Repository,
    at: Url,
    diff_id: &Digest,
    id: &str,
    say: &Say,
) -> Result<(String, u64)> {
    let (tx, mut rx) = mpsc::channel::<io::Result<Bytes>>(8);
    let content = store.content().clone();
    let (diff, say_c, id_c) = (diff_id.clone(), say.clone(), id.to_string());
    let compress = tokio::task::spawn_blocking(move || -> Result<(String, u64)> {
        let file = content
            .open_blob(&diff)
            .map_err(|e| Error::internal("reading a layer", e))?;
        let total = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut reader = Counting::new(file, total, say_c, id_c);
        let sink = Chunks {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
            hasher: Sha256::new(),
            size: 0,
        };
        let mut gz = flate2::write::GzEncoder::new(sink, flate2::Compression::default());
        let copied = io::copy(&mut reader, &mut gz).and_then(|_| gz.finish());
        let mut sink = match copied {
            Ok(s) => s,
            Err(e) => {
                let _ = tx.blocking_send(Err(io::Error::other(e.to_string())));
                return Err(Error::internal("compressing a layer", e));
            }
        };
        sink.flush_chunk()
            .map_err(|e| Error::internal("compressing a layer", e))?;
        Ok((format!("sha256:{:x}", sink.hasher.finalize()), sink.size))
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let sent = repo.send_chunk(at, stream).await;
    let made = compress
        .await
        .map_err(|e| Error::internal("compressing a layer", e))?;
    let next = sent.map_err(transfer_error)?;
    let (digest, size) = made?;
    repo.finish_upload(next, &digest, Vec::new())
        .await
        .map_err(|e: ClientError| transfer_error(e))?;
    Ok((digest, size))
}

/// The gzip output, hashed and sent in chunks.
struct Chunks {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
    hasher: Sha256,
    size: u64,
}

impl Chunks {
    fn flush_chunk(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the upload stopped"))
    }
}

impl Write for Chunks {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.hasher.update(data);
        self.size += data.len() as u64;
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush_chunk()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The layer read, with `Pushing` progress over its uncompressed size, as dockerd shows it.
struct Counting<R> {
    inner: R,
    done: u64,
    total: u64,
    say: Say,
    id: String,
    started: Instant,
    last: Option<Instant>,
}

impl<R> Counting<R> {
    fn new(inner: R, total: u64, say: Say, id: String) -> Self {
        Counting {
            inner,
            done: 0,
            total,
            say,
            id,
            started: Instant::now(),
            last: None,
        }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        if self.last.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY) {
            self.last = Some(Instant::now());
            let _ = self.say.send(Progress {
                detail: Some((self.done, self.total, self.started)),
                ..Progress::status(Some(&self.id), "Pushing")
            });
        }
        Ok(n)
    }
}
