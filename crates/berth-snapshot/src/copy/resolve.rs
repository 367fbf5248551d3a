//! A tree of mounts and the resolution of a path in it, one component at a time.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path};

use rustix::fs::FileType;

use super::{CopyError, fsx};

/// Symlinks followed while resolving one path before it counts as a loop (Linux's limit).
const MAX_LINKS: u32 = 40;

/// A directory seen as `/`, with other directories mounted over some of its paths.
#[derive(Debug)]
pub struct Tree {
    root: OwnedFd,
    mounts: Vec<TreeMount>,
    /// The user namespace whose host IDs the tree holds: archives show the container's owners
    /// and extraction writes the host's.
    pub(crate) ids: Option<berth_core::idmap::IdMap>,
}

#[derive(Debug)]
struct TreeMount {
    target: Vec<OsString>,
    root: OwnedFd,
    readonly: bool,
}

/// Where a path of a [`Tree`] is: a directory handle and the name in it, held open.
#[derive(Debug)]
pub struct Located {
    /// The directory holding it (a path handle).
    pub(crate) dir: OwnedFd,
    /// Its name in `dir`; `None` when it is `dir` itself (the root, or a mount's root).
    pub(crate) name: Option<OsString>,
    /// The path in the tree, cleaned, symlinks resolved up to the last component.
    pub(crate) at: Vec<OsString>,
    /// The mount it is on (an index), `None` for the root directory's own files.
    pub(crate) mount: Option<usize>,
}

/// What `stat` says about a path, as the archive API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStat {
    /// The `st_mode`.
    pub mode: u32,
    /// Size in bytes.
    pub size: u64,
    /// Modification time: seconds and nanoseconds since the epoch.
    pub mtime: (i64, i64),
}

