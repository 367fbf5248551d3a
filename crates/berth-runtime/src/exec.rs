//! Exec: a process started in a running container.
//!
//! The daemon spawns `berth exec-helper CONFIG_JSON` with the exec's stdio as the helper's fds
//! 0–2 and a unix socket as fd 3. The helper (a fresh, single-threaded process, so libcontainer
//! may fork in it) has the container's runtime start the process ([`Runtime::exec`]), reports
//! `ok <pid>` on fd 3 (with the terminal master attached as SCM_RIGHTS for a tty exec) or
//! `err <error>` (a [`ProcessError`] as JSON), drops its own copies of the stdio so the daemon
//! sees EOF when the exec's process closes them, waits for the process (a child subreaper, it
//! adopts it) and reports `exit <code>`.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;
use oci_spec::OciSpecError;
use oci_spec::runtime::{BoxBuilder, Process, Spec};
use serde::{Deserialize, Serialize};

use crate::handle::StartError;
use crate::runtime::{ProcessError, Runtime, RuntimeConfig, Stdio as ProcessStdio};

/// What the daemon tells an exec helper.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecConfig {
    /// The container's ID (its name in the runtime).
    pub container: String,
    /// The runtime the container runs with.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// The runtime's state directory.
    pub state_root: PathBuf,
    /// The OCI `process` (JSON) to run.
    pub process: PathBuf,
    /// Where the helper listens for the terminal master, for a tty exec.
    pub console_socket: Option<PathBuf>,
    /// The terminal's initial `(rows, columns)`.
    pub console_size: Option<(u16, u16)>,
}

/// A started exec, as the daemon holds it.
#[derive(Debug)]
pub struct ExecProcess {
    /// The process's host pid.
    pub pid: i32,
    /// The terminal master, for a tty exec.
    pub pty: Option<OwnedFd>,
    /// Says `exit <code>` when the process ended.
    pub status: UnixStream,
    /// The helper (to be reaped).
    pub helper: Child,
}

const STATUS_FD: RawFd = 3;

/// Spawns the helper for `config` with the given stdio, and waits until the process started.
/// Blocks: call it off the async runtime.
pub fn spawn(
    exe: &Path,
    config: &ExecConfig,
    stdio: [Stdio; 3],
) -> Result<ExecProcess, StartError> {
    // Datagram boundaries: "ok" and a quick "exit" never arrive as one read.
    let (ours, theirs) = nix::sys::socket::socketpair(
        nix::sys::socket::AddressFamily::Unix,
        nix::sys::socket::SockType::SeqPacket,
        None,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| StartError::Monitor(format!("socketpair: {e}")))?;
    let (ours, theirs) = (UnixStream::from(ours), UnixStream::from(theirs));
    let theirs_fd = theirs.as_raw_fd();
    let [stdin, stdout, stderr] = stdio;
    let mut cmd = Command::new(exe);
    cmd.arg("exec-helper")
        .arg(serde_json::to_string(config).expect("config serializes"))
        .stdin(stdin)
        .stdout(stdout)
        .stderr(stderr);
    // SAFETY: only async-signal-safe calls (dup2, fcntl) run between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if theirs_fd == STATUS_FD {
                let flags = libc::fcntl(STATUS_FD, libc::F_GETFD);
                libc::fcntl(STATUS_FD, libc::F_SETFD, flags & !libc::FD_CLOEXEC);
            } else if libc::dup2(theirs_fd, STATUS_FD) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut helper = cmd
        .spawn()
        .map_err(|e| StartError::Monitor(format!("spawning {}: {e}", exe.display())))?;
    drop(theirs);
    let (line, pty) = match receive_line(&ours) {
        Ok(r) => r,
        Err(e) => {
            let _ = helper.wait();
            return Err(StartError::Monitor(format!("reading exec status: {e}")));
        }
    };
    if let Some(pid) = line.strip_prefix("ok ") {
        let pid = pid
            .parse()
            .map_err(|_| StartError::Monitor(format!("bad exec status {line:?}")))?;
        return Ok(ExecProcess {
            pid,
            pty,
            status: ours,
            helper,
        });
    }
    let _ = helper.wait();
    match line.strip_prefix("err ") {
        Some(msg) => Err(StartError::Exec(ProcessError::from_status(msg))),
        None => Err(StartError::Monitor(
            "the exec helper exited without a status".into(),
        )),
    }
}

