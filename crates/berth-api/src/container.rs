//! Container endpoints: create, list, inspect, wait.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Docker's set type (`{"80/tcp": {}}`).
pub type Set = BTreeMap<String, Value>;

/// `Config` of a container: the body of `POST /containers/create` (with `HostConfig` inside) and
/// the `Config` of inspect.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Config {
    #[serde(default, deserialize_with = "crate::null_default")]
    pub hostname: String,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub domainname: String,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub user: String,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub attach_stdin: bool,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub attach_stdout: bool,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub attach_stderr: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<Set>,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub tty: bool,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub open_stdin: bool,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub stdin_once: bool,
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::str_slice")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Value>,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub image: String,
    #[serde(default)]
    pub volumes: Option<Set>,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub working_dir: String,
    #[serde(default, deserialize_with = "crate::str_slice")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub on_build: Option<Vec<String>>,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::str_slice"
    )]
    pub shell: Option<Vec<String>>,
    /// `--mac-address` before API 1.44 (later in the endpoint's settings).
    #[serde(
        default,
        deserialize_with = "crate::null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub mac_address: String,
    /// Fields berth does not implement; refused unless unset.
    #[serde(flatten)]
    pub rest: BTreeMap<String, Value>,
}

/// `POST /containers/create` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct CreateRequest {
    #[serde(flatten)]
    pub config: Config,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub host_config: HostConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub networking_config: Option<NetworkingConfig>,
}

/// Restart policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct RestartPolicy {
    #[serde(default, deserialize_with = "crate::null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub maximum_retry_count: i64,
}

/// Log configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct LogConfig {
    #[serde(default, rename = "Type", deserialize_with = "crate::null_default")]
    pub kind: String,
    #[serde(default)]
    pub config: Option<BTreeMap<String, String>>,
}

/// `HostConfig` of a container.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct HostConfig {
    #[serde(default, deserialize_with = "crate::null_default")]
    pub network_mode: String,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub auto_remove: bool,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub restart_policy: RestartPolicy,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub log_config: LogConfig,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub memory: i64,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub memory_swap: i64,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub nano_cpus: i64,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub cpu_shares: i64,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub cpu_period: i64,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub cpu_quota: i64,
    #[serde(default)]
    pub memory_swappiness: Option<i64>,
    #[serde(default)]
    pub pids_limit: Option<i64>,
    #[serde(default)]
    pub init: Option<bool>,
    #[serde(default)]
    pub console_size: Option<[u32; 2]>,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub ipc_mode: String,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub pid_mode: String,
    #[serde(rename = "UTSMode", default, deserialize_with = "crate::null_default")]
    pub uts_mode: String,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub cgroupns_mode: String,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub runtime: String,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub shm_size: i64,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub readonly_rootfs: bool,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub privileged: bool,
    /// `--userns`: `host`, or empty for the daemon's user namespace setting.
    #[serde(default, deserialize_with = "crate::null_default")]
    pub userns_mode: String,
    /// `--security-opt`: `seccomp=…`, `no-new-privileges`, `label=…`, `apparmor=…`.
    #[serde(default)]
    pub security_opt: Option<Vec<String>>,
    /// `--cap-add`: names with or without `CAP_`, or `ALL`.
    #[serde(default, deserialize_with = "crate::str_slice")]
    pub cap_add: Option<Vec<String>>,
    /// `--cap-drop`.
    #[serde(default, deserialize_with = "crate::str_slice")]
    pub cap_drop: Option<Vec<String>>,
    /// Paths masked in the container; `None`: the daemon's defaults, `[]`: none.
    #[serde(default)]
    pub masked_paths: Option<Vec<String>>,
    /// Paths read-only in the container; `None`: the daemon's defaults, `[]`: none.
    #[serde(default)]
    pub readonly_paths: Option<Vec<String>>,
    /// `-v` strings.
    #[serde(default)]
    pub binds: Option<Vec<String>>,
    /// `--mount` entries.
    #[serde(default)]
    pub mounts: Option<Vec<Mount>>,
    /// `--tmpfs`: target → options.
    #[serde(default)]
    pub tmpfs: Option<BTreeMap<String, String>>,
    /// `--volumes-from`: `container[:ro|rw]`.
    #[serde(default)]
    pub volumes_from: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub volume_driver: String,
    /// `--dns`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<Vec<String>>,
    /// `--dns-option`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_options: Option<Vec<String>>,
    /// `--dns-search`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_search: Option<Vec<String>>,
    /// `--add-host`: `name:ip` (or `name=ip`, API 1.44+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_hosts: Option<Vec<String>>,
    /// `--link`: `container[:alias]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<String>>,
    /// `-p`: `port/proto` → host bindings (a null list is no binding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_bindings: Option<PortMap>,
    /// `-P`.
    #[serde(default, deserialize_with = "crate::null_default")]
    pub publish_all_ports: bool,
    /// `--device`: host nodes made in the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<Vec<DeviceMapping>>,
    /// `--device-cgroup-rule`: `type major:minor access` rules allowing more nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_cgroup_rules: Option<Vec<String>>,
    /// `--gpus` and CDI devices (`--device vendor/class=name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_requests: Option<Vec<DeviceRequest>>,
    /// `--sysctl`: namespaced kernel parameters (omitted when empty, as Docker does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sysctls: Option<BTreeMap<String, String>>,
    /// `--ulimit`: rlimits of the container's processes.
    #[serde(default)]
    pub ulimits: Option<Vec<Ulimit>>,
    /// `--oom-score-adj`.
    #[serde(default, deserialize_with = "crate::null_default")]
    pub oom_score_adj: i64,
    /// `--group-add`: further groups of the container's processes, names or GIDs.
    #[serde(default)]
    pub group_add: Option<Vec<String>>,
    /// Fields berth does not implement; refused unless unset.
    #[serde(flatten)]
    pub rest: BTreeMap<String, Value>,
}

