//! The spec libcontainer creates a container or an exec from: the bundle's, with what berth
//! applies itself taken out (the pids limit, the seccomp filter, the v2 device rules) and
//! CAP_SYS_ADMIN lent where the executor needs it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use oci_spec::runtime::{Capabilities, Capability, Process, Spec};

use super::DERIVED_BUNDLE;
use super::checked::Checked;
use crate::runtime::ProcessError;
use crate::seccomp::{self, Compiled};

/// What libcontainer creates a container from.
pub(super) struct Derived {
    /// The bundle it reads.
    pub(super) dir: PathBuf,
    /// What to apply to the container's cgroup after create.
    pub(super) after: AfterCreate,
    /// What the executor does last.
    pub(super) checked: Checked,
    /// The process's OOM score.
    pub(super) oom_score_adj: Option<i32>,
    /// The sysctls, as `key=value`, sorted.
    pub(super) sysctls: Vec<String>,
    /// A network namespace to join before libcontainer runs (see `userns_join`).
    pub(super) netns: Option<PathBuf>,
}

/// What the embedded runtime applies itself after create, to the container's cgroup.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct AfterCreate {
    /// The cgroup, relative to the hierarchy root.
    pub(super) cgroup: Option<String>,
    /// The task limit.
    pub(super) pids: Option<i64>,
    /// `memory.disableOOMKiller`, which libcontainer 0.7 never applies (it passes `false`).
    pub(super) oom_kill_disable: bool,
    /// The spec's device rules, for the v2 filter.
    pub(super) devices: Vec<crate::devices::Rule>,
}

/// Writes the spec libcontainer creates the container from: the bundle's, without its pids
/// limit and seccomp filter and with an absolute root; says what to apply after create. The
/// compiled filter, when there is one, is kept in the derived bundle for later execs.
pub(super) fn derive_bundle(bundle: &Path) -> Result<Derived, ProcessError> {
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
            after.oom_kill_disable = resources
                .memory()
                .and_then(|m| m.disable_oom_killer())
                .unwrap_or(false);
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
    let remount = crate::runtime::cgroup_remount::planned(&spec);
    let drop_admin = (filter.is_some() || remount.is_some())
        && spec
            .process_mut()
            .as_mut()
            .is_some_and(|p| lend_admin(p, remount.is_some()));
    let netns = crate::runtime::userns_join::take_netns(&mut spec);
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
pub(super) fn derive_exec(
    derived: &Path,
    process: &Path,
) -> Result<(PathBuf, Checked), ProcessError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
