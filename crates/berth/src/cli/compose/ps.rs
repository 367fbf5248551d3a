//! `compose ps`: a project's containers, as Compose v2 lists them.

use anyhow::Result;
use berth_api::container::Summary;
use berth_compose::ops::observed::{self, OneOff};

use super::{Ctx, project};

#[derive(Debug, clap::Args)]
pub struct PsArgs {
    /// Show all stopped containers (including those created by the run command).
    #[arg(short, long)]
    all: bool,
    /// Only display IDs.
    #[arg(short, long)]
    quiet: bool,
    /// Display services.
    #[arg(long)]
    services: bool,
    /// Filter services by status. Values: [paused | restarting | removing | running | dead |
    /// created | exited].
    #[arg(long)]
    status: Vec<String>,
    /// Filter services by a property (supported filters: status).
    #[arg(long)]
    filter: Option<String>,
    /// Format the output: table, json, or a Go template.
    #[arg(long, default_value = "table")]
    format: String,
    /// Don't truncate output.
    #[arg(long)]
    no_trunc: bool,
    #[arg(value_name = "SERVICE")]
    service: Vec<String>,
}

/// The `--status` and `--filter status=` states asked for.
fn statuses(a: &PsArgs) -> Result<Vec<String>> {
    let mut s = a.status.clone();
    if let Some(f) = &a.filter {
        match f.split_once('=') {
            Some(("status", v)) => s.push(v.to_string()),
            _ => anyhow::bail!("unsupported filter {f:?}: only status=... is supported"),
        }
    }
    Ok(s)
}

fn fields(c: &Summary, no_trunc: bool) -> serde_json::Value {
    let cmd = crate::cli::containers::short_command(&c.command, no_trunc);
    serde_json::json!({
        "ID": c.id, "Name": observed::name(c), "Image": c.image, "Command": format!("\"{cmd}\""),
        "Project": c.labels.get(berth_compose::ops::labels::PROJECT),
        "Service": observed::service(c), "Created": c.created,
        "RunningFor": crate::cli::ago(c.created), "State": c.state, "Status": c.status,
        "Ports": crate::cli::containers::displayable_ports(&c.ports),
        "Labels": c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
    })
}

pub async fn ps(ctx: &Ctx, a: PsArgs) -> Result<u8> {
    let name = project::name(ctx)?;
    let oneoff = if a.all {
        OneOff::Include
    } else {
        OneOff::Exclude
    };
    let want = statuses(&a)?;
    let list: Vec<Summary> = observed::containers(&ctx.api, &name, &a.service, oneoff)
        .await?
        .into_iter()
        .filter(|c| {
            if want.is_empty() {
                a.all || c.state == "running"
            } else {
                want.contains(&c.state)
            }
        })
        .collect();
    if a.services {
        let mut seen: Vec<&str> = Vec::new();
        for c in &list {
            if !seen.contains(&observed::service(c)) {
                seen.push(observed::service(c));
                println!("{}", observed::service(c));
            }
        }
        return Ok(0);
    }
    if a.quiet {
        list.iter().for_each(|c| println!("{}", c.id));
        return Ok(0);
    }
    match a.format.as_str() {
        "table" => table(&list, a.no_trunc),
        "json" => {
            for c in &list {
                println!("{}", fields(c, a.no_trunc));
            }
        }
        t => {
            let t = crate::cli::template::Template::parse(t)?;
            for c in &list {
                println!("{}", t.render(&fields(c, a.no_trunc))?);
            }
        }
    }
    Ok(0)
}

fn table(list: &[Summary], no_trunc: bool) {
    let mut rows = vec![
        [
            "NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for c in list {
        let f = fields(c, no_trunc);
        let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
        rows.push(vec![
            s("Name"),
            s("Image"),
            s("Command"),
            s("Service"),
            s("RunningFor"),
            s("Status"),
            s("Ports"),
        ]);
    }
    crate::cli::table(&rows);
}
