//! A container's spec as Docker's `Config` and `HostConfig` of inspect.

use berth_api::container::{
    Config, HostConfig, LogConfig, RestartPolicy as RestartPolicyConfig, Set,
};

use crate::containers::{RestartPolicy, Spec};

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
pub fn host_config(s: &Spec) -> HostConfig {
    let mut h = typed_host_config(s);
    h.rest = zeros(&h, &berth_api::fields::HOST_CONFIG, false);
    h.rest.remove("Annotations");
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
        healthcheck: None,
        image: s.image.clone(),
        volumes: set(&s.volumes),
        working_dir: s.working_dir.clone(),
        entrypoint: s.entrypoint.clone(),
        on_build: s.on_build.clone(),
        labels: Some(s.labels.clone()),
        stop_signal: s.stop_signal.clone(),
        stop_timeout: s.stop_timeout,
        shell: s.shell.clone(),
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
            kind: "json-file".into(),
            config: None,
        },
        memory: r.memory,
        memory_swap: r.memory_swap,
        nano_cpus: r.nano_cpus,
        cpu_shares: r.cpu_shares,
        cpu_period: r.cpu_period,
        cpu_quota: r.cpu_quota,
        memory_swappiness: None,
        pids_limit: r.pids_limit,
        init: s.init,
        console_size: s.console_size,
        ipc_mode: String::new(),
        pid_mode: String::new(),
        uts_mode: String::new(),
        cgroupns_mode: String::new(),
        runtime: s.runtime.clone(),
        shm_size: s.shm_size,
        readonly_rootfs: s.readonly_rootfs,
        privileged: false,
        rest: Default::default(),
    }
}
