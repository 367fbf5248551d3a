//! `POST /containers/prune`: every container that is not running goes, as Docker prunes.

use std::sync::Arc;

use super::{Containers, Record, Status};
use crate::error::{Error, Result};

impl Containers {
    /// Removes the stopped containers `select` picks; returns their IDs and the bytes their
    /// writable layers held.
    pub async fn prune(
        self: &Arc<Self>,
        select: impl Fn(&Record) -> bool,
    ) -> Result<(Vec<String>, u64)> {
        let mut deleted = Vec::new();
        let mut reclaimed = 0;
        for c in self.list() {
            let rec = c.record();
            if matches!(rec.state.status, Status::Running | Status::Removing)
                || rec.build_step
                || !select(&rec)
            {
                continue;
            }
            let upper = self.images.snapshots().upper(&rec.id);
            let size = tokio::task::spawn_blocking(move || berth_snapshot::tree_size(&upper))
                .await
                .map_err(|e| Error::internal("sizing a container", e))?;
            match self.remove(&c, false, false).await {
                Ok(()) => {
                    reclaimed += size;
                    deleted.push(rec.id);
                }
                // Started meanwhile: it stays, as with Docker.
                Err(e) if e.kind == berth_core::ErrorKind::Conflict => {}
                Err(e) => return Err(e),
            }
        }
        self.events.publish(
            "container",
            "prune",
            "",
            [("reclaimed".to_string(), reclaimed.to_string())].into(),
        );
        Ok((deleted, reclaimed))
    }
}
