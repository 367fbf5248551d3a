//! The volume service: named and anonymous volumes of the `local` driver, each a directory
//! `<root>/volumes/<name>/_data` (Docker's layout), recorded in the metadata store.
//!
//! Lifecycle: `create` records the volume, then makes its directory (a crash in between leaves
//! a record whose directory `create` makes again on its next use); `remove` deletes the record
//! first and the directory after it, so a crash never leaves a record without data that a
//! container could mount. A volume with driver options (`--opt`) is a mount of its device
//! while containers use it (`mount.rs`).
//!
//! Containers hold references to the volumes they mount ([`Volumes::acquire`], from create to
//! remove); a volume with references cannot be removed. The references live in memory and are
//! rebuilt from the container records when the daemon starts.

pub mod copy;
mod mount;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use berth_core::ErrorKind;

use crate::error::{Error, Result, db};
use crate::events::Events;

const VOLUMES: TableDefinition<&str, &[u8]> = TableDefinition::new("volumes");

/// The label Docker puts on volumes it makes for a container (`-v /path`, image `VOLUME`).
pub const ANONYMOUS: &str = "com.docker.volume.anonymous";

/// A volume as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    /// Its name (64 hex digits for an anonymous one).
    pub name: String,
    /// Always `local` today.
    pub driver: String,
    /// Labels given at create.
    pub labels: BTreeMap<String, String>,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// Where its data is.
    pub mountpoint: PathBuf,
    /// The driver's options (`type`, `device`, `o`).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

impl Volume {
    /// Made for a container rather than by name.
    pub fn anonymous(&self) -> bool {
        self.labels.contains_key(ANONYMOUS)
    }
}

/// The volume service.
pub struct Volumes {
    db: Arc<Database>,
    root: PathBuf,
    events: Arc<Events>,
    users: Mutex<Users>,
    /// Users of volumes with options, which are mounted while used.
    active: Mutex<HashMap<String, Arc<Mutex<mount::Active>>>>,
    /// Who owns a new volume's directory; `None`: the daemon.
    owner: Option<(u32, u32)>,
}

/// Which containers use which volumes, and the volumes being removed.
#[derive(Default)]
struct Users {
    by_volume: HashMap<String, BTreeSet<String>>,
    removing: HashSet<String>,
}

