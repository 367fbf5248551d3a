//! Filling a new volume with what the image has at its mount point, as Docker does: owners,
//! modes, times, symlinks, hard links, device nodes and extended attributes are kept, and the
//! volume's root takes the owner and mode of the directory it covers.
//!
//! Both trees are walked through directory handles, one `*at` call per name with
//! `O_NOFOLLOW`: a symlink in the image is copied as a symlink and never followed, on either
//! side, so neither the image nor a container writing into the volume can point the copy at a
//! host path.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, Timestamps};

/// Hard links already copied: (device, inode) → the directory and name of the first copy.
type Links = HashMap<(u64, u64), (std::sync::Arc<OwnedFd>, CString)>;

/// Whether directory `dir` has no entries.
pub fn is_empty(dir: impl AsFd) -> io::Result<bool> {
    let mut d = Dir::read_from(dir)?;
    for e in &mut d {
        let e = e?;
        if !matches!(e.file_name().to_bytes(), b"." | b"..") {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Copies the contents of directory `src` into the empty directory `dst`, then gives `dst`
/// the owner and mode of `src`.
pub fn copy_dir(src: OwnedFd, dst: OwnedFd) -> io::Result<()> {
    let st = rustix::fs::fstat(&src)?;
    let mut links = Links::new();
    let dst = std::sync::Arc::new(dst);
    copy_entries(&src, &dst, &mut links)?;
    rustix::fs::fchown(
        &*dst,
        Some(rustix::fs::Uid::from_raw(st.st_uid)),
        Some(rustix::fs::Gid::from_raw(st.st_gid)),
    )?;
    rustix::fs::fchmod(&*dst, Mode::from_raw_mode(st.st_mode))?;
    Ok(())
}

fn open_dir(dir: impl AsFd, name: &CStr) -> io::Result<OwnedFd> {
    Ok(rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

fn copy_entries(src: &OwnedFd, dst: &std::sync::Arc<OwnedFd>, links: &mut Links) -> io::Result<()> {
    let names: Vec<CString> = Dir::read_from(src)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_owned())
        .filter(|n| !matches!(n.to_bytes(), b"." | b".."))
        .collect();
    for name in names {
        copy_entry(src, dst, &name, links)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", name.to_string_lossy())))?;
    }
    Ok(())
}

fn copy_entry(
    src: &OwnedFd,
    dst: &std::sync::Arc<OwnedFd>,
    name: &CStr,
    links: &mut Links,
) -> io::Result<()> {
    let st = rustix::fs::statat(src, name, AtFlags::SYMLINK_NOFOLLOW)?;
    let kind = FileType::from_raw_mode(st.st_mode);
    let mode = Mode::from_raw_mode(st.st_mode);
    if kind != FileType::Directory && st.st_nlink > 1 {
        let key = (st.st_dev, st.st_ino);
        if let Some((dir, first)) = links.get(&key) {
            rustix::fs::linkat(&**dir, first, &**dst, name, AtFlags::empty())?;
            return Ok(());
        }
        links.insert(key, (dst.clone(), name.to_owned()));
    }
    match kind {
        FileType::Directory => {
            rustix::fs::mkdirat(&**dst, name, Mode::from_raw_mode(0o700))?;
            let (from, to) = (
                open_dir(src, name)?,
                std::sync::Arc::new(open_dir(&**dst, name)?),
            );
            copy_entries(&from, &to, links)?;
            copy_xattrs(&from, &*to)?;
            finish(&*to, &st, mode)
        }
        FileType::RegularFile => {
            let from = rustix::fs::openat(
                src,
                name,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            let to = rustix::fs::openat(
                &**dst,
                name,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )?;
            let (mut from, mut to) = (File::from(from), File::from(to));
            io::copy(&mut from, &mut to)?;
            copy_xattrs(&from, &to)?;
            finish(&to, &st, mode)
        }
        FileType::Symlink => {
            let target = rustix::fs::readlinkat(src, name, Vec::new())?;
            rustix::fs::symlinkat(target.as_c_str(), &**dst, name)?;
            rustix::fs::chownat(
                &**dst,
                name,
                Some(rustix::fs::Uid::from_raw(st.st_uid)),
                Some(rustix::fs::Gid::from_raw(st.st_gid)),
                AtFlags::SYMLINK_NOFOLLOW,
            )?;
            rustix::fs::utimensat(&**dst, name, &times(&st), AtFlags::SYMLINK_NOFOLLOW)?;
            Ok(())
        }
        FileType::CharacterDevice | FileType::BlockDevice | FileType::Fifo => {
            rustix::fs::mknodat(&**dst, name, kind, Mode::from_raw_mode(0o600), st.st_rdev)?;
            let node = rustix::fs::openat(
                &**dst,
                name,
                OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            // An O_PATH handle takes neither chown nor chmod: go by its /proc name.
            let proc = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&node));
            rustix::fs::chown(
                proc.as_str(),
                Some(rustix::fs::Uid::from_raw(st.st_uid)),
                Some(rustix::fs::Gid::from_raw(st.st_gid)),
            )?;
            rustix::fs::chmod(proc.as_str(), mode)?;
            rustix::fs::utimensat(&**dst, name, &times(&st), AtFlags::SYMLINK_NOFOLLOW)?;
            Ok(())
        }
        // Sockets and anything else have no content to copy.
        _ => Ok(()),
    }
}

/// Owner first: a chown clears the set-ID bits that the mode then sets.
fn finish(fd: impl AsFd, st: &rustix::fs::Stat, mode: Mode) -> io::Result<()> {
    rustix::fs::fchown(
        &fd,
        Some(rustix::fs::Uid::from_raw(st.st_uid)),
        Some(rustix::fs::Gid::from_raw(st.st_gid)),
    )?;
    rustix::fs::fchmod(&fd, mode)?;
    rustix::fs::futimens(&fd, &times(st))?;
    Ok(())
}

fn times(st: &rustix::fs::Stat) -> Timestamps {
    let ts = |sec: i64, nsec: u64| rustix::fs::Timespec {
        tv_sec: sec,
        tv_nsec: nsec as _,
    };
    Timestamps {
        last_access: ts(st.st_atime, st.st_atime_nsec),
        last_modification: ts(st.st_mtime, st.st_mtime_nsec),
    }
}

/// Copies the extended attributes of `from` to `to`, but overlayfs's own (`trusted.overlay.*`),
/// which describe the image's layers rather than the file.
fn copy_xattrs(from: impl AsFd, to: impl AsFd) -> io::Result<()> {
    let mut names = vec![0u8; 4096];
    let n = match rustix::fs::flistxattr(&from, &mut names) {
        Ok(n) => n,
        Err(rustix::io::Errno::NOTSUP) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for name in names[..n].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        if name.starts_with(b"trusted.overlay.") {
            continue;
        }
        let name = CString::new(name).expect("split at NUL");
        let mut value = vec![0u8; 65536];
        let len = rustix::fs::fgetxattr(&from, name.as_c_str(), &mut value)?;
        rustix::fs::fsetxattr(
            &to,
            name.as_c_str(),
            &value[..len],
            rustix::fs::XattrFlags::empty(),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn dir(p: &std::path::Path) -> OwnedFd {
        File::open(p).unwrap().into()
    }

    #[test]
    fn copies_keep_modes_owners_links_and_never_follow_symlinks() {
        let (src, dst) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let s = src.path();
        std::fs::create_dir(s.join("sub")).unwrap();
        std::fs::write(s.join("sub/f"), "data").unwrap();
        std::os::unix::fs::chown(s.join("sub/f"), Some(1234), Some(5678)).unwrap();
        std::fs::set_permissions(s.join("sub/f"), PermissionsExt::from_mode(0o4751)).unwrap();
        std::fs::hard_link(s.join("sub/f"), s.join("hard")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", s.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../..", s.join("up")).unwrap();
        std::fs::set_permissions(s, PermissionsExt::from_mode(0o1777)).unwrap();
        nix::unistd::mkfifo(
            &s.join("fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o640),
        )
        .unwrap();
        assert!(is_empty(dir(dst.path())).unwrap());
        copy_dir(dir(s), dir(dst.path())).unwrap();
        let d = dst.path();
        assert_eq!(std::fs::read_to_string(d.join("sub/f")).unwrap(), "data");
        let m = std::fs::metadata(d.join("sub/f")).unwrap();
        assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (0o4751, 1234, 5678));
        assert_eq!(std::fs::metadata(d.join("hard")).unwrap().ino(), m.ino());
        assert_eq!(
            std::fs::read_link(d.join("abs")).unwrap().to_str(),
            Some("/etc/passwd")
        );
        assert_eq!(
            std::fs::read_link(d.join("up")).unwrap().to_str(),
            Some("../../..")
        );
        assert!(
            std::fs::symlink_metadata(d.join("fifo"))
                .unwrap()
                .file_type()
                .is_fifo()
        );
        assert_eq!(std::fs::metadata(d).unwrap().mode() & 0o7777, 0o1777);
        assert!(!is_empty(dir(d)).unwrap());
    }

    use std::os::unix::fs::FileTypeExt;
}
