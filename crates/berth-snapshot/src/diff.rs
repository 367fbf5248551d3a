//! Directory → tar: the inverse of [`apply`](crate::apply). [`diff`] writes a layer from a
//! container's upper directory (what a build step or a commit changed) or a directory a build
//! assembles (COPY); [`export`] writes a container's merged filesystem (`docker export`).
//!
//! The tree is walked through directory handles (`berth_core::rootfs::walk`), never by host
//! path, so a running container that swaps a directory for a symlink cannot send the walk
//! outside it. In a layer, overlay whiteouts (0/0 character devices) become `.wh.<name>` entries
//! and opaque directories (`trusted.overlay.opaque=y`) get a `.wh..wh..opq` entry, as Docker
//! writes them. Entries are written in sorted order with their mode, owner and mtime, and files
//! that share an inode become hard links, so the same tree always gives the same tar (and the
//! same diff ID).

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::Path;

use berth_core::idmap::IdMap;
use berth_core::rootfs::walk::{self, Entry, Visit, file_type};
use tar::{EntryType, Header};

/// What kind of tar is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A layer: whiteouts and opaque directories in Docker's tar form.
    Layer,
    /// A merged filesystem: extended attributes kept (but overlay's own).
    Export,
}

/// Writes the tree under `root` as a layer tar to `out`.
pub fn diff(root: &Path, out: impl Write) -> io::Result<()> {
    diff_excluding(root, out, &HashSet::new())
}

/// [`diff`] without the paths in `exclude` (relative, `etc/hosts`) and what is below them.
pub fn diff_excluding(root: &Path, out: impl Write, exclude: &HashSet<String>) -> io::Result<()> {
    diff_mapped(root, out, exclude, None)
}

/// [`diff_excluding`] of a tree that holds host IDs of a user namespace `ids`: the tar has the
/// owners the container sees.
pub fn diff_mapped(
    root: &Path,
    out: impl Write,
    exclude: &HashSet<String>,
    ids: Option<&IdMap>,
) -> io::Result<()> {
    write_tree(walk::open_root(root)?, out, Kind::Layer, exclude, ids)
}

/// Writes the tree under the directory `root` as a plain tar to `out`, extended attributes
/// included (except `trusted.overlay.*`).
pub fn export(root: impl AsFd, out: impl Write) -> io::Result<()> {
    export_mapped(root, out, None)
}

/// [`export`] of a tree that holds host IDs of a user namespace `ids`.
pub fn export_mapped(root: impl AsFd, out: impl Write, ids: Option<&IdMap>) -> io::Result<()> {
    write_tree(root, out, Kind::Export, &HashSet::new(), ids)
}

fn write_tree(
    root: impl AsFd,
    out: impl Write,
    kind: Kind,
    exclude: &HashSet<String>,
    ids: Option<&IdMap>,
) -> io::Result<()> {
    let mut w = TreeWriter {
        ids,
        exclude,
        b: tar::Builder::new(out),
        links: HashMap::new(),
        kind,
        dev: rustix::fs::fstat(&root)?.st_dev,
    };
    walk::walk(root, &mut |e: &Entry| w.entry(e))?;
    w.b.into_inner()?.flush()
}

struct TreeWriter<'a, W: Write> {
    /// The user namespace whose host IDs the tree holds, shifted back in the tar.
    ids: Option<&'a IdMap>,
    exclude: &'a HashSet<String>,
    b: tar::Builder<W>,
    /// The first path of each multiply linked inode.
    links: HashMap<(u64, u64), String>,
    kind: Kind,
    /// The root's device: a directory on another is a mount point, written but not entered.
    dev: u64,
}

impl<W: Write> TreeWriter<'_, W> {
    fn entry(&mut self, e: &Entry) -> io::Result<Visit> {
        if self.exclude.contains(e.path) {
            return Ok(Visit::Skip);
        }
        let owned = self.mapped(e.stat);
        let st = &owned;
        let ft = file_type(st);
        if self.kind == Kind::Layer && e.is_whiteout() {
            let wh = match e.path.rsplit_once('/') {
                Some((dir, name)) => format!("{dir}/.wh.{name}"),
                None => format!(".wh.{}", e.path),
            };
            self.empty(&mut marker(st), &wh)?;
            return Ok(Visit::Descend);
        }
        if ft == libc::S_IFSOCK {
            return Ok(Visit::Skip); // not part of a tar
        }
        self.xattrs(e)?;
        let rel = e.path;
        match ft {
            libc::S_IFDIR => {
                self.empty(&mut header(st, EntryType::Directory), &format!("{rel}/"))?;
                if self.kind == Kind::Layer
                    && e.xattr("trusted.overlay.opaque").as_deref() == Some(b"y")
                {
                    self.empty(&mut marker(st), &format!("{rel}/.wh..wh..opq"))?;
                }
                if st.st_dev != self.dev {
                    return Ok(Visit::Skip);
                }
            }
            libc::S_IFLNK => {
                let mut h = header(st, EntryType::Symlink);
                self.b.append_link(&mut h, rel, e.read_link()?)?;
            }
            _ if self.linked(e)? => {}
            libc::S_IFREG => {
                let mut h = header(st, EntryType::Regular);
                h.set_size(st.st_size as u64);
                self.b.append_data(&mut h, rel, e.open_file()?)?;
            }
            libc::S_IFIFO => self.empty(&mut header(st, EntryType::Fifo), rel)?,
            libc::S_IFCHR | libc::S_IFBLK => {
                let kind = if ft == libc::S_IFCHR {
                    EntryType::Char
                } else {
                    EntryType::Block
                };
                let mut h = header(st, kind);
                h.set_device_major(libc::major(st.st_rdev))?;
                h.set_device_minor(libc::minor(st.st_rdev))?;
                self.empty(&mut h, rel)?;
            }
            _ => {}
        }
        Ok(Visit::Descend)
    }

    /// `st` with the owner the container sees.
    fn mapped(&self, st: &rustix::fs::Stat) -> rustix::fs::Stat {
        let mut st = *st;
        if let Some(ids) = self.ids {
            (st.st_uid, st.st_gid) = ids.container_owner(st.st_uid, st.st_gid);
        }
        st
    }

    /// Writes a hard link if `e` is another name of an inode already written.
    fn linked(&mut self, e: &Entry) -> io::Result<bool> {
        if e.stat.st_nlink <= 1 {
            return Ok(false);
        }
        let key = (e.stat.st_dev, e.stat.st_ino);
        if let Some(first) = self.links.get(&key) {
            let mut h = header(&self.mapped(e.stat), EntryType::Link);
            self.b.append_link(&mut h, e.path, first)?;
            return Ok(true);
        }
        self.links.insert(key, e.path.to_string());
        Ok(false)
    }

    /// The entry's extended attributes as a PAX header before it (exports only).
    fn xattrs(&mut self, e: &Entry) -> io::Result<()> {
        if self.kind != Kind::Export {
            return Ok(());
        }
        let attrs: Vec<(String, Vec<u8>)> = e
            .xattrs()?
            .into_iter()
            .filter(|(k, _)| !k.starts_with("trusted.overlay."))
            .map(|(k, v)| (format!("SCHILY.xattr.{k}"), v))
            .collect();
        if attrs.is_empty() {
            return Ok(());
        }
        self.b
            .append_pax_extensions(attrs.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
    }

    fn empty(&mut self, h: &mut Header, path: &str) -> io::Result<()> {
        h.set_size(0);
        self.b.append_data(h, path, io::empty())
    }
}

