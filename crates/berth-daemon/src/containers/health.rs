//! Healthchecks, daemon side: what a start gives the monitor's prober, the state inspect and
//! ps show, and a watcher that turns changes of status into `health_status` events and, where
//! the container asks for it (`berth.health-on-failure`), acts on an unhealthy container.

use std::sync::Arc;
use std::time::Duration;

use berth_image::config::HealthConfig;
use berth_runtime::health::{Health, Probe, Status as HealthStatus};
use futures_util::StreamExt;

use super::{Container, Containers, Record, Status};

/// Docker's defaults.
const INTERVAL: Duration = Duration::from_secs(30);
const TIMEOUT: Duration = Duration::from_secs(30);
const START_INTERVAL: Duration = Duration::from_secs(5);
const RETRIES: u32 = 3;

/// What to do when a container turns unhealthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthAction {
    /// Nothing (Docker's only behaviour).
    None,
    /// SIGKILL, not a user's stop: the restart policy applies.
    Kill,
    /// `docker restart`.
    Restart,
    /// `docker stop`: it stays down.
    Stop,
}

/// The probe's argv, or `None` when there is no healthcheck (`NONE`, or no test).
pub fn argv(h: &HealthConfig, shell: Option<&[String]>) -> Option<Vec<String>> {
    let test = h.test.as_deref()?;
    match test.split_first()? {
        (kind, rest) if kind == "CMD" && !rest.is_empty() => Some(rest.to_vec()),
        (kind, [cmd]) if kind == "CMD-SHELL" => {
            let mut v = shell
                .filter(|s| !s.is_empty())
                .map_or_else(|| vec!["/bin/sh".into(), "-c".into()], <[String]>::to_vec);
            v.push(cmd.clone());
            Some(v)
        }
        _ => None,
    }
}

/// The prober's config for a start of `rec`, if it has a healthcheck.
pub(super) fn probe(
    rec: &Record,
    paths: &super::files::Paths,
    runtime: &berth_runtime::runtime::RuntimeConfig,
    state_root: &std::path::Path,
) -> Option<Probe> {
    let h = rec.spec.healthcheck.as_ref()?;
    let argv = argv(h, rec.spec.shell.as_deref())?;
    let or = |ns: i64, default: Duration| {
        u64::try_from(ns)
            .ok()
            .filter(|n| *n > 0)
            .map_or(default, Duration::from_nanos)
    };
    Some(Probe {
        argv,
        interval: or(h.interval, INTERVAL),
        timeout: or(h.timeout, TIMEOUT),
        start_period: or(h.start_period, Duration::ZERO),
        start_interval: or(h.start_interval, START_INTERVAL),
        retries: u32::try_from(h.retries)
            .ok()
            .filter(|r| *r > 0)
            .unwrap_or(RETRIES),
        exec: berth_runtime::exec::ExecConfig {
            container: rec.id.clone(),
            runtime: runtime.clone(),
            state_root: state_root.to_path_buf(),
            process: paths.bundle.join("health-process.json"),
            console_socket: None,
            console_size: None,
        },
        bundle: paths.bundle.clone(),
        state: paths.health.clone(),
    })
}

impl Containers {
    /// The health of `rec` as inspect shows it: none without a healthcheck. Blocks.
    pub fn health(&self, rec: &Record) -> Option<Health> {
        let h = rec.spec.healthcheck.as_ref()?;
        argv(h, rec.spec.shell.as_deref())?;
        berth_runtime::health::read(&self.paths(&rec.id).health)
            .or_else(|| (rec.state.status == Status::Running).then(Health::starting))
    }

    /// Follows the health of the run of `c` that just started, until it ends.
    pub(super) fn watch_health(self: &Arc<Self>, c: &Arc<Container>) {
        let rec = c.record();
        let Some(h) = rec.spec.healthcheck.as_ref() else {
            return;
        };
        if argv(h, rec.spec.shell.as_deref()).is_none() {
            return;
        }
        let action = crate::wire::health::action(&rec.spec.labels).unwrap_or(HealthAction::None);
        let (this, c) = (self.clone(), c.clone());
        tokio::spawn(async move { this.follow_health(&c, action).await });
    }

    async fn follow_health(self: &Arc<Self>, c: &Arc<Container>, action: HealthAction) {
        let paths = self.paths(&c.id);
        let started = c.record().state.started_at;
        let events = inotify::Inotify::init().ok().and_then(|i| {
            i.watches()
                .add(&paths.dir, inotify::WatchMask::MOVED_TO)
                .ok()?;
            i.into_event_stream(vec![0u8; 1024]).ok()
        });
        let Some(mut events) = events else {
            tracing::warn!(container.id = %c.id, "cannot watch the container's health");
            return;
        };
        let mut rx = c.watch();
        // After a daemon restart, what the previous daemon already saw is not news.
        let mut last = match tokio::fs::read(&paths.health).await {
            Ok(b) => {
                serde_json::from_slice::<Health>(&b).map_or(HealthStatus::Starting, |h| h.status)
            }
            Err(_) => HealthStatus::Starting,
        };
        let same_run = |c: &Container| {
            let r = c.record();
            r.state.status == Status::Running && r.state.started_at == started
        };
        loop {
            tokio::select! {
                ev = events.next() => match ev {
                    Some(Ok(e)) if e.name.as_deref().is_some_and(|n| n == "health.json") => {}
                    Some(Ok(_)) => continue,
                    _ => return,
                },
                changed = rx.changed() => {
                    if changed.is_err() || !same_run(c) {
                        return;
                    }
                    continue;
                }
            }
            let Ok(bytes) = tokio::fs::read(&paths.health).await else {
                continue;
            };
            let Ok(h) = serde_json::from_slice::<Health>(&bytes) else {
                continue;
            };
            if h.status == last || h.status == HealthStatus::Starting || !same_run(c) {
                continue;
            }
            last = h.status;
            let rec = c.record();
            self.event(&format!("health_status: {}", h.status.as_str()), &rec, &[]);
            if h.status == HealthStatus::Unhealthy {
                self.act_on_unhealthy(c, action).await;
            }
        }
    }

    async fn act_on_unhealthy(self: &Arc<Self>, c: &Arc<Container>, action: HealthAction) {
        let done = match action {
            HealthAction::None => return,
            HealthAction::Kill => self.kill_by_health(c).await,
            HealthAction::Stop => self.stop(c, None, None).await,
            HealthAction::Restart => self.restart(c, None, None).await,
        };
        if let Err(e) = done {
            tracing::warn!(container.id = %c.id, error = %e, ?action, "acting on an unhealthy container");
        }
    }
}
