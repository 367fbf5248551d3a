//! Writing part of the tree to disk, through [`RootDir`], for the steps that need host files:
//! a COPY or ADD that the cache did not have, a `RUN --mount=type=bind` of the context.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;

use berth_core::rootfs::RootDir;

use super::blobs::Blobs;
use super::tree::{Kind, Node};

/// Whether real path `path` is `top` or below it.
pub fn is_within(path: &str, top: &str) -> bool {
    top.is_empty()
        || path == top
        || path.len() > top.len() && path.starts_with(top) && path.as_bytes()[top.len()] == b'/'
}

/// What [`write`] wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Files, directories and symlinks.
    pub entries: u64,
    /// Bytes of file contents.
    pub bytes: u64,
}

/// Writes `node`, at real path `path`, and everything below it into `root`, with their modes
/// and mtimes (owned by the daemon, as an unpacked context was); subtrees at paths in `done`
/// are on disk already and are left alone. A directory's mode and mtime are set after its
/// entries are written.
pub fn write(
    node: &Node,
    path: &str,
    blobs: &Blobs,
    root: &RootDir,
    done: &BTreeSet<String>,
    written: &mut Written,
) -> io::Result<()> {
    if done.contains(path) {
        return Ok(());
    }
    let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(node.mtime.max(0) as u64);
    let times = fs::FileTimes::new().set_accessed(mtime).set_modified(mtime);
    let perm = fs::Permissions::from_mode(node.mode & 0o7777);
    written.entries += 1;
    match &node.kind {
        Kind::Dir(children) => {
            let at = if path.is_empty() { "/" } else { path };
            root.mkdir_all(at, 0o700)?;
            for (name, child) in children {
                let p = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}/{name}")
                };
                write(child, &p, blobs, root, done, written)?;
            }
            let d = root.open_dir(at)?;
            d.set_permissions(perm)?;
            d.set_times(times)
        }
        Kind::File(blob) => {
            let mut f = root.create_file(path, 0o600)?;
            written.bytes += io::copy(&mut blobs.reader(blob)?, &mut f)?;
            f.set_permissions(perm)?;
            f.set_times(times)
        }
        Kind::Symlink(target) => {
            root.symlink(path, target)?;
            let owner = (
                nix::unistd::geteuid().as_raw(),
                nix::unistd::getegid().as_raw(),
            );
            Ok(root.set_owner_and_mtime(path, owner, (node.mtime, 0))?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within() {
        assert!(is_within("a/b", ""));
        assert!(is_within("a/b", "a"));
        assert!(is_within("a", "a"));
        assert!(!is_within("ab", "a"));
        assert!(!is_within("a", "a/b"));
    }
}
