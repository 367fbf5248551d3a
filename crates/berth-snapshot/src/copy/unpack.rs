//! A tar stream extracted into a directory of a tree, refusing what would leave it.
//!
//! Rules (Docker's, with its chroot replaced by handles): a leading `/` is ignored; a `..` that
//! climbs above the destination is refused; a member is never written through a symlink that
//! is already there (Docker follows it inside its chroot; berth refuses, as for layers);
//! a hard link must name a file already below the destination; device nodes are skipped and
//! counted (a copy must not hand a container a host device); a directory becoming a
//! non-directory, or the reverse, is refused with `no_overwrite_dir_non_dir`. A mount crossed
//! on the way is written to, unless it is read-only. Members before a refused one stay.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

use rustix::fs::FileType;
use tar::EntryType;

use crate::data::{DataError, copy_data};

use super::resolve::{Located, Tree, display};
use super::{CopyError, fsx};

/// Directories whose times are set when the archive is done (their children change them
/// until then); past this many held open, a directory's time is set at once instead.
const HELD_DIRS: usize = 256;

/// How to extract.
#[derive(Debug, Clone, Default)]
pub struct UnpackOptions {
    /// Refuse to replace a directory with a non-directory or the reverse.
    pub no_overwrite_dir_non_dir: bool,
    /// Who owns what is extracted.
    pub owner: Owner,
    /// `(old, new)`: member names (and hard link targets) starting with `old` start with
    /// `new` instead, as the docker CLI renames a copy (`old` empty: `new` is prepended).
    pub rebase: Option<(String, String)>,
}

/// Who owns extracted files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Owner {
    /// The uid and gid in the archive.
    #[default]
    Archive,
    /// This uid and gid.
    Fixed(u32, u32),
    /// Whoever extracts (no chown: the CLI's own side).
    Caller,
}

/// What [`unpack`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnpackStats {
    /// Bytes of file content written.
    pub bytes: u64,
    /// Device nodes that were not created.
    pub skipped_devices: u32,
}

/// Extracts the (uncompressed) tar `reader` into the directory `dest` of `tree`.
pub fn unpack(
    tree: &Tree,
    dest: &Located,
    opts: UnpackOptions,
    reader: impl Read,
) -> Result<UnpackStats, CopyError> {
    let base = dest.open_dir()?;
    let mut u = Unpacker {
        tree,
        dest: dest.path(),
        base_at: dest.at.clone(),
        base_mount: dest.mount,
        base,
        opts,
        parent: None,
        dirs: Vec::new(),
        stats: UnpackStats::default(),
    };
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(CopyError::Read)? {
        let mut entry = entry.map_err(CopyError::Read)?;
        u.entry(&mut entry)?;
    }
    for (dir, mtime) in u.dirs.drain(..).rev() {
        fsx::set_mtime(dir.as_fd(), mtime)
            .map_err(|e| CopyError::io("setting times", &u.dest, e))?;
    }
    Ok(u.stats)
}

/// A member's parent directory: its name parts below the destination, handle and mount.
struct Parent {
    rel: Vec<OsString>,
    dir: OwnedFd,
    mount: Option<usize>,
}

struct Unpacker<'a> {
    tree: &'a Tree,
    dest: String,
    base_at: Vec<OsString>,
    base_mount: Option<usize>,
    base: OwnedFd,
    opts: UnpackOptions,
    /// The last parent used: archives list a directory's files together.
    parent: Option<Parent>,
    dirs: Vec<(OwnedFd, i64)>,
    stats: UnpackStats,
}

/// `raw` as name parts below the destination; `None` for the destination itself.
fn clean(raw: &str) -> Result<Option<Vec<OsString>>, CopyError> {
    let mut out: Vec<OsString> = Vec::new();
    for c in Path::new(raw).components() {
        match c {
            Component::Normal(p) => out.push(p.to_os_string()),
            Component::ParentDir if out.pop().is_none() => {
                return Err(CopyError::Escape { name: raw.into() });
            }
            _ => {}
        }
    }
    Ok((!out.is_empty()).then_some(out))
}

