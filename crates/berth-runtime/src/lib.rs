//! Running containers: from a [`RunSpec`] to an OCI bundle, and the per-container monitor that
//! creates the container, holds its stdio, writes its log and records how it ended.
//!
//! Process model: the daemon never calls the OCI runtime itself (the embedded one, libcontainer,
//! forks and changes process-wide state, which a multi-threaded daemon must not risk). It writes
//! the bundle and a [`MonitorConfig`], and spawns `berth monitor`, which detaches into its own
//! session, becomes a child subreaper, mounts the rootfs, creates and starts the container through
//! the container's [`runtime::Runtime`] (libcontainer, or an external runc) and then only shuffles
//! bytes: container output into the json-file log, client input into the container's stdin, and
//! control requests (signals, tty resize) arriving on its socket. When the container's init exits,
//! the monitor records the exit in `exit.json`, tears the container down and exits; the daemon
//! sees its socket close. Monitors outlive daemon restarts: a new daemon just reconnects to the
//! sockets.
//!
//! Exec'd processes are started the same way, by a short-lived `berth exec-helper` (see
//! [`exec`]).
//!
//! This crate knows [`Mount`](berth_core::Mount)s and OCI specs, never Docker's JSON or HTTP.
#![deny(missing_docs)]

pub mod capabilities;
pub mod cgroup;
pub mod cgroup_update;
pub mod devices;
pub mod exec;
pub mod handle;
pub mod health;
pub mod logdriver;
pub mod logfile;
pub mod logproto;
pub mod logread;
pub mod logrotate;
pub mod logtail;
pub mod memory;
pub mod monitor;
pub mod mount;
pub mod namespaces;
pub mod rlimit;
pub mod runtime;
pub mod sealed;
pub mod seccomp;
pub mod spec;
pub mod stats;
pub mod tuning;
pub mod userns;
pub mod userns_netns;
mod userns_spec;

pub use handle::{ExitStatus, MonitorHandle, StartError};
pub use monitor::MonitorConfig;
pub use spec::{ExtraMount, Network, Resources, RunSpec};
