//! `stats [OPTIONS] [CONTAINER...]`: one request per container (`stream=false` for
//! `--no-stream`), each row kept up to date by its own task, the table redrawn in place every
//! 500 ms with the docker CLI's escape sequences. Without names it shows the running containers
//! (all with `-a`) and, while streaming, follows `start`/`die`/`destroy` events (`create` with
//! `-a`) as the docker CLI does.

mod format;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use berth_api::container::Summary;
use berth_api::stats::Stats;
use berth_client::Client;
use http_body_util::BodyExt;
use hyper::Method;
use tokio::sync::watch;

use super::template::Template;
use super::{enc, message};
use format::{DEFAULT_FORMAT, Entry};

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// Show all containers (default shows just running).
    #[arg(short, long)]
    all: bool,
    /// Disable streaming stats and only pull the first result.
    #[arg(long)]
    no_stream: bool,
    /// Do not truncate output.
    #[arg(long)]
    no_trunc: bool,
    /// Format output using a custom template (`table`, `table TEMPLATE`, `json` or a Go
    /// template).
    #[arg(long)]
    format: Option<String>,
    #[arg(value_name = "CONTAINER")]
    containers: Vec<String>,
}

/// The docker CLI's wait for a frame before a row shows `--`.
const FRAME_TIMEOUT: Duration = Duration::from_secs(2);

/// One row: what its task last saw, and whether a first answer (or failure) came.
struct Row {
    entry: Mutex<Entry>,
    error: Mutex<Option<String>>,
    first: watch::Sender<bool>,
}

/// The rows being shown, in the order they came.
#[derive(Default, Clone)]
struct Rows(Arc<Mutex<Vec<Arc<Row>>>>);

impl Rows {
    /// Starts collecting `container` unless it is shown already.
    fn add(&self, client: &Client, container: &str, stream: bool) {
        let mut rows = self.0.lock().expect("rows lock");
        let known = |r: &Arc<Row>| {
            let e = r.entry.lock().expect("row lock");
            e.container == container || e.id == container
        };
        if rows.iter().any(known) {
            return;
        }
        let row = Arc::new(Row {
            entry: Mutex::new(Entry {
                container: container.to_string(),
                ..Entry::default()
            }),
            error: Mutex::new(None),
            first: watch::channel(false).0,
        });
        rows.push(row.clone());
        tokio::spawn(collect(client.clone(), row, stream));
    }

    fn remove(&self, id: &str) {
        self.0.lock().expect("rows lock").retain(|r| {
            let e = r.entry.lock().expect("row lock");
            e.container != id && e.id != id
        });
    }

    fn snapshot(&self) -> Vec<Arc<Row>> {
        self.0.lock().expect("rows lock").clone()
    }
}

pub async fn stats(client: &Client, a: StatsArgs) -> Result<u8> {
    let format = match a.format.as_deref() {
        None | Some("" | "table") => DEFAULT_FORMAT,
        Some(f) => f,
    };
    let template = Template::parse(if format == "json" {
        "{{json .}}"
    } else {
        format
    })?;
    let rows = Rows::default();
    let stream = !a.no_stream;
    let show_all = a.containers.is_empty();
    if show_all {
        if stream {
            follow_events(client, &rows, a.all).await?;
        }
        let list: Vec<Summary> = client
            .get(&format!("/containers/json?all={}", a.all))
            .await?;
        for s in &list {
            rows.add(client, &s.id, stream);
        }
    } else {
        for c in &a.containers {
            rows.add(client, c, stream);
        }
    }
    for r in rows.snapshot() {
        let _ = r.first.subscribe().wait_for(|f| *f).await;
    }
    if !show_all {
        let errors: Vec<String> = rows
            .snapshot()
            .iter()
            .filter_map(|r| r.error.lock().expect("row lock").clone())
            .collect();
        if !errors.is_empty() {
            eprintln!("{}", errors.join("\n"));
            return Ok(1);
        }
    }
    let trunc = !a.no_trunc;
    if a.no_stream {
        // Nothing at all, not even the header, when nothing runs (as the docker CLI).
        if !rows.snapshot().is_empty() {
            print!("{}", render(&template, &rows, trunc)?);
        }
        return Ok(0);
    }
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.tick().await;
    loop {
        tick.tick().await;
        if rows.snapshot().is_empty() && !show_all {
            print!("\x1b[H\x1b[J");
            return Ok(0);
        }
        let text = render(&template, &rows, trunc)?;
        let mut frame = String::from("\x1b[H");
        for line in text.split('\n') {
            frame.push_str(line);
            frame.push_str("\x1b[K\n");
        }
        frame.push_str("\x1b[J");
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(frame.as_bytes())?;
        out.flush()?;
    }
}

