//! Healthchecks, run beside the container rather than by the daemon: the monitor forks a
//! prober that sleeps out the interval, runs the probe as an exec (through `berth exec-helper`,
//! as `docker exec` does), and records Docker's health state in `health.json` (written to a
//! temporary file and renamed, so readers never see half of it). The daemon watches that file
//! for changes of status; a probe costs it nothing.
//!
//! Docker's rules: the first probe after one interval (the start interval while starting within
//! the start period); exit 0 is healthy, anything else a failure; failures inside the start
//! period while starting do not count; `retries` failures in a row make it unhealthy; a probe
//! over its timeout is killed and fails with exit code -1; the last five results are kept,
//! each output cut at 4096 bytes. A frozen (paused) container is not probed.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::exec::ExecConfig;

/// Results kept.
pub const MAX_LOG: usize = 5;
/// Bytes of output kept per result.
pub const MAX_OUTPUT: usize = 4096;

/// What the prober runs, from the daemon (part of the monitor's config).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Probe {
    /// The command (`CMD-SHELL` already turned into the shell's argv).
    pub argv: Vec<String>,
    /// Between probes.
    pub interval: Duration,
    /// One probe's limit.
    pub timeout: Duration,
    /// Failures in it do not count while starting.
    pub start_period: Duration,
    /// Between probes during the start period.
    pub start_interval: Duration,
    /// Failures in a row that make it unhealthy.
    pub retries: u32,
    /// The container's runtime, as an exec needs it; `process` is where the prober writes the
    /// probe's process.
    pub exec: ExecConfig,
    /// The container's bundle (its `config.json` process is the probe's starting point).
    pub bundle: PathBuf,
    /// Where the state goes.
    pub state: PathBuf,
}

/// Docker's health status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// No verdict yet.
    Starting,
    /// The last probe passed.
    Healthy,
    /// `retries` probes in a row failed.
    Unhealthy,
}

impl Status {
    /// Docker's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Starting => "starting",
            Status::Healthy => "healthy",
            Status::Unhealthy => "unhealthy",
        }
    }
}

/// One probe's result, in Docker's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Result {
    /// RFC 3339 with nanoseconds.
    pub start: String,
    /// RFC 3339 with nanoseconds.
    pub end: String,
    /// The probe's exit code; -1 when it could not run or timed out.
    pub exit_code: i64,
    /// Its output, cut at [`MAX_OUTPUT`] bytes.
    pub output: String,
}

/// The state in `health.json`, in Docker's `State.Health` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    /// Current status.
    pub status: Status,
    /// Failures in a row.
    pub failing_streak: u32,
    /// The last results, oldest first.
    pub log: Vec<Result>,
}

impl Health {
    /// The state at a start.
    pub fn starting() -> Health {
        Health {
            status: Status::Starting,
            failing_streak: 0,
            log: Vec::new(),
        }
    }

    /// Takes a result in; `in_start_period` says it came while the start period lasted.
    pub fn record(&mut self, r: Result, retries: u32, in_start_period: bool) {
        if r.exit_code == 0 {
            self.failing_streak = 0;
            self.status = Status::Healthy;
        } else if !(self.status == Status::Starting && in_start_period) {
            self.failing_streak += 1;
            if self.failing_streak >= retries {
                self.status = Status::Unhealthy;
            }
        }
        self.log.push(r);
        if self.log.len() > MAX_LOG {
            self.log.remove(0);
        }
    }
}

/// Reads `health.json`; `None` when there is none (yet).
pub fn read(path: &Path) -> Option<Health> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn write(path: &Path, h: &Health) {
    let tmp = path.with_extension("tmp");
    let bytes = serde_json::to_vec(h).expect("health serializes");
    if std::fs::write(&tmp, bytes).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}

/// Forks the prober; returns its pid. The monitor must be single-threaded (it is).
pub fn spawn_prober(probe: &Probe, cgroup: &str) -> Option<nix::unistd::Pid> {
    write(&probe.state, &Health::starting());
    // SAFETY: the monitor is single-threaded, so the child may run any code.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Parent { child }) => Some(child),
        Ok(nix::unistd::ForkResult::Child) => {
            detach_from_monitor();
            run(probe, cgroup);
            std::process::exit(0)
        }
        Err(e) => {
            eprintln!("monitor: forking the health prober: {e}");
            None
        }
    }
}

/// In the prober: none of the monitor's descriptors (its sockets and pipes must close when it
/// exits), and death with it.
fn detach_from_monitor() {
    // SAFETY: closing descriptors this process inherited and will not use; prctl takes ints.
    unsafe {
        libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        for sig in [libc::SIGTERM, libc::SIGCHLD] {
            libc::signal(sig, libc::SIG_DFL);
        }
    }
    let mut none = nix::sys::signal::SigSet::empty();
    none.add(nix::sys::signal::Signal::SIGCHLD);
    let _ = none.thread_unblock();
}

fn run(probe: &Probe, cgroup: &str) {
    let started = Instant::now();
    let mut health = Health::starting();
    loop {
        let starting = health.status == Status::Starting && started.elapsed() < probe.start_period;
        std::thread::sleep(if starting {
            probe.start_interval
        } else {
            probe.interval
        });
        if crate::cgroup::frozen(cgroup) {
            continue;
        }
        let in_period = started.elapsed() < probe.start_period;
        let r = probe_once(probe);
        health.record(r, probe.retries, in_period);
        write(&probe.state, &health);
    }
}

