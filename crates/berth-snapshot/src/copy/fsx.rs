//! The few `*at` calls the copy code makes, each on one name under a held directory handle and
//! never following a final symlink.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, Stat, Timespec, Timestamps};

/// A path handle (`O_PATH`) of directory `name` under `dir`; a symlink there is an error.
pub fn path_dir(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<OwnedFd> {
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    Ok(rustix::fs::openat(dir, name, flags, Mode::empty())?)
}

/// A path handle of whatever `name` under `dir` is (a symlink itself, not its target).
pub fn path_any(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<OwnedFd> {
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    Ok(rustix::fs::openat(dir, name, flags, Mode::empty())?)
}

/// Directory `name` under `dir`, opened for reading its entries and changing its attributes.
pub fn open_dir(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    Ok(rustix::fs::openat(dir, name, flags, Mode::empty())?)
}

/// The directory a (path) handle names, opened for reading.
pub fn reopen_dir(dir: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    open_dir(dir, OsStr::new("."))
}

/// The regular file a path handle names, opened for reading through `/proc/self/fd` (the
/// handle's own inode: no name is looked up again).
pub fn reopen_file(fd: BorrowedFd<'_>) -> io::Result<File> {
    File::open(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// `lstat` of `name` under `dir`.
pub fn lstat(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Stat> {
    Ok(rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?)
}

/// `fstat`.
pub fn fstat(fd: BorrowedFd<'_>) -> io::Result<Stat> {
    Ok(rustix::fs::fstat(fd)?)
}

/// The target of symlink `name` under `dir`.
pub fn readlink(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<OsString> {
    let t = rustix::fs::readlinkat(dir, name, Vec::new())?;
    Ok(OsStr::from_bytes(t.as_bytes()).to_os_string())
}

/// The names in directory `dir` (an open, readable handle), without `.` and `..`, sorted.
pub fn list(dir: BorrowedFd<'_>) -> io::Result<Vec<OsString>> {
    let mut names = Vec::new();
    for e in Dir::new(reopen_dir(dir)?)? {
        let n = OsStr::from_bytes(e?.file_name().to_bytes()).to_os_string();
        if n != "." && n != ".." {
            names.push(n);
        }
    }
    names.sort();
    Ok(names)
}

/// The kind of an `st_mode`.
pub fn kind(st: &Stat) -> FileType {
    FileType::from_raw_mode(st.st_mode)
}

/// Creates directory `name` under `dir`.
pub fn mkdir(dir: BorrowedFd<'_>, name: &OsStr, mode: u32) -> io::Result<()> {
    Ok(rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(mode))?)
}

/// A new regular file `name` under `dir`, for writing; fails if anything is there.
pub fn create(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<File> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    Ok(rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(0o600))?.into())
}

/// A symlink `name` under `dir` to `target` (stored as given).
pub fn symlink(target: &OsStr, dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    Ok(rustix::fs::symlinkat(target, dir, name)?)
}

/// A hard link `name` under `dir` to `from_name` under `from` (a symlink is linked itself).
pub fn link(
    from: BorrowedFd<'_>,
    from_name: &OsStr,
    dir: BorrowedFd<'_>,
    name: &OsStr,
) -> io::Result<()> {
    Ok(rustix::fs::linkat(
        from,
        from_name,
        dir,
        name,
        AtFlags::empty(),
    )?)
}

/// A FIFO `name` under `dir`.
pub fn mkfifo(dir: BorrowedFd<'_>, name: &OsStr, mode: u32) -> io::Result<()> {
    Ok(rustix::fs::mknodat(
        dir,
        name,
        FileType::Fifo,
        Mode::from_raw_mode(mode),
        0,
    )?)
}

/// Removes `name` under `dir`, a directory with everything below it.
pub fn remove_all(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    let st = lstat(dir, name)?;
    if kind(&st) == FileType::Directory {
        let sub = open_dir(dir, name)?;
        for child in list(sub.as_fd())? {
            remove_all(sub.as_fd(), &child)?;
        }
        Ok(rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR)?)
    } else {
        Ok(rustix::fs::unlinkat(dir, name, AtFlags::empty())?)
    }
}

/// Sets owner, mode and modification time of an open file or directory; the owner first,
/// since a chown clears setuid bits.
pub fn set_meta(
    fd: BorrowedFd<'_>,
    owner: Option<(u32, u32)>,
    mode: u32,
    mtime: i64,
) -> io::Result<()> {
    if let Some((u, g)) = owner {
        rustix::fs::fchown(fd, Some(uid(u)), Some(gid(g)))?;
    }
    rustix::fs::fchmod(fd, Mode::from_raw_mode(mode))?;
    set_mtime(fd, mtime)
}

/// Sets the modification (and access) time of an open file or directory.
pub fn set_mtime(fd: BorrowedFd<'_>, mtime: i64) -> io::Result<()> {
    Ok(rustix::fs::futimens(fd, &times(mtime))?)
}

/// Owner and times of `name` under `dir` itself (a symlink or FIFO, which have no open handle).
pub fn set_meta_at(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    owner: Option<(u32, u32)>,
    mtime: i64,
) -> io::Result<()> {
    if let Some((u, g)) = owner {
        rustix::fs::chownat(
            dir,
            name,
            Some(uid(u)),
            Some(gid(g)),
            AtFlags::SYMLINK_NOFOLLOW,
        )?;
    }
    Ok(rustix::fs::utimensat(
        dir,
        name,
        &times(mtime),
        AtFlags::SYMLINK_NOFOLLOW,
    )?)
}

fn uid(u: u32) -> rustix::fs::Uid {
    rustix::fs::Uid::from_raw(u)
}

fn gid(g: u32) -> rustix::fs::Gid {
    rustix::fs::Gid::from_raw(g)
}

fn times(mtime: i64) -> Timestamps {
    let t = Timespec {
        tv_sec: mtime,
        tv_nsec: 0,
    };
    Timestamps {
        last_access: t,
        last_modification: t,
    }
}

/// The extended attribute a copy carries, as Docker's archive does: a file's capabilities.
pub const CARRIED_XATTR: &str = "security.capability";

/// The value of [`CARRIED_XATTR`] on `fd`, if it has one.
pub fn carried_xattr(fd: BorrowedFd<'_>) -> Option<Vec<u8>> {
    let mut value = vec![0u8; 256];
    let n = rustix::fs::fgetxattr(fd, CARRIED_XATTR, &mut value).ok()?;
    value.truncate(n);
    Some(value)
}

/// Sets extended attribute `name` on `fd`; a filesystem without them is not an error.
pub fn set_xattr(fd: BorrowedFd<'_>, name: &str, value: &[u8]) -> io::Result<()> {
    match rustix::fs::fsetxattr(fd, name, value, rustix::fs::XattrFlags::empty()) {
        Ok(()) | Err(rustix::io::Errno::NOTSUP) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
