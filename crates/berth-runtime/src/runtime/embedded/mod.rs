//! The embedded runtime: libcontainer (youki's library), run in the calling process.
//!
//! libcontainer forks with a raw clone and changes the calling process (dumpable,
//! oom_score_adj): only the single-threaded monitor and exec helper call it, never the daemon.
//! They take their own OOM score back once the process is created ([`super::oom::KeepOomScore`]).
//!
//! Two things differ from calling libcontainer plainly:
//! - berth's own executor ([`Checked`]) checks the command inside the container, as runc does,
//!   and reports a missing or non-executable one as a typed [`ProcessError`]. libcontainer
//!   carries errors across its fork as text; the error travels as JSON behind a marker and is
//!   read back here, so nothing depends on libcontainer's wording.
//! - A pids limit is applied after create. libcontainer applies the spec's limits from its
//!   intermediate process, which is still in the cgroup when it clones the init: a limit of one
//!   task would fail create. libcontainer therefore gets the bundle's spec without the limit
//!   (written as `libcontainer/config.json` inside the bundle, its root made absolute), and
//!   `pids.max` is written between create and start, when the init is the cgroup's only task.
//! - Seccomp is loaded by [`Checked`], not by libcontainer, from the filter the daemon compiled
//!   (see [`crate::seccomp`]): in the init and in every exec'd process (libcontainer's exec path
//!   drops `linux.seccomp`), in half a millisecond instead of a compile at every start, and with
//!   runc's reading of the profile. Loading a filter without `no_new_privs` needs CAP_SYS_ADMIN:
//!   a process that lacks it gets it in its effective and permitted sets (never its bounding
//!   set) from libcontainer, and drops it right after the load.
//! - On cgroup v2 the device rules are applied after create too: libcontainer (without
//!   `cgroupsv2_devices`) applies none there, so berth attaches its own eBPF filter
//!   ([`crate::devices::bpf`]) to the container's cgroup before the user's command runs. The
//!   nodes of `linux.devices` were made by then; opening them is what the filter decides.

mod checked;
mod derive;

use std::path::{Path, PathBuf};

use libcontainer::container::Container;
use libcontainer::container::builder::ContainerBuilder;
use libcontainer::error::LibcontainerError;
use libcontainer::syscall::syscall::SyscallType;
use nix::unistd::Pid;
use oci_spec::runtime::Spec;

use self::checked::Checked;
use self::derive::{Derived, derive_bundle, derive_exec};
use super::oom::KeepOomScore;
use super::{ProcessError, Runtime, Stdio};

/// libcontainer, keeping its state under a root directory.
#[derive(Debug, Clone)]
pub struct Embedded {
    state_root: PathBuf,
}

/// Where the spec libcontainer reads lives, inside the bundle.
const DERIVED_BUNDLE: &str = "libcontainer";

impl Embedded {
    /// The runtime with its state under `state_root`.
    pub fn new(state_root: &Path) -> Embedded {
        Embedded {
            state_root: state_root.to_path_buf(),
        }
    }

    fn builder(
        &self,
        id: &str,
        stdio: Stdio,
        checked: Checked,
    ) -> Result<ContainerBuilder, ProcessError> {
        let builder = ContainerBuilder::new(id.to_string(), SyscallType::default())
            .with_executor(checked)
            .with_root_path(&self.state_root)
            .map_err(classify)?;
        Ok(match stdio {
            Stdio::Fds {
                stdin,
                stdout,
                stderr,
            } => builder
                .with_stdin(stdin)
                .with_stdout(stdout)
                .with_stderr(stderr),
            Stdio::Inherit => builder,
            Stdio::Console(path) => builder.with_console_socket(Some(path)),
        })
    }
}

impl Runtime for Embedded {
    fn create(&self, id: &str, bundle: &Path, stdio: Stdio) -> Result<Pid, ProcessError> {
        let Derived {
            dir,
            after,
            checked,
            oom_score_adj,
            sysctls,
            netns,
        } = derive_bundle(bundle)?;
        let _score = KeepOomScore::set(oom_score_adj)?;
        if let Some(path) = &netns {
            crate::runtime::userns_join::join(path, nix::sched::CloneFlags::CLONE_NEWNET)?;
        }
        let container = self
            .builder(id, stdio, checked)?
            .as_init(&dir)
            .with_systemd(false)
            .with_detach(true)
            .build()
            .map_err(|e| name_sysctls(classify(e), &sysctls))?;
        let pid = container
            .pid()
            .ok_or_else(|| ProcessError::runtime("container has no init process"))?;
        if let Some(cgroup) = &after.cgroup {
            if crate::cgroup::is_unified() {
                // libcontainer writes its defaults after the spec's rules on v1: so here.
                let mut rules = after.devices;
                rules.extend(crate::devices::libcontainer_defaults());
                crate::devices::bpf::restrict(&crate::cgroup::unified_dir(cgroup), &rules)
                    .map_err(ProcessError::runtime)?;
            }
            if let Some(limit) = after.pids {
                crate::cgroup::set_pids_limit(cgroup, limit).map_err(ProcessError::runtime)?;
            }
            if after.oom_kill_disable {
                crate::cgroup_update::disable_oom_killer(cgroup).map_err(ProcessError::runtime)?;
            }
        }
        Ok(pid)
    }

