//! A tree walked through directory handles: every entry is looked up relative to its parent's
//! handle with `O_NOFOLLOW`, so a symlink (or a rename racing the walk in a running container)
//! can never lead the walk outside the tree. Entries come in byte order of their names, parents
//! before children, as Go's `filepath.Walk` gives them; one that vanishes during the walk is
//! skipped.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

/// An `lstat` answer, as entries carry it.
pub use rustix::fs::Stat;
use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

use super::FsError;

/// One entry of the walk.
pub struct Entry<'a> {
    /// The path below the root, without a leading `/` (`etc/passwd`).
    pub path: &'a str,
    /// The last component.
    pub name: &'a OsStr,
    /// Its parent directory.
    pub dir: BorrowedFd<'a>,
    /// Its `lstat`.
    pub stat: &'a Stat,
}

/// What the walk does after a directory's entry was visited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    /// Walk into it (ignored for non-directories).
    Descend,
    /// Leave its contents out.
    Skip,
}

fn io<'a>(op: &'static str, path: &'a str) -> impl FnOnce(Errno) -> FsError + 'a {
    move |e| FsError::from_io(op, path, e.into())
}

/// The type bits of `st_mode`.
pub fn file_type(st: &Stat) -> u32 {
    st.st_mode & libc::S_IFMT
}

impl Entry<'_> {
    /// Whether this is an overlay whiteout (a 0/0 character device).
    pub fn is_whiteout(&self) -> bool {
        file_type(self.stat) == libc::S_IFCHR && self.stat.st_rdev == 0
    }

    /// The regular file, opened for reading; it must still be the file that was stat'ed.
    pub fn open_file(&self) -> Result<File, FsError> {
        let fd = rustix::fs::openat(
            self.dir,
            self.name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(io("opening", self.path))?;
        let st = rustix::fs::fstat(&fd).map_err(io("stat", self.path))?;
        if st.st_ino != self.stat.st_ino || file_type(&st) != libc::S_IFREG {
            return Err(FsError::NotRegular {
                path: self.path.into(),
            });
        }
        Ok(File::from(fd))
    }

    /// The target of the symlink.
    pub fn read_link(&self) -> Result<OsString, FsError> {
        let t = rustix::fs::readlinkat(self.dir, self.name, Vec::new())
            .map_err(io("reading link", self.path))?;
        Ok(OsStr::from_bytes(t.as_bytes()).to_os_string())
    }

    /// `/proc/self/fd/<dir>/<name>`: a path naming this entry through its parent's handle, for
    /// the calls that only take paths (the `l*xattr` family, which never follow the last link).
    fn proc_path(&self) -> String {
        format!(
            "/proc/self/fd/{}/{}",
            self.dir.as_raw_fd(),
            self.name.to_string_lossy()
        )
    }

    /// Extended attribute `name` of the entry itself, if set.
    pub fn xattr(&self, name: &str) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 256];
        let n = rustix::fs::lgetxattr(self.proc_path().as_str(), name, &mut buf[..]).ok()?;
        buf.truncate(n);
        Some(buf)
    }

    /// All extended attributes of the entry itself, sorted by name.
    pub fn xattrs(&self) -> Result<Vec<(String, Vec<u8>)>, FsError> {
        let p = self.proc_path();
        let mut names = vec![0u8; 4096];
        let n = match rustix::fs::llistxattr(p.as_str(), &mut names[..]) {
            Ok(n) => n,
            Err(Errno::NOTSUP) => 0,
            Err(e) => return Err(io("listing attributes of", self.path)(e)),
        };
        let mut out = Vec::new();
        for raw in names[..n].split(|b| *b == 0).filter(|s| !s.is_empty()) {
            let name = String::from_utf8_lossy(raw).into_owned();
            let mut v = vec![0u8; 64 * 1024];
            let len = rustix::fs::lgetxattr(p.as_str(), name.as_str(), &mut v[..])
                .map_err(io("reading attributes of", self.path))?;
            v.truncate(len);
            out.push((name, v));
        }
        out.sort();
        Ok(out)
    }
}

fn open_dir(dir: impl AsFd, name: &OsStr) -> Result<OwnedFd, Errno> {
    rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// The names in directory `dir`, sorted, without `.` and `..`.
fn names(dir: &OwnedFd, path: &str) -> Result<Vec<OsString>, FsError> {
    let d = rustix::fs::Dir::read_from(dir).map_err(io("reading directory", path))?;
    let mut out = Vec::new();
    for e in d {
        let e = e.map_err(io("reading directory", path))?;
        let n = e.file_name().to_bytes();
        if n != b"." && n != b".." {
            out.push(OsStr::from_bytes(n).to_os_string());
        }
    }
    out.sort();
    Ok(out)
}

/// Walks the tree below `root` (which is not visited itself), calling `visit` for each entry.
pub fn walk<E: From<FsError>>(
    root: impl AsFd,
    visit: &mut impl FnMut(&Entry) -> Result<Visit, E>,
) -> Result<(), E> {
    let root = root
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| FsError::from_io("opening", "/", e))?;
    walk_dir(&root, "", visit)
}

fn walk_dir<E: From<FsError>>(
    dir: &OwnedFd,
    prefix: &str,
    visit: &mut impl FnMut(&Entry) -> Result<Visit, E>,
) -> Result<(), E> {
    for name in names(dir, if prefix.is_empty() { "/" } else { prefix })? {
        let path = format!("{prefix}{}", name.to_string_lossy());
        let stat = match rustix::fs::statat(dir, &name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::NOENT) => continue,
            Err(e) => return Err(io("stat", &path)(e).into()),
        };
        let entry = Entry {
            path: &path,
            name: &name,
            dir: dir.as_fd(),
            stat: &stat,
        };
        if visit(&entry)? == Visit::Skip || file_type(&stat) != libc::S_IFDIR {
            continue;
        }
        let sub = match open_dir(dir, &name) {
            Ok(fd) => fd,
            // Gone, or replaced by something that is not a directory.
            Err(Errno::NOENT | Errno::NOTDIR | Errno::LOOP) => continue,
            Err(e) => return Err(io("opening directory", &path)(e).into()),
        };
        walk_dir(&sub, &format!("{path}/"), visit)?;
    }
    Ok(())
}

/// The `lstat` of `path` (relative, `/`-separated) below `dir`, every component looked up
/// without following symlinks; `None` when it is not there.
pub fn lstat_below(dir: impl AsFd, path: &str) -> Result<Option<Stat>, FsError> {
    let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let Some(last) = parts.pop() else {
        return Ok(None);
    };
    let mut cur = dir
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| FsError::from_io("opening", path, e))?;
    for p in parts {
        cur = match open_dir(&cur, OsStr::new(p)) {
            Ok(fd) => fd,
            Err(Errno::NOENT | Errno::NOTDIR | Errno::LOOP) => return Ok(None),
            Err(e) => return Err(io("looking up", path)(e)),
        };
    }
    match rustix::fs::statat(&cur, last, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(Errno::NOENT | Errno::NOTDIR) => Ok(None),
        Err(e) => Err(io("looking up", path)(e)),
    }
}

/// A host directory opened as the root of a walk.
pub fn open_root(dir: &std::path::Path) -> Result<OwnedFd, FsError> {
    rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(io("opening", "/"))
}
