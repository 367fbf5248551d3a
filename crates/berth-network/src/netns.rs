//! Network namespaces as values, and running code inside one.
//!
//! `setns(2)` and `unshare(CLONE_NEWNET)` change the namespace of the *calling thread* only.
//! A thread that changed namespace and then went back to work for someone else (a tokio
//! worker, a blocking-pool thread) would silently run their sockets, netlink requests and
//! `/proc/sys` writes in the wrong namespace. So nothing here ever changes the namespace of a
//! caller's thread: every entry into a namespace happens on a fresh OS thread that ends when
//! the closure returns. A namespace lives as long as something holds it: a process in it, a
//! bind mount, or the fd a [`Netns`] keeps, so dropping the last [`Netns`] of an anonymous
//! namespace removes it together with its links, addresses and routes.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::sched::{CloneFlags, setns, unshare};

/// Where a thread finds its own network namespace.
const THREAD_SELF_NET: &str = "/proc/thread-self/ns/net";

/// Why a namespace could not be made, opened or entered.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    /// `unshare(CLONE_NEWNET)` failed (usually: no CAP_SYS_ADMIN).
    #[error("failed to create a network namespace")]
    Unshare(#[source] nix::Error),
    /// A namespace file could not be opened.
    #[error("failed to open network namespace {path}")]
    Open {
        /// The namespace file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `setns` into the namespace failed.
    #[error("failed to enter network namespace")]
    Enter(#[source] nix::Error),
    /// The helper thread could not be started.
    #[error("failed to spawn a namespace thread")]
    Spawn(#[source] std::io::Error),
    /// The closure run inside the namespace panicked.
    #[error("the closure run in a network namespace panicked")]
    Panicked,
}

/// A handle on a network namespace: an open fd of its `ns/net` file.
#[derive(Debug)]
pub struct Netns {
    fd: OwnedFd,
}

impl Netns {
    /// Creates a new, anonymous network namespace, held only by the returned value.
    ///
    /// It starts with a `lo` that is down and nothing else.
    pub fn new() -> Result<Self, NetnsError> {
        on_thread(|| {
            unshare(CloneFlags::CLONE_NEWNET).map_err(NetnsError::Unshare)?;
            Self::open(THREAD_SELF_NET)
        })?
    }

    /// Opens an existing namespace by path, such as `/proc/<pid>/ns/net` of a container's
    /// init or a bind mount under `/run/berth/netns`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, NetnsError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| NetnsError::Open {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self { fd: file.into() })
    }

    /// The namespace of the calling thread.
    pub fn current() -> Result<Self, NetnsError> {
        Self::open(THREAD_SELF_NET)
    }

    /// Runs `f` inside this namespace on a fresh thread, which then ends; the caller's thread
    /// never changes namespace. `f` may borrow from the caller.
    pub fn run<T, F>(&self, f: F) -> Result<T, NetnsError>
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        let fd = self.fd.as_fd();
        on_thread(move || {
            setns(fd, CloneFlags::CLONE_NEWNET).map_err(NetnsError::Enter)?;
            Ok(f())
        })?
    }

    /// A path that names this namespace for as long as this value lives, for handing to a
    /// runtime or to `ip netns exec`-like tools: `/proc/<pid>/fd/<n>`.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!(
            "/proc/{}/fd/{}",
            std::process::id(),
            self.fd.as_raw_fd()
        ))
    }
}

impl AsFd for Netns {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Runs `f` in the caller's own namespace, on the caller's thread. It exists so that code
/// written against "run this in namespace X" reads the same for the host namespace.
pub fn in_current<T>(f: impl FnOnce() -> T) -> T {
    f()
}

/// Runs `f` on a scoped OS thread so that any namespace change dies with the thread.
fn on_thread<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, NetnsError> {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("berth-netns".into())
            .spawn_scoped(scope, f)
            .map_err(NetnsError::Spawn)?;
        handle.join().map_err(|_| NetnsError::Panicked)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inode(path: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).expect("stat namespace").ino()
    }

    #[test]
    fn run_enters_the_namespace_and_leaves_the_caller_alone() {
        let before = inode(Path::new(THREAD_SELF_NET));
        let ns = Netns::new().expect("new netns");
        let inside = ns.run(|| inode(Path::new(THREAD_SELF_NET))).expect("run");
        assert_ne!(before, inside);
        assert_eq!(inode(&ns.path()), inside);
        assert_eq!(inode(Path::new(THREAD_SELF_NET)), before);
    }

    #[test]
    fn a_panic_inside_is_an_error_not_a_crash() {
        let ns = Netns::new().expect("new netns");
        let err = ns.run(|| panic!("boom")).unwrap_err();
        assert!(matches!(err, NetnsError::Panicked), "{err}");
    }
}
