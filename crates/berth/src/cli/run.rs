//! `create` and `run`, and the attach plumbing they share with `start -a` and `logs`.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use berth_api::container::{
    Config, CreateRequest, CreateResponse, HostConfig, NetworkingConfig, RestartPolicy,
    WaitResponse,
};
use berth_client::{Client, ClientError};
use http_body_util::BodyExt;
use hyper::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::enc;

/// Options shared by `create` and `run`.
#[derive(Debug, clap::Args)]
pub struct ContainerOpts {
    /// Assign a name to the container.
    #[arg(long)]
    name: Option<String>,
    /// Set platform if server is multi-platform capable.
    #[arg(long)]
    platform: Option<String>,
    /// Logging driver for the container.
    #[arg(long)]
    log_driver: Option<String>,
    /// Log driver options (`KEY=VALUE`).
    #[arg(long = "log-opt")]
    log_opt: Vec<String>,
    /// Set environment variables.
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Read in a file of environment variables.
    #[arg(long)]
    env_file: Vec<String>,
    /// Working directory inside the container.
    #[arg(short, long)]
    workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>]).
    #[arg(short, long)]
    user: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image.
    #[arg(long)]
    entrypoint: Option<String>,
    /// Container host name.
    #[arg(short = 'h', long)]
    hostname: Option<String>,
    /// Set meta data on a container.
    #[arg(short, long = "label")]
    label: Vec<String>,
    /// Allocate a pseudo-TTY.
    #[arg(short, long)]
    tty: bool,
    /// Keep STDIN open even if not attached.
    #[arg(short, long)]
    interactive: bool,
    /// Automatically remove the container when it exits.
    #[arg(long)]
    rm: bool,
    /// Container NIS domain name.
    #[arg(long)]
    domainname: Option<String>,
    /// Memory limit.
    #[arg(short, long)]
    memory: Option<String>,
    /// Swap limit equal to memory plus swap: -1 to enable unlimited swap.
    #[arg(long)]
    memory_swap: Option<String>,
    /// Number of CPUs.
    #[arg(long)]
    cpus: Option<f64>,
    /// CPU shares (relative weight).
    #[arg(short = 'c', long)]
    cpu_shares: Option<i64>,
    /// Tune container pids limit (set -1 for unlimited).
    #[arg(long)]
    pids_limit: Option<i64>,
    /// Run an init inside the container that forwards signals and reaps processes.
    #[arg(long)]
    init: bool,
    /// Mount the container's root filesystem as read only.
    #[arg(long)]
    read_only: bool,
    /// Signal to stop the container.
    #[arg(long)]
    stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container.
    #[arg(long)]
    stop_timeout: Option<i64>,
    /// Restart policy to apply when a container exits.
    #[arg(long)]
    restart: Option<String>,
    #[command(flatten)]
    health: super::health_opts::HealthOpts,
    #[command(flatten)]
    mounts: super::mounts::MountOpts,
    #[command(flatten)]
    net: super::net_opts::NetOpts,
    #[command(flatten)]
    security: super::security_opts::SecurityOpts,
    #[command(flatten)]
    namespaces: super::ns_opts::NamespaceOpts,
    #[command(flatten)]
    devices: super::device_opts::DeviceOpts,
    #[command(flatten)]
    limits: super::limit_opts::LimitOpts,
    #[command(flatten)]
    resources: super::resource_opts::ResourceOpts,
    /// The image.
    image: String,
    /// Command and arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

/// Docker's RAMInBytes: `64m`, `1g`, `512k`, plain bytes.
pub(crate) fn bytes_arg(s: &str) -> Result<i64> {
    let lower = s.to_ascii_lowercase();
    let t = lower.trim_end_matches('b');
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("invalid size: '{s}'"))?;
    Ok((n * mult as f64) as i64)
}

/// `--env-file` files then `-e` values; `-e NAME` without a value takes it from the client's
/// environment, or is dropped.
pub fn env_list(env_files: &[String], env: &[String]) -> Result<Vec<String>> {
    let mut all = Vec::new();
    for f in env_files {
        let text = std::fs::read_to_string(f).with_context(|| format!("open {f}"))?;
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            all.push(line.to_string());
        }
    }
    all.extend(env.iter().cloned());
    Ok(all
        .into_iter()
        .filter_map(|e| {
            if e.contains('=') {
                Some(e)
            } else {
                std::env::var(&e).ok().map(|v| format!("{e}={v}"))
            }
        })
        .collect())
}

