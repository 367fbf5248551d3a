//! From a container's [`Spec`] to what the runtime needs.

use std::path::{Path, PathBuf};

use berth_core::rootfs::ReadRoot;
use berth_runtime::runtime::RuntimeConfig;
use berth_runtime::{ExtraMount, Network, RunSpec};

use super::model::{MountKind, MountSpec, NetworkMode, Resources, Spec};

use crate::config::Runtimes;
use crate::error::{Error, Result};

/// The PATH Docker gives containers whose image sets none.
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Refuses a limit the host cannot enforce (Docker warns and drops it).
pub fn check_host_support(r: &Resources) -> Result<()> {
    let (h, cg) = (r, berth_runtime::cgroup::controllers());
    for (asked, available, flag, controller) in [
        (h.memory > 0, cg.memory, "--memory", "memory"),
        (
            h.memory_swap > 0,
            cg.swap,
            "--memory-swap",
            "memory (with swap accounting)",
        ),
        (h.nano_cpus > 0 || h.cpu_quota > 0, cg.cpu, "--cpus", "cpu"),
        (h.cpu_shares > 0, cg.cpu, "--cpu-shares", "cpu"),
        (
            h.pids_limit.is_some_and(|p| p > 0),
            cg.pids,
            "--pids-limit",
            "pids",
        ),
    ] {
        if asked && !available {
            return Err(Error::invalid(format!(
                "berth cannot apply {flag} on this host: the {controller} cgroup controller is not available"
            )));
        }
    }
    Ok(())
}

/// The runtime called `name` (`""` for the default); Docker's error for one the daemon does not
/// have.
pub fn runtime(name: &str, runtimes: &Runtimes) -> Result<RuntimeConfig> {
    runtimes
        .get(name)
        .ok_or_else(|| Error::invalid(format!("unknown or invalid runtime name: {name}")))
}

/// The most of `/etc/passwd` or `/etc/group` berth reads: an image cannot make it allocate more.
const ACCOUNT_FILE_LIMIT: u64 = 8 << 20;

/// Resolves `user[:group]` against the container's `/etc/passwd` and `/etc/group`, read inside
/// `root` (the container's layers, or its mounted rootfs). A missing file means no entries; a
/// file that is not a regular file, or too large, is an error.
pub fn resolve_user(user: &str, root: &dyn ReadRoot) -> Result<(u32, u32, Vec<u32>)> {
    let read = |file: &str| -> Result<String> {
        match root.read_file(file, ACCOUNT_FILE_LIMIT) {
            Ok(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
            Err(e) if e.is_not_found() => Ok(String::new()),
            Err(e) => Err(Error::invalid(format!("unable to find user {user}: {e}"))),
        }
    };
    let (u, g) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let passwd = read("/etc/passwd")?;
    let entry = |name: &str| -> Option<(u32, u32)> {
        passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 4 && (f[0] == name || f[2] == name))
                .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
        })
    };
    let (uid, mut gid, name) = if u.is_empty() {
        (0, 0, "root".to_string())
    } else if let Some((uid, gid)) = entry(u) {
        let name = passwd
            .lines()
            .find(|l| l.split(':').nth(2) == Some(&uid.to_string()))
            .and_then(|l| l.split(':').next())
            .unwrap_or(u)
            .to_string();
        (uid, gid, name)
    } else if let Ok(uid) = u.parse::<u32>() {
        (uid, 0, String::new())
    } else {
        return Err(Error::invalid(format!(
            "unable to find user {u}: no matching entries in passwd file"
        )));
    };
    let group = read("/etc/group")?;
    if let Some(g) = g {
        gid = match berth_core::account::gid_of(&group, g) {
            Some(gid) => gid,
            None => g.parse().map_err(|_| {
                Error::invalid(format!(
                    "unable to find group {g}: no matching entries in group file"
                ))
            })?,
        };
    }
    let additional = group
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 4 && !name.is_empty() && f[3].split(',').any(|m| m == name))
                .then(|| f[2].parse::<u32>().ok())?
        })
        .filter(|g| *g != gid)
        .collect();
    Ok((uid, gid, additional))
}

/// `user[:group]` resolved as [`resolve_user`] does, with the `--group-add` groups after the
/// user's own, as Docker's `getUser` gives them to the container and its execs.
pub fn resolve_user_groups(
    user: &str,
    group_add: &[String],
    root: &dyn ReadRoot,
) -> Result<(u32, u32, Vec<u32>)> {
    let (uid, gid, mut groups) = resolve_user(user, root)?;
    if group_add.is_empty() {
        return Ok((uid, gid, groups));
    }
    let text = match root.read_file("/etc/group", ACCOUNT_FILE_LIMIT) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) if e.is_not_found() => String::new(),
        Err(e) => {
            return Err(Error::invalid(format!(
                "unable to find additional groups {group_add:?}: {e}"
            )));
        }
    };
    for g in group_add {
        let extra = added_gid(&text, g)?;
        if !groups.contains(&extra) {
            groups.push(extra);
        }
    }
    Ok((uid, gid, groups))
}

