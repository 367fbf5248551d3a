//! `container prune`, `image prune` and `system prune`, with Docker's prompts and output;
//! `system prune` calls each prune endpoint in Docker's order, as the docker CLI does.

use anyhow::{Result, bail};
use berth_client::Client;
use bytes::Bytes;
use hyper::Method;
use serde_json::Value;

use super::{enc, filters_json};

#[derive(Debug, clap::Args)]
pub struct ContainerPruneArgs {
    /// Provide filter values (e.g. "until=<timestamp>").
    #[arg(long = "filter")]
    filters: Vec<String>,
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
pub struct ImagePruneArgs {
    /// Remove all unused images, not just dangling ones.
    #[arg(short, long)]
    all: bool,
    /// Provide filter values (e.g. "until=<timestamp>").
    #[arg(long = "filter")]
    filters: Vec<String>,
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
pub struct SystemPruneArgs {
    /// Remove all unused images not just dangling ones.
    #[arg(short, long)]
    all: bool,
    /// Prune volumes.
    #[arg(long)]
    volumes: bool,
    /// Provide filter values (e.g. "label=<key>=<value>").
    #[arg(long = "filter")]
    filters: Vec<String>,
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    force: bool,
}

/// POSTs `/KIND/prune` with `filters`; the answer's JSON.
async fn post(client: &Client, kind: &str, filters: &[String]) -> Result<Value> {
    let path = format!("/{kind}/prune?filters={}", enc(&filters_json(filters)?));
    let body = Some((Bytes::new(), "application/json"));
    let (_, body) = client.bytes(Method::POST, &path, body).await?;
    Ok(serde_json::from_slice(&body)?)
}

/// Prints `title` and the list at `key` when it is not empty.
fn list(v: &Value, key: &str, title: &str, item: impl Fn(&Value) -> String) {
    if let Some(items) = v[key].as_array().filter(|a| !a.is_empty()) {
        println!("{title}");
        for i in items {
            println!("{}", item(i));
        }
        println!();
    }
}

fn plain(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// An `ImagesDeleted` item as Docker prints it.
fn image_item(v: &Value) -> String {
    match (v["Untagged"].as_str(), v["Deleted"].as_str()) {
        (Some(u), _) => format!("untagged: {u}"),
        (_, Some(d)) => format!("deleted: {d}"),
        _ => String::new(),
    }
}

fn reclaimed(v: &Value) -> i64 {
    v["SpaceReclaimed"].as_i64().unwrap_or(0)
}

fn total(bytes: i64) {
    println!(
        "Total reclaimed space: {}",
        super::human_size_precision(bytes, 4)
    );
}

pub async fn container(client: &Client, a: ContainerPruneArgs) -> Result<u8> {
    let warning =
        "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?";
    if !a.force && !super::confirm(warning)? {
        return Ok(0);
    }
    let v = post(client, "containers", &a.filters).await?;
    list(&v, "ContainersDeleted", "Deleted Containers:", plain);
    total(reclaimed(&v));
    Ok(0)
}

fn image_filters(all: bool, filters: &[String]) -> Result<Vec<String>> {
    let mut f = filters.to_vec();
    if all {
        if f.iter().any(|x| x.starts_with("dangling=")) {
            bail!("conflicting options: cannot specify both --all and --filter dangling");
        }
        f.push("dangling=false".into());
    }
    Ok(f)
}

pub async fn image(client: &Client, a: ImagePruneArgs) -> Result<u8> {
    let warning = if a.all {
        "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?"
    } else {
        "WARNING! This will remove all dangling images.\nAre you sure you want to continue?"
    };
    let filters = image_filters(a.all, &a.filters)?;
    if !a.force && !super::confirm(warning)? {
        return Ok(0);
    }
    let v = post(client, "images", &filters).await?;
    list(&v, "ImagesDeleted", "Deleted Images:", image_item);
    total(reclaimed(&v));
    Ok(0)
}

pub async fn system(client: &Client, a: SystemPruneArgs) -> Result<u8> {
    if a.volumes && a.filters.iter().any(|f| f.starts_with("until=")) {
        bail!(r#"ERROR: The "until" filter is not supported with "--volumes""#);
    }
    let images = image_filters(a.all, &a.filters)?;
    if !a.force && !super::confirm(&system_warning(&a))? {
        bail!("system prune has been cancelled");
    }
    let mut space = 0;
    let v = post(client, "containers", &a.filters).await?;
    list(&v, "ContainersDeleted", "Deleted Containers:", plain);
    space += reclaimed(&v);
    let v = post(client, "networks", &a.filters).await?;
    list(&v, "NetworksDeleted", "Deleted Networks:", plain);
    if a.volumes {
        // Anonymous volumes only, as the docker CLI asks.
        let v = post(client, "volumes", &a.filters).await?;
        list(&v, "VolumesDeleted", "Deleted Volumes:", plain);
        space += reclaimed(&v);
    }
    let v = post(client, "images", &images).await?;
    list(&v, "ImagesDeleted", "Deleted Images:", image_item);
    space += reclaimed(&v);
    let v = post(client, "build", &[]).await?;
    list(&v, "CachesDeleted", "Deleted build cache objects:", plain);
    space += reclaimed(&v);
    total(space);
    Ok(0)
}

/// The docker CLI's confirmation of `system prune`: what goes, then the filters.
fn system_warning(a: &SystemPruneArgs) -> String {
    let mut w = String::from(
        "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n",
    );
    if a.volumes {
        w.push_str("  - all anonymous volumes not used by at least one container\n");
    }
    w.push_str(if a.all {
        "  - all images without at least one container associated to them\n"
    } else {
        "  - all dangling images\n"
    });
    // berth's build cache is its cache mounts, which a prune always empties.
    w.push_str("  - all build cache\n");
    let mut shown: Vec<&String> = a
        .filters
        .iter()
        .filter(|f| {
            ["label=", "label!=", "until="]
                .iter()
                .any(|p| f.starts_with(p))
        })
        .collect();
    shown.sort();
    if !shown.is_empty() {
        w.push_str("\n  Items to be pruned will be filtered with:\n");
        for f in shown {
            w.push_str(&format!("  - {f}\n"));
        }
    }
    w.push_str("\nAre you sure you want to continue?");
    w
}
