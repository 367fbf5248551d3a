//! `start`, `stop`, `restart`, `kill`, `pause`, `unpause`, `rm`.

use anyhow::Result;
use berth_compose::ops::lifecycle::{self, Action};
use berth_compose::ops::observed::OneOff;

use super::{Ctx, project};

#[derive(Debug, clap::Args)]
pub struct ServicesArgs {
    services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct StopArgs {
    /// Specify a shutdown timeout in seconds.
    #[arg(short = 't', long)]
    timeout: Option<u64>,
    services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct KillArgs {
    /// SIGNAL to send to the container.
    #[arg(short, long, default_value = "SIGKILL")]
    signal: String,
    services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RmArgs {
    /// Don't ask to confirm removal.
    #[arg(short, long)]
    force: bool,
    /// Stop the containers, if required, before removing.
    #[arg(short, long)]
    stop: bool,
    /// Remove any anonymous volumes attached to containers.
    #[arg(short, long)]
    volumes: bool,
    services: Vec<String>,
}

async fn act(ctx: &Ctx, services: &[String], action: Action) -> Result<Vec<String>> {
    let name = project::name(ctx)?;
    let done = lifecycle::apply(
        &ctx.api,
        &name,
        services,
        OneOff::Exclude,
        &action,
        ctx.progress,
    )
    .await?;
    Ok(done)
}

pub async fn start(ctx: &Ctx, a: ServicesArgs) -> Result<u8> {
    act(ctx, &a.services, Action::Start).await?;
    Ok(0)
}

pub async fn stop(ctx: &Ctx, a: StopArgs, restart: bool) -> Result<u8> {
    let action = if restart {
        Action::Restart(a.timeout)
    } else {
        Action::Stop(a.timeout)
    };
    act(ctx, &a.services, action).await?;
    Ok(0)
}

pub async fn kill(ctx: &Ctx, a: KillArgs) -> Result<u8> {
    if act(ctx, &a.services, Action::Kill(a.signal))
        .await?
        .is_empty()
    {
        anyhow::bail!("no container to kill");
    }
    Ok(0)
}

pub async fn pause(ctx: &Ctx, a: ServicesArgs, pause: bool) -> Result<u8> {
    let action = if pause {
        Action::Pause
    } else {
        Action::Unpause
    };
    act(ctx, &a.services, action).await?;
    Ok(0)
}

pub async fn rm(ctx: &Ctx, a: RmArgs) -> Result<u8> {
    let name = project::name(ctx)?;
    let all =
        berth_compose::ops::observed::containers(&ctx.api, &name, &a.services, OneOff::Include)
            .await?;
    let doomed: Vec<&str> = all
        .iter()
        .filter(|c| a.stop || c.state != "running")
        .map(berth_compose::ops::observed::name)
        .collect();
    if doomed.is_empty() {
        eprintln!("No stopped containers");
        return Ok(0);
    }
    if !a.force {
        println!("Going to remove {}", doomed.join(", "));
        if !crate::cli::confirm("? Are you sure?")? {
            return Ok(0);
        }
    }
    let action = Action::Remove {
        stop: a.stop,
        volumes: a.volumes,
    };
    lifecycle::apply(
        &ctx.api,
        &name,
        &a.services,
        OneOff::Include,
        &action,
        ctx.progress,
    )
    .await?;
    Ok(0)
}
