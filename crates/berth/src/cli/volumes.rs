//! `volume create`, `ls`, `inspect`, `rm`, `prune`, with Docker's columns and messages.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use berth_client::Client;
use bytes::Bytes;
use hyper::Method;
use serde_json::{Value, json};

use super::template::Template;
use super::{each, enc, filters_json};
use serde::Serialize;

#[derive(Debug, clap::Subcommand)]
pub enum VolumeCommand {
    /// Create a volume.
    Create(CreateArgs),
    /// List volumes.
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more volumes.
    Inspect(InspectArgs),
    /// Remove one or more volumes.
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Remove unused local volumes.
    Prune(PruneArgs),
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Volume name.
    name: Option<String>,
    /// Specify volume name.
    #[arg(long = "name", hide = true)]
    name_flag: Option<String>,
    /// Specify volume driver name.
    #[arg(short, long, default_value = "local")]
    driver: String,
    /// Set metadata for a volume.
    #[arg(long = "label")]
    labels: Vec<String>,
    /// Set driver specific options.
    #[arg(short = 'o', long = "opt")]
    opts: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// Only display volume names.
    #[arg(short, long)]
    quiet: bool,
    /// Provide filter values (e.g. "dangling=true").
    #[arg(short, long = "filter")]
    filters: Vec<String>,
    /// Format output using a custom template.
    #[arg(long)]
    format: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    #[arg(required = true)]
    names: Vec<String>,
    /// Format output using a custom template.
    #[arg(short, long)]
    format: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RmArgs {
    #[arg(required = true)]
    names: Vec<String>,
    /// Force the removal of one or more volumes.
    #[arg(short, long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Remove all unused volumes, not just anonymous ones.
    #[arg(short, long)]
    all: bool,
    /// Provide filter values (e.g. "label=<label>").
    #[arg(long = "filter")]
    filters: Vec<String>,
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    force: bool,
}

pub async fn volume(client: &Client, cmd: VolumeCommand) -> Result<u8> {
    match cmd {
        VolumeCommand::Create(a) => create(client, a).await,
        VolumeCommand::Ls(a) => ls(client, a).await,
        VolumeCommand::Inspect(a) => inspect(client, a).await,
        VolumeCommand::Rm(a) => rm(client, a).await,
        VolumeCommand::Prune(a) => prune(client, a).await,
    }
}

/// `KEY=value` items as a map (a bare `KEY` maps to "").
fn pairs(items: &[String]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|i| match i.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (i.clone(), String::new()),
        })
        .collect()
}

async fn create(client: &Client, a: CreateArgs) -> Result<u8> {
    let name = match (a.name, a.name_flag) {
        (Some(p), Some(f)) if p != f => {
            bail!("Conflicting options: either specify --name or provide positional arg, not both")
        }
        (p, f) => p.or(f).unwrap_or_default(),
    };
    let body = json!({
        "Name": name,
        "Driver": a.driver,
        "DriverOpts": pairs(&a.opts),
        "Labels": pairs(&a.labels),
    });
    let v: Value = client.post_json("/volumes/create", &body).await?;
    println!("{}", v["Name"].as_str().unwrap_or_default());
    Ok(0)
}

/// A row of `volume ls` as its template sees it: Docker's volume context.
fn row(v: &Value) -> Value {
    let labels = v["Labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    json!({
        "Name": v["Name"], "Driver": v["Driver"], "Scope": v["Scope"],
        "Mountpoint": v["Mountpoint"], "CreatedAt": v["CreatedAt"], "Labels": labels,
        "Links": "N/A", "Size": "N/A",
    })
}

/// The header of each column `volume ls` knows.
fn header() -> Value {
    json!({
        "Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Mountpoint": "MOUNTPOINT",
        "CreatedAt": "CREATED", "Labels": "LABELS", "Links": "LINKS", "Size": "SIZE",
    })
}

