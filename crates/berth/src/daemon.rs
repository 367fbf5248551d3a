//! `berth daemon`: opens the data root, listens on the socket, serves until SIGTERM/SIGINT.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use anyhow::{Context, Result};
use berth_daemon::{Daemon, DaemonConfig};

/// Options of `berth daemon`.
#[derive(Debug, clap::Args)]
pub struct DaemonArgs {
    /// Unix socket to serve the API on (`unix://PATH` or `PATH`).
    #[arg(
        long,
        short = 'H',
        env = "BERTH_SOCKET",
        default_value = "/run/berth/berth.sock"
    )]
    pub host: String,
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
    let socket = socket_path(&args.host)?;
    let init_binary = std::env::current_exe().context("locating the berth binary")?;
    let sealed = berth_runtime::sealed::SealedExe::copy_of(&init_binary)
        .context("making a sealed copy of the berth binary")?;
    let config = DaemonConfig {
        root: args.data_root.clone(),
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
        },
    };
    let daemon = Daemon::open(config).map_err(|e| anyhow::anyhow!(e.message))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        daemon.restore();
        if let Some(dir) = socket.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        // The data root is ours (the database lock says so), so a socket left here is stale.
        let _ = std::fs::remove_file(&socket);
        let listener = tokio::net::UnixListener::bind(&socket).with_context(|| format!("listening on {}", socket.display()))?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o660))
            .with_context(|| format!("setting the mode of {}", socket.display()))?;
        if let Err(e) = give_group(&socket, &args.group) {
            // Docker's words; the socket stays root's alone.
            tracing::warn!("could not change group {} to {}: {e}", socket.display(), args.group);
        }
        tracing::info!(socket = %socket.display(), root = %args.data_root.display(), "berth daemon listening");
        let shutdown = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            tracing::info!("shutting down");
        };
        let read_timeout = std::time::Duration::from_secs(args.api_read_timeout.max(1));
        berth_daemon::http::serve(listener, daemon, read_timeout, shutdown).await;
        // Like its other state, the daemon's parent cgroup goes once no container uses it.
        berth_runtime::cgroup::remove_parent("/berth");
        drop(sealed);
        let _ = std::fs::remove_file(&socket);
        Ok(())
    })
}

/// The socket path of `-H`. Only unix sockets: a TCP listener needs TLS (`--tlsverify` and
/// its certificates), which berth does not have yet.
fn socket_path(host: &str) -> Result<PathBuf> {
    match host.split_once("://") {
        None => Ok(PathBuf::from(host)),
        Some(("unix", path)) => Ok(PathBuf::from(path)),
        Some((proto, _)) => anyhow::bail!(
            "-H {host}: berth serves its API on unix sockets only; {proto}:// is not supported yet (a TCP listener needs --tlsverify, which berth does not have)"
        ),
    }
}

/// Makes `group` (a name or a numeric GID) the group of `socket`.
fn give_group(socket: &std::path::Path, group: &str) -> std::result::Result<(), String> {
    let groups = std::fs::read_to_string("/etc/group").unwrap_or_default();
    let gid = berth_core::account::gid_of(&groups, group)
        .or_else(|| group.parse().ok())
        .ok_or_else(|| format!("group {group} not found"))?;
    nix::unistd::chown(socket, None, Some(nix::unistd::Gid::from_raw(gid)))
        .map_err(|e| e.to_string())
}
