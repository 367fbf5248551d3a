//! Cgroup facts the monitor and daemon need beyond what the runtime applies: the layout of the
//! host, whether a container's cgroup saw an OOM kill, and the one limit the embedded runtime
//! applies itself (pids, see `runtime::embedded`).

use std::fs;
use std::path::{Path, PathBuf};

const ROOT: &str = "/sys/fs/cgroup";

/// Whether the host runs the unified (v2-only) hierarchy.
pub fn is_unified() -> bool {
    Path::new(ROOT).join("cgroup.controllers").exists()
}

/// The directory of the cgroup at `path` (relative to the hierarchy root) on a unified host.
pub fn unified_dir(path: &str) -> PathBuf {
    Path::new(ROOT).join(path.trim_start_matches('/'))
}

/// Where the host mounts its cgroup v1 hierarchies (`/sys/fs/cgroup/memory`, ...), from
/// `/proc/self/mountinfo`.
pub fn v1_mount_points() -> Vec<String> {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    info.lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let point = left.split_whitespace().nth(4)?;
            (right.split_whitespace().next() == Some("cgroup")
                && point.starts_with("/sys/fs/cgroup/"))
            .then(|| point.to_string())
        })
        .collect()
}

/// The cgroup controllers containers can be limited with on this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Controllers {
    /// `--memory`.
    pub memory: bool,
    /// `--memory-swap`.
    pub swap: bool,
    /// `--cpus`, `--cpu-shares`, `--cpu-quota`.
    pub cpu: bool,
    /// `--pids-limit`.
    pub pids: bool,
}

/// Which controllers are usable: mounted v1 hierarchies, or on v2 the root's
/// `cgroup.controllers` (a controller still bound to a v1 hierarchy is absent there).
pub fn controllers() -> Controllers {
    let root = Path::new(ROOT);
    if is_unified() {
        let list = fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
        let has = |c: &str| list.split_whitespace().any(|x| x == c);
        // memory.swap.max exists in every non-root memory cgroup when the kernel accounts swap.
        let swap = has("memory")
            && fs::read_dir(root).is_ok_and(|d| {
                d.flatten()
                    .any(|e| e.path().join("memory.swap.max").exists())
            });
        Controllers {
            memory: has("memory"),
            swap,
            cpu: has("cpu"),
            pids: has("pids"),
        }
    } else {
        Controllers {
            memory: root.join("memory/memory.limit_in_bytes").exists(),
            swap: root.join("memory/memory.memsw.limit_in_bytes").exists(),
            cpu: root.join("cpu/cpu.shares").exists(),
            pids: root.join("pids").is_dir(),
        }
    }
}

/// Removes cgroup `name` (a container's, also one left by a killed monitor)
/// from every hierarchy where it is empty; one that still holds processes or children stays.
pub fn remove_empty(name: &str) {
    let rel = name.trim_start_matches('/');
    let root = Path::new(ROOT);
    let _ = fs::remove_dir(root.join(rel));
    if let Ok(hierarchies) = fs::read_dir(root) {
        for h in hierarchies.flatten() {
            let _ = fs::remove_dir(h.path().join(rel));
        }
    }
}

/// A cgroup file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("writing {data} to {}: {err}", path.display())]
pub struct WriteError {
    /// The file.
    pub path: PathBuf,
    /// What was written.
    pub data: String,
    /// Why it failed.
    pub err: std::io::Error,
}

/// Sets the task limit (`pids.max`) of the cgroup at `path` (relative to the hierarchy root),
/// in the pids hierarchy (v1) or the unified one (v2).
pub fn set_pids_limit(path: &str, limit: i64) -> Result<(), WriteError> {
    let rel = path.trim_start_matches('/');
    let dir = if is_unified() {
        Path::new(ROOT).join(rel)
    } else {
        Path::new(ROOT).join("pids").join(rel)
    };
    let file = dir.join("pids.max");
    let data = limit.to_string();
    fs::write(&file, &data).map_err(|err| WriteError {
        path: file,
        data,
        err,
    })
}

/// Freezes (or thaws) every process of the cgroup at `path` (relative to the hierarchy root)
/// and waits until the kernel reports it done: the v1 freezer's `freezer.state`, or v2's
/// `cgroup.freeze` and `cgroup.events`. The kernel offers no event on v1, so the state is read
/// again after a short pause, for at most ten seconds.
pub fn freeze(path: &str, frozen: bool) -> Result<(), WriteError> {
    let rel = path.trim_start_matches('/');
    let (file, data, state, done) = if is_unified() {
        let dir = Path::new(ROOT).join(rel);
        let done = if frozen { "frozen 1" } else { "frozen 0" };
        (
            dir.join("cgroup.freeze"),
            if frozen { "1" } else { "0" },
            dir.join("cgroup.events"),
            done,
        )
    } else {
        let file = Path::new(ROOT)
            .join("freezer")
            .join(rel)
            .join("freezer.state");
        let word = if frozen { "FROZEN" } else { "THAWED" };
        (file.clone(), word, file, word)
    };
    let fail = |err| WriteError {
        path: file.clone(),
        data: data.to_string(),
        err,
    };
    fs::write(&file, data).map_err(fail)?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = fs::read_to_string(&state).map_err(fail)?;
        if now.lines().any(|l| l.trim() == done) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(fail(std::io::Error::other(format!("still {}", now.trim()))));
        }
        // v1 reports FREEZING until every task stopped; writing again moves it on.
        if !is_unified() {
            let _ = fs::write(&file, data);
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Whether the cgroup at `path` is frozen or freezing (paused).
pub fn frozen(path: &str) -> bool {
    let rel = path.trim_start_matches('/');
    if is_unified() {
        fs::read_to_string(Path::new(ROOT).join(rel).join("cgroup.freeze"))
            .is_ok_and(|s| s.trim() == "1")
    } else {
        fs::read_to_string(
            Path::new(ROOT)
                .join("freezer")
                .join(rel)
                .join("freezer.state"),
        )
        .is_ok_and(|s| s.trim() != "THAWED")
    }
}

/// The processes in the cgroup at `path` (relative to the hierarchy root).
pub fn procs(path: &str) -> std::io::Result<Vec<i32>> {
    let rel = path.trim_start_matches('/');
    let root = Path::new(ROOT);
    let candidates: Vec<std::path::PathBuf> = if is_unified() {
        vec![root.join(rel)]
    } else {
        ["pids", "memory", "devices", "freezer", "cpu"]
            .iter()
            .map(|h| root.join(h).join(rel))
            .collect()
    };
    let mut last = std::io::Error::from(std::io::ErrorKind::NotFound);
    for dir in candidates {
        match fs::read_to_string(dir.join("cgroup.procs")) {
            Ok(s) => return Ok(s.lines().filter_map(|l| l.trim().parse().ok()).collect()),
            Err(e) => last = e,
        }
    }
    Err(last)
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
