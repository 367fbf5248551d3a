//! Errors of the orchestration.

use berth_client::ClientError;

use crate::load::LoadError;

/// What can go wrong driving a project.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The engine said no, or could not be reached.
    #[error(transparent)]
    Api(#[from] ClientError),
    /// The project's files.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The project asks for something that cannot be done (a key berth cannot honour, a
    /// service that does not exist, a dependency that failed).
    #[error("{0}")]
    Project(String),
}

/// A [`Error::Project`] from a message.
pub fn project(message: impl Into<String>) -> Error {
    Error::Project(message.into())
}
