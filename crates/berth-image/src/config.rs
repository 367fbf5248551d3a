//! The image config blob, in Docker's JSON shape (a superset of OCI's: it adds `Healthcheck`,
//! `OnBuild`, `Shell` and friends, which Docker images carry and Docker clients show).

use std::collections::BTreeMap;

use berth_core::Digest;
use serde::{Deserialize, Serialize};

/// An empty JSON object, the value type Docker uses for sets (`ExposedPorts`, `Volumes`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// A healthcheck as stored in image and container configs (durations in nanoseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthConfig {
    /// `["NONE"]`, `["CMD", ...]` or `["CMD-SHELL", "..."]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<Vec<String>>,
    /// Time between checks.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub interval: i64,
    /// Time one check may take.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timeout: i64,
    /// Grace period after start.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_period: i64,
    /// Interval during the start period.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_interval: i64,
    /// Consecutive failures before unhealthy.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: i64,
}

impl HealthConfig {
    /// Docker's merge: `base` (the image's) fills what `mine` leaves unset or zero.
    pub fn merged(
        mine: Option<&HealthConfig>,
        base: Option<&HealthConfig>,
    ) -> Option<HealthConfig> {
        let (Some(m), Some(b)) = (mine, base) else {
            return mine.or(base).cloned();
        };
        let mut out = m.clone();
        if out.test.as_ref().is_none_or(Vec::is_empty) {
            out.test.clone_from(&b.test);
        }
        for (field, theirs) in [
            (&mut out.interval, b.interval),
            (&mut out.timeout, b.timeout),
            (&mut out.start_period, b.start_period),
            (&mut out.start_interval, b.start_interval),
            (&mut out.retries, b.retries),
        ] {
            if *field == 0 {
                *field = theirs;
            }
        }
        Some(out)
    }
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// The runtime defaults an image gives its containers (`config` in the image config).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct RunConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hostname: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub domainname: String,
    #[serde(default)]
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, Empty>>,
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub args_escaped: bool,
    /// The image a build step started from (Docker's classic builder sets it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image: String,
    #[serde(default)]
    pub volumes: Option<BTreeMap<String, Empty>>,
    #[serde(default)]
    pub working_dir: String,
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub on_build: Option<Vec<String>>,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

/// `rootfs` of an image config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The diff IDs of the layers, bottom first.
    pub diff_ids: Vec<Digest>,
}

/// One `history` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

/// The image config blob; its digest is the image ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The container a commit made the image from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// That container's config, in Docker's container `Config` shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_config: Option<serde_json::Value>,
    #[serde(default)]
    pub config: RunConfig,
    pub rootfs: RootFs,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
}

/// Sets `kv` (`KEY=value`) in `env`: a variable already there is replaced in place, a new one
/// goes last, as Docker does.
pub fn set_env(env: &mut Vec<String>, kv: &str) {
    let key = kv.split('=').next().unwrap_or(kv);
    match env.iter_mut().find(|e| e.split('=').next() == Some(key)) {
        Some(e) => *e = kv.to_string(),
        None => env.push(kv.to_string()),
    }
}

/// Docker's merge of `overrides` into `env` (ReplaceOrAppendEnvValues): each `KEY=value`
/// replaces its variable in place or goes last; a bare `KEY` removes the variable.
pub fn merge_env(env: &mut Vec<String>, overrides: &[String]) {
    for kv in overrides {
        if kv.contains('=') {
            set_env(env, kv);
        } else {
            env.retain(|e| e.split('=').next() != Some(kv.as_str()));
        }
    }
}

/// The architecture name Go (and so Docker and OCI) uses for this host.
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_merges_as_docker_merges() {
        let mut env = vec!["PATH=/bin".to_string(), "A=1".into(), "B=2".into()];
        merge_env(&mut env, &["A=3".into(), "C=4".into(), "B".into()]);
        assert_eq!(env, ["PATH=/bin", "A=3", "C=4"]);
    }
}
