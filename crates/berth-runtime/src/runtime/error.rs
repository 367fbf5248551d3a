//! Why a process did not start, typed, so that the daemon matches variants instead of reading a
//! runtime's message text.

use serde::{Deserialize, Serialize};

/// Why a container's init or an exec's process did not start. The monitor and the exec helper
/// send it to the daemon as JSON (tagged by `kind`) on their status line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind")]
pub enum ProcessError {
    /// The command names no file, or none in the process's `$PATH` (Docker's exit code 127).
    #[error("{}", not_found(.cmd))]
    NotFound {
        /// The command as given.
        cmd: String,
    },
    /// The command is a directory or not executable (Docker's exit code 126).
    #[error("exec: \"{cmd}\": permission denied")]
    PermissionDenied {
        /// The command as given.
        cmd: String,
    },
    /// The working directory cannot be made: something on its path is not a directory.
    #[error("Cannot mkdir: {dir} is not a directory")]
    InvalidWorkdir {
        /// The working directory.
        dir: String,
    },
    /// Anything else the runtime or the monitor reported.
    #[error("{message}")]
    Runtime {
        /// What it said.
        message: String,
    },
}

/// Docker's (runc's) wording: a path is stat'ed, a bare name is looked up.
fn not_found(cmd: &str) -> String {
    if cmd.contains('/') {
        format!("exec: \"{cmd}\": stat {cmd}: no such file or directory")
    } else {
        format!("exec: \"{cmd}\": executable file not found in $PATH")
    }
}

impl ProcessError {
    /// A [`ProcessError::Runtime`] with `message`.
    pub fn runtime(message: impl std::fmt::Display) -> ProcessError {
        ProcessError::Runtime {
            message: message.to_string(),
        }
    }

    /// Classifies the error message of an external runtime. An external runtime reports failures
    /// only as text, so this is the one place where berth reads a runtime's wording: runc's
    /// `exec: "CMD": executable file not found in $PATH`, `exec: "CMD": stat CMD: no such file or
    /// directory` and `exec: "CMD": permission denied`; anything else is kept as it was said.
    pub fn from_runtime_message(message: &str) -> ProcessError {
        const EXEC: &str = "exec: \"";
        if let Some(at) = message.rfind(EXEC)
            && let Some((cmd, reason)) = message[at + EXEC.len()..].split_once("\": ")
        {
            let cmd = cmd.to_string();
            if reason.starts_with("executable file not found in $PATH")
                || reason.ends_with("no such file or directory")
            {
                return ProcessError::NotFound { cmd };
            }
            if reason.starts_with("permission denied") {
                return ProcessError::PermissionDenied { cmd };
            }
        }
        ProcessError::runtime(message.trim())
    }

    /// The line the monitor and the exec helper write (after `err `).
    pub fn to_status(&self) -> String {
        serde_json::to_string(self).expect("a process error serializes")
    }

    /// Reads a status line written by [`to_status`](ProcessError::to_status); text that is not
    /// one is kept as a [`ProcessError::Runtime`] message.
    pub fn from_status(line: &str) -> ProcessError {
        serde_json::from_str(line).unwrap_or_else(|_| ProcessError::runtime(line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runc_messages_are_classified() {
        let cases = [
            (
                "runc create failed: unable to start container process: exec: \"nosuch\": executable file not found in $PATH",
                ProcessError::NotFound {
                    cmd: "nosuch".into(),
                },
            ),
            (
                "runc create failed: unable to start container process: exec: \"/nope\": stat /nope: no such file or directory",
                ProcessError::NotFound {
                    cmd: "/nope".into(),
                },
            ),
            (
                "exec failed: unable to start container process: exec: \"/etc\": permission denied",
                ProcessError::PermissionDenied { cmd: "/etc".into() },
            ),
            (
                "exec failed: unable to start container process: chdir to cwd (\"/f\") set in config.json failed: not a directory\n",
                ProcessError::runtime(
                    "exec failed: unable to start container process: chdir to cwd (\"/f\") set in config.json failed: not a directory",
                ),
            ),
        ];
        for (message, want) in cases {
            assert_eq!(
                ProcessError::from_runtime_message(message),
                want,
                "{message}"
            );
        }
    }

    #[test]
    fn messages_are_dockers() {
        let nf = |cmd: &str| {
            ProcessError::NotFound {
                cmd: cmd.to_string(),
            }
            .to_string()
        };
        assert_eq!(
            nf("nosuch"),
            "exec: \"nosuch\": executable file not found in $PATH"
        );
        assert_eq!(
            nf("/bin/nope"),
            "exec: \"/bin/nope\": stat /bin/nope: no such file or directory"
        );
    }

    #[test]
    fn status_lines_round_trip() {
        let e = ProcessError::InvalidWorkdir {
            dir: "/etc/passwd".into(),
        };
        assert_eq!(
            e.to_status(),
            r#"{"kind":"InvalidWorkdir","dir":"/etc/passwd"}"#
        );
        assert_eq!(ProcessError::from_status(&e.to_status()), e);
        assert_eq!(
            ProcessError::from_status("plain words"),
            ProcessError::runtime("plain words")
        );
    }
}
