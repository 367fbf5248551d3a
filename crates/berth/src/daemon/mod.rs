//! `berth daemon`: reads its flags and `daemon.json`, opens the data root, listens on its
//! sockets, serves until SIGTERM/SIGINT; SIGHUP reloads what dockerd reloads that berth has.

mod activation;
mod config_file;
mod listen;
mod notify;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use berth_daemon::reload::Reloadable;
use berth_daemon::{Daemon, DaemonConfig};
use tokio::signal::unix::{SignalKind, signal};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Options of `berth daemon`. Each field is also a key of `daemon.json`: its serde name, as
/// dockerd names it (see `config_file`); fields that are flags only are skipped by serde.
#[derive(Debug, Clone, clap::Args, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct DaemonArgs {
    /// Daemon socket(s) to listen on: `unix://PATH` (or a PATH), `tcp://HOST:PORT`, `fd://`
    /// (systemd's sockets; `fd://N` one of them) (repeatable; default /run/berth/berth.sock,
    /// with TLS tcp://localhost:2376).
    #[arg(long, short = 'H', env = "BERTH_SOCKET")]
    #[serde(rename = "hosts")]
    pub host: Vec<String>,
    #[command(flatten)]
    #[serde(flatten)]
    pub tls: crate::tls_flags::TlsFlags,
    /// Group for the unix socket (a name or a GID); the socket is `root:GROUP`, mode 0660.
    #[arg(long, short = 'G', default_value = "berth")]
    pub group: String,
    /// Root of persistent state.
    #[arg(long, env = "BERTH_DATA_ROOT", default_value = "/var/lib/berth")]
    pub data_root: PathBuf,
    /// Root of runtime state (monitor sockets); keep it short.
    #[arg(long, env = "BERTH_EXEC_ROOT", default_value = "/run/berth")]
    pub exec_root: PathBuf,
    /// Seconds a client has to send a request's headers; a body that stops arriving fails
    /// after four times this.
    #[arg(
        long,
        env = "BERTH_API_READ_TIMEOUT",
        default_value_t = 30,
        hide = true
    )]
    #[serde(skip)]
    pub api_read_timeout: u64,
    /// An OCI runtime containers may choose with `--runtime NAME`: `NAME=PATH`, PATH a binary
    /// with runc's command line (repeatable).
    #[arg(long = "add-runtime", value_name = "NAME=PATH")]
    #[serde(skip)]
    pub add_runtime: Vec<String>,
    /// daemon.json's `runtimes`: `{"NAME": {"path": PATH}}`, merged with `--add-runtime`.
    #[arg(skip)]
    pub runtimes: BTreeMap<String, FileRuntime>,
    /// daemon.json's `features`: dockerd's switches. `buildkit: true` is refused (berth's
    /// builder answers as the classic one); names dockerd does not know it ignores, and so
    /// does berth.
    #[arg(skip)]
    pub features: BTreeMap<String, bool>,
    /// The runtime of containers that name none: `berth` (the embedded one) or an added one.
    #[arg(long, default_value = berth_daemon::config::Runtimes::EMBEDDED)]
    pub default_runtime: String,
    /// Attach containers to this network bridge by default (`none`: no default bridge).
    #[arg(long, short = 'b', default_value = berth_daemon::config::DefaultBridge::NAME)]
    pub bridge: String,
    /// Specify the default bridge's IP address and subnet (CIDR).
    #[arg(long)]
    pub bip: Option<String>,
    /// IPv4 subnet for the default bridge's container addresses (CIDR).
    #[arg(long)]
    pub fixed_cidr: Option<String>,
    /// Default address pools for networks: `base=CIDR,size=N` (repeatable).
    #[arg(long = "default-address-pool", value_name = "base=CIDR,size=N")]
    #[serde(skip)]
    pub default_address_pool: Vec<String>,
    /// daemon.json's `default-address-pools`: `[{"base": CIDR, "size": N}]`.
    #[arg(skip)]
    pub default_address_pools: Vec<FilePool>,
    /// Seccomp profile of containers that name none: `builtin`, `unconfined` or a file in
    /// Docker's profile format.
    #[arg(long, default_value = "builtin")]
    pub seccomp_profile: String,
    /// Set no-new-privileges by default for new containers.
    #[arg(long)]
    pub no_new_privileges: bool,
    /// User namespaces for containers: `default` (the `dockremap` account, created when
    /// missing), `user[:group]` or `uid[:gid]`, mapped to its /etc/subuid and /etc/subgid ranges.
    #[arg(long, value_name = "user[:group]")]
    pub userns_remap: Option<String>,
    /// Default driver for container logs: `json-file`, `local` or `none`.
    #[arg(long, default_value = "json-file")]
    pub log_driver: String,
    /// Default log driver options: `KEY=VALUE` (repeatable).
    #[arg(long = "log-opt", value_name = "KEY=VALUE")]
    #[serde(skip)]
    pub log_opt: Vec<String>,
    /// daemon.json's `log-opts`: `{"KEY": "VALUE"}`, as `--log-opt`.
    #[arg(skip)]
    pub log_opts: BTreeMap<String, String>,
    /// Default ulimits of containers: `NAME=SOFT[:HARD]` (repeatable).
    #[arg(long = "default-ulimit", value_name = "NAME=SOFT[:HARD]")]
    #[serde(skip)]
    pub default_ulimit: Vec<String>,
    /// daemon.json's `default-ulimits`: `{"NAME": {"Name": NAME, "Soft": N, "Hard": N}}`.
    #[arg(skip)]
    pub default_ulimits: BTreeMap<String, FileUlimit>,
    /// Default size of containers' /dev/shm (`64m`, `1g`; Docker's 64 MiB when unset).
    #[arg(long, value_name = "SIZE")]
    pub default_shm_size: Option<String>,
    /// Default IPC mode of containers: `private` or `shareable`.
    #[arg(long, default_value = "private")]
    pub default_ipc_mode: String,
    /// Default cgroup namespace mode of containers: `host` or `private` (private on cgroup v2
    /// hosts, host on v1, as Docker).
    #[arg(long)]
    pub default_cgroupns_mode: Option<String>,
    /// Parent cgroup of containers that set none (`--cgroup-parent` of `run`); berth's
    /// `/berth` when unset.
    #[arg(long, value_name = "PATH")]
    pub cgroup_parent: Option<String>,
    /// Run berth's init in containers that do not say (`--init` of `run`).
    #[arg(long)]
    pub init: bool,
    /// Keep containers running when the daemon stops (berth's default, as its monitors
    /// outlive the daemon); `--live-restore=false` stops them at shutdown, as dockerd does
    /// by default (reloaded by SIGHUP).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub live_restore: Option<bool>,
    /// Seconds the daemon waits at shutdown for the containers it stops (with
    /// `--live-restore=false`; a container's longer stop timeout wins; -1: forever).
    #[arg(long, default_value_t = 15, allow_negative_numbers = true)]
    pub shutdown_timeout: i64,
    /// Log level (error, warn, info, debug, trace).
    #[arg(long, short = 'l', default_value = "info")]
    pub log_level: String,
    /// Enable debug mode (log level debug; reloaded by SIGHUP).
    #[arg(long, short = 'D')]
    pub debug: bool,
    /// Set key=value labels to the daemon (repeatable; reloaded by SIGHUP).
    #[arg(long = "label", value_name = "key=value")]
    pub labels: Vec<String>,
    /// Preferred Docker Hub mirror, an http(s) URL (repeatable).
    #[arg(long = "registry-mirror", value_name = "URL")]
    pub registry_mirrors: Vec<String>,
    /// A registry reached without verifying its certificate, or over plain HTTP:
    /// `host[:port]` or a CIDR (repeatable; 127.0.0.0/8 always is).
    #[arg(long = "insecure-registry", value_name = "HOST|CIDR")]
    pub insecure_registries: Vec<String>,
    /// Layers pulled at once.
    #[arg(long, default_value_t = 3)]
    pub max_concurrent_downloads: usize,
    /// Layers pushed at once.
    #[arg(long, default_value_t = 5)]
    pub max_concurrent_uploads: usize,
    /// Tries of a layer download before the pull fails.
    #[arg(long, default_value_t = 5)]
    pub max_download_attempts: u32,
    /// Daemon configuration file (dockerd's daemon.json).
    #[arg(long, default_value = config_file::DEFAULT_FILE)]
    #[serde(skip)]
    pub config_file: PathBuf,
    /// Validate the configuration (flags and file) and exit.
    #[arg(long)]
    #[serde(skip)]
    pub validate: bool,
}

