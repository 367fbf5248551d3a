//! A container's spec as Docker's `Config` and `HostConfig` of inspect.

use berth_api::container::{
    BindOptions, Config, Driver, HostConfig, LogConfig, Mount, MountPoint,
    RestartPolicy as RestartPolicyConfig, Set, TmpfsOptions, VolumeOptions,
};

use crate::containers::{MountKind, MountOrigin, MountSpec, Propagation, RestartPolicy, Spec};

fn set(keys: &Option<Vec<String>>) -> Option<Set> {
    keys.as_ref().map(|k| {
        k.iter()
            .map(|k| (k.clone(), serde_json::json!({})))
            .collect()
    })
}

/// Docker's zero values for the fields `Family` defines that `typed` does not serialize.
fn zeros<T: serde::Serialize>(
    typed: &T,
    family: &berth_api::fields::Family,
    skip_ignored: bool,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    match serde_json::to_value(typed) {
        Ok(serde_json::Value::Object(m)) => family.zeros(&m, skip_ignored),
        _ => Default::default(),
    }
}

/// `HostConfig` of inspect, with Docker's zero values for what berth does not have: inspect
/// shows Go's whole struct (all but `Annotations`, which Docker omits when empty), and clients
/// index into it. (`Config`'s fields that berth lacks are all omitted when empty by Docker.)
pub fn host_config(s: &Spec, name: &str) -> HostConfig {
    let mut h = typed_host_config(s);
    let links: Vec<String> = s
        .net
        .links
        .iter()
        .map(|l| format!("/{}:/{name}/{}", l.name, l.alias))
        .collect();
    h.links = (!links.is_empty()).then_some(links);
    h.rest = zeros(&h, &berth_api::fields::HOST_CONFIG, false);
    // Omitted when empty, as Docker does.
    for key in ["Annotations", "Mounts", "Tmpfs", "Sysctls"] {
        h.rest.remove(key);
    }
    h
}

/// `Config` of inspect: the effective config, image defaults merged in.
pub fn config(s: &Spec) -> Config {
    Config {
        hostname: s.hostname.clone(),
        domainname: s.domainname.clone(),
        user: s.user.clone(),
        attach_stdin: s.stdio.attach_stdin,
        attach_stdout: s.stdio.attach_stdout,
        attach_stderr: s.stdio.attach_stderr,
        exposed_ports: set(&s.exposed_ports),
        tty: s.stdio.tty,
        open_stdin: s.stdio.open_stdin,
        stdin_once: s.stdio.stdin_once,
        env: Some(s.env.clone()),
        cmd: s.cmd.clone(),
        healthcheck: s
            .healthcheck
            .as_ref()
            .map(|h| serde_json::to_value(h).expect("healthcheck serializes")),
        image: s.image.clone(),
        volumes: set(&s.volumes),
        working_dir: s.working_dir.clone(),
        entrypoint: s.entrypoint.clone(),
        on_build: s.on_build.clone(),
        labels: Some(s.labels.clone()),
        stop_signal: s.stop_signal.clone(),
        stop_timeout: s.stop_timeout,
        shell: s.shell.clone(),
        mac_address: s.net.mac_address.clone(),
        rest: Default::default(),
    }
}

