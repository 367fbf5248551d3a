//! `GET /containers/{id}/stats`: Docker's frame, in the field order Docker 20.10 writes it.
//! Go's `omitempty` is followed field by field: zero numbers and empty maps are left out,
//! structs never are, and the v2 blkio lists berth cannot fill are `null`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

fn zero(n: &u64) -> bool {
    *n == 0
}

fn zero32(n: &u32) -> bool {
    *n == 0
}

/// One frame.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    /// When the sample was taken (RFC 3339 with nanoseconds; Go's zero time for none).
    pub read: String,
    /// When the previous sample was taken.
    pub preread: String,
    /// Tasks.
    pub pids_stats: PidsStats,
    /// Block I/O.
    pub blkio_stats: BlkioStats,
    /// Windows only; always 0.
    pub num_procs: u32,
    /// Windows only; always `{}`.
    pub storage_stats: StorageStats,
    /// CPU now.
    pub cpu_stats: CpuStats,
    /// CPU at the previous sample.
    pub precpu_stats: CpuStats,
    /// Memory.
    pub memory_stats: MemoryStats,
    /// The container's name with its leading `/`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The container's ID.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Per interface inside the container.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, NetworkStats>,
}

/// `pids_stats`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PidsStats {
    /// Tasks now.
    #[serde(skip_serializing_if = "zero")]
    pub current: u64,
    /// The limit.
    #[serde(skip_serializing_if = "zero")]
    pub limit: u64,
}

/// One entry of a blkio list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BlkioStatEntry {
    /// Device major.
    pub major: u64,
    /// Device minor.
    pub minor: u64,
    /// Operation.
    pub op: String,
    /// Count.
    pub value: u64,
}

/// `blkio_stats`: `null` lists where there is nothing of that kind (cgroup v2).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct BlkioStats {
    pub io_service_bytes_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_serviced_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_queue_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_service_time_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_wait_time_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_merged_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_time_recursive: Option<Vec<BlkioStatEntry>>,
    pub sectors_recursive: Option<Vec<BlkioStatEntry>>,
}

/// `storage_stats` (Windows only).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StorageStats {}

/// `cpu_stats` and `precpu_stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CpuStats {
    /// The container's CPU time.
    pub cpu_usage: CpuUsage,
    /// The host's CPU time in nanoseconds.
    #[serde(skip_serializing_if = "zero")]
    pub system_cpu_usage: u64,
    /// CPUs online.
    #[serde(skip_serializing_if = "zero32")]
    pub online_cpus: u32,
    /// CFS throttling.
    pub throttling_data: ThrottlingData,
}

/// `cpu_usage`, nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CpuUsage {
    /// All CPU time.
    pub total_usage: u64,
    /// Per CPU (cgroup v1).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu_usage: Vec<u64>,
    /// In the kernel.
    pub usage_in_kernelmode: u64,
    /// In user space.
    pub usage_in_usermode: u64,
}

/// `throttling_data`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThrottlingData {
    /// Enforcement periods.
    pub periods: u64,
    /// Periods throttled.
    pub throttled_periods: u64,
    /// Nanoseconds throttled.
    pub throttled_time: u64,
}

/// `memory_stats`, bytes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MemoryStats {
    /// Usage now.
    #[serde(skip_serializing_if = "zero")]
    pub usage: u64,
    /// Highest usage (cgroup v1).
    #[serde(skip_serializing_if = "zero")]
    pub max_usage: u64,
    /// `memory.stat`, with the keys Docker reports for the hierarchy.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub stats: BTreeMap<String, u64>,
    /// Limit hits (v1), OOM events (v2).
    #[serde(skip_serializing_if = "zero")]
    pub failcnt: u64,
    /// The limit, at most the host's memory.
    #[serde(skip_serializing_if = "zero")]
    pub limit: u64,
}

/// One interface's counters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct NetworkStats {
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_frame_is_dockers() {
        let s = Stats {
            read: "0001-01-01T00:00:00Z".into(),
            preread: "0001-01-01T00:00:00Z".into(),
            name: "/web".into(),
            id: "abc".into(),
            ..Stats::default()
        };
        let cpu = r#"{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}}"#;
        let expected = format!(
            r#"{{"read":"0001-01-01T00:00:00Z","preread":"0001-01-01T00:00:00Z","pids_stats":{{}},"blkio_stats":{{"io_service_bytes_recursive":null,"io_serviced_recursive":null,"io_queue_recursive":null,"io_service_time_recursive":null,"io_wait_time_recursive":null,"io_merged_recursive":null,"io_time_recursive":null,"sectors_recursive":null}},"num_procs":0,"storage_stats":{{}},"cpu_stats":{cpu},"precpu_stats":{cpu},"memory_stats":{{}},"name":"/web","id":"abc"}}"#
        );
        assert_eq!(serde_json::to_string(&s).unwrap(), expected);
    }
}
