//! Online garbage collection: mark and sweep while pushes and pulls go on.
//!
//! ## What is live
//! A committed blob is kept when any of these holds:
//! 1. a manifest record of any repository names it (its own digest, config, layers, an
//!    index's children), in the metadata snapshot the mark reads;
//! 2. it was linked into a repository (uploaded or mounted) within the grace window;
//! 3. it was touched (written, linked, `HEAD`-checked, mounted, or named by a manifest
//!    being stored) at or after `mark_start - grace`; touches live in memory, so after a
//!    restart the file's mtime stands in for them: a blob written within the window is
//!    kept too.
//!
//! Uploads in progress are not blobs yet: their files are under `ingest/`, which the
//! sweep never reads, and their sessions are leases that end only when they complete, are
//! cancelled, or sit idle past `upload_timeout`. So an upload in flight never loses its
//! bytes, and the blob it becomes is touched when it is published, under its guard.
//!
//! ## The protocol
//! 1. One collection at a time.
//! 2. Expire idle upload leases.
//! 3. Take the mark gate exclusively for an instant and note `mark_start`. Manifest `PUT`s
//!    hold the gate shared from their blob checks to their commit, so every `PUT` either
//!    committed before `mark_start` (and the snapshot sees it) or touches its blobs after
//!    `mark_start` (rule 3).
//! 4. Mark: read the referenced set from one MVCC snapshot of the metadata (writers go on;
//!    no repository is locked) and the links.
//! 5. Sweep each blob file that is neither referenced nor recently linked: under the blob's
//!    guard, re-check rule 3 and remove it. Whoever wants the blob next (a mount, a
//!    manifest `PUT`, a `HEAD`) takes the same guard, so it either finds the file gone and
//!    says so (a 202 upload, MANIFEST_BLOB_UNKNOWN, 404: the client uploads again), or
//!    touches it first and the sweep keeps it.
//! 6. Drop the links of swept blobs (and old links to files already gone), old touches,
//!    and repositories left empty.
//!
//! A blob a client uploaded but whose manifest it has not pushed yet is kept for the
//! grace window (rules 2 and 3): the window is how long a push may take between its
//! layers and its manifest. Readers of a swept blob that opened it before the sweep read
//! it to the end (the inode outlives the name).

use std::collections::HashSet;
use std::time::Duration;

use serde::Serialize;

use super::error::RegistryError;
use super::registry::{Registry, millis, now_ms};

/// What a collection did.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct GcReport {
    /// Blobs named by some manifest.
    pub referenced: usize,
    /// Blobs kept only because they are fresh (grace window or touched during the run).
    pub kept_fresh: usize,
    /// Blobs removed.
    pub swept: usize,
    /// Their bytes.
    pub swept_bytes: u64,
    /// Upload sessions whose lease expired.
    pub uploads_expired: usize,
    /// Repositories forgotten because nothing was left in them.
    pub repositories_dropped: usize,
}

impl Registry {
    /// Runs one collection with the configured grace window (blocking; call it off the
    /// async workers).
    pub fn collect_garbage(&self) -> Result<GcReport, RegistryError> {
        self.collect_garbage_with(self.config.gc.grace)
    }

    /// Runs one collection with the grace window `grace`.
    pub fn collect_garbage_with(&self, grace: Duration) -> Result<GcReport, RegistryError> {
        let _one = self.collecting.lock().unwrap_or_else(|e| e.into_inner());
        let mut report = GcReport {
            uploads_expired: self.expire_uploads(self.config.gc.upload_timeout)?,
            ..Default::default()
        };
        let mark_start = {
            let _gate = self.mark_gate.write().unwrap_or_else(|e| e.into_inner());
            now_ms()
        };
        let fresh_after = mark_start.saturating_sub(grace.as_millis() as u64);
        let referenced = self.meta.referenced()?;
        let links = self.meta.links()?;
        let recently_linked: HashSet<&str> = links
            .iter()
            .filter(|(_, _, when)| *when >= fresh_after)
            .map(|(_, d, _)| d.as_str())
            .collect();
        let mut swept = HashSet::new();
        let listed = self.blobs.list()?;
        let on_disk: HashSet<String> = listed.iter().map(|d| d.to_string()).collect();
        for d in listed {
            let key = d.to_string();
            if referenced.contains(&key) {
                report.referenced += 1;
                continue;
            }
            if recently_linked.contains(key.as_str()) {
                report.kept_fresh += 1;
                continue;
            }
            let _g = self.guard(&key);
            let written = self.blobs.modified(&d).map(millis).unwrap_or(0);
            if self.touched(&key) >= fresh_after || written >= fresh_after {
                report.kept_fresh += 1;
                continue;
            }
            let size = self.blobs.size(&d).unwrap_or(0);
            if self.blobs.remove(&d)? {
                report.swept += 1;
                report.swept_bytes += size;
                swept.insert(key);
            }
        }
        // Links of swept blobs, and old links to files that are gone (a mount that linked
        // a blob just as this or an earlier sweep removed it).
        let dead: Vec<(String, String)> = links
            .into_iter()
            .filter(|(_, d, when)| {
                swept.contains(d) || (!on_disk.contains(d) && *when < fresh_after)
            })
            .map(|(r, d, _)| (r, d))
            .collect();
        self.meta.unlink_all(&dead)?;
        self.forget_touches(fresh_after);
        report.repositories_dropped = self.meta.drop_empty_repositories()?.len();
        self.metrics
            .collected(report.swept as u64, report.swept_bytes);
        tracing::info!(
            referenced = report.referenced,
            kept_fresh = report.kept_fresh,
            swept = report.swept,
            swept_bytes = report.swept_bytes,
            uploads_expired = report.uploads_expired,
            "garbage collection done"
        );
        Ok(report)
    }
}

/// The report `berth registry gc` prints: every decision, then what was deleted and swept.
pub fn report_text(retention: &super::retention::RetentionReport, gc: Option<&GcReport>) -> String {
    let mut out = String::new();
    for plan in &retention.plans {
        for d in &plan.decisions {
            out.push_str(&format!("{d}\n"));
        }
    }
    match gc {
        None => out.push_str("dry run: nothing deleted\n"),
        Some(gc) => out.push_str(&format!(
            "deleted {} tags and {} manifests; swept {} blobs ({} bytes), kept {} referenced and {} fresh\n",
            retention.tags_deleted, retention.manifests_deleted, gc.swept, gc.swept_bytes, gc.referenced, gc.kept_fresh
        )),
    }
    out
}

/// Retention and collection on a schedule, every `every`, until the process ends.
pub async fn schedule(reg: std::sync::Arc<Registry>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await; // the first tick is now: wait a whole period first
    loop {
        tick.tick().await;
        let r = reg.clone();
        let done = super::registry::blocking(move || {
            let plans = r.apply_retention(false)?;
            let report = r.collect_garbage()?;
            Ok((plans, report))
        })
        .await;
        if let Err(e) = done {
            tracing::error!(error = %e, "scheduled retention and collection failed");
        }
    }
}
