//! Counters in Prometheus' text format (`GET /metrics`): requests by route, method and
//! status, their durations, bytes in and out, uploads, and what collections did.
//!
//! Counters are plain maps behind one mutex, bumped once per request: cheap beside the
//! request itself, and a scrape sees them all at one instant.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Default)]
struct Counters {
    requests: BTreeMap<(&'static str, String, u16), u64>,
    seconds: BTreeMap<&'static str, (f64, u64)>,
    bytes_sent: u64,
    bytes_received: u64,
    uploads_started: u64,
    gc_runs: u64,
    gc_blobs_swept: u64,
    gc_bytes_swept: u64,
    retention_tags_deleted: u64,
    retention_manifests_deleted: u64,
}

/// The registry's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    c: Mutex<Counters>,
}

impl Metrics {
    fn with(&self, f: impl FnOnce(&mut Counters)) {
        f(&mut self.c.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// One request answered.
    pub fn request(&self, route: &'static str, method: &str, status: u16, took: Duration) {
        self.with(|c| {
            *c.requests
                .entry((route, method.to_string(), status))
                .or_default() += 1;
            let s = c.seconds.entry(route).or_default();
            s.0 += took.as_secs_f64();
            s.1 += 1;
        });
    }

    /// Bytes of blob and manifest bodies sent.
    pub fn sent(&self, n: u64) {
        self.with(|c| c.bytes_sent += n);
    }

    /// Bytes of upload bodies received.
    pub fn received(&self, n: u64) {
        self.with(|c| c.bytes_received += n);
    }

    /// An upload session started.
    pub fn uploads_started(&self) {
        self.with(|c| c.uploads_started += 1);
    }

    /// A collection ran.
    pub fn collected(&self, blobs: u64, bytes: u64) {
        self.with(|c| {
            c.gc_runs += 1;
            c.gc_blobs_swept += blobs;
            c.gc_bytes_swept += bytes;
        });
    }

    /// Retention deleted tags and manifests.
    pub fn retained(&self, tags: u64, manifests: u64) {
        self.with(|c| {
            c.retention_tags_deleted += tags;
            c.retention_manifests_deleted += manifests;
        });
    }

    /// The text exposition; `uploads` is the number of uploads in progress now.
    pub fn render(&self, uploads: usize) -> String {
        let c = self.c.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        let head = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        head(
            &mut out,
            "berth_registry_http_requests_total",
            "counter",
            "Requests answered.",
        );
        for ((route, method, status), n) in &c.requests {
            let _ = writeln!(
                out,
                "berth_registry_http_requests_total{{route=\"{route}\",method=\"{method}\",code=\"{status}\"}} {n}"
            );
        }
        head(
            &mut out,
            "berth_registry_http_request_duration_seconds",
            "summary",
            "Time to answer, headers to last byte handed over.",
        );
        for (route, (sum, count)) in &c.seconds {
            let _ = writeln!(
                out,
                "berth_registry_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "berth_registry_http_request_duration_seconds_count{{route=\"{route}\"}} {count}"
            );
        }
        let plain = [
            (
                "berth_registry_bytes_sent_total",
                "counter",
                "Blob and manifest bytes sent.",
                c.bytes_sent,
            ),
            (
                "berth_registry_bytes_received_total",
                "counter",
                "Upload bytes received.",
                c.bytes_received,
            ),
            (
                "berth_registry_uploads_started_total",
                "counter",
                "Upload sessions started.",
                c.uploads_started,
            ),
            (
                "berth_registry_uploads_in_progress",
                "gauge",
                "Upload sessions holding a lease.",
                uploads as u64,
            ),
            (
                "berth_registry_gc_runs_total",
                "counter",
                "Garbage collections run.",
                c.gc_runs,
            ),
            (
                "berth_registry_gc_blobs_swept_total",
                "counter",
                "Blobs removed by garbage collection.",
                c.gc_blobs_swept,
            ),
            (
                "berth_registry_gc_bytes_swept_total",
                "counter",
                "Bytes removed by garbage collection.",
                c.gc_bytes_swept,
            ),
            (
                "berth_registry_retention_tags_deleted_total",
                "counter",
                "Tags deleted by retention policies.",
                c.retention_tags_deleted,
            ),
            (
                "berth_registry_retention_manifests_deleted_total",
                "counter",
                "Manifests deleted by retention policies.",
                c.retention_manifests_deleted,
            ),
        ];
        for (name, kind, help, v) in plain {
            head(&mut out, name, kind, help);
            let _ = writeln!(out, "{name} {v}");
        }
        out
    }
}
