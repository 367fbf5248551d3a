//! A container's persisted record and its state machine's states.

use berth_api::container::{Config, HostConfig};
use berth_core::Digest;
use serde::{Deserialize, Serialize};

/// Docker's container states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Created, never started (or failed to start).
    Created,
    /// Its process runs.
    Running,
    /// Being removed.
    Removing,
    /// Its process ended.
    Exited,
    /// Could not be cleaned up.
    Dead,
}

impl Status {
    /// Docker's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Removing => "removing",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }
}

/// The mutable part of a record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// Current state.
    pub status: Status,
    /// Host pid of the init while running, else 0.
    pub pid: i64,
    /// Exit code of the last run.
    pub exit_code: i64,
    /// Why the last start failed.
    pub error: String,
    /// When the last run started (RFC 3339), or Go's zero time.
    pub started_at: String,
    /// When the last run ended.
    pub finished_at: String,
    /// Whether the last run saw an OOM kill.
    pub oom_killed: bool,
}

/// Go's zero time, which Docker shows for "never".
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

impl Default for State {
    fn default() -> Self {
        State {
            status: Status::Created,
            pid: 0,
            exit_code: 0,
            error: String::new(),
            started_at: ZERO_TIME.into(),
            finished_at: ZERO_TIME.into(),
            oom_killed: false,
        }
    }
}

/// What the daemon stores for a container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// 64-hex-digit ID.
    pub id: String,
    /// Name without the leading `/`.
    pub name: String,
    /// Creation time (RFC 3339).
    pub created: String,
    /// The image ID.
    pub image_id: Digest,
    /// Its top layer.
    pub chain_id: Option<Digest>,
    /// The effective config (image defaults merged in), as inspect shows it.
    pub config: Config,
    /// Host settings as given.
    pub host_config: HostConfig,
    /// argv[0].
    pub path: String,
    /// argv[1..].
    pub args: Vec<String>,
    /// Run state.
    pub state: State,
    /// Mounts of a build step's container (`RUN --mount`); the API cannot set them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_mounts: Vec<berth_runtime::ExtraMount>,
    /// A build step's container: removed when found after a daemon restart (its build died).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub build_step: bool,
}
