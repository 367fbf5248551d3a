//! Resource usage of a running container, read from its cgroup (v1 hierarchies or the unified
//! one), `/proc/stat` and the network devices of its namespace: one [`Sample`] per call, each
//! file read once, no cgroup manager built. The sample is berth's own; Docker's JSON shapes are
//! made from it at the daemon's edge.

mod net;
mod parse;
mod v1;
mod v2;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub use net::NetDev;

const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// Which cgroup hierarchy a sample came from; Docker's JSON differs between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// Per-controller hierarchies (`cpuacct`, `memory`, `blkio`, `pids`).
    V1,
    /// The unified hierarchy.
    V2,
}

/// CPU time of the container's cgroup, in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cpu {
    /// All CPU time.
    pub total: u64,
    /// Per CPU (v1's `cpuacct.usage_percpu`; v2 has none).
    pub percpu: Option<Vec<u64>>,
    /// In the kernel.
    pub kernel: u64,
    /// In user space.
    pub user: u64,
    /// CFS enforcement periods.
    pub periods: u64,
    /// Periods in which the cgroup was throttled.
    pub throttled_periods: u64,
    /// Time spent throttled.
    pub throttled_time: u64,
}

/// The host's CPU time (`/proc/stat`, first line) and how many CPUs are online.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemCpu {
    /// Nanoseconds, from clock ticks of 1/100 s.
    pub usage: u64,
    /// `cpuN` lines.
    pub online: u32,
}

/// Memory of the container's cgroup, in bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Memory {
    /// Current usage.
    pub usage: u64,
    /// Highest usage seen (v1 only).
    pub max_usage: u64,
    /// v1: times the limit was hit; v2: `oom` of `memory.events` (`None` without the file).
    pub failcnt: Option<u64>,
    /// The limit; `u64::MAX` for v2's `max`, 0 when the file is absent.
    pub limit: u64,
    /// `memory.stat`, every key as the kernel wrote it.
    pub stat: BTreeMap<String, u64>,
}

/// One line of a v1 blkio file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlkioEntry {
    /// Device major number.
    pub major: u64,
    /// Device minor number.
    pub minor: u64,
    /// `Read`, `Write`, `Sync`, `Async`, `Discard`, `Total`, or empty.
    pub op: String,
    /// The count.
    pub value: u64,
}

/// The v1 blkio lists (the `_recursive` files of CFQ, or the throttle files without it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blkio {
    /// Bytes transferred.
    pub service_bytes: Vec<BlkioEntry>,
    /// Requests issued.
    pub serviced: Vec<BlkioEntry>,
    /// Requests queued.
    pub queued: Vec<BlkioEntry>,
    /// Time spent servicing.
    pub service_time: Vec<BlkioEntry>,
    /// Time spent waiting.
    pub wait_time: Vec<BlkioEntry>,
    /// Requests merged.
    pub merged: Vec<BlkioEntry>,
    /// Disk time.
    pub time: Vec<BlkioEntry>,
    /// Sectors transferred.
    pub sectors: Vec<BlkioEntry>,
}

/// One device of v2's `io.stat`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IoStat {
    /// Device major number.
    pub major: u64,
    /// Device minor number.
    pub minor: u64,
    /// Bytes read.
    pub rbytes: u64,
    /// Bytes written.
    pub wbytes: u64,
    /// Reads.
    pub rios: u64,
    /// Writes.
    pub wios: u64,
}

/// Block I/O, per hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Io {
    /// v1's blkio lists.
    V1(Blkio),
    /// v2's `io.stat`.
    V2(Vec<IoStat>),
}

/// Tasks of the cgroup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pids {
    /// Tasks now.
    pub current: u64,
    /// `pids.max`: `None` for `max`, 0 when the file is absent.
    pub limit: Option<u64>,
}

/// One reading of a container's usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// When it was taken.
    pub read: SystemTime,
    /// The hierarchy it came from.
    pub version: Version,
    /// CPU time of the container.
    pub cpu: Cpu,
    /// CPU time of the host, read right after the container's.
    pub system: SystemCpu,
    /// Memory.
    pub memory: Memory,
    /// Block I/O.
    pub io: Io,
    /// Tasks.
    pub pids: Pids,
    /// Interfaces of the container's network namespace but loopback, by their name inside;
    /// `None` when it was not asked for.
    pub networks: Option<Vec<(String, NetDev)>>,
}

/// What could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// The container's cgroup is gone: it is not running.
    #[error("the cgroup {} does not exist", path.display())]
    Gone {
        /// The directory looked for.
        path: PathBuf,
    },
    /// A host file could not be read.
    #[error("reading {}: {err}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        err: std::io::Error,
    },
}

/// Reads the usage of the cgroup at `path` (relative to the hierarchy root, as
/// [`crate::cgroup`] takes it); with `net_pid`, also the network devices of that process's
/// namespace (read from its `/proc/PID/net/dev`, no namespace is entered).
pub fn sample(path: &str, net_pid: Option<i32>) -> Result<Sample, StatsError> {
    sample_in(Path::new(CGROUP_ROOT), Path::new("/proc"), path, net_pid)
}

/// [`sample`] with the cgroup and proc roots given (tests point them at fixture trees).
pub fn sample_in(
    cgroup_root: &Path,
    proc_root: &Path,
    path: &str,
    net_pid: Option<i32>,
) -> Result<Sample, StatsError> {
    let rel = path.trim_start_matches('/');
    let read = SystemTime::now();
    let unified = cgroup_root.join("cgroup.controllers").exists();
    let (version, cpu, memory, io, pids) = if unified {
        let (c, m, i, p) = v2::read(&cgroup_root.join(rel))?;
        (Version::V2, c, m, Io::V2(i), p)
    } else {
        let (c, m, b, p) = v1::read(cgroup_root, rel)?;
        (Version::V1, c, m, Io::V1(b), p)
    };
    let system = net::system_cpu(proc_root)?;
    let networks = match net_pid {
        Some(pid) => Some(net::devices(proc_root, pid)?),
        None => None,
    };
    Ok(Sample {
        read,
        version,
        cpu,
        system,
        memory,
        io,
        pids,
        networks,
    })
}

/// The host's memory in bytes (`MemTotal` of `/proc/meminfo`), which caps reported limits as
/// Docker caps them; read once.
pub fn host_memory() -> u64 {
    static ONCE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *ONCE.get_or_init(|| {
        std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| {
                    l.strip_prefix("MemTotal:")?
                        .trim()
                        .strip_suffix("kB")?
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
            })
            .map_or(0, |kb| kb * 1024)
    })
}
