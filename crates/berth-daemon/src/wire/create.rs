//! `POST /containers/create`: Docker's request to a [`Spec`], with Docker's checks in Docker's
//! order, then berth's refusals of what it cannot honour, each naming the field.

use berth_api::container::{
    Config, CreateRequest, HostConfig, RestartPolicy as RestartPolicyConfig,
};

use crate::config::DaemonConfig;
use crate::containers::limits::{Limits, Ulimit};
use crate::containers::logging::LogSpec;
use crate::containers::{NetworkMode, Resources, RestartPolicy, Spec, Stdio};
use crate::error::{Error, Result};

/// The spec of a create request and Docker's warnings about it, or why it is refused, with
/// the daemon's runtimes and defaults (log driver, shm size, namespace modes).
pub fn spec(req: CreateRequest, cfg: &DaemonConfig) -> Result<(Spec, Vec<String>)> {
    let (runtimes, logging) = (&cfg.runtimes, &cfg.logging);
    if req.config.image.is_empty() {
        return Err(Error::invalid(
            "Config cannot be empty in order to create a container",
        ));
    }
    super::namespaces::check_hostname(&req)?;
    check_config(&req)?;
    refuse_unsupported(&req)?;
    check_host_config(&req.host_config)?;
    let mut spec = from_docker(&req.config, &req.host_config);
    spec.namespaces = super::namespaces::spec(&req, &cfg.defaults)?;
    if spec.shm_size == 0 {
        spec.shm_size = cfg.defaults.shm_size;
    }
    if spec.cgroup.parent.is_empty() {
        spec.cgroup.daemon_parent = cfg.defaults.cgroup_parent.clone();
    }
    let log = &req.host_config.log_config;
    spec.log = LogSpec::merged(&log.kind, log.config.as_ref(), logging)?;
    (spec.mounts, spec.volumes_from) = super::mounts::requested(&req.host_config)?;
    spec.network = network_mode(&req.host_config.network_mode)?;
    spec.net = super::net::spec(&req, &spec.network)?;
    spec.restart = restart_policy(&req.host_config.restart_policy)?;
    spec.healthcheck = super::health::requested(&req.config.healthcheck)?;
    super::health::action(&spec.labels)?;
    if spec.auto_remove && spec.restart != RestartPolicy::No {
        return Err(Error::invalid(
            "can't create 'AutoRemove' container with restart policy",
        ));
    }
    spec.security = super::security::from_host_config(&req.host_config)?;
    spec.security.userns_mode = crate::userns::mode(&req.host_config.userns_mode)?;
    // Recorded by name, as Docker does: inspect shows the runtime a container runs with.
    if spec.runtime.is_empty() {
        spec.runtime = runtimes.default_name().to_string();
    }
    let runtime = crate::containers::spec::runtime(&spec.runtime, runtimes)?;
    (spec.devices, spec.device_cgroup_rules) =
        super::devices::requested(&req.host_config, &runtime)?;
    crate::containers::spec::check_host_support(&spec.resources)?;
    let warnings = spec.cgroup.check(spec.resources.memory)?;
    spec.limits.check(&spec.network)?;
    Ok((spec, warnings))
}

/// The spec Docker's config and host config describe, checked or not (a record of an older
/// berth was checked when it was made).
pub fn from_docker(c: &Config, h: &HostConfig) -> Spec {
    let keys =
        |m: &Option<berth_api::container::Set>| m.as_ref().map(|m| m.keys().cloned().collect());
    Spec {
        image: c.image.clone(),
        platform: None,
        entrypoint: c.entrypoint.as_ref().map(|ep| match ep.as_slice() {
            // `--entrypoint ""`: no entrypoint at all.
            [only] if only.is_empty() => Vec::new(),
            ep => ep.to_vec(),
        }),
        cmd: c.cmd.clone(),
        env: c.env.clone().unwrap_or_default(),
        working_dir: c.working_dir.clone(),
        user: c.user.clone(),
        group_add: h.group_add.clone(),
        hostname: c.hostname.clone(),
        domainname: c.domainname.clone(),
        labels: c.labels.clone().unwrap_or_default(),
        stdio: Stdio {
            attach_stdin: c.attach_stdin,
            attach_stdout: c.attach_stdout,
            attach_stderr: c.attach_stderr,
            tty: c.tty,
            open_stdin: c.open_stdin,
            stdin_once: c.stdin_once,
        },
        stop_signal: c.stop_signal.clone(),
        stop_timeout: c.stop_timeout,
        exposed_ports: keys(&c.exposed_ports),
        volumes: keys(&c.volumes),
        on_build: c.on_build.clone(),
        shell: c.shell.clone(),
        network: if h.network_mode == "host" {
            NetworkMode::Host
        } else {
            NetworkMode::None
        },
        net: Default::default(),
        restart: RestartPolicy::No,
        resources: Resources {
            memory: h.memory,
            memory_swap: h.memory_swap,
            nano_cpus: h.nano_cpus,
            cpu_shares: h.cpu_shares,
            cpu_period: h.cpu_period,
            cpu_quota: h.cpu_quota,
            // 0 and -1 both mean unlimited; Docker keeps that as no limit at all.
            pids_limit: h.pids_limit.filter(|p| *p > 0),
        },
        mounts: Vec::new(),
        volumes_from: Vec::new(),
        volume_driver: h.volume_driver.clone(),
        init: h.init,
        auto_remove: h.auto_remove,
        readonly_rootfs: h.readonly_rootfs,
        shm_size: h.shm_size,
        console_size: h.console_size,
        runtime: h.runtime.clone(),
        // Read, with its checks, by `spec`.
        security: Default::default(),
        devices: None,
        device_cgroup_rules: None,
        limits: Limits {
            sysctls: h.sysctls.clone().unwrap_or_default(),
            ulimits: h.ulimits.as_ref().map(|list| {
                list.iter()
                    .map(|u| Ulimit {
                        name: u.name.clone(),
                        soft: u.soft,
                        hard: u.hard,
                    })
                    .collect()
            }),
            oom_score_adj: h.oom_score_adj,
        },
        cgroup: super::resources::cgroup(h),
        // Read, with its checks, by `spec`.
        healthcheck: None,
        // Read, with their checks, by `spec`.
        namespaces: Default::default(),
        log: LogSpec {
            driver: h.log_config.kind.clone(),
            opts: h.log_config.config.clone().unwrap_or_default(),
        },
    }
}

