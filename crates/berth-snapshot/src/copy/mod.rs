//! Copying a path of a tree out as a tar stream, and a tar stream into a directory of it: the
//! engine of the archive API (`docker cp`), and of `berth cp` on the local side.
//!
//! A [`Tree`] is a root directory plus the mounts over it (a container's rootfs and its volumes
//! and binds), each an open directory handle. The tree may change while it is copied (a running
//! container can swap a directory for a symlink to `/` between two reads), so:
//! - paths resolve one component at a time relative to a directory handle; `..` and symlink
//!   targets are evaluated on the path as the container sees it (a symlink to `/` means the
//!   tree's root), and a mount target switches to the mount's handle;
//! - every open is `O_NOFOLLOW` on a single name under a held directory handle: a name swapped
//!   for a symlink fails (`ELOOP`, `ENOTDIR`) instead of leading anywhere;
//! - a file is opened as a path handle first and its type checked there, so a FIFO or a device
//!   swapped in is never opened;
//! - every write names its target by a parent directory handle and one name, with `*at` calls
//!   that do not follow a final symlink.
//!
//! Errors name paths as the tree sees them, never the host path behind them.

mod fsx;
mod pack;
mod resolve;
mod unpack;

pub use pack::pack;
pub use resolve::{Located, PathStat, Tree};
pub use unpack::{Owner, UnpackOptions, UnpackStats, unpack};

use std::io;

use berth_core::{ErrorKind, HasKind};

/// Why a copy failed.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Nothing is at the path.
    #[error("{path}: no such file or directory")]
    NotFound {
        /// The path in the tree.
        path: String,
    },
    /// A component on the way is not a directory, or the destination is not one.
    #[error("{path}: not a directory")]
    NotDirectory {
        /// The path in the tree.
        path: String,
    },
    /// Too many symlinks on the way (a loop).
    #[error("{path}: too many levels of symbolic links")]
    Loop {
        /// The path in the tree.
        path: String,
    },
    /// An entry's name climbs above the destination (`../x`).
    #[error("invalid tar entry {name:?}: it is outside of the destination")]
    Escape {
        /// The entry's name.
        name: String,
    },
    /// An entry would be written through a symlink already in the tree.
    #[error("invalid tar entry {name:?}: it goes through the symlink {link}")]
    ThroughSymlink {
        /// The entry's name.
        name: String,
        /// The symlink, as a path in the tree.
        link: String,
    },
    /// A hard link whose target is not a file already extracted below the destination.
    #[error("invalid tar entry {name:?}: hard link to {target:?} outside of the destination")]
    BadHardlink {
        /// The entry's name.
        name: String,
        /// Its target.
        target: String,
    },
    /// `noOverwriteDirNonDir`: an existing directory would become a non-directory (Docker's text).
    #[error("cannot overwrite directory {path:?} with non-directory {dest:?}")]
    DirWithNonDir {
        /// The existing path.
        path: String,
        /// The destination directory.
        dest: String,
    },
    /// `noOverwriteDirNonDir`: an existing non-directory would become a directory (Docker's text).
    #[error("cannot overwrite non-directory {path:?} with directory {dest:?}")]
    NonDirWithDir {
        /// The existing path.
        path: String,
        /// The destination directory.
        dest: String,
    },
    /// The write would go to a read-only mount (Docker's text).
    #[error("mounted volume is marked read-only")]
    ReadOnlyMount,
    /// The archive could not be read (not a tar, truncated, I/O error of the stream).
    #[error("invalid tar archive")]
    Read(#[source] io::Error),
    /// Any other failure of `op` on `path`.
    #[error("{op} {path}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The path in the tree.
        path: String,
        /// The cause.
        source: io::Error,
    },
}

impl CopyError {
    /// The error for `op` on `path` failing with `err`, classified by its errno.
    pub(crate) fn io(op: &'static str, path: &str, err: io::Error) -> Self {
        let path = path.to_string();
        match err.raw_os_error() {
            Some(libc::ENOENT) => CopyError::NotFound { path },
            Some(libc::ENOTDIR) => CopyError::NotDirectory { path },
            Some(libc::ELOOP) => CopyError::Loop { path },
            _ => CopyError::Io {
                op,
                path,
                source: err,
            },
        }
    }
}

impl HasKind for CopyError {
    fn kind(&self) -> ErrorKind {
        match self {
            CopyError::NotFound { .. } => ErrorKind::NotFound,
            CopyError::ReadOnlyMount => ErrorKind::Forbidden,
            CopyError::Io { .. } => ErrorKind::Internal,
            _ => ErrorKind::InvalidArgument,
        }
    }
}

/// `path` as an absolute, cleaned path (`..` applied lexically), keeping a trailing `/` or
/// `/.`, which say "a directory" (Docker's `PreserveTrailingDotOrSeparator`).
pub fn clean_abs(path: &str) -> String {
    let mut out = format!("/{}", berth_core::path::clean(path));
    let dot = path == "." || path.ends_with("/.") || path.ends_with("/./");
    if dot && out != "/" {
        out.push_str("/.");
    } else if dot || (path.ends_with('/') && out != "/") {
        out.push_str(if out == "/" { "." } else { "/" });
    }
    out
}

/// The name Docker gives what `path` names: its last element with a trailing `/` ignored,
/// `.` for a path ending in `/.`, and `/` for the root.
pub fn base_name(path: &str) -> String {
    if path == "." || path.ends_with("/.") {
        return ".".into();
    }
    match path.trim_end_matches('/').rsplit('/').next() {
        Some("") | None => "/".into(),
        Some(b) => b.into(),
    }
}

/// Whether `path` says it is a directory: it ends with `/` or `/.` (Docker follows a final
/// symlink then).
pub fn asserts_dir(path: &str) -> bool {
    path.ends_with('/') || base_name(path) == "."
}

#[cfg(test)]
mod tests;