    fn start(&self, id: &str) -> Result<(), ProcessError> {
        Container::load(self.state_root.join(id))
            .and_then(|mut c| c.start())
            .map_err(classify)
    }

    fn update(
        &self,
        _id: &str,
        cgroup: &str,
        resources: &oci_spec::runtime::LinuxResources,
    ) -> Result<(), ProcessError> {
        // libcontainer has no update: the files are written here (see `cgroup_update`).
        crate::cgroup_update::update(cgroup, resources).map_err(ProcessError::runtime)
    }

    fn exec(&self, id: &str, process: &Path, stdio: Stdio) -> Result<Pid, ProcessError> {
        let container = Container::load(self.state_root.join(id)).map_err(classify)?;
        let (derived, checked) = derive_exec(container.bundle(), process)?;
        // The container's score, which its start already showed can be set.
        let _score = KeepOomScore::set(None)?;
        let spec = container.bundle().join("config.json");
        if let Ok(spec) = Spec::load(&spec)
            && crate::runtime::userns_join::has_userns(&spec)
        {
            let pid = container
                .pid()
                .ok_or_else(|| ProcessError::runtime("container has no init process"))?;
            crate::runtime::userns_join::join_for_exec(pid, &spec)?;
        }
        let pid = self
            .builder(id, stdio, checked)?
            .as_tenant()
            .with_process(Some(&derived))
            .with_detach(true)
            .build()
            .map_err(classify);
        // Read by now; the caller removes only the file it wrote.
        if derived != process {
            let _ = std::fs::remove_file(&derived);
        }
        pid
    }

    fn delete(&self, id: &str) -> Result<(), ProcessError> {
        let dir = self.state_root.join(id);
        if !dir.exists() {
            return Ok(());
        }
        Container::load(dir)
            .and_then(|mut c| c.delete(true))
            .map_err(classify)
    }
}

/// libcontainer's sysctl failures name no key (its error crosses the fork as text): names them.
fn name_sysctls(e: ProcessError, sysctls: &[String]) -> ProcessError {
    match &e {
        ProcessError::Runtime { message }
            if !sysctls.is_empty()
                && (message.contains("failed to set sysctl")
                    || message.contains("open subpath in procfs failed")) =>
        {
            ProcessError::runtime(format!(
                "{message}: one of the sysctls {} does not exist in the container's namespaces \
                 or does not take its value",
                sysctls.join(", ")
            ))
        }
        _ => e,
    }
}

/// Precedes a serialized [`ProcessError`] inside libcontainer's error text.
const MARKER: &str = "berth-process-error:";

/// The typed error [`Checked`] sent across libcontainer's fork, or else libcontainer's message.
fn classify(e: LibcontainerError) -> ProcessError {
    from_text(error_chain(&e))
}

fn from_text(text: String) -> ProcessError {
    if let Some(at) = text.find(MARKER) {
        let json = &text[at + MARKER.len()..];
        if let Some(Ok(e)) = serde_json::Deserializer::from_str(json)
            .into_iter::<ProcessError>()
            .next()
        {
            return e;
        }
    }
    ProcessError::runtime(text)
}

/// An error and its sources on one line, each cause once.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let cs = c.to_string();
        if !s.contains(&cs) {
            s.push_str(": ");
            s.push_str(&cs);
        }
        cur = c.source();
    }
    s.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_typed_error_survives_libcontainers_text() {
        let sent = ProcessError::NotFound {
            cmd: "nosuch".into(),
        };
        // As libcontainer wraps what the init sent (channel.rs, wait_for_init_ready).
        let text = format!(
            "failed to create container: exec process failed with error error in executing process : {MARKER}{}: more",
            sent.to_status()
        );
        assert_eq!(from_text(text), sent);
        assert_eq!(
            from_text("intermediate process error".into()),
            ProcessError::runtime("intermediate process error")
        );
    }
}
