//! `compose config`: the project as berth understands it, in Compose's canonical form.

use anyhow::{Result, bail};

use super::{Ctx, project};

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Format the output. Values: [yaml | json].
    #[arg(long, default_value = "yaml")]
    format: String,
    /// Only validate the configuration, don't print anything.
    #[arg(short, long)]
    quiet: bool,
    /// Print the service names, one per line.
    #[arg(long)]
    services: bool,
    /// Print the volume names, one per line.
    #[arg(long)]
    volumes: bool,
    /// Print the network names, one per line.
    #[arg(long)]
    networks: bool,
    /// Print the profile names, one per line.
    #[arg(long)]
    profiles: bool,
    /// Print the image names, one per line.
    #[arg(long)]
    images: bool,
    /// Print the service config hash, one per line ("service1,service2" or "*").
    #[arg(long)]
    hash: Option<String>,
    /// Save to file (default to stdout).
    #[arg(short, long)]
    output: Option<String>,
    #[arg(value_name = "SERVICE")]
    service: Vec<String>,
}

pub async fn config(ctx: &Ctx, a: ConfigArgs) -> Result<u8> {
    let mut o = project::open_for(ctx, true)?;
    let p = if a.service.is_empty() {
        o.info.project
    } else {
        o.info.project.with_services_enabled(&a.service)?
    };
    o.info.project = p.clone();
    let lines = |v: Vec<String>| v.into_iter().map(|l| format!("{l}\n")).collect::<String>();
    let text = if a.services {
        lines(p.service_names())
    } else if a.volumes {
        lines(p.volume_names())
    } else if a.networks {
        lines(p.network_names())
    } else if a.profiles {
        lines(p.profiles())
    } else if a.images {
        lines(p.image_names())
    } else if let Some(h) = &a.hash {
        let mut names: Vec<String> = if h == "*" {
            p.services.keys().cloned().collect()
        } else {
            h.split(',').map(str::to_string).collect()
        };
        names.sort();
        let mut out = String::new();
        for n in names {
            let Some(s) = p.services.get(&n) else {
                bail!("no such service: {n}");
            };
            out.push_str(&format!("{n} {}\n", s.config_hash()));
        }
        out
    } else {
        match a.format.as_str() {
            "yaml" => p.to_yaml(),
            "json" => p.to_json(),
            other => bail!("unsupported format {other:?}"),
        }
    };
    if a.quiet {
        return Ok(0);
    }
    match &a.output {
        Some(path) => std::fs::write(path, text)?,
        None => print!("{text}"),
    }
    Ok(0)
}
