//! The daemon's stop without live restore (`--live-restore=false`, dockerd's default): every
//! running container is stopped as `docker stop` stops it, all at once, without ending its
//! restart policy, so the next daemon start brings back those whose policy says so.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{Containers, Status};

/// dockerd's grace on top of the longest stop timeout of the containers it stops.
const GRACE_SECS: i64 = 5;

impl Containers {
    /// Whether the daemon is stopping its containers.
    pub(super) fn shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Stops every running container and waits for them, at most `shutdown_timeout` seconds
    /// or a container's longer stop timeout and 5 s, as dockerd (negative: as long as it takes).
    pub async fn stop_all(self: &Arc<Self>, shutdown_timeout: i64) {
        self.shutting_down.store(true, Ordering::SeqCst);
        let running: Vec<_> = self
            .list()
            .into_iter()
            .filter(|c| c.status() == Status::Running)
            .collect();
        let mut bound = shutdown_timeout;
        let mut stops = tokio::task::JoinSet::new();
        for c in running {
            let rec = c.record();
            let timeout = rec.spec.stop_timeout.unwrap_or(10);
            bound = match (bound, timeout) {
                (b, _) if b < 0 => b,
                (_, t) if t < 0 => -1,
                (b, t) => b.max(t + GRACE_SECS),
            };
            let signo = self.stop_signal(&rec).unwrap_or(libc::SIGTERM);
            let this = self.clone();
            stops.spawn(async move { this.end_run(&c, signo, timeout, false).await });
        }
        tracing::info!(
            containers = stops.len(),
            "stopping containers (live-restore is off)"
        );
        let all = async { while stops.join_next().await.is_some() {} };
        if bound < 0 {
            all.await;
        } else if tokio::time::timeout(Duration::from_secs(bound as u64), all)
            .await
            .is_err()
        {
            tracing::warn!("Force shutdown daemon: containers still stopping after {bound}s");
        }
    }
}