/// The create request for the flags, and the warning the CLI adds to the daemon's.
fn request(o: &ContainerOpts, attach: bool) -> Result<(CreateRequest, Option<String>)> {
    let devices = o.devices.parse()?;
    let limits = o.limits.parse()?;
    let resources = o.resources.parse()?;
    let env = env_list(&o.env_file, &o.env)?;
    let mut labels: BTreeMap<String, String> = o
        .label
        .iter()
        .map(|l| {
            l.split_once('=')
                .map_or((l.clone(), String::new()), |(k, v)| (k.into(), v.into()))
        })
        .collect();
    let restart = restart_policy(o.restart.as_deref().unwrap_or("no"))?;
    let healthcheck = o.health.parse(&mut labels)?;
    if o.rm && !matches!(restart.name.as_str(), "" | "no") {
        anyhow::bail!("conflicting options: cannot specify both --restart and --rm");
    }
    let mounts = o.mounts.parse()?;
    let net = o.net.parse()?;
    let modes = o.namespaces.modes()?;
    let req = CreateRequest {
        config: Config {
            volumes: mounts.volumes,
            hostname: o.hostname.clone().unwrap_or_default(),
            domainname: o.domainname.clone().unwrap_or_default(),
            exposed_ports: net.exposed_ports,
            mac_address: net.mac_address,
            user: o.user.clone().unwrap_or_default(),
            attach_stdin: attach && o.interactive,
            attach_stdout: attach,
            attach_stderr: attach,
            tty: o.tty,
            open_stdin: o.interactive,
            stdin_once: o.interactive && attach,
            env: Some(env),
            cmd: (!o.command.is_empty()).then(|| o.command.clone()),
            image: o.image.clone(),
            working_dir: o.workdir.clone().unwrap_or_default(),
            entrypoint: o.entrypoint.as_ref().map(|e| vec![e.clone()]),
            labels: Some(labels),
            stop_signal: o.stop_signal.clone(),
            stop_timeout: o.stop_timeout,
            healthcheck,
            ..Config::default()
        },
        host_config: HostConfig {
            network_mode: net.network_mode,
            port_bindings: Some(net.port_bindings),
            publish_all_ports: net.publish_all,
            dns: Some(net.dns),
            dns_search: Some(net.dns_search),
            dns_options: Some(net.dns_options),
            extra_hosts: net.extra_hosts,
            links: net.links,
            auto_remove: o.rm,
            restart_policy: restart,
            log_config: log_config(o)?,
            memory: o.memory.as_deref().map(bytes_arg).transpose()?.unwrap_or(0),
            memory_swap: match o.memory_swap.as_deref() {
                Some("-1") => -1,
                Some(s) => bytes_arg(s)?,
                None => 0,
            },
            nano_cpus: o.cpus.map_or(0, |c| (c * 1e9) as i64),
            cpu_shares: o.cpu_shares.unwrap_or(0),
            pids_limit: o.pids_limit,
            init: o.init.then_some(true),
            console_size: o
                .tty
                .then(super::term::size)
                .flatten()
                .map(|(h, w)| [u32::from(h), u32::from(w)]),
            readonly_rootfs: o.read_only,
            binds: mounts.binds,
            mounts: mounts.mounts,
            tmpfs: mounts.tmpfs,
            volumes_from: mounts.volumes_from,
            volume_driver: mounts.volume_driver,
            security_opt: o.security.security_opt()?,
            cap_add: (!o.security.cap_add.is_empty()).then(|| o.security.cap_add.clone()),
            cap_drop: (!o.security.cap_drop.is_empty()).then(|| o.security.cap_drop.clone()),
            privileged: o.security.privileged,
            userns_mode: o.security.userns_mode()?,
            pid_mode: modes.pid,
            ipc_mode: modes.ipc,
            uts_mode: modes.uts,
            cgroupns_mode: modes.cgroupns,
            masked_paths: o.security.system_paths(),
            readonly_paths: o.security.system_paths(),
            devices: Some(devices.devices),
            device_cgroup_rules: devices.rules,
            device_requests: devices.requests,
            sysctls: limits.sysctls,
            ulimits: Some(limits.ulimits),
            oom_score_adj: limits.oom_score_adj,
            group_add: limits.group_add,
            ..resources
        },
        networking_config: Some(NetworkingConfig {
            endpoints_config: net.endpoints,
        }),
    };
    Ok((req, net.warning))
}

