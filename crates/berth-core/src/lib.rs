//! The vocabulary every berth crate shares, kept tiny; its one piece of I/O is [`rootfs`], the
//! only way into files that an image or a container controls.
//!
//! - [`ErrorKind`]: the class of an error. Library errors implement [`HasKind`]; the daemon's HTTP
//!   layer maps a kind to a status code in exactly one place.
//! - [`Mount`]: a serialized mount syscall. Snapshotters produce mounts, the runtime consumes them;
//!   the two never meet except through this type.
//! - [`Digest`]: the sha256 address of a blob.
//! - [`id`]: object ids (64 hex digits) and container names, generated and validated.
//! - [`rootfs`]: reading and writing inside a rootfs, a layer stack or a build context.
//! - [`account`]: lookups in the text of a group file.
//! - [`idmap`]: user-namespace ID maps from `/etc/subuid` and `/etc/subgid`.
//! - `tls` (feature `tls`): what the API client's and the log drivers' TLS share.
#![deny(missing_docs)]

pub mod account;
pub mod digest;
pub mod id;
pub mod idmap;
pub mod path;
pub mod rootfs;
#[cfg(feature = "tls")]
pub mod tls;

pub use digest::Digest;

use serde::{Deserialize, Serialize};

/// The class of an error, independent of where it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The object named does not exist.
    NotFound,
    /// The request itself is wrong: a malformed value or a bad combination of options.
    InvalidArgument,
    /// The request clashes with the current state (a name in use, a running container).
    Conflict,
    /// Nothing had to be done (e.g. starting a running container).
    NotModified,
    /// The operation is valid but not implemented by berth (yet).
    NotImplemented,
    /// The operation is not allowed.
    Forbidden,
    /// Credentials are missing or wrong (a registry refused a login).
    Unauthorized,
    /// The operation needs a state the engine is not in (Docker's 503: a node that is not in a
    /// swarm).
    Unavailable,
    /// Something failed inside berth or the host.
    Internal,
}

/// Errors that know their [`ErrorKind`].
pub trait HasKind {
    /// The class of this error.
    fn kind(&self) -> ErrorKind;
}

/// A mount to perform, as `mount -t kind -o options source target` would.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// Filesystem type (`overlay`, `bind`, `tmpfs`, ...).
    pub kind: String,
    /// What is mounted: a device, a directory, or the filesystem's name.
    pub source: String,
    /// Where, relative to the container's root; empty for the root itself.
    pub target: String,
    /// Mount options as `mount -o` takes them.
    pub options: Vec<String>,
}
