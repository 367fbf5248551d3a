//! cgroup v2: every controller's files in the container's one directory. A controller the
//! host does not delegate leaves its files out; their values count as zero, as containerd's
//! cgroup2 package (Docker's reader) counts them.

use std::path::Path;

use super::parse::{number, pairs_of, text, uint, value};
use super::{Cpu, IoStat, Memory, Pids, StatsError};

/// The CPU, memory, io and pids usage of the cgroup directory `dir`.
pub fn read(dir: &Path) -> Result<(Cpu, Memory, Vec<IoStat>, Pids), StatsError> {
    if !dir.is_dir() {
        return Err(StatsError::Gone {
            path: dir.to_path_buf(),
        });
    }
    let cpu = pairs_of(&dir.join("cpu.stat"));
    let c = |k: &str| cpu.get(k).copied().unwrap_or(0);
    let events = pairs_of(&dir.join("memory.events"));
    let memory = Memory {
        usage: number(&dir.join("memory.current")),
        max_usage: 0,
        failcnt: (!events.is_empty()).then(|| events.get("oom").copied().unwrap_or(0)),
        limit: value(&dir.join("memory.max")).unwrap_or(u64::MAX),
        stat: pairs_of(&dir.join("memory.stat")),
    };
    Ok((
        Cpu {
            total: c("usage_usec") * 1000,
            percpu: None,
            kernel: c("system_usec") * 1000,
            user: c("user_usec") * 1000,
            periods: c("nr_periods"),
            throttled_periods: c("nr_throttled"),
            throttled_time: c("throttled_usec") * 1000,
        },
        memory,
        io(&text(&dir.join("io.stat")).unwrap_or_default()),
        Pids {
            current: number(&dir.join("pids.current")),
            limit: value(&dir.join("pids.max")),
        },
    ))
}

/// `MAJ:MIN rbytes=N wbytes=N rios=N wios=N ...` lines.
fn io(text: &str) -> Vec<IoStat> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(' ');
            let (major, minor) = f.next()?.split_once(':')?;
            let mut e = IoStat {
                major: major.parse().ok()?,
                minor: minor.parse().ok()?,
                ..IoStat::default()
            };
            for kv in f {
                let Some((k, v)) = kv.split_once('=') else {
                    continue;
                };
                let slot = match k {
                    "rbytes" => &mut e.rbytes,
                    "wbytes" => &mut e.wbytes,
                    "rios" => &mut e.rios,
                    "wios" => &mut e.wios,
                    _ => continue,
                };
                *slot = uint(v);
            }
            Some(e)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_v2_cgroup_as_docker_does() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let w = |f: &str, t: &str| std::fs::write(d.join(f), t).unwrap();
        w(
            "cpu.stat",
            "usage_usec 41234\nuser_usec 31234\nsystem_usec 10000\nnr_periods 5\nnr_throttled 2\nthrottled_usec 7\n",
        );
        w("memory.current", "1466368\n");
        w("memory.max", "max\n");
        w("memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
        w("memory.stat", "anon 126976\nfile 0\ninactive_file 4096\n");
        w(
            "io.stat",
            "254:0 rbytes=8192 wbytes=4096 rios=2 wios=1 dbytes=0 dios=0\n",
        );
        w("pids.current", "2\n");
        w("pids.max", "100\n");
        let (cpu, mem, io, pids) = read(d).unwrap();
        assert_eq!(
            (cpu.total, cpu.user, cpu.kernel),
            (41_234_000, 31_234_000, 10_000_000)
        );
        assert_eq!(
            (cpu.periods, cpu.throttled_periods, cpu.throttled_time),
            (5, 2, 7000)
        );
        assert_eq!(cpu.percpu, None);
        assert_eq!(
            (mem.usage, mem.limit, mem.failcnt),
            (1466368, u64::MAX, Some(1))
        );
        assert_eq!(mem.stat["anon"], 126976);
        assert_eq!(
            io,
            [IoStat {
                major: 254,
                minor: 0,
                rbytes: 8192,
                wbytes: 4096,
                rios: 2,
                wios: 1
            }]
        );
        assert_eq!(
            pids,
            Pids {
                current: 2,
                limit: Some(100)
            }
        );
    }

    #[test]
    fn controllers_left_out_count_as_zero() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cpu.stat"), "usage_usec 5\n").unwrap();
        let (cpu, mem, io, pids) = read(dir.path()).unwrap();
        assert_eq!(cpu.total, 5000);
        assert_eq!((mem.usage, mem.limit, mem.failcnt), (0, 0, None));
        assert!(io.is_empty());
        assert_eq!(
            pids,
            Pids {
                current: 0,
                limit: Some(0)
            }
        );
        let e = read(&dir.path().join("gone")).unwrap_err();
        assert!(matches!(e, StatsError::Gone { .. }), "{e}");
    }
}
