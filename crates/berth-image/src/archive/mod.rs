//! Image archives that travel: `save` writes what Docker 25+ writes (an OCI image layout —
//! `oci-layout`, `index.json`, `blobs/sha256/` — with Docker's `manifest.json` and
//! `repositories` beside it, in one tar); `load` reads that, Docker 20.10's archives, Podman's
//! and skopeo's `docker-archive` and `oci-archive`, and tarred OCI layouts (umoci).
//!
//! Both stream: `save` reads blobs from the content store into the tar as it goes; `load` reads
//! the tar once (see the rules at the top of `load`).

mod expand;
mod formats;
mod load;
mod save;
mod spool;

use std::io;

use berth_core::{ErrorKind, HasKind};

use crate::ImageError;

pub use expand::{Compression, Tripped, expand};
pub use load::{LoadEvent, Loaded, load};
pub use save::{SaveItem, resolve, save};

/// Why an archive could not be saved or loaded. A refused load leaves the store as it was.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The archive breaks a rule (a path outside, a symlinked `manifest.json`, a digest that
    /// does not match, a missing file...): the message says which.
    #[error("invalid archive: {0}")]
    Invalid(String),
    /// The archive stream could not be read (truncated, not a tar, the client went away).
    #[error("invalid archive: reading {what}")]
    Read {
        /// What was being read.
        what: String,
        /// The cause.
        source: io::Error,
    },
    /// Writing the archive failed (the client went away, a blob could not be read).
    #[error("writing the archive: {what}")]
    Write {
        /// What was being written.
        what: String,
        /// The cause.
        source: io::Error,
    },
    /// The image store failed.
    #[error(transparent)]
    Image(#[from] ImageError),
}

impl HasKind for ArchiveError {
    fn kind(&self) -> ErrorKind {
        match self {
            ArchiveError::Invalid(_) | ArchiveError::Read { .. } => ErrorKind::InvalidArgument,
            ArchiveError::Write { .. } => ErrorKind::Internal,
            ArchiveError::Image(e) => e.kind(),
        }
    }
}

impl From<berth_content::ContentError> for ArchiveError {
    fn from(e: berth_content::ContentError) -> Self {
        ArchiveError::Image(ImageError::Content(e))
    }
}

fn invalid(message: impl Into<String>) -> ArchiveError {
    ArchiveError::Invalid(message.into())
}