/// Docker's rule for local volume names.
fn check_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    if name.len() < 2 {
        return Err(Error::invalid(format!(
            "create {name}: volume name is too short, names should be at least two alphanumeric characters"
        )));
    }
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) {
        return Err(Error::invalid(format!(
            "create {name}: \"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        )));
    }
    Ok(())
}

impl Volumes {
    /// The service over `db`, with data under `root` (`<data-root>/volumes`).
    pub fn open(database: Arc<Database>, root: PathBuf, events: Arc<Events>) -> Result<Self> {
        let tx = database.begin_write().map_err(db)?;
        tx.open_table(VOLUMES).map_err(db)?;
        tx.commit().map_err(db)?;
        std::fs::create_dir_all(&root)
            .map_err(|e| Error::internal(&format!("creating {}", root.display()), e))?;
        Ok(Volumes {
            db: database,
            root,
            events,
            users: Mutex::default(),
            active: Mutex::default(),
            owner: None,
        })
    }

    /// The service whose new volumes belong to `owner` (the remapped root's host IDs).
    pub fn with_owner(mut self, owner: Option<(u32, u32)>) -> Self {
        self.owner = owner;
        self
    }

    fn publish(&self, action: &str, v: &Volume) {
        let attrs = BTreeMap::from([("driver".to_string(), v.driver.clone())]);
        self.events.publish("volume", action, &v.name, attrs);
    }

    /// Creates a volume (a random name when `name` is empty); an existing name is returned as
    /// it is, as Docker does. Blocks (a write to the store).
    pub fn create(
        &self,
        name: &str,
        driver: &str,
        options: &BTreeMap<String, String>,
        labels: BTreeMap<String, String>,
    ) -> Result<Volume> {
        if !matches!(driver, "" | "local") {
            return Err(Error::not_found(format!(
                "create {name}: error looking up volume plugin {driver}: plugin \"{driver}\" not found"
            )));
        }
        mount::check_options(options)?;
        let name = if name.is_empty() {
            berth_core::id::generate()
        } else {
            check_name(name)?;
            name.to_string()
        };
        if let Some(v) = self.find(&name)? {
            return Ok(v);
        }
        let dir = self.root.join(&name);
        let v = Volume {
            mountpoint: dir.join("_data"),
            name,
            driver: "local".into(),
            labels,
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            options: options.clone(),
        };
        self.put(&v)?;
        std::fs::create_dir_all(&v.mountpoint)
            .map_err(|e| Error::internal("creating the volume's directory", e))?;
        // Docker's: the remapped root owns a new volume (`--userns-remap`).
        if let Some((uid, gid)) = self.owner {
            for d in [&dir, &v.mountpoint] {
                std::os::unix::fs::chown(d, Some(uid), Some(gid))
                    .map_err(|e| Error::internal("giving the volume to the remapped root", e))?;
            }
        }
        self.publish("create", &v);
        Ok(v)
    }

    fn put(&self, v: &Volume) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        let bytes = serde_json::to_vec(v).expect("volume serializes");
        tx.open_table(VOLUMES)
            .map_err(db)?
            .insert(v.name.as_str(), bytes.as_slice())
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn find(&self, name: &str) -> Result<Option<Volume>> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(VOLUMES).map_err(db)?;
        Ok(t.get(name)
            .map_err(db)?
            .and_then(|v| serde_json::from_slice(v.value()).ok()))
    }

    /// Where the data of volume `name` is (or would be).
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name).join("_data")
    }

    /// The volume called `name`, or Docker's 404.
    pub fn get(&self, name: &str) -> Result<Volume> {
        self.find(name)?
            .ok_or_else(|| Error::not_found(format!("get {name}: no such volume")))
    }

    /// Every volume, by name.
    pub fn list(&self) -> Result<Vec<Volume>> {
        let tx = self.db.begin_read().map_err(db)?;
        let mut out = Vec::new();
        for row in tx.open_table(VOLUMES).map_err(db)?.iter().map_err(db)? {
            let (_, v) = row.map_err(db)?;
            if let Ok(v) = serde_json::from_slice(v.value()) {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// Volume `name` for container `container`, created if missing (with `options` and
    /// `labels`; an empty
    /// name makes an anonymous volume). The container holds a reference until
    /// [`Volumes::release`]. Blocks.
    pub fn acquire(
        &self,
        name: &str,
        driver: &str,
        options: &BTreeMap<String, String>,
        labels: BTreeMap<String, String>,
        container: &str,
    ) -> Result<Volume> {
        let (name, labels) = if name.is_empty() {
            let mut labels = labels;
            labels.insert(ANONYMOUS.into(), String::new());
            (berth_core::id::generate(), labels)
        } else {
            (name.to_string(), labels)
        };
        {
            let mut users = self.users.lock().expect("volume users lock");
            if users.removing.contains(&name) {
                return Err(Error::conflict(format!("volume {name} is being removed")));
            }
            users
                .by_volume
                .entry(name.clone())
                .or_default()
                .insert(container.into());
        }
        let made = self.create(&name, driver, options, labels);
        if made.is_err() {
            self.release(&name, container);
        }
        made
    }

    /// Notes that `container` uses volume `name` (a record read at start). Does not block.
    pub fn register(&self, name: &str, container: &str) {
        let mut users = self.users.lock().expect("volume users lock");
        users
            .by_volume
            .entry(name.into())
            .or_default()
            .insert(container.into());
    }

    /// Drops `container`'s reference to volume `name`.
    pub fn release(&self, name: &str, container: &str) {
        let mut users = self.users.lock().expect("volume users lock");
        if let Some(u) = users.by_volume.get_mut(name) {
            u.remove(container);
            if u.is_empty() {
                users.by_volume.remove(name);
            }
        }
    }

    /// The containers using volume `name`.
    pub fn users(&self, name: &str) -> Vec<String> {
        let users = self.users.lock().expect("volume users lock");
        users
            .by_volume
            .get(name)
            .map(|u| u.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Removes volume `name`: the record, then its data. Missing is Docker's 404 unless
    /// `force`; in use is Docker's 409 naming the containers. Blocks (a tree removal).
    pub fn remove(&self, name: &str, force: bool) -> Result<()> {
        {
            let mut users = self.users.lock().expect("volume users lock");
            if let Some(ids) = users.by_volume.get(name).filter(|u| !u.is_empty()) {
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                return Err(Error::conflict(format!(
                    "remove {name}: volume is in use - [{}]",
                    ids.join(", ")
                )));
            }
            users.removing.insert(name.to_string());
        }
        let removed = self.remove_unused(name, force);
        self.users
            .lock()
            .expect("volume users lock")
            .removing
            .remove(name);
        removed
    }

    fn remove_unused(&self, name: &str, force: bool) -> Result<()> {
        let v = match self.find(name)? {
            Some(v) => v,
            None if force => return Ok(()),
            None => return Err(Error::not_found(format!("get {name}: no such volume"))),
        };
        let tx = self.db.begin_write().map_err(db)?;
        tx.open_table(VOLUMES)
            .map_err(db)?
            .remove(name)
            .map_err(db)?;
        tx.commit().map_err(db)?;
        let _ = std::fs::remove_dir_all(self.root.join(&v.name));
        self.publish("destroy", &v);
        Ok(())
    }

    /// Removes the volumes `select` picks; returns their names and the bytes they held.
    pub fn prune(&self, select: impl Fn(&Volume) -> bool) -> Result<(Vec<String>, u64)> {
        let mut deleted = Vec::new();
        let mut reclaimed = 0;
        for v in self.list()?.into_iter().filter(|v| select(v)) {
            let size = berth_snapshot::tree_size(&v.mountpoint);
            match self.remove(&v.name, false) {
                // Taken by a container meanwhile, or already gone: not pruned.
                Err(e) if matches!(e.kind, ErrorKind::Conflict | ErrorKind::NotFound) => continue,
                r => r?,
            }
            reclaimed += size;
            deleted.push(v.name);
        }
        Ok((deleted, reclaimed))
    }
}