impl Unpacker<'_> {
    fn path_of(&self, rel: &[OsString]) -> String {
        let mut at = self.base_at.clone();
        at.extend(rel.iter().cloned());
        display(&at)
    }

    fn rebased(&self, name: &[u8]) -> String {
        let name = String::from_utf8_lossy(name);
        match &self.opts.rebase {
            Some((old, new)) if name.starts_with(old.as_str()) => {
                format!("{new}{}", &name[old.len()..])
            }
            _ => name.into_owned(),
        }
    }

    fn owner(&self, h: &tar::Header) -> Result<Option<(u32, u32)>, CopyError> {
        let old = h.as_old();
        let id = |raw: &[u8], v: io::Result<u64>| -> Result<u32, CopyError> {
            let v = number(raw, v)?;
            u32::try_from(v)
                .map_err(|_| CopyError::Read(io::Error::other("uid or gid out of range")))
        };
        let owner = match self.opts.owner {
            Owner::Archive => Some((id(&old.uid, h.uid())?, id(&old.gid, h.gid())?)),
            Owner::Fixed(u, g) => Some((u, g)),
            Owner::Caller => None,
        };
        // In a user namespace, the container's owners are host IDs; the caller is its root.
        let Some(ids) = &self.tree.ids else {
            return Ok(owner);
        };
        let (u, g) = owner.unwrap_or((0, 0));
        ids.host_owner(u, g)
            .map(Some)
            .map_err(|e| CopyError::Read(io::Error::new(io::ErrorKind::InvalidData, e)))
    }

    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), CopyError> {
        let raw = self.rebased(&entry.path_bytes());
        let Some(mut rel) = clean(&raw)? else {
            return Ok(()); // the destination itself: Docker keeps it as it is
        };
        let name = rel.pop().expect("clean returns a name");
        let kind = entry.header().entry_type();
        if matches!(kind, EntryType::Char | EntryType::Block) {
            self.stats.skipped_devices += 1;
            return Ok(());
        }
        rel.push(name.clone());
        // A cached parent at or below this member may be replaced by it.
        if self
            .parent
            .as_ref()
            .is_some_and(|p| p.rel.starts_with(&rel))
        {
            self.parent = None;
        }
        self.enter(&rel[..rel.len() - 1], &raw, true)?;
        let path = self.path_of(&rel);
        let p = self.parent.as_ref().expect("entered");
        let dir = p
            .dir
            .try_clone()
            .map_err(|e| CopyError::io("opening", &path, e))?;
        let mount = p.mount;
        let mut at = self.base_at.clone();
        at.extend(rel.iter().cloned());
        if let Some(m) = self.tree.mount_at(&at) {
            // A mount's root stays what it is: only what is below it can come from the archive.
            return match kind {
                EntryType::Directory => self.check_writable(Some(m)),
                _ => Err(CopyError::DirWithNonDir {
                    path,
                    dest: self.dest.clone(),
                }),
            };
        }
        self.check_writable(mount)?;
        let h = entry.header().clone();
        let mode = number(&h.as_old().mode, h.mode().map(u64::from))? as u32 & 0o7777;
        let mtime = number(&h.as_old().mtime, h.mtime())? as i64;
        let owner = self.owner(&h)?;
        let io_err = |op: &'static str| {
            let p = path.clone();
            move |e| CopyError::io(op, &p, e)
        };
        match kind {
            EntryType::Directory => {
                let d = self.make_dir(dir.as_fd(), &name, &path)?;
                fsx::set_meta(d.as_fd(), owner, mode, mtime)
                    .map_err(io_err("setting attributes of"))?;
                if self.dirs.len() < HELD_DIRS {
                    self.dirs.push((d, mtime));
                }
            }
            EntryType::Regular | EntryType::Continuous => {
                self.clear(dir.as_fd(), &name, &path)?;
                let mut f = fsx::create(dir.as_fd(), &name).map_err(io_err("creating"))?;
                let n = copy_data(entry, &mut f).map_err(|e| match e {
                    DataError::Read(e) => CopyError::Read(e),
                    DataError::Write(e) => CopyError::io("writing", &path, e),
                })?;
                self.stats.bytes += n;
                fsx::set_meta(f.as_fd(), owner, mode, mtime)
                    .map_err(io_err("setting attributes of"))?;
                // After the owner: a chown drops a file's capabilities.
                for (key, value) in xattrs(entry) {
                    fsx::set_xattr(f.as_fd(), &key, &value)
                        .map_err(io_err("setting extended attributes of"))?;
                }
            }
            EntryType::Symlink => {
                let target = entry.link_name_bytes().unwrap_or_default();
                self.clear(dir.as_fd(), &name, &path)?;
                let target = OsStr::from_bytes(&target).to_os_string();
                fsx::symlink(&target, dir.as_fd(), &name).map_err(io_err("creating symlink"))?;
                fsx::set_meta_at(dir.as_fd(), &name, owner, mtime)
                    .map_err(io_err("setting attributes of"))?;
            }
            EntryType::Link => {
                let target = self.rebased(&entry.link_name_bytes().unwrap_or_default());
                let (from, from_name) = self.link_source(&raw, &target)?;
                self.clear(dir.as_fd(), &name, &path)?;
                fsx::link(from.as_fd(), &from_name, dir.as_fd(), &name)
                    .map_err(io_err("linking"))?;
            }
            EntryType::Fifo => {
                self.clear(dir.as_fd(), &name, &path)?;
                fsx::mkfifo(dir.as_fd(), &name, mode).map_err(io_err("creating"))?;
                fsx::set_meta_at(dir.as_fd(), &name, owner, mtime)
                    .map_err(io_err("setting attributes of"))?;
            }
            // Long names and pax records are read by the tar crate; anything else carries no
            // file that can be placed (sparse files, labels).
            other => tracing::warn!(path = %raw, kind = ?other, "skipping unsupported tar entry"),
        }
        Ok(())
    }

    /// Refuses writing to read-only mount `m`.
    fn check_writable(&self, m: Option<usize>) -> Result<(), CopyError> {
        if self.tree.readonly(m) {
            return Err(CopyError::ReadOnlyMount);
        }
        Ok(())
    }

    /// Makes `self.parent` the directory `rel` below the destination, creating what is
    /// missing when `create`; a symlink or a file on the way is refused.
    fn enter(&mut self, rel: &[OsString], raw: &str, create: bool) -> Result<(), CopyError> {
        if self.parent.as_ref().is_some_and(|p| p.rel == rel) {
            return Ok(());
        }
        let mut dir = self
            .base
            .try_clone()
            .map_err(|e| CopyError::io("opening", &self.dest, e))?;
        let mut mount = self.base_mount;
        for i in 0..rel.len() {
            let here = &rel[..=i];
            let path = self.path_of(here);
            let mut at = self.base_at.clone();
            at.extend(here.iter().cloned());
            if let Some(m) = self.tree.mount_at(&at) {
                mount = Some(m);
                dir = fsx::reopen_dir(self.tree.root_of(mount))
                    .map_err(|e| CopyError::io("opening", &path, e))?;
                continue;
            }
            dir = match fsx::open_dir(dir.as_fd(), &rel[i]) {
                Ok(d) => d,
                Err(e) if create && e.raw_os_error() == Some(libc::ENOENT) => {
                    self.check_writable(mount)?;
                    fsx::mkdir(dir.as_fd(), &rel[i], 0o755)
                        .map_err(|e| CopyError::io("creating directory", &path, e))?;
                    fsx::open_dir(dir.as_fd(), &rel[i])
                        .map_err(|e| CopyError::io("opening", &path, e))?
                }
                // O_NOFOLLOW with O_DIRECTORY answers ENOTDIR for a symlink.
                Err(_) if is_symlink(dir.as_fd(), &rel[i]) => {
                    return Err(CopyError::ThroughSymlink {
                        name: raw.into(),
                        link: path,
                    });
                }
                Err(e) => return Err(CopyError::io("opening", &path, e)),
            };
        }
        self.parent = Some(Parent {
            rel: rel.to_vec(),
            dir,
            mount,
        });
        Ok(())
    }

    /// The directory `name` under `dir`, made (or kept, when one is there) for a member.
    fn make_dir(
        &self,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        path: &str,
    ) -> Result<OwnedFd, CopyError> {
        match fsx::lstat(dir, name) {
            Ok(st) if fsx::kind(&st) == FileType::Directory => {}
            Ok(_) if self.opts.no_overwrite_dir_non_dir => {
                return Err(CopyError::NonDirWithDir {
                    path: path.into(),
                    dest: self.dest.clone(),
                });
            }
            Ok(_) => {
                fsx::remove_all(dir, name).map_err(|e| CopyError::io("replacing", path, e))?;
                fsx::mkdir(dir, name, 0o755)
                    .map_err(|e| CopyError::io("creating directory", path, e))?;
            }
            Err(_) => fsx::mkdir(dir, name, 0o755)
                .map_err(|e| CopyError::io("creating directory", path, e))?,
        }
        fsx::open_dir(dir, name).map_err(|e| CopyError::io("opening", path, e))
    }

    /// Makes room for a non-directory member at `name` under `dir`.
    fn clear(&self, dir: BorrowedFd<'_>, name: &OsStr, path: &str) -> Result<(), CopyError> {
        match fsx::lstat(dir, name) {
            Ok(st)
                if fsx::kind(&st) == FileType::Directory && self.opts.no_overwrite_dir_non_dir =>
            {
                Err(CopyError::DirWithNonDir {
                    path: path.into(),
                    dest: self.dest.clone(),
                })
            }
            Ok(_) => fsx::remove_all(dir, name).map_err(|e| CopyError::io("replacing", path, e)),
            Err(_) => Ok(()),
        }
    }

    /// The directory and name of a hard link's target, which must be a non-directory below
    /// the destination reached without symlinks.
    fn link_source(&mut self, raw: &str, target: &str) -> Result<(OwnedFd, OsString), CopyError> {
        let bad = || CopyError::BadHardlink {
            name: raw.into(),
            target: target.into(),
        };
        let mut rel = clean(target).map_err(|_| bad())?.ok_or_else(bad)?;
        let name = rel.pop().ok_or_else(bad)?;
        let saved = self.parent.take();
        let entered = self.enter(&rel, raw, false);
        let from = std::mem::replace(&mut self.parent, saved);
        entered.map_err(|_| bad())?;
        let from = from.expect("entered").dir;
        match fsx::lstat(from.as_fd(), &name) {
            Ok(st) if fsx::kind(&st) != FileType::Directory => Ok((from, name)),
            _ => Err(bad()),
        }
    }
}

