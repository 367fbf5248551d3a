//! The log drivers the monitor writes: Docker's `json-file` and `local` (files that rotate),
//! `none` (nothing kept), and the remote drivers `syslog`, `fluentd` and `journald`.
//!
//! The line splitter cuts the container's output into [`Message`]s. A file driver writes them
//! in the monitor's loop. A remote driver (or any driver with `mode=non-blocking`) gets them
//! through a [`queue::Queue`] on a writer thread of its own, so a slow or absent log server
//! never stalls the loop that reaps the container and serves its clients: in blocking mode a
//! full queue stops the loop *reading* the container's output (the container blocks on its
//! pipe, as Docker's blocking mode does); in non-blocking mode what does not fit is dropped.
//! Beside a remote driver a local file is always written, for `logs` and `attach`: Docker's
//! dual-logging cache (`local` format), or, with `cache-disabled`, a small buffer for attach.
//! The daemon checks the options and hands the monitor [`LogSettings`]; the readers are in
//! [`crate::logread`].

mod file;
pub mod fluentd;
pub mod journald;
mod net;
mod queue;
pub mod syslog;
mod tls;

use std::collections::BTreeMap;
use std::io;
use std::os::fd::BorrowedFd;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::logfile::{EntryWriter, Stream};
use crate::logrotate::Rotation;

pub use file::FileDriver;
pub use net::Address;
pub use tls::TlsSettings;

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

/// How the container's output reaches a driver that may be slow (Docker's `mode` option).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The container waits for the driver.
    #[default]
    Blocking,
    /// Up to `max_buffer` bytes of lines wait for the driver; lines that do not fit are
    /// dropped.
    NonBlocking {
        /// `max-buffer-size`.
        max_buffer: u64,
    },
}

/// A driver that sends the log away from the host's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Remote {
    /// `syslog`.
    Syslog(syslog::Config),
    /// `fluentd`.
    Fluentd(fluentd::Config),
    /// `journald`.
    Journald(journald::Config),
}

impl Remote {
    /// Connects as the driver will, so that a container whose log server cannot be reached
    /// fails to start, as in Docker (an asynchronous fluentd connects later).
    pub fn check(&self) -> io::Result<()> {
        match self {
            Remote::Syslog(c) => syslog::Syslog::connect(c).map(drop),
            Remote::Fluentd(c) if c.async_connect => Ok(()),
            Remote::Fluentd(c) => fluentd::Fluentd::connect(c).map(drop),
            Remote::Journald(c) => journald::Journald::open(c).map(drop),
        }
    }

    fn open(&self) -> io::Result<Box<dyn Driver>> {
        Ok(match self {
            Remote::Syslog(c) => Box::new(syslog::Syslog::connect(c)?),
            Remote::Fluentd(c) => Box::new(fluentd::Fluentd::new(c.clone())),
            Remote::Journald(c) => Box::new(journald::Journald::open(c)?),
        })
    }
}

/// What the monitor does with the container's output (part of its config).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    /// The local file's format (the driver's own, or a remote driver's cache or attach
    /// buffer); `None`: the `none` driver, nothing is kept.
    pub format: Option<Format>,
    /// When the file rotates.
    pub rotation: Rotation,
    /// Attributes written with every entry (`labels`, `env`, `tag` options).
    pub attrs: BTreeMap<String, String>,
    /// The remote driver, if the driver is one.
    pub remote: Option<Remote>,
    /// `mode` and `max-buffer-size`.
    pub mode: Mode,
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

/// The metadata of a piece of a line longer than the splitter's limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partial {
    /// Shared by the pieces of one line.
    pub id: String,
    /// 1 for the first piece.
    pub ordinal: i32,
    /// The piece that ended with the newline.
    pub last: bool,
}

/// One entry as every driver sees it.
#[derive(Debug, Clone)]
pub struct Message {
    /// Its stream.
    pub stream: Stream,
    /// The bytes, without the newline.
    pub line: Vec<u8>,
    /// When the monitor read it.
    pub time: chrono::DateTime<chrono::Utc>,
    /// Set for the pieces of a long line.
    pub partial: Option<Partial>,
}

