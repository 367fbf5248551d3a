//! Leases and garbage collection.
//!
//! Blobs and layers are written before the image record that references them (so a crash never
//! leaves a record without its content). In between they are referenced by nothing stored: a
//! [`Lease`] pins them in memory until the record exists or the work is abandoned. The
//! collector removes every blob and layer that no image record references and no lease pins.
//! It runs when the store opens (clearing what a crash left behind in the middle of an import or
//! a build) and after each image removal.
//!
//! Writers of new layers hold the collector's lock shared from before the layer exists until it
//! is pinned; the collector holds it exclusively from marking to the end of its sweep, so it
//! never sees a layer that is neither referenced nor pinned yet still wanted.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use berth_core::Digest;

/// What one collection removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcStats {
    /// Layers removed from the snapshotter.
    pub layers: Vec<Digest>,
    /// Blobs removed from the content store.
    pub blobs: Vec<Digest>,
}

/// The pins of in-flight work, and the lock that orders writers against the collector.
#[derive(Debug, Default)]
pub(crate) struct Leases {
    next: AtomicU64,
    pins: Mutex<BTreeMap<u64, BTreeSet<Digest>>>,
    pub(crate) lock: RwLock<()>,
}

impl Leases {
    /// Everything pinned now.
    pub(crate) fn pinned(&self) -> BTreeSet<Digest> {
        let pins = self.pins.lock().expect("leases lock");
        pins.values().flatten().cloned().collect()
    }
}

/// Pins blobs and layers (by digest: content digests and chain IDs) until dropped.
#[derive(Debug)]
pub struct Lease {
    leases: Arc<Leases>,
    id: u64,
}

impl Lease {
    pub(crate) fn new(leases: &Arc<Leases>) -> Lease {
        let id = leases.next.fetch_add(1, Ordering::Relaxed);
        leases
            .pins
            .lock()
            .expect("leases lock")
            .insert(id, BTreeSet::new());
        Lease {
            leases: leases.clone(),
            id,
        }
    }

    /// Adds `digests` to what this lease pins.
    pub fn pin(&self, digests: impl IntoIterator<Item = Digest>) {
        let mut pins = self.leases.pins.lock().expect("leases lock");
        pins.entry(self.id).or_default().extend(digests);
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Ok(mut pins) = self.leases.pins.lock() {
            pins.remove(&self.id);
        }
    }
}
