//! `start`, `stop`, `restart`, `kill`, `rm`, `ps`, `logs`, `wait`, `inspect`.

use anyhow::Result;
use berth_api::container::{Summary, WaitResponse};
use berth_client::{Client, ClientError};
use http_body_util::BodyExt;
use hyper::Method;
use tokio::io::AsyncWriteExt;

use super::{each, enc, filters_json, table};

#[derive(Debug, clap::Args)]
pub struct StartArgs {
    #[arg(required = true)]
    containers: Vec<String>,
    /// Attach STDOUT/STDERR and forward signals.
    #[arg(short, long)]
    attach: bool,
    /// Attach container's STDIN.
    #[arg(short, long)]
    interactive: bool,
}

pub async fn start(client: &Client, a: StartArgs) -> Result<u8> {
    if a.attach || a.interactive {
        if a.containers.len() > 1 {
            anyhow::bail!("you cannot start and attach multiple containers at once");
        }
        return super::run::start_attached(client, &a.containers[0], a.interactive).await;
    }
    each(&a.containers, |c| async move {
        client
            .bytes(Method::POST, &format!("/containers/{c}/start"), None)
            .await?;
        println!("{c}");
        Ok(())
    })
    .await
}

#[derive(Debug, clap::Args)]
pub struct StopArgs {
    #[arg(required = true)]
    containers: Vec<String>,
    /// Seconds to wait before killing the container.
    #[arg(short = 't', long = "time", alias = "timeout")]
    time: Option<i64>,
    /// Signal to send to the container.
    #[arg(short, long)]
    signal: Option<String>,
}

pub async fn stop(client: &Client, a: StopArgs, verb: &str) -> Result<u8> {
    let mut q = String::new();
    if let Some(t) = a.time {
        q.push_str(&format!("t={t}&"));
    }
    if let Some(s) = &a.signal {
        q.push_str(&format!("signal={}", enc(s)));
    }
    let q = &q;
    each(&a.containers, |c| async move {
        client
            .bytes(Method::POST, &format!("/containers/{c}/{verb}?{q}"), None)
            .await?;
        println!("{c}");
        Ok(())
    })
    .await
}

#[derive(Debug, clap::Args)]
pub struct KillArgs {
    #[arg(required = true)]
    containers: Vec<String>,
    /// Signal to send to the container.
    #[arg(short, long, default_value = "KILL")]
    signal: String,
}

pub async fn kill(client: &Client, a: KillArgs) -> Result<u8> {
    let sig = enc(&a.signal);
    let sig = &sig;
    each(&a.containers, |c| async move {
        client
            .bytes(
                Method::POST,
                &format!("/containers/{c}/kill?signal={sig}"),
                None,
            )
            .await?;
        println!("{c}");
        Ok(())
    })
    .await
}

#[derive(Debug, clap::Args)]
pub struct RmArgs {
    #[arg(required = true)]
    containers: Vec<String>,
    /// Force the removal of a running container (uses SIGKILL).
    #[arg(short, long)]
    force: bool,
    /// Remove anonymous volumes associated with the container.
    #[arg(short, long)]
    volumes: bool,
}

pub async fn rm(client: &Client, a: RmArgs) -> Result<u8> {
    each(&a.containers, |c| async move {
        client
            .bytes(
                Method::DELETE,
                &format!("/containers/{c}?force={}&v={}", a.force, a.volumes),
                None,
            )
            .await?;
        println!("{c}");
        Ok(())
    })
    .await
}

#[derive(Debug, clap::Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running).
    #[arg(short, long)]
    all: bool,
    /// Only display container IDs.
    #[arg(short, long)]
    quiet: bool,
    /// Don't truncate output.
    #[arg(long)]
    no_trunc: bool,
    /// Filter output based on conditions provided.
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// Show n last created containers (includes all states).
    #[arg(short = 'n', long)]
    last: Option<i64>,
    /// Show the latest created container (includes all states).
    #[arg(short, long)]
    latest: bool,
    /// Display total file sizes.
    #[arg(short, long)]
    size: bool,
}

pub async fn ps(client: &Client, a: PsArgs) -> Result<u8> {
    let limit = if a.latest { 1 } else { a.last.unwrap_or(-1) };
    let all = a.all || limit > 0;
    let list: Vec<Summary> = client
        .get(&format!(
            "/containers/json?all={all}&limit={limit}&size={}&filters={}",
            a.size,
            enc(&filters_json(&a.filter)?)
        ))
        .await?;
    let id = |s: &Summary| {
        if a.no_trunc {
            s.id.clone()
        } else {
            s.id[..12].to_string()
        }
    };
    if a.quiet {
        for s in &list {
            println!("{}", id(s));
        }
        return Ok(0);
    }
    let mut rows = vec![
        [
            "CONTAINER ID",
            "IMAGE",
            "COMMAND",
            "CREATED",
            "STATUS",
            "PORTS",
            "NAMES",
            "SIZE",
        ]
        .map(String::from)
        .to_vec(),
    ];
    if !a.size {
        rows[0].pop();
    }
    for s in &list {
        let mut cmd = s.command.clone();
        if !a.no_trunc && cmd.chars().count() > 20 {
            cmd = format!("{}…", cmd.chars().take(19).collect::<String>());
        }
        let image = if s.image.starts_with("sha256:") && !a.no_trunc {
            s.image[7..19].to_string()
        } else {
            s.image.clone()
        };
        rows.push(vec![
            id(s),
            image,
            format!("\"{cmd}\""),
            super::ago(s.created),
            s.status.clone(),
            String::new(),
            s.names
                .iter()
                .map(|n| n.trim_start_matches('/'))
                .collect::<Vec<_>>()
                .join(","),
        ]);
        if a.size {
            let (rw, root) = (s.size_rw.unwrap_or(0), s.size_root_fs.unwrap_or(0));
            let row = rows.last_mut().expect("just pushed");
            row.push(format!(
                "{} (virtual {})",
                super::human_size(rw),
                super::human_size(root)
            ));
        }
    }
    table(&rows);
    Ok(0)
}

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    container: String,
    /// Follow log output.
    #[arg(short, long)]
    follow: bool,
    /// Number of lines to show from the end of the logs.
    #[arg(short = 'n', long, default_value = "all")]
    tail: String,
    /// Show timestamps.
    #[arg(short, long)]
    timestamps: bool,
    /// Show logs since timestamp or relative (e.g. 42m).
    #[arg(long)]
    since: Option<String>,
    /// Show logs before a timestamp or relative (e.g. 42m).
    #[arg(long)]
    until: Option<String>,
}