/// One `--device`: a host path, where it goes in the container, and the cgroup access.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeviceMapping {
    /// A node, a symlink to one, or a directory of nodes on the host.
    #[serde(default, deserialize_with = "crate::null_default")]
    pub path_on_host: String,
    /// The path in the container.
    #[serde(default, deserialize_with = "crate::null_default")]
    pub path_in_container: String,
    /// `r`, `w`, `m` combined.
    #[serde(default, deserialize_with = "crate::null_default")]
    pub cgroup_permissions: String,
}

/// One `--ulimit`: soft and hard values of an rlimit, -1 unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ulimit {
    /// `nofile`, `nproc`, ... (go-units' names).
    #[serde(default, deserialize_with = "crate::null_default")]
    pub name: String,
    /// The hard limit.
    #[serde(default, deserialize_with = "crate::null_default")]
    pub hard: i64,
    /// The soft limit.
    #[serde(default, deserialize_with = "crate::null_default")]
    pub soft: i64,
}

/// A request for devices from a driver (`--gpus`, CDI).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeviceRequest {
    /// The driver (`cdi`, `nvidia`); empty: the one with the capabilities.
    #[serde(default, deserialize_with = "crate::null_default")]
    pub driver: String,
    /// How many devices; -1 all.
    #[serde(default, deserialize_with = "crate::null_default")]
    pub count: i64,
    /// Which devices.
    #[serde(rename = "DeviceIDs", default)]
    pub device_ids: Option<Vec<String>>,
    /// Sets of capabilities, any of which will do (`[["gpu"]]`).
    #[serde(default)]
    pub capabilities: Option<Vec<Vec<String>>>,
    /// Driver options.
    #[serde(default)]
    pub options: Option<BTreeMap<String, String>>,
}

/// Docker's `PortMap`: `80/tcp` → where it is published.
pub type PortMap = BTreeMap<String, Option<Vec<PortBinding>>>;

/// One host binding of a container port.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortBinding {
    /// The host address; empty is every address.
    #[serde(default, deserialize_with = "crate::null_default")]
    pub host_ip: String,
    /// The host port or range; empty is one the daemon picks.
    #[serde(default, deserialize_with = "crate::null_default")]
    pub host_port: String,
}

/// `NetworkingConfig` of `POST /containers/create`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkingConfig {
    /// Network name → the endpoint asked for.
    #[serde(default, deserialize_with = "crate::null_default")]
    pub endpoints_config: BTreeMap<String, Option<EndpointSettings>>,
}

/// An endpoint as a client asks for it (create, `network connect`); the fields Docker only
/// reports (addresses, IDs) are accepted and not used, as Docker does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointSettings {
    /// `--ip`, `--ip6`.
    #[serde(
        rename = "IPAMConfig",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ipam_config: Option<EndpointIpamConfig>,
    /// `--link` on this network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<String>>,
    /// `--network-alias`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aliases: Option<Vec<String>>,
    /// `--mac-address` (API 1.44+).
    #[serde(default, deserialize_with = "crate::null_default")]
    pub mac_address: String,
    /// Driver options of the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_opts: Option<BTreeMap<String, String>>,
    /// Fields of inspect a client may send back (`NetworkID`, `IPAddress`, ...).
    #[serde(flatten)]
    pub rest: BTreeMap<String, Value>,
}

