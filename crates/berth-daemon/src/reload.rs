//! What SIGHUP changes while the daemon runs: of dockerd's reloadable options
//! (`daemon/reload.go`, `reload_unix.go`), those berth has: `debug`, `labels`, `runtimes`,
//! `default-runtime`, `live-restore` and `shutdown-timeout`. The binary rereads the file; this module swaps the values and tells
//! `docker events` (type `daemon`, action `reload`, the effective values as attributes, as
//! dockerd does).

use std::collections::BTreeMap;
use std::sync::RwLock;

use crate::config::Runtimes;
use crate::{Daemon, Error, Result};

/// The reloadable options `info` shows, as they are now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reloadable {
    /// `debug`: debug logging.
    pub debug: bool,
    /// `labels`: the daemon's `key=value` labels.
    pub labels: Vec<String>,
    /// `live-restore`: containers keep running when the daemon stops.
    pub live_restore: bool,
    /// `shutdown-timeout`: seconds the daemon waits for the containers it stops.
    pub shutdown_timeout: i64,
}

/// What a reload changes: the options its file sets (dockerd keeps the value of an option the
/// file no longer sets).
#[derive(Debug, Clone, Default)]
pub struct Reload {
    /// `debug`, when set.
    pub debug: Option<bool>,
    /// `labels`, when set.
    pub labels: Option<Vec<String>>,
    /// `live-restore`, when set.
    pub live_restore: Option<bool>,
    /// `shutdown-timeout`, when set.
    pub shutdown_timeout: Option<i64>,
    /// `runtimes` and `default-runtime` (with `--add-runtime`), when either is set.
    pub runtimes: Option<Runtimes>,
}

/// The current [`Reloadable`] values.
#[derive(Debug, Default)]
pub struct Live(RwLock<Reloadable>);

impl Live {
    /// Starts with `values`.
    pub fn new(values: Reloadable) -> Live {
        Live(RwLock::new(values))
    }
}

impl Daemon {
    /// The effective reloadable options.
    pub fn live(&self) -> Reloadable {
        self.live.0.read().expect("reload lock").clone()
    }

    /// Applies `change` and publishes the `reload` event; nothing changes when it cannot all
    /// apply.
    pub fn reload(&self, change: Reload) -> Result<()> {
        if let Some(runtimes) = &change.runtimes {
            // berth needs a container's runtime to stop and remove it: keep those in use.
            for c in self.containers.list() {
                let rec = c.record();
                if !rec.spec.runtime.is_empty() && runtimes.get(&rec.spec.runtime).is_none() {
                    return Err(Error::invalid(format!(
                        "runtime {} cannot be removed: container {} uses it",
                        rec.spec.runtime, rec.name
                    )));
                }
            }
            self.config.runtimes.replace(runtimes);
        }
        let now = {
            let mut live = self.live.0.write().expect("reload lock");
            if let Some(debug) = change.debug {
                live.debug = debug;
            }
            if let Some(labels) = change.labels {
                live.labels = labels;
            }
            if let Some(on) = change.live_restore {
                live.live_restore = on;
            }
            if let Some(secs) = change.shutdown_timeout {
                live.shutdown_timeout = secs;
            }
            live.clone()
        };
        let runtimes = self.config.runtimes.list().into_keys().collect::<Vec<_>>();
        // dockerd prints its list options as Go prints a slice.
        let mut attributes = BTreeMap::from([
            ("debug".to_string(), now.debug.to_string()),
            ("labels".to_string(), format!("[{}]", now.labels.join(" "))),
            ("live-restore".to_string(), now.live_restore.to_string()),
            (
                "shutdown-timeout".to_string(),
                now.shutdown_timeout.to_string(),
            ),
            ("runtimes".to_string(), format!("[{}]", runtimes.join(" "))),
            (
                "default-runtime".to_string(),
                self.config.runtimes.default_name(),
            ),
        ]);
        if let Ok(host) = nix::unistd::gethostname() {
            attributes.insert("name".into(), host.to_string_lossy().into_owned());
        }
        tracing::info!(?attributes, "daemon reloaded");
        self.events
            .publish("daemon", "reload", &self.id, attributes);
        Ok(())
    }
}
