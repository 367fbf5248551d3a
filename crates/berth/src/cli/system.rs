//! `events`, `info`, `system df` and `builder prune`.

use std::collections::BTreeMap;

use anyhow::Result;
use berth_api::system::{Event, Info};
use berth_client::{Client, ClientError};
use http_body_util::BodyExt;
use hyper::Method;

use super::{containers::time_arg, enc};

#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// Filter output based on conditions provided (e.g. type=container, event=start).
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// Show all events created since timestamp or relative (e.g. 42m).
    #[arg(long)]
    since: Option<String>,
    /// Stream events until this timestamp or relative (e.g. 42m).
    #[arg(long)]
    until: Option<String>,
}

pub async fn events(client: &Client, a: EventsArgs) -> Result<u8> {
    let mut filters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &a.filter {
        let (k, v) = f
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("bad format of filter (expected name=value)"))?;
        filters.entry(k.into()).or_default().push(v.into());
    }
    let mut q = vec![format!(
        "filters={}",
        enc(&serde_json::to_string(&filters)?)
    )];
    if let Some(s) = &a.since {
        q.push(format!("since={}", time_arg(s)?));
    }
    if let Some(u) = &a.until {
        q.push(format!("until={}", time_arg(u)?));
    }
    let resp = client
        .request(Method::GET, &format!("/events?{}", q.join("&")), None)
        .await?;
    let mut body = resp.into_body();
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(ClientError::from)?;
        let Some(data) = frame.data_ref() else {
            continue;
        };
        buf.extend_from_slice(data);
        let mut stream = serde_json::Deserializer::from_slice(&buf).into_iter::<Event>();
        let mut used = 0;
        while let Some(Ok(e)) = stream.next() {
            used = stream.byte_offset();
            println!("{}", line(&e));
        }
        buf.drain(..used);
    }
    Ok(0)
}

/// Docker's default event line: time, type, action, actor and its attributes.
fn line(e: &Event) -> String {
    let time = chrono::DateTime::from_timestamp(
        e.time_nano / 1_000_000_000,
        (e.time_nano % 1_000_000_000) as u32,
    )
    .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string())
    .unwrap_or_default();
    let attrs: Vec<String> = e
        .actor
        .attributes
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "{time} {} {} {} ({})",
        e.kind,
        e.action,
        e.actor.id,
        attrs.join(", ")
    )
}

pub async fn info(client: &Client) -> Result<u8> {
    let i: Info = client.get("/info").await?;
    println!("Server:");
    println!(" Containers: {}", i.containers);
    println!("  Running: {}", i.containers_running);
    println!("  Paused: {}", i.containers_paused);
    println!("  Stopped: {}", i.containers_stopped);
    println!(" Images: {}", i.images);
    println!(" Server Version: {}", i.server_version);
    println!(" Storage Driver: {}", i.driver);
    println!(" Logging Driver: {}", i.logging_driver);
    println!(" Cgroup Driver: {}", i.cgroup_driver);
    println!(" Cgroup Version: {}", i.cgroup_version);
    print_security_options(&i.security_options);
    println!(" Kernel Version: {}", i.kernel_version);
    println!(" Operating System: {}", i.operating_system);
    println!(" OSType: {}", i.os_type);
    println!(" Architecture: {}", i.architecture);
    println!(" CPUs: {}", i.ncpu);
    println!(" Total Memory: {}", super::human_size(i.mem_total as i64));
    println!(" Name: {}", i.name);
    println!(" ID: {}", i.id);
    println!(" Docker Root Dir: {}", i.docker_root_dir);
    for (flag, ok) in [
        ("memory limit", i.memory_limit),
        ("swap limit", i.swap_limit),
        ("cpu cfs quota", i.cpu_cfs_quota),
        ("cpu shares", i.cpu_shares),
        ("pids limit", i.pids_limit),
    ] {
        if !ok {
            println!("WARNING: No {flag} support");
        }
    }
    for w in &i.warnings {
        eprintln!("{w}");
    }
    Ok(0)
}

