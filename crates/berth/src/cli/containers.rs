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
    /// Override the key sequence for detaching a container.
    #[arg(long)]
    detach_keys: Option<String>,
}

pub async fn start(client: &Client, a: StartArgs) -> Result<u8> {
    if a.attach || a.interactive {
        if a.containers.len() > 1 {
            anyhow::bail!("you cannot start and attach multiple containers at once");
        }
        return super::run::start_attached(
            client,
            &a.containers[0],
            a.interactive,
            a.detach_keys.as_deref(),
        )
        .await;
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
    /// Format output using a custom template (`table`, `json` or a Go template).
    #[arg(long)]
    format: Option<String>,
}

/// A container's command as `ps` shows it: cut to 20 characters unless `no_trunc`.
pub(super) fn short_command(cmd: &str, no_trunc: bool) -> String {
    if !no_trunc && cmd.chars().count() > 20 {
        format!("{}…", cmd.chars().take(19).collect::<String>())
    } else {
        cmd.to_string()
    }
}

/// The fields of `ps --format` for one container, as the docker CLI names them.
fn ps_fields(s: &Summary, no_trunc: bool) -> serde_json::Value {
    let id = if no_trunc {
        s.id.clone()
    } else {
        s.id[..12.min(s.id.len())].to_string()
    };
    let cmd = short_command(&s.command, no_trunc);
    let created = chrono::DateTime::from_timestamp(s.created, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string())
        .unwrap_or_default();
    let labels: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let names: Vec<&str> = s.names.iter().map(|n| n.trim_start_matches('/')).collect();
    let size = match (s.size_rw, s.size_root_fs) {
        (None, None) => String::new(),
        (rw, root) => format!(
            "{} (virtual {})",
            super::human_size(rw.unwrap_or(0)),
            super::human_size(root.unwrap_or(0))
        ),
    };
    serde_json::json!({
        "ID": id, "Image": s.image, "Command": format!("\"{cmd}\""), "CreatedAt": created,
        "RunningFor": super::ago(s.created), "Ports": displayable_ports(&s.ports),
        "State": s.state, "Status": s.status, "Size": size, "Names": names.join(","),
        "Labels": labels.join(","), "Mounts": s.mounts.iter().map(|m| if m.name.is_empty() { m.source.as_str() } else { m.name.as_str() }).collect::<Vec<_>>().join(","),
        "Networks": s.network_settings["Networks"].as_object().map(|n| n.keys().cloned().collect::<Vec<_>>().join(",")).unwrap_or_default(),
    })
}

/// `ps --format`: a Go template per container, with a header row for `table ...`.
fn ps_format(list: &[Summary], format: &str, no_trunc: bool) -> Result<()> {
    if format == "json" {
        for s in list {
            println!("{}", serde_json::to_string(&ps_fields(s, no_trunc))?);
        }
        return Ok(());
    }
    let t = super::template::Template::parse(format)?;
    let mut rows = Vec::new();
    if t.table {
        let header = serde_json::json!({
            "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
            "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS",
            "Size": "SIZE", "Names": "NAMES", "Labels": "LABELS", "Mounts": "MOUNTS",
            "Networks": "NETWORKS",
        });
        rows.push(t.render(&header)?);
    }
    for s in list {
        rows.push(t.render(&ps_fields(s, no_trunc))?);
    }
    if t.table {
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.split('\t').map(str::to_string).collect())
            .collect();
        table(&cells);
    } else {
        rows.iter().for_each(|r| println!("{r}"));
    }
    Ok(())
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
    if let Some(f) = a
        .format
        .as_deref()
        .filter(|f| !f.is_empty() && *f != "table")
    {
        ps_format(&list, f, a.no_trunc)?;
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
        let cmd = short_command(&s.command, a.no_trunc);
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
            displayable_ports(&s.ports),
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
    /// Show extra details provided to logs.
    #[arg(long)]
    details: bool,
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
        "stdout=1&stderr=1&follow={}&timestamps={}&details={}&tail={}",
        a.follow,
        a.timestamps,
        a.details,
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
    /// Format the output using the given Go template.
    #[arg(short, long)]
    format: Option<String>,
    /// Inspect a specific platform of a multi-platform image.
    #[arg(long)]
    platform: Option<String>,
}

pub async fn inspect(client: &Client, a: InspectArgs) -> Result<u8> {
    // A bad template is reported before anything is looked up.
    if let Some(f) = &a.format {
        super::template::Template::parse(f)?;
    }
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
            None if a.kind.as_deref() != Some("container") => {
                let platform = a.platform.as_ref().filter(|p| !p.is_empty());
                let q = platform.map_or(String::new(), |p| format!("?platform={}", enc(p)));
                client
                    .get::<serde_json::Value>(&format!("/images/{n}/json{q}"))
                    .await
                    .ok()
            }
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
    if let Some(f) = a.format.as_deref().filter(|f| !f.is_empty()) {
        let t = super::template::Template::parse(f)?;
        for v in &out {
            stdout.write_all(t.render(v)?.as_bytes()).await?;
            stdout.write_all(b"\n").await?;
        }
        stdout.flush().await?;
        return Ok(u8::from(failed));
    }
    stdout
        .write_all(serde_json::to_string_pretty(&out)?.as_bytes())
        .await?;
    stdout.write_all(b"\n").await?;
    stdout.flush().await?;
    Ok(u8::from(failed))
}

/// One entry of a container summary's `Ports`.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct SummaryPort {
    #[serde(rename = "IP")]
    ip: String,
    private_port: u16,
    public_port: u16,
    #[serde(rename = "Type")]
    kind: String,
}

