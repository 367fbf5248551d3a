//! The log drivers the monitor writes: Docker's `json-file` and `local` (files that rotate) and
//! `none` (nothing kept). The daemon checks the options and hands the monitor
//! [`LogSettings`]; the readers are in [`crate::logread`].

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::logfile::{EntryWriter, Stream};
use crate::logproto::LocalEntry;
use crate::logrotate::{RotatingFile, Rotation};

/// A log file's format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Docker's json-file: one JSON object per line.
    #[default]
    JsonFile,
    /// Docker's local: length-framed protobuf entries.
    Local,
}

/// What the monitor does with the container's output (part of its config).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    /// `None`: the `none` driver, nothing is kept.
    pub format: Option<Format>,
    /// When the file rotates.
    pub rotation: Rotation,
    /// Attributes written with every entry (`labels`, `env`, `tag` options).
    pub attrs: BTreeMap<String, String>,
}

impl LogSettings {
    /// The json-file driver without options: one file that grows (what a monitor config
    /// without settings, of an older berth, meant).
    pub fn json_file() -> LogSettings {
        LogSettings {
            format: Some(Format::JsonFile),
            ..Default::default()
        }
    }
}

/// The writer of a container's log: entries in the driver's format, in a rotating file.
pub struct LogWriter {
    file: Option<RotatingFile>,
    format: Format,
    attrs: Option<BTreeMap<String, String>>,
    /// For `local`: the ID and ordinal of the pieces of a long line.
    partial: Option<(String, i32)>,
}

impl LogWriter {
    /// Opens the log at `path` as `settings` say; `none` opens nothing.
    pub fn open(path: &Path, settings: &LogSettings) -> io::Result<LogWriter> {
        let file = match settings.format {
            Some(_) => Some(RotatingFile::open(path, settings.rotation)?),
            None => None,
        };
        Ok(LogWriter {
            file,
            format: settings.format.unwrap_or_default(),
            attrs: (!settings.attrs.is_empty()).then(|| settings.attrs.clone()),
            partial: None,
        })
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().map_or(Ok(()), RotatingFile::flush)
    }

    /// Flushes and finishes a compression under way.
    pub fn close(self) -> io::Result<()> {
        self.file.map_or(Ok(()), RotatingFile::close)
    }

    fn local_entry(
        &mut self,
        stream: Stream,
        line: &[u8],
        now: &chrono::DateTime<chrono::Utc>,
    ) -> Vec<u8> {
        let (body, whole) = match line.strip_suffix(b"\n") {
            Some(b) => (b, true),
            None => (line, false),
        };
        // Pieces of a line longer than the splitter's limit share an ID, as Docker's copier
        // marks them; the piece with the newline is the last.
        let partial_meta = match (&mut self.partial, whole) {
            (None, true) => None,
            (p, whole) => {
                let (id, ordinal) = p.get_or_insert_with(|| {
                    (format!("{:x}", now.timestamp_nanos_opt().unwrap_or(0)), 0)
                });
                *ordinal += 1;
                let meta = Some((whole, id.clone(), *ordinal));
                if whole {
                    *p = None;
                }
                meta
            }
        };
        LocalEntry {
            source: stream_name(stream).into(),
            time_nano: now.timestamp_nanos_opt().unwrap_or(0),
            line: body.to_vec(),
            partial: partial_meta.is_some(),
            partial_meta,
            attrs: self.attrs.clone().unwrap_or_default(),
        }
        .frame()
    }
}

fn stream_name(s: Stream) -> &'static str {
    match s {
        Stream::Stdout => "stdout",
        Stream::Stderr => "stderr",
    }
}

impl EntryWriter for LogWriter {
    fn entry(&mut self, stream: Stream, line: &[u8]) -> io::Result<()> {
        if self.file.is_none() {
            return Ok(());
        }
        let now = chrono::Utc::now();
        let time = now.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let bytes = match self.format {
            Format::JsonFile => {
                crate::logfile::json_line(stream, line, self.attrs.as_ref(), &time)?
            }
            Format::Local => self.local_entry(stream, line, &now),
        };
        match &mut self.file {
            Some(f) => f.write_entry(&bytes, &time),
            None => Ok(()),
        }
    }
}
