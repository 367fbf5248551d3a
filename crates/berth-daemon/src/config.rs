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
    /// The berth binary monitors and exec helpers run as (a sealed copy: see
    /// `berth_runtime::sealed`).
    pub exe: PathBuf,
    /// The berth binary on disk, bind-mounted read-only as the init of `--init` containers.
    pub init_binary: PathBuf,
}