impl Message {
    /// `stdout` or `stderr`, as the drivers name the streams.
    pub fn source(&self) -> &'static str {
        match self.stream {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    /// The time as the files write it (RFC 3339 with nanoseconds).
    pub fn rfc3339(&self) -> String {
        self.time
            .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
    }

    /// Whether a newline ended this entry (a whole line, or the last piece of one).
    pub fn ends_line(&self) -> bool {
        self.partial.as_ref().is_none_or(|p| p.last)
    }
}

/// Where messages go.
pub trait Driver: Send {
    /// Writes one message.
    fn log(&mut self, m: &Message) -> io::Result<()>;
    /// Writes out what is buffered.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Flushes and lets go.
    fn close(self: Box<Self>) -> io::Result<()>;
}

/// The writer of a container's log, which the monitor's loop feeds.
pub struct LogWriter {
    /// Written in the loop: a file driver, or a remote driver's local cache.
    local: Option<FileDriver>,
    /// Written on a thread: a remote driver, or a file driver in non-blocking mode.
    queue: Option<queue::Queue>,
    /// Per stream, the ID and last ordinal of a long line under way.
    partial: [Option<(String, i32)>; 2],
}

impl LogWriter {
    /// Opens the log at `path` as `settings` say; `none` opens nothing.
    pub fn open(path: &Path, settings: &LogSettings) -> io::Result<LogWriter> {
        let file = match settings.format {
            Some(format) => Some(FileDriver::open(
                path,
                format,
                settings.rotation,
                &settings.attrs,
            )?),
            None => None,
        };
        let (local, queue) = match (&settings.remote, settings.mode) {
            (Some(remote), mode) => {
                let (mode, max_messages) = match remote {
                    // fluent-logger-golang's async mode never holds the caller up and keeps at
                    // most `fluentd-buffer-limit` events.
                    Remote::Fluentd(c) if c.async_connect => match mode {
                        Mode::Blocking => (
                            Mode::NonBlocking {
                                max_buffer: u64::MAX,
                            },
                            c.buffer_limit,
                        ),
                        m => (m, c.buffer_limit),
                    },
                    _ => (mode, u64::MAX),
                };
                let q = queue::Queue::spawn(remote.open()?, mode, max_messages);
                (file, Some(q))
            }
            (None, Mode::NonBlocking { .. }) => match file {
                Some(f) => {
                    let q = queue::Queue::spawn(Box::new(f), settings.mode, u64::MAX);
                    (None, Some(q))
                }
                None => (None, None),
            },
            (None, Mode::Blocking) => (file, None),
        };
        Ok(LogWriter {
            local,
            queue,
            partial: [None, None],
        })
    }

    /// False while a blocking queue is full: the caller stops reading the container's output
    /// until [`LogWriter::wake_fd`] is readable.
    pub fn has_room(&self) -> bool {
        self.queue.as_ref().is_none_or(queue::Queue::has_room)
    }

    /// Readable when a full queue has room again (reading it is the caller's job:
    /// [`LogWriter::woken`]).
    pub fn wake_fd(&self) -> Option<BorrowedFd<'_>> {
        self.queue.as_ref().map(queue::Queue::wake_fd)
    }

    /// Takes the wake-up [`LogWriter::wake_fd`] signalled.
    pub fn woken(&self) {
        if let Some(q) = &self.queue {
            q.woken();
        }
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.local.as_mut().map_or(Ok(()), Driver::flush)
    }

    /// Flushes, lets the queue drain (for a bounded time) and finishes a compression under way.
    pub fn close(self) -> io::Result<()> {
        if let Some(q) = self.queue {
            q.close();
        }
        self.local.map_or(Ok(()), |f| Box::new(f).close())
    }

    /// The message of an entry cut by the splitter (a line with its newline, or a piece).
    fn message(&mut self, stream: Stream, line: &[u8]) -> Message {
        let time = chrono::Utc::now();
        let (body, whole) = match line.strip_suffix(b"\n") {
            Some(b) => (b, true),
            None => (line, false),
        };
        // Pieces of a line longer than the splitter's limit share an ID, as Docker's copier
        // marks them; the piece with the newline is the last.
        let slot = &mut self.partial[stream as usize];
        let partial = match (slot.as_mut(), whole) {
            (None, true) => None,
            (p, _) => {
                let (id, ordinal) = match p {
                    Some(p) => p,
                    None => {
                        slot.insert((format!("{:x}", time.timestamp_nanos_opt().unwrap_or(0)), 0))
                    }
                };
                *ordinal += 1;
                let meta = Partial {
                    id: id.clone(),
                    ordinal: *ordinal,
                    last: whole,
                };
                if whole {
                    *slot = None;
                }
                Some(meta)
            }
        };
        Message {
            stream,
            line: body.to_vec(),
            time,
            partial,
        }
    }
}

impl EntryWriter for LogWriter {
    fn entry(&mut self, stream: Stream, line: &[u8]) -> io::Result<()> {
        if self.local.is_none() && self.queue.is_none() {
            return Ok(());
        }
        let m = self.message(stream, line);
        if let Some(f) = &mut self.local {
            f.log(&m)?;
        }
        if let Some(q) = &self.queue {
            q.push(m);
        }
        Ok(())
    }
}
