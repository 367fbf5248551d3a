//! `compose rollback`: services back to the configuration and image their containers had
//! before the last update (`deploy.rollback_config` says how; Swarm's defaults otherwise).

use anyhow::{Result, bail};
use berth_compose::ops::observed::{self, OneOff};
use berth_compose::ops::update::{self, Policy};

use super::{Ctx, project};

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    services: Vec<String>,
}

pub async fn rollback(ctx: &Ctx, a: RollbackArgs) -> Result<u8> {
    let o = project::open(ctx)?;
    let p = &o.info.project;
    let names: Vec<String> = if a.services.is_empty() {
        p.services.keys().cloned().collect()
    } else {
        a.services.clone()
    };
    let mut rolled = 0;
    for name in &names {
        let Some(s) = p.services.get(name) else {
            bail!("no such service: {name}");
        };
        let cfg = s
            .deploy
            .as_ref()
            .and_then(|d| d.rollback_config.clone())
            .unwrap_or_default();
        let policy = Policy::of(name, &cfg)?;
        let list = observed::containers(
            &ctx.api,
            &p.name,
            std::slice::from_ref(name),
            OneOff::Exclude,
        )
        .await?;
        rolled += update::rollback(&ctx.api, &list, &policy, ctx.progress).await?;
    }
    if rolled == 0 {
        bail!(
            "nothing to roll back: no container of {} replaced an earlier one",
            names.join(", ")
        );
    }
    Ok(0)
}
