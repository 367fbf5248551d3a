//! The one way into a container's or an image's files from outside the container.
//!
//! Everything berth reads or writes in a rootfs, a layer, a build context or an image view goes
//! through here, because those trees are written by whoever made the image. The rules:
//! - every path resolves inside its root: `..` stops at `/`, a symlink to `/etc/passwd` means the
//!   root's `/etc/passwd`, and nothing is ever opened by a host path below the root
//!   ([`RootDir`] uses `openat2(RESOLVE_IN_ROOT)` through `pathrs`; [`Layers`] walks the layers
//!   one component at a time with `O_NOFOLLOW`);
//! - where a file is expected only a regular file is accepted: its type is checked on a handle
//!   that cannot be read from, so a FIFO cannot block and a device is never opened;
//! - reads are bounded by the caller: a larger file is an error, not an allocation;
//! - a stack of overlay layers reads as the kernel merges it: a whiteout hides what is below it
//!   and an opaque directory ends the search.
//!
//! Errors name the path as the container sees it, never the host path behind it.

mod dir;
mod layers;
pub mod walk;

pub use dir::{Kind, RootDir};
pub use layers::Layers;

use std::fs::File;
use std::io::{self, Read};

use crate::{ErrorKind, HasKind};

/// Why a file inside a root could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// Nothing is at the path.
    #[error("{path}: no such file or directory")]
    NotFound {
        /// The path inside the root.
        path: String,
    },
    /// A file was expected and something else is there (a directory, FIFO, device, socket).
    #[error("{path} is not a regular file")]
    NotRegular {
        /// The path inside the root.
        path: String,
    },
    /// A component on the way is not a directory.
    #[error("{path} is not a directory")]
    NotDirectory {
        /// The path inside the root.
        path: String,
    },
    /// The file is larger than the caller allows.
    #[error("{path} is larger than {limit} bytes")]
    TooLarge {
        /// The path inside the root.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// Too many symlinks on the way (a loop).
    #[error("{path}: too many levels of symbolic links")]
    Loop {
        /// The path inside the root.
        path: String,
    },
    /// Any other failure of the operation `op`.
    #[error("{op} {path}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The path inside the root.
        path: String,
        /// The cause.
        source: io::Error,
    },
}

impl FsError {
    /// The error for `op` on `path` failing with `err`, classified by its errno.
    pub fn from_io(op: &'static str, path: &str, err: io::Error) -> Self {
        let path = path.to_string();
        match err.raw_os_error() {
            Some(libc::ENOENT) => FsError::NotFound { path },
            Some(libc::ENOTDIR) => FsError::NotDirectory { path },
            Some(libc::ELOOP) => FsError::Loop { path },
            _ => FsError::Io {
                op,
                path,
                source: err,
            },
        }
    }

    /// Whether the path does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, FsError::NotFound { .. })
    }
}

impl HasKind for FsError {
    fn kind(&self) -> ErrorKind {
        match self {
            FsError::NotFound { .. } => ErrorKind::NotFound,
            FsError::Io { .. } => ErrorKind::Internal,
            _ => ErrorKind::InvalidArgument,
        }
    }
}

impl From<FsError> for io::Error {
    fn from(e: FsError) -> Self {
        match e {
            FsError::Io { source, .. } => source,
            FsError::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e.to_string()),
            e => io::Error::other(e.to_string()),
        }
    }
}

/// A tree whose files can be read by path: a directory or a stack of layers.
pub trait ReadRoot {
    /// The regular file at `path` (symlinks followed inside the root), at most `limit` bytes.
    fn read_file(&self, path: &str, limit: u64) -> Result<Vec<u8>, FsError>;
}

/// Reads all of `file`, failing once it passes `limit` bytes.
fn read_bounded(mut file: File, path: &str, limit: u64) -> Result<Vec<u8>, FsError> {
    let mut buf = Vec::new();
    (&mut file)
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| FsError::from_io("reading", path, e))?;
    if buf.len() as u64 > limit {
        return Err(FsError::TooLarge {
            path: path.to_string(),
            limit,
        });
    }
    Ok(buf)
}

/// Whether `mode` (an `st_mode`) is a regular file.
fn is_regular(mode: u32) -> bool {
    mode & libc::S_IFMT == libc::S_IFREG
}

#[cfg(test)]
mod tests;