/// What a client should know about the confinement it gets: a privileged container lacks the
/// capabilities the daemon itself does not hold.
pub fn security_warnings(spec: &Spec) -> Vec<String> {
    let missing = berth_runtime::capabilities::Available::host().missing();
    if !spec.security.privileged || missing.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "The daemon does not hold {}: the privileged container gets every other capability",
        missing.join(", ")
    )]
}

/// Docker's checks of the container config, before anything else.
pub fn check_config(req: &CreateRequest) -> Result<()> {
    super::checks::env(&req.config)?;
    super::checks::strings(&req.config)
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
    Ok(())
}

/// Docker's network mode. `default` is the default bridge (or, on a daemon without one, no
/// network: the caller decides); `container:<name|id>` another container's namespace; a name
/// other than `none` and `host` is a network of the network service. The caller resolves
/// names.
pub fn network_mode(mode: &str) -> Result<NetworkMode> {
    match mode {
        "none" => Ok(NetworkMode::None),
        "host" => Ok(NetworkMode::Host),
        // The default bridge, kept as `default` for inspect, as Docker does.
        "" | "default" => Ok(NetworkMode::Network {
            id: String::new(),
            name: "default".into(),
        }),
        other if other.starts_with("container:") => match &other["container:".len()..] {
            "" => Err(Error::invalid(format!("invalid network mode: {other}"))),
            id => Ok(NetworkMode::Container {
                mode: other.to_string(),
                id: id.to_string(),
            }),
        },
        other => Ok(NetworkMode::Network {
            id: String::new(),
            name: other.to_string(),
        }),
    }
}

/// Docker's restart policy, with its validation (`""` is the pre-25 default: no restarts).
pub fn restart_policy(p: &RestartPolicyConfig) -> Result<RestartPolicy> {
    let count = p.maximum_retry_count;
    let policy = match p.name.as_str() {
        "" => return Ok(RestartPolicy::No),
        "no" => RestartPolicy::No,
        "always" => RestartPolicy::Always,
        "unless-stopped" => RestartPolicy::UnlessStopped,
        "on-failure" => {
            return Ok(RestartPolicy::OnFailure {
                max_retries: u32::try_from(count).map_err(|_| {
                    Error::invalid("invalid restart policy: maximum retry count cannot be negative")
                })?,
            });
        }
        other => {
            return Err(Error::invalid(format!(
                "invalid restart policy: unknown policy '{other}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
            )));
        }
    };
    if count != 0 {
        let negative = if count < 0 {
            " and cannot be negative"
        } else {
            ""
        };
        return Err(Error::invalid(format!(
            "invalid restart policy: maximum retry count can only be used with 'on-failure'{negative}"
        )));
    }
    Ok(policy)
}

/// The limits of a build's RUN steps, given as a host config: they take a container's checks
/// (Docker creates each step's container with them).
pub fn step_limits(h: &HostConfig) -> Result<crate::build::StepLimits> {
    check_host_config(h)?;
    let spec = from_docker(&Config::default(), h);
    crate::containers::spec::check_host_support(&spec.resources)?;
    let mut cgroup = spec.cgroup;
    cgroup.check(spec.resources.memory)?;
    spec.limits.check(&NetworkMode::None)?;
    Ok(crate::build::StepLimits {
        resources: spec.resources,
        cgroup,
        ulimits: spec.limits.ulimits,
    })
}

/// Refuses the host settings berth cannot honour; Docker's range checks first.
fn check_host_config(h: &HostConfig) -> Result<()> {
    super::checks::resources(h)?;
    super::resources::isolation(&h.isolation)
}
