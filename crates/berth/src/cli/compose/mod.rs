//! `berth compose`: Compose v2's commands, flags and output, over the Engine API.

mod attached;
mod config;
mod down;
mod exec;
mod images;
mod inspect;
mod lifecycle;
mod logs;
mod ls;
mod printer;
mod project;
mod ps;
mod rollback;
mod run;
mod up;

use anyhow::Result;
use berth_client::Client;
use berth_compose::ops::api::Api;
use berth_compose::ops::progress::{Mode, Progress};
use clap::{Args, Subcommand};

/// `compose`'s own flags, before its command, as `docker compose` takes them.
#[derive(Debug, Args)]
pub struct ComposeArgs {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: ComposeCommand,
}

/// Flags every compose command shares.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Compose configuration files.
    #[arg(short = 'f', long = "file")]
    file: Vec<String>,
    /// Project name.
    #[arg(short = 'p', long = "project-name")]
    project_name: Option<String>,
    /// Specify an alternate working directory (default: the path of the first Compose file).
    #[arg(long)]
    project_directory: Option<String>,
    /// Specify a profile to enable.
    #[arg(long = "profile")]
    profile: Vec<String>,
    /// Specify an alternate environment file.
    #[arg(long = "env-file")]
    env_file: Vec<String>,
    /// Control max parallelism, -1 for unlimited.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    parallel: i64,
    /// Execute command in dry run mode.
    #[arg(long)]
    dry_run: bool,
    /// Set type of progress output (auto, tty, plain, json, quiet).
    #[arg(long, default_value = "auto")]
    progress: String,
}

#[derive(Debug, Subcommand)]
enum ComposeCommand {
    /// Create and start containers.
    Up(up::UpArgs),
    /// Stop and remove containers, networks.
    Down(down::DownArgs),
    /// Creates containers for a service.
    Create(up::CreateArgs),
    /// Parse, resolve and render compose file in canonical format.
    Config(config::ConfigArgs),
    /// Execute a command in a running container.
    Exec(exec::ExecArgs),
    /// Run a one-off command on a service.
    Run(run::RunArgs),
    /// Build or rebuild services.
    Build(images::BuildArgs),
    /// Pull service images.
    Pull(images::PullArgs),
    /// Push service images.
    Push(images::PushArgs),
    /// List images used by the created containers.
    Images(images::ImagesArgs),
    /// Display the running processes.
    Top(inspect::TopArgs),
    /// Print the public port for a port binding.
    Port(inspect::PortArgs),
    /// Block until containers of all (or specified) services stop.
    Wait(inspect::WaitArgs),
    /// Receive real time events from containers.
    Events(inspect::EventsArgs),
    /// Copy files/folders between a service container and the local filesystem.
    Cp(inspect::CpArgs),
    /// Return services to the configuration and image they had before their last update.
    Rollback(rollback::RollbackArgs),
    /// List containers.
    Ps(ps::PsArgs),
    /// List running compose projects.
    Ls(ls::LsArgs),
    /// Start services.
    Start(lifecycle::ServicesArgs),
    /// Stop services.
    Stop(lifecycle::StopArgs),
    /// Restart service containers.
    Restart(lifecycle::StopArgs),
    /// Force stop service containers.
    Kill(lifecycle::KillArgs),
    /// Pause services.
    Pause(lifecycle::ServicesArgs),
    /// Unpause services.
    Unpause(lifecycle::ServicesArgs),
    /// Removes stopped service containers.
    Rm(lifecycle::RmArgs),
    /// View output from containers.
    Logs(logs::LogsArgs),
    /// Show the Docker Compose version information.
    Version(VersionArgs),
}

#[derive(Debug, Args)]
struct VersionArgs {
    /// Format the output. Values: [pretty | json].
    #[arg(short, long, default_value = "pretty")]
    format: String,
    /// Shows only Compose's version number.
    #[arg(long)]
    short: bool,
}

/// What every command works with.
struct Ctx {
    api: Api,
    global: Global,
    progress: Progress,
}

impl Ctx {
    fn new(client: &Client, global: Global) -> Result<Ctx> {
        if global.parallel == 0 || global.parallel < -1 {
            anyhow::bail!("--parallel must be -1 (unlimited) or a positive number");
        }
        let mode = Mode::parse(&global.progress).map_err(anyhow::Error::msg)?;
        Ok(Ctx {
            api: Api::new(client.clone())
                .with_parallel((global.parallel > 0).then_some(global.parallel as usize)),
            progress: Progress::new(mode, global.dry_run),
            global,
        })
    }
}

/// Runs a compose command; its exit code.
pub async fn compose(client: &Client, a: ComposeArgs) -> Result<u8> {
    let ctx = Ctx::new(client, a.global)?;
    if ctx.global.dry_run {
        anyhow::bail!("--dry-run is not supported by berth compose yet");
    }
    match a.command {
        ComposeCommand::Up(a) => up::up(&ctx, a).await,
        ComposeCommand::Down(a) => down::down(&ctx, a).await,
        ComposeCommand::Create(a) => up::create(&ctx, a).await,
        ComposeCommand::Config(a) => config::config(&ctx, a).await,
        ComposeCommand::Exec(a) => exec::exec(&ctx, a).await,
        ComposeCommand::Run(a) => run::run(&ctx, a).await,
        ComposeCommand::Build(a) => images::build(&ctx, a).await,
        ComposeCommand::Pull(a) => images::pull(&ctx, a).await,
        ComposeCommand::Push(a) => images::push(&ctx, a).await,
        ComposeCommand::Images(a) => images::images(&ctx, a).await,
        ComposeCommand::Top(a) => inspect::top(&ctx, a).await,
        ComposeCommand::Port(a) => inspect::port(&ctx, a).await,
        ComposeCommand::Wait(a) => inspect::wait(&ctx, a).await,
        ComposeCommand::Events(a) => inspect::events(&ctx, a).await,
        ComposeCommand::Cp(a) => inspect::cp(&ctx, a).await,
        ComposeCommand::Rollback(a) => rollback::rollback(&ctx, a).await,
        ComposeCommand::Ps(a) => ps::ps(&ctx, a).await,
        ComposeCommand::Ls(a) => ls::ls(&ctx, a).await,
        ComposeCommand::Start(a) => lifecycle::start(&ctx, a).await,
        ComposeCommand::Stop(a) => lifecycle::stop(&ctx, a, false).await,
        ComposeCommand::Restart(a) => lifecycle::stop(&ctx, a, true).await,
        ComposeCommand::Kill(a) => lifecycle::kill(&ctx, a).await,
        ComposeCommand::Pause(a) => lifecycle::pause(&ctx, a, true).await,
        ComposeCommand::Unpause(a) => lifecycle::pause(&ctx, a, false).await,
        ComposeCommand::Rm(a) => lifecycle::rm(&ctx, a).await,
        ComposeCommand::Logs(a) => logs::logs(&ctx, a).await,
        ComposeCommand::Version(a) => version(a),
    }
}

fn version(a: VersionArgs) -> Result<u8> {
    let v = berth_compose::ops::labels::COMPOSE_VERSION;
    match (a.short, a.format.as_str()) {
        (true, _) => println!("{v}"),
        (false, "json") => println!("{}", serde_json::json!({ "version": format!("v{v}") })),
        (false, "pretty") => println!(
            "berth compose version v{v} (berth {})",
            env!("CARGO_PKG_VERSION")
        ),
        (false, other) => anyhow::bail!("unsupported format {other:?}: use pretty or json"),
    }
    Ok(0)
}
