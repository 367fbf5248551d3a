//! Directory → layer tar: the inverse of [`apply`](crate::apply). Used on a container's upper
//! directory (what a build step changed) and on directories a build assembles (COPY).
//!
//! Overlay whiteouts (0/0 character devices) become `.wh.<name>` entries and opaque directories
//! (`trusted.overlay.opaque=y`) get a `.wh..wh..opq` entry, as Docker writes them. Entries are
//! written in sorted order with their mode, owner and mtime, and files that share an inode become
//! hard links, so the same tree always gives the same tar (and the same diff ID).

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use tar::{EntryType, Header};

/// Writes the tree under `root` as a layer tar to `out`.
pub fn diff(root: &Path, out: impl Write) -> io::Result<()> {
    let mut b = tar::Builder::new(out);
    b.follow_symlinks(false);
    let mut links: HashMap<(u64, u64), String> = HashMap::new();
    walk(root, "", &mut b, &mut links)?;
    b.into_inner()?.flush()
}

fn walk<W: Write>(
    dir: &Path,
    prefix: &str,
    b: &mut tar::Builder<W>,
    links: &mut HashMap<(u64, u64), String>,
) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = format!("{prefix}{name}");
        let path = e.path();
        let meta = fs::symlink_metadata(&path)?;
        let ft = meta.file_type();
        if ft.is_char_device() && meta.rdev() == 0 {
            let wh = format!("{prefix}.wh.{name}");
            let mut h = header(&meta, EntryType::Regular);
            h.set_size(0);
            h.set_mode(0o644);
            b.append_data(&mut h, &wh, io::empty())?;
            continue;
        }
        if ft.is_dir() {
            let mut h = header(&meta, EntryType::Directory);
            h.set_size(0);
            b.append_data(&mut h, format!("{rel}/"), io::empty())?;
            if is_opaque(&path) {
                let mut h = header(&meta, EntryType::Regular);
                h.set_size(0);
                h.set_mode(0o644);
                b.append_data(&mut h, format!("{rel}/.wh..wh..opq"), io::empty())?;
            }
            walk(&path, &format!("{rel}/"), b, links)?;
            continue;
        }
        if ft.is_symlink() {
            let mut h = header(&meta, EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, &rel, fs::read_link(&path)?)?;
            continue;
        }
        if meta.nlink() > 1 && !ft.is_dir() {
            let key = (meta.dev(), meta.ino());
            if let Some(first) = links.get(&key) {
                let mut h = header(&meta, EntryType::Link);
                h.set_size(0);
                b.append_link(&mut h, &rel, first)?;
                continue;
            }
            links.insert(key, rel.clone());
        }
        if ft.is_file() {
            let mut h = header(&meta, EntryType::Regular);
            h.set_size(meta.len());
            b.append_data(&mut h, &rel, File::open(&path)?)?;
        } else if ft.is_fifo() {
            let mut h = header(&meta, EntryType::Fifo);
            h.set_size(0);
            b.append_data(&mut h, &rel, io::empty())?;
        } else if ft.is_char_device() || ft.is_block_device() {
            let kind = if ft.is_char_device() {
                EntryType::Char
            } else {
                EntryType::Block
            };
            let mut h = header(&meta, kind);
            h.set_size(0);
            let rdev = meta.rdev();
            h.set_device_major(libc::major(rdev))?;
            h.set_device_minor(libc::minor(rdev))?;
            b.append_data(&mut h, &rel, io::empty())?;
        }
        // Sockets are not part of a layer.
    }
    Ok(())
}

fn header(meta: &fs::Metadata, kind: EntryType) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(meta.mode() & 0o7777);
    h.set_uid(u64::from(meta.uid()));
    h.set_gid(u64::from(meta.gid()));
    h.set_mtime(meta.mtime().max(0) as u64);
    h
}

fn is_opaque(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    let mut v = [0u8; 2];
    // SAFETY: lgetxattr reads the attribute into a buffer of the given size; both live across
    // the call.
    let n = unsafe {
        libc::lgetxattr(
            c.as_ptr(),
            c"trusted.overlay.opaque".as_ptr(),
            v.as_mut_ptr().cast(),
            v.len(),
        )
    };
    n == 1 && v[0] == b'y'
}

#[cfg(test)]
mod tests {
    use super::*;

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
