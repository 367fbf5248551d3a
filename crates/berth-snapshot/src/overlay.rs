//! The overlay snapshotter: committed layers by chain ID, one writable upper per container.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use berth_core::idmap::IdMap;
use berth_core::{Digest, ErrorKind, HasKind, Mount};
use sha2::{Digest as _, Sha256};

use crate::apply::{ApplyError, ApplyStats};
use crate::meta::{LayerMeta, Layers};
use crate::snapshotter::{LayerInfo, Snapshotter, Staged};

/// Errors of the snapshotter.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Unpacking a layer failed.
    #[error("failed to unpack layer")]
    Apply(#[from] ApplyError),
    /// A layer the caller named is not unpacked.
    #[error("layer {0} is not unpacked")]
    MissingLayer(Digest),
    /// A filesystem operation failed.
    #[error("snapshot store: failed to {op} {path}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// On what.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The layer records in the metadata database failed.
    #[error("snapshot store: layer metadata")]
    Db(#[source] redb::Error),
}

impl HasKind for SnapshotError {
    fn kind(&self) -> ErrorKind {
        match self {
            SnapshotError::Apply(e) => e.kind(),
            _ => ErrorKind::Internal,
        }
    }
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> SnapshotError {
    let path = path.to_path_buf();
    move |source| SnapshotError::Io { op, path, source }
}

/// The chain ID of a layer stack: the diff ID of the first layer, then
/// `sha256(parent_chain + " " + diff_id)` for each layer above it (OCI image spec).
pub fn chain_id(parent: Option<&Digest>, diff_id: &Digest) -> Digest {
    match parent {
        None => diff_id.clone(),
        Some(p) => Digest::from_sha256(&Sha256::digest(format!("{p} {diff_id}"))),
    }
}

/// Overlay snapshots under a root directory:
/// `layers/<chain-hex>/fs`, `active/<key>/{upper,work}`, `tmp/`, `empty/`, and `l/<short>`
/// links to layers' `fs` that keep overlay's mount data short (one page at most). Each layer's
/// parent and size are recorded in the metadata database (`meta`).
#[derive(Debug, Clone)]
pub struct Overlay {
    root: PathBuf,
    layers: Layers,
    /// The user namespace whose host IDs layers and upper directories hold (`--userns-remap`).
    ids: Option<IdMap>,
}

impl Overlay {
    /// Opens (creating if needed) the snapshot store; unfinished unpacks are dropped.
    /// Layer records live in `db`, and are reconciled with the directories here.
    pub fn open(root: impl Into<PathBuf>, db: Arc<redb::Database>) -> Result<Self, SnapshotError> {
        let root = root.into();
        let _ = fs::remove_dir_all(root.join("tmp"));
        for d in ["layers", "active", "tmp", "empty", "l"] {
            let p = root.join(d);
            fs::create_dir_all(&p).map_err(io_err("create", &p))?;
        }
        let layers = Layers::open(db)?;
        layers.reconcile(&root.join("layers"))?;
        Ok(Overlay {
            root,
            layers,
            ids: None,
        })
    }

    /// The store for a user namespace `ids`: layers are unpacked shifted into it, commits are
    /// shifted back, and roots of layers and writable layers belong to its root.
    pub fn with_ids(mut self, ids: Option<IdMap>) -> Self {
        self.ids = ids;
        self
    }

    /// Gives `dir` to the user namespace's root, if there is one.
    fn own(&self, dir: &Path) -> Result<(), SnapshotError> {
        let Some(ids) = &self.ids else {
            return Ok(());
        };
        let (uid, gid) = ids.root_pair();
        std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(io_err("chown", dir))
    }

    fn layer_dir(&self, chain: &Digest) -> PathBuf {
        self.root.join("layers").join(chain.hex())
    }

    /// Whether the layer stack `chain` is unpacked.
    pub fn has_layer(&self, chain: &Digest) -> bool {
        self.meta(chain).is_ok()
    }

    /// The record of a layer that is there (record and directory).
    fn meta(&self, chain: &Digest) -> Result<LayerMeta, SnapshotError> {
        match self.layers.get(chain)? {
            Some(m) if self.layer_dir(chain).join("fs").is_dir() => Ok(m),
            _ => Err(SnapshotError::MissingLayer(chain.clone())),
        }
    }

    /// The chain IDs of a stack, topmost first.
    fn stack(&self, chain: Option<&Digest>) -> Result<Vec<Digest>, SnapshotError> {
        let mut out = Vec::new();
        let mut cur = chain.cloned();
        while let Some(c) = cur {
            cur = self.parent(&c)?;
            out.push(c);
        }
        Ok(out)
    }

    fn short_link(&self, chain: &Digest) -> PathBuf {
        self.root.join("l").join(&chain.hex()[..16])
    }

    fn link_target(chain: &Digest) -> PathBuf {
        Path::new("../layers").join(chain.hex()).join("fs")
    }

    /// A short path to a layer's `fs` for `lowerdir` (the full path if the link can't be made).
    fn lowerdir(&self, chain: &Digest) -> PathBuf {
        let (link, target) = (self.short_link(chain), Self::link_target(chain));
        match fs::read_link(&link) {
            Ok(t) if t == target => return link,
            Ok(_) => return self.layer_dir(chain).join("fs"), // 64-bit prefix collision
            Err(_) => {}
        }
        match std::os::unix::fs::symlink(&target, &link) {
            Ok(()) => link,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => self.lowerdir(chain),
            Err(_) => self.layer_dir(chain).join("fs"),
        }
    }
}

impl Snapshotter for Overlay {
    /// Unpacks a layer tar on top of `parent`, returning what was applied and the new chain ID.
    /// Unpacking a layer that is already there costs the read of the tar and nothing else is kept.
    fn unpack(
        &self,
        parent: Option<&Digest>,
        tar: &mut dyn Read,
    ) -> Result<(ApplyStats, Digest), SnapshotError> {
        if let Some(p) = parent
            && !self.has_layer(p)
        {
            return Err(SnapshotError::MissingLayer(p.clone()));
        }
        let staged = self.stage(tar, None)?;
        self.commit_staged(staged, parent)
    }

    fn stage(&self, tar: &mut dyn Read, known: Option<&Digest>) -> Result<Staged, SnapshotError> {
        let tmp = self.root.join("tmp").join(berth_core::id::generate());
        let fs_dir = tmp.join("fs");
        let staged = |stats| Staged {
            dir: tmp.clone(),
            stats,
        };
        fs::create_dir_all(&fs_dir).map_err(io_err("create", &fs_dir))?;
        let result = self.own(&fs_dir).and_then(|()| {
            match known {
                Some(d) => crate::apply_known(&fs_dir, tar, self.ids.as_ref(), d),
                None => crate::apply_mapped(&fs_dir, tar, self.ids.as_ref()),
            }
            .map_err(SnapshotError::from)
        });
        match result {
            Ok(stats) => Ok(staged(stats)),
            Err(e) => {
                let _ = fs::remove_dir_all(&tmp);
                Err(e)
            }
        }
    }

    fn commit_staged(
        &self,
        staged: Staged,
        parent: Option<&Digest>,
    ) -> Result<(ApplyStats, Digest), SnapshotError> {
        if let Some(p) = parent
            && !self.has_layer(p)
        {
            return Err(SnapshotError::MissingLayer(p.clone()));
        }
        let stats = staged.stats.clone();
        let chain = chain_id(parent, &stats.diff_id);
        if !self.has_layer(&chain) {
            let dest = self.layer_dir(&chain);
            // A directory without a record here is another unpack of the same layer between
            // its rename and its record (crash leftovers went at open): the content is the
            // same, and recording it twice is harmless.
            if let Err(e) = fs::rename(&staged.dir, &dest)
                && !dest.join("fs").is_dir()
            {
                return Err(io_err("commit", &dest)(e));
            }
            let meta = LayerMeta {
                parent: parent.cloned(),
                size: stats.content_size,
            };
            self.layers.put(&chain, &meta)?;
        }
        Ok((stats, chain))
    }

    /// The parent of a layer stack, if any.
    fn parent(&self, chain: &Digest) -> Result<Option<Digest>, SnapshotError> {
        Ok(self.meta(chain)?.parent)
    }
    /// Size of the layer: the bytes of its files, as Docker reports it.
    fn usage(&self, chain: &Digest) -> u64 {
        self.layers.get(chain).ok().flatten().map_or(0, |m| m.size)
    }
    /// The upper directory (if `key` is given) and the lower directories, topmost first.
    fn layers(
        &self,
        key: Option<&str>,
        chain: Option<&Digest>,
    ) -> Result<Vec<PathBuf>, SnapshotError> {
        let lowers = self.stack(chain)?;
        Ok(key
            .map(|k| self.upper(k))
            .into_iter()
            .chain(lowers.iter().map(|c| self.layer_dir(c).join("fs")))
            .collect())
    }

    /// The upper directory, as a layer tar (made aside in `tmp/`), unpacked on `parent`.
    fn commit(
        &self,
        key: &str,
        parent: Option<&Digest>,
    ) -> Result<(ApplyStats, Digest), SnapshotError> {
        let tar = self
            .root
            .join("tmp")
            .join(format!("{}.tar", berth_core::id::generate()));
        let upper = self.upper(key);
        let result = fs::File::create(&tar)
            .and_then(|f| {
                let out = io::BufWriter::new(f);
                crate::diff_mapped(&upper, out, &Default::default(), self.ids.as_ref())
            })
            .map_err(io_err("diff", &upper))
            .and_then(|()| {
                let mut f = io::BufReader::new(fs::File::open(&tar).map_err(io_err("read", &tar))?);
                self.unpack(parent, &mut f)
            });
        let _ = fs::remove_file(&tar);
        result
    }

    /// Every layer that is there (record and directory).
    fn walk(&self) -> Result<Vec<LayerInfo>, SnapshotError> {
        let mut out: Vec<LayerInfo> = self
            .layers
            .all()?
            .into_iter()
            .filter(|(chain, _)| self.layer_dir(chain).join("fs").is_dir())
            .map(|(chain, m)| LayerInfo {
                chain,
                parent: m.parent,
                size: m.size,
            })
            .collect();
        out.sort_by(|a, b| a.chain.as_str().cmp(b.chain.as_str()));
        Ok(out)
    }
    /// Creates the writable layer `key` on top of `chain` and returns the mounts of its rootfs.
    fn prepare(&self, key: &str, chain: Option<&Digest>) -> Result<Vec<Mount>, SnapshotError> {
        let dir = self.root.join("active").join(key);
        for d in ["upper", "work"] {
            let p = dir.join(d);
            fs::create_dir_all(&p).map_err(io_err("create", &p))?;
        }
        self.own(&dir.join("upper"))?;
        self.mounts(key, chain)
    }
    /// The mounts of an already prepared writable layer.
    fn mounts(&self, key: &str, chain: Option<&Digest>) -> Result<Vec<Mount>, SnapshotError> {
        let dir = self.root.join("active").join(key);
        let mut lowers: Vec<PathBuf> = self
            .stack(chain)?
            .iter()
            .map(|c| self.lowerdir(c))
            .collect();
        if lowers.is_empty() {
            lowers.push(self.root.join("empty"));
        }
        let lower = lowers
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        Ok(vec![Mount {
            kind: "overlay".into(),
            source: "overlay".into(),
            target: String::new(),
            options: vec![
                "index=off".into(),
                format!("lowerdir={lower}"),
                format!("upperdir={}", dir.join("upper").display()),
                format!("workdir={}", dir.join("work").display()),
            ],
        }])
    }
    /// A read-only view of the stack `chain`: one overlay mount with no upper directory, or a
    /// read-only bind of an empty directory for no layers.
    fn view(&self, chain: Option<&Digest>) -> Result<Vec<Mount>, SnapshotError> {
        let stack = self.stack(chain)?;
        if stack.is_empty() {
            // Overlay refuses a single lower directory with no upper one.
            return Ok(vec![Mount {
                kind: "bind".into(),
                source: self.root.join("empty").display().to_string(),
                target: String::new(),
                options: vec!["rbind".into(), "ro".into()],
            }]);
        }
        // Overlay wants two lower directories when there is no upper one.
        let lowers: Vec<String> = stack
            .iter()
            .map(|c| self.lowerdir(c).display().to_string())
            .chain(std::iter::once(
                self.root.join("empty").display().to_string(),
            ))
            .collect();
        Ok(vec![Mount {
            kind: "overlay".into(),
            source: "overlay".into(),
            target: String::new(),
            options: vec!["ro".into(), format!("lowerdir={}", lowers.join(":"))],
        }])
    }
    /// The upper directory of a writable layer: what a container changed.
    fn upper(&self, key: &str) -> PathBuf {
        self.root.join("active").join(key).join("upper")
    }
    fn ids(&self) -> Option<&IdMap> {
        self.ids.as_ref()
    }
    fn active(&self) -> Result<Vec<String>, SnapshotError> {
        let dir = self.root.join("active");
        let entries = fs::read_dir(&dir).map_err(|e| SnapshotError::Io {
            op: "list",
            path: dir.clone(),
            source: e,
        })?;
        Ok(entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect())
    }
    /// Removes a writable layer; removing a missing one is not an error.
    fn remove(&self, key: &str) -> Result<(), SnapshotError> {
        let dir = self.root.join("active").join(key);
        match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(SnapshotError::Io {
                op: "remove",
                path: dir,
                source: e,
            }),
            _ => Ok(()),
        }
    }
    /// Removes a committed layer. The caller makes sure nothing uses it.
    fn remove_layer(&self, chain: &Digest) -> Result<(), SnapshotError> {
        // The record goes first: a crash after it leaves a directory that the next open removes.
        self.layers.delete(chain)?;
        let dir = self.layer_dir(chain);
        let link = self.short_link(chain);
        if fs::read_link(&link).is_ok_and(|t| t == Self::link_target(chain)) {
            let _ = fs::remove_file(&link);
        }
        // Rename first so a crash never leaves a half-deleted layer that looks complete.
        let tmp = self.root.join("tmp").join(berth_core::id::generate());
        match fs::rename(&dir, &tmp) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            r => r.map_err(io_err("remove", &dir))?,
        }
        fs::remove_dir_all(&tmp).map_err(io_err("remove", &tmp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(name: &str) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, name, &[][..]).unwrap();
        b.into_inner().unwrap()
    }

    fn open(root: &Path) -> Result<Overlay, SnapshotError> {
        let db = redb::Database::create(root.join("meta.redb"))
            .map_err(|e| SnapshotError::Db(e.into()))?;
        Overlay::open(root.join("snapshots"), Arc::new(db))
    }

    #[test]
    fn overlay_passes_the_snapshotter_suite() {
        crate::testsuite::run(&|root| Ok(Box::new(open(root)?)));
    }

    #[test]
    fn records_and_directories_are_reconciled_when_the_store_opens() {
        let dir = tempfile::tempdir().unwrap();
        let (old, leftover) = {
            let o = open(dir.path()).unwrap();
            let (_, base) = o.unpack(None, &mut &layer("a")[..]).unwrap();
            let (_, old) = o.unpack(Some(&base), &mut &layer("b")[..]).unwrap();
            // As berth wrote layers before the records: side files, no record.
            o.layers.delete(&old).unwrap();
            let old_dir = o.layer_dir(&old);
            fs::write(old_dir.join("parent"), base.as_str()).unwrap();
            fs::write(old_dir.join("size"), "7").unwrap();
            // A crash between rename and record: a directory only.
            let leftover = chain_id(None, &format!("sha256:{}", "c".repeat(64)).parse().unwrap());
            fs::create_dir_all(o.layer_dir(&leftover).join("fs")).unwrap();
            assert!(!o.has_layer(&old) && !o.has_layer(&leftover));
            (old, leftover)
        };
        let o = open(dir.path()).unwrap();
        assert!(o.has_layer(&old));
        assert_eq!(o.usage(&old), 7);
        assert!(o.parent(&old).unwrap().is_some());
        assert!(
            !o.layer_dir(&old).join("size").exists(),
            "side files are gone"
        );
        assert!(!o.layer_dir(&leftover).exists(), "the leftover is removed");
        assert_eq!(o.walk().unwrap().len(), 2);
    }

    #[test]
    fn the_same_layer_unpacked_at_once_twice_is_one_layer() {
        let dir = tempfile::tempdir().unwrap();
        let o = open(dir.path()).unwrap();
        let tar = layer("same");
        let chains: Vec<Digest> = std::thread::scope(|s| {
            let runs: Vec<_> = (0..4)
                .map(|_| s.spawn(|| o.unpack(None, &mut &tar[..]).unwrap().1))
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).collect()
        });
        assert!(chains.windows(2).all(|w| w[0] == w[1]));
        assert!(o.has_layer(&chains[0]));
        assert_eq!(o.walk().unwrap().len(), 1);
    }

    #[test]
    fn mounts_name_layers_by_short_links() {
        let dir = tempfile::tempdir().unwrap();
        let o = open(dir.path()).unwrap();
        let (_, base) = o.unpack(None, &mut &layer("a")[..]).unwrap();
        let (_, top) = o.unpack(Some(&base), &mut &layer("b")[..]).unwrap();
        let mounts = o.prepare("c1", Some(&top)).unwrap();
        let lower = mounts[0]
            .options
            .iter()
            .find_map(|o| o.strip_prefix("lowerdir="))
            .unwrap()
            .to_string();
        let dirs: Vec<&str> = lower.split(':').collect();
        assert_eq!(dirs.len(), 2);
        assert!(
            dirs[0].ends_with(&format!("/l/{}", &top.hex()[..16])),
            "{lower}"
        );
        // The links lead to the layers' contents, topmost first.
        assert!(Path::new(dirs[0]).join("b").exists());
        assert!(Path::new(dirs[1]).join("a").exists());
        o.remove("c1").unwrap();
        o.remove_layer(&top).unwrap();
        assert!(
            fs::symlink_metadata(dirs[0]).is_err(),
            "link removed with its layer"
        );
        assert!(Path::new(dirs[1]).exists());
    }
}
