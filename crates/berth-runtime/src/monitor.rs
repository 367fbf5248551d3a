//! The per-container monitor: the process `berth monitor` runs.
//!
//! It must start single-threaded (the embedded runtime forks) and stays single-threaded: one
//! `poll` loop over the container's output, the control socket and a signalfd for SIGCHLD (a
//! short-lived thread gzips a rotated log file, see [`crate::logrotate`]). The
//! container's runtime ([`RuntimeConfig`]) creates and starts the container and deletes it at
//! the end; in between the monitor owns the init: it signals it directly and, as a child
//! subreaper, reaps it, whichever runtime made it.
//!
//! Control protocol on the socket, one request per line:
//! - `wait` — no reply; the connection closes when the monitor exits (the container ended);
//! - `kill <signo>` — signals the container's init; replies `ok` or `err <message>`;
//! - `resize <rows> <cols>` — sets the terminal size; replies `ok` or `err <message>`;
//! - `stdin` — the rest of the connection is the container's stdin.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use berth_core::Mount;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::logdriver::LogWriter;
use crate::logfile::{LineSplitter, Stream};
use crate::runtime::{ProcessError, Runtime, RuntimeConfig, Stdio as ProcessStdio};

/// What the daemon tells a monitor (written as `monitor.json` next to the bundle).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MonitorConfig {
    /// Container ID.
    pub id: String,
    /// OCI bundle directory (holds `config.json` and `rootfs/`).
    pub bundle: PathBuf,
    /// Mounts that assemble `rootfs/`.
    pub rootfs: Vec<Mount>,
    /// The log file (the current one, of the driver's format).
    pub log_path: PathBuf,
    /// How the log is written: driver format, rotation, attributes.
    #[serde(default = "crate::logdriver::LogSettings::json_file")]
    pub log: crate::logdriver::LogSettings,
    /// Where the exit status is recorded.
    pub exit_path: PathBuf,
    /// The control socket.
    pub socket: PathBuf,
    /// The runtime that creates the container.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// The runtime's state directory.
    pub state_root: PathBuf,
    /// The container's cgroup path (for OOM accounting).
    pub cgroup_path: String,
    /// Allocate a terminal.
    pub tty: bool,
    /// Keep stdin open for clients.
    pub open_stdin: bool,
    /// Close stdin when the first stdin client leaves.
    pub stdin_once: bool,
    /// The working directory, made in the rootfs when it is missing (as Docker does).
    #[serde(default)]
    pub workdir: String,
    /// The healthcheck its prober runs, if it has one.
    #[serde(default)]
    pub health: Option<crate::health::Probe>,
}

/// How a container ended, as recorded in `exit.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitRecord {
    /// Exit code; 128 + signal for a signal.
    pub exit_code: i32,
    /// Whether the kernel OOM-killed a process of the container.
    pub oom_killed: bool,
    /// When it ended.
    pub finished_at: String,
}

type BoxError = Box<dyn std::error::Error>;

fn read_config(path: &Path) -> Result<MonitorConfig, BoxError> {
    fs::read(path)
        .map_err(BoxError::from)
        .and_then(|b| serde_json::from_slice(&b).map_err(BoxError::from))
        .map_err(|e| format!("reading monitor config {}: {e}", path.display()).into())
}

