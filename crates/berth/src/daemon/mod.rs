//! `berth daemon`: opens the data root, listens on its sockets, serves until SIGTERM/SIGINT.

mod listen;

use std::path::PathBuf;

use anyhow::{Context, Result};
use berth_daemon::{Daemon, DaemonConfig};

/// Options of `berth daemon`.
#[derive(Debug, clap::Args)]
pub struct DaemonArgs {
    /// Daemon socket(s) to listen on: `unix://PATH` (or a PATH), `tcp://HOST:PORT`
    /// (repeatable; default /run/berth/berth.sock, with TLS tcp://localhost:2376).
    #[arg(long, short = 'H', env = "BERTH_SOCKET")]
    pub host: Vec<String>,
    #[command(flatten)]
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
    pub api_read_timeout: u64,
    /// An OCI runtime containers may choose with `--runtime NAME`: `NAME=PATH`, PATH a binary
    /// with runc's command line (repeatable).
    #[arg(long = "add-runtime", value_name = "NAME=PATH")]
    pub add_runtime: Vec<String>,
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
    pub default_address_pool: Vec<String>,
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
    pub log_opt: Vec<String>,
    /// Log level (error, warn, info, debug, trace).
    #[arg(long, short = 'l', default_value = "info")]
    pub log_level: String,
}

pub fn run(args: DaemonArgs) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&args.log_level)
                .context("invalid --log-level")?,
        )
        .with_writer(std::io::stderr)
        .init();
    let runtimes = berth_daemon::config::Runtimes::new(&args.add_runtime, &args.default_runtime)
        .map_err(anyhow::Error::msg)?;
    let plan = listen::Plan::new(&args.host, &args.tls)?;
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
        network: berth_daemon::config::NetworkConfig::from_args(
            &args.bridge,
            args.bip.as_deref(),
            args.fixed_cidr.as_deref(),
            &args.default_address_pool,
        )
        .map_err(anyhow::Error::msg)?,
        security: berth_daemon::config::SecurityConfig {
            seccomp: berth_daemon::config::DaemonSeccomp::from_arg(&args.seccomp_profile)
                .map_err(anyhow::Error::msg)?,
            no_new_privileges: args.no_new_privileges,
            userns_remap,
        },
        api_warnings: plan.warnings(),
        logging: berth_daemon::config::LoggingConfig::new(&args.log_driver, &args.log_opt)
            .map_err(|e| anyhow::anyhow!(e.message))?,
    };
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
        let shutdown = async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            tracing::info!("shutting down");
        };
        let read_timeout = std::time::Duration::from_secs(args.api_read_timeout.max(1));
        berth_daemon::http::serve(listeners, daemon, read_timeout, shutdown).await;
        // Like its other state, the daemon's parent cgroup goes once no container uses it.
        berth_runtime::cgroup::remove_parent("/berth");
        drop(sealed);
        for socket in plan.sockets() {
            let _ = std::fs::remove_file(socket);
        }
        Ok(())
    })
}
