//! What `up`, `down` and the others report as they go, in Compose v2's forms: `plain` (one
//! line per event, what Compose prints when stderr is not a terminal), `json` (one object per
//! event) and `quiet`.

use std::io::Write;

/// How events are shown (`--progress`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// ` Container demo-web-1 Started ` lines.
    Plain,
    /// `{"id":..,"text":..,"status":..}` lines.
    Json,
    /// Nothing.
    Quiet,
}

impl Mode {
    /// `--progress VALUE`; `auto` is plain (berth does not redraw a terminal), `tty` is refused.
    pub fn parse(s: &str) -> Result<Mode, String> {
        match s {
            "auto" | "plain" => Ok(Mode::Plain),
            "json" => Ok(Mode::Json),
            "quiet" => Ok(Mode::Quiet),
            "tty" => Err(
                "--progress tty is not supported by berth compose: use plain, json or quiet".into(),
            ),
            other => Err(format!("unsupported --progress value {other:?}")),
        }
    }
}

/// Reports events to stderr.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    mode: Mode,
    dry_run: bool,
}

impl Progress {
    /// A reporter in `mode`; `dry_run` prefixes every line as Compose does.
    pub fn new(mode: Mode, dry_run: bool) -> Progress {
        Progress { mode, dry_run }
    }

    /// `kind` (`Container`, `Network`, `Volume`, `Image`) `name` reached `text` (`Started`).
    pub fn event(&self, kind: &str, name: &str, text: &str) {
        self.detail(kind, name, text, "");
    }

    /// Reports `kind name doing`, runs `op`, then reports `done`, or `Error` with its message.
    pub async fn step<T, E: std::fmt::Display>(
        &self,
        kind: &str,
        name: &str,
        (doing, done): (&str, &str),
        op: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        self.event(kind, name, doing);
        match op.await {
            Ok(v) => {
                self.event(kind, name, done);
                Ok(v)
            }
            Err(e) => {
                self.detail(kind, name, "Error", &e.to_string());
                Err(e)
            }
        }
    }

    /// An event with details (an error's message).
    pub fn detail(&self, kind: &str, name: &str, text: &str, details: &str) {
        let id = format!("{kind} {name}");
        let line = match self.mode {
            Mode::Quiet => return,
            Mode::Plain => {
                let prefix = if self.dry_run { "DRY-RUN MODE - " } else { "" };
                format!("{prefix} {id} {text} {details}")
            }
            Mode::Json => serde_json::json!({
                "dry-run": self.dry_run, "id": id, "text": text, "details": details,
            })
            .to_string(),
        };
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}