/// Reads the `exit <code>` line of a started exec (blocking); 137 if the helper vanished.
pub fn wait(status: UnixStream) -> i32 {
    let mut line = String::new();
    let _ = BufReader::new(status).read_line(&mut line);
    line.trim_end()
        .strip_prefix("exit ")
        .and_then(|c| c.parse().ok())
        .unwrap_or(137)
}

/// One status line, and the fd that came with it if any.
fn receive_line(sock: &UnixStream) -> io::Result<(String, Option<OwnedFd>)> {
    let mut buf = [0u8; 4096];
    let mut cmsg = nix::cmsg_space!([RawFd; 1]);
    let mut iov = [io::IoSliceMut::new(&mut buf)];
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::empty(),
    )?;
    let mut fd = None;
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = c
            && let Some(&f) = fds.first()
        {
            // SAFETY: the kernel just installed this fd in our table; we own it now.
            fd = Some(unsafe { OwnedFd::from_raw_fd(f) });
        }
    }
    let n = msg.bytes;
    let mut line = buf[..n].to_vec();
    // A stream socket may split the line: read the rest of it.
    if n > 0 && !line.ends_with(b"\n") {
        BufReader::new(sock).read_until(b'\n', &mut line)?;
    }
    Ok((String::from_utf8_lossy(&line).trim_end().to_string(), fd))
}

