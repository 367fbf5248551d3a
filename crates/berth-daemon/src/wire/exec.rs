//! Exec instances: Docker's create body to an [`ExecSpec`], and an exec back to Docker's
//! inspect view.

use berth_api::exec::{ExecConfig, ExecInspect, ProcessConfig};
use berth_core::ErrorKind;

use crate::containers::{Exec, ExecSpec, Stdio};
use crate::error::{Error, Result};

/// The spec of an exec create body, or why it is refused.
pub fn spec(config: ExecConfig) -> Result<ExecSpec> {
    let bad: Vec<String> = berth_api::fields::EXEC_CREATE
        .refused(&config.rest)
        .into_iter()
        .map(|f| f.trim_start_matches("ExecConfig.").to_string())
        .collect();
    if !bad.is_empty() {
        return Err(Error::new(
            ErrorKind::NotImplemented,
            format!("berth does not support exec option {} yet", bad.join(", ")),
        ));
    }
    Ok(ExecSpec {
        cmd: config.cmd.unwrap_or_default(),
        env: config.env.unwrap_or_default(),
        user: config.user,
        working_dir: config.working_dir,
        stdio: Stdio {
            attach_stdin: config.attach_stdin,
            attach_stdout: config.attach_stdout,
            attach_stderr: config.attach_stderr,
            tty: config.tty,
            open_stdin: config.attach_stdin,
            stdin_once: false,
        },
        detach_keys: config.detach_keys,
        privileged: config.privileged,
        console_size: match config.console_size.as_deref() {
            Some(&[h, w]) => Some((h, w)),
            _ => None,
        },
    })
}

/// Docker's inspect view of an exec.
pub fn inspect(e: &Exec) -> ExecInspect {
    let (running, pid, exit_code) = e.status();
    let s = &e.spec;
    ExecInspect {
        can_remove: false,
        container_id: e.container.id.clone(),
        detach_keys: s.detach_keys.clone(),
        exit_code,
        id: e.id.clone(),
        open_stderr: s.stdio.attach_stderr,
        open_stdin: s.stdio.attach_stdin,
        open_stdout: s.stdio.attach_stdout,
        process_config: ProcessConfig {
            entrypoint: s.cmd.first().cloned().unwrap_or_default(),
            arguments: s.cmd.iter().skip(1).cloned().collect(),
            privileged: s.privileged,
            tty: s.stdio.tty,
            user: s.user.clone(),
        },
        running,
        pid,
    }
}
