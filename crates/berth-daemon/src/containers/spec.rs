//! From Docker's container config (plus the image's defaults) to what the runtime needs.

use std::path::Path;

use berth_api::container::{Config, CreateRequest, HostConfig};
use berth_core::rootfs::ReadRoot;
use berth_image::RunConfig;
use berth_runtime::runtime::RuntimeConfig;
use berth_runtime::{Network, Resources, RunSpec};

use crate::config::Runtimes;
use crate::error::{Error, Result};

/// The PATH Docker gives containers whose image sets none.
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Docker's checks of the container config, before anything else.
pub fn check_config(req: &CreateRequest) -> Result<()> {
    super::checks::env(&req.config)
}

/// Refuses options berth does not implement, naming them, instead of ignoring them.
pub fn refuse_unsupported(req: &CreateRequest) -> Result<()> {
    let mut bad = berth_api::fields::CONTAINER_CONFIG.refused(&req.config.rest);
    bad.extend(berth_api::fields::HOST_CONFIG.refused(&req.host_config.rest));
    if !bad.is_empty() {
        return Err(Error::new(
            berth_core::ErrorKind::NotImplemented,
            format!("berth does not support {} yet", bad.join(", ")),
        ));
    }
    if req
        .config
        .healthcheck
        .as_ref()
        .is_some_and(|h| !berth_api::is_unset(h))
    {
        return Err(Error::new(
            berth_core::ErrorKind::NotImplemented,
            "berth does not support healthchecks yet",
        ));
    }
    Ok(())
}

/// Validates host settings and applies defaults (the daemon's default runtime among them);
/// bridge networking and restart policies are refused with a message saying what works today.
pub fn validate_host_config(mut h: HostConfig, runtimes: &Runtimes) -> Result<HostConfig> {
    // 0 and -1 both mean unlimited; Docker keeps that as no limit at all.
    if h.pids_limit.is_some_and(|p| p <= 0) {
        h.pids_limit = None;
    }
    match h.network_mode.as_str() {
        "" | "default" => h.network_mode = "none".into(),
        "none" | "host" => {}
        "bridge" => {
            return Err(Error::new(
                berth_core::ErrorKind::NotImplemented,
                "bridge networking is not implemented in berth yet: use --network none or --network host",
            ));
        }
        other => {
            return Err(Error::new(
                berth_core::ErrorKind::NotImplemented,
                format!(
                    "network mode \"{other}\" is not supported by berth yet: use --network none or --network host"
                ),
            ));
        }
    }
    if !matches!(h.restart_policy.name.as_str(), "" | "no") {
        return Err(Error::new(
            berth_core::ErrorKind::NotImplemented,
            format!(
                "restart policy \"{}\" is not supported by berth yet",
                h.restart_policy.name
            ),
        ));
    }
    if h.restart_policy.name.is_empty() {
        h.restart_policy.name = "no".into();
    }
    if !matches!(h.log_config.kind.as_str(), "" | "json-file") {
        return Err(Error::invalid(format!(
            "logging driver \"{}\" is not supported by berth: only json-file",
            h.log_config.kind
        )));
    }
    h.log_config.kind = "json-file".into();
    if h.log_config.config.as_ref().is_some_and(|c| !c.is_empty()) {
        return Err(Error::new(
            berth_core::ErrorKind::NotImplemented,
            "berth does not support log options yet",
        ));
    }
    for (field, value) in [
        ("IpcMode", &h.ipc_mode),
        ("PidMode", &h.pid_mode),
        ("UTSMode", &h.uts_mode),
    ] {
        if !matches!(value.as_str(), "" | "private" | "shareable") {
            return Err(Error::new(
                berth_core::ErrorKind::NotImplemented,
                format!("berth does not support HostConfig.{field}={value} yet"),
            ));
        }
    }
    // Recorded by name, as Docker does: inspect shows the runtime a container runs with.
    if h.runtime.is_empty() {
        h.runtime = runtimes.default_name().to_string();
    }
    runtime(&h.runtime, runtimes)?;
    if !matches!(h.cgroupns_mode.as_str(), "" | "private") {
        return Err(Error::new(
            berth_core::ErrorKind::NotImplemented,
            format!(
                "berth does not support HostConfig.CgroupnsMode={} yet",
                h.cgroupns_mode
            ),
        ));
    }
    if h.privileged {
        return Err(Error::new(
            berth_core::ErrorKind::NotImplemented,
            "berth does not support privileged containers yet",
        ));
    }
    super::checks::resources(&h)?;
    if h.memory_swappiness.is_some_and(|s| s != -1) {
        return Err(Error::new(
            berth_core::ErrorKind::NotImplemented,
            "berth does not support HostConfig.MemorySwappiness yet",
        ));
    }
    // A limit the host cannot enforce is refused, not dropped (Docker warns and discards it).
    let cg = berth_runtime::cgroup::controllers();
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
    Ok(h)
}

/// The runtime called `name` (`""` for the default); Docker's error for one the daemon does not
/// have.
pub fn runtime(name: &str, runtimes: &Runtimes) -> Result<RuntimeConfig> {
    runtimes
        .get(name)
        .ok_or_else(|| Error::invalid(format!("unknown or invalid runtime name: {name}")))
}

