//! The registry's state: the blob store, the metadata, uploads in progress and the small
//! in-memory tables the garbage collector relies on. Handlers share one `Arc<Registry>`.
//!
//! Concurrency: nothing here is locked across a request. The only locks are
//! - one upload's slot, taken out of the table by the request that appends to it;
//! - a blob's guard (one of [`GUARD_SHARDS`] mutexes), held across a check-and-touch or a
//!   rename into place, never across network I/O (see `gc` for why);
//! - the mark gate, shared by manifest `PUT`s, taken exclusively by a collection for the
//!   instant it notes when its mark started.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::auth::Auth;
use super::config::Config;
use super::error::RegistryError;
use super::meta::{Meta, MetaError, Pulled};
use super::metrics::Metrics;
use super::storage::{BlobStore, Ingest, StorageError};

/// How many mutexes blob guards are spread over.
pub const GUARD_SHARDS: usize = 64;

/// Why a registry cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The blob store.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The metadata.
    #[error(transparent)]
    Meta(#[from] MetaError),
    /// Auth files.
    #[error(transparent)]
    Auth(#[from] super::auth::AuthError),
}

/// An upload in progress: its lease on an ingest file.
#[derive(Debug)]
pub struct Upload {
    /// The repository it was started in.
    pub repo: String,
    /// The bytes so far.
    pub ingest: Ingest,
    /// When it was last written to.
    pub last: Instant,
}

/// Upload sessions by id; `None` while a request is writing to it.
type Slots = HashMap<String, Option<Upload>>;

/// The registry.
#[derive(Debug)]
pub struct Registry {
    /// The blobs.
    pub blobs: BlobStore,
    /// The metadata.
    pub meta: Meta,
    /// The configuration it serves.
    pub config: Config,
    /// Request and collection counters.
    pub metrics: Metrics,
    /// Who may do what.
    pub auth: Auth,
    uploads: Mutex<Slots>,
    guards: Vec<Mutex<()>>,
    touches: Mutex<HashMap<String, u64>>,
    pulls: Mutex<BTreeMap<Pulled, u64>>,
    pub(crate) mark_gate: RwLock<()>,
    pub(crate) collecting: Mutex<()>,
}

/// Now, in unix milliseconds.
pub fn now_ms() -> u64 {
    millis(SystemTime::now())
}

/// A time in unix milliseconds.
pub fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Runs blocking work (files, the database) off the async workers.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RegistryError> + Send + 'static,
) -> Result<T, RegistryError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RegistryError::Internal(e.to_string()))?
}

impl Registry {
    /// Opens the registry at `config.root`.
    pub fn open(config: Config) -> Result<Arc<Registry>, OpenError> {
        let root: &Path = &config.root;
        let blobs = BlobStore::open(root)?;
        let meta = Meta::open(&root.join("registry.redb"))?;
        let auth = Auth::load(&config.auth)?;
        Ok(Arc::new(Registry {
            blobs,
            meta,
            auth,
            config,
            metrics: Metrics::default(),
            uploads: Mutex::new(HashMap::new()),
            guards: (0..GUARD_SHARDS).map(|_| Mutex::new(())).collect(),
            touches: Mutex::new(HashMap::new()),
            pulls: Mutex::new(BTreeMap::new()),
            mark_gate: RwLock::new(()),
            collecting: Mutex::new(()),
        }))
    }

    /// The guard of one blob (shared with the blobs of its shard).
    pub fn guard(&self, digest: &str) -> MutexGuard<'_, ()> {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let h = BuildHasherDefault::<DefaultHasher>::default().hash_one(digest);
        let shard = &self.guards[(h % GUARD_SHARDS as u64) as usize];
        shard.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes that a blob was just written, linked, checked or named: the collector
    /// running now (or within the grace window) keeps it. Call it under the blob's guard.
    pub fn touch(&self, digest: &str) {
        let mut t = self.touches.lock().unwrap_or_else(|e| e.into_inner());
        t.insert(digest.to_string(), now_ms());
    }

    /// When a blob was last touched, 0 if not since the server started.
    pub fn touched(&self, digest: &str) -> u64 {
        let t = self.touches.lock().unwrap_or_else(|e| e.into_inner());
        t.get(digest).copied().unwrap_or(0)
    }

    /// Forgets touches older than `before`.
    pub fn forget_touches(&self, before: u64) {
        let mut t = self.touches.lock().unwrap_or_else(|e| e.into_inner());
        t.retain(|_, &mut when| when >= before);
    }