/// One `--group-add` entry: a number is a GID whether `/etc/group` lists it or not, anything
/// else a group name that must be there (moby/sys/user's `GetAdditionalGroups`).
fn added_gid(group_file: &str, g: &str) -> Result<u32> {
    const MAX_ID: i64 = (1 << 31) - 1;
    let range = || Error::invalid(format!("uids and gids must be in range 0-{MAX_ID}"));
    match g.parse::<i64>() {
        Ok(n) => u32::try_from(n)
            .ok()
            .filter(|n| i64::from(*n) <= MAX_ID)
            .ok_or_else(range),
        Err(e)
            if matches!(
                e.kind(),
                std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
            ) =>
        {
            Err(range())
        }
        Err(_) => group_file
            .lines()
            .find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() >= 3 && f[0] == g).then(|| f[2].parse::<u32>().ok())?
            })
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unable to find group {g}: no matching entries in group file"
                ))
            }),
    }
}

/// The cgroup of container `id` under berth's own, relative to each hierarchy's root; one with
/// a `--cgroup-parent` is elsewhere: see [`super::resources::Cgroup::path`].
pub fn cgroup_path(id: &str) -> String {
    format!("/berth/{id}")
}

/// A process's environment as Docker makes it: the default PATH, HOSTNAME and (with a
/// terminal) TERM, replaced or extended by the container's env, then by `extra` (an exec's).
pub fn process_env(spec: &Spec, tty: bool, extra: &[String]) -> Vec<String> {
    let mut env = vec![
        DEFAULT_PATH.to_string(),
        format!("HOSTNAME={}", spec.hostname),
    ];
    if tty {
        env.push("TERM=xterm".into());
    }
    for kv in spec.env.iter().chain(extra) {
        berth_image::config::set_env(&mut env, kv);
    }
    env
}

/// Mounts with fewer path components first, so none hides another (`/a` before `/a/b`).
fn ordered(mounts: &[MountSpec]) -> impl Iterator<Item = &MountSpec> {
    let mut m: Vec<&MountSpec> = mounts.iter().collect();
    m.sort_by_key(|m| m.target.matches('/').count());
    m.into_iter()
}

/// The runtime's form of a mount; `volume` gives a volume's directory on the host.
fn extra_mount(m: &MountSpec, volume: &dyn Fn(&str) -> Result<PathBuf>) -> Result<ExtraMount> {
    let mut options = m.options.clone();
    let (kind, source) = match &m.kind {
        MountKind::Bind {
            source,
            propagation,
            nonrecursive,
        } => {
            options.push(if *nonrecursive { "bind" } else { "rbind" }.into());
            options.push(propagation.as_str().into());
            ("bind", source.clone())
        }
        MountKind::Volume { name, .. } => ("bind", volume(name)?),
        MountKind::Tmpfs => {
            // Docker's defaults, which the mount's own options can undo (`exec`).
            options.insert(0, "noexec".into());
            ("tmpfs", "tmpfs".into())
        }
    };
    Ok(ExtraMount {
        kind: kind.into(),
        source,
        destination: m.target.clone(),
        readonly: m.readonly,
        options,
    })
}

/// The runtime's limits: Docker's defaults for the CFS period and for swap.
pub(crate) fn limits(
    r: &Resources,
    cgroup: &super::resources::Cgroup,
) -> Result<berth_runtime::Resources> {
    let (cpu_quota, cpu_period) = if r.nano_cpus > 0 {
        (r.nano_cpus * 100_000 / 1_000_000_000, 100_000)
    } else if r.cpu_period > 0 {
        (r.cpu_quota, r.cpu_period as u64)
    } else {
        (r.cpu_quota, 100_000)
    };
    let memory_swap = match (r.memory, r.memory_swap) {
        (0, _) => 0,
        (m, 0) => m * 2,
        (_, s) => s,
    };
    Ok(berth_runtime::Resources {
        memory: r.memory,
        memory_swap,
        cpu_quota,
        cpu_period,
        cpu_shares: r.cpu_shares as u64,
        pids_limit: r.pids_limit,
        tuning: cgroup.tuning()?,
    })
}