/// Merges the request with the image's defaults as Docker does; returns the effective config and
/// the command (path, args).
pub fn merge(id: &str, req: &Config, image: &RunConfig) -> Result<(Config, String, Vec<String>)> {
    let mut c = req.clone();
    c.rest.clear();
    let mut env: Vec<String> = image.env.clone().unwrap_or_default();
    berth_image::config::merge_env(&mut env, req.env.as_deref().unwrap_or_default());
    c.env = Some(env);
    // An entrypoint given at create time discards the image's cmd as well.
    let (entrypoint, cmd) = match &req.entrypoint {
        Some(ep) => {
            let ep: Vec<String> = if ep.len() == 1 && ep[0].is_empty() {
                vec![]
            } else {
                ep.clone()
            };
            (ep, req.cmd.clone().unwrap_or_default())
        }
        None => {
            let cmd = match &req.cmd {
                Some(cmd) if !cmd.is_empty() => cmd.clone(),
                _ => image.cmd.clone().unwrap_or_default(),
            };
            (image.entrypoint.clone().unwrap_or_default(), cmd)
        }
    };
    let argv: Vec<String> = entrypoint.iter().chain(cmd.iter()).cloned().collect();
    if argv.is_empty() {
        return Err(Error::invalid("No command specified"));
    }
    c.entrypoint = (!entrypoint.is_empty()).then_some(entrypoint);
    c.cmd = (!cmd.is_empty()).then_some(cmd);
    if c.working_dir.is_empty() {
        c.working_dir = image.working_dir.clone();
    }
    if !c.working_dir.is_empty() && !c.working_dir.starts_with('/') {
        return Err(Error::invalid(format!(
            "the working directory '{}' is invalid, it needs to be an absolute path",
            c.working_dir
        )));
    }
    if c.user.is_empty() {
        c.user = image.user.clone();
    }
    let mut labels = image.labels.clone().unwrap_or_default();
    labels.extend(req.labels.clone().unwrap_or_default());
    c.labels = Some(labels);
    if c.stop_signal.is_none() {
        c.stop_signal = image.stop_signal.clone();
    }
    if c.hostname.is_empty() {
        c.hostname = id[..12].to_string();
    }
    if c.exposed_ports.is_none() {
        c.exposed_ports = image.exposed_ports.as_ref().map(|p| {
            p.keys()
                .map(|k| (k.clone(), serde_json::json!({})))
                .collect()
        });
    }
    if c.volumes.is_none() {
        c.volumes = image.volumes.as_ref().map(|v| {
            v.keys()
                .map(|k| (k.clone(), serde_json::json!({})))
                .collect()
        });
    }
    if c.on_build.is_none() {
        c.on_build = image.on_build.clone();
    }
    let path = argv[0].clone();
    Ok((c, path, argv[1..].to_vec()))
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
        gid = match group.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 3 && (f[0] == g || f[2] == g)).then(|| f[2].parse::<u32>().ok())?
        }) {
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

/// The cgroup of container `id`, relative to each hierarchy's root.
pub fn cgroup_path(id: &str) -> String {
    format!("/berth/{id}")
}

/// A process's environment as Docker makes it: the default PATH, HOSTNAME and (with a
/// terminal) TERM, replaced or extended by the container's env, then by `extra` (an exec's).
pub fn process_env(c: &Config, tty: bool, extra: &[String]) -> Vec<String> {
    let mut env = vec![DEFAULT_PATH.to_string(), format!("HOSTNAME={}", c.hostname)];
    if tty {
        env.push("TERM=xterm".into());
    }
    for kv in c.env.iter().flatten().chain(extra) {
        berth_image::config::set_env(&mut env, kv);
    }
    env
}

/// The runtime spec for a container record; `exe` is berth's own binary, the init of `--init`
/// containers.
pub fn run_spec(
    rec: &super::Record,
    layers: &dyn ReadRoot,
    files: &super::files::Paths,
    exe: &Path,
) -> Result<RunSpec> {
    let h = &rec.host_config;
    let (uid, gid, additional_gids) = resolve_user(&rec.config.user, layers)?;
    let cwd = if rec.config.working_dir.is_empty() {
        "/".to_string()
    } else {
        rec.config.working_dir.clone()
    };
    let mut args = vec![rec.path.clone()];
    args.extend(rec.args.iter().cloned());
    let env = process_env(&rec.config, rec.config.tty, &[]);
    let (cpu_quota, cpu_period) = if h.nano_cpus > 0 {
        (h.nano_cpus * 100_000 / 1_000_000_000, 100_000)
    } else {
        (
            h.cpu_quota,
            if h.cpu_period > 0 {
                h.cpu_period as u64
            } else {
                100_000
            },
        )
    };
    let memory_swap = match (h.memory, h.memory_swap) {
        (0, _) => 0,
        (m, 0) => m * 2,
        (_, s) => s,
    };
    let network = if h.network_mode == "host" {
        Network::Host
    } else {
        Network::None
    };
    Ok(RunSpec {
        args,
        env,
        cwd,
        uid,
        gid,
        additional_gids,
        hostname: if network == Network::Host {
            hostname()
        } else {
            rec.config.hostname.clone()
        },
        tty: rec.config.tty,
        readonly_rootfs: h.readonly_rootfs,
        network,
        bind_files: vec![
            (files.resolv_conf.clone(), "/etc/resolv.conf".into()),
            (files.hostname.clone(), "/etc/hostname".into()),
            (files.hosts.clone(), "/etc/hosts".into()),
        ],
        mounts: rec.build_mounts.clone(),
        shm_size: if h.shm_size > 0 {
            h.shm_size
        } else {
            64 * 1024 * 1024
        },
        cgroup_path: cgroup_path(&rec.id),
        resources: Resources {
            memory: h.memory,
            memory_swap,
            cpu_quota,
            cpu_period,
            cpu_shares: h.cpu_shares as u64,
            pids_limit: h.pids_limit,
        },
        init: (h.init == Some(true)).then(|| exe.to_path_buf()),
    })
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default()
}
