//! The CLI: Docker's command syntax, spoken to the daemon over the Engine API.

mod attach;
mod build;
mod compose;
mod container_files;
mod container_state;
mod containers;
mod cp;
mod detach_opts;
mod device_opts;
mod exec;
mod health_opts;
mod history;
mod image_archive;
mod images;
mod jsonmessage;
mod limit_opts;
mod login;
pub(crate) use limit_opts::parse_ulimit;
pub(crate) use run::bytes_arg;
mod mounts;
mod net_opts;
mod networks;
mod ns_opts;
mod port;
mod progress;
mod prune;
mod pull;
mod push;
mod registry;
mod registry_auth;
mod resource_opts;
mod run;
mod security_opts;
mod sig_proxy;
mod stats;
mod system;
mod system_df;
mod template;
mod term;
mod update;
mod volumes;

use std::process::ExitCode;

use anyhow::Result;
use berth_client::percent_encode as enc;
use berth_client::{Client, ClientError};
use clap::{Parser, Subcommand};

/// berth: build, ship and run containers.
#[derive(Debug, Parser)]
#[command(name = "berth", version, about)]
pub struct Cli {
    /// Daemon socket to connect to: `unix://PATH`, `tcp://HOST:PORT` (also BERTH_HOST, then
    /// DOCKER_HOST). Before the command, as with docker (`history -H` is `--human`).
    #[arg(short = 'H', long)]
    host: Option<String>,
    #[command(flatten)]
    tls: crate::tls_flags::TlsFlags,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the berth daemon.
    Daemon(crate::daemon::DaemonArgs),
    /// Build an image from a Dockerfile.
    Build(build::BuildArgs),
    /// Import the contents from a tarball to create a filesystem image.
    Import(images::ImportArgs),
    /// List images.
    Images(images::ImagesArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.
    Tag(images::TagArgs),
    /// Remove one or more images.
    Rmi(images::RmiArgs),
    /// Show the history of an image.
    History(history::HistoryArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default).
    Save(image_archive::SaveArgs),
    /// Load an image from a tar archive or STDIN.
    Load(image_archive::LoadArgs),
    /// Download an image from a registry.
    Pull(pull::PullArgs),
    /// Upload an image to a registry.
    Push(push::PushArgs),
    /// Authenticate to a registry (Docker Hub if no server is given).
    Login(login::LoginArgs),
    /// Log out from a registry (Docker Hub if no server is given).
    Logout(login::LogoutArgs),
    /// Create and run a new container from an image.
    Run(run::RunArgs),
    /// Create a new container.
    Create(run::CreateArgs),
    /// Start one or more stopped containers.
    Start(containers::StartArgs),
    /// Attach local standard input, output, and error streams to a running container.
    Attach(attach::AttachArgs),
    /// Stop one or more running containers.
    Stop(containers::StopArgs),
    /// Update configuration of one or more containers.
    Update(update::UpdateArgs),
    /// Restart one or more containers.
    Restart(containers::StopArgs),
    /// Kill one or more running containers.
    Kill(containers::KillArgs),
    /// Pause all processes within one or more containers.
    Pause(container_state::PauseArgs),
    /// Unpause all processes within one or more containers.
    Unpause(container_state::PauseArgs),
    /// Rename a container.
    Rename(container_state::RenameArgs),
    /// Remove one or more containers.
    Rm(containers::RmArgs),
    /// List containers.
    Ps(containers::PsArgs),
    /// Execute a command in a running container.
    Exec(exec::ExecArgs),
    /// Fetch the logs of a container.
    Logs(containers::LogsArgs),
    /// Block until one or more containers stop, then print their exit codes.
    Wait(containers::WaitArgs),
    /// Display the running processes of a container.
    Top(containers::TopArgs),
    /// Display a live stream of container(s) resource usage statistics.
    Stats(stats::StatsArgs),
    /// List port mappings or a specific mapping for the container.
    Port(port::PortArgs),
    /// Inspect changes to files or directories on a container's filesystem.
    Diff(container_files::DiffArgs),
    /// Export a container's filesystem as a tar archive.
    Export(container_files::ExportArgs),
    /// Create a new image from a container's changes.
    Commit(container_files::CommitArgs),
    /// Define and run multi-container applications (the Compose Specification).
    Compose(compose::ComposeArgs),
    /// Manage volumes.
    #[command(subcommand)]
    Volume(volumes::VolumeCommand),
    /// Manage networks.
    #[command(subcommand)]
    Network(networks::NetworkCommand),
    /// Copy files/folders between a container and the local filesystem.
    Cp(cp::CpArgs),
    /// Return low-level information on containers or images.
    Inspect(containers::InspectArgs),
    /// Get real time events from the server.
    Events(system::EventsArgs),
    /// Display system-wide information.
    Info,
    /// Manage berth (`system df`).
    #[command(subcommand)]
    System(SystemCommand),
    /// Manage builds (`builder prune`).
    #[command(subcommand)]
    Builder(BuilderCommand),
    /// Manage images (`image prune`).
    #[command(subcommand)]
    Image(ImageCommand),
    /// Manage containers (`container prune`).
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Show the berth version information.
    Version,
    /// An OCI distribution registry (`registry serve`, `registry gc`).
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
}

#[derive(Debug, Subcommand)]
enum SystemCommand {
    /// Show disk usage.
    Df(system::DfArgs),
    /// Remove unused data.
    Prune(prune::SystemPruneArgs),
}

#[derive(Debug, Subcommand)]
enum ImageCommand {
    /// Remove unused images.
    Prune(prune::ImagePruneArgs),
    /// Download an image from a registry.
    Pull(pull::PullArgs),
    /// Upload an image to a registry.
    Push(push::PushArgs),
}

#[derive(Debug, Subcommand)]
enum ContainerCommand {
    /// Remove all stopped containers.
    Prune(prune::ContainerPruneArgs),
}

#[derive(Debug, Subcommand)]
enum BuilderCommand {
    /// Remove build cache.
    Prune(system::PruneArgs),
}

/// The daemon to talk to, as the docker CLI finds it: `-H`, then `BERTH_HOST`, then
/// `DOCKER_HOST`, then the default socket (`tcp://localhost:2376` with TLS); TLS applies to
/// TCP only, and TCP without it is plain HTTP.
fn client(host: Option<String>, flags: &crate::tls_flags::TlsFlags) -> Result<Client> {
    use crate::hosts::{self, Host};
    let tls = flags.client();
    let value = host
        .or_else(|| std::env::var("BERTH_HOST").ok())
        .or_else(|| std::env::var("DOCKER_HOST").ok())
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| {
            if tls.is_some() {
                hosts::DEFAULT_TLS_HOST.into()
            } else {
                format!("unix://{}", hosts::DEFAULT_SOCKET)
            }
        });
    match hosts::client_host(&value).map_err(anyhow::Error::msg)? {
        Host::Unix(path) => Ok(Client::new(&path.to_string_lossy())),
        Host::Tcp { addr, path } => {
            let tls = tls.map(|t| berth_client::TlsOptions {
                verify: t.verify,
                ca: Some(t.ca).filter(|p| !p.as_os_str().is_empty()),
                cert: t.cert,
                key: t.key,
            });
            Ok(Client::tcp(&addr, &path, tls.as_ref())?)
        }
        Host::Fd(_) => unreachable!("client_host refuses fd://"),
    }
}