async fn create_container(client: &Client, o: &ContainerOpts, attach: bool) -> Result<String> {
    let (req, warning) = request(o, attach)?;
    let mut q = Vec::new();
    if let Some(n) = &o.name {
        q.push(format!("name={}", enc(n)));
    }
    if let Some(p) = o.platform.as_ref().filter(|p| !p.is_empty()) {
        q.push(format!("platform={}", enc(p)));
    }
    let path = match q.is_empty() {
        true => "/containers/create".to_string(),
        false => format!("/containers/create?{}", q.join("&")),
    };
    let resp: CreateResponse = client.post_json(&path, &req).await?;
    for w in resp.warnings.iter().chain(&warning) {
        eprintln!("WARNING: {w}");
    }
    Ok(resp.id)
}

#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
pub struct CreateArgs {
    /// Print help (`-h` is --hostname, as in Docker).
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    #[command(flatten)]
    opts: ContainerOpts,
}

pub async fn create(client: &Client, a: CreateArgs) -> Result<u8> {
    let id = match create_container(client, &a.opts, false).await {
        Ok(id) => id,
        Err(e) => return opt_error(&e, "create").ok_or(e),
    };
    println!("{id}");
    Ok(0)
}

/// Reports a bad flag value as the docker CLI does, with its exit code 125 (`None` for any
/// other error).
fn opt_error(e: &anyhow::Error, cmd: &str) -> Option<u8> {
    let o = e.downcast_ref::<super::net_opts::OptError>()?;
    let run_help = format!("Run 'berth {cmd} --help' for more information");
    match o {
        super::net_opts::OptError::Flag { .. } => {
            eprintln!("{o}\n\nUsage:  berth {cmd} [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n{run_help}")
        }
        super::net_opts::OptError::Invalid(_) => eprintln!("berth: {o}\n\n{run_help}"),
    }
    Some(125)
}

#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    /// Print help (`-h` is --hostname, as in Docker).
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Run container in background and print container ID.
    #[arg(short, long)]
    detach: bool,
    /// Override the key sequence for detaching a container.
    #[arg(long)]
    detach_keys: Option<String>,
    /// Proxy received signals to the process.
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    sig_proxy: bool,
    #[command(flatten)]
    opts: ContainerOpts,
}

/// Splits Docker's multiplexed stream into stdout and stderr (or copies a raw tty stream).
pub struct Demux {
    tty: bool,
    buf: Vec<u8>,
    out: tokio::io::Stdout,
    err: tokio::io::Stderr,
}

impl Demux {
    pub fn new(tty: bool) -> Self {
        Demux {
            tty,
            buf: Vec::new(),
            out: tokio::io::stdout(),
            err: tokio::io::stderr(),
        }
    }

    pub async fn push(&mut self, data: &[u8]) -> Result<()> {
        if self.tty {
            self.out.write_all(data).await?;
            return Ok(self.out.flush().await?);
        }
        self.buf.extend_from_slice(data);
        // Every whole frame of what came, consecutive frames of one stream in one write: a
        // chunk of log output holds hundreds of frames.
        let mut at = 0;
        let mut run: (u8, Vec<u8>) = (1, Vec::new());
        while self.buf.len() - at >= 8 {
            let h = &self.buf[at..at + 8];
            let len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
            if self.buf.len() - at < 8 + len {
                break;
            }
            let kind = if h[0] == 2 { 2 } else { 1 };
            if kind != run.0 {
                self.write(run.0, &run.1).await?;
                run = (kind, Vec::new());
            }
            run.1.extend_from_slice(&self.buf[at + 8..at + 8 + len]);
            at += 8 + len;
        }
        self.write(run.0, &run.1).await?;
        self.buf.drain(..at);
        Ok(())
    }