/// Runs the monitor for the config at `config_path`; the status line (`ok <pid>` or
/// `err <error>`, a [`ProcessError`] as JSON) goes to standard output, which is then closed.
/// Returns the process exit code.
pub fn run(config_path: &Path) -> i32 {
    let config = match read_config(config_path) {
        Ok(c) => c,
        Err(e) => {
            println!("err {}", ProcessError::runtime(e).to_status());
            return 1;
        }
    };
    // Detach: the daemon's child exits at once and the monitor lives on in its own session.
    // SAFETY: the process is single-threaded here, so fork is safe.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Parent { .. }) => return 0,
        Ok(nix::unistd::ForkResult::Child) => {}
        Err(e) => {
            println!(
                "err {}",
                ProcessError::runtime(format!("fork: {e}")).to_status()
            );
            return 1;
        }
    }
    let _ = nix::unistd::setsid();
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes an integer argument and touches no memory.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    // SAFETY: setting signal dispositions to SIG_IGN is always sound.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        libc::signal(libc::SIGINT, libc::SIG_IGN);
    }
    let rootfs = config.bundle.join("rootfs");
    let runtime = config.runtime.open(&config.state_root);
    match start(&config, &rootfs, runtime.as_ref()) {
        Ok(started) => {
            report(&format!("ok {}", started.pid));
            // Start over as a fresh process that only runs the loop: what creating the container
            // touched (libcontainer, its allocations) is not carried for the container's life.
            let e = handoff(config_path, &started);
            eprintln!("monitor: re-exec failed ({e}); supervising in place");
            let record = supervise(&config, started);
            finish(&config, &rootfs, runtime.as_ref(), record);
            0
        }
        Err(e) => {
            cleanup(&config, &rootfs, runtime.as_ref());
            let _ = fs::remove_file(&config.socket);
            report(&format!("err {}", e.to_status()));
            1
        }
    }
}

/// Re-executes berth as `monitor CONFIG --resume PID OUT ERR IN PTY LISTENER` (fds, -1 for
/// none), keeping the container's init as our child. Returns only if exec failed.
fn handoff(config_path: &Path, s: &Started) -> io::Error {
    let fd = |f: Option<&dyn AsRawFd>| {
        f.map_or(-1, |f| {
            let fd = f.as_raw_fd();
            // SAFETY: clearing FD_CLOEXEC on an fd we own so it survives the exec.
            unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
            fd
        })
    };
    let args = [
        s.pid.as_raw(),
        fd(s.stdout.as_ref().map(|f| f as &dyn AsRawFd)),
        fd(s.stderr.as_ref().map(|f| f as &dyn AsRawFd)),
        fd(s.stdin.as_ref().map(|f| f as &dyn AsRawFd)),
        fd(s.pty.as_ref().map(|f| f as &dyn AsRawFd)),
        fd(Some(&s.listener)),
    ];
    use std::os::unix::process::CommandExt;
    std::process::Command::new("/proc/self/exe")
        .arg0("berth")
        .arg("monitor")
        .arg(config_path)
        .arg("--resume")
        .args(args.iter().map(i32::to_string))
        .exec()
}

/// The monitor after [`handoff`]: supervises the container described by `args`
/// (`PID OUT ERR IN PTY LISTENER`) until it ends. Returns the process exit code.
pub fn resume(config_path: &Path, args: &[String]) -> i32 {
    let config = match read_config(config_path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("monitor: {e}");
            return 1;
        }
    };
    let nums: Vec<i32> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let &[pid, out, err, stdin, pty, listener] = nums.as_slice() else {
        eprintln!("monitor: bad resume arguments {args:?}");
        return 1;
    };
    // SAFETY: each fd was ours before the exec and was passed on for exactly this use.
    let file = |fd: RawFd| (fd >= 0).then(|| unsafe { File::from_raw_fd(fd) });
    let started = Started {
        pid: Pid::from_raw(pid),
        stdout: file(out),
        stderr: file(err),
        stdin: file(stdin),
        pty: file(pty),
        // SAFETY: as above.
        listener: unsafe { UnixListener::from_raw_fd(listener) },
    };
    let rootfs = config.bundle.join("rootfs");
    // Starting up (argument parsing above all) touched far more of the binary than the loop
    // will use.
    crate::memory::release_clean_file_pages();
    let prober = config
        .health
        .as_ref()
        .and_then(|p| crate::health::spawn_prober(p, &config.cgroup_path));
    let record = supervise(&config, started);
    if let Some(pid) = prober {
        let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
        let _ = waitpid(pid, None);
    }
    let runtime = config.runtime.open(&config.state_root);
    finish(&config, &rootfs, runtime.as_ref(), record);
    0
}