/// One runtime of daemon.json's `runtimes`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRuntime {
    path: String,
    #[serde(rename = "runtimeArgs", default, skip_serializing_if = "Vec::is_empty")]
    runtime_args: Vec<String>,
}

/// One limit of daemon.json's `default-ulimits`, in Docker's JSON.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct FileUlimit {
    name: String,
    hard: i64,
    soft: i64,
}

/// One pool of daemon.json's `default-address-pools`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePool {
    base: String,
    size: u32,
}

impl DaemonArgs {
    /// After a merge with the file: the options the file cannot set, as the flags had them.
    fn keep_flag_only(&mut self, flags: &DaemonArgs) {
        self.api_read_timeout = flags.api_read_timeout;
        self.add_runtime = flags.add_runtime.clone();
        self.default_address_pool = flags.default_address_pool.clone();
        self.log_opt = flags.log_opt.clone();
        self.default_ulimit = flags.default_ulimit.clone();
        self.config_file = flags.config_file.clone();
        self.validate = flags.validate;
    }

    /// `--add-runtime` and the file's `runtimes`, as `NAME=PATH`.
    fn runtime_args(&self) -> Result<Vec<String>> {
        let mut all = self.add_runtime.clone();
        for (name, r) in &self.runtimes {
            if !r.runtime_args.is_empty() {
                bail!(
                    "runtime {name}: runtimeArgs are not supported by berth (a runtime is run with runc's command line only)"
                );
            }
            all.push(format!("{name}={}", r.path));
        }
        Ok(all)
    }

