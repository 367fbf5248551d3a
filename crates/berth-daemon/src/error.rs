//! The daemon's error type: a kind and Docker's message. Services build these; `http::error` turns
//! them into responses.

use berth_core::{ErrorKind, HasKind};

/// An error with its class and the message the API returns.
#[derive(Debug, Clone)]
pub struct Error {
    /// The class, which decides the HTTP status.
    pub kind: ErrorKind,
    /// The message, Docker's text where Docker has one.
    pub message: String,
    /// The exit code of a failed build step (which the docker CLI exits with), or the one a
    /// container that could not start records.
    pub code: Option<i64>,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Result with the daemon's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            code: None,
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

    /// 500, with the whole cause chain in the message.
    pub fn internal(context: &str, err: &dyn std::error::Error) -> Self {
        let mut message = format!("{context}: {err}");
        let mut cur = err.source();
        while let Some(c) = cur {
            message.push_str(&format!(": {c}"));
            cur = c.source();
        }
        Self::new(ErrorKind::Internal, message)
    }

    /// From any classified library error, keeping its kind and full cause chain.
    pub fn from_kinded<E: HasKind + std::error::Error>(err: E) -> Self {
        let kind = err.kind();
        let mut message = err.to_string();
        let mut cur = err.source();
        while let Some(c) = cur {
            message.push_str(&format!(": {c}"));
            cur = c.source();
        }
        Self::new(kind, message)
    }
}

impl From<berth_image::ImageError> for Error {
    fn from(e: berth_image::ImageError) -> Self {
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
        Self::internal("metadata database", &e)
    }
}

/// Maps any redb error type into [`Error`].
pub fn db(e: impl Into<redb::Error>) -> Error {
    Error::from(e.into())
}