    async fn write(&mut self, kind: u8, bytes: &[u8]) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        if kind == 2 {
            self.err.write_all(bytes).await?;
            self.err.flush().await?;
        } else {
            self.out.write_all(bytes).await?;
            self.out.flush().await?;
        }
        Ok(())
    }
}

/// Attaches, starts, streams output (and stdin), and returns the exit code, as `run` and
/// `start -a` do; an auto-removed container's exit code comes once it is removed (as Docker's
/// CLI waits), so nothing of it is left when the command returns.
async fn attach_start_wait(
    client: &Client,
    id: &str,
    tty: bool,
    stdin: bool,
    start: bool,
    auto_remove: bool,
    detach_keys: Option<&str>,
) -> Result<u8> {
    let given = super::detach_opts::given(detach_keys);
    let keys = super::detach_opts::keys(given.as_deref())?;
    let io = client
        .hijack(
            &format!(
                "/containers/{id}/attach?stream=1&stdout=1&stderr=1&stdin={}{}",
                u8::from(stdin),
                super::detach_opts::query(given.as_deref()),
            ),
            None,
        )
        .await?;
    let (rd, wr) = tokio::io::split(io);
    // The wait is registered (its headers are back) before the start, so a fast exit cannot
    // be missed.
    let waiter = client
        .request(
            Method::POST,
            &format!(
                "/containers/{id}/wait?condition={}",
                if auto_remove { "removed" } else { "next-exit" }
            ),
            None,
        )
        .await?;
    if start {
        client
            .bytes(Method::POST, &format!("/containers/{id}/start"), None)
            .await?;
    }
    let _raw = (tty && stdin).then(super::term::RawMode::enable).flatten();
    let resizer =
        tty.then(|| super::term::forward_resizes(client, format!("/containers/{id}/resize")));
    let detached = stream_io(rd, wr, tty, stdin, keys).await;
    if let Some(r) = resizer {
        r.abort();
    }
    if detached? {
        // As the docker CLI's run and start: the container runs on, the command succeeds.
        return Ok(0);
    }
    exit_status(waiter).await
}

/// The exit code a `POST /containers/{id}/wait` answered with, as a process exit code.
pub async fn exit_status(waiter: hyper::Response<hyper::body::Incoming>) -> Result<u8> {
    let body = waiter
        .into_body()
        .collect()
        .await
        .map_err(ClientError::from)?
        .to_bytes();
    let w: WaitResponse = serde_json::from_slice(&body).map_err(ClientError::from)?;
    Ok(w.status_code.clamp(0, 255) as u8)
}

/// Copies stdin into a hijacked stream (with `stdin`) and the stream's output to stdout and
/// stderr, until the daemon ends the stream or, on a terminal, the user types the detach
/// `keys` (as the docker CLI watches them itself); `true` when the user detached.
pub async fn stream_io(
    mut rd: impl tokio::io::AsyncRead + Unpin,
    mut wr: impl tokio::io::AsyncWrite + Unpin + Send + 'static,
    tty: bool,
    stdin: bool,
    keys: Vec<u8>,
) -> Result<bool> {
    let (detached, mut on_detach) = tokio::sync::oneshot::channel::<()>();
    if stdin {
        let mut escape = tty.then(|| berth_api::detach::Escape::new(keys));
        tokio::spawn(async move {
            let mut input = tokio::io::stdin();
            let (mut buf, mut out) = (vec![0u8; 8192], Vec::with_capacity(8192));
            while let Ok(n) = input.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                out.clear();
                let done = match &mut escape {
                    Some(e) => e.feed(&buf[..n], &mut out),
                    None => {
                        out.extend_from_slice(&buf[..n]);
                        false
                    }
                };
                if wr.write_all(&out).await.is_err() {
                    break;
                }
                if done {
                    let _ = detached.send(());
                    return;
                }
            }
            let _ = wr.shutdown().await;
        });
    }
    let mut demux = Demux::new(tty);
    let mut buf = vec![0u8; 32 * 1024];
    // A oneshot must not be polled again once it resolved: the stdin task dropping its sender
    // (stdin at EOF) ends the watch, not the stream.
    let mut watching = true;
    loop {
        tokio::select! {
            read = rd.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => demux.push(&buf[..n]).await?,
            },
            r = &mut on_detach, if watching => match r {
                Ok(()) => return Ok(true),
                Err(_) => watching = false,
            },
        }
    }
    Ok(false)
}