    /// Whether a blob is in a repository: linked there and its file present. Its size.
    pub fn blob_in(&self, repo: &str, digest: &str) -> Result<Option<u64>, RegistryError> {
        if !self.meta.linked(repo, digest)? {
            return Ok(None);
        }
        let d = digest
            .parse()
            .map_err(|_| RegistryError::DigestInvalid(digest.into()))?;
        Ok(self.blobs.size(&d))
    }

    /// Buffers a pull time (written by [`flush_pulls`](Registry::flush_pulls)).
    pub fn pulled(&self, what: Pulled) {
        let mut p = self.pulls.lock().unwrap_or_else(|e| e.into_inner());
        p.insert(what, now_ms());
    }

    /// Writes the buffered pull times.
    pub fn flush_pulls(&self) -> Result<(), RegistryError> {
        let pulls = std::mem::take(&mut *self.pulls.lock().unwrap_or_else(|e| e.into_inner()));
        Ok(self.meta.record_pulls(&pulls)?)
    }

    /// Starts an upload in `repo`; its id.
    pub fn start_upload(&self, repo: &str) -> Result<String, RegistryError> {
        let ingest = self.blobs.ingest()?;
        let id = ingest.id().to_string();
        let upload = Upload {
            repo: repo.to_string(),
            ingest,
            last: Instant::now(),
        };
        self.slots().insert(id.clone(), Some(upload));
        self.metrics.uploads_started();
        Ok(id)
    }

    /// Takes an upload out of its slot to write to it; give it back with
    /// [`put_upload`](Registry::put_upload) or drop it to cancel it.
    pub fn take_upload(&self, repo: &str, id: &str) -> Result<Upload, RegistryError> {
        let mut slots = self.slots();
        match slots.get_mut(id) {
            Some(slot @ Some(_)) if slot.as_ref().is_some_and(|u| u.repo == repo) => {
                Ok(slot.take().expect("checked"))
            }
            Some(None) => Err(RegistryError::UploadInvalid(format!(
                "upload {id} is being written by another request"
            ))),
            _ => Err(RegistryError::UploadUnknown(id.to_string())),
        }
    }

    /// Gives an upload back to its slot.
    pub fn put_upload(&self, id: &str, mut upload: Upload) {
        upload.last = Instant::now();
        self.slots().insert(id.to_string(), Some(upload));
    }

    /// Ends an upload (completed or cancelled).
    pub fn end_upload(&self, id: &str) {
        self.slots().remove(id);
    }

    /// The size of an upload (its status).
    pub fn upload_size(&self, repo: &str, id: &str) -> Result<u64, RegistryError> {
        match self.slots().get(id) {
            Some(Some(u)) if u.repo == repo => Ok(u.ingest.size()),
            Some(None) => Err(RegistryError::UploadInvalid(format!(
                "upload {id} is being written"
            ))),
            _ => Err(RegistryError::UploadUnknown(id.to_string())),
        }
    }

    /// Drops uploads idle longer than `timeout` (their leases end) and ingest files no
    /// upload holds; how many went.
    pub fn expire_uploads(&self, timeout: std::time::Duration) -> Result<usize, RegistryError> {
        let expired: Vec<Upload> = {
            let mut slots = self.slots();
            let ids: Vec<String> = slots
                .iter()
                .filter(|(_, u)| u.as_ref().is_some_and(|u| u.last.elapsed() > timeout))
                .map(|(id, _)| id.clone())
                .collect();
            ids.iter()
                .filter_map(|id| slots.remove(id).flatten())
                .collect()
        };
        let count = expired.len();
        drop(expired); // removes their files, outside the table's lock
        // A file no slot holds: an upload being started right now (its file is made before
        // its slot), or one lost to a bug. Only the idle ones go.
        let held: std::collections::HashSet<String> = self.slots().keys().cloned().collect();
        for (id, modified) in self.blobs.ingests()? {
            let idle = modified.elapsed().unwrap_or_default() > timeout;
            if idle && !held.contains(&id) {
                self.blobs.remove_ingest(&id);
            }
        }
        Ok(count)
    }

    /// How many uploads are in progress.
    pub fn uploads_in_progress(&self) -> usize {
        self.slots().len()
    }

    fn slots(&self) -> MutexGuard<'_, Slots> {
        self.uploads.lock().unwrap_or_else(|e| e.into_inner())
    }
}
