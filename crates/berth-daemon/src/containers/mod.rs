//! The container service: records, names, and the lifecycle (in `lifecycle`).

mod archive;
mod connect;
pub mod devices;
pub mod emulation;
mod links;
pub use archive::{ExtractOptions, PathInfo, TarStream};
mod exec;
pub use exec::{Exec, ExecIo};
mod export;
pub mod files;
mod fs_changes;
mod health;
pub use health::HealthAction;
pub mod limits;
pub mod namespaces;
pub use fs_changes::{Change, ChangeKind};
pub mod logging;
mod logs;
pub use logs::{From, Until, follow, follow_log, log_end};
mod lifecycle;
mod orphans;
pub use lifecycle::WaitCondition;
pub(crate) mod model;
pub use model::{
    ExecSpec, MountKind, MountOrigin, MountSpec, NetworkMode, Propagation, Resources,
    RestartPolicy, Spec, Stdio, VolumesFrom,
};
pub mod netspec;
pub use netspec::{EndpointSpec, HostBinding, Link, NetSpec, port_key};
pub mod network;
mod pause;
mod propagation;
mod prune;
mod record;
mod rename;
pub mod resources;
mod restart;
mod update;
pub use update::Update;
pub mod rootfs;
mod security;
mod shutdown;
pub use security::{Seccomp, Security};
pub(crate) mod spec;
mod stats;
pub use stats::{Frame, Frames, Mode as StatsMode};
mod top;
mod volumes;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use berth_image::ImageStore;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use tokio::sync::watch;

pub use record::{Record, State, Status, ZERO_TIME};

use crate::config::DaemonConfig;
use crate::error::{Error, Result, db};
use crate::events::Events;

const CONTAINERS: TableDefinition<&str, &[u8]> = TableDefinition::new("containers");

/// One container: its record plus what coordinates work on it.
pub struct Container {
    /// The ID.
    pub id: String,
    record: Mutex<Record>,
    /// Bumped on every state change; waiters watch it.
    changed: watch::Sender<u64>,
    /// Serializes lifecycle operations (start, stop, remove) on this container.
    op: tokio::sync::Mutex<()>,
    /// Its restart policy's state.
    restart: Mutex<restart::Manager>,
}

impl Container {
    fn new(record: Record) -> Arc<Self> {
        Arc::new(Container {
            id: record.id.clone(),
            record: Mutex::new(record),
            changed: watch::channel(0).0,
            op: tokio::sync::Mutex::new(()),
            restart: Mutex::default(),
        })
    }

    /// A copy of the record.
    pub fn record(&self) -> Record {
        self.record.lock().expect("record lock").clone()
    }

    /// The current status.
    pub fn status(&self) -> Status {
        self.record.lock().expect("record lock").state.status
    }

    /// Subscribes to state changes.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

/// The container service.
pub struct Containers {
    cfg: DaemonConfig,
    db: Arc<Database>,
    images: ImageStore,
    events: Arc<Events>,
    network: Arc<dyn network::NetworkHook>,
    volumes: Arc<crate::volumes::Volumes>,
    all: Mutex<HashMap<String, Arc<Container>>>,
    execs: Mutex<HashMap<String, Arc<Exec>>>,
    filters: Arc<security::Filters>,
    stats: stats::Collector,
    /// The daemon is stopping its containers: no policy restarts them now.
    shutting_down: std::sync::atomic::AtomicBool,
}

impl Containers {
    /// Loads the stored containers; `restore` reconnects the running ones.
    pub fn open(
        cfg: DaemonConfig,
        database: Arc<Database>,
        images: ImageStore,
        events: Arc<Events>,
        network: Arc<dyn network::NetworkHook>,
        volumes: Arc<crate::volumes::Volumes>,
    ) -> Result<Arc<Self>> {
        let tx = database.begin_write().map_err(db)?;
        tx.open_table(CONTAINERS).map_err(db)?;
        tx.commit().map_err(db)?;
        let mut all = HashMap::new();
        let mut migrated = Vec::new();
        let tx = database.begin_read().map_err(db)?;
        for row in tx.open_table(CONTAINERS).map_err(db)?.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            match record::decode(v.value()) {
                Ok((r, was_migrated)) => {
                    let c = Container::new(r);
                    if was_migrated {
                        migrated.push(c.clone());
                    }
                    all.insert(c.id.clone(), c);
                }
                // Left in the store: a newer berth, or a person, may still read it.
                Err(e) => tracing::error!(id = k.value(), error = %e, "skipping container record"),
            }
        }
        drop(tx);
        let filters = Arc::new(security::Filters::new(&cfg.security)?);
        // The filter of most containers, compiled before the first start needs it.
        let warm = filters.clone();
        std::thread::spawn(move || {
            let _ = warm.filter(&Security::default(), berth_runtime::spec::DEFAULT_CAPS);
        });
        let this = Arc::new(Containers {
            cfg,
            db: database,
            images,
            events,
            network,
            volumes,
            all: Mutex::new(all),
            execs: Mutex::default(),
            filters,
            stats: stats::Collector::default(),
            shutting_down: Default::default(),
        });
        for c in migrated {
            this.persist(&c, |_| {})?;
            tracing::info!(id = %c.id, "container record migrated to schema {}", record::SCHEMA);
        }
        this.unmount_stale_views();
        this.collect_orphans();
        this.register_volumes(this.list().iter().map(|c| c.record()));
        Ok(this)
    }

