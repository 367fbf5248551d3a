//! Blocking work (tree walks, fsyncs, large copies) runs on tokio's blocking pool, never on the
//! two async workers that serve every request: one slow `ps -s` must not stall `/_ping`.

use crate::error::{Error, Result};

/// Runs `f` on the blocking pool; `what` names it if the task dies.
pub async fn run<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(what, e))?
}