/// `42m`, `1h`, `10s` before now, or a timestamp, as unix seconds for the API.
pub(super) fn time_arg(s: &str) -> Result<String> {
    let units = [("s", 1), ("m", 60), ("h", 3600)];
    for (u, mult) in units {
        if let Some(n) = s.strip_suffix(u).and_then(|n| n.parse::<i64>().ok()) {
            let t = chrono::Utc::now() - chrono::Duration::seconds(n * mult);
            return Ok(format!(
                "{}.{:09}",
                t.timestamp(),
                t.timestamp_subsec_nanos()
            ));
        }
    }
    if s.parse::<f64>().is_ok() {
        return Ok(s.to_string());
    }
    let t = chrono::DateTime::parse_from_rfc3339(s)
        .map_err(|_| anyhow::anyhow!("invalid value for time: {s}"))?;
    Ok(format!(
        "{}.{:09}",
        t.timestamp(),
        t.timestamp_subsec_nanos()
    ))
}

pub async fn logs(client: &Client, a: LogsArgs) -> Result<u8> {
    let info: berth_api::container::Inspect = client
        .get(&format!("/containers/{}/json", a.container))
        .await?;
    let mut q = format!(
        "stdout=1&stderr=1&follow={}&timestamps={}&tail={}",
        a.follow,
        a.timestamps,
        enc(&a.tail)
    );
    if let Some(s) = &a.since {
        q.push_str(&format!("&since={}", time_arg(s)?));
    }
    if let Some(u) = &a.until {
        q.push_str(&format!("&until={}", time_arg(u)?));
    }
    let resp = client
        .request(
            Method::GET,
            &format!("/containers/{}/logs?{q}", a.container),
            None,
        )
        .await?;
    let mut body = resp.into_body();
    let mut demux = super::run::Demux::new(info.config.tty);
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.map_err(ClientError::from)?.into_data() {
            demux.push(&data).await?;
        }
    }
    Ok(0)
}

#[derive(Debug, clap::Args)]
pub struct WaitArgs {
    #[arg(required = true)]
    containers: Vec<String>,
}

pub async fn wait(client: &Client, a: WaitArgs) -> Result<u8> {
    each(&a.containers, |c| async move {
        let (_, body) = client
            .bytes(Method::POST, &format!("/containers/{c}/wait"), None)
            .await?;
        let w: WaitResponse = serde_json::from_slice(&body)?;
        println!("{}", w.status_code);
        Ok(())
    })
    .await
}

#[derive(Debug, clap::Args)]
pub struct TopArgs {
    container: String,
    /// Options for ps (default -ef).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    ps_args: Vec<String>,
}

pub async fn top(client: &Client, a: TopArgs) -> Result<u8> {
    let mut path = format!("/containers/{}/top", enc(&a.container));
    if !a.ps_args.is_empty() {
        path.push_str(&format!("?ps_args={}", enc(&a.ps_args.join(" "))));
    }
    let (_, body) = client.bytes(Method::GET, &path, None).await?;
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|s| s.as_str().unwrap_or_default().to_string())
            .collect()
    };
    let mut rows = vec![strings(&v["Titles"])];
    rows.extend(v["Processes"].as_array().into_iter().flatten().map(strings));
    super::table_min(&rows, 20);
    Ok(0)
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    #[arg(required = true)]
    names: Vec<String>,
    /// Return JSON for specified type (container or image).
    #[arg(long = "type")]
    kind: Option<String>,
}

pub async fn inspect(client: &Client, a: InspectArgs) -> Result<u8> {
    let mut out = Vec::new();
    let mut failed = false;
    for n in &a.names {
        let container = if a.kind.as_deref() != Some("image") {
            client
                .get::<serde_json::Value>(&format!("/containers/{n}/json"))
                .await
                .ok()
        } else {
            None
        };
        let found = match container {
            Some(v) => Some(v),
            None if a.kind.as_deref() != Some("container") => client
                .get::<serde_json::Value>(&format!("/images/{n}/json"))
                .await
                .ok(),
            None => None,
        };
        match found {
            Some(v) => out.push(v),
            None => {
                eprintln!("Error: No such object: {n}");
                failed = true;
            }
        }
    }
    let mut stdout = tokio::io::stdout();
    stdout
        .write_all(serde_json::to_string_pretty(&out)?.as_bytes())
        .await?;
    stdout.write_all(b"\n").await?;
    Ok(u8::from(failed))
}
