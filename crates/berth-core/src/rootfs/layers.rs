//! A stack of overlay layer directories read as the kernel merges them, without mounting them.
//!
//! The walk goes one component at a time. For each name the layers that hold the current
//! directory are searched top down: a whiteout (a 0/0 character device) means the name is gone,
//! a directory merges with the directories of the same name below it until one of them is opaque
//! (`trusted.overlay.opaque=y`) or something else is in the way, and a symlink restarts the walk
//! with its target inside the stack. Every lookup is `O_NOFOLLOW` relative to a directory handle.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags};

use super::{FsError, ReadRoot, is_regular, read_bounded};

/// Symlinks followed in one lookup before it is called a loop, as the kernel counts.
const MAX_LINKS: usize = 40;

/// Image layers (and a container's writable layer), topmost first.
#[derive(Debug, Clone)]
pub struct Layers {
    dirs: Vec<PathBuf>,
}

/// What a name in the merged directory is.
enum Entry {
    /// A directory: its handles in each layer that contributes to it, topmost first.
    Dir(Vec<OwnedFd>),
    Symlink(OsString),
    /// Anything else, found in the directory `parent` of one layer.
    Other {
        parent: OwnedFd,
    },
}

fn open_dir(dir: impl AsFd, name: &OsStr) -> rustix::io::Result<OwnedFd> {
    rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

fn is_opaque(dir: impl AsFd) -> bool {
    let mut v = [0u8; 1];
    matches!(rustix::fs::fgetxattr(dir, "trusted.overlay.opaque", &mut v), Ok(1) if v[0] == b'y')
}

fn is_whiteout(st: &rustix::fs::Stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFCHR && st.st_rdev == 0
}

impl Layers {
    /// The stack `dirs`, topmost first.
    pub fn new(dirs: Vec<PathBuf>) -> Layers {
        Layers { dirs }
    }

    fn roots(&self, path: &str) -> Result<Vec<OwnedFd>, FsError> {
        self.dirs
            .iter()
            .filter_map(|d| match open_dir(rustix::fs::CWD, d.as_os_str()) {
                Ok(fd) => Some(Ok(fd)),
                // A layer may be an empty upper that was never created.
                Err(rustix::io::Errno::NOENT) => None,
                Err(e) => Some(Err(FsError::from_io("opening a layer for", path, e.into()))),
            })
            .collect()
    }

    /// `name` in the merged directory whose layer handles are `dirs`.
    fn entry(&self, dirs: &[OwnedFd], name: &OsStr, path: &str) -> Result<Option<Entry>, FsError> {
        let stat = |d: &OwnedFd| rustix::fs::statat(d, name, AtFlags::SYMLINK_NOFOLLOW);
        for (i, d) in dirs.iter().enumerate() {
            let st = match stat(d) {
                Ok(st) => st,
                Err(rustix::io::Errno::NOENT) => continue,
                Err(e) => return Err(FsError::from_io("looking up", path, e.into())),
            };
            if is_whiteout(&st) {
                return Ok(None);
            }
            return Ok(Some(match st.st_mode & libc::S_IFMT {
                libc::S_IFDIR => {
                    let mut merged = Vec::new();
                    for d in &dirs[i..] {
                        match stat(d) {
                            Err(rustix::io::Errno::NOENT) => continue,
                            Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFDIR => {}
                            _ => break, // a whiteout or a non-directory hides the rest
                        }
                        let fd = open_dir(d, name)
                            .map_err(|e| FsError::from_io("opening", path, e.into()))?;
                        let opaque = is_opaque(&fd);
                        merged.push(fd);
                        if opaque {
                            break;
                        }
                    }
                    Entry::Dir(merged)
                }
                libc::S_IFLNK => {
                    let target = rustix::fs::readlinkat(d, name, Vec::new())
                        .map_err(|e| FsError::from_io("reading link", path, e.into()))?;
                    Entry::Symlink(OsStr::from_bytes(target.as_bytes()).to_os_string())
                }
                _ => Entry::Other {
                    parent: d
                        .try_clone()
                        .map_err(|e| FsError::from_io("looking up", path, e))?,
                },
            }));
        }
        Ok(None)
    }

    /// The merged directory at `cur` (names of directories only).
    fn walk(&self, cur: &[OsString], path: &str) -> Result<Vec<OwnedFd>, FsError> {
        let mut dirs = self.roots(path)?;
        for name in cur {
            dirs = match self.entry(&dirs, name, path)? {
                Some(Entry::Dir(d)) => d,
                _ => return Err(FsError::NotFound { path: path.into() }),
            };
        }
        Ok(dirs)
    }

    /// The parent directory handle and name of the non-directory at `path`.
    fn lookup(&self, path: &str) -> Result<(OwnedFd, OsString), FsError> {
        let not_found = || FsError::NotFound { path: path.into() };
        let mut pending: Vec<OsString> = components(Path::new(path));
        let mut cur: Vec<OsString> = Vec::new();
        let mut dirs = self.roots(path)?;
        let mut links = 0;
        while let Some(name) = pending.pop() {
            if name == ".." {
                cur.pop();
                dirs = self.walk(&cur, path)?;
                continue;
            }
            match self.entry(&dirs, &name, path)?.ok_or_else(not_found)? {
                Entry::Dir(d) => {
                    cur.push(name);
                    dirs = d;
                }
                Entry::Symlink(target) => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(FsError::Loop { path: path.into() });
                    }
                    if Path::new(&target).is_absolute() {
                        cur.clear();
                        dirs = self.roots(path)?;
                    }
                    pending.extend(components(Path::new(&target)));
                }
                Entry::Other { parent } if pending.is_empty() => return Ok((parent, name)),
                Entry::Other { .. } => return Err(FsError::NotDirectory { path: path.into() }),
            }
        }
        Err(FsError::NotRegular { path: path.into() })
    }

    /// The regular file at `path`, opened for reading.
    pub fn open_file(&self, path: &str) -> Result<File, FsError> {
        let (parent, name) = self.lookup(path)?;
        let fd = rustix::fs::openat(
            &parent,
            &name,
            OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| FsError::from_io("opening", path, e.into()))?;
        let st = rustix::fs::fstat(&fd).map_err(|e| FsError::from_io("stat", path, e.into()))?;
        if !is_regular(st.st_mode) {
            return Err(FsError::NotRegular { path: path.into() });
        }
        // Reopened through its handle, so it is the file whose type was just checked.
        use std::os::fd::AsRawFd;
        File::open(format!("/proc/self/fd/{}", fd.as_raw_fd()))
            .map_err(|e| FsError::from_io("opening", path, e))
    }
}

/// `path`'s names in reverse order (for popping), `.` dropped, `..` kept.
fn components(path: &Path) -> Vec<OsString> {
    let mut out: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    out.reverse();
    out
}

impl ReadRoot for Layers {
    fn read_file(&self, path: &str, limit: u64) -> Result<Vec<u8>, FsError> {
        read_bounded(self.open_file(path)?, path, limit)
    }
}
