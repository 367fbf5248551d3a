//! `services.*.deploy`: replicas, resources, restart policy, and the rolling update and
//! rollback settings berth's orchestrator applies.

use indexmap::IndexMap;
use serde::Deserialize;

use super::lenient;
use super::units::{Bytes, Duration};

/// `deploy`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deploy {
    /// `mode`: `replicated` (default) or `global` (one per node: here, one).
    #[serde(default)]
    pub mode: Option<String>,
    /// `replicas`.
    #[serde(default, deserialize_with = "lenient::opt_num")]
    pub replicas: Option<u32>,
    /// `labels` (of the service, not of its containers).
    #[serde(default, deserialize_with = "lenient::text_map")]
    pub labels: IndexMap<String, String>,
    /// `update_config`.
    #[serde(default)]
    pub update_config: Option<UpdateConfig>,
    /// `rollback_config`.
    #[serde(default)]
    pub rollback_config: Option<UpdateConfig>,
    /// `resources`.
    #[serde(default)]
    pub resources: Resources,
    /// `restart_policy`.
    #[serde(default)]
    pub restart_policy: Option<RestartPolicy>,
}

/// `deploy.resources`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// `limits`.
    #[serde(default)]
    pub limits: Option<Resource>,
    /// `reservations`.
    #[serde(default)]
    pub reservations: Option<Resource>,
}

/// `deploy.resources.limits` or `.reservations`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// `cpus` (`"0.5"` or `0.5`).
    #[serde(default, deserialize_with = "lenient::opt_num")]
    pub cpus: Option<f64>,
    /// `memory`.
    #[serde(default)]
    pub memory: Option<Bytes>,
    /// `pids`.
    #[serde(default, deserialize_with = "lenient::opt_num")]
    pub pids: Option<i64>,
}

/// `deploy.restart_policy`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestartPolicy {
    /// `condition`: `none`, `on-failure`, `any` (default).
    #[serde(default)]
    pub condition: Option<String>,
    /// `delay` between restarts.
    #[serde(default)]
    pub delay: Option<Duration>,
    /// `max_attempts`.
    #[serde(default, deserialize_with = "lenient::opt_num")]
    pub max_attempts: Option<u64>,
    /// `window`: how long a restart must run to count as a success.
    #[serde(default)]
    pub window: Option<Duration>,
}

/// `deploy.update_config` / `deploy.rollback_config`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateConfig {
    /// `parallelism`: containers replaced at a time (0 = all at once).
    #[serde(default, deserialize_with = "lenient::opt_num")]
    pub parallelism: Option<u64>,
    /// `delay` between batches.
    #[serde(default)]
    pub delay: Option<Duration>,
    /// `failure_action`: `continue`, `rollback` or `pause`.
    #[serde(default)]
    pub failure_action: Option<String>,
    /// `monitor`: how long to watch each new container for failure.
    #[serde(default)]
    pub monitor: Option<Duration>,
    /// `max_failure_ratio`.
    #[serde(default, deserialize_with = "lenient::opt_num")]
    pub max_failure_ratio: Option<f64>,
    /// `order`: `stop-first` or `start-first`.
    #[serde(default)]
    pub order: Option<String>,
}
