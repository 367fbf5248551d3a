//! `compose exec`: a command in a service's running container, through the CLI's `exec`.

use std::io::IsTerminal;

use anyhow::{Result, bail};
use berth_compose::ops::observed::{self, OneOff};
use clap::Parser;

use super::{Ctx, project};

#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// Detached mode: Run command in the background.
    #[arg(short, long)]
    detach: bool,
    /// Set environment variables.
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Index of the container if service has multiple replicas.
    #[arg(long, default_value_t = 1)]
    index: u32,
    /// Disable pseudo-TTY allocation. By default `compose exec` allocates a TTY.
    #[arg(short = 'T', long = "no-TTY")]
    no_tty: bool,
    /// Give extended privileges to the process.
    #[arg(long)]
    privileged: bool,
    /// Run the command as this user.
    #[arg(short, long)]
    user: Option<String>,
    /// Path to workdir directory for this command.
    #[arg(short, long)]
    workdir: Option<String>,
    service: String,
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

/// The CLI's `exec` arguments, parsed as `berth exec` would parse them.
#[derive(Parser)]
struct Exec {
    #[command(flatten)]
    a: crate::cli::exec::ExecArgs,
}

pub async fn exec(ctx: &Ctx, a: ExecArgs) -> Result<u8> {
    let name = project::name(ctx)?;
    let list = observed::containers(
        &ctx.api,
        &name,
        std::slice::from_ref(&a.service),
        OneOff::Exclude,
    )
    .await?;
    let Some(c) = list
        .iter()
        .find(|c| observed::number(c) == a.index && c.state == "running")
    else {
        bail!("service {:?} is not running", a.service);
    };
    let mut argv: Vec<String> = vec!["exec".into()];
    if a.detach {
        argv.push("-d".into());
    } else {
        argv.push("-i".into());
        if !a.no_tty && std::io::stdin().is_terminal() {
            argv.push("-t".into());
        }
    }
    if a.privileged {
        argv.push("--privileged".into());
    }
    for e in &a.env {
        argv.extend(["-e".into(), e.clone()]);
    }
    if let Some(u) = &a.user {
        argv.extend(["-u".into(), u.clone()]);
    }
    if let Some(w) = &a.workdir {
        argv.extend(["-w".into(), w.clone()]);
    }
    argv.push(c.id.clone());
    argv.extend(a.command.iter().cloned());
    let parsed = Exec::try_parse_from(argv)?;
    crate::cli::exec::exec(ctx.api.client(), parsed.a).await
}
