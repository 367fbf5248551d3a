//! The daemon's side of a monitor: spawn it, read its status line, talk to its socket, and read
//! the exit it recorded.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use berth_core::{ErrorKind, HasKind};

pub use crate::monitor::ExitRecord as ExitStatus;

/// Why a container did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The monitor could not be spawned or did not answer.
    #[error("failed to run the container monitor: {0}")]
    Monitor(String),
    /// The runtime refused to create or start the container; the text is the runtime's.
    #[error("{message}")]
    Runtime {
        /// What went wrong.
        message: String,
        /// The exit code Docker reports for it: 127 command not found, 126 not executable.
        exit_code: i32,
    },
}

impl HasKind for StartError {
    fn kind(&self) -> ErrorKind {
        match self {
            StartError::Runtime {
                exit_code: 126 | 127,
                ..
            } => ErrorKind::InvalidArgument,
            _ => ErrorKind::Internal,
        }
    }
}

/// A running monitor, addressed by its control socket.
#[derive(Debug, Clone)]
pub struct MonitorHandle {
    socket: std::path::PathBuf,
}

impl MonitorHandle {
    /// Spawns `exe monitor <config>`, waits for its status line and returns the container's pid.
    /// Blocks for as long as the container takes to be created: call it off the async runtime.
    pub fn spawn(
        exe: &Path,
        config: &Path,
        socket: &Path,
        stderr: File,
    ) -> Result<(MonitorHandle, i32), StartError> {
        let mut child = Command::new(exe)
            .arg("monitor")
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .map_err(|e| StartError::Monitor(format!("spawning {}: {e}", exe.display())))?;
        let mut line = String::new();
        let out = child.stdout.take().expect("stdout is piped");
        let _ = BufReader::new(out).read_line(&mut line);
        let _ = child.wait();
        let line = line.trim_end();
        if let Some(pid) = line.strip_prefix("ok ") {
            let pid = pid
                .parse()
                .map_err(|_| StartError::Monitor(format!("bad status line {line:?}")))?;
            return Ok((
                MonitorHandle {
                    socket: socket.to_path_buf(),
                },
                pid,
            ));
        }
        match line.strip_prefix("err ") {
            Some(msg) => Err(runtime_error(msg)),
            None => Err(StartError::Monitor(
                "the monitor exited without a status".into(),
            )),
        }
    }

    /// A handle on the monitor listening at `socket` (after a daemon restart).
    pub fn attach(socket: &Path) -> MonitorHandle {
        MonitorHandle {
            socket: socket.to_path_buf(),
        }
    }

    /// The control socket's path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    fn request(&self, line: &str) -> Result<(), String> {
        let mut s = UnixStream::connect(&self.socket)
            .map_err(|_| "container is not running".to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        s.write_all(format!("{line}\n").as_bytes())
            .map_err(|e| e.to_string())?;
        let mut reply = String::new();
        BufReader::new(&mut s)
            .read_line(&mut reply)
            .map_err(|e| e.to_string())?;
        match reply.trim_end() {
            "ok" => Ok(()),
            r => Err(r.strip_prefix("err ").unwrap_or(r).to_string()),
        }
    }

    /// Sends signal `signo` to the container's init.
    pub fn kill(&self, signo: i32) -> Result<(), String> {
        self.request(&format!("kill {signo}"))
    }

    /// Sets the container's terminal size.
    pub fn resize(&self, rows: u16, cols: u16) -> Result<(), String> {
        self.request(&format!("resize {rows} {cols}"))
    }

    /// Whether the monitor still answers.
    pub fn alive(&self) -> bool {
        UnixStream::connect(&self.socket).is_ok()
    }
}

/// Reads the exit a monitor recorded, if it did.
pub fn read_exit(path: &Path) -> Option<ExitStatus> {
    let mut s = String::new();
    File::open(path).ok()?.read_to_string(&mut s).ok()?;
    serde_json::from_str(&s).ok()
}

/// Maps libcontainer's error text to Docker's message and exit code.
fn runtime_error(msg: &str) -> StartError {
    let quoted = |m: &str| m.split('\'').nth(1).unwrap_or("").to_string();
    if msg.contains("not found in $PATH") {
        let cmd = quoted(msg);
        return StartError::Runtime {
            message: format!(
                "failed to create task for container: exec: \"{cmd}\": executable file not found in $PATH: unknown"
            ),
            exit_code: 127,
        };
    }
    if msg.contains("does not have correct permissions") {
        let cmd = quoted(msg);
        return StartError::Runtime {
            message: format!(
                "failed to create task for container: exec: \"{cmd}\": permission denied: unknown"
            ),
            exit_code: 126,
        };
    }
    StartError::Runtime {
        message: format!("failed to create task for container: {msg}"),
        exit_code: 128,
    }
}