/// Writes the status line and closes standard output so the daemon sees EOF.
fn report(line: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
    if let Ok(null) = File::options().read(true).write(true).open("/dev/null") {
        // SAFETY: dup2 onto fd 1 replaces stdout with /dev/null; both fds are valid.
        unsafe { libc::dup2(null.as_raw_fd(), 1) };
    }
}

struct Started {
    pid: Pid,
    stdout: Option<File>,
    stderr: Option<File>,
    stdin: Option<File>,
    pty: Option<File>,
    /// Bound before the daemon hears "ok", so it can always connect.
    listener: UnixListener,
}

fn pipe() -> Result<(File, File), ProcessError> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| ProcessError::runtime(format!("pipe: {e}")))?;
    Ok((File::from(r), File::from(w)))
}

fn start(
    config: &MonitorConfig,
    rootfs: &Path,
    runtime: &dyn Runtime,
) -> Result<Started, ProcessError> {
    if let Some(remote) = &config.log.remote {
        remote.check().map_err(|e| {
            ProcessError::runtime(format!("failed to initialize logging driver: {e}"))
        })?;
    }
    crate::mount::mount_all(&config.rootfs, rootfs).map_err(ProcessError::runtime)?;
    crate::mount::resolve_targets(&config.bundle, rootfs)?;
    if !config.workdir.is_empty() {
        crate::mount::make_dir_in_root(rootfs, &config.workdir, &config.bundle)?;
    }
    let _ = fs::remove_file(&config.socket);
    let (mut stdout, mut stderr, mut stdin, mut console) = (None, None, None, None);
    let console_path = config.socket.with_extension("console");
    let stdio = if config.tty {
        let _ = fs::remove_file(&console_path);
        console = Some(UnixListener::bind(&console_path).map_err(|e| {
            ProcessError::runtime(format!("binding {}: {e}", console_path.display()))
        })?);
        ProcessStdio::Console(console_path.clone())
    } else {
        let (or, ow) = pipe()?;
        let (er, ew) = pipe()?;
        stdout = Some(or);
        stderr = Some(er);
        let input = if config.open_stdin {
            let (ir, iw) = pipe()?;
            stdin = Some(iw);
            ir
        } else {
            File::open("/dev/null").map_err(|e| ProcessError::runtime(format!("/dev/null: {e}")))?
        };
        // Moved into the runtime, which hands them to the init and closes its copies: the
        // monitor keeps only its ends, so it sees EOF when the container's processes close
        // theirs.
        ProcessStdio::Fds {
            stdin: input.into(),
            stdout: ow.into(),
            stderr: ew.into(),
        }
    };
    // A monitor killed with its container (or a reboot that kept the state root) leaves the
    // runtime's record of the last run; no other monitor owns this ID now.
    if config.state_root.join(&config.id).exists() {
        let _ = runtime.delete(&config.id);
    }
    let created = runtime.create(&config.id, &config.bundle, stdio);
    let pty = match console {
        Some(listener) => {
            let received = created.as_ref().ok().map(|_| receive_fd(&listener));
            let _ = fs::remove_file(&console_path);
            received
                .transpose()
                .map_err(|e| ProcessError::runtime(format!("receiving the terminal: {e}")))?
        }
        None => None,
    };
    let pid = created?;
    let listener = UnixListener::bind(&config.socket)
        .map_err(|e| ProcessError::runtime(format!("binding {}: {e}", config.socket.display())))?;
    runtime.start(&config.id)?;
    Ok(Started {
        pid,
        stdout,
        stderr,
        stdin,
        pty,
        listener,
    })
}

