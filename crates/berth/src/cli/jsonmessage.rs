//! Docker's JSON message streams (pull, push, load) rendered as the docker CLI renders them
//! (`pkg/jsonmessage`): on a terminal one line per layer id, redrawn in place with cursor
//! movement, with a progress bar when the terminal is wider than 110 columns; elsewhere only the
//! lines without a live progress, so that logs stay readable. An `errorDetail` ends the stream
//! with its message; `aux` messages go to a callback and are not shown.

use std::collections::HashMap;
use std::io::Write;

use anyhow::{Context, Result};
use berth_client::ClientError;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::Deserialize;

/// One message of the stream (Docker's `JSONMessage`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct JsonMessage {
    pub stream: String,
    pub status: String,
    #[serde(rename = "progressDetail")]
    pub progress_detail: Option<Progress>,
    /// The daemon's own rendering of the progress, shown where `progressDetail` is not.
    pub progress: String,
    pub id: String,
    pub from: String,
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
    #[serde(rename = "errorDetail")]
    pub error_detail: Option<JsonError>,
    pub aux: Option<serde_json::Value>,
}

/// `errorDetail`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct JsonError {
    pub code: i64,
    pub message: String,
}

/// `progressDetail`: how far an operation is.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct Progress {
    pub current: i64,
    pub total: i64,
    /// Unix time the operation started, for the time left.
    pub start: i64,
    #[serde(rename = "hidecounts")]
    pub hide_counts: bool,
    /// Empty for bytes.
    pub units: String,
}

impl Progress {
    /// `[====>    ]  1.2MB/3.4MB 3s` for a terminal `width` columns wide at unix time `now`
    /// (seconds, with a fraction).
    pub fn render(&self, width: usize, now: f64) -> String {
        if self.current <= 0 && self.total <= 0 {
            return String::new();
        }
        let size = |n: i64| super::human_size_precision(n, 4);
        if self.total <= 0 {
            return match self.units.as_str() {
                "" => format!("{:>8}", size(self.current)),
                u => format!("{} {u}", self.current),
            };
        }
        let percentage = (((self.current as f64 / self.total as f64) * 100.0) as i64 / 2).min(50);
        let mut bar = String::new();
        if width > 110 {
            let spaces = (50 - percentage).max(0) as usize;
            let done = percentage.max(0) as usize;
            bar = format!("[{}>{}] ", "=".repeat(done), " ".repeat(spaces));
        }
        let numbers = if self.hide_counts {
            String::new()
        } else if self.units.is_empty() {
            if self.current > self.total {
                // A wonky current: no total.
                format!("{:>8}", size(self.current))
            } else {
                format!("{:>8}/{}", size(self.current), size(self.total))
            }
        } else if self.current > self.total {
            format!("{} {}", self.current, self.units)
        } else {
            format!("{}/{} {}", self.current, self.total, self.units)
        };
        let mut left = String::new();
        if width > 50 && self.current > 0 && self.start > 0 && percentage < 50 {
            // Go's integer arithmetic on nanoseconds, rounded to the second.
            let from_start = ((now - self.start as f64) * 1e9) as i128;
            let per_entry = from_start / i128::from(self.current);
            let nanos = i128::from(self.total - self.current) * per_entry;
            left = format!(
                " {}",
                go_seconds((nanos + 500_000_000).div_euclid(1_000_000_000))
            );
        }
        format!("{bar}{numbers}{left}")
    }
}

/// A whole number of seconds as Go's `time.Duration` prints it (`1h2m3s`, `45s`, `0s`).
fn go_seconds(s: i128) -> String {
    let (sign, s) = if s < 0 { ("-", -s) } else { ("", s) };
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    match (h, m) {
        (0, 0) => format!("{sign}{s}s"),
        (0, _) => format!("{sign}{m}m{s}s"),
        _ => format!("{sign}{h}h{m}m{s}s"),
    }
}

/// Go's `RFC3339NanoFixed` in local time.
fn fixed_time(nanos: i64) -> String {
    use chrono::TimeZone;
    let t = chrono::Local.timestamp_nanos(nanos);
    if t.offset().local_minus_utc() == 0 {
        t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.9f%:z").to_string()
    }
}

