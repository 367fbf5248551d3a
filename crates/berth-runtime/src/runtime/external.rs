//! An external OCI runtime: a binary with runc's command line (`runc`, `crun`, ...), run once per
//! call:
//!
//! ```text
//! RT --root STATE --log LOG --log-format json create --bundle B --pid-file F [--console-socket S] ID
//! RT ... start ID
//! RT ... exec --process P --detach --pid-file F [--console-socket S] ID
//! RT ... delete --force ID
//! ```
//!
//! `create` and `exec --detach` return once the process exists; the runtime's own processes
//! then exit and the process is reparented to the caller, a child subreaper, which reaps it.
//! Without a terminal the runtime hands its own stdin, stdout and stderr to the process, so its
//! stderr may be the container's: a failure's message is read from the JSON log instead (the
//! last `error` entry) and classified by [`ProcessError::from_runtime_message`].

use std::ffi::OsString;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::unistd::Pid;

use super::{ProcessError, Runtime, Stdio};

/// An OCI runtime binary, keeping its state under a root directory.
#[derive(Debug, Clone)]
pub struct External {
    path: PathBuf,
    state_root: PathBuf,
}

impl External {
    /// The runtime `path` (looked up in `$PATH` when it is a bare name), with its state under
    /// `state_root` (`--root`).
    pub fn new(path: &Path, state_root: &Path) -> External {
        External {
            path: path.to_path_buf(),
            state_root: state_root.to_path_buf(),
        }
    }

    /// Where the calls about container `id` log (exec calls log next to their process file).
    fn log(&self, id: &str) -> PathBuf {
        self.state_root.join(format!("{id}.log.json"))
    }

    /// Runs `RT [global flags] SUB OPTIONS [--console-socket S] ID` with `stdio`.
    fn run(
        &self,
        log: &Path,
        sub: &str,
        options: Vec<OsString>,
        id: &str,
        stdio: Stdio,
    ) -> Result<(), ProcessError> {
        let _ = fs::remove_file(log);
        let mut cmd = Command::new(&self.path);
        cmd.arg("--root")
            .arg(&self.state_root)
            .arg("--log")
            .arg(log)
            .arg("--log-format")
            .arg("json")
            .arg(sub)
            .args(options);
        match stdio {
            Stdio::Fds {
                stdin,
                stdout,
                stderr,
            } => {
                cmd.stdin(stdin).stdout(stdout).stderr(stderr);
            }
            Stdio::Inherit => {}
            Stdio::Console(socket) => {
                cmd.arg("--console-socket")
                    .arg(socket)
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null());
            }
        }
        cmd.arg(id);
        // SAFETY: reset_signals only makes async-signal-safe calls.
        unsafe {
            cmd.pre_exec(|| {
                super::reset_signals();
                Ok(())
            })
        };
        let status = cmd
            .status()
            .map_err(|e| ProcessError::runtime(format!("running {}: {e}", self.path.display())))?;
        let said = last_error(log);
        let _ = fs::remove_file(log);
        if status.success() {
            return Ok(());
        }
        let message =
            said.unwrap_or_else(|| format!("{} {sub} {id}: {status}", self.path.display()));
        Err(ProcessError::from_runtime_message(&message))
    }

    /// Runs a call that writes a pid file, and reads it.
    fn run_for_pid(
        &self,
        log: &Path,
        sub: &str,
        mut options: Vec<OsString>,
        pid_file: &Path,
        id: &str,
        stdio: Stdio,
    ) -> Result<Pid, ProcessError> {
        let _ = fs::remove_file(pid_file);
        options.extend(["--pid-file".into(), pid_file.into()]);
        self.run(log, sub, options, id, stdio)?;
        let text = fs::read_to_string(pid_file)
            .map_err(|e| ProcessError::runtime(format!("reading {}: {e}", pid_file.display())))?;
        let _ = fs::remove_file(pid_file);
        text.trim()
            .parse()
            .map(Pid::from_raw)
            .map_err(|_| ProcessError::runtime(format!("bad pid file {}", pid_file.display())))
    }
}

impl Runtime for External {
    fn create(&self, id: &str, bundle: &Path, stdio: Stdio) -> Result<Pid, ProcessError> {
        // A probe: the runtime sets the score in its own child, and would not say why it fails.
        let score = oci_spec::runtime::Spec::load(bundle.join("config.json"))
            .ok()
            .and_then(|s| s.process().as_ref().and_then(|p| p.oom_score_adj()));
        let _score = super::oom::KeepOomScore::set(score)?;
        let options = vec!["--bundle".into(), bundle.into()];
        let pid_file = self.state_root.join(format!("{id}.pid"));
        fs::create_dir_all(&self.state_root).map_err(|e| {
            ProcessError::runtime(format!("creating {}: {e}", self.state_root.display()))
        })?;
        self.run_for_pid(&self.log(id), "create", options, &pid_file, id, stdio)
    }

