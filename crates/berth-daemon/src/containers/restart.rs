//! Restart policies: Docker's decision whether an exited container starts again, and its back-off
//! (100 ms doubling to a minute, back to the start after a run of 10 s or more).
//!
//! The daemon, not the monitor, restarts a container: each run has a monitor of its own, which
//! ends with its container. A pending restart is a task sleeping out the back-off; cancelling
//! bumps the generation, so the task finds itself stale when it wakes.

use std::sync::Arc;
use std::time::Duration;

use super::{Container, Containers, NetworkMode, RestartPolicy, Status, ZERO_TIME};
use crate::error::Result;

const FIRST: Duration = Duration::from_millis(100);
const MAX: Duration = Duration::from_secs(60);
/// A run this long resets the back-off, whatever its exit.
const RESET_AFTER: Duration = Duration::from_secs(10);

/// The in-memory restart state of one container (Docker's restart manager).
#[derive(Debug, Default)]
pub struct Manager {
    /// The last back-off; zero before the first restart.
    timeout: Duration,
    /// A user's stop or kill: the next exit is final.
    canceled: bool,
    /// Bumped when a pending restart is abandoned.
    generation: u64,
    /// A `restart` request is stopping the container: its exit must not auto-remove it.
    pub manual_restart: bool,
    /// A removal is under way: nothing may start the container (Docker's
    /// `RemovalInProgress`), not a policy, a health action or a user.
    pub removing: bool,
}

/// What an exit leads to.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// The container stays down.
    Stay,
    /// Start it again after the delay; the task carries the generation.
    Restart { delay: Duration, generation: u64 },
}

impl Manager {
    /// Decides after an exit with `code` of a run that lasted `ran`. `restarts` is the
    /// container's count so far, `manually_stopped` whether a user stopped it.
    pub fn decide(
        &mut self,
        policy: RestartPolicy,
        code: i64,
        ran: Duration,
        restarts: u32,
        manually_stopped: bool,
    ) -> Decision {
        if policy == RestartPolicy::No || self.canceled {
            return Decision::Stay;
        }
        if ran >= RESET_AFTER {
            self.timeout = Duration::ZERO;
        }
        self.timeout = if self.timeout.is_zero() {
            FIRST
        } else {
            (self.timeout * 2).min(MAX)
        };
        if !should_restart(policy, code, restarts, manually_stopped) {
            return Decision::Stay;
        }
        Decision::Restart {
            delay: self.timeout,
            generation: self.generation,
        }
    }

    /// A user's stop or kill: no restart after the coming exit, none pending.
    pub fn cancel(&mut self) {
        self.canceled = true;
        self.generation += 1;
    }

    /// Whether a restart task of `generation` is still wanted.
    pub fn current(&self, generation: u64) -> bool {
        !self.canceled && self.generation == generation
    }

    /// A user's start: a fresh manager, with any pending restart abandoned.
    pub fn reset(&mut self) {
        *self = Manager {
            generation: self.generation + 1,
            removing: self.removing,
            ..Manager::default()
        };
    }
}

/// The policy's answer alone (at daemon start, with a fresh manager).
pub fn should_restart(
    policy: RestartPolicy,
    code: i64,
    restarts: u32,
    manually_stopped: bool,
) -> bool {
    match policy {
        RestartPolicy::No => false,
        RestartPolicy::Always => true,
        RestartPolicy::UnlessStopped => !manually_stopped,
        RestartPolicy::OnFailure { max_retries } => {
            code != 0 && (max_retries == 0 || restarts < max_retries)
        }
    }
}

/// How long a run lasted, from its recorded start and end (zero when either is unreadable).
pub fn ran(started_at: &str, finished_at: &str) -> Duration {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    match (parse(started_at), parse(finished_at)) {
        (Some(s), Some(f)) => (f - s).to_std().unwrap_or_default(),
        _ => Duration::ZERO,
    }
}

