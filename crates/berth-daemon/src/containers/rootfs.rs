//! A container's merged filesystem on the host, for the daemon's own reads and writes (the
//! archive API, export, copying image content into a new volume).
//!
//! A running container's rootfs is the monitor's mount at `bundle/rootfs`. A container that is
//! not running has none, so one is made at `<exec-root>/rootfs/<id>` for as long as the view
//! lives, under the container's operation lock: a start waits for it, and two views of one
//! stopped container never mount the same upper directory twice. Mounts left by a daemon that
//! died while a view was open are removed by [`Containers::unmount_stale_views`] at start.
//!
//! The view holds an open handle of its root ([`RootDir`]): everything done through it resolves
//! inside the rootfs, and keeps working if the container exits and its mount is detached.
//!
//! A view only read from is mounted read-only: unmounting a writable overlay syncs the whole
//! filesystem under it, which after a large copy costs seconds; a read-only one has nothing to
//! sync. A writable view pays that sync, so what was written is on disk when it is gone.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use berth_core::rootfs::RootDir;

use super::{Container, Containers, Status};
use crate::error::{Error, Result};

/// What a view is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Only reads.
    Read,
    /// Writes too.
    Write,
}

/// A container's merged filesystem, mounted while this lives.
pub struct RootfsView {
    root: RootDir,
    /// The mount this view made (unmounted on drop); `None` for a running container's own.
    owned: Option<PathBuf>,
}

impl RootfsView {
    /// The root, for in-root access.
    pub fn root(&self) -> &RootDir {
        &self.root
    }

    /// The host directory of the root: only for handing to code that resolves in-root itself.
    pub fn host_dir(&self) -> &Path {
        self.root.host_dir()
    }
}

impl Drop for RootfsView {
    fn drop(&mut self) {
        if let Some(dir) = self.owned.take() {
            unmount(&dir);
        }
    }
}

fn unmount(dir: &Path) {
    let _ = nix::mount::umount2(dir, nix::mount::MntFlags::MNT_DETACH);
    let _ = std::fs::remove_dir(dir);
}

impl Containers {
    fn views_dir(&self) -> PathBuf {
        self.cfg.exec_root.join("rootfs")
    }

    /// Runs `f` (blocking, on the blocking pool) with a view of container `c`'s filesystem.
    pub async fn with_rootfs<T: Send + 'static>(
        self: &Arc<Self>,
        c: &Arc<Container>,
        access: Access,
        what: &'static str,
        f: impl FnOnce(&RootfsView) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        if c.status() == Status::Running {
            let dir = self.paths(&c.id).bundle.join("rootfs");
            return crate::blocking::run(what, move || {
                let root = RootDir::open(&dir)
                    .map_err(|e| Error::internal("opening the container's rootfs", e))?;
                f(&RootfsView { root, owned: None })
            })
            .await;
        }
        // Not running: mount it, with starts held off until the view is gone.
        let this = self.clone();
        let _op = c.op.lock().await;
        let rec = c.record();
        if rec.state.status == Status::Running {
            return Err(Error::conflict(format!(
                "container {} started while its files were being read",
                rec.id
            )));
        }
        crate::blocking::run(what, move || {
            let view = this.mount_view(&rec.id, rec.chain_id.as_ref(), access)?;
            f(&view)
        })
        .await
    }

    /// Mounts the overlay of container `id` at its view directory. Blocks.
    pub(super) fn mount_view(
        &self,
        id: &str,
        chain: Option<&berth_core::Digest>,
        access: Access,
    ) -> Result<RootfsView> {
        let dir = self.views_dir().join(id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::internal(&format!("creating {}", dir.display()), e))?;
        let mounts = self
            .images
            .snapshots()
            .mounts(id, chain)
            .map_err(|e| Error::internal("rootfs mounts", e))?;
        for m in &mounts {
            if let Err(e) = nix::mount::mount(
                Some(m.source.as_str()),
                &dir,
                Some(m.kind.as_str()),
                match access {
                    Access::Read => nix::mount::MsFlags::MS_RDONLY,
                    Access::Write => nix::mount::MsFlags::empty(),
                },
                Some(m.options.join(",").as_str()),
            ) {
                unmount(&dir);
                return Err(Error::internal(
                    "mounting the container's rootfs",
                    std::io::Error::from(e),
                ));
            }
        }
        let root = match RootDir::open(&dir) {
            Ok(root) => root,
            Err(e) => {
                unmount(&dir);
                return Err(Error::internal("opening the container's rootfs", e));
            }
        };
        Ok(RootfsView {
            root,
            owned: Some(dir),
        })
    }

    /// Removes the views a previous daemon left mounted. Blocks.
    pub fn unmount_stale_views(&self) {
        let Ok(entries) = std::fs::read_dir(self.views_dir()) else {
            return;
        };
        for e in entries.flatten() {
            unmount(&e.path());
        }
    }
}