/// Runs the probe once.
fn probe_once(probe: &Probe) -> Result {
    let start = crate::logfile::now();
    let (code, output) = match exec(probe) {
        Ok(r) => r,
        Err(e) => (-1, e),
    };
    Result {
        start,
        end: crate::logfile::now(),
        exit_code: code,
        output,
    }
}

/// The probe as an exec: its exit code and output, or why it could not run.
fn exec(probe: &Probe) -> std::result::Result<(i64, String), String> {
    let base = crate::exec::container_process(&probe.bundle).map_err(|e| e.to_string())?;
    let mut p = base;
    p.set_args(Some(probe.argv.clone()));
    p.set_terminal(Some(false));
    p.set_console_size(None);
    std::fs::write(
        &probe.exec.process,
        serde_json::to_vec(&p).expect("process serializes"),
    )
    .map_err(|e| format!("writing the probe's process: {e}"))?;
    let (mut rx, tx) = std::io::pipe().map_err(|e| e.to_string())?;
    let tx2 = tx.try_clone().map_err(|e| e.to_string())?;
    // The monitor's own binary: the daemon's path to it may be a descriptor of its own.
    let spawned = crate::exec::spawn(
        Path::new("/proc/self/exe"),
        &probe.exec,
        [Stdio::null(), Stdio::from(tx), Stdio::from(tx2)],
    );
    let mut process = spawned.map_err(|e| e.to_string())?;
    let deadline = Instant::now() + probe.timeout;
    let mut out = Vec::new();
    let timed_out = read_until(&mut rx, &mut out, deadline);
    if timed_out {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(process.pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let code = crate::exec::wait(process.status);
    let _ = process.helper.wait();
    let mut text = String::from_utf8_lossy(&out).into_owned();
    if timed_out {
        let mut msg = format!(
            "Health check exceeded timeout ({})",
            go_duration(probe.timeout)
        );
        if !text.is_empty() {
            msg = format!("{msg}: {text}");
        }
        return Ok((-1, msg));
    }
    text.truncate(floor_char_boundary(&text, MAX_OUTPUT));
    Ok((i64::from(code), text))
}

/// Reads `rx` into `out` (keeping [`MAX_OUTPUT`] bytes) until EOF; true if `deadline` came
/// first.
fn read_until(rx: &mut std::io::PipeReader, out: &mut Vec<u8>, deadline: Instant) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        let ms = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
        // SAFETY: the fd is rx's, alive for the call.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(rx.as_raw_fd()) };
        let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => {}
            Err(_) => return false,
        }
        match rx.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => {
                let room = MAX_OUTPUT.saturating_sub(out.len());
                out.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    (0..=max.min(s.len()))
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

/// A duration as Go prints one (`30s`, `100ms`, `1m30s`, `1.5s`).
pub fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    if ns < 1_000_000_000 {
        let (unit, div) = if ns < 1_000 {
            ("ns", 1)
        } else if ns < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{}{unit}", decimal(ns, div));
    }
    let (h, rest) = (ns / 3_600_000_000_000, ns % 3_600_000_000_000);
    let (m, s) = (rest / 60_000_000_000, rest % 60_000_000_000);
    let secs = format!("{}s", decimal(s, 1_000_000_000));
    match (h, m) {
        (0, 0) => secs,
        (0, m) => format!("{m}m{secs}"),
        (h, m) => format!("{h}h{m}m{secs}"),
    }
}

/// `n / div` with the fraction Go prints (no trailing zeros).
fn decimal(n: u128, div: u128) -> String {
    let (whole, frac) = (n / div, n % div);
    if frac == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let frac = format!("{frac:0width$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(code: i64) -> Result {
        Result {
            start: String::new(),
            end: String::new(),
            exit_code: code,
            output: String::new(),
        }
    }

    #[test]
    fn failures_in_a_row_make_it_unhealthy_and_one_pass_heals_it() {
        let mut h = Health::starting();
        h.record(result(1), 2, false);
        assert_eq!((h.status, h.failing_streak), (Status::Starting, 1));
        h.record(result(1), 2, false);
        assert_eq!((h.status, h.failing_streak), (Status::Unhealthy, 2));
        h.record(result(0), 2, false);
        assert_eq!((h.status, h.failing_streak), (Status::Healthy, 0));
        // A healthy container stays healthy until the streak reaches the retries.
        h.record(result(3), 2, false);
        assert_eq!((h.status, h.failing_streak), (Status::Healthy, 1));
    }

    #[test]
    fn failures_while_starting_in_the_start_period_do_not_count() {
        let mut h = Health::starting();
        for _ in 0..4 {
            h.record(result(1), 1, true);
        }
        assert_eq!((h.status, h.failing_streak), (Status::Starting, 0));
        assert_eq!(h.log.len(), 4);
        h.record(result(1), 1, false);
        assert_eq!(h.status, Status::Unhealthy);
    }

    #[test]
    fn the_log_keeps_the_last_five() {
        let mut h = Health::starting();
        for code in 0..7 {
            h.record(result(code), 3, false);
        }
        let codes: Vec<i64> = h.log.iter().map(|r| r.exit_code).collect();
        assert_eq!(codes, [2, 3, 4, 5, 6]);
    }

    #[test]
    fn durations_read_as_gos() {
        let d = Duration::from_millis;
        assert_eq!(go_duration(d(30_000)), "30s");
        assert_eq!(go_duration(d(100)), "100ms");
        assert_eq!(go_duration(d(1_500)), "1.5s");
        assert_eq!(go_duration(d(90_000)), "1m30s");
        assert_eq!(go_duration(d(3_600_000)), "1h0m0s");
        assert_eq!(go_duration(Duration::from_micros(1500)), "1.5ms");
    }
}
