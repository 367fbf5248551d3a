//! What `/proc` says: the host's CPU time (`/proc/stat`) and the network devices of a process's
//! namespace (`/proc/PID/net/dev`, which shows the namespace of PID, not the reader's).

use std::path::Path;

use super::parse::uint;
use super::{StatsError, SystemCpu};

/// Counters of one network interface.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetDev {
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Received packets dropped.
    pub rx_dropped: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Send errors.
    pub tx_errors: u64,
    /// Packets dropped on send.
    pub tx_dropped: u64,
}

fn read(path: &Path) -> Result<String, StatsError> {
    std::fs::read_to_string(path).map_err(|err| StatsError::Read {
        path: path.to_path_buf(),
        err,
    })
}

/// The first line's user..softirq ticks (1/100 s) in nanoseconds, and the `cpuN` lines.
pub fn system_cpu(proc_root: &Path) -> Result<SystemCpu, StatsError> {
    Ok(parse_stat(&read(&proc_root.join("stat"))?))
}

fn parse_stat(text: &str) -> SystemCpu {
    let mut s = SystemCpu::default();
    for line in text.lines().take_while(|l| l.starts_with("cpu")) {
        let mut f = line.split_whitespace();
        match f.next() {
            Some("cpu") => {
                let ticks: u64 = f.take(7).map(uint).sum();
                s.usage = ticks * 1_000_000_000 / 100;
            }
            Some(n) if n[3..].starts_with(|c: char| c.is_ascii_digit()) => s.online += 1,
            _ => {}
        }
    }
    s
}

/// The interfaces of `pid`'s network namespace but `lo`, in the kernel's order. A process
/// that ended is a container that stopped.
pub fn devices(proc_root: &Path, pid: i32) -> Result<Vec<(String, NetDev)>, StatsError> {
    let path = proc_root.join(pid.to_string()).join("net/dev");
    match std::fs::read_to_string(&path) {
        Ok(t) => Ok(parse_dev(&t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StatsError::Gone { path }),
        Err(err) => Err(StatsError::Read { path, err }),
    }
}

fn parse_dev(text: &str) -> Vec<(String, NetDev)> {
    text.lines()
        .skip(2)
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let name = name.trim();
            let v: Vec<u64> = rest.split_whitespace().map(uint).collect();
            (name != "lo" && v.len() >= 12).then(|| {
                let dev = NetDev {
                    rx_bytes: v[0],
                    rx_packets: v[1],
                    rx_errors: v[2],
                    rx_dropped: v[3],
                    tx_bytes: v[8],
                    tx_packets: v[9],
                    tx_errors: v[10],
                    tx_dropped: v[11],
                };
                (name.to_string(), dev)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_cpu_time_in_nanoseconds_and_online_cpus() {
        let stat = "cpu  100 1 50 1000 9 2 3 7 0 0\ncpu0 50 0 25 500 4 1 1 3 0 0\ncpu1 50 1 25 500 5 1 2 4 0 0\nintr 1 2\n";
        let s = parse_stat(stat);
        // steal (7) is not counted, as in Docker.
        assert_eq!(s.usage, (100 + 1 + 50 + 1000 + 9 + 2 + 3) * 10_000_000);
        assert_eq!(s.online, 2);
    }

    #[test]
    fn devices_but_loopback() {
        let dev = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:     140       2    0    0    0     0          0         0      140       2    0    0    0     0       0          0\n  eth0:    1046      13    1    2    0     0          0         0      656       8    3    4    0     0       0          0\n";
        let d = parse_dev(dev);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].0, "eth0");
        assert_eq!(
            d[0].1,
            NetDev {
                rx_bytes: 1046,
                rx_packets: 13,
                rx_errors: 1,
                rx_dropped: 2,
                tx_bytes: 656,
                tx_packets: 8,
                tx_errors: 3,
                tx_dropped: 4
            }
        );
    }
}
