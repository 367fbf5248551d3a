//! A service as the Engine API's `POST /containers/create` body, as Compose v2 builds it: the
//! image's config overridden by the service's keys, compose's labels, the first network at
//! create (the others are connected after), mounts and ports in the API's forms.

use std::collections::BTreeMap;

use berth_api::container::{
    Config, CreateRequest, DeviceMapping, EndpointIpamConfig, EndpointSettings, HostConfig,
    LogConfig, NetworkingConfig, PortBinding, RestartPolicy, Ulimit,
};
use serde_json::{Value, json};

use super::error::{Error, project as err};
use super::labels;
use super::resources::resources;
use crate::model::{Condition, Project, Restart, Service, ServiceNetwork};

/// What a container of a service needs besides the service.
#[derive(Clone, Debug, Default)]
pub struct Target {
    /// The replica's number; 0 for a one-off container.
    pub number: u32,
    /// The image reference to create from.
    pub image: String,
    /// The image's ID, for the image label.
    pub image_id: String,
    /// The service's config hash.
    pub hash: String,
    /// The project's directory.
    pub working_dir: String,
    /// The project's files, comma-separated.
    pub config_files: String,
    /// `--env-file`s, comma-separated, or empty.
    pub env_files: String,
    /// `network_mode`/`ipc`/`pid` `service:x` resolved to `container:ID`.
    pub shared: BTreeMap<String, String>,
    /// Legacy links resolved to `container:alias`.
    pub links: Vec<String>,
    /// Add the service's aliases on its networks (false for `run` without `--use-aliases`).
    pub use_aliases: bool,
    /// Anonymous volumes of the container being replaced, by target: the new one mounts them.
    pub inherited: BTreeMap<String, String>,
}

/// The engine's name of project network `key`.
pub fn network_name(p: &Project, key: &str) -> String {
    match p.networks.get(key).and_then(|n| n.name.clone()) {
        Some(n) => n,
        None => format!("{}_{key}", p.name),
    }
}

/// The engine's name of project volume `key`.
pub fn volume_name(p: &Project, key: &str) -> String {
    match p.volumes.get(key).and_then(|v| v.name.clone()) {
        Some(n) => n,
        None => format!("{}_{key}", p.name),
    }
}

/// The service's networks, by priority (highest first) then name, as Compose orders them.
pub fn networks_by_priority(s: &Service) -> Vec<(&String, Option<&ServiceNetwork>)> {
    let mut v: Vec<_> = s.networks.iter().map(|(k, n)| (k, n.as_ref())).collect();
    v.sort_by(|a, b| {
        let pa = a.1.map_or(0, |n| n.priority);
        let pb = b.1.map_or(0, |n| n.priority);
        pb.cmp(&pa).then_with(|| a.0.cmp(b.0))
    });
    v
}

/// The body of create for replica `t.number` of `s`.
pub fn create_request(p: &Project, s: &Service, t: &Target) -> Result<CreateRequest, Error> {
    let (network_mode, networking) = networking(p, s, t)?;
    let mut host = host_config(p, s, t)?;
    host.network_mode = network_mode;
    Ok(CreateRequest {
        config: config(p, s, t),
        host_config: host,
        networking_config: networking,
    })
}

fn labels_of(p: &Project, s: &Service, t: &Target) -> BTreeMap<String, String> {
    let mut l: BTreeMap<String, String> = s
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let oneoff = if t.number == 0 { "True" } else { "False" };
    let deps: Vec<String> = s
        .depends_on
        .iter()
        .map(|(d, c)| format!("{d}:{}:{}", c.condition.as_str(), c.restart))
        .collect();
    for (k, v) in [
        (labels::PROJECT, p.name.clone()),
        (labels::SERVICE, s.name.clone()),
        (labels::ONEOFF, oneoff.to_string()),
        (labels::CONFIG_HASH, t.hash.clone()),
        (labels::DEPENDS_ON, deps.join(",")),
        (labels::IMAGE, t.image_id.clone()),
        (labels::VERSION, labels::COMPOSE_VERSION.to_string()),
        (labels::WORKING_DIR, t.working_dir.clone()),
        (labels::CONFIG_FILES, t.config_files.clone()),
    ] {
        l.insert(k.to_string(), v);
    }
    if t.number > 0 {
        l.insert(labels::CONTAINER_NUMBER.into(), t.number.to_string());
    }
    if !t.env_files.is_empty() {
        l.insert(labels::ENVIRONMENT_FILE.into(), t.env_files.clone());
    }
    l
}

