//! `/version`, `/info` and `/events`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A component in `/version`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Component {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub details: BTreeMap<String, String>,
}

/// `GET /version`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Version {
    #[serde(rename = "Platform")]
    pub platform: BTreeMap<String, String>,
    #[serde(rename = "Components")]
    pub components: Vec<Component>,
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "ApiVersion")]
    pub api_version: String,
    #[serde(rename = "MinAPIVersion")]
    pub min_api_version: String,
    #[serde(rename = "GitCommit")]
    pub git_commit: String,
    #[serde(rename = "GoVersion")]
    pub go_version: String,
    #[serde(rename = "Os")]
    pub os: String,
    #[serde(rename = "Arch")]
    pub arch: String,
    #[serde(rename = "KernelVersion")]
    pub kernel_version: String,
    #[serde(rename = "BuildTime")]
    pub build_time: String,
}

/// `GET /info` (the fields berth fills; clients tolerate missing ones).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Info {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Containers")]
    pub containers: u64,
    #[serde(rename = "ContainersRunning")]
    pub containers_running: u64,
    #[serde(rename = "ContainersPaused")]
    pub containers_paused: u64,
    #[serde(rename = "ContainersStopped")]
    pub containers_stopped: u64,
    #[serde(rename = "Images")]
    pub images: u64,
    #[serde(rename = "Driver")]
    pub driver: String,
    #[serde(rename = "DriverStatus")]
    pub driver_status: Vec<[String; 2]>,
    #[serde(rename = "MemoryLimit")]
    pub memory_limit: bool,
    #[serde(rename = "SwapLimit")]
    pub swap_limit: bool,
    #[serde(rename = "CpuCfsPeriod")]
    pub cpu_cfs_period: bool,
    #[serde(rename = "CpuCfsQuota")]
    pub cpu_cfs_quota: bool,
    #[serde(rename = "CPUShares")]
    pub cpu_shares: bool,
    #[serde(rename = "PidsLimit")]
    pub pids_limit: bool,
    #[serde(rename = "IPv4Forwarding")]
    pub ipv4_forwarding: bool,
    #[serde(rename = "Debug")]
    pub debug: bool,
    #[serde(rename = "NFd")]
    pub nfd: u64,
    #[serde(rename = "NGoroutines")]
    pub ngoroutines: u64,
    #[serde(rename = "SystemTime")]
    pub system_time: String,
    #[serde(rename = "LoggingDriver")]
    pub logging_driver: String,
    #[serde(rename = "CgroupDriver")]
    pub cgroup_driver: String,
    #[serde(rename = "CgroupVersion")]
    pub cgroup_version: String,
    #[serde(rename = "NEventsListener")]
    pub nevents_listener: u64,
    #[serde(rename = "KernelVersion")]
    pub kernel_version: String,
    #[serde(rename = "OperatingSystem")]
    pub operating_system: String,
    #[serde(rename = "OSVersion")]
    pub os_version: String,
    #[serde(rename = "OSType")]
    pub os_type: String,
    #[serde(rename = "Architecture")]
    pub architecture: String,
    #[serde(rename = "NCPU")]
    pub ncpu: u64,
    #[serde(rename = "MemTotal")]
    pub mem_total: u64,
    #[serde(rename = "IndexServerAddress")]
    pub index_server_address: String,
    #[serde(rename = "DockerRootDir")]
    pub docker_root_dir: String,
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Labels")]
    pub labels: Vec<String>,
    #[serde(rename = "ServerVersion")]
    pub server_version: String,
    #[serde(rename = "Runtimes")]
    pub runtimes: BTreeMap<String, serde_json::Value>,
    #[serde(rename = "DefaultRuntime")]
    pub default_runtime: String,
    #[serde(rename = "SecurityOptions")]
    pub security_options: Vec<String>,
    #[serde(rename = "Warnings")]
    pub warnings: Vec<String>,
    #[serde(rename = "KernelMemory")]
    pub kernel_memory: bool,
    #[serde(rename = "KernelMemoryTCP")]
    pub kernel_memory_tcp: bool,
    #[serde(rename = "OomKillDisable")]
    pub oom_kill_disable: bool,
    #[serde(rename = "CPUSet")]
    pub cpu_set: bool,
    #[serde(rename = "BridgeNfIptables")]
    pub bridge_nf_iptables: bool,
    #[serde(rename = "BridgeNfIp6tables")]
    pub bridge_nf_ip6tables: bool,
    #[serde(rename = "ExperimentalBuild")]
    pub experimental_build: bool,
    /// Containers outlive the daemon (they do, always, in berth).
    #[serde(rename = "LiveRestoreEnabled")]
    pub live_restore_enabled: bool,
    #[serde(rename = "Isolation")]
    pub isolation: String,
    #[serde(rename = "InitBinary")]
    pub init_binary: String,
    #[serde(rename = "HttpProxy")]
    pub http_proxy: String,
    #[serde(rename = "HttpsProxy")]
    pub https_proxy: String,
    #[serde(rename = "NoProxy")]
    pub no_proxy: String,
    #[serde(rename = "GenericResources")]
    pub generic_resources: serde_json::Value,
    #[serde(rename = "ContainerdCommit")]
    pub containerd_commit: serde_json::Value,
    #[serde(rename = "RuncCommit")]
    pub runc_commit: serde_json::Value,
    #[serde(rename = "InitCommit")]
    pub init_commit: serde_json::Value,
    #[serde(rename = "Plugins")]
    pub plugins: serde_json::Value,
    #[serde(rename = "RegistryConfig")]
    pub registry_config: serde_json::Value,
    #[serde(rename = "Swarm")]
    pub swarm: serde_json::Value,
}

/// The actor of an event: the object's ID and its attributes (name, image, exit code...).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct EventActor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes")]
    pub attributes: BTreeMap<String, String>,
}

/// One message of `GET /events`; `status`/`id`/`from` are the pre-1.22 fields clients still read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Event {
    #[serde(rename = "status", default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(rename = "id", default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(rename = "from", default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: EventActor,
    #[serde(rename = "scope")]
    pub scope: String,
    #[serde(rename = "time")]
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}
