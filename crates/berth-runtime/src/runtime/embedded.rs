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

use std::path::{Path, PathBuf};
use std::sync::Arc;

use libcontainer::container::Container;
use libcontainer::container::builder::ContainerBuilder;
use libcontainer::error::LibcontainerError;
use libcontainer::syscall::syscall::SyscallType;
use libcontainer::workload::default::DefaultExecutor;
use libcontainer::workload::{Executor, ExecutorError, ExecutorValidationError};
use nix::unistd::Pid;
use oci_spec::runtime::{Capabilities, Capability, Process, Spec};

use super::oom::KeepOomScore;
use super::{ProcessError, Runtime, Stdio};
use crate::seccomp::{self, Compiled};

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
            super::userns_join::join(path, nix::sched::CloneFlags::CLONE_NEWNET)?;
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
        }
        Ok(pid)
    }

    fn start(&self, id: &str) -> Result<(), ProcessError> {
        Container::load(self.state_root.join(id))
            .and_then(|mut c| c.start())
            .map_err(classify)
    }

    fn exec(&self, id: &str, process: &Path, stdio: Stdio) -> Result<Pid, ProcessError> {
        let container = Container::load(self.state_root.join(id)).map_err(classify)?;
        let (derived, checked) = derive_exec(container.bundle(), process)?;
        // The container's score, which its start already showed can be set.
        let _score = KeepOomScore::set(None)?;
        let spec = container.bundle().join("config.json");
        if let Ok(spec) = Spec::load(&spec)
            && super::userns_join::has_userns(&spec)
        {
            let pid = container
                .pid()
                .ok_or_else(|| ProcessError::runtime("container has no init process"))?;
            super::userns_join::join_for_exec(pid, &spec)?;
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

/// What libcontainer creates a container from.
struct Derived {
    /// The bundle it reads.
    dir: PathBuf,
    /// What to apply to the container's cgroup after create.
    after: AfterCreate,
    /// What the executor does last.
    checked: Checked,
    /// The process's OOM score.
    oom_score_adj: Option<i32>,
    /// The sysctls, as `key=value`, sorted.
    sysctls: Vec<String>,
    /// A network namespace to join before libcontainer runs (see `userns_join`).
    netns: Option<PathBuf>,
}

/// What the embedded runtime applies itself after create, to the container's cgroup.
#[derive(Debug, Default, PartialEq, Eq)]
struct AfterCreate {
    /// The cgroup, relative to the hierarchy root.
    cgroup: Option<String>,
    /// The task limit.
    pids: Option<i64>,
    /// The spec's device rules, for the v2 filter.
    devices: Vec<crate::devices::Rule>,
}

/// Writes the spec libcontainer creates the container from: the bundle's, without its pids
/// limit and seccomp filter and with an absolute root; says what to apply after create. The
/// compiled filter, when there is one, is kept in the derived bundle for later execs.
fn derive_bundle(bundle: &Path) -> Result<Derived, ProcessError> {
    let source = bundle.join("config.json");
    let mut spec = Spec::load(&source)
        .map_err(|e| ProcessError::runtime(format!("reading {}: {e}", source.display())))?;
    let mut after = AfterCreate::default();
    let mut seccomp = None;
    if let Some(linux) = spec.linux_mut() {
        after.cgroup = linux
            .cgroups_path()
            .as_ref()
            .map(|p| p.display().to_string());
        if let Some(resources) = linux.resources_mut() {
            for r in resources.devices().iter().flatten() {
                after
                    .devices
                    .extend(crate::devices::Rule::from_oci(r).map_err(ProcessError::runtime)?);
            }
            after.pids = resources
                .pids()
                .as_ref()
                .map(|p| p.limit())
                .filter(|l| *l > 0);
            resources.set_pids(None);
        }
        seccomp = linux.seccomp_mut().take();
    }
    if let Some(root) = spec.root_mut()
        && root.path().is_relative()
    {
        let path = bundle.join(root.path());
        root.set_path(path);
    }
    let dir = bundle.join(DERIVED_BUNDLE);
    std::fs::create_dir_all(&dir)
        .map_err(|e| ProcessError::runtime(format!("creating {}: {e}", dir.display())))?;
    let kept = dir.join(seccomp::BUNDLE_FILE);
    let filter = match seccomp {
        Some(_) => {
            let compiled = read_filter(&bundle.join(seccomp::BUNDLE_FILE))?;
            compiled
                .write(&kept)
                .map_err(|e| ProcessError::runtime(format!("writing {}: {e}", kept.display())))?;
            Some(Arc::new(compiled))
        }
        None => {
            let _ = std::fs::remove_file(&kept);
            None
        }
    };
    let remount = super::cgroup_remount::planned(&spec);
    let drop_admin = (filter.is_some() || remount.is_some())
        && spec
            .process_mut()
            .as_mut()
            .is_some_and(|p| lend_admin(p, remount.is_some()));
    let netns = super::userns_join::take_netns(&mut spec);
    spec.save(dir.join("config.json")).map_err(|e| {
        ProcessError::runtime(format!("writing {}/config.json: {e}", dir.display()))
    })?;
    let checked = Checked {
        filter,
        remount,
        drop_admin,
    };
    let oom_score_adj = spec.process().as_ref().and_then(|p| p.oom_score_adj());
    let mut sysctls: Vec<String> = (spec.linux().as_ref())
        .and_then(|l| l.sysctl().as_ref())
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    sysctls.sort();
    Ok(Derived {
        dir,
        after,
        checked,
        oom_score_adj,
        sysctls,
        netns,
    })
}

/// The process file libcontainer execs from and what its executor does: load the
/// container's filter (kept in its derived bundle), with CAP_SYS_ADMIN lent for it.
fn derive_exec(derived: &Path, process: &Path) -> Result<(PathBuf, Checked), ProcessError> {
    let kept = derived.join(seccomp::BUNDLE_FILE);
    if !kept.exists() {
        return Ok((process.to_path_buf(), Checked::default()));
    }
    let compiled = read_filter(&kept)?;
    let read = |e: &dyn std::fmt::Display| {
        ProcessError::runtime(format!("reading {}: {e}", process.display()))
    };
    let text = std::fs::read(process).map_err(|e| read(&e))?;
    let mut p: Process = serde_json::from_slice(&text).map_err(|e| read(&e))?;
    let drop_admin = lend_admin(&mut p, false);
    let path = process.with_extension("embedded.json");
    std::fs::write(&path, serde_json::to_vec(&p).expect("a process serializes"))
        .map_err(|e| ProcessError::runtime(format!("writing {}: {e}", path.display())))?;
    let checked = Checked {
        filter: Some(Arc::new(compiled)),
        remount: None,
        drop_admin,
    };
    Ok((path, checked))
}

fn read_filter(path: &Path) -> Result<Compiled, ProcessError> {
    Compiled::read(path).map_err(|e| {
        ProcessError::runtime(format!(
            "reading the seccomp filter {}: {e}",
            path.display()
        ))
    })
}

/// Gives `p` CAP_SYS_ADMIN in its effective and permitted sets when it lacks it and needs it:
/// to remount (`remount`), or to load a filter without `no_new_privs`; says whether it did.
fn lend_admin(p: &mut Process, remount: bool) -> bool {
    if !remount && p.no_new_privileges() == Some(true) {
        return false;
    }
    let Some(mut caps) = p.capabilities().clone() else {
        return false;
    };
    let has = |set: &Option<Capabilities>| {
        set.as_ref()
            .is_some_and(|s| s.contains(&Capability::SysAdmin))
    };
    if has(caps.effective()) && has(caps.permitted()) {
        return false;
    }
    let with_admin = |set: &Option<Capabilities>| {
        let mut s = set.clone().unwrap_or_default();
        s.insert(Capability::SysAdmin);
        Some(s)
    };
    let (effective, permitted) = (with_admin(caps.effective()), with_admin(caps.permitted()));
    caps.set_effective(effective);
    caps.set_permitted(permitted);
    p.set_capabilities(Some(caps));
    true
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

/// libcontainer's default executor (`execvp` of the process's args), with the command checked
/// as runc checks it and the failure typed, the signals the process starts with reset, and the
/// seccomp filter loaded last (after the init's cgroup hierarchies are remounted).
#[derive(Clone, Default)]
struct Checked {
    filter: Option<Arc<Compiled>>,
    remount: Option<super::cgroup_remount::Remount>,
    /// CAP_SYS_ADMIN was lent for the two and goes before `execve`.
    drop_admin: bool,
}

impl Executor for Checked {
    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        super::reset_signals();
        let failed = |what: &str, e: std::io::Error| ExecutorError::Other(format!("{what}: {e}"));
        if let Some(r) = &self.remount {
            super::cgroup_remount::apply(r).map_err(|e| failed("mounting cgroups", e))?;
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

    #[test]
    fn the_derived_bundle_has_no_pids_limit_and_the_rules_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let spec = crate::spec::tests::sample();
        std::fs::write(
            dir.path().join("config.json"),
            serde_json::to_vec(&spec.to_spec().unwrap()).unwrap(),
        )
        .unwrap();
        let derived = derive_bundle(dir.path()).unwrap();
        assert_eq!(derived.dir, dir.path().join(DERIVED_BUNDLE));
        let after = &derived.after;
        assert_eq!(
            (after.cgroup.as_deref(), after.pids),
            (Some("/berth/x"), Some(10))
        );
        let mut rules = crate::devices::docker_defaults();
        rules.extend(spec.device_rules.iter().copied());
        assert_eq!(after.devices, rules, "the v2 filter gets the spec's rules");
        assert!(derived.checked.filter.is_none());
        let written = Spec::load(derived.dir.join("config.json")).unwrap();
        let resources = written
            .linux()
            .as_ref()
            .unwrap()
            .resources()
            .as_ref()
            .unwrap();
        assert!(resources.pids().is_none());
        assert!(resources.memory().is_some(), "other limits stay");
        assert_eq!(
            written.root().as_ref().unwrap().path(),
            &dir.path().join("rootfs")
        );
    }
}
