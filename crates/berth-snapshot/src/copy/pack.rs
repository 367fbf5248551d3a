//! A path of a tree as a tar stream, its entries named as Docker names them.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{FileType, Stat};
use tar::{EntryType, Header};

use super::resolve::{Located, Tree};
use super::{CopyError, fsx};

/// Writes a tar of what `loc` names to `out`. A file is one entry named `rebase`; a directory
/// is `rebase/` and its tree below as `rebase/...` (`/` as `rebase` gives `/`, `/bin`, ...):
/// the names Docker gives, which the docker CLI rewrites when it renames on copy. A mount
/// below a directory is archived with its own content, as the container sees it. A name the
/// container swaps for something else while the walk passes it is skipped, never followed.
pub fn pack(tree: &Tree, loc: &Located, rebase: &str, out: impl Write) -> Result<(), CopyError> {
    let mut p = Packer {
        tree,
        tar: tar::Builder::new(out),
        links: HashMap::new(),
    };
    let st = loc.lstat()?;
    if fsx::kind(&st) == FileType::Directory {
        let dir = loc.open_dir()?;
        let st = fsx::fstat(dir.as_fd()).map_err(|e| p.err("stat", &loc.path(), e))?;
        let prefix = if rebase == "/" { "" } else { rebase };
        p.entry(&st, &format!("{prefix}/"), None)?;
        p.walk(dir.as_fd(), &mut loc.at.clone(), prefix)?;
    } else {
        let name = loc.name.as_deref().unwrap_or(OsStr::new("."));
        p.leaf(loc.dir.as_fd(), name, &st, rebase)?;
    }
    p.tar
        .into_inner()
        .and_then(|mut w| w.flush())
        .map_err(|e| CopyError::io("writing the archive of", &loc.path(), e))
}

struct Packer<'a, W: Write> {
    tree: &'a Tree,
    tar: tar::Builder<W>,
    /// Files with more than one link already archived, by (device, inode): later ones are
    /// hard links to the first.
    links: HashMap<(u64, u64), String>,
}

