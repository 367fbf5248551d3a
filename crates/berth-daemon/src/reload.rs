//! What SIGHUP changes while the daemon runs: of dockerd's reloadable options
//! (`daemon/reload.go`), those berth has. The binary rereads the file; this module swaps the
//! values and tells `docker events` (type `daemon`, action `reload`, the effective values as
//! attributes, as dockerd does).

use std::collections::BTreeMap;
use std::sync::RwLock;

use crate::Daemon;

/// The options a reload may change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reloadable {
    /// `debug`: debug logging, shown by `info`.
    pub debug: bool,
    /// `labels`: the daemon's `key=value` labels, shown by `info`.
    pub labels: Vec<String>,
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

    /// Makes `new` the effective options and publishes the `reload` event.
    pub fn reload(&self, new: Reloadable) {
        let mut attributes = BTreeMap::from([
            ("debug".to_string(), new.debug.to_string()),
            // dockerd prints its list option as Go prints a slice.
            ("labels".to_string(), format!("[{}]", new.labels.join(" "))),
        ]);
        if let Ok(host) = nix::unistd::gethostname() {
            attributes.insert("name".into(), host.to_string_lossy().into_owned());
        }
        *self.live.0.write().expect("reload lock") = new;
        tracing::info!(?attributes, "daemon reloaded");
        self.events
            .publish("daemon", "reload", &self.id, attributes);
    }
}