impl Containers {
    /// Starts `c` again after `delay`, unless a user stopped, started or removed it meanwhile.
    pub(super) fn restart_after(
        self: &Arc<Self>,
        c: &Arc<Container>,
        delay: Duration,
        generation: u64,
    ) {
        let (this, c) = (self.clone(), c.clone());
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _op = c.op.lock().await;
            let wanted = c.restart.lock().expect("restart lock").current(generation);
            if !wanted || c.status() != Status::Restarting || this.shutting_down() {
                return;
            }
            if let Err(e) = this.start_locked(&c, false).await {
                tracing::warn!(container.id = %c.id, error = %e, "restarting by policy");
            }
        });
    }

    /// A user's stop or kill (`final_signal`: SIGKILL or the stop signal): the container's
    /// policy no longer restarts it; one waiting to restart stays down.
    pub(super) async fn stopped_by_user(
        self: &Arc<Self>,
        c: &Arc<Container>,
        final_signal: bool,
    ) -> Result<()> {
        if final_signal {
            c.restart.lock().expect("restart lock").cancel();
        }
        self.save(c, |r| {
            r.state.manually_stopped = true;
            if final_signal && r.state.status == Status::Restarting {
                r.state.status = Status::Exited;
            }
        })
        .await?;
        Ok(())
    }

    /// `docker restart`: stop (without auto-removal) and start again.
    pub async fn restart(
        self: &Arc<Self>,
        c: &Arc<Container>,
        signal: Option<i32>,
        timeout: Option<i64>,
    ) -> Result<()> {
        c.restart.lock().expect("restart lock").manual_restart = true;
        match self.stop(c, signal, timeout).await {
            Err(e) if e.kind != berth_core::ErrorKind::NotModified => {
                c.restart.lock().expect("restart lock").manual_restart = false;
                return Err(e);
            }
            _ => {}
        }
        self.start(c).await?;
        self.event("restart", &c.record(), &[]);
        Ok(())
    }

    /// At daemon start: starts the containers whose policy says so, as Docker does after a
    /// daemon restart or a reboot. Those waiting out a back-off continue their count; the
    /// others start afresh. Containers whose links or namespace donor are among them start
    /// after those.
    pub(super) async fn start_by_policy(self: &Arc<Self>) {
        let mut pending: Vec<(Arc<Container>, bool)> = self
            .list()
            .into_iter()
            .filter_map(|c| {
                let r = c.record();
                let s = &r.state;
                let due = match s.status {
                    Status::Restarting => Some(false),
                    Status::Exited if s.started_at != ZERO_TIME && !r.build_step => should_restart(
                        r.spec.restart,
                        s.exit_code,
                        s.restart_count,
                        s.manually_stopped,
                    )
                    .then_some(true),
                    _ => None,
                };
                due.map(|by_user| (c, by_user))
            })
            .collect();
        while !pending.is_empty() {
            let ids: Vec<String> = pending.iter().map(|(c, _)| c.id.clone()).collect();
            let (ready, later): (Vec<_>, Vec<_>) = pending
                .into_iter()
                .partition(|(c, _)| !self.waits_for(c, &ids));
            // A cycle (or a donor that is gone) cannot be ordered: start them all anyway.
            let (now, rest) = if ready.is_empty() {
                (later, vec![])
            } else {
                (ready, later)
            };
            for (c, by_user) in now {
                let _op = c.op.lock().await;
                if let Err(e) = self.start_locked(&c, by_user).await {
                    tracing::warn!(container.id = %c.id, error = %e, "starting by restart policy");
                }
            }
            pending = rest;
        }
    }

    /// Whether `c` links to, or shares the namespace of, one of `ids` other than itself.
    fn waits_for(&self, c: &Container, ids: &[String]) -> bool {
        let r = c.record();
        let mut deps: Vec<String> = r
            .spec
            .net
            .links
            .iter()
            .map(|l| l.container.clone())
            .collect();
        if let NetworkMode::Container { id, .. } = &r.spec.network {
            deps.push(id.clone());
        }
        deps.iter()
            .filter_map(|d| self.get(d).ok())
            .any(|d| d.id != c.id && ids.contains(&d.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delay(d: Decision) -> Duration {
        match d {
            Decision::Restart { delay, .. } => delay,
            Decision::Stay => panic!("expected a restart"),
        }
    }

    #[test]
    fn the_back_off_doubles_from_100ms_to_a_minute_and_resets_after_10s_of_running() {
        let mut m = Manager::default();
        let short = Duration::from_millis(5);
        let mut seen = vec![];
        for _ in 0..12 {
            seen.push(delay(m.decide(RestartPolicy::Always, 1, short, 0, false)).as_millis());
        }
        assert_eq!(
            seen,
            [
                100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000
            ]
        );
        let long = Duration::from_secs(10);
        assert_eq!(
            delay(m.decide(RestartPolicy::Always, 1, long, 0, false)),
            FIRST
        );
    }

    #[test]
    fn each_policy_decides_as_dockers() {
        use RestartPolicy::*;
        assert!(!should_restart(No, 1, 0, false));
        assert!(should_restart(Always, 0, 9, true));
        assert!(should_restart(UnlessStopped, 0, 0, false));
        assert!(!should_restart(UnlessStopped, 0, 0, true));
        let two = OnFailure { max_retries: 2 };
        assert!(!should_restart(two, 0, 0, false));
        assert!(should_restart(two, 3, 1, false));
        assert!(!should_restart(two, 3, 2, false));
        assert!(should_restart(OnFailure { max_retries: 0 }, 3, 1000, true));
    }

    #[test]
    fn a_cancelled_manager_restarts_nothing_until_reset() {
        let mut m = Manager::default();
        let Decision::Restart { generation, .. } =
            m.decide(RestartPolicy::Always, 1, Duration::ZERO, 0, false)
        else {
            panic!("expected a restart");
        };
        m.cancel();
        assert!(!m.current(generation));
        assert_eq!(
            m.decide(RestartPolicy::Always, 1, Duration::ZERO, 0, false),
            Decision::Stay
        );
        m.reset();
        assert!(matches!(
            m.decide(RestartPolicy::Always, 1, Duration::ZERO, 0, false),
            Decision::Restart { delay: FIRST, .. }
        ));
    }
}