    fn dir(&self, id: &str) -> PathBuf {
        self.cfg.root.join("containers").join(id)
    }

    /// Changes the record in memory and writes it to the store; blocks on the write (an
    /// fsync), so async code calls [`Containers::save`] instead.
    fn persist(&self, c: &Container, f: impl FnOnce(&mut Record)) -> Result<Record> {
        let rec = Self::update(c, f);
        self.store(c)?;
        Ok(rec)
    }

    /// [`Containers::persist`] with the write on the blocking pool.
    async fn save(
        self: &Arc<Self>,
        c: &Arc<Container>,
        f: impl FnOnce(&mut Record),
    ) -> Result<Record> {
        let rec = Self::update(c, f);
        let (this, c) = (self.clone(), c.clone());
        crate::blocking::run("saving a container record", move || this.store(&c)).await?;
        Ok(rec)
    }

    fn update(c: &Container, f: impl FnOnce(&mut Record)) -> Record {
        let mut r = c.record.lock().expect("record lock");
        f(&mut r);
        r.clone()
    }

    /// Writes the container's record as it is now. The record is read after the write
    /// transaction began (redb runs one at a time), so the last write always holds the
    /// newest record, whatever order concurrent saves finish in.
    fn store(&self, c: &Container) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        let rec = c.record();
        tx.open_table(CONTAINERS)
            .map_err(db)?
            .insert(
                rec.id.as_str(),
                serde_json::to_vec(&rec)
                    .expect("record serializes")
                    .as_slice(),
            )
            .map_err(db)?;
        tx.commit().map_err(db)?;
        c.changed.send_modify(|n| *n += 1);
        Ok(())
    }

    pub(crate) fn event(&self, action: &str, rec: &Record, extra: &[(&str, String)]) {
        let mut attrs: BTreeMap<String, String> = rec.spec.labels.clone();
        attrs.insert("name".into(), rec.name.clone());
        attrs.insert("image".into(), rec.spec.image.clone());
        for (k, v) in extra {
            attrs.insert((*k).into(), v.clone());
        }
        self.events.publish("container", action, &rec.id, attrs);
    }

    /// Finds a container by full ID, name, or unique ID prefix, as Docker does.
    pub fn get(&self, name_or_id: &str) -> Result<Arc<Container>> {
        let all = self.all.lock().expect("containers lock");
        if let Some(c) = all.get(name_or_id) {
            return Ok(c.clone());
        }
        let name = name_or_id.strip_prefix('/').unwrap_or(name_or_id);
        if let Some(c) = all
            .values()
            .find(|c| c.record.lock().expect("record lock").name == name)
        {
            return Ok(c.clone());
        }
        let mut found = all
            .values()
            .filter(|c| !name_or_id.is_empty() && c.id.starts_with(name_or_id));
        match (found.next(), found.next()) {
            (Some(c), None) => Ok(c.clone()),
            (Some(_), Some(_)) => Err(Error::not_found(format!(
                "Multiple IDs found with provided prefix: {name_or_id}"
            ))),
            _ => Err(Error::not_found(format!("No such container: {name_or_id}"))),
        }
    }

    /// All containers.
    pub fn list(&self) -> Vec<Arc<Container>> {
        self.all
            .lock()
            .expect("containers lock")
            .values()
            .cloned()
            .collect()
    }

    /// The containers that use image `id`, or any other platform of it.
    pub fn image_users(&self, id: &berth_core::Digest) -> Vec<Record> {
        let ids: Vec<berth_core::Digest> = self
            .images
            .get(id)
            .and_then(|i| self.images.platforms(&i))
            .map_or_else(
                |_| vec![id.clone()],
                |all| all.into_iter().map(|i| i.id).collect(),
            );
        self.list()
            .iter()
            .map(|c| c.record())
            .filter(|r| ids.contains(&r.image_id))
            .collect()
    }

    /// Creates the container of a build step (its `RUN --mount`s are in the spec's mounts);
    /// a daemon restart removes it.
    pub fn create_build_step(&self, spec: Spec) -> Result<String> {
        self.make(None, spec, true).map(|(id, _)| id)
    }

    /// Keeps a build step's container after its build: from now on an ordinary container,
    /// which prune and a daemon restart treat as any other.
    pub async fn keep(self: &Arc<Self>, c: &Arc<Container>) -> Result<()> {
        self.save(c, |r| r.build_step = false).await.map(drop)
    }

    /// Creates a container from a checked spec (`POST /containers/create`); returns its ID
    /// and warnings.
    pub fn create(&self, name: Option<&str>, spec: Spec) -> Result<(String, Vec<String>)> {
        self.make(name, spec, false)
    }

    fn make(
        &self,
        name: Option<&str>,
        spec: Spec,
        build_step: bool,
    ) -> Result<(String, Vec<String>)> {
        let (image, warnings) = self.image_for(&spec)?;
        emulation::check(&image.platform)?;
        let id = berth_core::id::generate();
        let (mut spec, path, args) = spec.with_image_defaults(&id, &image.config.config)?;
        self.resolve_mounts(&id, &mut spec)?;
        let record = Record {
            schema: record::SCHEMA,
            id: id.clone(),
            name: String::new(),
            created: berth_runtime::logfile::now(),
            image_id: image.id.clone(),
            chain_id: image.chain_id.clone(),
            spec,
            path,
            args,
            state: State::default(),
            build_step,
        };
        // The name is taken under the lock; the files are made after it is released.
        let mounts = record.spec.mounts.clone();
        let c = match self.reserve(name, record) {
            Ok(c) => c,
            Err(e) => {
                self.release_mounts(&id, &mounts, true);
                return Err(e);
            }
        };
        let made = self
            .images
            .snapshots()
            .prepare(&id, image.chain_id.as_ref())
            .map_err(|e| Error::internal("preparing the container's filesystem", e))
            .and_then(|_| {
                std::fs::create_dir_all(self.dir(&id))
                    .map_err(|e| Error::internal("creating the container directory", e))
            })
            .and_then(|()| self.populate_volumes(&c.record()))
            .and_then(|()| self.persist(&c, |_| {}));
        match made {
            Ok(rec) => {
                self.event("create", &rec, &[]);
                Ok((id, warnings))
            }
            Err(e) => {
                // Nothing of a failed create stays behind.
                self.all.lock().expect("containers lock").remove(&id);
                self.release_mounts(&id, &mounts, true);
                let _ = self.images.snapshots().remove(&id);
                let _ = std::fs::remove_dir_all(self.dir(&id));
                Err(e)
            }
        }
    }

    /// Names `record` (`name`, or a free random one) and registers it, so no other create can
    /// take the name.
    fn reserve(&self, name: Option<&str>, mut record: Record) -> Result<Arc<Container>> {
        let mut all = self.all.lock().expect("containers lock");
        record.name = match name {
            Some(n) => free_name(&all, n)?,
            None => (0..)
                .map(berth_core::id::random_name)
                .find(|n| taken(&all, n).is_none())
                .expect("names are endless"),
        };
        let c = Container::new(record);
        all.insert(c.id.clone(), c.clone());
        Ok(c)
    }

    fn forget(&self, id: &str) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        tx.open_table(CONTAINERS)
            .map_err(db)?
            .remove(id)
            .map_err(db)?;
        tx.commit().map_err(db)?;
        self.all.lock().expect("containers lock").remove(id);
        Ok(())
    }

    /// What the container changed, and that plus its image, in bytes. Walks the container's
    /// tree: call it off the async workers.
    pub fn sizes(&self, r: &Record) -> (i64, i64) {
        let rw = berth_snapshot::tree_size(&self.images.snapshots().upper(&r.id)) as i64;
        let image = self.images.get(&r.image_id).map_or(0, |i| i.size as i64);
        (rw, image + rw)
    }

    /// The ID of the bridge network named `name`, if there is one.
    pub fn network_id(&self, name: &str) -> Option<String> {
        self.network.network_id(name)
    }

    /// Paths of a container's files, for inspect.
    pub fn paths(&self, id: &str) -> files::Paths {
        files::Paths::new(&self.dir(id))
    }
}

/// The container of `all` named `n`.
fn taken(all: &HashMap<String, Arc<Container>>, n: &str) -> Option<String> {
    all.values()
        .find(|c| c.record.lock().expect("record lock").name == n)
        .map(|c| c.id.clone())
}

/// `n` (a leading `/` dropped) if it is a valid name no container of `all` has.
fn free_name(all: &HashMap<String, Arc<Container>>, n: &str) -> Result<String> {
    let n = n.strip_prefix('/').unwrap_or(n);
    if !berth_core::id::valid_name(n) {
        return Err(Error::invalid(format!(
            "Invalid container name ({n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )));
    }
    if let Some(other) = taken(all, n) {
        return Err(Error::conflict(format!(
            "Conflict. The container name \"/{n}\" is already in use by container \"{other}\". You have to remove (or rename) that container to be able to reuse that name."
        )));
    }
    Ok(n.to_string())
}
