use berth_content::ContentError;
use berth_core::{ErrorKind, HasKind};
use berth_snapshot::SnapshotError;

use crate::ReferenceError;

/// Errors of the image store.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// No image answers to this name or ID; the text is Docker's.
    #[error("No such image: {0}")]
    NotFound(String),
    /// A short ID that matches more than one image.
    #[error("multiple IDs found with provided prefix: {0}")]
    Ambiguous(String),
    /// A malformed reference.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// A stored config that does not parse.
    #[error("invalid image config {id}")]
    Config {
        /// The image.
        id: String,
        /// The cause.
        source: serde_json::Error,
    },
    /// The content store failed.
    #[error("content store")]
    Content(#[from] ContentError),
    /// The snapshot store failed.
    #[error("snapshot store")]
    Snapshot(#[from] SnapshotError),
    /// The metadata database failed.
    #[error("image metadata database")]
    Db(#[source] redb::Error),
}

impl HasKind for ImageError {
    fn kind(&self) -> ErrorKind {
        match self {
            ImageError::NotFound(_) => ErrorKind::NotFound,
            ImageError::Ambiguous(_) | ImageError::Reference(_) => ErrorKind::InvalidArgument,
            ImageError::Content(e) => e.kind(),
            ImageError::Snapshot(e) => e.kind(),
            ImageError::Config { .. } | ImageError::Db(_) => ErrorKind::Internal,
        }
    }
}

/// Turns any of redb's error types into an [`ImageError`].
pub(crate) fn db(e: impl Into<redb::Error>) -> ImageError {
    ImageError::Db(e.into())
}