    /// `--default-address-pool` and the file's `default-address-pools`, as `base=..,size=..`.
    fn pool_args(&self) -> Vec<String> {
        let file = self
            .default_address_pools
            .iter()
            .map(|p| format!("base={},size={}", p.base, p.size));
        self.default_address_pool
            .iter()
            .cloned()
            .chain(file)
            .collect()
    }

    /// Mirrors, insecure registries and transfer limits, checked as dockerd checks them.
    fn registry_config(&self) -> Result<berth_daemon::images::RegistryConfig> {
        for m in &self.registry_mirrors {
            let scheme = m.split_once("://").map(|(s, _)| s);
            if !matches!(scheme, Some("http" | "https")) {
                anyhow::bail!(
                    "invalid mirror: unsupported scheme {:?} in {m:?}",
                    scheme.unwrap_or("")
                );
            }
        }
        if self.max_concurrent_downloads == 0 {
            anyhow::bail!("invalid max concurrent downloads: 0");
        }
        if self.max_concurrent_uploads == 0 {
            anyhow::bail!("invalid max concurrent uploads: 0");
        }
        if self.max_download_attempts == 0 {
            anyhow::bail!("invalid max download attempts: 0");
        }
        let settings = berth_distribution::client::Settings {
            mirrors: self.registry_mirrors.clone(),
            insecure: self.insecure_registries.clone(),
            ..Default::default()
        };
        Ok(berth_daemon::images::RegistryConfig {
            settings,
            max_downloads: self.max_concurrent_downloads,
            max_uploads: self.max_concurrent_uploads,
            max_attempts: self.max_download_attempts,
        })
    }