/// `IPAMConfig` of an endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointIpamConfig {
    /// `--ip`.
    #[serde(
        rename = "IPv4Address",
        default,
        deserialize_with = "crate::null_default"
    )]
    pub ipv4_address: String,
    /// `--ip6`.
    #[serde(
        rename = "IPv6Address",
        default,
        deserialize_with = "crate::null_default"
    )]
    pub ipv6_address: String,
    /// `--link-local-ip`.
    #[serde(
        rename = "LinkLocalIPs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub link_local_ips: Option<Vec<String>>,
}

/// An entry of `HostConfig.Mounts` (`--mount`), as Docker's API types it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Mount {
    #[serde(
        default,
        deserialize_with = "crate::null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub target: String,
    #[serde(
        default,
        deserialize_with = "crate::null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub source: String,
    #[serde(
        default,
        deserialize_with = "crate::null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub r#type: String,
    #[serde(
        default,
        deserialize_with = "crate::null_default",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub read_only: bool,
    #[serde(
        default,
        deserialize_with = "crate::null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub consistency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_options: Option<BindOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_options: Option<VolumeOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmpfs_options: Option<TmpfsOptions>,
}

/// `Mount.BindOptions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct BindOptions {
    #[serde(
        default,
        deserialize_with = "crate::null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub propagation: String,
    #[serde(
        default,
        deserialize_with = "crate::null_default",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub non_recursive: bool,
    /// Fields of newer APIs (`CreateMountpoint`, `ReadOnlyNonRecursive`, ...); refused if set.
    #[serde(flatten)]
    pub rest: BTreeMap<String, Value>,
}

/// `Mount.VolumeOptions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct VolumeOptions {
    #[serde(
        default,
        deserialize_with = "crate::null_default",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub no_copy: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_config: Option<Driver>,
    /// Fields of newer APIs (`Subpath`); refused if set.
    #[serde(flatten)]
    pub rest: BTreeMap<String, Value>,
}

/// `VolumeOptions.DriverConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Driver {
    #[serde(
        default,
        deserialize_with = "crate::null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<BTreeMap<String, String>>,
}

/// `Mount.TmpfsOptions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct TmpfsOptions {
    #[serde(
        default,
        deserialize_with = "crate::null_default",
        skip_serializing_if = "is_zero"
    )]
    pub size_bytes: i64,
    #[serde(
        default,
        deserialize_with = "crate::null_default",
        skip_serializing_if = "is_zero_u32"
    )]
    pub mode: u32,
    /// Fields of newer APIs (`Options`); refused if set.
    #[serde(flatten)]
    pub rest: BTreeMap<String, Value>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

/// A mount of a container as inspect's `Mounts` shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct MountPoint {
    pub r#type: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub source: String,
    pub destination: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub driver: String,
    pub mode: String,
    #[serde(rename = "RW")]
    pub rw: bool,
    pub propagation: String,
}

/// `POST /containers/create` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct CreateResponse {
    pub id: String,
    pub warnings: Vec<String>,
}

/// One row of `GET /containers/json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Summary {
    pub id: String,
    pub names: Vec<String>,
    pub image: String,
    #[serde(rename = "ImageID")]
    pub image_id: String,
    pub command: String,
    pub created: i64,
    pub ports: Vec<Value>,
    pub labels: BTreeMap<String, String>,
    pub state: String,
    pub status: String,
    pub host_config: BTreeMap<String, String>,
    pub network_settings: Value,
    pub mounts: Vec<MountPoint>,
    /// Bytes the container changed (with `size=1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<i64>,
    /// Bytes of its whole filesystem: the image's and its changes (with `size=1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<i64>,
}

/// `State` in container inspect.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct State {
    pub status: String,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub dead: bool,
    pub pid: i64,
    pub exit_code: i64,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
    /// `{"Status", "FailingStreak", "Log"}`, for a container with a healthcheck.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Value>,
}

/// `GET /containers/{id}/json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Inspect {
    pub id: String,
    pub created: String,
    pub path: String,
    pub args: Vec<String>,
    pub state: State,
    pub image: String,
    pub resolv_conf_path: String,
    pub hostname_path: String,
    pub hosts_path: String,
    pub log_path: String,
    pub name: String,
    pub restart_count: i64,
    pub driver: String,
    pub platform: String,
    pub mount_label: String,
    pub process_label: String,
    pub app_armor_profile: String,
    #[serde(rename = "ExecIDs")]
    pub exec_ids: Option<Vec<String>>,
    pub host_config: HostConfig,
    pub graph_driver: crate::image::GraphDriver,
    pub mounts: Vec<MountPoint>,
    pub config: Config,
    pub network_settings: Value,
    /// Bytes the container changed (with `size=1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<i64>,
    /// Bytes of its whole filesystem (with `size=1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<i64>,
}

/// `POST /containers/{id}/wait` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct WaitResponse {
    pub status_code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<WaitError>,
}

/// Error inside a wait response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct WaitError {
    pub message: String,
}