pub async fn start_attached(
    client: &Client,
    name: &str,
    stdin: bool,
    detach_keys: Option<&str>,
) -> Result<u8> {
    let info: berth_api::container::Inspect =
        client.get(&format!("/containers/{name}/json")).await?;
    // As the docker CLI's `start -a`: signals go to a container without a terminal.
    let proxy = super::sig_proxy::forward(!info.config.tty, client, &info.id);
    let attached = attach_start_wait(
        client,
        &info.id,
        info.config.tty,
        stdin && info.config.open_stdin,
        true,
        info.host_config.auto_remove,
        detach_keys,
    )
    .await;
    proxy.iter().for_each(|t| t.abort());
    attached
}

/// `--restart NAME[:COUNT]` as the docker CLI parses it; the daemon validates the name.
pub fn restart_policy(policy: &str) -> Result<RestartPolicy> {
    let (name, count) = policy.split_once(':').unwrap_or((policy, ""));
    if policy.contains(':') && name.is_empty() {
        anyhow::bail!("invalid restart policy format: no policy provided before colon");
    }
    let maximum_retry_count = match count {
        "" => 0,
        c => c.parse().map_err(|_| {
            anyhow::anyhow!("invalid restart policy format: maximum retry count must be an integer")
        })?,
    };
    Ok(RestartPolicy {
        name: name.into(),
        maximum_retry_count,
    })
}

pub async fn run(client: &Client, a: RunArgs) -> Result<u8> {
    let id = match create_container(client, &a.opts, !a.detach).await {
        Ok(id) => id,
        Err(e) => {
            if let Some(code) = opt_error(&e, "run") {
                return Ok(code);
            }
            // The docker CLI picks the code from a create error's message too.
            let msg = super::message(&e);
            eprintln!("berth: {msg}");
            return Ok(exit_code_for(&msg));
        }
    };
    if a.detach {
        if let Err(e) = client
            .bytes(Method::POST, &format!("/containers/{id}/start"), None)
            .await
        {
            eprintln!("berth: {e}");
            return Ok(exit_code_for(&e.to_string()));
        }
        println!("{id}");
        return Ok(0);
    }
    let proxy = super::sig_proxy::forward(a.sig_proxy, client, &id);
    let attached = attach_start_wait(
        client,
        &id,
        a.opts.tty,
        a.opts.interactive,
        true,
        a.opts.rm,
        a.detach_keys.as_deref(),
    )
    .await;
    proxy.iter().for_each(|t| t.abort());
    match attached {
        Ok(code) => Ok(code),
        Err(e) => {
            let msg = super::message(&e);
            eprintln!("berth: {msg}");
            if a.opts.rm {
                let _ = client
                    .bytes(Method::DELETE, &format!("/containers/{id}?force=1"), None)
                    .await;
            }
            Ok(exit_code_for(&msg))
        }
    }
}

/// Docker's exit codes for a container that could not start.
fn exit_code_for(msg: &str) -> u8 {
    if msg.contains("executable file not found") || msg.contains("no such file or directory") {
        127
    } else if msg.contains("permission denied") {
        126
    } else {
        125
    }
}

/// `--log-driver` and `--log-opt`, as the docker CLI sends them.
fn log_config(o: &ContainerOpts) -> Result<berth_api::container::LogConfig> {
    let mut config = std::collections::BTreeMap::new();
    for opt in &o.log_opt {
        let (k, v) = opt
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("invalid key/value pair format in {opt}"))?;
        config.insert(k.to_string(), v.to_string());
    }
    Ok(berth_api::container::LogConfig {
        kind: o.log_driver.clone().unwrap_or_default(),
        config: (!config.is_empty()).then_some(config),
    })
}
