//! One service of a project: every key of the Compose Specification berth's engine honours.
//! Keys berth can't honour are refused before decoding (see `decode`), so a field here is a
//! promise that the orchestrator acts on it.

use indexmap::IndexMap;
use serde::Deserialize;

use super::deploy::Deploy;
use super::lenient;
use super::parts;
use super::parts::{
    Build, Dependency, Device, EnvFile, FileRef, Healthcheck, Logging, Mount, Port, Restart,
    ServiceNetwork, Ulimit,
};
use super::units::{Bytes, Duration};
use crate::load::Node;

/// A service (`services.<name>`), short syntaxes already in their long forms.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Its key under `services`; set by the project, not read from the service's mapping.
    #[serde(skip)]
    pub name: String,
    /// `profiles`: the service is enabled only when one of them is active; empty = always.
    #[serde(default)]
    pub profiles: Vec<String>,
    /// `annotations` (OCI annotations of the containers).
    #[serde(default, deserialize_with = "lenient::text_map")]
    pub annotations: IndexMap<String, String>,
    /// `attach`: whether `up` attaches to its logs (default true).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub attach: Option<bool>,
    /// `build`.
    #[serde(default)]
    pub build: Option<Build>,
    /// `cap_add`.
    #[serde(default)]
    pub cap_add: Vec<String>,
    /// `cap_drop`.
    #[serde(default)]
    pub cap_drop: Vec<String>,
    /// `cgroup_parent`.
    #[serde(default)]
    pub cgroup_parent: Option<String>,
    /// `cpus` (fractions of a CPU).
    #[serde(default, deserialize_with = "lenient::opt_num")]
    pub cpus: Option<f64>,
    /// `cpu_shares`.
    #[serde(default, deserialize_with = "lenient::opt_num")]
    pub cpu_shares: Option<i64>,
    /// `command`: `None` = the image's; `Some([])` = cleared. A string is split with shell-words
    /// rules, as compose-go does.
    #[serde(default, deserialize_with = "parts::command")]
    pub command: Option<Vec<String>>,
    /// `configs`.
    #[serde(default)]
    pub configs: Vec<FileRef>,
    /// `container_name`.
    #[serde(default)]
    pub container_name: Option<String>,
    /// `depends_on`, by service name.
    #[serde(default)]
    pub depends_on: IndexMap<String, Dependency>,
    /// `deploy`.
    #[serde(default)]
    pub deploy: Option<Deploy>,
    /// `devices`.
    #[serde(default)]
    pub devices: Vec<Device>,
    /// `dns`.
    #[serde(default, deserialize_with = "lenient::text_list")]
    pub dns: Vec<String>,
    /// `dns_opt`.
    #[serde(default, deserialize_with = "lenient::text_list")]
    pub dns_opt: Vec<String>,
    /// `dns_search`.
    #[serde(default, deserialize_with = "lenient::text_list")]
    pub dns_search: Vec<String>,
    /// `domainname`.
    #[serde(default)]
    pub domainname: Option<String>,
    /// `entrypoint`: as `command`.
    #[serde(default, deserialize_with = "parts::command")]
    pub entrypoint: Option<Vec<String>>,
    /// `environment`: `None` values are taken from the environment when the container is made
    /// (or dropped when unset there).
    #[serde(default, deserialize_with = "lenient::opt_text_map")]
    pub environment: IndexMap<String, Option<String>>,
    /// `env_file`.
    #[serde(default)]
    pub env_file: Vec<EnvFile>,
    /// `expose`: ports or ranges (`"3000-3005"`), optionally with `/protocol`.
    #[serde(default, deserialize_with = "lenient::text_list")]
    pub expose: Vec<String>,
    /// `extra_hosts`: host name → addresses.
    #[serde(default, deserialize_with = "parts::hosts")]
    pub extra_hosts: IndexMap<String, Vec<String>>,
    /// `group_add`.
    #[serde(default, deserialize_with = "lenient::text_list")]
    pub group_add: Vec<String>,
    /// `hostname`.
    #[serde(default)]
    pub hostname: Option<String>,
    /// `healthcheck`.
    #[serde(default)]
    pub healthcheck: Option<Healthcheck>,
    /// `image`.
    #[serde(default)]
    pub image: Option<String>,
    /// `init`.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub init: Option<bool>,
    /// `ipc`.
    #[serde(default)]
    pub ipc: Option<String>,
    /// `labels`.
    #[serde(default, deserialize_with = "lenient::text_map")]
    pub labels: IndexMap<String, String>,
    /// `links` (`service` or `service:alias`): legacy links, as aliases on the shared network.
    #[serde(default)]
    pub links: Vec<String>,
    /// `external_links` (`container` or `container:alias`).
    #[serde(default)]
    pub external_links: Vec<String>,
    /// `logging`.
    #[serde(default)]
    pub logging: Option<Logging>,
    /// `mac_address`.
    #[serde(default)]
    pub mac_address: Option<String>,
    /// `mem_limit`.
    #[serde(default)]
    pub mem_limit: Option<Bytes>,
    /// `mem_reservation`.
    #[serde(default)]
    pub mem_reservation: Option<Bytes>,
    /// `memswap_limit` (`-1` = unlimited).
    #[serde(default)]
    pub memswap_limit: Option<Bytes>,
    /// `network_mode` (`none`, `host`, `bridge`, `service:x`, `container:x`).
    #[serde(default)]
    pub network_mode: Option<String>,
    /// `networks`, by project network name; `None` = attached with no options.
    #[serde(default)]
    pub networks: IndexMap<String, Option<ServiceNetwork>>,
    /// `oom_score_adj`.
    #[serde(default, deserialize_with = "lenient::opt_num")]
    pub oom_score_adj: Option<i64>,
    /// `pid`.
    #[serde(default)]
    pub pid: Option<String>,
    /// `pids_limit`.
    #[serde(default, deserialize_with = "lenient::opt_num")]
    pub pids_limit: Option<i64>,
    /// `platform` (`linux/amd64`).
    #[serde(default)]
    pub platform: Option<String>,
    /// `ports`.
    #[serde(default)]
    pub ports: Vec<Port>,
    /// `privileged`.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub privileged: bool,
    /// `pull_policy` (`always`, `never`, `missing`, `if_not_present`, `build`).
    #[serde(default)]
    pub pull_policy: Option<String>,
    /// `read_only`.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub read_only: bool,
    /// `restart`.
    #[serde(default)]
    pub restart: Option<Restart>,
    /// `runtime`.
    #[serde(default)]
    pub runtime: Option<String>,
    /// `scale`.
    #[serde(default, deserialize_with = "lenient::opt_num")]
    pub scale: Option<u32>,
    /// `secrets`.
    #[serde(default)]
    pub secrets: Vec<FileRef>,
    /// `security_opt`.
    #[serde(default)]
    pub security_opt: Vec<String>,
    /// `shm_size`.
    #[serde(default)]
    pub shm_size: Option<Bytes>,
    /// `stdin_open`.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub stdin_open: bool,
    /// `stop_grace_period`.
    #[serde(default)]
    pub stop_grace_period: Option<Duration>,
    /// `stop_signal`.
    #[serde(default)]
    pub stop_signal: Option<String>,
    /// `sysctls`.
    #[serde(default, deserialize_with = "lenient::text_map")]
    pub sysctls: IndexMap<String, String>,
    /// `tmpfs`: mount points, optionally with `:options`.
    #[serde(default, deserialize_with = "lenient::text_list")]
    pub tmpfs: Vec<String>,
    /// `tty`.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub tty: bool,
    /// `ulimits`, by name (`nofile`).
    #[serde(default)]
    pub ulimits: IndexMap<String, Ulimit>,
    /// `user`.
    #[serde(default)]
    pub user: Option<String>,
    /// `userns_mode`.
    #[serde(default)]
    pub userns_mode: Option<String>,
    /// `volumes`.
    #[serde(default)]
    pub volumes: Vec<Mount>,
    /// `working_dir`.
    #[serde(default)]
    pub working_dir: Option<String>,
    /// `x-*` keys, as written.
    #[serde(skip)]
    pub extensions: IndexMap<String, Node>,
}

impl Service {
    /// The image its containers run: `image`, else the one `build` makes, `<project>-<service>`
    /// as compose names it.
    pub fn image_name(&self, project: &str) -> String {
        match &self.image {
            Some(image) => image.clone(),
            None => format!("{project}-{}", self.name),
        }
    }
}
