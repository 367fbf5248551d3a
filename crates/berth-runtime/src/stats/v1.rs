//! cgroup v1: one hierarchy per controller, the container at `<root>/<controller>/<path>`.
//! The files and their meaning are those containerd's cgroup1 package reads for Docker.

use std::path::Path;

use super::parse::{number, pairs_of, text, uint};
use super::{Blkio, BlkioEntry, Cpu, Memory, Pids, StatsError};

/// USER_HZ: `cpuacct.stat` counts in these ticks.
const TICKS_PER_SECOND: u64 = 100;

/// The CPU, memory, blkio and pids usage of cgroup `rel` under `root` (`/sys/fs/cgroup`).
pub fn read(root: &Path, rel: &str) -> Result<(Cpu, Memory, Blkio, Pids), StatsError> {
    let dir = |controller: &str| root.join(controller).join(rel);
    if !["cpuacct", "memory", "pids"]
        .iter()
        .any(|c| dir(c).is_dir())
    {
        return Err(StatsError::Gone {
            path: dir("memory"),
        });
    }
    Ok((
        cpu(&dir("cpuacct"), &dir("cpu")),
        memory(&dir("memory")),
        blkio(&dir("blkio")),
        Pids {
            current: number(&dir("pids").join("pids.current")),
            limit: super::parse::value(&dir("pids").join("pids.max")),
        },
    ))
}

fn cpu(acct: &Path, cpu: &Path) -> Cpu {
    let ticks = pairs_of(&acct.join("cpuacct.stat"));
    let ns = |k: &str| ticks.get(k).copied().unwrap_or(0) * 1_000_000_000 / TICKS_PER_SECOND;
    let percpu =
        text(&acct.join("cpuacct.usage_percpu")).map(|t| t.split_whitespace().map(uint).collect());
    let throttling = pairs_of(&cpu.join("cpu.stat"));
    let t = |k: &str| throttling.get(k).copied().unwrap_or(0);
    Cpu {
        total: number(&acct.join("cpuacct.usage")),
        percpu,
        kernel: ns("system"),
        user: ns("user"),
        periods: t("nr_periods"),
        throttled_periods: t("nr_throttled"),
        throttled_time: t("throttled_time"),
    }
}

fn memory(dir: &Path) -> Memory {
    let n = |f: &str| number(&dir.join(f));
    Memory {
        usage: n("memory.usage_in_bytes"),
        max_usage: n("memory.max_usage_in_bytes"),
        failcnt: Some(n("memory.failcnt")),
        limit: n("memory.limit_in_bytes"),
        stat: pairs_of(&dir.join("memory.stat")),
    }
}

/// CFQ's `_recursive` files where the kernel has them and they say something; else the
/// throttle files (every kernel since 5.0), as containerd falls back.
fn blkio(dir: &Path) -> Blkio {
    let list = |name: &str| entries(&text(&dir.join(format!("blkio.{name}"))).unwrap_or_default());
    let mut b = Blkio::default();
    if dir.join("blkio.io_serviced_recursive").exists() {
        b = Blkio {
            service_bytes: list("io_service_bytes_recursive"),
            serviced: list("io_serviced_recursive"),
            queued: list("io_queued_recursive"),
            service_time: list("io_service_time_recursive"),
            wait_time: list("io_wait_time_recursive"),
            merged: list("io_merged_recursive"),
            time: list("time_recursive"),
            sectors: list("sectors_recursive"),
        };
        if b != Blkio::default() {
            return b;
        }
    }
    b.serviced = list("throttle.io_serviced");
    b.service_bytes = list("throttle.io_service_bytes");
    b
}