    /// The daemon's defaults for containers, from the flags and the file's keys.
    fn container_defaults(&self) -> Result<berth_daemon::defaults::ContainerDefaults> {
        let mut ulimits = Vec::new();
        for arg in &self.default_ulimit {
            let u = crate::cli::parse_ulimit(arg).map_err(anyhow::Error::msg)?;
            ulimits.push(berth_daemon::containers::limits::Ulimit {
                name: u.name,
                soft: u.soft,
                hard: u.hard,
            });
        }
        // The limit's own `Name` counts, as in dockerd (the key is only the map's).
        for u in self.default_ulimits.values() {
            ulimits.push(berth_daemon::containers::limits::Ulimit {
                name: u.name.clone(),
                soft: u.soft,
                hard: u.hard,
            });
        }
        let shm = match self.default_shm_size.as_deref() {
            None | Some("") => 0,
            Some(s) => {
                crate::cli::bytes_arg(s).with_context(|| format!("invalid default-shm-size {s}"))?
            }
        };
        berth_daemon::defaults::ContainerDefaults::new(
            ulimits,
            shm,
            &self.default_ipc_mode,
            self.default_cgroupns_mode.as_deref().unwrap_or_default(),
            self.init,
            self.cgroup_parent.as_deref().unwrap_or_default(),
        )
        .map_err(anyhow::Error::msg)
    }

    /// The tracing filter: `debug` wins over `--log-level`, as in dockerd.
    fn log_filter(&self) -> &str {
        if self.debug { "debug" } else { &self.log_level }
    }
}

pub fn run(flags: DaemonArgs) -> Result<()> {
    let file = config_file::Source::new(&flags);
    let args = file.load(&flags)?;
    check(&args)?;
    if flags.validate {
        eprintln!("configuration OK");
        return Ok(());
    }
    let log_level = init_logging(&args)?;
    let plan = listen::Plan::new(&args.host, &args.tls)?;
    let (config, sealed) = daemon_config(&args, &plan)?;
    let daemon = Daemon::open(config).map_err(|e| anyhow::anyhow!(e.message))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        daemon.restore();
        let listeners = plan.bind(&args.group).await?;
        tracing::info!(root = %args.data_root.display(), "berth daemon listening");
        let hup = signal(SignalKind::hangup()).context("SIGHUP handler")?;
        let level = (log_level, args.log_level.clone());
        tokio::spawn(reload_on_sighup(hup, daemon.clone(), file, flags, level));
        let shutdown = async {
            let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            notify::stopping();
            tracing::info!("shutting down");
        };
        let read_timeout = std::time::Duration::from_secs(args.api_read_timeout.max(1));
        // The listeners are bound: a client connecting now is served once `serve` polls.
        notify::ready();
        berth_daemon::http::serve(listeners, daemon.clone(), read_timeout, shutdown).await;
        daemon.shutdown().await;
        // The parent cgroup `/berth` stays, as dockerd's `/docker` does: every daemon on the host
        // shares it, and removing it raced another daemon creating a container beneath it.
        drop(sealed);
        for socket in plan.sockets() {
            let _ = std::fs::remove_file(socket);
        }
        Ok(())
    })
}

/// The daemon's log on stderr, at `debug` or `--log-level`; the handle changes the level.
fn init_logging(args: &DaemonArgs) -> Result<LogLevel> {
    let filter = tracing_subscriber::EnvFilter::try_new(args.log_filter())
        .with_context(|| format!("invalid log level {}", args.log_filter()))?;
    let (filter_layer, handle) = tracing_subscriber::reload::Layer::new(filter);
    tracing_subscriber::registry()
        .with(filter_layer)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .init();
    Ok(handle)
}

