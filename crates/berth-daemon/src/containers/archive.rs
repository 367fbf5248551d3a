//! The archive API's service (`docker cp`): the stat of a path in a container, a tar of it, and
//! a tar extracted into a directory of it, for running and stopped containers alike.
//!
//! A container's files are its rootfs view with its volumes and bind mounts over it, as the
//! container sees them: a path at or below a mount's target is the mount's data, and symlinks
//! resolve inside the container (`berth_snapshot::copy` does the walking, over handles). Not
//! seen, as in Docker 20.10, whose archive code mounts only volumes and binds: tmpfs mounts (their
//! content lives in the container's mount namespace only). Not seen either, unlike Docker:
//! bind mounts of a single file, and the `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf`
//! the runtime mounts (the rootfs's own files at those paths are what a copy sees).
//!
//! Statuses follow Docker's API documentation where Docker 20.10 itself answers 500 for
//! everything but a missing file: a bad archive or destination is 400, a read-only one 403.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use berth_core::HasKind;
use berth_snapshot::copy::{self, CopyError, Owner, Tree, UnpackOptions};
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use super::rootfs::{Access, RootfsView};
use super::{Container, Containers, MountKind, MountSpec, Record};
use crate::error::{Error, Result};

/// What the archive API says about a path (`X-Docker-Container-Path-Stat`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathInfo {
    /// The last element of the path as asked for (`/` for the root, `.` for `dir/.`).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// The `st_mode`.
    pub mode: u32,
    /// Modification time: seconds and nanoseconds since the epoch.
    pub mtime: (i64, i64),
    /// For a symlink, where it leads with every symlink followed inside the container.
    pub link_target: String,
}

/// How a tar is extracted into a container.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractOptions {
    /// Refuse to replace a directory with a non-directory or the reverse.
    pub no_overwrite_dir_non_dir: bool,
    /// Files are owned by the container's user (its `User`) instead of the archive's owners.
    pub copy_uid_gid: bool,
}

/// A tar stream being produced; an `Err` item means the archive broke off.
pub type TarStream = mpsc::Receiver<io::Result<Bytes>>;

/// Chunks a tar stream carries, and how many may wait for the client.
const CHUNK: usize = 256 * 1024;
const CHUNKS_QUEUED: usize = 8;

impl Containers {
    /// The stat of `path` in container `c` (`asked` is the name the client used, for
    /// Docker's message).
    pub async fn stat_path(
        self: &Arc<Self>,
        c: &Arc<Container>,
        asked: &str,
        path: &str,
    ) -> Result<PathInfo> {
        let (this, raw, path) = (self.clone(), path.to_string(), checked(path)?);
        let (asked, rec) = (asked.to_string(), c.record());
        self.with_rootfs(c, Access::Read, "stat of a container path", move |view| {
            let _volumes = this.use_volumes(&rec)?;
            let tree = this.tree(view, &rec)?;
            stat(&tree, &path).map_err(|e| not_found(e, &raw, &asked))
        })
        .await
    }

    /// A tar of `path` in container `c`, with the stat of `path`; the tar is written while the
    /// stream is read, and a stopped container's view stays mounted until it is done.
    pub async fn archive_path(
        self: &Arc<Self>,
        c: &Arc<Container>,
        asked: &str,
        path: &str,
    ) -> Result<(PathInfo, TarStream)> {
        let (this, c2, raw, path) = (self.clone(), c.clone(), path.to_string(), checked(path)?);
        let (asked, rec) = (asked.to_string(), c.record());
        let (stat_tx, stat_rx) = oneshot::channel();
        let (tx, rx) = mpsc::channel(CHUNKS_QUEUED);
        let task = tokio::spawn(async move {
            this.clone()
                .with_rootfs(
                    &c2,
                    Access::Read,
                    "archiving a container path",
                    move |view| {
                        let _volumes = this.use_volumes(&rec)?;
                        let tree = this.tree(view, &rec)?;
                        let info = stat(&tree, &path).map_err(|e| not_found(e, &raw, &asked))?;
                        let loc = tree
                            .locate(&path, copy::asserts_dir(&path))
                            .map_err(|e| not_found(e, &raw, &asked))?;
                        let _ = stat_tx.send(info.clone());
                        this.event("archive-path", &rec, &[]);
                        let mut out =
                            io::BufWriter::with_capacity(CHUNK, ChannelWriter(tx.clone()));
                        if let Err(e) = copy::pack(&tree, &loc, &info.name, &mut out) {
                            tracing::warn!(id = %rec.id, error = %e, "archive broke off");
                            let _ = tx.blocking_send(Err(io::Error::other(e.to_string())));
                        }
                        Ok(())
                    },
                )
                .await
        });
        match stat_rx.await {
            Ok(info) => Ok((info, rx)),
            // No stat: the task failed before it began the archive.
            Err(_) => match task.await {
                Ok(Err(e)) => Err(e),
                Ok(Ok(())) => Err(Error::internal_msg("the archive ended before it began")),
                Err(e) => Err(Error::internal("archiving a container path", e)),
            },
        }
    }

