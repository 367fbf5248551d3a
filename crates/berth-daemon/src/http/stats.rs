//! `GET /containers/{id}/stats`: berth's samples as Docker's frames, per cgroup version as
//! Docker maps them (`statsV1`/`statsV2` of moby's `daemon/stats_unix.go`): the v1 or v2
//! `memory.stat` keys, limits capped at the host's memory, v1's eight blkio lists or v2's one.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Extension;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::Response;
use axum::routing::get;
use berth_api::ApiVersion;
use berth_api::stats::{
    BlkioStatEntry, BlkioStats, CpuStats, CpuUsage, MemoryStats, NetworkStats, PidsStats, Stats,
    ThrottlingData,
};
use berth_runtime::stats::{BlkioEntry, Io, Sample, Version};
use bytes::Bytes;

use super::query::Query;
use super::stream::response;
use crate::containers::{Frame, StatsMode, ZERO_TIME};
use crate::{Daemon, Error};

pub fn routes() -> Router<Arc<Daemon>> {
    Router::new().route("/containers/{id}/stats", get(stats))
}

/// `stream` (default true) and, from API 1.41, `one-shot`.
async fn stats(
    State(d): State<Arc<Daemon>>,
    Extension(version): Extension<ApiVersion>,
    Path(id): Path<String>,
    q: Query,
) -> Result<Response<Body>, Error> {
    let c = d.containers.get(&id)?;
    let stream = q.get("stream").is_none() || q.flag("stream");
    let mode = match (stream, version.at_least(1, 41) && q.flag("one-shot")) {
        (true, _) => StatsMode::Stream,
        (false, true) => StatsMode::OneShot,
        (false, false) => StatsMode::Once,
    };
    let rec = c.record();
    let who = Arc::new((rec.id, format!("/{}", rec.name)));
    let mut frames = d.containers.stats(&c, mode).await?;
    if mode != StatsMode::Stream {
        let f = frames.next().await.unwrap_or_default();
        return Ok(response("application/json", Body::from(line(&f, &who))));
    }
    let body = futures_util::stream::unfold(frames, move |mut frames| {
        let who = who.clone();
        async move {
            let f = frames.next().await?;
            Some((Ok::<_, Infallible>(Bytes::from(line(&f, &who))), frames))
        }
    });
    Ok(response("application/json", Body::from_stream(body)))
}

/// A frame as one line of JSON, as Go's encoder ends it.
fn line(f: &Frame, who: &(String, String)) -> String {
    let mut s = serde_json::to_string(&frame(f, who)).expect("stats serialize");
    s.push('\n');
    s
}

fn frame(f: &Frame, (id, name): &(String, String)) -> Stats {
    let mut s = Stats {
        read: ZERO_TIME.into(),
        preread: ZERO_TIME.into(),
        id: id.clone(),
        name: name.clone(),
        ..Stats::default()
    };
    if let Some(pre) = &f.pre {
        s.preread = time(pre.read);
        s.precpu_stats = cpu(pre);
    }
    let Some(now) = &f.now else {
        return s;
    };
    s.read = time(now.read);
    s.cpu_stats = cpu(now);
    s.memory_stats = memory(now);
    s.blkio_stats = blkio(&now.io);
    s.pids_stats = PidsStats {
        current: now.pids.current,
        // `max`: v1 reads it as 0, v2 as the largest number.
        limit: now.pids.limit.unwrap_or(match now.version {
            Version::V1 => 0,
            Version::V2 => u64::MAX,
        }),
    };
    s.networks = now
        .networks
        .iter()
        .flatten()
        .map(|(name, n)| {
            let n = NetworkStats {
                rx_bytes: n.rx_bytes,
                rx_packets: n.rx_packets,
                rx_errors: n.rx_errors,
                rx_dropped: n.rx_dropped,
                tx_bytes: n.tx_bytes,
                tx_packets: n.tx_packets,
                tx_errors: n.tx_errors,
                tx_dropped: n.tx_dropped,
            };
            (name.clone(), n)
        })
        .collect();
    s
}

/// Go's RFC 3339 with nanoseconds: trailing zeros of the fraction dropped.
fn time(t: SystemTime) -> String {
    let t: chrono::DateTime<chrono::Utc> = t.into();
    let frac = format!("{:09}", t.timestamp_subsec_nanos());
    let frac = frac.trim_end_matches('0');
    let dot = if frac.is_empty() { "" } else { "." };
    format!("{}{dot}{frac}Z", t.format("%Y-%m-%dT%H:%M:%S"))
}