fn config(p: &Project, s: &Service, t: &Target) -> Config {
    let env: Vec<String> = s
        .environment
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
    Config {
        hostname: s.hostname.clone().unwrap_or_default(),
        domainname: s.domainname.clone().unwrap_or_default(),
        user: s.user.clone().unwrap_or_default(),
        attach_stdout: true,
        attach_stderr: true,
        exposed_ports: exposed_ports(s),
        tty: s.tty,
        open_stdin: s.stdin_open,
        env: Some(env),
        cmd: s.command.clone(),
        healthcheck: s.healthcheck.as_ref().map(healthcheck),
        image: t.image.clone(),
        working_dir: s.working_dir.clone().unwrap_or_default(),
        entrypoint: s.entrypoint.clone(),
        labels: Some(labels_of(p, s, t)),
        stop_signal: s.stop_signal.clone(),
        stop_timeout: s.stop_grace_period.map(|d| d.0.as_secs() as i64),
        ..Config::default()
    }
}

fn healthcheck(h: &crate::model::Healthcheck) -> Value {
    if h.disable {
        return json!({ "Test": ["NONE"] });
    }
    let ns = |d: Option<crate::model::Duration>| d.map_or(0, |d| d.0.as_nanos() as u64);
    json!({
        "Test": h.test.clone().unwrap_or_default(),
        "Interval": ns(h.interval), "Timeout": ns(h.timeout),
        "StartPeriod": ns(h.start_period), "StartInterval": ns(h.start_interval),
        "Retries": h.retries.unwrap_or(0),
    })
}

/// `80/tcp` for every published port and `expose` entry (ranges expanded).
fn exposed_ports(s: &Service) -> Option<BTreeMap<String, Value>> {
    let mut set = BTreeMap::new();
    for port in &s.ports {
        set.insert(format!("{}/{}", port.target, port.protocol), json!({}));
    }
    for e in &s.expose {
        let (range, proto) = e.split_once('/').unwrap_or((e, "tcp"));
        let (a, b) = range.split_once('-').unwrap_or((range, range));
        match (a.parse::<u16>(), b.parse::<u16>()) {
            (Ok(a), Ok(b)) if a <= b => {
                for n in a..=b {
                    set.insert(format!("{n}/{proto}"), json!({}));
                }
            }
            _ => {
                set.insert(format!("{range}/{proto}"), json!({}));
            }
        }
    }
    (!set.is_empty()).then_some(set)
}

fn port_bindings(s: &Service) -> Option<BTreeMap<String, Option<Vec<PortBinding>>>> {
    let mut map: BTreeMap<String, Option<Vec<PortBinding>>> = BTreeMap::new();
    for port in &s.ports {
        let b = PortBinding {
            host_ip: port.host_ip.clone().unwrap_or_default(),
            host_port: port.published.clone().unwrap_or_default(),
        };
        map.entry(format!("{}/{}", port.target, port.protocol))
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(b);
    }
    (!map.is_empty()).then_some(map)
}

fn restart_policy(s: &Service) -> RestartPolicy {
    let of = |name: &str, n: i64| RestartPolicy {
        name: name.into(),
        maximum_retry_count: n,
    };
    if let Some(r) = s.restart {
        return match r {
            Restart::No => of("no", 0),
            Restart::Always => of("always", 0),
            Restart::UnlessStopped => of("unless-stopped", 0),
            Restart::OnFailure(n) => of("on-failure", i64::from(n.unwrap_or(0))),
        };
    }
    match s.deploy.as_ref().and_then(|d| d.restart_policy.as_ref()) {
        Some(rp) => {
            let name = match rp.condition.as_deref() {
                Some("none") => "no",
                Some("on-failure") => "on-failure",
                _ => "always",
            };
            of(name, rp.max_attempts.unwrap_or(0) as i64)
        }
        None => RestartPolicy::default(),
    }
}