/// `MAJ:MIN [Op] value` lines; the closing `Total N` line is left out.
fn entries(text: &str) -> Vec<BlkioEntry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split([' ', ':']).filter(|s| !s.is_empty()).collect();
            let (op, value) = match f.len() {
                3 => (String::new(), f[2]),
                4 => (f[2].to_string(), f[3]),
                _ => return None,
            };
            Some(BlkioEntry {
                major: f[0].parse().ok()?,
                minor: f[1].parse().ok()?,
                op,
                value: uint(value),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, file: &str, text: &str) {
        let p = root.join(file);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn reads_a_v1_container_as_docker_does() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        write(r, "cpuacct/berth/c/cpuacct.usage", "41234567\n");
        write(
            r,
            "cpuacct/berth/c/cpuacct.usage_percpu",
            "20000000 21234567 \n",
        );
        write(r, "cpuacct/berth/c/cpuacct.stat", "user 3\nsystem 1\n");
        write(
            r,
            "cpu/berth/c/cpu.stat",
            "nr_periods 10\nnr_throttled 4\nthrottled_time 900\n",
        );
        write(r, "memory/berth/c/memory.usage_in_bytes", "1466368\n");
        write(r, "memory/berth/c/memory.max_usage_in_bytes", "2174976\n");
        write(r, "memory/berth/c/memory.failcnt", "0\n");
        write(r, "memory/berth/c/memory.limit_in_bytes", "67108864\n");
        write(
            r,
            "memory/berth/c/memory.stat",
            "cache 0\nrss 98304\ntotal_inactive_file 4096\n",
        );
        write(
            r,
            "blkio/berth/c/blkio.throttle.io_service_bytes",
            "8:0 Read 4096\n8:0 Write 0\n8:0 Sync 4096\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 4096\nTotal 4096\n",
        );
        write(
            r,
            "blkio/berth/c/blkio.throttle.io_serviced",
            "8:0 Read 1\nTotal 1\n",
        );
        write(r, "pids/berth/c/pids.current", "3\n");
        write(r, "pids/berth/c/pids.max", "max\n");
        let (cpu, mem, blkio, pids) = read(r, "berth/c").unwrap();
        assert_eq!(cpu.total, 41234567);
        assert_eq!(cpu.percpu, Some(vec![20000000, 21234567]));
        assert_eq!((cpu.user, cpu.kernel), (30_000_000, 10_000_000));
        assert_eq!(
            (cpu.periods, cpu.throttled_periods, cpu.throttled_time),
            (10, 4, 900)
        );
        assert_eq!(
            (mem.usage, mem.max_usage, mem.limit),
            (1466368, 2174976, 67108864)
        );
        assert_eq!(mem.failcnt, Some(0));
        assert_eq!(mem.stat["total_inactive_file"], 4096);
        let ops: Vec<&str> = blkio.service_bytes.iter().map(|e| e.op.as_str()).collect();
        assert_eq!(ops, ["Read", "Write", "Sync", "Async", "Discard", "Total"]);
        assert_eq!(
            (blkio.service_bytes[0].major, blkio.service_bytes[0].value),
            (8, 4096)
        );
        assert_eq!(blkio.serviced.len(), 1);
        assert!(blkio.sectors.is_empty());
        assert_eq!(
            pids,
            Pids {
                current: 3,
                limit: None
            }
        );
    }

    #[test]
    fn cfq_lists_win_when_they_say_something() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        write(r, "memory/berth/c/memory.stat", "");
        write(
            r,
            "blkio/berth/c/blkio.io_serviced_recursive",
            "8:0 Read 2\nTotal 2\n",
        );
        write(r, "blkio/berth/c/blkio.sectors_recursive", "8:0 16\n");
        write(
            r,
            "blkio/berth/c/blkio.throttle.io_serviced",
            "8:0 Read 9\n",
        );
        let (_, _, blkio, _) = read(r, "berth/c").unwrap();
        assert_eq!(blkio.serviced[0].value, 2);
        assert_eq!(blkio.sectors[0].op, "");
        assert_eq!(blkio.sectors[0].value, 16);
    }

    #[test]
    fn a_missing_cgroup_is_gone() {
        let root = tempfile::tempdir().unwrap();
        let e = read(root.path(), "berth/none").unwrap_err();
        assert!(matches!(e, StatsError::Gone { .. }), "{e}");
    }
}
