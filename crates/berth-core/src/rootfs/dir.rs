//! A directory seen as `/`: a mounted rootfs, a read-only image view, a build context or a layer
//! being written. Paths resolve with `openat2(RESOLVE_IN_ROOT)` (through `pathrs`); every write
//! names its target by a parent directory handle and a single component, never by a host path.

use std::ffi::OsString;
use std::fs::{File, Permissions};
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use pathrs::flags::OpenFlags;
use pathrs::{Handle, InodeType, Root};
use rustix::fs::{AtFlags, Timestamps};

use super::{FsError, ReadRoot, is_regular, read_bounded};

/// What is at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symlink (only seen when the last component is not followed).
    Symlink,
    /// A FIFO, socket or device node.
    Other,
}

/// A directory tree whose every path resolves inside it.
#[derive(Debug)]
pub struct RootDir {
    root: Root,
    dir: PathBuf,
    /// `dir` with its symlinks resolved: the prefix of every resolved handle's path.
    real: PathBuf,
}

/// `pathrs`'s error as an `io::Error`, keeping the errno where there is one.
fn io(e: pathrs::error::Error) -> std::io::Error {
    match e.kind() {
        pathrs::error::ErrorKind::OsError(Some(errno)) => std::io::Error::from_raw_os_error(errno),
        _ => std::io::Error::other(e.to_string()),
    }
}

fn err<'a>(op: &'static str, path: &'a str) -> impl FnOnce(pathrs::error::Error) -> FsError + 'a {
    move |e| FsError::from_io(op, path, io(e))
}