impl<W: Write> Packer<'_, W> {
    /// The header of `st`, with the owner the container sees.
    fn header(&self, st: &Stat, kind: EntryType) -> Header {
        let mut h = header(st, kind);
        if let Some(ids) = &self.tree.ids {
            let (u, g) = ids.container_owner(st.st_uid, st.st_gid);
            h.set_uid(u.into());
            h.set_gid(g.into());
        }
        h
    }

    fn err(&self, op: &'static str, path: &str, e: io::Error) -> CopyError {
        CopyError::io(op, path, e)
    }

    /// Archives the entries of open directory `dir` (at `at` in the tree) as `prefix/name`.
    fn walk(
        &mut self,
        dir: BorrowedFd<'_>,
        at: &mut Vec<OsString>,
        prefix: &str,
    ) -> Result<(), CopyError> {
        let path = super::resolve::display(at);
        let names = fsx::list(dir).map_err(|e| self.err("listing", &path, e))?;
        for n in names {
            let name = format!("{prefix}/{}", n.to_string_lossy());
            at.push(n.clone());
            let r = self.child(dir, &n, at, &name);
            at.pop();
            r?;
        }
        Ok(())
    }

    fn child(
        &mut self,
        dir: BorrowedFd<'_>,
        n: &OsStr,
        at: &mut Vec<OsString>,
        name: &str,
    ) -> Result<(), CopyError> {
        let sub = match self.tree.mount_at(at) {
            Some(m) => fsx::reopen_dir(self.tree.root_of(Some(m))),
            None => match fsx::lstat(dir, n) {
                Ok(st) if fsx::kind(&st) != FileType::Directory => {
                    return self.leaf(dir, n, &st, name);
                }
                Ok(_) => fsx::open_dir(dir, n),
                Err(e) => Err(e),
            },
        };
        let sub = match sub {
            Ok(sub) => sub,
            Err(e) if swapped(&e) => return Ok(()),
            Err(e) => return Err(self.err("opening", &super::resolve::display(at), e)),
        };
        let st = fsx::fstat(sub.as_fd()).map_err(|e| self.err("stat", name, e))?;
        self.entry(&st, &format!("{name}/"), None)?;
        self.walk(sub.as_fd(), at, name)
    }

    /// Archives non-directory `n` of `dir` as `name`.
    fn leaf(
        &mut self,
        dir: BorrowedFd<'_>,
        n: &OsStr,
        st: &Stat,
        name: &str,
    ) -> Result<(), CopyError> {
        match fsx::kind(st) {
            FileType::RegularFile => self.file(dir, n, name),
            FileType::Symlink => match fsx::readlink(dir, n) {
                Ok(target) => self.entry(st, name, Some((EntryType::Symlink, target.as_bytes()))),
                Err(e) if swapped(&e) => Ok(()),
                Err(e) => Err(self.err("reading", name, e)),
            },
            // Sockets belong to a running process: tar has no type for them (Go skips them).
            FileType::Socket => Ok(()),
            _ => self.entry(st, name, None),
        }
    }

    /// A regular file, opened as a path handle first so that nothing else is ever opened.
    fn file(&mut self, dir: BorrowedFd<'_>, n: &OsStr, name: &str) -> Result<(), CopyError> {
        let fd: OwnedFd = match fsx::path_any(dir, n) {
            Ok(fd) => fd,
            Err(e) if swapped(&e) => return Ok(()),
            Err(e) => return Err(self.err("opening", name, e)),
        };
        let st = fsx::fstat(fd.as_fd()).map_err(|e| self.err("stat", name, e))?;
        if fsx::kind(&st) != FileType::RegularFile {
            return Ok(()); // swapped since the directory was read
        }
        if st.st_nlink > 1 {
            let key = (st.st_dev, st.st_ino);
            if let Some(first) = self.links.get(&key).cloned() {
                return self.entry(&st, name, Some((EntryType::Link, first.as_bytes())));
            }
            self.links.insert(key, name.to_string());
        }
        let file = fsx::reopen_file(fd.as_fd()).map_err(|e| self.err("opening", name, e))?;
        if let Some(caps) = fsx::carried_xattr(file.as_fd()) {
            let key = format!("SCHILY.xattr.{}", fsx::CARRIED_XATTR);
            self.tar
                .append_pax_extensions([(key.as_str(), caps.as_slice())])
                .map_err(|e| self.err("writing the archive entry", name, e))?;
        }
        let size = st.st_size as u64;
        // Exactly `size` bytes, whatever the file does meanwhile: the header is written first.
        let data = file.take(size).chain(io::repeat(0)).take(size);
        let mut h = self.header(&st, EntryType::Regular);
        h.set_size(size);
        self.append(h, name.as_bytes(), None, data)
    }

    /// An entry without data; `link` is a symlink's or hard link's type and target.
    fn entry(
        &mut self,
        st: &Stat,
        name: &str,
        link: Option<(EntryType, &[u8])>,
    ) -> Result<(), CopyError> {
        let kind = match (link, fsx::kind(st)) {
            (Some((k, _)), _) => k,
            (None, FileType::Directory) => EntryType::Directory,
            (None, FileType::Fifo) => EntryType::Fifo,
            (None, FileType::CharacterDevice) => EntryType::Char,
            (None, FileType::BlockDevice) => EntryType::Block,
            (None, _) => EntryType::Regular,
        };
        let mut h = self.header(st, kind);
        if matches!(kind, EntryType::Char | EntryType::Block) {
            let dev = st.st_rdev;
            let _ = h.set_device_major(rustix::fs::major(dev));
            let _ = h.set_device_minor(rustix::fs::minor(dev));
        }
        self.append(h, name.as_bytes(), link.map(|(_, t)| t), io::empty())
    }

    /// Appends `h` named `name` (and linking to `link`) byte for byte, with GNU long-name
    /// records where a name does not fit the header.
    fn append(
        &mut self,
        mut h: Header,
        name: &[u8],
        link: Option<&[u8]>,
        data: impl Read,
    ) -> Result<(), CopyError> {
        let w = |e| {
            CopyError::io(
                "writing the archive entry",
                &String::from_utf8_lossy(name),
                e,
            )
        };
        if let Some(link) = link {
            if link.len() > 100 {
                self.long(EntryType::GNULongLink, link).map_err(w)?;
            }
            let n = link.len().min(100);
            h.as_old_mut().linkname[..n].copy_from_slice(&link[..n]);
        }
        if name.len() > 100 {
            self.long(EntryType::GNULongName, name).map_err(w)?;
        }
        let n = name.len().min(100);
        h.as_old_mut().name[..n].copy_from_slice(&name[..n]);
        h.set_cksum();
        self.tar.append(&h, data).map_err(w)
    }

    fn long(&mut self, kind: EntryType, value: &[u8]) -> io::Result<()> {
        let mut h = Header::new_gnu();
        h.set_entry_type(kind);
        h.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
        h.set_size(value.len() as u64 + 1);
        h.set_mode(0o644);
        h.set_cksum();
        self.tar.append(&h, value.chain(&b"\0"[..]))
    }
}

fn header(st: &Stat, kind: EntryType) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(st.st_mode & 0o7777);
    h.set_uid(st.st_uid.into());
    h.set_gid(st.st_gid.into());
    h.set_mtime(st.st_mtime.max(0) as u64);
    h.set_size(0);
    h
}

/// Whether an open failed because the name became something else since it was listed (the
/// container changed it): gone, now a symlink, or no longer a directory.
fn swapped(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOENT | libc::ELOOP | libc::ENOTDIR)
    )
}