/// The columns of the terminal on stdout; docker assumes 200 when it cannot tell.
fn stdout_width() -> usize {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a winsize struct that lives across the call.
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    if ok { usize::from(ws.ws_col) } else { 200 }
}

/// Where the stream goes and how.
pub struct Renderer<W: Write> {
    out: W,
    tty: bool,
    /// A fixed terminal width (tests); else the terminal's, asked for each message.
    width: Option<usize>,
    /// A fixed clock (tests), unix seconds.
    now: Option<f64>,
    /// The line of each id on screen, counted from the first of the block.
    ids: HashMap<String, usize>,
}

/// The stream failed: the daemon's error in it, or a message that does not parse.
#[derive(Debug)]
pub struct StreamError(pub String);

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StreamError {}

impl Renderer<std::io::Stdout> {
    /// To stdout, as a terminal if it is one.
    pub fn stdout() -> Self {
        use std::io::IsTerminal;
        let tty = std::io::stdout().is_terminal();
        Renderer::new(std::io::stdout(), tty)
    }
}

impl<W: Write> Renderer<W> {
    pub fn new(out: W, tty: bool) -> Self {
        Renderer {
            out,
            tty,
            width: None,
            now: None,
            ids: HashMap::new(),
        }
    }

    #[cfg(test)]
    fn fixed(out: W, tty: bool, width: usize, now: f64) -> Self {
        Renderer {
            width: Some(width),
            now: Some(now),
            ..Renderer::new(out, tty)
        }
    }

    #[cfg(test)]
    fn into_inner(self) -> W {
        self.out
    }

    /// Shows one message; `aux` gets the `aux` ones. An `errorDetail` is returned as the error.
    pub fn message(
        &mut self,
        jm: &JsonMessage,
        aux: &mut dyn FnMut(&serde_json::Value),
    ) -> std::io::Result<Option<StreamError>> {
        if let Some(a) = &jm.aux {
            aux(a);
            return Ok(None);
        }
        let mut diff = 0;
        if !jm.id.is_empty() && (jm.progress_detail.is_some() || !jm.progress.is_empty()) {
            let line = match self.ids.get(&jm.id) {
                Some(l) => *l,
                None => {
                    let l = self.ids.len();
                    self.ids.insert(jm.id.clone(), l);
                    if self.tty {
                        self.out.write_all(b"\n")?;
                    }
                    l
                }
            };
            diff = self.ids.len() - line;
            if self.tty && diff > 0 {
                write!(self.out, "\x1b[{diff}A")?;
            }
        } else {
            // Anything else starts a new block: lines above are not redrawn any more (the
            // tags of `pull -a` one after the other).
            self.ids.clear();
        }
        let err = self.display(jm)?;
        if !jm.id.is_empty() && self.tty && diff > 0 {
            write!(self.out, "\x1b[{diff}B")?;
        }
        Ok(err)
    }

    /// Docker's `JSONMessage.Display`.
    fn display(&mut self, jm: &JsonMessage) -> std::io::Result<Option<StreamError>> {
        if let Some(e) = &jm.error_detail {
            return Ok(Some(StreamError(e.message.clone())));
        }
        let width = self.width.unwrap_or_else(stdout_width);
        let now = self.now.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64())
        });
        let progress = jm.progress_detail.as_ref().map(|p| p.render(width, now));
        let mut endl = "";
        if self.tty && jm.stream.is_empty() && progress.is_some() {
            self.out.write_all(b"\x1b[2K\r")?;
            endl = "\r";
        } else if progress.as_ref().is_some_and(|p| !p.is_empty()) {
            // No progress bars where nothing can redraw them.
            return Ok(None);
        }
        if jm.time_nano != 0 {
            write!(self.out, "{} ", fixed_time(jm.time_nano))?;
        } else if jm.time != 0 {
            write!(
                self.out,
                "{} ",
                fixed_time(jm.time.saturating_mul(1_000_000_000))
            )?;
        }
        if !jm.id.is_empty() {
            write!(self.out, "{}: ", jm.id)?;
        }
        if !jm.from.is_empty() {
            write!(self.out, "(from {}) ", jm.from)?;
        }
        match progress {
            Some(p) if self.tty => write!(self.out, "{} {p}{endl}", jm.status)?,
            _ if !jm.progress.is_empty() => {
                write!(self.out, "{} {}{endl}", jm.status, jm.progress)?
            }
            _ if !jm.stream.is_empty() => write!(self.out, "{}{endl}", jm.stream)?,
            _ => writeln!(self.out, "{}{endl}", jm.status)?,
        }
        Ok(None)
    }

    /// Shows every message of `bytes`, a whole stream (recorded ones in tests).
    #[cfg(test)]
    fn all(
        &mut self,
        bytes: &[u8],
        aux: &mut dyn FnMut(&serde_json::Value),
    ) -> Result<(), StreamError> {
        let mut d = Decoder::default();
        d.push(bytes);
        for m in d.messages().chain(d.end()) {
            let m = m?;
            let shown = self
                .message(&m, aux)
                .map_err(|e| StreamError(e.to_string()))?;
            if let Some(e) = shown {
                return Err(e);
            }
        }
        Ok(())
    }
}