/// Receives the terminal master that the runtime sends over the console socket. The runtime has
/// sent it by the time its create (or exec) returned; a runtime that did not is given ten
/// seconds, not forever.
pub(crate) fn receive_fd(listener: &UnixListener) -> Result<File, BoxError> {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
    let mut ready = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
    if poll(&mut ready, PollTimeout::from(10_000u16))? == 0 {
        return Err("the runtime sent no terminal".into());
    }
    let (conn, _) = listener.accept()?;
    let mut buf = [0u8; 4096];
    let mut iov = [io::IoSliceMut::new(&mut buf)];
    let mut cmsg = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::empty(),
    )?;
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = c
            && let Some(&fd) = fds.first()
        {
            // SAFETY: the kernel just installed this fd in our table; we own it now.
            return Ok(unsafe { File::from_raw_fd(fd) });
        }
    }
    Err("no terminal received on the console socket".into())
}

enum ClientMode {
    Control(Vec<u8>),
    Stdin,
}

struct Client {
    stream: UnixStream,
    mode: ClientMode,
}

fn exit_code(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, sig, _) => Some(128 + sig as i32),
        _ => None,
    }
}

/// What the poll loop waits on, one entry per fd.
#[derive(Debug, Clone, Copy)]
enum Watched {
    Signal,
    Stdout,
    Stderr,
    Pty,
    Listener,
    Client(usize),
    /// The log driver's queue has room again.
    LogRoom,
}

/// The fds the loop waits on now: SIGCHLD, the container's open outputs (while the log takes
/// more), the log queue's wake-up, the listener and every client.
fn watched<'a>(
    sigfd: &'a SignalFd,
    s: &'a Started,
    listener: &'a UnixListener,
    clients: &'a [Client],
    log: &'a LogWriter,
) -> Vec<(BorrowedFd<'a>, Watched)> {
    let mut w = vec![(sigfd.as_fd(), Watched::Signal)];
    // A log driver that cannot keep up holds the container's output in its pipes.
    if log.has_room() {
        for (f, kind) in [
            (&s.stdout, Watched::Stdout),
            (&s.stderr, Watched::Stderr),
            (&s.pty, Watched::Pty),
        ] {
            if let Some(f) = f {
                w.push((f.as_fd(), kind));
            }
        }
    }
    if let Some(fd) = log.wake_fd() {
        w.push((fd, Watched::LogRoom));
    }
    w.push((listener.as_fd(), Watched::Listener));
    w.extend(
        clients
            .iter()
            .enumerate()
            .map(|(i, c)| (c.stream.as_fd(), Watched::Client(i))),
    );
    w
}

/// Where the container's output goes: the log driver's writer, line by line per stream.
struct Sink {
    log: LogWriter,
    out: LineSplitter,
    err: LineSplitter,
    buf: Vec<u8>,
}

impl Sink {
    fn open(config: &MonitorConfig) -> Sink {
        let log = LogWriter::open(&config.log_path, &config.log).unwrap_or_else(|e| {
            eprintln!("monitor: {e}; the container's output is not logged");
            LogWriter::open(&config.log_path, &Default::default()).expect("no file to open")
        });
        Sink {
            log,
            out: LineSplitter::new(Stream::Stdout),
            err: LineSplitter::new(Stream::Stderr),
            buf: vec![0u8; 32 * 1024],
        }
    }

    /// Logs what is readable on `slot` (stderr's splitter for `stderr`); closes it at EOF.
    fn pump(&mut self, slot: &mut Option<File>, stderr: bool) {
        let split = if stderr { &mut self.err } else { &mut self.out };
        let n = slot
            .as_mut()
            .map_or(Ok(0), |f| f.read(&mut self.buf))
            .unwrap_or(0);
        if n == 0 {
            *slot = None;
            let _ = split.flush(&mut self.log);
        } else {
            let _ = split.push(&self.buf[..n], &mut self.log);
        }
        let _ = self.log.flush();
    }