fn cpu(s: &Sample) -> CpuStats {
    CpuStats {
        cpu_usage: CpuUsage {
            total_usage: s.cpu.total,
            percpu_usage: s.cpu.percpu.clone().unwrap_or_default(),
            usage_in_kernelmode: s.cpu.kernel,
            usage_in_usermode: s.cpu.user,
        },
        system_cpu_usage: s.system.usage,
        online_cpus: s.system.online,
        throttling_data: ThrottlingData {
            periods: s.cpu.periods,
            throttled_periods: s.cpu.throttled_periods,
            throttled_time: s.cpu.throttled_time,
        },
    }
}

/// The `memory.stat` keys Docker reports on cgroup v1.
const V1_KEYS: &str = "\
    cache rss rss_huge mapped_file dirty writeback pgpgin pgpgout pgfault pgmajfault \
    inactive_anon active_anon inactive_file active_file unevictable \
    hierarchical_memory_limit hierarchical_memsw_limit total_cache total_rss total_rss_huge \
    total_mapped_file total_dirty total_writeback total_pgpgin total_pgpgout total_pgfault \
    total_pgmajfault total_inactive_anon total_active_anon total_inactive_file \
    total_active_file total_unevictable";

/// The `memory.stat` keys Docker reports on cgroup v2.
const V2_KEYS: &str = "\
    anon file kernel_stack slab sock shmem file_mapped file_dirty file_writeback anon_thp \
    inactive_anon active_anon inactive_file active_file unevictable slab_reclaimable \
    slab_unreclaimable pgfault pgmajfault workingset_refault workingset_activate \
    workingset_nodereclaim pgrefill pgscan pgsteal pgactivate pgdeactivate pglazyfree \
    pglazyfreed thp_fault_alloc thp_collapse_alloc";

fn memory(s: &Sample) -> MemoryStats {
    let m = &s.memory;
    let keys = match s.version {
        Version::V1 => V1_KEYS,
        Version::V2 => V2_KEYS,
    };
    let host = berth_runtime::stats::host_memory();
    MemoryStats {
        usage: m.usage,
        max_usage: m.max_usage,
        stats: keys
            .split_whitespace()
            .map(|k| (k.to_string(), m.stat.get(k).copied().unwrap_or(0)))
            .collect(),
        failcnt: m.failcnt.unwrap_or(0),
        limit: if host > 0 { m.limit.min(host) } else { m.limit },
    }
}

fn blkio(io: &Io) -> BlkioStats {
    let list = |l: &[BlkioEntry]| {
        Some(
            l.iter()
                .map(|e| BlkioStatEntry {
                    major: e.major,
                    minor: e.minor,
                    op: e.op.clone(),
                    value: e.value,
                })
                .collect(),
        )
    };
    match io {
        Io::V1(b) => BlkioStats {
            io_service_bytes_recursive: list(&b.service_bytes),
            io_serviced_recursive: list(&b.serviced),
            io_queue_recursive: list(&b.queued),
            io_service_time_recursive: list(&b.service_time),
            io_wait_time_recursive: list(&b.wait_time),
            io_merged_recursive: list(&b.merged),
            io_time_recursive: list(&b.time),
            sectors_recursive: list(&b.sectors),
        },
        // Only bytes, with lower-case ops; the other lists stay null, as in Docker.
        Io::V2(devices) => BlkioStats {
            io_service_bytes_recursive: (!devices.is_empty()).then(|| {
                devices
                    .iter()
                    .flat_map(|d| {
                        [("read", d.rbytes), ("write", d.wbytes)].map(|(op, value)| {
                            BlkioStatEntry {
                                major: d.major,
                                minor: d.minor,
                                op: op.into(),
                                value,
                            }
                        })
                    })
                    .collect()
            }),
            ..BlkioStats::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_as_go_writes_them() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::new(1_700_000_000, 120_000_000);
        assert_eq!(time(t), "2023-11-14T22:13:20.12Z");
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::new(1_700_000_000, 0);
        assert_eq!(time(t), "2023-11-14T22:13:20Z");
    }
}
