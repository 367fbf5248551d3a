//! The OCI runtime seam: what the monitor and the exec helper ask of a runtime, with two
//! implementations: [`Embedded`] (libcontainer, in the calling process) and [`External`] (a
//! binary speaking runc's command line: `runc`, `crun`, ...).
//!
//! Lifecycle of a container, as the monitor drives it:
//! 1. [`Runtime::create`] builds the container from an OCI bundle (namespaces, cgroup, rootfs)
//!    and its init process, which waits before running the user's command. It returns the
//!    init's pid: from then on the caller owns that process. The caller is a child subreaper
//!    (`PR_SET_CHILD_SUBREAPER`), so the init is its child or becomes one once the runtime's own
//!    processes are gone; the caller signals it directly and reaps it with `waitpid`.
//! 2. [`Runtime::start`] lets the init exec the user's command.
//! 3. [`Runtime::exec`] runs another process in the running container (the exec helper calls
//!    it); the same ownership rule holds for the pid it returns.
//! 4. [`Runtime::delete`] removes what the runtime keeps for the container (state, cgroup),
//!    killing whatever still runs in it.
//!
//! A runtime never talks to the daemon: every call happens in a short-lived, single-threaded
//! process (libcontainer forks and changes process-wide state), and what fails comes back as a
//! [`ProcessError`] the caller reports on its status line.

mod cgroup_remount;
mod embedded;
mod error;
mod external;
mod oom;
mod userns_join;

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

pub use embedded::Embedded;
pub use error::ProcessError;
pub use external::External;

/// Where a created process's standard streams come from.
#[derive(Debug)]
pub enum Stdio {
    /// These descriptors become its fds 0, 1 and 2.
    Fds {
        /// Standard input.
        stdin: OwnedFd,
        /// Standard output.
        stdout: OwnedFd,
        /// Standard error.
        stderr: OwnedFd,
    },
    /// The caller's own fds 0, 1 and 2.
    Inherit,
    /// A new terminal: the runtime sends its master over the unix socket at this path (the
    /// caller listens on it) and the process gets the terminal as its stdio.
    Console(PathBuf),
}

/// An OCI runtime as the monitor and the exec helper use it. See the module documentation for
/// the lifecycle and who owns the processes.
pub trait Runtime {
    /// Creates container `id` from the bundle at `bundle` (`config.json` and its root); returns
    /// the pid of its init, which waits for [`start`](Runtime::start). After a failure the
    /// caller still calls [`delete`](Runtime::delete) for what was left.
    fn create(&self, id: &str, bundle: &Path, stdio: Stdio) -> Result<Pid, ProcessError>;

    /// Lets the init of created container `id` run the user's command.
    fn start(&self, id: &str) -> Result<(), ProcessError>;

    /// Starts the OCI process described by the JSON file `process` in running container `id`;
    /// returns its pid.
    fn exec(&self, id: &str, process: &Path, stdio: Stdio) -> Result<Pid, ProcessError>;

    /// Gives running container `id`, whose cgroup is `cgroup` (relative to the hierarchy root),
    /// the limits `resources` sets (`docker update`). Unlike the calls above it forks nothing
    /// in the caller (it writes cgroup files, or runs the runtime binary), so the daemon may
    /// call it.
    fn update(
        &self,
        id: &str,
        cgroup: &str,
        resources: &oci_spec::runtime::LinuxResources,
    ) -> Result<(), ProcessError>;

    /// Removes container `id` (forcibly: what still runs in it is killed). Deleting a container
    /// the runtime does not know is not an error.
    fn delete(&self, id: &str) -> Result<(), ProcessError>;
}

/// Which runtime a container runs with, as the daemon tells its monitor and exec helpers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuntimeConfig {
    /// libcontainer, inside berth itself.
    #[default]
    Embedded,
    /// An OCI runtime binary with runc's command line; a bare name is looked up in `$PATH`.
    External {
        /// The binary.
        path: PathBuf,
    },
}

impl RuntimeConfig {
    /// The runtime, keeping its per-container state under `state_root`.
    pub fn open(&self, state_root: &Path) -> Box<dyn Runtime> {
        match self {
            RuntimeConfig::Embedded => Box::new(Embedded::new(state_root)),
            RuntimeConfig::External { path } => Box::new(External::new(path, state_root)),
        }
    }
}

/// Puts every signal back to its default disposition and unblocks them all, for a process about
/// to exec into (or create) a container's process. Ignored dispositions survive `exec`: what the
/// monitor ignores (SIGPIPE, SIGHUP, SIGINT), or its own parent did (a shell's background job
/// ignores SIGINT and SIGQUIT), would otherwise reach the container's processes. Only
/// async-signal-safe calls: it may run between fork and exec.
pub(crate) fn reset_signals() {
    for signo in 1..=libc::SIGRTMAX() {
        if signo != libc::SIGKILL && signo != libc::SIGSTOP {
            // SAFETY: SIG_DFL installs no handler; failures (signals libc reserves) are harmless.
            unsafe { libc::signal(signo, libc::SIG_DFL) };
        }
    }
    // SAFETY: an empty set, initialised by sigemptyset, replaces the mask; no memory is kept.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}