fn components(path: &OsStr) -> VecDeque<OsString> {
    Path::new(path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

/// `/a/b` for `[a, b]`.
pub(crate) fn display(at: &[OsString]) -> String {
    let mut s = String::new();
    for c in at {
        s.push('/');
        s.push_str(&c.to_string_lossy());
    }
    if s.is_empty() { "/".into() } else { s }
}

/// `at` + `rest`, with `..` applied lexically.
fn lexical(at: &[OsString], rest: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut out = at.to_vec();
    for c in rest {
        if c == ".." {
            out.pop();
        } else {
            out.push(c);
        }
    }
    out
}

fn dup(fd: &OwnedFd) -> io::Result<OwnedFd> {
    fd.try_clone()
}

impl Tree {
    /// `dir` as the root, with no mounts over it.
    pub fn open(dir: &Path) -> io::Result<Tree> {
        Ok(Tree {
            root: open_root(dir)?,
            mounts: Vec::new(),
            ids: None,
        })
    }

    /// The tree as a container in user namespace `ids` sees it.
    pub fn with_ids(mut self, ids: Option<berth_core::idmap::IdMap>) -> Tree {
        self.ids = ids;
        self
    }

    /// Adds directory `source` mounted at `target` (an absolute path in the tree).
    pub fn mount(&mut self, target: &str, source: &Path, readonly: bool) -> io::Result<()> {
        let target = lexical(&[], components(OsStr::new(target)));
        self.mounts.push(TreeMount {
            target,
            root: open_root(source)?,
            readonly,
        });
        Ok(())
    }

    /// The mount whose target is exactly `at`; the last added wins, as later mounts cover
    /// earlier ones.
    pub(crate) fn mount_at(&self, at: &[OsString]) -> Option<usize> {
        self.mounts.iter().rposition(|m| m.target == at)
    }

    /// The root handle of mount `m`, or of the tree for `None`.
    pub(crate) fn root_of(&self, m: Option<usize>) -> BorrowedFd<'_> {
        match m {
            Some(i) => self.mounts[i].root.as_fd(),
            None => self.root.as_fd(),
        }
    }

    /// Whether mount `m` is read-only (the root directory never is here: the caller decides).
    pub fn readonly(&self, m: Option<usize>) -> bool {
        m.is_some_and(|i| self.mounts[i].readonly)
    }

    /// Resolves `path` (absolute or relative to `/`). Symlinks on the way are followed inside
    /// the tree; the last component too when `follow_last`.
    pub fn locate(&self, path: &str, follow_last: bool) -> Result<Located, CopyError> {
        self.walk(path, follow_last).map_err(|(e, _)| e)
    }

    /// The path `path` leads to with every symlink followed, as Docker reports a symlink's
    /// target; a part that does not exist is taken as written.
    pub fn resolved_path(&self, path: &str) -> Result<String, CopyError> {
        match self.walk(path, true) {
            Ok(l) => Ok(display(&l.at)),
            Err((CopyError::NotFound { .. }, Some(lexical))) => Ok(display(&lexical)),
            Err((e, _)) => Err(e),
        }
    }

    /// What [`Tree::locate`] does; a missing component's error comes with the lexical rest.
    fn walk(
        &self,
        path: &str,
        follow_last: bool,
    ) -> Result<Located, (CopyError, Option<Vec<OsString>>)> {
        let fail = |op, at: &[OsString], e| (CopyError::io(op, &display(at), e), None);
        let mut todo = components(OsStr::new(path));
        let mut at: Vec<OsString> = Vec::new();
        let mut mount = None;
        let mut dir = dup(&self.root).map_err(|e| fail("opening", &at, e))?;
        let mut links = 0;
        while let Some(c) = todo.pop_front() {
            if c == ".." {
                at.pop();
                (dir, mount) = self.reopen(&at).map_err(|e| (e, None))?;
                continue;
            }
            let mut child = at.clone();
            child.push(c.clone());
            if let Some(m) = self.mount_at(&child) {
                dir = dup(&self.mounts[m].root).map_err(|e| fail("opening", &child, e))?;
                (at, mount) = (child, Some(m));
                continue;
            }
            let st = match fsx::lstat(dir.as_fd(), &c) {
                Ok(st) => st,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    let rest = lexical(&child, todo);
                    return Err((
                        CopyError::NotFound {
                            path: display(&rest),
                        },
                        Some(rest),
                    ));
                }
                Err(e) => return Err(fail("stat", &child, e)),
            };
            let last = todo.is_empty();
            match fsx::kind(&st) {
                FileType::Symlink if !last || follow_last => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err((CopyError::Loop { path: path.into() }, None));
                    }
                    let target =
                        fsx::readlink(dir.as_fd(), &c).map_err(|e| fail("reading", &child, e))?;
                    let mut next = components(&target);
                    next.extend(todo);
                    todo = next;
                    if Path::new(&target).is_absolute() {
                        at.clear();
                        (dir, mount) = self.reopen(&at).map_err(|e| (e, None))?;
                    }
                }
                _ if last => {
                    return Ok(Located {
                        dir,
                        name: Some(c),
                        at: child,
                        mount,
                    });
                }
                FileType::Directory => {
                    dir = fsx::path_dir(dir.as_fd(), &c).map_err(|e| fail("opening", &child, e))?;
                    at = child;
                }
                _ => {
                    return Err((
                        CopyError::NotDirectory {
                            path: display(&child),
                        },
                        None,
                    ));
                }
            }
        }
        Ok(Located {
            dir,
            name: None,
            at,
            mount,
        })
    }

    /// The directory at `at` (a path of real directories, resolved before) opened again from
    /// the root, for `..`: never by opening `..` itself, which could climb out of a moved
    /// directory.
    fn reopen(&self, at: &[OsString]) -> Result<(OwnedFd, Option<usize>), CopyError> {
        let mut mount = None;
        let mut dir = dup(&self.root).map_err(|e| CopyError::io("opening", "/", e))?;
        for i in 0..at.len() {
            let here = &at[..=i];
            dir = match self.mount_at(here) {
                Some(m) => {
                    mount = Some(m);
                    dup(&self.mounts[m].root)
                }
                None => fsx::path_dir(dir.as_fd(), &at[i]),
            }
            .map_err(|e| CopyError::io("opening", &display(here), e))?;
        }
        Ok((dir, mount))
    }
}

impl Located {
    /// The path in the tree.
    pub fn path(&self) -> String {
        display(&self.at)
    }

    /// The mount it is on, `None` for the root directory's own files.
    pub fn mount(&self) -> Option<usize> {
        self.mount
    }

    /// `lstat` of it.
    pub fn stat(&self) -> Result<PathStat, CopyError> {
        let st = self.lstat()?;
        Ok(PathStat {
            mode: st.st_mode,
            size: st.st_size as u64,
            mtime: (st.st_mtime, st.st_mtime_nsec as i64),
        })
    }

    pub(crate) fn lstat(&self) -> Result<rustix::fs::Stat, CopyError> {
        match &self.name {
            Some(n) => fsx::lstat(self.dir.as_fd(), n),
            None => fsx::fstat(self.dir.as_fd()),
        }
        .map_err(|e| CopyError::io("stat", &self.path(), e))
    }

    /// It as an open directory; an error if it is anything else.
    pub(crate) fn open_dir(&self) -> Result<OwnedFd, CopyError> {
        match &self.name {
            Some(n) => fsx::open_dir(self.dir.as_fd(), n),
            None => fsx::reopen_dir(self.dir.as_fd()),
        }
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => CopyError::NotDirectory { path: self.path() },
            _ => CopyError::io("opening", &self.path(), e),
        })
    }
}

fn open_root(dir: &Path) -> io::Result<OwnedFd> {
    let flags =
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC;
    Ok(rustix::fs::open(dir, flags, rustix::fs::Mode::empty())?)
}
