//! `berth registry serve|gc`: the OCI distribution registry of berth-distribution, run as
//! its own process (it needs no daemon), and its retention and garbage collection on
//! demand.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use berth_distribution::server::config::parse_duration;
use berth_distribution::server::retention::Policy;
use berth_distribution::server::{Config, Registry, Server};
use clap::{Args, Subcommand};

/// `berth registry ...`.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Serve an OCI distribution registry.
    Serve(ServeArgs),
    /// Apply retention policies and collect unreferenced blobs; a served root is asked to
    /// do it itself (through `<root>/admin.sock`, with its configured policies unless
    /// `--keep-tags` is given).
    Gc(GcArgs),
}

/// Flags of `serve`; they override the configuration file.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A TOML configuration file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where to listen (default 127.0.0.1:5000).
    #[arg(long)]
    addr: Option<String>,
    /// The storage root (default /var/lib/berth-registry).
    #[arg(long)]
    root: Option<PathBuf>,
    /// An htpasswd file (bcrypt) for basic auth.
    #[arg(long)]
    htpasswd: Option<PathBuf>,
    /// Token auth with this Ed25519 key (PKCS#8 PEM); needs --htpasswd for its users.
    #[arg(long)]
    token_key: Option<PathBuf>,
    /// The token realm to send clients to (default: /token on this registry).
    #[arg(long)]
    token_realm: Option<String>,
    /// TLS certificate (PEM).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Apply retention and collect garbage this often (e.g. 1h).
    #[arg(long, value_parser = parse_duration)]
    gc_interval: Option<std::time::Duration>,
    /// Blobs touched this recently are never collected (default 1h).
    #[arg(long, value_parser = parse_duration)]
    gc_grace: Option<std::time::Duration>,
    /// Log filter (tracing's syntax; the access log is `berth_distribution::access`).
    #[arg(long, default_value = "info")]
    log_level: String,
}

/// Flags of `gc`.
#[derive(Debug, Args)]
pub struct GcArgs {
    /// The storage root.
    #[arg(long)]
    root: Option<PathBuf>,
    /// The configuration whose policies apply.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Report what would be kept and deleted, and why; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// One policy instead of the configured ones: keep the N most recently pushed tags ...
    #[arg(long, requires = "repository")]
    keep_tags: Option<usize>,
    /// ... of the repositories matching this glob (`*` one component, `**` any).
    #[arg(long)]
    repository: Option<String>,
    /// Blobs touched this recently are not collected (default: the configuration's, 1h).
    #[arg(long, value_parser = parse_duration)]
    grace: Option<std::time::Duration>,
}

/// Runs a registry command.
pub fn run(command: RegistryCommand) -> ExitCode {
    let result = match command {
        RegistryCommand::Serve(a) => serve(a),
        RegistryCommand::Gc(a) => gc(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("berth registry: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load(path: Option<&PathBuf>) -> Result<Config> {
    Ok(match path {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    })
}

fn serve(a: ServeArgs) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(&a.log_level).context("--log-level")?;
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .init();
    let mut config = load(a.config.as_ref())?;
    if let Some(v) = a.addr {
        config.addr = v;
    }
    if let Some(v) = a.root {
        config.root = v;
    }
    if let Some(v) = a.htpasswd {
        config.auth.htpasswd = Some(v);
    }
    if let Some(key) = a.token_key {
        let mut t = berth_distribution::server::config::TokenConfig::new(key);
        t.realm = a.token_realm;
        config.auth.token = Some(t);
    }
    if let (Some(cert), Some(key)) = (a.tls_cert, a.tls_key) {
        config.tls = Some(berth_distribution::server::config::TlsConfig { cert, key });
    }
    if a.gc_interval.is_some() {
        config.gc.interval = a.gc_interval;
    }
    if let Some(g) = a.gc_grace {
        config.gc.grace = g;
    }
    let rt = tokio::runtime::Runtime::new().context("tokio runtime")?;
    rt.block_on(async move {
        let root = config.root.clone();
        let registry =
            Registry::open(config).with_context(|| format!("opening {}", root.display()))?;
        let server = Server::bind(registry).await?;
        let addr = server.local_addr()?;
        eprintln!("berth registry: listening on {addr}");
        tracing::info!(%addr, root = %root.display(), "registry serving");
        server.run(shutdown()).await;
        Ok(())
    })
}

async fn shutdown() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

fn gc(a: GcArgs) -> Result<()> {
    let mut config = load(a.config.as_ref())?;
    if let Some(root) = a.root.clone() {
        config.root = root;
    }
    if let Some(g) = a.grace {
        config.gc.grace = g;
    }
    let socket = berth_distribution::server::admin::socket_path(&config.root);
    if let Ok(stream) = std::os::unix::net::UnixStream::connect(&socket) {
        print!("{}", ask_server(stream, &a)?);
        return Ok(());
    }
    let policies = match (a.keep_tags, &a.repository) {
        (Some(n), Some(p)) => vec![Policy::keep_latest(p, n)],
        _ => config.retention.clone(),
    };
    let root = config.root.clone();
    let registry = Registry::open(config).with_context(|| format!("opening {}", root.display()))?;
    let report = registry.apply_policies(&policies, a.dry_run)?;
    let gc = if a.dry_run {
        None
    } else {
        Some(registry.collect_garbage()?)
    };
    print!(
        "{}",
        berth_distribution::server::gc::report_text(&report, gc.as_ref())
    );
    Ok(())
}

/// A served root: the server runs the collection (its own policies unless `--keep-tags`),
/// asked over its admin socket; its report.
fn ask_server(mut stream: std::os::unix::net::UnixStream, a: &GcArgs) -> Result<String> {
    use std::io::{Read, Write};
    let mut query = vec![format!("dry_run={}", a.dry_run)];
    if let (Some(n), Some(p)) = (a.keep_tags, &a.repository) {
        let p: String = p.bytes().map(|b| format!("%{b:02X}")).collect();
        query.push(format!("keep_tags={n}&repository={p}"));
    }
    if let Some(g) = a.grace {
        query.push(format!("grace={}ms", g.as_millis()));
    }
    let request = format!(
        "POST /gc?{} HTTP/1.0\r\nHost: registry\r\nContent-Length: 0\r\n\r\n",
        query.join("&")
    );
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    anyhow::ensure!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "the served registry: {}",
        body.trim()
    );
    Ok(body.to_string())
}
