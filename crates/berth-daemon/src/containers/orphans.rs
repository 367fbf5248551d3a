//! What a crash leaves of containers: a directory or a writable layer whose record is gone
//! (the daemon died between the record's removal and theirs, or before a create recorded
//! one). Collected when the daemon opens its containers, before anything can start.

use std::collections::HashSet;
use std::path::Path;

use super::Containers;

impl Containers {
    pub(super) fn collect_orphans(&self) {
        let known: HashSet<String> = self.list().iter().map(|c| c.id.clone()).collect();
        let snapshots = self.images.snapshots();
        for key in snapshots.active().unwrap_or_default() {
            if !known.contains(&key) {
                tracing::info!(
                    key,
                    "removing the writable layer of a container that is gone"
                );
                if let Err(e) = snapshots.remove(&key) {
                    tracing::warn!(key, error = %e, "removing an orphaned writable layer");
                }
            }
        }
        let dir = self.cfg.root.join("containers");
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if known.contains(&name) || !berth_core::id::is_full_id(&name) {
                continue;
            }
            tracing::info!(
                id = name,
                "removing the directory of a container that is gone"
            );
            unmount_under(&entry.path());
            if let Err(e) = std::fs::remove_dir_all(entry.path()) {
                tracing::warn!(id = name, error = %e, "removing an orphaned container directory");
            }
        }
    }
}

/// Detaches whatever is still mounted under `dir` (a rootfs, a bind), deepest first, so that
/// removing the directory removes only its own files.
fn unmount_under(dir: &Path) {
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") else {
        return;
    };
    let mut under: Vec<&str> = mounts
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|m| Path::new(m).starts_with(dir))
        .collect();
    under.sort_by_key(|m| std::cmp::Reverse(m.len()));
    for m in under {
        let _ = nix::mount::umount2(m, nix::mount::MntFlags::MNT_DETACH);
    }
}