/// A resolved handle, or `None` when nothing is at the path.
fn found(h: Result<Handle, pathrs::error::Error>, path: &str) -> Result<Option<Handle>, FsError> {
    match h.map_err(err("resolving", path)) {
        Ok(h) => Ok(Some(h)),
        Err(FsError::NotFound { .. } | FsError::NotDirectory { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// An empty path names the root, as `.` does.
fn or_root(path: &str) -> &str {
    if path.is_empty() { "/" } else { path }
}

/// `path` split into its parent (as an absolute in-root path) and its last name.
fn split(path: &str) -> Option<(PathBuf, OsString)> {
    let mut parts: Vec<OsString> = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(n) => parts.push(n.to_os_string()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    let name = parts.pop()?;
    let mut parent = PathBuf::from("/");
    parent.extend(parts);
    Some((parent, name))
}

impl RootDir {
    /// `dir` as a root.
    pub fn open(dir: &Path) -> Result<RootDir, FsError> {
        let root = Root::open(dir).map_err(err("opening the root", "/"))?;
        let real =
            std::fs::canonicalize(dir).map_err(|e| FsError::from_io("opening the root", "/", e))?;
        Ok(RootDir {
            root,
            dir: dir.to_path_buf(),
            real,
        })
    }

    /// The host directory this root is.
    pub fn host_dir(&self) -> &Path {
        &self.dir
    }

    /// What is at `path`, the last component followed; `None` if nothing is.
    pub fn kind(&self, path: &str) -> Result<Option<Kind>, FsError> {
        self.kind_of(self.root.resolve(or_root(path)), path)
    }

    /// What is at `path`, the last component not followed.
    pub fn kind_nofollow(&self, path: &str) -> Result<Option<Kind>, FsError> {
        self.kind_of(self.root.resolve_nofollow(or_root(path)), path)
    }

    fn kind_of(
        &self,
        h: Result<Handle, pathrs::error::Error>,
        path: &str,
    ) -> Result<Option<Kind>, FsError> {
        let Some(h) = found(h, path)? else {
            return Ok(None);
        };
        let st =
            rustix::fs::fstat(h.as_fd()).map_err(|e| FsError::from_io("stat", path, e.into()))?;
        Ok(Some(match st.st_mode & libc::S_IFMT {
            libc::S_IFREG => Kind::File,
            libc::S_IFDIR => Kind::Dir,
            libc::S_IFLNK => Kind::Symlink,
            _ => Kind::Other,
        }))
    }

    /// The host path of what `path` names, its symlinks followed inside the root; `None` if
    /// nothing is there. Only for trees nothing else writes to while berth uses the answer
    /// (a build context, a read-only image view): for anything else, use a handle.
    pub fn host_path(&self, path: &str) -> Result<Option<PathBuf>, FsError> {
        self.host_path_of(self.root.resolve(or_root(path)), path)
    }

    /// As [`RootDir::host_path`], the last component not followed.
    pub fn host_path_nofollow(&self, path: &str) -> Result<Option<PathBuf>, FsError> {
        self.host_path_of(self.root.resolve_nofollow(or_root(path)), path)
    }

    fn host_path_of(
        &self,
        h: Result<Handle, pathrs::error::Error>,
        path: &str,
    ) -> Result<Option<PathBuf>, FsError> {
        use std::os::fd::AsRawFd;
        let Some(h) = found(h, path)? else {
            return Ok(None);
        };
        let real = std::fs::read_link(format!("/proc/self/fd/{}", h.as_fd().as_raw_fd()))
            .map_err(|e| FsError::from_io("resolving", path, e))?;
        // The handle came from inside the root, so its path is below it.
        Ok(Some(real))
    }

    /// `path` as an absolute path inside the root with the symlinks of its existing parent
    /// directories followed; the last component is kept as it is. Where a parent does not
    /// exist yet, the rest is taken as written.
    pub fn real_path(&self, path: &str) -> Result<String, FsError> {
        let Some((parent, name)) = split(path) else {
            return Ok("/".into());
        };
        let mut missing: Vec<OsString> = vec![name];
        let mut cur = parent;
        let real_parent = loop {
            if let Some(p) = self.host_path(&cur.to_string_lossy())? {
                break p;
            }
            match (cur.file_name().map(|n| n.to_os_string()), cur.parent()) {
                (Some(n), Some(up)) => {
                    missing.push(n);
                    cur = up.to_path_buf();
                }
                _ => break self.real.clone(),
            }
        };
        let mut out = PathBuf::from("/");
        out.push(
            real_parent
                .strip_prefix(&self.real)
                .unwrap_or(Path::new("")),
        );
        out.extend(missing.iter().rev());
        Ok(out.to_string_lossy().into_owned())
    }

    /// Creates directory `path` and its missing parents with `mode`; existing ones are kept.
    pub fn mkdir_all(&self, path: &str, mode: u32) -> Result<(), FsError> {
        self.root
            .mkdir_all(path, &Permissions::from_mode(mode))
            .map(drop)
            .map_err(err("creating directory", path))
    }

    /// The directory at `path` opened for reading and for changing its attributes.
    pub fn open_dir(&self, path: &str) -> Result<File, FsError> {
        self.root
            .open_subpath(path, OpenFlags::O_RDONLY | OpenFlags::O_DIRECTORY)
            .map_err(err("opening directory", path))
    }

    /// A new, empty regular file at `path` with `mode`, opened for writing; its parents are
    /// created (0755) and a file or symlink already there is replaced, never written through.
    pub fn create_file(&self, path: &str, mode: u32) -> Result<File, FsError> {
        self.clear_for(path)?;
        self.root
            .create_file(
                path,
                OpenFlags::O_WRONLY | OpenFlags::O_EXCL | OpenFlags::O_NOFOLLOW,
                &Permissions::from_mode(mode),
            )
            .map_err(err("creating", path))
    }

    /// A symlink at `path` pointing at `target` (which is stored as given and never resolved
    /// here); parents are created and a file or symlink already there is replaced.
    pub fn symlink(&self, path: &str, target: &Path) -> Result<(), FsError> {
        self.clear_for(path)?;
        self.root
            .create(path, &InodeType::Symlink(target.to_path_buf()))
            .map_err(err("creating symlink", path))
    }

    /// Makes room for a new entry at `path`: parents exist, and a non-directory there is gone.
    fn clear_for(&self, path: &str) -> Result<(), FsError> {
        let Some((parent, _)) = split(path) else {
            return Err(FsError::NotRegular { path: path.into() });
        };
        self.mkdir_all(&parent.to_string_lossy(), 0o755)?;
        match self.kind_nofollow(path)? {
            Some(Kind::Dir) => Err(FsError::NotRegular { path: path.into() }),
            Some(_) => self.root.remove_file(path).map_err(err("replacing", path)),
            None => Ok(()),
        }
    }

    /// Sets owner and modification time of `path` itself (a symlink is not followed).
    pub fn set_owner_and_mtime(
        &self,
        path: &str,
        owner: (u32, u32),
        mtime: (i64, i64),
    ) -> Result<(), FsError> {
        let Some((parent, name)) = split(path) else {
            return Ok(());
        };
        let dir = self.root.resolve(&parent).map_err(err("resolving", path))?;
        let (uid, gid) = owner;
        rustix::fs::chownat(
            dir.as_fd(),
            &name,
            Some(rustix::fs::Uid::from_raw(uid)),
            Some(rustix::fs::Gid::from_raw(gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|e| FsError::from_io("changing owner of", path, e.into()))?;
        let t = rustix::fs::Timespec {
            tv_sec: mtime.0,
            tv_nsec: mtime.1 as _,
        };
        rustix::fs::utimensat(
            dir.as_fd(),
            &name,
            &Timestamps {
                last_access: t,
                last_modification: t,
            },
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|e| FsError::from_io("setting times of", path, e.into()))
    }

    /// The regular file at `path` (symlinks followed inside the root), opened for reading.
    pub fn open_file(&self, path: &str) -> Result<File, FsError> {
        let h = self.root.resolve(path).map_err(err("opening", path))?;
        let st =
            rustix::fs::fstat(h.as_fd()).map_err(|e| FsError::from_io("stat", path, e.into()))?;
        if !is_regular(st.st_mode) {
            return Err(FsError::NotRegular { path: path.into() });
        }
        h.reopen(OpenFlags::O_RDONLY).map_err(err("opening", path))
    }
}

impl ReadRoot for RootDir {
    fn read_file(&self, path: &str, limit: u64) -> Result<Vec<u8>, FsError> {
        read_bounded(self.open_file(path)?, path, limit)
    }
}
