//! `stats`: one collector samples every container somebody watches, once a second, on the
//! blocking pool, and hands each sample to all of that container's watchers, as Docker's stats
//! collector does. A watcher pairs each sample with the one before it (`precpu_stats`).
//!
//! Running means [`Status::Running`]; a container in any other state gives the empty frame.
//! (Docker: a paused container gives real samples, a restarting one the empty frame.)

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_runtime::stats::{Sample, StatsError};
use tokio::sync::{Notify, broadcast};

use super::{Container, Containers, NetworkMode, Status};
use crate::error::Result;

/// Docker's collector interval.
const INTERVAL: Duration = Duration::from_secs(1);

/// A sample, or `None` when the container was not running (Docker's empty frame).
type Reading = Option<Arc<Sample>>;

/// One frame: a reading and the one before it.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// This reading.
    pub now: Reading,
    /// The previous one (`None` for the first frame of a stream and for `one-shot`).
    pub pre: Reading,
}

/// What a `stats` request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A frame a second until the client goes or the container is removed.
    Stream,
    /// One frame, after a second sample a second later so `precpu` is filled.
    Once,
    /// One frame sampled now, no `precpu`.
    OneShot,
}

/// The containers being watched and the task that samples them.
#[derive(Default)]
pub(crate) struct Collector {
    watched: Mutex<HashMap<String, Watched>>,
    wake: Notify,
    started: AtomicBool,
}

struct Watched {
    container: Arc<Container>,
    tx: broadcast::Sender<Reading>,
}

/// The frames of one request.
pub struct Frames {
    source: Source,
    pre: Reading,
}

enum Source {
    Ready(Option<Frame>),
    Collector(broadcast::Receiver<Reading>),
}

impl Frames {
    /// The next frame; `None` once the request's frames are all given or the container is
    /// gone.
    pub async fn next(&mut self) -> Option<Frame> {
        let rx = match &mut self.source {
            Source::Ready(f) => return f.take(),
            Source::Collector(rx) => rx,
        };
        loop {
            match rx.recv().await {
                Ok(now) => {
                    let pre = std::mem::replace(&mut self.pre, now.clone());
                    return Some(Frame { now, pre });
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

impl Containers {
    /// The frames of `stats` of `c` in `mode`. `Once` takes its two samples itself, a second
    /// apart, rather than waiting for two rounds of the collector (Docker's 1-2 s), so a
    /// `--no-stream` of many containers stays well inside the docker CLI's 2 s timeout.
    pub async fn stats(self: &Arc<Self>, c: &Arc<Container>, mode: Mode) -> Result<Frames> {
        let ready = |f| Frames {
            source: Source::Ready(Some(f)),
            pre: None,
        };
        let now = || {
            let (id, t) = (c.id.clone(), target(c));
            crate::blocking::run("reading container stats", move || Ok(read(&id, t)))
        };
        match mode {
            Mode::Once | Mode::OneShot if target(c).is_none() => Ok(ready(Frame::default())),
            Mode::OneShot => Ok(ready(Frame {
                now: now().await?,
                pre: None,
            })),
            Mode::Once => {
                let pre = now().await?;
                tokio::time::sleep(INTERVAL).await;
                Ok(ready(Frame {
                    now: now().await?,
                    pre,
                }))
            }
            Mode::Stream => Ok(Frames {
                source: Source::Collector(self.watch_stats(c)),
                pre: None,
            }),
        }
    }

    fn watch_stats(self: &Arc<Self>, c: &Arc<Container>) -> broadcast::Receiver<Reading> {
        let rx = {
            let mut w = self.stats.watched.lock().expect("stats lock");
            w.entry(c.id.clone())
                .or_insert_with(|| Watched {
                    container: c.clone(),
                    tx: broadcast::channel(4).0,
                })
                .tx
                .subscribe()
        };
        if !self.stats.started.swap(true, Ordering::SeqCst) {
            tokio::spawn(self.clone().collect_stats());
        }
        self.stats.wake.notify_one();
        rx
    }

    /// The collector: samples the watched containers, publishes, sleeps a second; waits while
    /// nobody watches. A removed container's watchers see their stream end.
    async fn collect_stats(self: Arc<Self>) {
        loop {
            let watched: Vec<(Arc<Container>, broadcast::Sender<Reading>)> = {
                let mut w = self.stats.watched.lock().expect("stats lock");
                w.retain(|id, x| {
                    x.tx.receiver_count() > 0
                        && self.all.lock().expect("containers lock").contains_key(id)
                });
                w.values()
                    .map(|x| (x.container.clone(), x.tx.clone()))
                    .collect()
            };
            if watched.is_empty() {
                self.stats.wake.notified().await;
                continue;
            }
            let targets: Vec<(String, Option<Target>)> = watched
                .iter()
                .map(|(c, _)| (c.id.clone(), target(c)))
                .collect();
            let readings = crate::blocking::run("reading container stats", move || {
                Ok(targets
                    .into_iter()
                    .map(|(id, t)| read(&id, t))
                    .collect::<Vec<_>>())
            })
            .await
            .unwrap_or_default();
            for ((_, tx), r) in watched.iter().zip(readings) {
                let _ = tx.send(r);
            }
            tokio::time::sleep(INTERVAL).await;
        }
    }
}

/// Where a running container's usage is read: its cgroup and, when it has a network of its
/// own or another container's, the process whose namespace holds it.
struct Target {
    cgroup: String,
    net_pid: Option<i32>,
}

fn target(c: &Container) -> Option<Target> {
    let rec = c.record();
    if rec.state.status != Status::Running {
        return None;
    }
    let pid = i32::try_from(rec.state.pid).ok().filter(|p| *p > 0);
    let net_pid = match rec.spec.network {
        NetworkMode::None | NetworkMode::Host => None,
        NetworkMode::Container { .. } | NetworkMode::Network { .. } => pid,
    };
    Some(Target {
        cgroup: super::spec::cgroup_path(&rec.id),
        net_pid,
    })
}

/// One reading; a container that ended meanwhile reads as not running.
fn read(id: &str, t: Option<Target>) -> Reading {
    let t = t?;
    match berth_runtime::stats::sample(&t.cgroup, t.net_pid) {
        Ok(mut s) => {
            // Only the endpoints berth made (`ethN`), as Docker lists its sandbox's: not the
            // `sit0`s and `tunl0`s a kernel module adds to every namespace.
            if let Some(n) = &mut s.networks {
                n.retain(|(name, _)| endpoint(name));
            }
            Some(Arc::new(s))
        }
        Err(StatsError::Gone { .. }) => None,
        Err(e) => {
            tracing::warn!(container.id = id, error = %e, "reading container stats");
            None
        }
    }
}

fn endpoint(name: &str) -> bool {
    name.strip_prefix("eth")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn endpoints_are_eth_n() {
        assert!(super::endpoint("eth0") && super::endpoint("eth12"));
        assert!(!super::endpoint("sit0") && !super::endpoint("eth") && !super::endpoint("ethx"));
    }
}