    fn close(mut self) {
        let _ = self.out.flush(&mut self.log);
        let _ = self.err.flush(&mut self.log);
        let _ = self.log.close();
    }
}

/// Reaps every exited child; `code` takes the init's (`pid`) exit code.
fn reap(pid: Pid, code: &mut Option<i32>) {
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => break,
            Ok(st) => {
                if st.pid() == Some(pid) {
                    *code = exit_code(st).or(*code);
                }
            }
        }
    }
}

/// Drops the clients in `gone` (indexes, ascending); the last stdin client leaving closes the
/// container's stdin when `close_stdin`.
fn drop_clients(
    clients: &mut Vec<Client>,
    gone: Vec<usize>,
    close_stdin: bool,
    stdin: &mut Option<File>,
) {
    for ci in gone.into_iter().rev() {
        let c = clients.remove(ci);
        let stdin_gone = matches!(c.mode, ClientMode::Stdin)
            && !clients.iter().any(|c| matches!(c.mode, ClientMode::Stdin));
        if stdin_gone && close_stdin {
            *stdin = None; // EOF for the container
        }
    }
}

/// The poll loop: runs until the init exited and its output is drained.
fn supervise(config: &MonitorConfig, mut s: Started) -> ExitRecord {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    let _ = mask.thread_block();
    let sigfd = SignalFd::new(&mask).expect("signalfd");
    let listener = s.listener.try_clone().expect("listener clone");
    let mut sink = Sink::open(config);
    let mut clients: Vec<Client> = Vec::new();
    let mut code: Option<i32> = None;
    // A pty master is both the container's stdin and its (single) output stream.
    let mut stdin_target: Option<File> = match &s.pty {
        Some(p) => p.try_clone().ok(),
        None => s.stdin.take(),
    };
    // Anything that exited before the signalfd existed.
    reap(s.pid, &mut code);
    loop {
        let outputs_open = s.stdout.is_some() || s.stderr.is_some() || s.pty.is_some();
        if code.is_some() && !outputs_open {
            break;
        }
        // Once the init is gone, don't wait forever on outputs some stray process may hold.
        let timeout = match code {
            Some(_) => PollTimeout::from(2000u16),
            None => PollTimeout::NONE,
        };
        let ready: Vec<Watched> = {
            let w = watched(&sigfd, &s, &listener, &clients, &sink.log);
            let mut fds: Vec<PollFd> = w
                .iter()
                .map(|(fd, _)| PollFd::new(*fd, PollFlags::POLLIN))
                .collect();
            match poll(&mut fds, timeout) {
                Ok(0) => break,
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => break,
            }
            w.iter()
                .zip(&fds)
                .filter(|(_, f)| f.revents().is_some_and(|r| !r.is_empty()))
                .map(|((_, kind), _)| *kind)
                .collect()
        };
        let mut gone = Vec::new();
        for kind in ready {
            match kind {
                Watched::Signal => {
                    let _ = sigfd.read_signal();
                    reap(s.pid, &mut code);
                }
                Watched::Stdout => sink.pump(&mut s.stdout, false),
                Watched::Stderr => sink.pump(&mut s.stderr, true),
                Watched::Pty => sink.pump(&mut s.pty, false),
                Watched::LogRoom => sink.log.woken(),
                Watched::Listener => {
                    if let Ok((stream, _)) = listener.accept() {
                        clients.push(Client {
                            stream,
                            mode: ClientMode::Control(Vec::new()),
                        });
                    }
                }
                Watched::Client(ci) => {
                    if !serve_client(&mut clients[ci], &s, code.is_some(), &mut stdin_target) {
                        gone.push(ci);
                    }
                }
            }
        }
        let close_stdin = config.stdin_once && s.pty.is_none();
        drop_clients(&mut clients, gone, close_stdin, &mut stdin_target);
    }
    sink.close();
    let oom_killed = crate::cgroup::oom_kills(&config.cgroup_path) > 0;
    // Clients (the daemon's `wait`) must see EOF only once exit.json exists: keep every socket
    // open until the process exits, after `finish`.
    std::mem::forget(clients);
    std::mem::forget(listener);
    std::mem::forget(s);
    ExitRecord {
        exit_code: code.unwrap_or(137),
        oom_killed,
        finished_at: crate::logfile::now(),
    }
}

