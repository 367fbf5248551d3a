//! The daemon's side of a monitor: spawn it, read its status line, talk to its socket, and read
//! the exit it recorded.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use berth_core::{ErrorKind, HasKind};

use crate::runtime::ProcessError;

pub use crate::monitor::ExitRecord as ExitStatus;

/// Why a container's init, or an exec's process, did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The monitor (or exec helper) could not be spawned or did not answer.
    #[error("failed to run the container monitor: {0}")]
    Monitor(String),
    /// The container's init did not start; the message is Docker's.
    #[error("failed to create task for container: {}", create_message(.0))]
    Create(ProcessError),
    /// An exec's process did not start; the message is Docker's.
    #[error("OCI runtime exec failed: exec failed: {0}: unknown")]
    Exec(ProcessError),
}

fn create_message(e: &ProcessError) -> String {
    match e {
        ProcessError::NotFound { .. } | ProcessError::PermissionDenied { .. } => {
            format!("{e}: unknown")
        }
        _ => e.to_string(),
    }
}

impl StartError {
    /// The exit code Docker records for it: 127 command not found, 126 not executable (or any
    /// exec that failed), 128 for the rest.
    pub fn exit_code(&self) -> i32 {
        match self {
            StartError::Create(ProcessError::NotFound { .. })
            | StartError::Exec(ProcessError::NotFound { .. }) => 127,
            StartError::Create(ProcessError::PermissionDenied { .. }) | StartError::Exec(_) => 126,
            _ => 128,
        }
    }
}

impl HasKind for StartError {
    fn kind(&self) -> ErrorKind {
        match self {
            // The client's mistakes: a command that is not there or not executable, a working
            // directory on a file (Docker answers 500 for that one).
            StartError::Create(
                ProcessError::NotFound { .. }
                | ProcessError::PermissionDenied { .. }
                | ProcessError::InvalidWorkdir { .. },
            )
            | StartError::Exec(
                ProcessError::NotFound { .. } | ProcessError::PermissionDenied { .. },
            ) => ErrorKind::InvalidArgument,
            _ => ErrorKind::Internal,
        }
    }
}

/// Why a request to a monitor failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// No monitor answers: the container ended.
    #[error("container is not running")]
    NotRunning,
    /// The monitor refused the request; its words.
    #[error("{0}")]
    Refused(String),
    /// Talking to it failed.
    #[error("talking to the container's monitor: {0}")]
    Io(#[from] std::io::Error),
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
            Some(msg) => Err(StartError::Create(ProcessError::from_status(msg))),
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

    fn request(&self, line: &str) -> Result<(), ControlError> {
        let mut s = UnixStream::connect(&self.socket).map_err(|_| ControlError::NotRunning)?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        s.write_all(format!("{line}\n").as_bytes())?;
        let mut reply = String::new();
        BufReader::new(&mut s).read_line(&mut reply)?;
        match reply.trim_end() {
            "ok" => Ok(()),
            r => Err(ControlError::Refused(
                r.strip_prefix("err ").unwrap_or(r).to_string(),
            )),
        }
    }

    /// Sends signal `signo` to the container's init.
    pub fn kill(&self, signo: i32) -> Result<(), ControlError> {
        self.request(&format!("kill {signo}"))
    }

    /// Sets the container's terminal size.
    pub fn resize(&self, rows: u16, cols: u16) -> Result<(), ControlError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_errors_say_what_docker_says() {
        let nf = || ProcessError::NotFound {
            cmd: "nosuch".into(),
        };
        let denied = || ProcessError::PermissionDenied { cmd: "/etc".into() };
        let cases = [
            (
                StartError::Create(nf()),
                "failed to create task for container: exec: \"nosuch\": executable file not found in $PATH: unknown",
                127,
            ),
            (
                StartError::Create(denied()),
                "failed to create task for container: exec: \"/etc\": permission denied: unknown",
                126,
            ),
            (
                StartError::Create(ProcessError::InvalidWorkdir {
                    dir: "/etc/passwd".into(),
                }),
                "failed to create task for container: Cannot mkdir: /etc/passwd is not a directory",
                128,
            ),
            (
                StartError::Exec(nf()),
                "OCI runtime exec failed: exec failed: exec: \"nosuch\": executable file not found in $PATH: unknown",
                127,
            ),
            (
                StartError::Exec(ProcessError::runtime("boom")),
                "OCI runtime exec failed: exec failed: boom: unknown",
                126,
            ),
        ];
        for (e, message, code) in cases {
            assert_eq!((e.to_string().as_str(), e.exit_code()), (message, code));
        }
        assert_eq!(StartError::Create(nf()).kind(), ErrorKind::InvalidArgument);
        assert_eq!(
            StartError::Create(ProcessError::runtime("x")).kind(),
            ErrorKind::Internal
        );
    }
}