/// Runs the CLI and maps failures to Docker's exit codes.
pub fn run(cli: Cli) -> ExitCode {
    if let Command::Daemon(args) = cli.command {
        return match crate::daemon::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("berth daemon: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if let Command::Registry(c) = cli.command {
        return registry::run(c);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = client(cli.host, &cli.tls).and_then(|c| rt.block_on(dispatch(c, cli.command)));
    // A read of stdin may still be pending in the blocking pool: don't wait for it.
    rt.shutdown_background();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("{}", message(&e));
            ExitCode::from(1)
        }
    }
}

fn message(e: &anyhow::Error) -> String {
    match e.downcast_ref::<ClientError>() {
        Some(
            c @ (ClientError::Api { .. }
            | ClientError::Connect { .. }
            | ClientError::Tls { .. }
            | ClientError::TlsConfig(_)),
        ) => c.to_string(),
        _ => format!("{e:#}"),
    }
}

async fn dispatch(client: Client, command: Command) -> Result<u8> {
    match command {
        Command::Daemon(_) | Command::Registry(_) => unreachable!("handled before"),
        Command::Build(a) => build::build(&client, a).await,
        Command::Import(a) => images::import(&client, a).await,
        Command::Images(a) => images::images(&client, a).await,
        Command::Tag(a) => images::tag(&client, a).await,
        Command::Rmi(a) => images::rmi(&client, a).await,
        Command::History(a) => history::history(&client, a).await,
        Command::Save(a) => image_archive::save(&client, a).await,
        Command::Load(a) => image_archive::load(&client, a).await,
        Command::Pull(a) => pull::pull(&client, a).await,
        Command::Push(a) => push::push(&client, a).await,
        Command::Login(a) => login::login(&client, a).await,
        Command::Logout(a) => login::logout(a).await,
        Command::Run(a) => run::run(&client, a).await,
        Command::Create(a) => run::create(&client, a).await,
        Command::Start(a) => containers::start(&client, a).await,
        Command::Attach(a) => attach::attach(&client, a).await,
        Command::Stop(a) => containers::stop(&client, a, "stop").await,
        Command::Update(a) => update::update(&client, a).await,
        Command::Restart(a) => containers::stop(&client, a, "restart").await,
        Command::Kill(a) => containers::kill(&client, a).await,
        Command::Rm(a) => containers::rm(&client, a).await,
        Command::Ps(a) => containers::ps(&client, a).await,
        Command::Exec(a) => exec::exec(&client, a).await,
        Command::Logs(a) => containers::logs(&client, a).await,
        Command::Wait(a) => containers::wait(&client, a).await,
        Command::Top(a) => containers::top(&client, a).await,
        Command::Pause(a) => container_state::pause(&client, a, "pause").await,
        Command::Unpause(a) => container_state::pause(&client, a, "unpause").await,
        Command::Rename(a) => container_state::rename(&client, a).await,
        Command::Stats(a) => stats::stats(&client, a).await,
        Command::Port(a) => port::port(&client, a).await,
        Command::Inspect(a) => containers::inspect(&client, a).await,
        Command::Diff(a) => container_files::diff(&client, a).await,
        Command::Export(a) => container_files::export(&client, a).await,
        Command::Commit(a) => container_files::commit(&client, a).await,
        Command::Compose(a) => compose::compose(&client, a).await,
        Command::Volume(c) => volumes::volume(&client, c).await,
        Command::Network(c) => networks::network(&client, c).await,
        Command::Cp(a) => cp::cp(&client, a).await,
        Command::Events(a) => system::events(&client, a).await,
        Command::Info => system::info(&client).await,
        Command::System(SystemCommand::Df(a)) => system::df(&client, a).await,
        Command::System(SystemCommand::Prune(a)) => prune::system(&client, a).await,
        Command::Image(ImageCommand::Prune(a)) => prune::image(&client, a).await,
        Command::Image(ImageCommand::Pull(a)) => pull::pull(&client, a).await,
        Command::Image(ImageCommand::Push(a)) => push::push(&client, a).await,
        Command::Container(ContainerCommand::Prune(a)) => prune::container(&client, a).await,
        Command::Builder(BuilderCommand::Prune(a)) => system::builder_prune(&client, a).await,
        Command::Version => version(&client).await,
    }
}

