//! A container's row of `stats` as the docker CLI computes and prints it
//! (`cli/command/container/stats_helpers.go`, `formatter_stats.go`).

use berth_api::stats::Stats;
use serde_json::{Value, json};

/// `docker stats`' default table.
pub const DEFAULT_FORMAT: &str = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

/// What one frame says, reduced to the columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    /// As the user named it (or the ID from the list).
    pub container: String,
    /// With its leading `/`.
    pub name: String,
    /// Full ID.
    pub id: String,
    pub cpu: f64,
    pub memory: f64,
    pub limit: f64,
    pub memory_percent: f64,
    pub rx: f64,
    pub tx: f64,
    pub read: f64,
    pub write: f64,
    pub pids: u64,
    /// No valid frame (an error, a timeout, the stream ended): `--` columns.
    pub invalid: bool,
}

impl Entry {
    /// The entry of frame `s` for `container`.
    pub fn of(container: &str, s: &Stats) -> Entry {
        let memory = memory_no_cache(s);
        let limit = s.memory_stats.limit as f64;
        let (mut read, mut write) = (0, 0);
        for e in s.blkio_stats.io_service_bytes_recursive.iter().flatten() {
            match e.op.as_bytes().first() {
                Some(b'r' | b'R') => read += e.value,
                Some(b'w' | b'W') => write += e.value,
                _ => {}
            }
        }
        Entry {
            container: container.to_string(),
            name: s.name.clone(),
            id: s.id.clone(),
            cpu: cpu_percent(s),
            memory,
            limit,
            memory_percent: if limit != 0.0 {
                memory / limit * 100.0
            } else {
                0.0
            },
            rx: s.networks.values().map(|n| n.rx_bytes as f64).sum(),
            tx: s.networks.values().map(|n| n.tx_bytes as f64).sum(),
            read: read as f64,
            write: write as f64,
            pids: s.pids_stats.current,
            invalid: false,
        }
    }

    /// This entry with every figure zeroed and shown as `--`.
    pub fn invalid(&self) -> Entry {
        Entry {
            container: self.container.clone(),
            name: self.name.clone(),
            id: self.id.clone(),
            invalid: true,
            ..Entry::default()
        }
    }

    /// The template fields, as the docker CLI names and prints them.
    pub fn fields(&self, trunc: bool) -> Value {
        let name = self.name.trim_start_matches('/');
        let id = if trunc {
            self.id.chars().take(12).collect()
        } else {
            self.id.clone()
        };
        let dashes = |s: String| if self.invalid { "--".to_string() } else { s };
        let pair = |a: f64, b: f64| format!("{} / {}", human(a), human(b));
        json!({
            "Container": self.container,
            "Name": if name.is_empty() { "--" } else { name },
            "ID": id,
            "CPUPerc": dashes(percent(self.cpu)),
            "MemUsage": if self.invalid {
                "-- / --".to_string()
            } else {
                format!("{} / {}", bytes(self.memory), bytes(self.limit))
            },
            "MemPerc": dashes(percent(self.memory_percent)),
            "NetIO": dashes(pair(self.rx, self.tx)),
            "BlockIO": dashes(pair(self.read, self.write)),
            "PIDs": dashes(self.pids.to_string()),
        })
    }
}

/// The header row's fields.
pub fn header() -> Value {
    json!({
        "Container": "CONTAINER", "Name": "NAME", "ID": "CONTAINER ID", "CPUPerc": "CPU %",
        "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O",
        "BlockIO": "BLOCK I/O", "PIDs": "PIDS",
    })
}

/// Δ container CPU over Δ host CPU, times the CPUs.
fn cpu_percent(s: &Stats) -> f64 {
    let (now, pre) = (&s.cpu_stats, &s.precpu_stats);
    let cpu = now.cpu_usage.total_usage as f64 - pre.cpu_usage.total_usage as f64;
    let system = now.system_cpu_usage as f64 - pre.system_cpu_usage as f64;
    let mut cpus = f64::from(now.online_cpus);
    if cpus == 0.0 {
        cpus = now.cpu_usage.percpu_usage.len() as f64;
    }
    if system > 0.0 && cpu > 0.0 {
        cpu / system * cpus * 100.0
    } else {
        0.0
    }
}

/// Usage without the inactive file cache (`total_inactive_file` on v1, `inactive_file` on v2).
fn memory_no_cache(s: &Stats) -> f64 {
    let m = &s.memory_stats;
    if let Some(&v) = m.stats.get("total_inactive_file")
        && v < m.usage
    {
        return (m.usage - v) as f64;
    }
    match m.stats.get("inactive_file").copied().unwrap_or(0) {
        v if v < m.usage => (m.usage - v) as f64,
        _ => m.usage as f64,
    }
}

/// Columns as Go's tabwriter lays them out for the docker CLI: each at least `min` wide and
/// three spaces past its widest cell; the last one unpadded.
pub fn align(rows: &[Vec<String>], min: usize) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width = |c: usize| {
        let w = rows
            .iter()
            .filter_map(|r| r.get(c))
            .map(|s| s.chars().count());
        (w.max().unwrap_or(0) + 3).max(min)
    };
    let widths: Vec<usize> = (0..cols).map(width).collect();
    let mut out = String::new();
    for r in rows {
        for (c, cell) in r.iter().enumerate() {
            out.push_str(cell);
            if c + 1 < r.len() {
                out.push_str(&" ".repeat(widths[c].saturating_sub(cell.chars().count())));
            }
        }
        out.push('\n');
    }
    out
}

fn percent(v: f64) -> String {
    format!("{v:.2}%")
}

/// go-units' `BytesSize`: binary units, `%.4g`.
pub fn bytes(v: f64) -> String {
    berth_api::units::bytes_size(v)
}

/// go-units' `HumanSizeWithPrecision(v, 3)`: decimal units, `%.3g`.
pub fn human(v: f64) -> String {
    berth_api::units::human_size(v, 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_memory_as_the_docker_cli_computes_them() {
        let mut s = Stats::default();
        s.cpu_stats.cpu_usage.total_usage = 2_000_000_000;
        s.cpu_stats.system_cpu_usage = 10_000_000_000;
        s.cpu_stats.online_cpus = 2;
        s.precpu_stats.cpu_usage.total_usage = 1_500_000_000;
        s.precpu_stats.system_cpu_usage = 8_000_000_000;
        s.memory_stats.usage = 10_000;
        s.memory_stats.limit = 100_000;
        s.memory_stats
            .stats
            .insert("total_inactive_file".into(), 2_000);
        let e = Entry::of("c", &s);
        assert!((e.cpu - 50.0).abs() < 1e-9, "{}", e.cpu);
        assert_eq!(e.memory, 8_000.0);
        assert!((e.memory_percent - 8.0).abs() < 1e-9);
        let f = e.invalid().fields(true);
        assert_eq!(f["CPUPerc"], "--");
        assert_eq!(f["MemUsage"], "-- / --");
        assert_eq!(f["Name"], "--");
    }
}
