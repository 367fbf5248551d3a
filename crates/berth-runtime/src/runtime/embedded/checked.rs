//! berth's executor inside the container: the command checked as runc checks it, the
//! signals reset, the init's cgroup hierarchies remounted and the seccomp filter loaded, last
//! of all before `execve`.

use std::path::Path;
use std::sync::Arc;

use libcontainer::workload::default::DefaultExecutor;
use libcontainer::workload::{Executor, ExecutorError, ExecutorValidationError};
use oci_spec::runtime::Spec;

use super::MARKER;
use crate::runtime::ProcessError;
use crate::seccomp::{self, Compiled};

/// libcontainer's default executor (`execvp` of the process's args), with the command checked
/// as runc checks it and the failure typed, the signals the process starts with reset, and the
/// seccomp filter loaded last (after the init's cgroup hierarchies are remounted).
#[derive(Clone, Default)]
pub(super) struct Checked {
    pub(super) filter: Option<Arc<Compiled>>,
    pub(super) remount: Option<crate::runtime::cgroup_remount::Remount>,
    /// CAP_SYS_ADMIN was lent for the two and goes before `execve`.
    pub(super) drop_admin: bool,
}

impl Executor for Checked {
    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        crate::runtime::reset_signals();
        let failed = |what: &str, e: std::io::Error| ExecutorError::Other(format!("{what}: {e}"));
        if let Some(r) = &self.remount {
            crate::runtime::cgroup_remount::apply(r).map_err(|e| failed("mounting cgroups", e))?;
        }
        if let Some(f) = &self.filter {
            seccomp::load(f).map_err(|e| failed("loading the seccomp filter", e))?;
        }
        if self.drop_admin {
            seccomp::drop_admin().map_err(|e| failed("dropping CAP_SYS_ADMIN", e))?;
        }
        DefaultExecutor {}.exec(spec)
    }

    fn validate(&self, spec: &Spec) -> Result<(), ExecutorValidationError> {
        let Some(process) = spec.process() else {
            return Ok(());
        };
        let Some(cmd) = process.args().as_ref().and_then(|a| a.first()) else {
            return Ok(());
        };
        let path = process
            .env()
            .iter()
            .flatten()
            .find_map(|kv| kv.strip_prefix("PATH="))
            .unwrap_or("");
        look_up(cmd, path).map_err(|e| {
            ExecutorValidationError::ArgValidationError(format!("{MARKER}{}", e.to_status()))
        })
    }
}

/// Finds `cmd` as Go's `exec.LookPath` (runc's) does: a name with a slash is that file, any
/// other name the first executable of that name in the directories of `path`.
fn look_up(cmd: &str, path: &str) -> Result<(), ProcessError> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |m: &std::fs::Metadata| !m.is_dir() && m.permissions().mode() & 0o111 != 0;
    if cmd.contains('/') {
        return match std::fs::metadata(cmd) {
            Ok(m) if executable(&m) => Ok(()),
            Ok(_) => Err(ProcessError::PermissionDenied {
                cmd: cmd.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ProcessError::NotFound {
                cmd: cmd.to_string(),
            }),
            Err(e) => Err(ProcessError::runtime(format!(
                "exec: \"{cmd}\": stat {cmd}: {e}"
            ))),
        };
    }
    let found = path.split(':').any(|dir| {
        let dir = if dir.is_empty() { "." } else { dir };
        std::fs::metadata(Path::new(dir).join(cmd)).is_ok_and(|m| executable(&m))
    });
    if found {
        Ok(())
    } else {
        Err(ProcessError::NotFound {
            cmd: cmd.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_looked_up_as_runc_does() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let bin = d.join("bin");
        std::fs::create_dir(&bin).unwrap();
        for (name, mode) in [("tool", 0o755), ("plain", 0o644)] {
            let f = bin.join(name);
            std::fs::write(&f, "").unwrap();
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let path = format!("/nonexistent:{}", bin.display());
        let abs = |n: &str| bin.join(n).display().to_string();
        look_up("tool", &path).unwrap();
        look_up(&abs("tool"), "").unwrap();
        let nf = |cmd: &str| ProcessError::NotFound { cmd: cmd.into() };
        let denied = |cmd: &str| ProcessError::PermissionDenied { cmd: cmd.into() };
        assert_eq!(look_up("plain", &path).unwrap_err(), nf("plain"));
        assert_eq!(look_up("nosuch", &path).unwrap_err(), nf("nosuch"));
        assert_eq!(look_up("tool", "").unwrap_err(), nf("tool"));
        assert_eq!(
            look_up(&abs("plain"), &path).unwrap_err(),
            denied(&abs("plain"))
        );
        let dir_cmd = bin.display().to_string();
        assert_eq!(look_up(&dir_cmd, &path).unwrap_err(), denied(&dir_cmd));
        assert_eq!(
            look_up(&abs("nosuch"), &path).unwrap_err(),
            nf(&abs("nosuch"))
        );
    }
}
