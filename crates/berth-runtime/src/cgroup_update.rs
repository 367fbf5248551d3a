//! New limits for a running container's cgroup (`docker update`), written into its cgroup
//! files: the v1 controllers' files, or the unified hierarchy's with runc's conversions.
//!
//! berth writes these few files itself rather than through libcgroups' `apply`: that also
//! rewrites the device rules (v1 denies everything before allowing again, which a running
//! container would notice) and must create its managers for each call; the daemon already writes
//! `pids.max` and the freezer the same way (see [`crate::cgroup`]).

use std::fs;
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxResources;

use crate::cgroup::WriteError;

const ROOT: &str = "/sys/fs/cgroup";

/// Writes the limits `r` sets into the cgroup at `path` (relative to the hierarchy root);
/// what `r` leaves unset is left as it is.
pub fn update(path: &str, r: &LinuxResources) -> Result<(), WriteError> {
    let rel = path.trim_start_matches('/');
    if crate::cgroup::is_unified() {
        update_v2(&Path::new(ROOT).join(rel), r)
    } else {
        update_v1(Path::new(ROOT), rel, r)
    }
}

fn write(file: PathBuf, data: String) -> Result<(), WriteError> {
    fs::write(&file, &data).map_err(|err| WriteError {
        path: file,
        data,
        err,
    })
}

/// Turns the OOM killer off in the cgroup at `path` (v1's `memory.oom_control`; v2 has no
/// such switch, and the daemon refuses to ask for it there).
pub fn disable_oom_killer(path: &str) -> Result<(), WriteError> {
    let file = Path::new(ROOT)
        .join("memory")
        .join(path.trim_start_matches('/'))
        .join("memory.oom_control");
    write(file, "1".into())
}

/// v1: `-1` is unlimited in every file that takes a byte count or a quota.
pub(crate) fn update_v1(root: &Path, rel: &str, r: &LinuxResources) -> Result<(), WriteError> {
    let dir = |c: &str| root.join(c).join(rel);
    if let Some(m) = r.memory() {
        let mem = dir("memory");
        let (limit, swap) = (m.limit(), m.swap());
        match (limit, swap) {
            (Some(limit), Some(swap)) => {
                // The kernel keeps memory <= memsw at every step: grow memsw first, shrink it
                // last (runc's order).
                let now: i64 = fs::read_to_string(mem.join("memory.limit_in_bytes"))
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(i64::MAX);
                let (l, s) = (
                    ("memory.limit_in_bytes", limit),
                    ("memory.memsw.limit_in_bytes", swap),
                );
                let order = if swap == -1 || now < swap {
                    [s, l]
                } else {
                    [l, s]
                };
                for (file, v) in order {
                    write(mem.join(file), v.to_string())?;
                }
            }
            (Some(limit), None) => write(mem.join("memory.limit_in_bytes"), limit.to_string())?,
            (None, Some(swap)) => write(mem.join("memory.memsw.limit_in_bytes"), swap.to_string())?,
            (None, None) => {}
        }
        if let Some(v) = m.reservation() {
            write(mem.join("memory.soft_limit_in_bytes"), v.to_string())?;
        }
    }
    if let Some(c) = r.cpu() {
        let cpu = dir("cpu");
        if let Some(v) = c.shares().filter(|v| *v > 0) {
            write(cpu.join("cpu.shares"), v.to_string())?;
        }
        if let Some(v) = c.period().filter(|v| *v > 0) {
            write(cpu.join("cpu.cfs_period_us"), v.to_string())?;
        }
        if let Some(v) = c.quota().filter(|v| *v != 0) {
            write(cpu.join("cpu.cfs_quota_us"), v.to_string())?;
        }
        if let Some(v) = c.realtime_period().filter(|v| *v > 0) {
            write(cpu.join("cpu.rt_period_us"), v.to_string())?;
        }
        if let Some(v) = c.realtime_runtime().filter(|v| *v != 0) {
            write(cpu.join("cpu.rt_runtime_us"), v.to_string())?;
        }
        let cpuset = dir("cpuset");
        if let Some(v) = c.cpus().as_ref().filter(|v| !v.is_empty()) {
            write(cpuset.join("cpuset.cpus"), v.clone())?;
        }
        if let Some(v) = c.mems().as_ref().filter(|v| !v.is_empty()) {
            write(cpuset.join("cpuset.mems"), v.clone())?;
        }
    }
    if let Some(p) = r.pids() {
        let v = if p.limit() > 0 {
            p.limit().to_string()
        } else {
            "max".into()
        };
        write(dir("pids").join("pids.max"), v)?;
    }
    if let Some(w) = r.block_io().as_ref().and_then(|io| io.weight()) {
        let blkio = dir("blkio");
        let file = if blkio.join("blkio.weight").exists() {
            "blkio.weight"
        } else {
            "blkio.bfq.weight"
        };
        write(blkio.join(file), w.to_string())?;
    }
    Ok(())
}

