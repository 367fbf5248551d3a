//! `compose logs`: every container's output, merged, with Compose's prefixes.

use anyhow::Result;
use berth_compose::ops::logs::{self, LogOptions};
use berth_compose::ops::observed::{self, OneOff};
use tokio::sync::mpsc;

use super::printer::Printer;
use super::{Ctx, project};

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// Follow log output.
    #[arg(short, long)]
    follow: bool,
    /// Number of lines to show from the end of the logs for each container.
    #[arg(short = 'n', long, default_value = "all")]
    tail: String,
    /// Show timestamps.
    #[arg(short, long)]
    timestamps: bool,
    /// Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes).
    #[arg(long)]
    since: Option<String>,
    /// Show logs before a timestamp or relative.
    #[arg(long)]
    until: Option<String>,
    /// Produce monochrome output.
    #[arg(long)]
    no_color: bool,
    /// Don't print prefix in logs.
    #[arg(long)]
    no_log_prefix: bool,
    /// Index of the container if service has multiple replicas.
    #[arg(long)]
    index: Option<u32>,
    services: Vec<String>,
}

pub async fn logs(ctx: &Ctx, a: LogsArgs) -> Result<u8> {
    let name = project::name(ctx)?;
    let mut list = observed::containers(&ctx.api, &name, &a.services, OneOff::Exclude).await?;
    if let Some(i) = a.index {
        list.retain(|c| observed::number(c) == i);
    }
    let time = |t: &Option<String>| {
        t.as_deref()
            .map(crate::cli::containers::time_arg)
            .transpose()
    };
    let opts = LogOptions {
        follow: a.follow,
        tail: a.tail.clone(),
        since: time(&a.since)?.unwrap_or_default(),
        until: time(&a.until)?.unwrap_or_default(),
        timestamps: a.timestamps,
    };
    let sources: Vec<String> = list.iter().map(|c| logs::short_name(&name, c)).collect();
    let printer = Printer::new(sources, a.no_color, a.no_log_prefix);
    let (tx, mut rx) = mpsc::channel(256);
    let api = ctx.api.clone();
    let reader = tokio::spawn(async move { logs::stream(&api, &name, &list, &opts, tx).await });
    while let Some(line) = rx.recv().await {
        printer.line(&line)?;
    }
    reader.await??;
    Ok(0)
}