/// The engine's settings from the options, with the sealed copy of the binary they name
/// (removed when dropped).
fn daemon_config(
    args: &DaemonArgs,
    plan: &listen::Plan,
) -> Result<(DaemonConfig, berth_runtime::sealed::SealedExe)> {
    let runtimes =
        berth_daemon::config::Runtimes::new(&args.runtime_args()?, &args.default_runtime)
            .map_err(anyhow::Error::msg)?;
    let init_binary = std::env::current_exe().context("locating the berth binary")?;
    let sealed = berth_runtime::sealed::SealedExe::copy_of(&init_binary)
        .context("making a sealed copy of the berth binary")?;
    let userns_remap = match args.userns_remap.as_deref() {
        None | Some("") => None,
        Some(spec) => berth_runtime::userns::resolve(spec)?,
    };
    // As dockerd: a remapping has a data root of its own, `<root>/<uid>.<gid>`.
    let root = match &userns_remap {
        Some(r) => {
            berth_daemon::userns::data_root(&args.data_root, &r.map).map_err(anyhow::Error::msg)?
        }
        None => args.data_root.clone(),
    };
    let config = DaemonConfig {
        root,
        exec_root: args.exec_root.clone(),
        exe: sealed.path(),
        init_binary,
        runtimes,
        network: network(args)?,
        security: berth_daemon::config::SecurityConfig {
            seccomp: berth_daemon::config::DaemonSeccomp::from_arg(&args.seccomp_profile)
                .map_err(anyhow::Error::msg)?,
            no_new_privileges: args.no_new_privileges,
            userns_remap,
        },
        api_warnings: plan.warnings(),
        live: Reloadable {
            debug: args.debug,
            labels: args.labels.clone(),
            live_restore: args.live_restore.unwrap_or(true),
            shutdown_timeout: args.shutdown_timeout,
        },
        defaults: args.container_defaults()?,
        registry: args.registry_config()?,
        logging: {
            let file = args.log_opts.iter().map(|(k, v)| format!("{k}={v}"));
            let opts: Vec<String> = args.log_opt.iter().cloned().chain(file).collect();
            berth_daemon::config::LoggingConfig::new(&args.log_driver, &opts)
                .map_err(|e| anyhow::anyhow!(e.message))?
        },
    };
    Ok((config, sealed))
}

/// The tracing filter of the daemon's log, which `debug` changes.
type LogLevel =
    tracing_subscriber::reload::Handle<tracing_subscriber::EnvFilter, tracing_subscriber::Registry>;

/// SIGHUP: rereads the file and applies what it changes, between `RELOADING=1` and `READY=1`;
/// a file that does not apply is logged and changes nothing (dockerd's reload).
async fn reload_on_sighup(
    mut hup: tokio::signal::unix::Signal,
    daemon: std::sync::Arc<Daemon>,
    file: config_file::Source,
    flags: DaemonArgs,
    (log_level, base_level): (LogLevel, String),
) {
    while hup.recv().await.is_some() {
        notify::reloading();
        let (file, flags_now) = (file.clone(), flags.clone());
        let change = tokio::task::spawn_blocking(move || file.reload(&flags_now))
            .await
            .map_err(anyhow::Error::from)
            .and_then(|r| r);
        let applied = change.and_then(|c| daemon.reload(c).map_err(|e| anyhow::anyhow!(e.message)));
        match applied {
            Ok(()) => {
                let level = if daemon.live().debug {
                    "debug"
                } else {
                    &base_level
                };
                if let Ok(f) = tracing_subscriber::EnvFilter::try_new(level) {
                    let _ = log_level.reload(f);
                }
            }
            Err(e) => tracing::error!("Error reconfiguring the daemon: {e:#}"),
        }
        notify::ready();
    }
}

/// What `--validate` checks beyond the file: every value berth can check without acting.
fn check(args: &DaemonArgs) -> Result<()> {
    config_file::check_labels(&args.labels).map_err(anyhow::Error::msg)?;
    if args.features.get("buildkit") == Some(&true) {
        anyhow::bail!(
            "berth does not support the feature buildkit=true: its builder is Docker's classic one"
        );
    }
    tracing_subscriber::EnvFilter::try_new(args.log_filter())
        .with_context(|| format!("invalid log level {}", args.log_filter()))?;
    berth_daemon::config::Runtimes::new(&args.runtime_args()?, &args.default_runtime)
        .map_err(anyhow::Error::msg)?;
    network(args)?;
    args.container_defaults()?;
    berth_daemon::config::DaemonSeccomp::from_arg(&args.seccomp_profile)
        .map_err(anyhow::Error::msg)?;
    listen::Plan::new(&args.host, &args.tls)?;
    Ok(())
}

fn network(args: &DaemonArgs) -> Result<berth_daemon::config::NetworkConfig> {
    berth_daemon::config::NetworkConfig::from_args(
        &args.bridge,
        args.bip.as_deref(),
        args.fixed_cidr.as_deref(),
        &args.pool_args(),
    )
    .map_err(anyhow::Error::msg)
}