/// `SecurityOptions` (`name=seccomp,profile=builtin`, ...) as the docker CLI prints them.
fn print_security_options(options: &[String]) {
    if options.is_empty() {
        return;
    }
    println!(" Security Options:");
    for option in options {
        let kv = |key: &str| {
            option
                .split(',')
                .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        };
        println!("  {}", kv("name").unwrap_or(option));
        if let Some(profile) = kv("profile") {
            println!("   Profile: {profile}");
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct DfArgs {
    /// Show detailed information on space usage.
    #[arg(short, long)]
    verbose: bool,
}

/// `system df`: Docker's summary table, or with `-v` a table per kind.
pub async fn df(client: &Client, a: DfArgs) -> Result<u8> {
    let v: serde_json::Value = client.get("/system/df").await?;
    if a.verbose {
        super::system_df::verbose(&v);
        return Ok(0);
    }
    let sum = |key: &str, field: &str| -> i64 {
        v[key].as_array().map_or(0, |a| {
            a.iter().map(|x| x[field].as_i64().unwrap_or(0)).sum()
        })
    };
    let count = |key: &str| v[key].as_array().map_or(0, Vec::len);
    let active_images = v["Images"].as_array().map_or(0, |a| {
        a.iter()
            .filter(|i| i["Containers"].as_i64().unwrap_or(0) > 0)
            .count()
    });
    let running = v["Containers"]
        .as_array()
        .map_or(0, |a| a.iter().filter(|c| c["State"] == "running").count());
    let layers = v["LayersSize"].as_i64().unwrap_or(0);
    let cache = sum("BuildCache", "Size");
    let (volumes, active_volumes, volume_size, reclaimable) = super::system_df::volumes(&v);
    let rows = vec![
        vec![
            "TYPE".into(),
            "TOTAL".into(),
            "ACTIVE".into(),
            "SIZE".into(),
            "RECLAIMABLE".into(),
        ],
        vec![
            "Images".into(),
            count("Images").to_string(),
            active_images.to_string(),
            super::human_size(layers),
            super::human_size(layers),
        ],
        vec![
            "Containers".into(),
            count("Containers").to_string(),
            running.to_string(),
            "0B".into(),
            "0B".into(),
        ],
        logs_row(&v),
        vec![
            "Local Volumes".into(),
            volumes.to_string(),
            active_volumes.to_string(),
            super::human_size_precision(volume_size, 4),
            reclaimable,
        ],
        vec![
            "Build Cache".into(),
            count("BuildCache").to_string(),
            "0".into(),
            super::human_size(cache),
            super::human_size(cache),
        ],
    ];
    super::table_min(&rows, 10);
    Ok(0)
}

/// berth's `Logs` row of `system df`: the containers' log files (`LogSize`, rotated files included);
/// those of stopped containers go when the containers are removed.
fn logs_row(v: &serde_json::Value) -> Vec<String> {
    let rows = v["Containers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let size = |c: &serde_json::Value| c["LogSize"].as_i64().unwrap_or(0);
    let with_logs: Vec<_> = rows.iter().filter(|c| size(c) > 0).collect();
    let running = with_logs.iter().filter(|c| c["State"] == "running").count();
    let total: i64 = with_logs.iter().map(|c| size(c)).sum();
    let stopped: i64 = with_logs
        .iter()
        .filter(|c| c["State"] != "running")
        .map(|c| size(c))
        .sum();
    vec![
        "Logs".into(),
        with_logs.len().to_string(),
        running.to_string(),
        super::human_size(total),
        super::human_size(stopped),
    ]
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    force: bool,
}

/// `builder prune`: all of the build cache and the cache mounts.
pub async fn builder_prune(client: &Client, a: PruneArgs) -> Result<u8> {
    if !a.force {
        use std::io::{BufRead, IsTerminal};
        if !std::io::stdin().is_terminal() {
            anyhow::bail!("builder prune asks for confirmation: use -f to skip it");
        }
        eprint!(
            "WARNING! This will remove all build cache.\nAre you sure you want to continue? [y/N] "
        );
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        if !matches!(line.trim(), "y" | "Y") {
            return Ok(0);
        }
    }
    let (_, body) = client.bytes(Method::POST, "/build/prune", None).await?;
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    if let Some(ids) = v["CachesDeleted"].as_array().filter(|a| !a.is_empty()) {
        println!("Deleted build cache objects:");
        for id in ids {
            println!("{}", id.as_str().unwrap_or_default());
        }
        println!();
    }
    println!(
        "Total reclaimed space: {}",
        super::human_size(v["SpaceReclaimed"].as_i64().unwrap_or(0))
    );
    Ok(0)
}