/// Splits a byte stream into messages: JSON values one after the other, whatever separates
/// them and however the chunks cut them.
#[derive(Default)]
pub struct Decoder {
    pending: Vec<u8>,
}

impl Decoder {
    pub fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// The messages complete so far.
    pub fn messages(&mut self) -> std::vec::IntoIter<Result<JsonMessage, StreamError>> {
        let mut out = Vec::new();
        let mut it = serde_json::Deserializer::from_slice(&self.pending).into_iter::<JsonMessage>();
        let mut used = 0;
        loop {
            match it.next() {
                Some(Ok(m)) => {
                    used = it.byte_offset();
                    out.push(Ok(m));
                }
                Some(Err(e)) if e.is_eof() => break,
                Some(Err(e)) => {
                    out.push(Err(StreamError(e.to_string())));
                    used = self.pending.len();
                    break;
                }
                None => {
                    used = self.pending.len();
                    break;
                }
            }
        }
        self.pending.drain(..used);
        out.into_iter()
    }

    /// The stream ended: what is left is an error unless it is blank.
    pub fn end(&mut self) -> Option<Result<JsonMessage, StreamError>> {
        let left = std::mem::take(&mut self.pending);
        (!left.iter().all(u8::is_ascii_whitespace))
            .then(|| Err(StreamError("unexpected EOF".into())))
    }
}

/// Renders the body of a streamed answer as it arrives; the stream's error is the error.
pub async fn display<W: Write>(
    body: Incoming,
    r: &mut Renderer<W>,
    aux: &mut dyn FnMut(&serde_json::Value),
) -> Result<()> {
    let shown = render_body(body, r, aux).await;
    // What was drawn reaches the terminal before an error is printed under it.
    let _ = r.out.flush();
    shown
}

async fn render_body<W: Write>(
    mut body: Incoming,
    r: &mut Renderer<W>,
    aux: &mut dyn FnMut(&serde_json::Value),
) -> Result<()> {
    let mut d = Decoder::default();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.map_err(ClientError::from)?.into_data() {
            d.push(&data);
            for m in d.messages() {
                show(r, m?, aux)?;
            }
            r.out.flush().context("writing the progress")?;
        }
    }
    if let Some(m) = d.end() {
        show(r, m?, aux)?;
    }
    Ok(())
}

