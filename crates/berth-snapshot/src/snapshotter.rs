//! The snapshotter contract, as containerd's: committed layers named by chain ID, writable
//! snapshots named by a key, and both handed out as the [`Mount`]s that make their root. The
//! daemon holds one behind `dyn Snapshotter`; overlay is today's implementation, and
//! [`crate::testsuite`] checks any implementation against this contract.
//!
//! Lifecycle: `unpack` (or `commit` of a writable snapshot) makes a committed layer on a parent;
//! `prepare` makes a writable snapshot on a layer and `mounts` gives its mounts again; `view`
//! gives a read-only root; `remove` and `remove_layer` end them (the caller knows nothing uses
//! them). Committed layers never change.

use std::io::Read;
use std::path::PathBuf;

use berth_core::{Digest, Mount};

use crate::{ApplyStats, SnapshotError};

/// A committed layer as `walk` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    /// Its chain ID.
    pub chain: Digest,
    /// The layer below it.
    pub parent: Option<Digest>,
    /// Bytes of its files, as Docker counts a layer's size.
    pub size: u64,
}

/// A layer extracted by [`Snapshotter::stage`] and not committed yet; dropped, it is removed.
#[derive(Debug)]
pub struct Staged {
    /// The staging directory (the snapshotter's own layout).
    pub(crate) dir: PathBuf,
    /// What was extracted.
    pub stats: ApplyStats,
}

impl Drop for Staged {
    fn drop(&mut self) {
        // After a commit the directory was renamed away and this finds nothing.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where container and image filesystems come from.
pub trait Snapshotter: Send + Sync + std::fmt::Debug {
    /// Applies the layer tar `tar` on top of `parent` and commits it under its chain ID, which
    /// is returned with what was applied. A layer already there costs only the read.
    fn unpack(
        &self,
        parent: Option<&Digest>,
        tar: &mut dyn Read,
    ) -> Result<(ApplyStats, Digest), SnapshotError>;

    /// Extracts a layer tar into a staging area of this store without committing it (hashing
    /// it unless its diff ID is `known`): the first half of `unpack`, which needs no parent, so
    /// several layers of one stack can be extracted at once. Dropping the [`Staged`] discards it.
    fn stage(&self, tar: &mut dyn Read, known: Option<&Digest>) -> Result<Staged, SnapshotError>;

    /// The second half of `unpack`: commits `staged` as a layer on `parent`, which must be
    /// there by now.
    fn commit_staged(
        &self,
        staged: Staged,
        parent: Option<&Digest>,
    ) -> Result<(ApplyStats, Digest), SnapshotError>;

    /// The keys of the writable snapshots there are.
    fn active(&self) -> Result<Vec<String>, SnapshotError>;

    /// Commits what writable snapshot `key` (made on `parent`) changed as a layer on `parent`.
    fn commit(
        &self,
        key: &str,
        parent: Option<&Digest>,
    ) -> Result<(ApplyStats, Digest), SnapshotError>;

    /// Makes writable snapshot `key` on top of `parent`; returns the mounts of its root.
    fn prepare(&self, key: &str, parent: Option<&Digest>) -> Result<Vec<Mount>, SnapshotError>;

    /// The mounts of writable snapshot `key`, already prepared on `parent`.
    fn mounts(&self, key: &str, parent: Option<&Digest>) -> Result<Vec<Mount>, SnapshotError>;

    /// The mounts of a read-only root made of `parent` (empty for none).
    fn view(&self, parent: Option<&Digest>) -> Result<Vec<Mount>, SnapshotError>;

    /// Removes writable snapshot `key`; a missing one is not an error.
    fn remove(&self, key: &str) -> Result<(), SnapshotError>;

    /// Removes committed layer `chain`; a missing one is not an error.
    fn remove_layer(&self, chain: &Digest) -> Result<(), SnapshotError>;

    /// The layer below `chain`.
    fn parent(&self, chain: &Digest) -> Result<Option<Digest>, SnapshotError>;

    /// Bytes of the files committed layer `chain` adds (0 when it is missing).
    fn usage(&self, chain: &Digest) -> u64;

    /// Every committed layer.
    fn walk(&self) -> Result<Vec<LayerInfo>, SnapshotError>;

    /// The directory holding what writable snapshot `key` changed, in overlay's format
    /// (whiteouts as 0/0 devices): what a container wrote.
    fn upper(&self, key: &str) -> PathBuf;

    /// The user namespace whose host IDs the layers and upper directories hold; `None`: they
    /// hold the containers' own IDs.
    fn ids(&self) -> Option<&berth_core::idmap::IdMap> {
        None
    }

    /// The directories of `key`'s changes (if given) and of `parent`'s layers, topmost first:
    /// the stack that `berth_core::rootfs::Layers` reads without mounting.
    fn layers(
        &self,
        key: Option<&str>,
        parent: Option<&Digest>,
    ) -> Result<Vec<PathBuf>, SnapshotError>;
}