async fn version(client: &Client) -> Result<u8> {
    println!(
        "Client:\n Version:\t{}\n API version:\t{}",
        env!("CARGO_PKG_VERSION"),
        berth_api::MAX_VERSION
    );
    let v: berth_api::system::Version = client.get("/version").await?;
    println!(
        "\nServer:\n Engine:\n  Version:\t{}\n  API version:\t{} (minimum version {})\n  OS/Arch:\t{}/{}\n  Kernel:\t{}",
        v.version, v.api_version, v.min_api_version, v.os, v.arch, v.kernel_version
    );
    Ok(0)
}

/// Runs `f` for each name, printing errors as Docker does; exit 1 if any failed.
async fn each<F, Fut>(names: &[String], mut f: F) -> Result<u8>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut failed = false;
    for n in names {
        if let Err(e) = f(n.clone()).await {
            eprintln!("{}", message(&e));
            failed = true;
        }
    }
    Ok(u8::from(failed))
}

/// Docker's `--filter key=value` list as the API's JSON.
fn filters_json(filters: &[String]) -> Result<String> {
    let mut map: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for f in filters {
        let (k, v) = f
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("bad format of filter (expected name=value)"))?;
        map.entry(k.to_string()).or_default().push(v.to_string());
    }
    Ok(serde_json::to_string(&map)?)
}

/// Human size as Docker prints it: three significant digits, decimal units (`4.26MB`).
fn human_size(n: i64) -> String {
    human_size_precision(n, 3)
}

/// Go's `units.HumanSizeWithPrecision`: `digits` significant digits (`%.*g`), decimal units.
fn human_size_precision(n: i64, digits: usize) -> String {
    berth_api::units::human_size(n as f64, digits)
}

/// Docker's confirmation prompt (`message [y/N] ` on stdout); only `y` or `Y` confirms.
fn confirm(message: &str) -> Result<bool> {
    use std::io::{BufRead, Write};
    print!("{message} [y/N] ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y"))
}

/// "5 minutes ago" as Docker prints it.
fn ago(unix: i64) -> String {
    format!(
        "{} ago",
        berth_api::human_duration(chrono::Utc::now().timestamp() - unix)
    )
}

/// Prints rows in columns three spaces apart, as Docker's tabwriter does.
fn table(rows: &[Vec<String>]) {
    table_min(rows, 0);
}

/// [`table`] with columns at least `min` wide.
fn table_min(rows: &[Vec<String>], min: usize) {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            let w = rows
                .iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count());
            (w.max().unwrap_or(0) + 3).max(min)
        })
        .collect();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < cols {
                line.push_str(&" ".repeat(widths[c].saturating_sub(cell.chars().count())));
            }
        }
        // As Go's tabwriter: a cell before an empty last one keeps its padding.
        println!("{line}");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
