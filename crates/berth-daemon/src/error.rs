//! The daemon's one error type: a kind, the message the API returns and the error it came from.
//! Services build these; `http::error` turns them into responses.

use std::sync::Arc;

use berth_core::{ErrorKind, HasKind};

/// The error an [`Error`] came from.
pub type Source = Arc<dyn std::error::Error + Send + Sync>;

/// An error with its class, the message the API returns, and its cause.
#[derive(Debug, Clone)]
pub struct Error {
    /// The class, which decides the HTTP status.
    pub kind: ErrorKind,
    /// The message, Docker's text where Docker has one (with the cause chain for internal
    /// errors, which the API shows as Docker does).
    pub message: String,
    /// The exit code of a failed build step (which the docker CLI exits with), or the one a
    /// container that could not start records.
    pub code: Option<i64>,
    /// The library error behind it, if any.
    pub source: Option<Source>,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// `context: err: cause: ...`, the whole chain in one line.
fn chain(context: Option<&str>, err: &dyn std::error::Error) -> String {
    let mut message = match context {
        Some(c) => format!("{c}: {err}"),
        None => err.to_string(),
    };
    let mut cur = err.source();
    while let Some(c) = cur {
        message.push_str(&format!(": {c}"));
        cur = c.source();
    }
    message
}

/// Result with the daemon's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            code: None,
            source: None,
        }
    }

    /// This error with a build step's exit `code`.
    pub fn with_code(mut self, code: i64) -> Self {
        self.code = Some(code);
        self
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// 500 with a message of its own (no underlying error).
    pub fn internal_msg(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// 400.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    /// 409.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    /// 500, with the whole cause chain in the message and `err` as the source.
    pub fn internal<E: std::error::Error + Send + Sync + 'static>(context: &str, err: E) -> Self {
        let mut e = Self::new(ErrorKind::Internal, chain(Some(context), &err));
        e.source = Some(Arc::new(err));
        e
    }

    /// From any classified library error, keeping its kind, full cause chain and itself as
    /// the source.
    pub fn from_kinded<E: HasKind + std::error::Error + Send + Sync + 'static>(err: E) -> Self {
        let mut e = Self::new(err.kind(), chain(None, &err));
        e.source = Some(Arc::new(err));
        e
    }
}

impl From<berth_image::ImageError> for Error {
    fn from(e: berth_image::ImageError) -> Self {
        Self::from_kinded(e)
    }
}

impl From<berth_image::archive::ArchiveError> for Error {
    fn from(e: berth_image::archive::ArchiveError) -> Self {
        Self::from_kinded(e)
    }
}

impl From<berth_image::ReferenceError> for Error {
    fn from(e: berth_image::ReferenceError) -> Self {
        Self::invalid(e.to_string())
    }
}

impl From<redb::Error> for Error {
    fn from(e: redb::Error) -> Self {
        Self::internal("metadata database", e)
    }
}

/// Maps any redb error type into [`Error`].
pub fn db(e: impl Into<redb::Error>) -> Error {
    Error::from(e.into())
}