/// The table (or lines) of every row, each line ending in a newline.
fn render(t: &Template, rows: &Rows, trunc: bool) -> Result<String> {
    let entries: Vec<Entry> = rows
        .snapshot()
        .iter()
        .map(|r| r.entry.lock().expect("row lock").clone())
        .collect();
    let mut lines = Vec::new();
    if t.table {
        lines.push(t.render(&format::header())?);
    }
    for e in &entries {
        lines.push(t.render(&e.fields(trunc))?);
    }
    if !t.table {
        return Ok(lines.iter().map(|l| format!("{l}\n")).collect());
    }
    let cells: Vec<Vec<String>> = lines
        .iter()
        .map(|r| r.split('\t').map(str::to_string).collect())
        .collect();
    Ok(format::align(&cells, 10))
}

/// Reads `row`'s frames until its stream ends; a frame that does not come within two seconds
/// turns the row to `--` until one does.
async fn collect(client: Client, row: Arc<Row>, stream: bool) {
    let name = row.entry.lock().expect("row lock").container.clone();
    let path = format!("/containers/{}/stats?stream={stream}", enc(&name));
    let resp = match client.request(Method::GET, &path, None).await {
        Ok(r) => r,
        Err(e) => {
            *row.error.lock().expect("row lock") = Some(message(&anyhow::Error::from(e)));
            invalidate(&row);
            return;
        }
    };
    let mut body = resp.into_body();
    let mut buf = Vec::new();
    loop {
        match tokio::time::timeout(FRAME_TIMEOUT, next_frame(&mut body, &mut buf)).await {
            Ok(Some(s)) => {
                *row.entry.lock().expect("row lock") = Entry::of(&name, &s);
                row.first.send_replace(true);
                if !stream {
                    return;
                }
            }
            Ok(None) => {
                invalidate(&row);
                return;
            }
            Err(_) => invalidate(&row),
        }
    }
}

fn invalidate(row: &Row) {
    let mut e = row.entry.lock().expect("row lock");
    *e = e.invalid();
    row.first.send_replace(true);
}

/// The next JSON frame of `body`; `None` when it ends (or breaks).
async fn next_frame(body: &mut hyper::body::Incoming, buf: &mut Vec<u8>) -> Option<Stats> {
    loop {
        let mut it = serde_json::Deserializer::from_slice(buf).into_iter::<Stats>();
        if let Some(Ok(s)) = it.next() {
            let used = it.byte_offset();
            buf.drain(..used);
            return Some(s);
        }
        let frame = body.frame().await?.ok()?;
        if let Some(d) = frame.data_ref() {
            buf.extend_from_slice(d);
        }
    }
}

/// Subscribes to container events before the list is read (so no start is missed) and keeps
/// `rows` in step with them.
async fn follow_events(client: &Client, rows: &Rows, all: bool) -> Result<()> {
    let filters = enc(r#"{"type":["container"]}"#);
    let resp = client
        .request(Method::GET, &format!("/events?filters={filters}"), None)
        .await?;
    let (client, rows) = (client.clone(), rows.clone());
    tokio::spawn(async move {
        let mut body = resp.into_body();
        let mut buf: Vec<u8> = Vec::new();
        while let Some(Ok(frame)) = body.frame().await {
            let Some(d) = frame.data_ref() else { continue };
            buf.extend_from_slice(d);
            let mut it =
                serde_json::Deserializer::from_slice(&buf).into_iter::<serde_json::Value>();
            let mut used = 0;
            while let Some(Ok(e)) = it.next() {
                used = it.byte_offset();
                let id = e["Actor"]["ID"].as_str().unwrap_or_default();
                match e["Action"].as_str().unwrap_or_default() {
                    "start" => rows.add(&client, id, true),
                    "create" if all => rows.add(&client, id, true),
                    "destroy" => rows.remove(id),
                    "die" if !all => rows.remove(id),
                    _ => {}
                }
            }
            buf.drain(..used);
        }
    });
    Ok(())
}