/// The helper's main: runs the exec described by `config_json`; returns the helper's exit code.
pub fn run_helper(config_json: &str) -> i32 {
    // SAFETY: the daemon passed fd 3 as our end of the status socket; nothing else owns it.
    let status = unsafe { UnixStream::from_raw_fd(STATUS_FD) };
    let config: ExecConfig = match serde_json::from_str(config_json) {
        Ok(c) => c,
        Err(e) => {
            let e = ProcessError::runtime(format!("bad exec config: {e}"));
            say(&status, &format!("err {}", e.to_status()));
            return 1;
        }
    };
    // The process may be cloned as a grandchild: adopt it so it can be waited for.
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes an integer argument and touches no memory.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    let runtime = config.runtime.open(&config.state_root);
    let (pid, pty) = match start(&config, runtime.as_ref()) {
        Ok(r) => r,
        Err(e) => {
            say(&status, &format!("err {}", e.to_status()));
            return 1;
        }
    };
    let line = format!("ok {pid}\n");
    let fds: Vec<RawFd> = pty.iter().map(AsRawFd::as_raw_fd).collect();
    let cmsgs: Vec<ControlMessage<'_>> = if fds.is_empty() {
        vec![]
    } else {
        vec![ControlMessage::ScmRights(&fds)]
    };
    if sendmsg::<()>(
        status.as_raw_fd(),
        &[io::IoSlice::new(line.as_bytes())],
        &cmsgs,
        MsgFlags::empty(),
        None,
    )
    .is_err()
    {
        return 1;
    }
    drop(pty);
    // The exec's process holds the stdio now; our copies would delay the daemon's EOF.
    if let Ok(null) = File::options().read(true).write(true).open("/dev/null") {
        for fd in 0..3 {
            // SAFETY: dup2 onto 0..3 replaces our stdio with /dev/null; both fds are valid.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
    let code = loop {
        match waitpid(Pid::from_raw(-1), None) {
            Ok(WaitStatus::Exited(p, c)) if p.as_raw() == pid => break c,
            Ok(WaitStatus::Signaled(p, s, _)) if p.as_raw() == pid => break 128 + s as i32,
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break 137,
        }
    };
    say(&status, &format!("exit {code}"));
    0
}

/// One status line, in one write.
fn say(mut status: &UnixStream, line: &str) {
    let _ = status.write_all(format!("{line}\n").as_bytes());
}

fn start(config: &ExecConfig, runtime: &dyn Runtime) -> Result<(i32, Option<File>), ProcessError> {
    let (stdio, listener) = match &config.console_socket {
        Some(path) => {
            let _ = std::fs::remove_file(path);
            let l = UnixListener::bind(path)
                .map_err(|e| ProcessError::runtime(format!("binding {}: {e}", path.display())))?;
            (ProcessStdio::Console(path.clone()), Some(l))
        }
        None => (ProcessStdio::Inherit, None),
    };
    let pid = runtime.exec(&config.container, &config.process, stdio);
    if let Some(path) = &config.console_socket {
        let _ = std::fs::remove_file(path);
    }
    let pid = pid?;
    let pty = match listener {
        Some(l) => Some(crate::monitor::receive_fd(&l).map_err(ProcessError::runtime)?),
        None => None,
    };
    // libcontainer ignores the process's `consoleSize` (runc applies it): the size is set as soon
    // as the master arrives, a moment after the process started (it sees a SIGWINCH, as on any
    // resize).
    if let (Some(pty), Some((rows, cols))) = (&pty, config.console_size) {
        let _ = resize(pty, rows, cols);
    }
    Ok((pid.as_raw(), pty))
}

/// Sets the size of the terminal whose master is `pty`.
pub fn resize(pty: &impl AsRawFd, rows: u16, cols: u16) -> io::Result<()> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize struct that lives across the call.
    if unsafe { libc::ioctl(pty.as_raw_fd(), libc::TIOCSWINSZ, &ws) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The process of the container whose bundle is `bundle`, which an exec's process starts from.
pub fn container_process(bundle: &Path) -> Result<Process, OciSpecError> {
    let spec = Spec::load(bundle.join("config.json"))?;
    Ok(spec.process().clone().unwrap_or_default())
}

/// The OCI process of an exec: the container's own (capabilities, rlimits, ...) with the exec's
/// command, environment, directory, user and terminal, and the terminal's `(rows, columns)`.
pub fn process(
    container: &Process,
    args: &[String],
    env: &[String],
    cwd: &str,
    user: (u32, u32, &[u32]),
    tty: bool,
    console_size: Option<(u16, u16)>,
) -> Process {
    let mut p = container.clone();
    p.set_args(Some(args.to_vec()));
    p.set_env(Some(env.to_vec()));
    p.set_cwd(PathBuf::from(cwd));
    p.set_terminal(Some(tty));
    let u = p.user_mut();
    u.set_uid(user.0);
    u.set_gid(user.1);
    u.set_additional_gids(Some(user.2.to_vec()));
    let size = console_size.filter(|_| tty).and_then(|(rows, cols)| {
        BoxBuilder::default()
            .height(u64::from(rows))
            .width(u64::from(cols))
            .build()
            .ok()
    });
    p.set_console_size(size);
    p
}

/// Gives `p` exactly `caps` (bounding, effective, permitted): `exec --privileged`.
pub fn set_capabilities(p: &mut Process, caps: &[oci_spec::runtime::Capability]) {
    let set: oci_spec::runtime::Capabilities = caps.iter().copied().collect();
    let mut all = p.capabilities().clone().unwrap_or_default();
    all.set_bounding(Some(set.clone()));
    all.set_effective(Some(set.clone()));
    all.set_permitted(Some(set));
    p.set_capabilities(Some(all));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exec_is_the_containers_process_with_its_own_command() {
        let container = crate::spec::tests::sample()
            .to_spec()
            .unwrap()
            .process()
            .clone()
            .unwrap();
        let p = process(
            &container,
            &["id".to_string()],
            &["PATH=/usr/bin".to_string()],
            "/tmp",
            (5, 6, &[7]),
            true,
            Some((33, 103)),
        );
        let json = serde_json::to_vec(&p).unwrap();
        let back: Process = serde_json::from_slice(&json).unwrap();
        assert_eq!(back.args().as_deref().unwrap(), ["id"]);
        assert_eq!(back.env().as_deref().unwrap(), ["PATH=/usr/bin"]);
        assert_eq!(back.cwd(), Path::new("/tmp"));
        assert_eq!(
            (
                back.user().uid(),
                back.user().gid(),
                back.user().additional_gids().as_deref()
            ),
            (5, 6, Some(&[7u32][..]))
        );
        assert_eq!(back.terminal(), Some(true));
        let size = back.console_size().unwrap();
        assert_eq!((size.height(), size.width()), (33, 103));
        assert_eq!(
            back.capabilities(),
            container.capabilities(),
            "kept from the container"
        );
        let plain = process(&container, &[], &[], "/", (0, 0, &[]), false, Some((1, 1)));
        assert_eq!(plain.console_size(), None, "no terminal, no size");
    }
}
