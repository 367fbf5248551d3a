//! `compose up` and `compose create`.

use std::time::Duration;

use anyhow::{Result, bail};
use berth_compose::ops::converge::ConvergeOptions;
use berth_compose::ops::images::ImageOptions;
use berth_compose::ops::up::{self, UpOptions};
use indexmap::IndexMap;

use super::{Ctx, attached, project};

/// What `create` and `up` share.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Build images before starting containers.
    #[arg(long)]
    build: bool,
    /// Don't build an image, even if it's policy.
    #[arg(long, conflicts_with = "build")]
    no_build: bool,
    /// Pull image before running ("always"|"missing"|"never"|"build").
    #[arg(long)]
    pull: Option<String>,
    /// Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.
    #[arg(long, value_name = "SERVICE=NUM")]
    scale: Vec<String>,
    /// Remove containers for services not defined in the Compose file.
    #[arg(long)]
    remove_orphans: bool,
    /// Recreate containers even if their configuration and image haven't changed.
    #[arg(long)]
    force_recreate: bool,
    /// If containers already exist, don't recreate them. Incompatible with --force-recreate.
    #[arg(long, conflicts_with = "force_recreate")]
    no_recreate: bool,
    /// Don't start linked services.
    #[arg(long)]
    no_deps: bool,
    /// Recreate anonymous volumes instead of retrieving data from the previous containers.
    #[arg(short = 'V', long)]
    renew_anon_volumes: bool,
    /// Use this timeout in seconds for container shutdown when containers are already running.
    #[arg(short = 't', long)]
    timeout: Option<u64>,
    #[arg(value_name = "SERVICE")]
    services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct UpArgs {
    #[command(flatten)]
    create: CreateArgs,
    /// Detached mode: Run containers in the background.
    #[arg(short, long)]
    detach: bool,
    /// Wait for services to be running|healthy. Implies detached mode.
    #[arg(long)]
    wait: bool,
    /// Maximum duration in seconds to wait for the project to be running|healthy.
    #[arg(long)]
    wait_timeout: Option<u64>,
    /// Don't start the services after creating them.
    #[arg(long)]
    no_start: bool,
    #[command(flatten)]
    attach: attached::AttachArgs,
}

fn scales(list: &[String]) -> Result<IndexMap<String, u32>> {
    let mut m = IndexMap::new();
    for s in list {
        let Some((svc, n)) = s.split_once('=') else {
            bail!("invalid --scale {s:?}: expected SERVICE=NUM");
        };
        let n: u32 = n
            .parse()
            .map_err(|_| anyhow::anyhow!("invalid --scale {s:?}: NUM must be a number"))?;
        m.insert(svc.to_string(), n);
    }
    Ok(m)
}

fn options(a: &CreateArgs, no_start: bool) -> Result<UpOptions> {
    if let Some(p) = &a.pull
        && !["always", "missing", "never", "build"].contains(&p.as_str())
    {
        bail!("invalid --pull option {p:?}");
    }
    Ok(UpOptions {
        services: a.services.clone(),
        no_deps: a.no_deps,
        images: ImageOptions {
            build: a.build,
            no_build: a.no_build,
            pull: a.pull.clone(),
        },
        converge: ConvergeOptions {
            force_recreate: a.force_recreate,
            no_recreate: a.no_recreate,
            renew_anon_volumes: a.renew_anon_volumes,
            timeout: a.timeout,
            scale: None,
        },
        scale: scales(&a.scale)?,
        no_start,
        remove_orphans: a.remove_orphans,
        ..UpOptions::default()
    })
}

/// The project with the services named on the command line enabled whatever their profiles.
fn opened(ctx: &Ctx, services: &[String]) -> Result<berth_compose::open::Opened> {
    let mut o = project::open(ctx)?;
    if !services.is_empty() {
        o.info.project = o.info.project.with_services_enabled(services)?;
    }
    Ok(o)
}

pub async fn create(ctx: &Ctx, a: CreateArgs) -> Result<u8> {
    let o = opened(ctx, &a.services)?;
    let opts = options(&a, true)?;
    up::up(&ctx.api, &o.info, &opts, ctx.progress).await?;
    Ok(0)
}

pub async fn up(ctx: &Ctx, a: UpArgs) -> Result<u8> {
    let o = opened(ctx, &a.create.services)?;
    let mut opts = options(&a.create, a.no_start)?;
    opts.wait = a.wait;
    opts.wait_timeout = a.wait_timeout.map(Duration::from_secs);
    let detached = a.detach || a.wait || a.no_start;
    if detached && a.attach.wants_attach() {
        bail!(
            "--abort-on-container-exit, --exit-code-from and --attach can't be combined with --detach or --wait"
        );
    }
    let since = chrono::Utc::now().timestamp() - 1;
    let order = up::up(&ctx.api, &o.info, &opts, ctx.progress).await?;
    if detached {
        return Ok(0);
    }
    attached::follow(
        ctx,
        &o.info.project,
        &order,
        &a.create.services,
        &a.attach,
        since,
    )
    .await
}
