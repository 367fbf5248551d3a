//! The logs of a project's containers, merged into one stream of lines with Compose v2's
//! prefixes (`web-1  | ...`, coloured on a terminal).

use berth_api::container::Summary;
use berth_client::ClientError;
use http_body_util::BodyExt;
use hyper::Method;
use tokio::sync::mpsc;

use super::api::{Api, enc};
use super::observed;

/// `logs` options, as the API takes them.
#[derive(Clone, Debug, Default)]
pub struct LogOptions {
    /// Keep streaming.
    pub follow: bool,
    /// `all` or a number of lines.
    pub tail: String,
    /// Unix time (`123.000000000`) or empty.
    pub since: String,
    /// Unix time or empty.
    pub until: String,
    /// Daemon-side timestamps on each line.
    pub timestamps: bool,
}

/// One line of one container's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The container's name without the project (`web-1`).
    pub source: String,
    /// From stderr.
    pub stderr: bool,
    /// The line, without its newline.
    pub text: String,
}

/// `project-web-1` → `web-1`.
pub fn short_name(project: &str, c: &Summary) -> String {
    let n = observed::name(c);
    n.strip_prefix(project)
        .and_then(|s| s.strip_prefix('-').or_else(|| s.strip_prefix('_')))
        .unwrap_or(n)
        .to_string()
}

/// Streams the logs of `containers` into `tx` until each ends (or the receiver goes).
pub async fn stream(
    api: &Api,
    project: &str,
    containers: &[Summary],
    opts: &LogOptions,
    tx: mpsc::Sender<Line>,
) -> Result<(), ClientError> {
    let mut tasks = Vec::new();
    for c in containers {
        let (api, opts, tx) = (api.clone(), opts.clone(), tx.clone());
        let (id, source) = (c.id.clone(), short_name(project, c));
        tasks.push(tokio::spawn(async move {
            one(&api, &id, &source, &opts, &tx).await
        }));
    }
    drop(tx);
    for t in tasks {
        if let Ok(Err(e)) = t.await {
            return Err(e);
        }
    }
    Ok(())
}

/// Streams one container's logs.
pub async fn one(
    api: &Api,
    id: &str,
    source: &str,
    opts: &LogOptions,
    tx: &mpsc::Sender<Line>,
) -> Result<(), ClientError> {
    let tty = api.inspect(id).await?.config.tty;
    let mut q = format!(
        "stdout=1&stderr=1&follow={}&timestamps={}&tail={}",
        opts.follow,
        opts.timestamps,
        enc(if opts.tail.is_empty() {
            "all"
        } else {
            &opts.tail
        })
    );
    for (k, v) in [("since", &opts.since), ("until", &opts.until)] {
        if !v.is_empty() {
            q.push_str(&format!("&{k}={}", enc(v)));
        }
    }
    let path = format!("/containers/{}/logs?{q}", enc(id));
    let mut body = api
        .client()
        .request(Method::GET, &path, None)
        .await?
        .into_body();
    let mut lines = Lines::new(tty, source);
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            for l in lines.push(&data) {
                if tx.send(l).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
    for l in lines.finish() {
        let _ = tx.send(l).await;
    }
    Ok(())
}

/// Docker's multiplexed log stream (or a raw tty one) cut into lines.
struct Lines {
    tty: bool,
    source: String,
    raw: Vec<u8>,
    partial: [Vec<u8>; 2],
}

impl Lines {
    fn new(tty: bool, source: &str) -> Lines {
        Lines {
            tty,
            source: source.to_string(),
            raw: Vec::new(),
            partial: [Vec::new(), Vec::new()],
        }
    }

    fn push(&mut self, data: &[u8]) -> Vec<Line> {
        let mut out = Vec::new();
        if self.tty {
            self.feed(false, data, &mut out);
            return out;
        }
        self.raw.extend_from_slice(data);
        while self.raw.len() >= 8 {
            let len = u32::from_be_bytes([self.raw[4], self.raw[5], self.raw[6], self.raw[7]]);
            let end = 8 + len as usize;
            if self.raw.len() < end {
                break;
            }
            let stderr = self.raw[0] == 2;
            let chunk: Vec<u8> = self.raw[8..end].to_vec();
            self.raw.drain(..end);
            self.feed(stderr, &chunk, &mut out);
        }
        out
    }

    fn feed(&mut self, stderr: bool, data: &[u8], out: &mut Vec<Line>) {
        let buf = &mut self.partial[usize::from(stderr)];
        buf.extend_from_slice(data);
        while let Some(i) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            let text = String::from_utf8_lossy(&line[..i]);
            out.push(Line {
                source: self.source.clone(),
                stderr,
                text: text.trim_end_matches('\r').to_string(),
            });
        }
    }

    /// What is left without a final newline.
    fn finish(&mut self) -> Vec<Line> {
        let mut out = Vec::new();
        for stderr in [false, true] {
            let buf = std::mem::take(&mut self.partial[usize::from(stderr)]);
            if !buf.is_empty() {
                out.push(Line {
                    source: self.source.clone(),
                    stderr,
                    text: String::from_utf8_lossy(&buf).into_owned(),
                });
            }
        }
        out
    }
}

/// Prefixes `name | ` padded to `width`, in the colour of the `index`th source on a terminal,
/// as Compose v2 paints them.
pub fn prefix(name: &str, width: usize, index: usize, color: bool) -> String {
    const RAINBOW: [&str; 10] = [
        "36", "33", "32", "35", "34", "36;1", "33;1", "32;1", "35;1", "34;1",
    ];
    let p = format!("{name:<width$} | ");
    if color {
        format!("\x1b[{}m{p}\x1b[0m", RAINBOW[index % RAINBOW.len()])
    } else {
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, text: &str) -> Vec<u8> {
        let mut f = vec![kind, 0, 0, 0];
        f.extend_from_slice(&(text.len() as u32).to_be_bytes());
        f.extend_from_slice(text.as_bytes());
        f
    }

    #[test]
    fn frames_split_anywhere_become_lines_per_stream() {
        let mut all = frame(1, "one\ntw");
        all.extend(frame(2, "err\n"));
        all.extend(frame(1, "o\n"));
        let mut l = Lines::new(false, "web-1");
        let mut got = Vec::new();
        for chunk in all.chunks(3) {
            got.extend(l.push(chunk));
        }
        let texts: Vec<(bool, &str)> = got.iter().map(|l| (l.stderr, l.text.as_str())).collect();
        assert_eq!(texts, [(false, "one"), (true, "err"), (false, "two")]);
    }

    #[test]
    fn a_tty_stream_is_cut_at_newlines_and_the_rest_kept() {
        let mut l = Lines::new(true, "web-1");
        assert_eq!(l.push(b"a\r\nb").len(), 1);
        let rest = l.finish();
        assert_eq!(rest[0].text, "b");
    }

    #[test]
    fn prefixes_are_padded_and_painted_as_compose_does() {
        assert_eq!(prefix("web-1", 6, 0, false), "web-1  | ");
        assert_eq!(prefix("db-1", 6, 1, true), "\x1b[33mdb-1   | \x1b[0m");
    }
}