/// A header's number; a blank field is 0, as Go's tar reader (the docker CLI's) reads it.
fn number(raw: &[u8], parsed: io::Result<u64>) -> Result<u64, CopyError> {
    if raw.iter().all(|b| *b == 0 || *b == b' ') {
        return Ok(0);
    }
    parsed.map_err(CopyError::Read)
}

fn is_symlink(dir: BorrowedFd<'_>, name: &OsStr) -> bool {
    fsx::lstat(dir, name).is_ok_and(|st| fsx::kind(&st) == FileType::Symlink)
}

/// The extended attributes a member's pax records carry (`SCHILY.xattr.NAME`) that a copy
/// sets: file capabilities, as Docker's archives carry them, and `user.*`. Others (`trusted.*`,
/// `security.selinux`, ...) describe the host's view of a file, not the file: not taken from an
/// archive.
fn xattrs<R: Read>(entry: &mut tar::Entry<'_, R>) -> Vec<(String, Vec<u8>)> {
    let Ok(Some(pax)) = entry.pax_extensions() else {
        return Vec::new();
    };
    pax.filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.key().ok()?.strip_prefix("SCHILY.xattr.")?.to_string();
            (name == fsx::CARRIED_XATTR || name.starts_with("user."))
                .then(|| (name, e.value_bytes().to_vec()))
        })
        .collect()
}