/// The PORTS column as the docker CLI (28) prints it (`DisplayablePorts`): consecutive ports
/// published on the same port number grouped into ranges (`0.0.0.0:9000-9001->9000-9001/tcp`),
/// unpublished ports bare (`80/tcp`), ports published elsewhere last (`[::]:8080->80/tcp`);
/// IPv6 addresses in brackets (Docker 20.10's CLI wrote `:::8080`).
pub(super) fn displayable_ports(ports: &[serde_json::Value]) -> String {
    let mut ports: Vec<SummaryPort> = ports
        .iter()
        .filter_map(|p| serde_json::from_value(p.clone()).ok())
        .collect();
    ports.sort_by(|i, j| {
        (i.private_port, &i.ip, i.public_port, &i.kind).cmp(&(
            j.private_port,
            &j.ip,
            j.public_port,
            &j.kind,
        ))
    });
    // Groups in the order their keys first appear: key → (first, last).
    let mut groups: Vec<(String, u16, u16)> = Vec::new();
    let mut result = Vec::new();
    let mut host_mappings = Vec::new();
    for p in &ports {
        let current = p.private_port;
        let key = if p.ip.is_empty() {
            p.kind.clone()
        } else if p.public_port != current {
            host_mappings.push(format!(
                "{}->{}/{}",
                host_port(&p.ip, &p.public_port.to_string()),
                p.private_port,
                p.kind
            ));
            continue;
        } else {
            format!("{}/{}", p.ip, p.kind)
        };
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            None => groups.push((key, current, current)),
            Some(g) if g.2.checked_add(1) == Some(current) => g.2 = current,
            Some(g) => {
                result.push(port_group(&g.0, g.1, g.2));
                (g.1, g.2) = (current, current);
            }
        }
    }
    result.extend(groups.iter().map(|(k, f, l)| port_group(k, *f, *l)));
    result.extend(host_mappings);
    result.join(", ")
}

/// `formGroup`: `80-81/tcp`, or `IP:80-81->80-81/tcp` for a key `IP/tcp`.
fn port_group(key: &str, first: u16, last: u16) -> String {
    let parts: Vec<&str> = key.split('/').collect();
    let (ip, kind) = match parts.as_slice() {
        [kind] => ("", *kind),
        [ip, kind, ..] => (*ip, *kind),
        [] => ("", ""),
    };
    let mut group = first.to_string();
    if first != last {
        group = format!("{group}-{last}");
    }
    if !ip.is_empty() {
        group = format!("{}->{group}", host_port(ip, &group));
    }
    format!("{group}/{kind}")
}

/// `ip:port`, or `[ip]:port` for IPv6 (Go's `net.JoinHostPort`).
fn host_port(ip: &str, port: &str) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn port(ip: &str, private: u16, public: u16, kind: &str) -> serde_json::Value {
        if ip.is_empty() {
            json!({"PrivatePort": private, "Type": kind})
        } else {
            json!({"IP": ip, "PrivatePort": private, "PublicPort": public, "Type": kind})
        }
    }

    #[test]
    fn ports_column_as_docker_prints_it() {
        assert_eq!(displayable_ports(&[]), "");
        assert_eq!(displayable_ports(&[port("", 80, 0, "tcp")]), "80/tcp");
        assert_eq!(
            displayable_ports(&[port("0.0.0.0", 8080, 8080, "tcp")]),
            "0.0.0.0:8080->8080/tcp"
        );
        assert_eq!(
            displayable_ports(&[
                port("0.0.0.0", 80, 8080, "tcp"),
                port("::", 80, 8080, "tcp")
            ]),
            "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp"
        );
        assert_eq!(
            displayable_ports(&[
                port("0.0.0.0", 9001, 9001, "tcp"),
                port("0.0.0.0", 9000, 9000, "tcp"),
                port("", 6000, 0, "udp"),
                port("", 6001, 0, "udp"),
                port("", 6003, 0, "udp"),
            ]),
            "6000-6001/udp, 6003/udp, 0.0.0.0:9000-9001->9000-9001/tcp"
        );
        // A protocol is a group of its own: 53/tcp is closed by 80/tcp and printed first.
        assert_eq!(
            displayable_ports(&[
                port("", 53, 0, "udp"),
                port("", 53, 0, "tcp"),
                port("", 80, 0, "tcp"),
                port("127.0.0.1", 443, 8443, "tcp"),
            ]),
            "53/tcp, 80/tcp, 53/udp, 127.0.0.1:8443->443/tcp"
        );
        // A gap closes a group; the group after it is printed at the end with the others.
        assert_eq!(
            displayable_ports(&[
                port("", 1, 0, "tcp"),
                port("", 2, 0, "tcp"),
                port("", 4, 0, "tcp"),
                port("", 5, 0, "udp"),
            ]),
            "1-2/tcp, 4/tcp, 5/udp"
        );
    }
}
