//! Cgroup facts the monitor and daemon need beyond what libcontainer applies: the layout of the
//! host, and whether a container's cgroup saw an OOM kill.

use std::fs;
use std::path::Path;

const ROOT: &str = "/sys/fs/cgroup";

/// Whether the host runs the unified (v2-only) hierarchy.
pub fn is_unified() -> bool {
    Path::new(ROOT).join("cgroup.controllers").exists()
}

/// Whether memory+swap limits can be set.
pub fn swap_supported() -> bool {
    if is_unified() {
        // memory.swap.max exists in every v2 memory cgroup when the kernel accounts swap.
        true
    } else {
        Path::new(ROOT)
            .join("memory/memory.memsw.limit_in_bytes")
            .exists()
    }
}

/// How many OOM kills the cgroup at `path` (relative to the hierarchy root) has seen.
pub fn oom_kills(path: &str) -> u64 {
    let rel = path.trim_start_matches('/');
    let (file, key) = if is_unified() {
        (Path::new(ROOT).join(rel).join("memory.events"), "oom_kill")
    } else {
        (
            Path::new(ROOT)
                .join("memory")
                .join(rel)
                .join("memory.oom_control"),
            "oom_kill",
        )
    };
    fs::read_to_string(file)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(key).and_then(|v| v.trim().parse().ok()))
        })
        .unwrap_or(0)
}