fn host_config(p: &Project, s: &Service, t: &Target) -> Result<HostConfig, Error> {
    let (binds, mounts) = super::mounts::mounts(p, s, &t.inherited)?;
    let shared = |key: &str, v: &Option<String>| -> String {
        match v {
            Some(m) if m.starts_with("service:") => t.shared.get(key).cloned().unwrap_or_default(),
            Some(m) => m.clone(),
            None => String::new(),
        }
    };
    let tmpfs: BTreeMap<String, String> = s
        .tmpfs
        .iter()
        .map(|t| match t.split_once(':') {
            Some((path, opts)) => (path.to_string(), opts.to_string()),
            None => (t.clone(), String::new()),
        })
        .collect();
    let nonempty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    let mut h = HostConfig {
        restart_policy: restart_policy(s),
        log_config: s
            .logging
            .as_ref()
            .map_or_else(LogConfig::default, |l| LogConfig {
                kind: l.driver.clone().unwrap_or_default(),
                config: Some(
                    l.options
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                ),
            }),
        init: s.init,
        ipc_mode: shared("ipc", &s.ipc),
        pid_mode: shared("pid", &s.pid),
        runtime: s.runtime.clone().unwrap_or_default(),
        shm_size: s.shm_size.map_or(0, |b| b.0),
        readonly_rootfs: s.read_only,
        privileged: s.privileged,
        userns_mode: s.userns_mode.clone().unwrap_or_default(),
        cgroup_parent: s.cgroup_parent.clone().unwrap_or_default(),
        security_opt: nonempty(&s.security_opt),
        cap_add: nonempty(&s.cap_add),
        cap_drop: nonempty(&s.cap_drop),
        binds: (!binds.is_empty()).then_some(binds),
        mounts: (!mounts.is_empty()).then_some(mounts),
        tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
        dns: nonempty(&s.dns),
        dns_options: nonempty(&s.dns_opt),
        dns_search: nonempty(&s.dns_search),
        extra_hosts: extra_hosts(s),
        port_bindings: port_bindings(s),
        devices: devices(s),
        sysctls: (!s.sysctls.is_empty()).then(|| {
            s.sysctls
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }),
        ulimits: ulimits(s),
        oom_score_adj: s.oom_score_adj.unwrap_or(0),
        group_add: nonempty(&s.group_add),
        ..HostConfig::default()
    };
    if !s.annotations.is_empty() {
        let a: serde_json::Map<String, Value> = s
            .annotations
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        h.rest.insert("Annotations".into(), Value::Object(a));
    }
    resources(s, &mut h)?;
    Ok(h)
}

fn extra_hosts(s: &Service) -> Option<Vec<String>> {
    let v: Vec<String> = s
        .extra_hosts
        .iter()
        .flat_map(|(host, ips)| ips.iter().map(move |ip| format!("{host}:{ip}")))
        .collect();
    (!v.is_empty()).then_some(v)
}

fn devices(s: &Service) -> Option<Vec<DeviceMapping>> {
    let v: Vec<DeviceMapping> = s
        .devices
        .iter()
        .map(|d| DeviceMapping {
            path_on_host: d.source.clone(),
            path_in_container: d.target.clone(),
            cgroup_permissions: d.permissions.clone(),
        })
        .collect();
    (!v.is_empty()).then_some(v)
}

fn ulimits(s: &Service) -> Option<Vec<Ulimit>> {
    let v: Vec<Ulimit> = s
        .ulimits
        .iter()
        .map(|(name, u)| Ulimit {
            name: name.clone(),
            soft: u.soft,
            hard: u.hard,
        })
        .collect();
    (!v.is_empty()).then_some(v)
}

/// `NetworkMode` and the endpoint of the first network; the others are connected after
/// create ([`endpoint`]).
fn networking(
    p: &Project,
    s: &Service,
    t: &Target,
) -> Result<(String, Option<NetworkingConfig>), Error> {
    if let Some(mode) = &s.network_mode {
        let mode = match mode.strip_prefix("service:") {
            Some(dep) => t.shared.get("network").cloned().ok_or_else(|| {
                err(format!(
                    "service {dep:?} has no container to share its network with {:?}",
                    s.name
                ))
            })?,
            None => mode.clone(),
        };
        return Ok((mode, None));
    }
    let Some((key, cfg)) = networks_by_priority(s).into_iter().next() else {
        return Ok(("none".into(), None));
    };
    let name = network_name(p, key);
    let mut ep = endpoint(s, cfg, t);
    if !t.links.is_empty() {
        ep.links = Some(t.links.clone());
    }
    let endpoints = BTreeMap::from([(name.clone(), Some(ep))]);
    Ok((
        name,
        Some(NetworkingConfig {
            endpoints_config: endpoints,
        }),
    ))
}

/// The endpoint of a service's container on one of its networks: the service's name and
/// its aliases, its fixed addresses.
pub fn endpoint(s: &Service, cfg: Option<&ServiceNetwork>, t: &Target) -> EndpointSettings {
    let mut aliases = Vec::new();
    if t.use_aliases {
        aliases.push(s.name.clone());
        aliases.extend(cfg.map(|c| c.aliases.clone()).unwrap_or_default());
    }
    let ipam = cfg
        .filter(|c| c.ipv4_address.is_some() || c.ipv6_address.is_some())
        .map(|c| EndpointIpamConfig {
            ipv4_address: c.ipv4_address.clone().unwrap_or_default(),
            ipv6_address: c.ipv6_address.clone().unwrap_or_default(),
            link_local_ips: None,
        });
    EndpointSettings {
        ipam_config: ipam,
        aliases: (!aliases.is_empty()).then_some(aliases),
        mac_address: cfg.and_then(|c| c.mac_address.clone()).unwrap_or_default(),
        ..EndpointSettings::default()
    }
}

/// Whether `dep` must be waited for before `s` starts, and for what.
pub fn wait_condition(s: &Service, dep: &str) -> Option<Condition> {
    s.depends_on.get(dep).map(|d| d.condition)
}
