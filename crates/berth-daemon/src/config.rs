//! Daemon settings.

use std::path::PathBuf;

/// Where the daemon keeps things.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// Persistent state (`/var/lib/berth`).
    pub root: PathBuf,
    /// Runtime state: monitor sockets, libcontainer state (`/run/berth`). Kept short: unix
    /// socket paths are limited to 108 bytes.
    pub exec_root: PathBuf,
    /// The berth binary, which monitors run as.
    pub exe: PathBuf,
}
