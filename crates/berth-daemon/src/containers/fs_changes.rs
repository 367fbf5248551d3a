//! `docker diff`: what a container changed in its filesystem, read from its upper directory
//! against its image's layers, with Docker's rules (moby's overlay `changes`): a whiteout is a
//! deletion; an opaque directory that exists below is a deletion (its contents then show as
//! they compare with the layers); anything else is added, or modified if a layer has it; a
//! directory that a layer has with the same size, mode and mtime is left out unless something
//! in it was added or deleted. Paths come in walk order (sorted, parents first).

use std::collections::HashSet;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use berth_core::rootfs::FsError;
use berth_core::rootfs::walk::{self, Entry, Stat, Visit, file_type, lstat_below};

use super::{Container, Containers};
use crate::error::{Error, Result};

/// How a path changed; the numbers are Docker's `Kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Changed (`C`).
    Modified = 0,
    /// Added (`A`).
    Added = 1,
    /// Deleted (`D`).
    Deleted = 2,
}

/// One changed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Absolute, as the container sees it.
    pub path: String,
    /// How it changed.
    pub kind: ChangeKind,
}

impl Containers {
    /// The changes of container `c` to its image's filesystem. Walks its upper directory on the
    /// blocking pool.
    pub async fn changes(self: &Arc<Self>, c: &Arc<Container>) -> Result<Vec<Change>> {
        let rec = c.record();
        let snapshots = self.images.snapshots();
        let upper = snapshots.upper(&rec.id);
        let lowers = snapshots
            .layers(None, rec.chain_id.as_ref())
            .map_err(|e| Error::internal("the image's layers", e))?;
        crate::blocking::run("reading a container's changes", move || {
            let layers = lowers
                .iter()
                .map(|d| walk::open_root(d))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| Error::internal("opening the image's layers", e))?;
            let root = match walk::open_root(&upper) {
                Ok(fd) => fd,
                Err(e) if e.is_not_found() => return Ok(Vec::new()), // nothing written yet
                Err(e) => return Err(Error::internal("opening the container's changes", e)),
            };
            changes(root, &layers)
                .map_err(|e| Error::internal("reading the container's changes", e))
        })
        .await
    }
}

/// The changes in the upper directory `upper` over `layers` (topmost first).
fn changes(upper: OwnedFd, layers: &[OwnedFd]) -> std::result::Result<Vec<Change>, FsError> {
    let mut out = Vec::new();
    let mut changed_dirs: HashSet<String> = HashSet::new();
    walk::walk(
        upper,
        &mut |e: &Entry| -> std::result::Result<Visit, FsError> {
            let path = format!("/{}", e.path);
            let below = lower(layers, e.path)?;
            let kind = if e.is_whiteout() || (is_dir(e.stat) && opaque(e) && below.is_some()) {
                ChangeKind::Deleted
            } else if let Some(st) = below {
                if is_dir(e.stat) && is_dir(&st) && same_dir(e.stat, &st) {
                    return Ok(Visit::Descend);
                }
                ChangeKind::Modified
            } else {
                ChangeKind::Added
            };
            if is_dir(e.stat) {
                changed_dirs.insert(path.clone());
            }
            // The parent of an added or deleted path is changed, even when its attributes are not.
            if kind != ChangeKind::Modified {
                let parent = match path.rsplit_once('/') {
                    Some(("", _)) | None => "/".to_string(),
                    Some((p, _)) => p.to_string(),
                };
                if parent != "/" && changed_dirs.insert(parent.clone()) {
                    out.push(Change {
                        path: parent,
                        kind: ChangeKind::Modified,
                    });
                }
            }
            out.push(Change { path, kind });
            Ok(Visit::Descend)
        },
    )?;
    Ok(out)
}

/// The first layer's `lstat` of `path`, if any layer has it.
fn lower(layers: &[OwnedFd], path: &str) -> std::result::Result<Option<Stat>, FsError> {
    for l in layers {
        if let Some(st) = lstat_below(l, path)? {
            return Ok(Some(st));
        }
    }
    Ok(None)
}

fn is_dir(st: &Stat) -> bool {
    file_type(st) == libc::S_IFDIR
}

fn opaque(e: &Entry) -> bool {
    e.xattr("trusted.overlay.opaque").as_deref() == Some(b"y")
}

/// Go's comparison of two directories' size, mode and mtime (`sameFsTime`: a time without
/// nanoseconds matches any nanoseconds of the same second).
fn same_dir(a: &Stat, b: &Stat) -> bool {
    let same_time = a.st_mtime == b.st_mtime
        && (a.st_mtime_nsec == b.st_mtime_nsec || a.st_mtime_nsec == 0 || b.st_mtime_nsec == 0);
    a.st_size == b.st_size && a.st_mode == b.st_mode && same_time
}