/// Handles readable data on a client connection; false when the client is gone.
fn serve_client(c: &mut Client, s: &Started, exited: bool, stdin: &mut Option<File>) -> bool {
    let mut buf = [0u8; 8192];
    let n = match c.stream.read(&mut buf) {
        Ok(0) | Err(_) => return false,
        Ok(n) => n,
    };
    match &mut c.mode {
        ClientMode::Stdin => {
            if let Some(f) = stdin
                && f.write_all(&buf[..n]).is_err()
            {
                *stdin = None;
            }
            true
        }
        ClientMode::Control(pending) => {
            pending.extend_from_slice(&buf[..n]);
            while let Some(pos) = pending.iter().position(|&b| b == b'\n') {
                let line = String::from_utf8_lossy(&pending[..pos]).into_owned();
                pending.drain(..=pos);
                let reply = match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                    ["wait"] => None,
                    ["stdin"] => {
                        let rest = std::mem::take(pending);
                        c.mode = ClientMode::Stdin;
                        if let (Some(f), false) = (stdin.as_mut(), rest.is_empty()) {
                            let _ = f.write_all(&rest);
                        }
                        return true;
                    }
                    ["kill", sig] => Some(kill(s, exited, sig)),
                    ["resize", rows, cols] => Some(resize(s, rows, cols)),
                    _ => Some(Err(format!("unknown request {line:?}").into())),
                };
                if let Some(r) = reply {
                    let text = match r {
                        Ok(()) => "ok\n".to_string(),
                        Err(e) => format!("err {e}\n"),
                    };
                    if c.stream.write_all(text.as_bytes()).is_err() {
                        return false;
                    }
                }
            }
            true
        }
    }
}

fn kill(s: &Started, exited: bool, sig: &str) -> Result<(), BoxError> {
    if exited {
        return Err("container is not running".into());
    }
    let signo: i32 = sig.parse().map_err(|_| format!("invalid signal {sig}"))?;
    let sig = Signal::try_from(signo)?;
    Ok(nix::sys::signal::kill(s.pid, sig)?)
}

fn resize(s: &Started, rows: &str, cols: &str) -> Result<(), BoxError> {
    let pty = s.pty.as_ref().ok_or("container has no terminal")?;
    let rows = rows.parse().map_err(|_| "invalid height")?;
    let cols = cols.parse().map_err(|_| "invalid width")?;
    Ok(crate::exec::resize(pty, rows, cols)?)
}

fn cleanup(config: &MonitorConfig, rootfs: &Path, runtime: &dyn Runtime) {
    if let Err(e) = runtime.delete(&config.id) {
        eprintln!("monitor: deleting {}: {e}", config.id);
    }
    let _ = nix::mount::umount2(rootfs, nix::mount::MntFlags::MNT_DETACH);
}

fn finish(config: &MonitorConfig, rootfs: &Path, runtime: &dyn Runtime, record: ExitRecord) {
    cleanup(config, rootfs, runtime);
    let tmp = config.exit_path.with_extension("tmp");
    let written = fs::write(
        &tmp,
        serde_json::to_vec(&record).expect("exit record serializes"),
    )
    .and_then(|()| File::open(&tmp)?.sync_all())
    .and_then(|()| fs::rename(&tmp, &config.exit_path));
    if let Err(e) = written {
        eprintln!("monitor: recording exit of {}: {e}", config.id);
    }
    // Only now: a daemon that finds the socket gone reads exit.json next.
    let _ = fs::remove_file(&config.socket);
}