    /// Extracts the tar `input` (compressed or not) into directory `path` of container `c`.
    pub async fn extract_to_dir(
        self: &Arc<Self>,
        c: &Arc<Container>,
        asked: &str,
        path: &str,
        opts: ExtractOptions,
        input: impl Read + Send + 'static,
    ) -> Result<()> {
        let (this, raw, path) = (self.clone(), path.to_string(), checked(path)?);
        let (asked, rec) = (asked.to_string(), c.record());
        self.with_rootfs(
            c,
            Access::Write,
            "extracting into a container",
            move |view| {
                let mut input = io::BufReader::new(input);
                let done = match this.use_volumes(&rec) {
                    Ok(_volumes) => this.extract(view, &rec, &path, opts, &mut input),
                    Err(e) => Err(Extract::Other(e)),
                };
                // A refused archive is still read to its end, so the client gets the answer.
                let _ = io::copy(&mut input, &mut io::sink());
                done.map_err(|e| match e {
                    Extract::Copy(e) => not_found(e, &raw, &asked),
                    Extract::Other(e) => e,
                })?;
                this.event("extract-to-dir", &rec, &[]);
                Ok(())
            },
        )
        .await
    }

    fn extract(
        &self,
        view: &RootfsView,
        rec: &Record,
        path: &str,
        opts: ExtractOptions,
        input: &mut io::BufReader<impl Read>,
    ) -> Result<(), Extract> {
        let tree = self.tree(view, rec).map_err(Extract::Other)?;
        let dest = tree.locate(path, true)?;
        if !copy_is_dir(&dest)? {
            return Err(Extract::Other(Error::invalid(
                "extraction point is not a directory",
            )));
        }
        if tree.readonly(dest.mount()) {
            return Err(Extract::Copy(CopyError::ReadOnlyMount));
        }
        if dest.mount().is_none() && rec.spec.readonly_rootfs {
            return Err(Extract::Other(Error::new(
                berth_core::ErrorKind::Forbidden,
                "container rootfs is marked read-only",
            )));
        }
        let owner = match (opts.copy_uid_gid, rec.spec.user.as_str()) {
            (true, user) if !user.is_empty() => {
                let (uid, gid, _) =
                    super::spec::resolve_user(user, view.root()).map_err(Extract::Other)?;
                Owner::Fixed(uid, gid)
            }
            _ => Owner::Archive,
        };
        let tar =
            crate::compress::decompress(input).map_err(|e| Extract::Copy(CopyError::Read(e)))?;
        let unpack = UnpackOptions {
            no_overwrite_dir_non_dir: opts.no_overwrite_dir_non_dir,
            owner,
            rebase: None,
        };
        let stats = copy::unpack(&tree, &dest, unpack, tar)?;
        if stats.skipped_devices > 0 {
            tracing::warn!(id = %rec.id, count = stats.skipped_devices, "device nodes not copied");
        }
        Ok(())
    }

    /// The container's files: the view, with its volumes and directory binds over it.
    fn tree(&self, view: &RootfsView, rec: &Record) -> Result<Tree> {
        let tree = tree(view.host_dir(), &rec.spec.mounts, |name| {
            Ok(self.volumes.get(name)?.mountpoint)
        })?;
        // Under `--userns-remap` its files hold host IDs; archives hold the container's.
        Ok(tree.with_ids(self.images.snapshots().ids().cloned()))
    }
}

/// The tree of rootfs `root` with `mounts` over it; `volume` gives a volume's directory.
fn tree(
    root: &Path,
    mounts: &[MountSpec],
    volume: impl Fn(&str) -> Result<PathBuf>,
) -> Result<Tree> {
    let open = |what: &str, e: io::Error| Error::internal(&format!("opening {what}"), e);
    let mut tree = Tree::open(root).map_err(|e| open("the container's rootfs", e))?;
    for m in mounts {
        let source = match &m.kind {
            MountKind::Bind { source, .. } if source.is_dir() => source.clone(),
            MountKind::Volume { name, .. } => volume(name)?,
            MountKind::Bind { .. } | MountKind::Tmpfs => continue,
        };
        tree.mount(&m.target, &source, m.readonly)
            .map_err(|e| open(&format!("the mount at {}", m.target), e))?;
    }
    Ok(tree)
}