/// v2: `max` is unlimited; swap is counted apart from memory; weights are rescaled.
pub(crate) fn update_v2(dir: &Path, r: &LinuxResources) -> Result<(), WriteError> {
    let max = |v: i64| {
        if v < 0 {
            "max".to_string()
        } else {
            v.to_string()
        }
    };
    if let Some(m) = r.memory() {
        if let Some(v) = m.limit() {
            write(dir.join("memory.max"), max(v))?;
        }
        if let Some(swap) = m.swap() {
            let only_swap = match (swap, m.limit()) {
                (-1, _) => -1,
                (s, Some(l)) if l > 0 => (s - l).max(0),
                (s, _) => s,
            };
            write(dir.join("memory.swap.max"), max(only_swap))?;
        }
        if let Some(v) = m.reservation() {
            write(dir.join("memory.low"), v.to_string())?;
        }
    }
    if let Some(c) = r.cpu() {
        if let Some(v) = c.shares().filter(|v| *v > 0) {
            write(dir.join("cpu.weight"), shares_to_weight(v).to_string())?;
        }
        if let Some(q) = c.quota().filter(|v| *v != 0) {
            let period = c.period().filter(|p| *p > 0).unwrap_or(100_000);
            write(dir.join("cpu.max"), format!("{} {period}", max(q)))?;
        }
        if let Some(v) = c.cpus().as_ref().filter(|v| !v.is_empty()) {
            write(dir.join("cpuset.cpus"), v.clone())?;
        }
        if let Some(v) = c.mems().as_ref().filter(|v| !v.is_empty()) {
            write(dir.join("cpuset.mems"), v.clone())?;
        }
    }
    if let Some(p) = r.pids() {
        let v = if p.limit() > 0 { p.limit() } else { -1 };
        write(dir.join("pids.max"), max(v))?;
    }
    if let Some(w) = r.block_io().as_ref().and_then(|io| io.weight()) {
        write(
            dir.join("io.weight"),
            format!("default {}", blkio_to_io_weight(w)),
        )?;
    }
    Ok(())
}

/// runc's mapping of v1 shares (2 to 262144) onto v2's `cpu.weight` (1 to 10000).
pub fn shares_to_weight(shares: u64) -> u64 {
    1 + (shares.clamp(2, 262_144) - 2) * 9999 / 262_142
}

/// runc's mapping of a blkio weight (10 to 1000) onto v2's `io.weight` (1 to 10000).
pub fn blkio_to_io_weight(weight: u16) -> u64 {
    1 + (u64::from(weight).clamp(10, 1000) - 10) * 9999 / 990
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::{
        LinuxBlockIoBuilder, LinuxCpuBuilder, LinuxMemoryBuilder, LinuxPidsBuilder,
        LinuxResourcesBuilder,
    };

    fn resources() -> LinuxResources {
        LinuxResourcesBuilder::default()
            .memory(
                LinuxMemoryBuilder::default()
                    .limit(32i64 << 20)
                    .swap(64i64 << 20)
                    .reservation(16i64 << 20)
                    .build()
                    .unwrap(),
            )
            .cpu(
                LinuxCpuBuilder::default()
                    .shares(1024u64)
                    .quota(50_000i64)
                    .period(100_000u64)
                    .cpus("0")
                    .build()
                    .unwrap(),
            )
            .pids(LinuxPidsBuilder::default().limit(20).build().unwrap())
            .block_io(
                LinuxBlockIoBuilder::default()
                    .weight(300u16)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    fn read(p: PathBuf) -> String {
        fs::read_to_string(&p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .trim()
            .to_string()
    }

    #[test]
    fn v2_files_get_runcs_conversions() {
        let dir = tempfile::tempdir().unwrap();
        update_v2(dir.path(), &resources()).unwrap();
        let f = |n: &str| read(dir.path().join(n));
        assert_eq!(f("memory.max"), (32u64 << 20).to_string());
        assert_eq!(f("memory.swap.max"), (32u64 << 20).to_string());
        assert_eq!(f("memory.low"), (16u64 << 20).to_string());
        assert_eq!(f("cpu.weight"), "39");
        assert_eq!(f("cpu.max"), "50000 100000");
        assert_eq!(f("cpuset.cpus"), "0");
        assert_eq!(f("pids.max"), "20");
        assert_eq!(f("io.weight"), "default 2930");
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(blkio_to_io_weight(1000), 10_000);
    }

    #[test]
    fn v1_files_are_written_per_controller() {
        let root = tempfile::tempdir().unwrap();
        for c in ["memory", "cpu", "cpuset", "pids", "blkio"] {
            fs::create_dir_all(root.path().join(c).join("berth/x")).unwrap();
        }
        update_v1(root.path(), "berth/x", &resources()).unwrap();
        let f = |c: &str, n: &str| read(root.path().join(c).join("berth/x").join(n));
        assert_eq!(f("memory", "memory.limit_in_bytes"), "33554432");
        assert_eq!(f("memory", "memory.memsw.limit_in_bytes"), "67108864");
        assert_eq!(f("memory", "memory.soft_limit_in_bytes"), "16777216");
        assert_eq!(f("cpu", "cpu.shares"), "1024");
        assert_eq!(f("cpu", "cpu.cfs_quota_us"), "50000");
        assert_eq!(f("cpuset", "cpuset.cpus"), "0");
        assert_eq!(f("pids", "pids.max"), "20");
        assert_eq!(f("blkio", "blkio.bfq.weight"), "300");
    }
}
