//! CVE-2019-5736: a process in a container can reach the binary of a runtime process that joins
//! it through `/proc/<pid>/exe` and overwrite it on the host. Monitors and exec helpers (and so
//! the container-side processes libcontainer forks from them) therefore run from a sealed,
//! in-memory copy of berth that nothing can write to.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// A sealed memfd holding a copy of a binary, and the path that executes it.
#[derive(Debug)]
pub struct SealedExe {
    fd: OwnedFd,
}

impl SealedExe {
    /// Copies `binary` into a memfd and seals it against writes, growth and shrinking.
    pub fn copy_of(binary: &Path) -> io::Result<SealedExe> {
        // SAFETY: memfd_create takes a NUL-terminated name and flags; it returns a new fd.
        let raw = unsafe {
            libc::memfd_create(
                c"berth".as_ptr(),
                libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // Moved above the low numbers children get their stdio and status fds on, so the
        // path stays valid in a child until its exec.
        // SAFETY: F_DUPFD_CLOEXEC duplicates an fd we own; then the original is closed.
        let high = unsafe { libc::fcntl(raw, libc::F_DUPFD_CLOEXEC, 64) };
        // SAFETY: closing the fd memfd_create returned, which nothing else holds.
        unsafe { libc::close(raw) };
        if high < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fcntl just returned this fd; we own it.
        let fd = unsafe { OwnedFd::from_raw_fd(high) };
        let mut dst = File::from(fd.try_clone()?);
        io::copy(&mut File::open(binary)?, &mut dst)?;
        let seals =
            libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
        // SAFETY: F_ADD_SEALS takes an integer argument on a memfd we own.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(SealedExe { fd })
    }

    /// A path that executes the copy from this process and its children (until they exec).
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_runs_and_cannot_be_written() {
        let exe = SealedExe::copy_of(Path::new("/bin/true")).unwrap();
        let status = std::process::Command::new(exe.path()).status().unwrap();
        assert!(status.success());
        let err = std::fs::OpenOptions::new()
            .write(true)
            .open(exe.path())
            .and_then(|mut f| io::Write::write_all(&mut f, b"x"))
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");
    }
}
