//! `compose down`.

use anyhow::{Result, bail};
use berth_compose::ops::down::{self, DownOptions};

use super::{Ctx, project};

#[derive(Debug, clap::Args)]
pub struct DownArgs {
    /// Remove containers for services not defined in the Compose file.
    #[arg(long)]
    remove_orphans: bool,
    /// Remove images used by services. "local" remove only images that don't have a custom tag ("local"|"all").
    #[arg(long)]
    rmi: Option<String>,
    /// Specify a shutdown timeout in seconds.
    #[arg(short = 't', long)]
    timeout: Option<u64>,
    /// Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers.
    #[arg(short, long)]
    volumes: bool,
    #[arg(value_name = "SERVICES")]
    services: Vec<String>,
}

pub async fn down(ctx: &Ctx, a: DownArgs) -> Result<u8> {
    if let Some(r) = &a.rmi
        && r != "all"
        && r != "local"
    {
        bail!("invalid value for --rmi: {r}");
    }
    if !a.services.is_empty() {
        bail!(
            "berth compose down takes the whole project down: naming services is not supported yet"
        );
    }
    let (name, opened) = project::target(ctx)?;
    let opts = DownOptions {
        remove_orphans: a.remove_orphans,
        volumes: a.volumes,
        rmi: a.rmi,
        timeout: a.timeout,
    };
    let p = opened.as_ref().map(|o| &o.info.project);
    down::down(&ctx.api, &name, p, &opts, ctx.progress).await?;
    Ok(0)
}