/// The header of a whiteout or opaque marker: an empty 0644 file.
fn marker(st: &rustix::fs::Stat) -> Header {
    let mut h = header(st, EntryType::Regular);
    h.set_mode(0o644);
    h
}

fn header(st: &rustix::fs::Stat, kind: EntryType) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(st.st_mode & 0o7777);
    h.set_uid(u64::from(st.st_uid));
    h.set_gid(u64::from(st.st_gid));
    h.set_mtime(st.st_mtime.max(0) as u64);
    h.set_size(0);
    h
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::MetadataExt;

    use super::*;

    #[test]
    fn export_keeps_xattrs_but_overlay_ones_and_skips_sockets() {
        let src = tempfile::tempdir().unwrap();
        let a = src.path();
        fs::write(a.join("f"), "x").unwrap();
        rustix::fs::setxattr(
            a.join("f"),
            "user.note",
            b"hi",
            rustix::fs::XattrFlags::empty(),
        )
        .unwrap();
        fs::create_dir(a.join("d")).unwrap();
        rustix::fs::setxattr(
            a.join("d"),
            "trusted.overlay.opaque",
            b"y",
            rustix::fs::XattrFlags::empty(),
        )
        .unwrap();
        let _sock = std::os::unix::net::UnixListener::bind(a.join("sock")).unwrap();
        let mut out = Vec::new();
        export(walk::open_root(a).unwrap(), &mut out).unwrap();
        let mut ar = tar::Archive::new(&out[..]);
        let mut seen = Vec::new();
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path().unwrap().display().to_string();
            let attrs: Vec<String> = e
                .pax_extensions()
                .unwrap()
                .into_iter()
                .flatten()
                .map(|x| x.unwrap().key().unwrap().to_string())
                .collect();
            seen.push(format!("{name} {attrs:?}"));
        }
        assert_eq!(seen, ["d/ []", "f [\"SCHILY.xattr.user.note\"]"]);
    }

    #[test]
    fn round_trips_through_apply_with_whiteouts() {
        let src = tempfile::tempdir().unwrap();
        let a = src.path();
        fs::create_dir_all(a.join("d/sub")).unwrap();
        fs::write(a.join("d/sub/f"), "content").unwrap();
        fs::hard_link(a.join("d/sub/f"), a.join("d/hard")).unwrap();
        std::os::unix::fs::symlink("sub/f", a.join("d/link")).unwrap();
        let mut tar = Vec::new();
        diff(a, &mut tar).unwrap();
        // The same tree gives the same bytes.
        let mut again = Vec::new();
        diff(a, &mut again).unwrap();
        assert_eq!(tar, again);
        let dst = tempfile::tempdir().unwrap();
        crate::apply(dst.path(), &tar[..]).unwrap();
        let b = dst.path();
        assert_eq!(fs::read_to_string(b.join("d/hard")).unwrap(), "content");
        assert_eq!(fs::read_link(b.join("d/link")).unwrap(), Path::new("sub/f"));
        assert_eq!(
            fs::metadata(b.join("d/hard")).unwrap().ino(),
            fs::metadata(b.join("d/sub/f")).unwrap().ino()
        );
        // A whiteout made by apply is written back as `.wh.`.
        let mut wh = tar::Builder::new(Vec::new());
        let mut h = Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h.set_cksum();
        wh.append_data(&mut h, "gone/.wh.file", io::empty())
            .unwrap();
        let layer = tempfile::tempdir().unwrap();
        crate::apply(layer.path(), &wh.into_inner().unwrap()[..]).unwrap();
        let mut out = Vec::new();
        diff(layer.path(), &mut out).unwrap();
        let names: Vec<String> = tar::Archive::new(&out[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert!(names.contains(&"gone/.wh.file".to_string()), "{names:?}");
    }
}