fn typed_host_config(s: &Spec) -> HostConfig {
    let r = &s.resources;
    let (name, max) = match s.restart {
        RestartPolicy::No => ("no", 0),
        RestartPolicy::Always => ("always", 0),
        RestartPolicy::UnlessStopped => ("unless-stopped", 0),
        RestartPolicy::OnFailure { max_retries } => ("on-failure", i64::from(max_retries)),
    };
    HostConfig {
        network_mode: s.network.as_str().into(),
        auto_remove: s.auto_remove,
        restart_policy: RestartPolicyConfig {
            name: name.into(),
            maximum_retry_count: max,
        },
        log_config: LogConfig {
            kind: s.log.driver().into(),
            config: Some(s.log.opts.clone()),
        },
        memory: r.memory,
        memory_swap: r.memory_swap,
        nano_cpus: r.nano_cpus,
        cpu_shares: r.cpu_shares,
        cpu_period: r.cpu_period,
        cpu_quota: r.cpu_quota,
        pids_limit: r.pids_limit,
        init: s.init,
        console_size: s.console_size,
        ipc_mode: s.namespaces.ipc.as_docker(),
        pid_mode: s.namespaces.pid.as_docker(),
        uts_mode: if s.namespaces.uts_host { "host" } else { "" }.into(),
        cgroupns_mode: s.namespaces.cgroupns.as_str().into(),
        runtime: s.runtime.clone(),
        shm_size: s.shm_size,
        readonly_rootfs: s.readonly_rootfs,
        privileged: s.security.privileged,
        userns_mode: s.security.userns_mode.clone(),
        masked_paths: paths(
            s,
            &s.security.masked_paths,
            berth_runtime::spec::default_masked_paths,
        ),
        readonly_paths: paths(
            s,
            &s.security.readonly_paths,
            berth_runtime::spec::default_readonly_paths,
        ),
        security_opt: s.security.options.clone(),
        cap_add: some(&s.security.cap_add),
        cap_drop: some(&s.security.cap_drop),
        binds: binds(s),
        mounts: mounts(s),
        tmpfs: tmpfs(s),
        volumes_from: (!s.volumes_from.is_empty())
            .then(|| s.volumes_from.iter().map(|v| v.spec.clone()).collect()),
        volume_driver: s.volume_driver.clone(),
        // Empty ones are null, as Docker shows what an API client left out.
        dns: some(&s.net.dns),
        dns_options: some(&s.net.dns_options),
        dns_search: some(&s.net.dns_search),
        extra_hosts: some(&s.net.extra_hosts),
        links: None,
        port_bindings: (!s.net.ports.is_empty()).then(|| port_bindings(s)),
        publish_all_ports: s.net.publish_all,
        devices: s.devices.as_ref().map(|list| {
            list.iter()
                .map(|d| berth_api::container::DeviceMapping {
                    path_on_host: d.path_on_host.clone(),
                    path_in_container: d.path_in_container.clone(),
                    cgroup_permissions: d.cgroup_permissions.clone(),
                })
                .collect()
        }),
        device_cgroup_rules: s.device_cgroup_rules.clone(),
        device_requests: None,
        sysctls: (!s.limits.sysctls.is_empty()).then(|| s.limits.sysctls.clone()),
        ulimits: s.limits.ulimits.as_ref().map(|list| {
            list.iter()
                .map(|u| berth_api::container::Ulimit {
                    name: u.name.clone(),
                    hard: u.hard,
                    soft: u.soft,
                })
                .collect()
        }),
        oom_score_adj: s.limits.oom_score_adj,
        group_add: s.group_add.clone(),
        rest: Default::default(),
        ..super::resources::host_config(&s.cgroup)
    }
}

/// `MaskedPaths`/`ReadonlyPaths` as Docker records them: null when privileged, else the
/// container's or the defaults.
fn paths(
    s: &Spec,
    given: &Option<Vec<String>>,
    defaults: fn() -> Vec<String>,
) -> Option<Vec<String>> {
    if s.security.privileged {
        return None;
    }
    Some(given.clone().unwrap_or_else(defaults))
}

