//! `compose top`, `port`, `wait`, `events` and `cp`: a project's containers looked at one by one.

use anyhow::{Result, bail};
use berth_api::container::Summary;
use berth_compose::ops::observed::{self, OneOff};
use clap::Parser;
use http_body_util::BodyExt;
use hyper::Method;
use serde_json::Value;

use super::{Ctx, project};
use crate::cli::enc;

#[derive(Debug, clap::Args)]
pub struct TopArgs {
    services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct PortArgs {
    /// Index of the container if service has multiple replicas.
    #[arg(long, default_value_t = 1)]
    index: u32,
    /// tcp or udp.
    #[arg(long, default_value = "tcp")]
    protocol: String,
    service: String,
    private_port: u16,
}

#[derive(Debug, clap::Args)]
pub struct WaitArgs {
    /// Drops project when the first container stops.
    #[arg(long)]
    down_project: bool,
    #[arg(required = true)]
    services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// Output events as a stream of json objects.
    #[arg(long)]
    json: bool,
    services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct CpArgs {
    /// Index of the container if service has multiple replicas.
    #[arg(long, default_value_t = 1)]
    index: u32,
    /// Archive mode (copy all uid/gid information).
    #[arg(short, long)]
    archive: bool,
    /// Always follow symbol link in SRC_PATH.
    #[arg(short = 'L', long)]
    follow_link: bool,
    source: String,
    destination: String,
}

async fn one(ctx: &Ctx, service: &str, index: u32) -> Result<Summary> {
    let name = project::name(ctx)?;
    let list =
        observed::containers(&ctx.api, &name, &[service.to_string()], OneOff::Exclude).await?;
    match list.into_iter().find(|c| observed::number(c) == index) {
        Some(c) => Ok(c),
        None => bail!("service {service:?} has no container {index}"),
    }
}

pub async fn top(ctx: &Ctx, a: TopArgs) -> Result<u8> {
    let name = project::name(ctx)?;
    let list = observed::containers(&ctx.api, &name, &a.services, OneOff::Exclude).await?;
    for c in list.iter().filter(|c| c.state == "running") {
        let top: Value = ctx
            .api
            .client()
            .get(&format!("/containers/{}/top", enc(&c.id)))
            .await?;
        println!("{}", observed::name(c));
        let mut rows = vec![
            top["Titles"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| t.as_str().unwrap_or_default().to_string())
                .collect::<Vec<_>>(),
        ];
        for p in top["Processes"].as_array().into_iter().flatten() {
            rows.push(
                p.as_array()
                    .into_iter()
                    .flatten()
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .collect(),
            );
        }
        crate::cli::table(&rows);
        println!();
    }
    Ok(0)
}

pub async fn port(ctx: &Ctx, a: PortArgs) -> Result<u8> {
    let c = one(ctx, &a.service, a.index).await?;
    let info: Value = ctx
        .api
        .client()
        .get(&format!("/containers/{}/json", enc(&c.id)))
        .await?;
    let key = format!("{}/{}", a.private_port, a.protocol);
    match info["NetworkSettings"]["Ports"][&key]
        .as_array()
        .and_then(|b| b.first())
    {
        Some(b) => {
            let ip = b["HostIp"].as_str().unwrap_or_default();
            println!(
                "{}:{}",
                if ip.is_empty() { "0.0.0.0" } else { ip },
                b["HostPort"].as_str().unwrap_or_default()
            );
            Ok(0)
        }
        None => bail!("no port {key} for container {}", observed::name(&c)),
    }
}

pub async fn wait(ctx: &Ctx, a: WaitArgs) -> Result<u8> {
    let name = project::name(ctx)?;
    let list = observed::containers(&ctx.api, &name, &a.services, OneOff::Exclude).await?;
    if list.is_empty() {
        bail!("no containers for project {name:?}");
    }
    let mut waits = tokio::task::JoinSet::new();
    for c in list {
        let api = ctx.api.clone();
        waits.spawn(async move { api.wait(&c.id, "not-running").await });
    }
    let first = waits.join_next().await.expect("one container at least");
    waits.abort_all();
    let code = first??;
    if a.down_project {
        let opts = berth_compose::ops::down::DownOptions::default();
        berth_compose::ops::down::down(&ctx.api, &name, None, &opts, ctx.progress).await?;
    }
    Ok(u8::try_from(code).unwrap_or(1))
}

/// One event as Compose prints it: `2006-01-02 15:04:05.000000 container start ID (k=v, ...)`.
fn event_line(e: &Value, json: bool) -> Option<String> {
    let attrs = e["Actor"]["Attributes"].as_object()?;
    if attrs
        .get("com.docker.compose.oneoff")
        .and_then(Value::as_str)
        == Some("True")
    {
        return None;
    }
    let kept: serde_json::Map<String, Value> = attrs
        .iter()
        .filter(|(k, _)| !k.starts_with("com.docker.compose."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let nanos = e["timeNano"]
        .as_i64()
        .unwrap_or_else(|| e["time"].as_i64().unwrap_or(0) * 1_000_000_000);
    let t =
        chrono::DateTime::from_timestamp(nanos / 1_000_000_000, (nanos % 1_000_000_000) as u32)?;
    let (action, id) = (e["Action"].as_str()?, e["Actor"]["ID"].as_str()?);
    let service = attrs
        .get("com.docker.compose.service")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if json {
        return Some(serde_json::json!({"time": t.to_rfc3339(), "type": "container", "service": service, "id": id, "action": action, "attributes": kept}).to_string());
    }
    let a: Vec<String> = kept
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    Some(format!(
        "{} container {action} {id} ({})\n",
        t.format("%Y-%m-%d %H:%M:%S%.6f"),
        a.join(", ")
    ))
}

pub async fn events(ctx: &Ctx, a: EventsArgs) -> Result<u8> {
    let name = project::name(ctx)?;
    let filters = serde_json::json!({"label": [format!("com.docker.compose.project={name}")], "type": ["container"]});
    let path = format!("/events?filters={}", enc(&filters.to_string()));
    let mut body = ctx
        .api
        .client()
        .request(Method::GET, &path, None)
        .await?
        .into_body();
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(berth_client::ClientError::from)?.into_data() else {
            continue;
        };
        buf.extend_from_slice(&data);
        while let Some(i) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            let Ok(e) = serde_json::from_slice::<Value>(&line) else {
                continue;
            };
            let svc = e["Actor"]["Attributes"]["com.docker.compose.service"]
                .as_str()
                .unwrap_or_default();
            if !a.services.is_empty() && !a.services.iter().any(|s| s == svc) {
                continue;
            }
            if let Some(l) = event_line(&e, a.json) {
                println!("{l}");
            }
        }
    }
    Ok(0)
}

/// The CLI's `cp` arguments, parsed as `berth cp` would parse them.
#[derive(Parser)]
struct Cp {
    #[command(flatten)]
    a: crate::cli::cp::CpArgs,
}

pub async fn cp(ctx: &Ctx, a: CpArgs) -> Result<u8> {
    let mut paths = Vec::new();
    for p in [&a.source, &a.destination] {
        paths.push(match p.split_once(':') {
            Some((svc, path)) if !svc.contains('/') => {
                format!("{}:{path}", one(ctx, svc, a.index).await?.id)
            }
            _ => p.clone(),
        });
    }
    let mut argv = vec!["cp".to_string()];
    if a.archive {
        argv.push("-a".into());
    }
    if a.follow_link {
        argv.push("-L".into());
    }
    argv.extend(paths);
    crate::cli::cp::cp(ctx.api.client(), Cp::try_parse_from(argv)?.a).await
}