async fn ls(client: &Client, a: LsArgs) -> Result<u8> {
    let mut path = "/volumes".to_string();
    if !a.filters.is_empty() {
        path.push_str(&format!("?filters={}", enc(&filters_json(&a.filters)?)));
    }
    let v: Value = client.get(&path).await?;
    for w in v["Warnings"].as_array().into_iter().flatten() {
        eprintln!("{}", w.as_str().unwrap_or_default());
    }
    let mut vols: Vec<Value> = v["Volumes"].as_array().cloned().unwrap_or_default();
    vols.sort_by(|x, y| {
        natural_cmp(
            x["Name"].as_str().unwrap_or_default(),
            y["Name"].as_str().unwrap_or_default(),
        )
    });
    let format = match (a.quiet, a.format.as_deref()) {
        (true, _) => "{{.Name}}",
        (false, Some(f)) if !f.is_empty() && f != "table" => f,
        _ => "table {{.Driver}}\t{{.Name}}",
    };
    let t = Template::parse(format)?;
    let mut rows = Vec::new();
    if t.table {
        rows.push(t.render(&header())?);
    }
    for v in &vols {
        rows.push(t.render(&row(v))?);
    }
    super::template::print_rows(&t, &rows);
    Ok(0)
}

async fn inspect(client: &Client, a: InspectArgs) -> Result<u8> {
    let t = a.format.as_deref().map(Template::parse).transpose()?;
    let mut found = Vec::new();
    let mut code = 0;
    for n in &a.names {
        match client.get::<Value>(&format!("/volumes/{}", enc(n))).await {
            Ok(v) => found.push(v),
            Err(e) => {
                eprintln!("{e}");
                code = 1;
            }
        }
    }
    match t {
        Some(t) => {
            for v in &found {
                println!("{}", t.render(v)?);
            }
        }
        None => println!("{}", indented(&found)),
    }
    Ok(code)
}

/// JSON as Docker's inspect prints it: four-space indents.
pub(super) fn indented(v: &[Value]) -> String {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    v.serialize(&mut ser).expect("JSON serializes");
    String::from_utf8(out).expect("JSON is UTF-8")
}

async fn rm(client: &Client, a: RmArgs) -> Result<u8> {
    let q = if a.force { "?force=1" } else { "" };
    each(&a.names, |n| async move {
        client
            .bytes(Method::DELETE, &format!("/volumes/{}{q}", enc(&n)), None)
            .await?;
        println!("{n}");
        Ok(())
    })
    .await
}

const ANONYMOUS_WARNING: &str = "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?";
const ALL_WARNING: &str = "WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?";

async fn prune(client: &Client, a: PruneArgs) -> Result<u8> {
    let mut filters = a.filters.clone();
    if a.all {
        if filters.iter().any(|f| f.starts_with("all=")) {
            bail!("conflicting options: cannot specify both --all and --filter all=1");
        }
        filters.push("all=true".into());
    }
    let warning = if a.all {
        ALL_WARNING
    } else {
        ANONYMOUS_WARNING
    };
    if !a.force && !super::confirm(warning)? {
        println!("Total reclaimed space: 0B");
        return Ok(0);
    }
    let path = format!("/volumes/prune?filters={}", enc(&filters_json(&filters)?));
    let (_, body) = client
        .bytes(
            Method::POST,
            &path,
            Some((Bytes::new(), "application/json")),
        )
        .await?;
    let v: Value = serde_json::from_slice(&body)?;
    let mut reclaimed = 0;
    if let Some(names) = v["VolumesDeleted"].as_array().filter(|a| !a.is_empty()) {
        println!("Deleted Volumes:");
        for n in names {
            println!("{}", n.as_str().unwrap_or_default());
        }
        println!();
        reclaimed = v["SpaceReclaimed"].as_i64().unwrap_or(0);
    }
    println!(
        "Total reclaimed space: {}",
        super::human_size_precision(reclaimed, 4)
    );
    Ok(0)
}

/// Go's `sortorder.NaturalLess`: runs of digits compare as numbers.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, _) => return std::cmp::Ordering::Less,
            (_, None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let n = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let m = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (p, q) = (trim_zeros(&x[..n]), trim_zeros(&y[..m]));
                let o = p.len().cmp(&q.len()).then(p.cmp(q)).then(n.cmp(&m));
                if o.is_ne() {
                    return o;
                }
                (x, y) = (&x[n..], &y[m..]);
            }
            (Some(c), Some(d)) if c != d => return c.cmp(d),
            _ => (x, y) = (&x[1..], &y[1..]),
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let z = d.iter().take_while(|c| **c == b'0').count();
    &d[z..]
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_sort_naturally() {
        let mut v = vec!["v10", "v2", "a", "v1"];
        v.sort_by(|a, b| super::natural_cmp(a, b));
        assert_eq!(v, ["a", "v1", "v2", "v10"]);
    }
}
