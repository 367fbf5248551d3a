//! Pause and unpause: the container's cgroup is frozen (v1 freezer or v2 `cgroup.freeze`); its
//! monitor, outside the cgroup, keeps running. The flag is persisted, so a daemon restart finds
//! a paused container paused.

use std::sync::Arc;

use super::{Container, Containers, Status, spec};
use crate::error::{Error, Result};

impl Containers {
    /// Freezes a running container.
    pub async fn pause(self: &Arc<Self>, c: &Arc<Container>) -> Result<()> {
        let _op = c.op.lock().await;
        let rec = c.record();
        running(&rec)?;
        if rec.state.paused {
            return Err(Error::conflict(format!(
                "container {} is already paused",
                rec.id
            )));
        }
        freeze(&rec.id, true)
            .await
            .map_err(|e| Error::internal(&format!("cannot pause container {}", rec.id), e))?;
        let rec = self.save(c, |r| r.state.paused = true).await?;
        self.event("pause", &rec, &[]);
        Ok(())
    }

    /// Thaws a paused container.
    pub async fn unpause(self: &Arc<Self>, c: &Arc<Container>) -> Result<()> {
        let _op = c.op.lock().await;
        let rec = c.record();
        if !rec.state.paused {
            // A 500, as Docker's.
            return Err(Error::internal_msg(format!(
                "Container {} is not paused",
                rec.id
            )));
        }
        self.thaw(c).await?;
        self.event("unpause", &c.record(), &[]);
        Ok(())
    }

    /// Thaws `c` and records it (also before a kill reaches a paused container).
    pub(super) async fn thaw(self: &Arc<Self>, c: &Arc<Container>) -> Result<()> {
        let id = c.id.clone();
        freeze(&id, false)
            .await
            .map_err(|e| Error::internal(&format!("Cannot unpause container {id}"), e))?;
        self.save(c, |r| r.state.paused = false).await?;
        Ok(())
    }
}

/// Docker's refusals for a container that is not running (pause, exec).
pub(super) fn running(rec: &super::Record) -> Result<()> {
    match rec.state.status {
        Status::Running => Ok(()),
        Status::Restarting => Err(Error::conflict(format!(
            "Container {} is restarting, wait until the container is running",
            rec.id
        ))),
        _ => Err(Error::conflict(format!(
            "Container {} is not running",
            rec.id
        ))),
    }
}

async fn freeze(
    id: &str,
    frozen: bool,
) -> std::result::Result<(), berth_runtime::cgroup::WriteError> {
    let cgroup = spec::cgroup_path(id);
    tokio::task::spawn_blocking(move || berth_runtime::cgroup::freeze(&cgroup, frozen))
        .await
        .expect("freeze task")
}