/// The runtime spec for a container record; `exe` is berth's own binary, the init of `--init`
/// containers; `network` is what the network hook prepared; `defaults` the daemon's.
pub fn run_spec(
    rec: &super::Record,
    defaults: &crate::defaults::ContainerDefaults,
    layers: &dyn ReadRoot,
    files: &super::files::Paths,
    exe: &Path,
    network: Network,
    volume: &dyn Fn(&str) -> Result<PathBuf>,
) -> Result<RunSpec> {
    let spec = &rec.spec;
    let group_add = spec.group_add.as_deref().unwrap_or_default();
    let (uid, gid, additional_gids) = resolve_user_groups(&spec.user, group_add, layers)?;
    let cwd = match spec.working_dir.as_str() {
        "" => "/".to_string(),
        dir => dir.to_string(),
    };
    let mut args = vec![rec.path.clone()];
    args.extend(rec.args.iter().cloned());
    let (devices, device_rules) = super::devices::resolve(spec)?;
    Ok(RunSpec {
        args,
        env: process_env(spec, spec.stdio.tty, &[]),
        cwd,
        uid,
        gid,
        additional_gids,
        hostname: match spec.network {
            NetworkMode::Host => host_name(),
            _ => spec.hostname.clone(),
        },
        tty: spec.stdio.tty,
        readonly_rootfs: spec.readonly_rootfs,
        network,
        // A mount over one of these files replaces it, as in Docker.
        bind_files: [
            (&files.resolv_conf, "/etc/resolv.conf"),
            (&files.hostname, "/etc/hostname"),
            (&files.hosts, "/etc/hosts"),
        ]
        .into_iter()
        .filter(|(_, dst)| !spec.mounts.iter().any(|m| m.target == *dst))
        .map(|(src, dst)| (src.clone(), dst.to_string()))
        .collect(),
        mounts: ordered(&spec.mounts)
            .map(|m| extra_mount(m, volume))
            .collect::<Result<_>>()?,
        shm_size: if spec.shm_size > 0 {
            spec.shm_size
        } else {
            defaults.shm_size
        },
        cgroup_path: spec.cgroup.path(&rec.id),
        resources: limits(&spec.resources, &spec.cgroup)?,
        init: spec
            .init
            .unwrap_or(defaults.init)
            .then(|| exe.to_path_buf()),
        rootfs_propagation: None,
        capabilities: berth_runtime::spec::DEFAULT_CAPS.to_vec(),
        // The daemon's service resolves these.
        seccomp: None,
        no_new_privileges: false,
        writable_cgroups: spec
            .security
            .writable_cgroups
            .unwrap_or(spec.security.privileged),
        masked_paths: privileged_or(&spec.security, &spec.security.masked_paths),
        readonly_paths: privileged_or(&spec.security, &spec.security.readonly_paths),
        privileged: spec.security.privileged,
        apparmor_profile: spec.security.apparmor.clone(),
        devices,
        device_rules,
        sysctls: spec.limits.sysctls(&spec.network),
        // Checked at create; again here, against the daemon as it runs now.
        rlimits: super::limits::Limits {
            ulimits: Some(defaults.ulimits(spec.limits.ulimits.as_deref())),
            ..spec.limits.clone()
        }
        .rlimits()?,
        // Always written, as Docker does: the container does not inherit the daemon's score.
        oom_score_adj: i32::try_from(spec.limits.oom_score_adj).ok(),
        // The daemon's service sets it (`--userns-remap`).
        userns: None,
        userns_path: None,
        // The service resolves the containers it shares them with (`namespaces.rs`).
        shared: Default::default(),
    })
}

/// No paths for a privileged container, else the ones it gave (`None`: Docker's).
fn privileged_or(s: &super::Security, paths: &Option<Vec<String>>) -> Option<Vec<String>> {
    if s.privileged {
        Some(Vec::new())
    } else {
        paths.clone()
    }
}

/// The host's name (a container on the host's network has it).
pub(crate) fn host_name() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::added_gid;

    #[test]
    fn added_groups_are_names_in_the_group_file_or_gids() {
        let file = "root:x:0:\nextra:x:2000:u1\n4242:x:7:\n";
        assert_eq!(added_gid(file, "extra").unwrap(), 2000);
        // A number is a GID, even where a group has it as its name.
        assert_eq!(added_gid(file, "4242").unwrap(), 4242);
        assert_eq!(added_gid(file, "99").unwrap(), 99);
        assert_eq!(
            added_gid(file, "nosuch").unwrap_err().to_string(),
            "unable to find group nosuch: no matching entries in group file"
        );
        for bad in ["-1", "2147483648", "99999999999999999999"] {
            assert_eq!(
                added_gid(file, bad).unwrap_err().to_string(),
                "uids and gids must be in range 0-2147483647",
                "{bad}"
            );
        }
    }
}