fn show<W: Write>(
    r: &mut Renderer<W>,
    m: JsonMessage,
    aux: &mut dyn FnMut(&serde_json::Value),
) -> Result<()> {
    match r.message(&m, aux) {
        Ok(None) => Ok(()),
        Ok(Some(e)) => Err(e.into()),
        // A closed stdout (`| head`) ends the command, as SIGPIPE ends docker.
        Err(e) => Err(anyhow::Error::new(e).context("writing the progress")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(stream: &str, tty: bool, width: usize) -> (String, Result<(), StreamError>) {
        let mut r = Renderer::fixed(Vec::new(), tty, width, 1_700_000_100.0);
        let res = r.all(stream.as_bytes(), &mut |_| {});
        (String::from_utf8(r.into_inner()).unwrap(), res)
    }

    #[test]
    fn progress_strings_are_dockers() {
        let p = |current, total| Progress {
            current,
            total,
            ..Default::default()
        };
        assert_eq!(p(0, 0).render(200, 0.0), "");
        assert_eq!(p(1, 0).render(200, 0.0), "      1B");
        assert_eq!(
            p(50, 100).render(200, 0.0),
            "[=========================>                         ]      50B/100B"
        );
        // A current past the total: a full bar, no total (gh#7136).
        assert_eq!(
            p(50, 40).render(200, 0.0),
            "[==================================================>]      50B"
        );
        // Narrow terminals get no bar.
        assert_eq!(
            p(3_146_000, 31_370_000).render(110, 0.0),
            " 3.146MB/31.37MB"
        );
        let units = Progress {
            current: 2,
            total: 5,
            units: "items".into(),
            ..Default::default()
        };
        assert_eq!(units.render(80, 0.0), "2/5 items");
        let hidden = Progress {
            hide_counts: true,
            ..p(1, 2)
        };
        assert_eq!(hidden.render(80, 0.0), "");
        // The time left, from the start: 10 s for a fifth, 40 s to go.
        let timed = Progress {
            start: 1_700_000_000,
            ..p(20, 100)
        };
        assert_eq!(timed.render(80, 1_700_000_010.0), "     20B/100B 40s");
        assert_eq!(go_seconds(3723), "1h2m3s");
        assert_eq!(go_seconds(61), "1m1s");
    }

    /// A pull as dockerd streams it, rendered where stdout is not a terminal: the lines
    /// without progress bars, as `docker pull > log` writes them.
    #[test]
    fn a_pull_not_on_a_terminal() {
        let stream = concat!(
            r#"{"status":"Pulling from library/busybox","id":"latest"}"#,
            "\r\n",
            r#"{"status":"Pulling fs layer","progressDetail":{},"id":"a1b2c3d4e5f6"}"#,
            "\r\n",
            r#"{"status":"Downloading","progressDetail":{"current":1000,"total":2000},"progress":"[==>  ]","id":"a1b2c3d4e5f6"}"#,
            "\r\n",
            r#"{"status":"Verifying Checksum","progressDetail":{},"id":"a1b2c3d4e5f6"}"#,
            r#"{"status":"Download complete","progressDetail":{},"id":"a1b2c3d4e5f6"}"#,
            "\n",
            r#"{"status":"Extracting","progressDetail":{"current":2000,"total":2000},"progress":"[=>]","id":"a1b2c3d4e5f6"}"#,
            r#"{"status":"Pull complete","progressDetail":{},"id":"a1b2c3d4e5f6"}"#,
            r#"{"status":"Digest: sha256:0123"}"#,
            r#"{"status":"Status: Downloaded newer image for busybox:latest"}"#,
        );
        let (out, res) = render(stream, false, 200);
        res.unwrap();
        assert_eq!(
            out,
            "latest: Pulling from library/busybox\n\
             a1b2c3d4e5f6: Pulling fs layer\n\
             a1b2c3d4e5f6: Verifying Checksum\n\
             a1b2c3d4e5f6: Download complete\n\
             a1b2c3d4e5f6: Pull complete\n\
             Digest: sha256:0123\n\
             Status: Downloaded newer image for busybox:latest\n"
        );
    }

    /// The same on a terminal: each layer gets a line when it first shows, and later messages
    /// move the cursor up to it, redraw it and come back down.
    #[test]
    fn a_pull_on_a_terminal_redraws_each_layers_line() {
        let stream = concat!(
            r#"{"status":"Pulling from library/x","id":"latest"}"#,
            r#"{"status":"Pulling fs layer","progressDetail":{},"id":"aaa"}"#,
            r#"{"status":"Pulling fs layer","progressDetail":{},"id":"bbb"}"#,
            r#"{"status":"Downloading","progressDetail":{"current":1,"total":2},"id":"aaa"}"#,
            r#"{"status":"Pull complete","progressDetail":{},"id":"bbb"}"#,
            r#"{"status":"Digest: sha256:0123"}"#,
        );
        let (out, res) = render(stream, true, 80);
        res.unwrap();
        let expected = concat!(
            "latest: Pulling from library/x\n",
            // A new id: a new line, up one to it, clear, draw, and down again.
            "\n\x1b[1A\x1b[2K\raaa: Pulling fs layer \r\x1b[1B",
            "\n\x1b[1A\x1b[2K\rbbb: Pulling fs layer \r\x1b[1B",
            // aaa is two lines up now.
            "\x1b[2A\x1b[2K\raaa: Downloading       1B/2B\r\x1b[2B",
            "\x1b[1A\x1b[2K\rbbb: Pull complete \r\x1b[1B",
            "Digest: sha256:0123\n",
        );
        assert_eq!(out, expected);
        // Wider than 110 columns: bars.
        let (wide, _) = render(stream, true, 120);
        assert!(
            wide.contains("aaa: Downloading [=========================>                         ]       1B/2B\r"),
            "{wide:?}"
        );
    }

    #[test]
    fn an_error_in_the_stream_ends_it_with_its_message() {
        let stream = concat!(
            r#"{"status":"Pulling from library/x","id":"latest"}"#,
            "\n",
            r#"{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}"#,
            "\n",
            r#"{"status":"not shown"}"#,
        );
        let (out, res) = render(stream, false, 200);
        assert_eq!(res.unwrap_err().to_string(), "manifest unknown");
        assert_eq!(out, "latest: Pulling from library/x\n");
        let (_, res) = render("{\"status\":\"x\"}\nnot json", false, 200);
        assert!(res.unwrap_err().0.contains("expected"));
        let (_, res) = render("{\"status\":\"x\"", false, 200);
        assert_eq!(res.unwrap_err().0, "unexpected EOF");
    }

    #[test]
    fn aux_goes_to_the_callback_and_streams_and_times_show() {
        let stream = concat!(
            r#"{"status":"The push refers to repository [docker.io/library/x]"}"#,
            r#"{"status":"latest: digest: sha256:ab size: 527"}"#,
            r#"{"progressDetail":{},"aux":{"Tag":"latest","Digest":"sha256:ab","Size":527}}"#,
            r#"{"stream":"Loaded image: x:latest\n"}"#,
            r#"{"status":"s","id":"i","from":"f","time":1}"#,
        );
        let mut seen = Vec::new();
        let mut r = Renderer::fixed(Vec::new(), false, 200, 0.0);
        r.all(stream.as_bytes(), &mut |a| seen.push(a.clone()))
            .unwrap();
        let out = String::from_utf8(r.into_inner()).unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0]["Size"], 527);
        let mut lines = out.lines();
        assert_eq!(
            lines.next(),
            Some("The push refers to repository [docker.io/library/x]")
        );
        assert_eq!(lines.next(), Some("latest: digest: sha256:ab size: 527"));
        assert_eq!(lines.next(), Some("Loaded image: x:latest"));
        let last = lines.next().unwrap();
        assert!(
            last.ends_with(".000000000Z i: (from f) s")
                || last.contains(".000000000+")
                || last.contains(".000000000-"),
            "{last:?}"
        );
    }

    /// `pull -a`: a line without progress (the next tag's `Pulling from`) ends the block, and
    /// a layer seen before gets a new line below it instead of redrawing one above.
    #[test]
    fn a_line_without_progress_starts_a_new_block() {
        let stream = concat!(
            r#"{"status":"Pulling fs layer","progressDetail":{},"id":"aaa"}"#,
            r#"{"status":"Pulling from library/x","id":"2"}"#,
            r#"{"status":"Already exists","progressDetail":{},"id":"aaa"}"#,
        );
        let (out, res) = render(stream, true, 80);
        res.unwrap();
        assert_eq!(
            out,
            concat!(
                "\n\x1b[1A\x1b[2K\raaa: Pulling fs layer \r\x1b[1B",
                "2: Pulling from library/x\n",
                "\n\x1b[1A\x1b[2K\raaa: Already exists \r\x1b[1B",
            )
        );
    }

    #[test]
    fn chunks_cut_anywhere() {
        let stream = br#"{"status":"a"}{"status":"b"}"#;
        let mut d = Decoder::default();
        let mut got = Vec::new();
        for c in stream.chunks(3) {
            d.push(c);
            got.extend(d.messages().map(|m| m.unwrap().status));
        }
        assert!(d.end().is_none());
        assert_eq!(got, ["a", "b"]);
    }
}
