//! `docker export`: a container's merged filesystem as a tar, running or not. Volumes and
//! other mounts are not in it: they are mounted only in the container's own mount namespace,
//! and the walk does not enter a directory on another device.

use std::io::Write;
use std::sync::Arc;

use super::rootfs::Access;
use super::{Container, Containers};
use crate::error::{Error, Result};

impl Containers {
    /// Writes container `c`'s filesystem as a tar to `out`, on the blocking pool.
    pub async fn export(
        self: &Arc<Self>,
        c: &Arc<Container>,
        out: impl Write + Send + 'static,
    ) -> Result<()> {
        let ids = self.images.snapshots().ids().cloned();
        self.with_rootfs(c, Access::Read, "exporting a container", move |view| {
            let root = view
                .root()
                .open_dir("/")
                .map_err(|e| Error::internal("opening the container's rootfs", e))?;
            berth_snapshot::export_mapped(&root, out, ids.as_ref())
                .map_err(|e| Error::internal("exporting the container's filesystem", e))
        })
        .await
    }
}
