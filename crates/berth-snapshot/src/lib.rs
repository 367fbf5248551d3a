//! Layer snapshots on overlayfs.
//!
//! An image's layers are unpacked once each, keyed by their chain ID, and shared by every image that
//! contains them (`layers/<chain-hex>/fs`). A container gets its own writable upper directory
//! (`active/<key>/`). The [`Snapshotter`] contract hands them out as the [`Mount`]s that assemble a
//! rootfs; [`Overlay`] implements it, and [`testsuite`] checks any implementation. Outside its
//! tests this crate never mounts anything itself: the runtime does, in the container's
//! mount namespace.
//!
//! [`apply`] turns a layer tarball into a directory, translating Docker/OCI whiteouts into overlay
//! whiteouts and refusing anything that would write outside the directory; [`diff`] writes a
//! directory (a container's upper layer) back as a layer tar. [`copy`] archives a path of a
//! tree of mounts (a container's rootfs with its volumes) and extracts into one, safe against
//! the tree changing under it: the engine of `docker cp`.
#![deny(missing_docs)]

mod apply;
pub mod copy;
mod data;
mod diff;
mod meta;
mod overlay;
mod size;
mod snapshotter;
#[cfg(any(test, feature = "testsuite"))]
pub mod testsuite;

pub use apply::{ApplyError, ApplyStats, apply, apply_known, apply_mapped, unpack_archive};
pub use diff::{diff, diff_excluding, diff_mapped, export, export_mapped};
pub use meta::LayerMeta;
pub use overlay::{Overlay, SnapshotError, chain_id};
pub use size::tree_size;
pub use snapshotter::{LayerInfo, Snapshotter, Staged};

pub use berth_core::Mount;