    fn start(&self, id: &str) -> Result<(), ProcessError> {
        self.run(&self.log(id), "start", vec![], id, Stdio::null())
    }

    fn exec(&self, id: &str, process: &Path, stdio: Stdio) -> Result<Pid, ProcessError> {
        let options = vec!["--process".into(), process.into(), "--detach".into()];
        let log = process.with_extension("log.json");
        let pid_file = process.with_extension("pid");
        self.run_for_pid(&log, "exec", options, &pid_file, id, stdio)
    }

    fn update(
        &self,
        id: &str,
        _cgroup: &str,
        resources: &oci_spec::runtime::LinuxResources,
    ) -> Result<(), ProcessError> {
        let json = serde_json::to_vec(resources).expect("resources serialize");
        let (read, write) = nix::unistd::pipe()
            .map_err(|e| ProcessError::runtime(format!("making a pipe: {e}")))?;
        // Far below a pipe's capacity: written whole before the runtime starts reading.
        std::io::Write::write_all(&mut fs::File::from(write), &json)
            .map_err(|e| ProcessError::runtime(format!("writing the resources: {e}")))?;
        let stdio = match Stdio::null() {
            Stdio::Fds { stdout, stderr, .. } => Stdio::Fds {
                stdin: read,
                stdout,
                stderr,
            },
            other => other,
        };
        let options = vec!["--resources".into(), "-".into()];
        self.run(&self.log(id), "update", options, id, stdio)
    }

    fn delete(&self, id: &str) -> Result<(), ProcessError> {
        if !self.state_root.join(id).exists() {
            return Ok(());
        }
        self.run(
            &self.log(id),
            "delete",
            vec!["--force".into()],
            id,
            Stdio::null(),
        )
    }
}

impl Stdio {
    /// All three streams on `/dev/null`.
    fn null() -> Stdio {
        let null = || {
            fs::File::options()
                .read(true)
                .write(true)
                .open("/dev/null")
                .map(std::os::fd::OwnedFd::from)
        };
        match (null(), null(), null()) {
            (Ok(stdin), Ok(stdout), Ok(stderr)) => Stdio::Fds {
                stdin,
                stdout,
                stderr,
            },
            _ => Stdio::Inherit,
        }
    }
}

/// The message of the last `error` entry of a runtime's JSON log (one object per line:
/// `{"level":"error","msg":"...","time":"..."}`).
fn last_error(log: &Path) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Entry {
        level: String,
        msg: String,
    }
    let text = fs::read_to_string(log).ok()?;
    text.lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Entry>(l).ok())
        .find(|e| e.level == "error")
        .map(|e| e.msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_error_of_the_log_is_the_message() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.json");
        fs::write(
            &log,
            concat!(
                "{\"level\":\"warning\",\"msg\":\"ignored\",\"time\":\"t\"}\n",
                "{\"level\":\"error\",\"msg\":\"first\",\"time\":\"t\"}\n",
                "not json\n",
                "{\"level\":\"error\",\"msg\":\"runc create failed: x\",\"time\":\"t\"}\n",
            ),
        )
        .unwrap();
        assert_eq!(last_error(&log).as_deref(), Some("runc create failed: x"));
        assert_eq!(last_error(&dir.path().join("none")), None);
    }

    /// A stand-in runtime: a script that logs as runc does and fails every call.
    #[test]
    fn a_failing_runtime_reports_its_logged_error() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("fake-runc");
        fs::write(
            &script,
            "#!/bin/sh\n\
             while [ \"$1\" != --log ]; do shift; done\n\
             echo '{\"level\":\"error\",\"msg\":\"runc create failed: unable to start container process: exec: \\\"nosuch\\\": executable file not found in $PATH\"}' > \"$2\"\n\
             echo noise >&2\n\
             exit 1\n",
        )
        .unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        let rt = External::new(&script, &dir.path().join("state"));
        let bundle = dir.path().join("bundle");
        let err = rt.create("c1", &bundle, Stdio::null()).unwrap_err();
        assert_eq!(
            err,
            ProcessError::NotFound {
                cmd: "nosuch".into()
            }
        );
        assert!(!rt.log("c1").exists(), "the log is removed after the call");
        let missing = External::new(&dir.path().join("none"), &dir.path().join("state"));
        let err = missing.start("c1").unwrap_err();
        assert!(err.to_string().starts_with("running "), "{err}");
    }
}