/// Docker's answer to an empty path (its text, without the space it lacks); any other path is
/// taken as absolute, `..` applied lexically.
fn checked(path: &str) -> Result<String> {
    if path.is_empty() {
        return Err(Error::invalid("bad parameter: pathcannot be empty"));
    }
    Ok(copy::clean_abs(path))
}

fn stat(tree: &Tree, path: &str) -> Result<PathInfo, CopyError> {
    let loc = tree.locate(path, copy::asserts_dir(path))?;
    let st = loc.stat()?;
    let link_target = if st.mode & libc::S_IFMT == libc::S_IFLNK {
        tree.resolved_path(path)?
    } else {
        String::new()
    };
    Ok(PathInfo {
        name: copy::base_name(path),
        size: st.size,
        mode: st.mode,
        mtime: st.mtime,
        link_target,
    })
}

fn copy_is_dir(loc: &copy::Located) -> Result<bool, CopyError> {
    Ok(loc.stat()?.mode & libc::S_IFMT == libc::S_IFDIR)
}

/// A failed extraction: the copy's error, or one with its answer already made.
enum Extract {
    Copy(CopyError),
    Other(Error),
}

impl From<CopyError> for Extract {
    fn from(e: CopyError) -> Self {
        Extract::Copy(e)
    }
}

/// A missing path is Docker's 404 naming the path and the container as the client did; other
/// copy errors keep their class.
fn not_found(e: CopyError, path: &str, asked: &str) -> Error {
    match e {
        CopyError::NotFound { .. } => Error::not_found(format!(
            "Could not find the file {path} in container {asked}"
        )),
        e if e.kind() == berth_core::ErrorKind::Internal => {
            Error::internal("copying a container path", e)
        }
        e => Error::from_kinded(e),
    }
}

/// Blocking writes into an async channel: the tar writer runs on the blocking pool.
struct ChannelWriter(mpsc::Sender<io::Result<Bytes>>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_path_is_dockers_bad_parameter_and_others_are_absolute() {
        let e = checked("").unwrap_err();
        assert_eq!(e.message, "bad parameter: pathcannot be empty");
        assert_eq!(checked("tmp/x/").unwrap(), "/tmp/x/");
        assert_eq!(checked("/a/../../b").unwrap(), "/b");
    }

    fn mount(kind: MountKind, target: &str, readonly: bool) -> MountSpec {
        MountSpec {
            kind,
            target: target.into(),
            readonly,
            options: Vec::new(),
            origin: super::super::MountOrigin::Bind {
                spec: String::new(),
                mode: String::new(),
            },
        }
    }

    /// A container path at or below a bind's or a volume's target is the mounted data; a
    /// tmpfs is not seen (Docker 20.10's archive code does not mount it either).
    #[test]
    fn binds_and_volumes_cover_their_targets_and_tmpfs_does_not() {
        let root = tempfile::tempdir().unwrap();
        let (bind, vol) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for d in ["mnt", "data", "tmp"] {
            std::fs::create_dir(root.path().join(d)).unwrap();
        }
        std::fs::write(root.path().join("tmp/rootfs"), "").unwrap();
        std::fs::write(bind.path().join("b"), "").unwrap();
        std::fs::create_dir(vol.path().join("sub")).unwrap();
        let source = bind.path().to_path_buf();
        let mounts = [
            mount(
                MountKind::Bind {
                    source,
                    propagation: Default::default(),
                    nonrecursive: false,
                },
                "/mnt",
                true,
            ),
            mount(
                MountKind::Volume {
                    name: "v".into(),
                    anonymous: false,
                    no_copy: false,
                },
                "/data",
                false,
            ),
            mount(MountKind::Tmpfs, "/tmp", false),
        ];
        let vol_dir = vol.path().to_path_buf();
        let t = tree(root.path(), &mounts, |n| {
            assert_eq!(n, "v");
            Ok(vol_dir.clone())
        })
        .unwrap();
        let at = |p: &str| t.locate(p, false).map(|l| (l.path(), l.mount()));
        assert_eq!(at("/mnt/b").unwrap(), ("/mnt/b".into(), Some(0)));
        assert!(t.readonly(Some(0)) && !t.readonly(Some(1)));
        assert_eq!(
            at("/data/sub/../sub").unwrap(),
            ("/data/sub".into(), Some(1))
        );
        assert_eq!(at("/tmp/rootfs").unwrap(), ("/tmp/rootfs".into(), None));
    }

    #[test]
    fn a_missing_path_names_the_path_and_the_container_as_asked() {
        let e = not_found(CopyError::NotFound { path: "/x".into() }, "/nope", "web");
        assert_eq!(e.message, "Could not find the file /nope in container web");
        assert_eq!(e.kind, berth_core::ErrorKind::NotFound);
    }
}
