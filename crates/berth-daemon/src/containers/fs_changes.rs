//! `docker diff`: what a container changed in its filesystem, read from its upper directory
//! against its image's layers, with Docker's rules (moby's overlay `changes`): a whiteout is a
//! deletion; an opaque directory that exists below is a deletion (its contents then show as
//! they compare with the layers); anything else is added, or modified if a layer has it; a
//! directory that a layer has with the same size, mode and mtime is left out unless something
//! in it was added or deleted. Paths come in walk order (sorted, parents first).

use std::collections::HashSet;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
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

/// What the runtime makes in every container's upper directory for its mounts (Docker keeps
/// these in an "init" layer below the container's): left out of `diff` and `commit` while they
/// are still the empty stubs the runtime made.
const RUNTIME_STUBS: &[&str] = &[
    "dev",
    "proc",
    "sys",
    "etc/hosts",
    "etc/hostname",
    "etc/resolv.conf",
    "sbin/docker-init",
];

/// One entry of the upper directory, compared with the layers.
struct Item {
    path: String,
    dir: bool,
    deleted: bool,
    below: Option<Stat>,
    same: bool,
    /// A runtime stub, or a directory holding only those: not a change of the container's.
    hidden: bool,
}

impl Containers {
    /// The changes of container `c` to its image's filesystem. Walks its upper directory on the
    /// blocking pool.
    pub async fn changes(self: &Arc<Self>, c: &Arc<Container>) -> Result<Vec<Change>> {
        let (upper, layers, targets) = self.upper_and_layers(c)?;
        crate::blocking::run("reading a container's changes", move || {
            let items = scan(&upper, &layers, &targets)?;
            Ok(changes(&items))
        })
        .await
    }

    /// The paths of container `c`'s upper directory that are the runtime's, not the
    /// container's (for a commit to leave out). Blocks.
    pub fn runtime_stubs(&self, c: &Container) -> Result<HashSet<String>> {
        let (upper, layers, targets) = self.upper_and_layers(c)?;
        Ok(scan(&upper, &layers, &targets)?
            .into_iter()
            .filter(|i| i.hidden)
            .map(|i| i.path)
            .collect())
    }

    fn upper_and_layers(&self, c: &Container) -> Result<(PathBuf, Vec<PathBuf>, Vec<String>)> {
        let rec = c.record();
        let snapshots = self.images.snapshots();
        let lowers = snapshots
            .layers(None, rec.chain_id.as_ref())
            .map_err(|e| Error::internal("the image's layers", e))?;
        let targets = rec
            .spec
            .mounts
            .iter()
            .map(|m| m.target.trim_matches('/').to_string())
            .chain(RUNTIME_STUBS.iter().map(|s| s.to_string()))
            .collect();
        Ok((snapshots.upper(&rec.id), lowers, targets))
    }
}

/// The entries of `upper` with what the layers have at their paths. Blocks.
fn scan(upper: &Path, lowers: &[PathBuf], targets: &[String]) -> Result<Vec<Item>> {
    let layers = lowers
        .iter()
        .map(|d| walk::open_root(d))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::internal("opening the image's layers", e))?;
    let root = match walk::open_root(upper) {
        Ok(fd) => fd,
        Err(e) if e.is_not_found() => return Ok(Vec::new()), // nothing written yet
        Err(e) => return Err(Error::internal("opening the container's changes", e)),
    };
    let mut items = Vec::new();
    walk::walk(
        root,
        &mut |e: &Entry| -> std::result::Result<Visit, FsError> {
            let below = lower(&layers, e.path)?;
            let dir = is_dir(e.stat);
            let stub = (dir || below.is_none())
                && targets
                    .iter()
                    .any(|t| t == e.path || t.starts_with(&format!("{}/", e.path)));
            items.push(Item {
                path: e.path.to_string(),
                dir,
                deleted: e.is_whiteout() || (dir && opaque(e) && below.is_some()),
                same: below.is_some_and(|st| dir && is_dir(&st) && same_dir(e.stat, &st)),
                // Settled below, once the directory's children are known.
                hidden: stub
                    && (dir || (file_type(e.stat) == libc::S_IFREG && e.stat.st_size == 0)),
                below,
            });
            Ok(Visit::Descend)
        },
    )
    .map_err(|e| Error::internal("reading the container's changes", e))?;
    settle_hidden(&mut items);
    Ok(items)
}

/// A stub directory is hidden only if everything in it is; one the image has (a copied-up
/// `/etc`) counts as unchanged when only stubs are in it.
fn settle_hidden(items: &mut [Item]) {
    // Children follow their parent in walk order: go backwards, so children settle first.
    let mut visible_child: HashSet<String> = HashSet::new();
    let mut hidden_child: HashSet<String> = HashSet::new();
    for i in items.iter_mut().rev() {
        let has_visible = visible_child.contains(&i.path);
        if i.dir && i.hidden {
            if i.below.is_some() {
                i.hidden = false;
                i.same = i.same || (!has_visible && hidden_child.contains(&i.path));
                i.hidden = !has_visible && !i.deleted && i.same;
            } else {
                i.hidden = !has_visible && !i.deleted;
            }
        }
        let parent = i.path.rsplit_once('/').map_or("", |(p, _)| p).to_string();
        if i.hidden {
            hidden_child.insert(parent);
        } else {
            visible_child.insert(parent);
        }
    }
}

/// moby's overlay `changes` over the scanned entries.
fn changes(items: &[Item]) -> Vec<Change> {
    let mut out = Vec::new();
    let mut changed_dirs: HashSet<String> = HashSet::new();
    for i in items.iter().filter(|i| !i.hidden) {
        let path = format!("/{}", i.path);
        let kind = if i.deleted {
            ChangeKind::Deleted
        } else if i.below.is_some() {
            if i.same {
                continue;
            }
            ChangeKind::Modified
        } else {
            ChangeKind::Added
        };
        if i.dir {
            changed_dirs.insert(path.clone());
        }
        // The parent of an added or deleted path is changed, even when its attributes are not.
        if kind != ChangeKind::Modified {
            let parent = path.rsplit_once('/').map_or("", |(p, _)| p).to_string();
            if !parent.is_empty() && changed_dirs.insert(parent.clone()) {
                out.push(Change {
                    path: parent,
                    kind: ChangeKind::Modified,
                });
            }
        }
        out.push(Change { path, kind });
    }
    out
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