fn some(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

/// `HostConfig.PortBindings` as asked for.
fn port_bindings(s: &Spec) -> berth_api::container::PortMap {
    s.net
        .ports
        .iter()
        .map(|(k, v)| {
            let list = v
                .iter()
                .map(|b| berth_api::container::PortBinding {
                    host_ip: b.host_ip.clone(),
                    host_port: b.host_port.clone(),
                })
                .collect();
            (k.clone(), Some(list))
        })
        .collect()
}

/// `HostConfig.Binds`: the `-v` strings as given (null when none, as Docker shows it).
fn binds(s: &Spec) -> Option<Vec<String>> {
    let b: Vec<String> = s
        .mounts
        .iter()
        .filter_map(|m| match &m.origin {
            MountOrigin::Bind { spec, .. } => Some(spec.clone()),
            _ => None,
        })
        .collect();
    (!b.is_empty()).then_some(b)
}

/// `HostConfig.Tmpfs`, omitted when empty.
fn tmpfs(s: &Spec) -> Option<std::collections::BTreeMap<String, String>> {
    let t: std::collections::BTreeMap<String, String> = s
        .mounts
        .iter()
        .filter_map(|m| match &m.origin {
            MountOrigin::Tmpfs(options) => Some((m.target.clone(), options.clone())),
            _ => None,
        })
        .collect();
    (!t.is_empty()).then_some(t)
}

/// `HostConfig.Mounts`: the `--mount` entries as Docker echoes them, omitted when empty.
fn mounts(s: &Spec) -> Option<Vec<Mount>> {
    let m: Vec<Mount> = s.mounts.iter().filter_map(mount_entry).collect();
    (!m.is_empty()).then_some(m)
}

fn mount_entry(m: &MountSpec) -> Option<Mount> {
    let MountOrigin::Mount { labels, driver } = &m.origin else {
        return None;
    };
    let mut out = Mount {
        target: m.target.clone(),
        read_only: m.readonly,
        ..Default::default()
    };
    match &m.kind {
        MountKind::Bind {
            source,
            propagation,
            nonrecursive,
        } => {
            out.r#type = "bind".into();
            out.source = source.display().to_string();
            let shown = *propagation != Propagation::default() || *nonrecursive;
            out.bind_options = shown.then(|| BindOptions {
                propagation: propagation.as_str().into(),
                non_recursive: *nonrecursive,
                rest: Default::default(),
            });
        }
        MountKind::Volume {
            name,
            anonymous,
            no_copy,
        } => {
            out.r#type = "volume".into();
            if !anonymous {
                out.source = name.clone();
            }
            let shown = *no_copy || !labels.is_empty() || driver.is_some();
            out.volume_options = shown.then(|| VolumeOptions {
                no_copy: *no_copy,
                labels: (!labels.is_empty()).then(|| labels.clone()),
                driver_config: driver.as_ref().map(|(name, options)| Driver {
                    name: name.clone(),
                    options: (!options.is_empty()).then(|| options.clone()),
                }),
                rest: Default::default(),
            });
        }
        MountKind::Tmpfs => {
            out.r#type = "tmpfs".into();
            let opt = |k: &str| m.options.iter().find_map(|o| o.strip_prefix(k));
            let t = TmpfsOptions {
                size_bytes: opt("size=").and_then(|v| v.parse().ok()).unwrap_or(0),
                mode: opt("mode=")
                    .and_then(|v| u32::from_str_radix(v, 8).ok())
                    .unwrap_or(0),
                rest: Default::default(),
            };
            out.tmpfs_options = (t != TmpfsOptions::default()).then_some(t);
        }
    }
    Some(out)
}

/// Inspect's `Mounts`: each mount as mounted, `--tmpfs` entries aside (Docker lists them only in
/// `HostConfig.Tmpfs`); `volume` gives a volume's directory.
pub fn mount_points(s: &Spec, volume: &dyn Fn(&str) -> String) -> Vec<MountPoint> {
    s.mounts
        .iter()
        .filter(|m| !matches!(m.origin, MountOrigin::Tmpfs(_) | MountOrigin::Build))
        .map(|m| {
            let mode = match &m.origin {
                MountOrigin::Bind { mode, .. } => mode.clone(),
                _ => String::new(),
            };
            let mut p = MountPoint {
                destination: m.target.clone(),
                rw: !m.readonly,
                ..Default::default()
            };
            match &m.kind {
                MountKind::Bind {
                    source,
                    propagation,
                    ..
                } => {
                    p.r#type = "bind".into();
                    p.source = source.display().to_string();
                    p.propagation = propagation.as_str().into();
                    p.mode = mode;
                }
                MountKind::Volume { name, .. } => {
                    p.r#type = "volume".into();
                    p.name = name.clone();
                    p.source = volume(name);
                    p.driver = "local".into();
                    // Docker marks a named local volume `z` unless a mode was given.
                    p.mode = match (&m.origin, mode.is_empty()) {
                        (MountOrigin::Bind { .. } | MountOrigin::Mount { .. }, true) => "z".into(),
                        _ => mode,
                    };
                }
                MountKind::Tmpfs => p.r#type = "tmpfs".into(),
            }
            p
        })
        .collect()
}
