//! Reading a container's log: what is there, and what comes while it runs (`logs`, `attach`,
//! and build steps), across rotations and in the driver's format (see
//! `berth_runtime::logread`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use berth_runtime::logfile::Entry;
use berth_runtime::logread::{Cursor, Progress};
use futures_util::StreamExt;
use tokio::sync::watch;

use super::logging::{LogFile, file_for};
use super::{Container, Status};

/// Where to start reading a log.
#[derive(Debug, Clone, Copy)]
pub enum From {
    /// The beginning of the oldest file.
    Start,
    /// A byte offset in the current file: the size when a client attached.
    Offset(u64),
}

/// The current size of the log whose json-file path is `json` (`Paths::log`): where output
/// written from now on begins. The file is the driver's, whichever of them exists.
pub fn log_end(json: &Path) -> u64 {
    let dir = json.parent().unwrap_or(json);
    [
        json.to_path_buf(),
        dir.join("local-logs").join("container.log"),
        dir.join("attach-json.log"),
    ]
    .iter()
    .find_map(|p| std::fs::metadata(p).ok())
    .map_or(0, |m| m.len())
}

/// How long to keep reading a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// What is there now.
    Now,
    /// Until the container is not running (`logs -f`; at once if it is not running).
    Stopped,
    /// Until the current run, or the next one if none is current, has ended (`attach`).
    RunEnds,
}

/// Reads the log of `c` (`json` is its json-file path, `Paths::log`; the driver's file is
/// found from there) and hands each entry to `emit`, which returns false to stop. Returns the
/// offset in the current file after the last entry read.
pub async fn follow_log(
    c: Arc<Container>,
    json: PathBuf,
    from: From,
    until: Until,
    emit: impl FnMut(Entry) -> bool,
) -> u64 {
    let file = file_for(&json, &c.record().spec.log);
    let cursor = match from {
        From::Start => Cursor::start(&file.path, file.format),
        From::Offset(n) => Cursor::at(&file.path, file.format, n),
    };
    follow(c, &file, cursor, until, emit).await.offset()
}

/// Entries read per trip to the blocking pool.
const BATCH: usize = 2048;

/// Reads from `cursor` on until `until`, handing entries to `emit`; returns the cursor.
pub async fn follow(
    c: Arc<Container>,
    file: &LogFile,
    mut cursor: Cursor,
    until: Until,
    mut emit: impl FnMut(Entry) -> bool,
) -> Cursor {
    let first = c.record().state;
    let mut changed = c.watch();
    let dir = file.path.parent().unwrap_or(&file.path).to_path_buf();
    let mut watch = LogWatch::new(&dir);
    loop {
        // Observe "ended" before reading, so output written before the end is never missed.
        let state = c.record().state;
        let ended = state.status == Status::Removing
            || match until {
                Until::Now => true,
                Until::Stopped => state.status != Status::Running,
                Until::RunEnds => {
                    state.status != Status::Running && state.finished_at != first.finished_at
                }
            };
        let mut read_any = false;
        loop {
            let Some((back, batch, progress)) = read_batch(cursor).await else {
                return Cursor::start(&file.path, file.format);
            };
            cursor = back;
            read_any |= progress.any;
            for e in batch {
                if !emit(e) {
                    return cursor;
                }
            }
            if progress.caught_up {
                break;
            }
        }
        if ended {
            return cursor;
        }
        if !read_any {
            watch.wait(&dir, &mut changed).await;
        }
    }
}

/// One batch of entries from `cursor`, read on the blocking pool.
async fn read_batch(mut cursor: Cursor) -> Option<(Cursor, Vec<Entry>, Progress)> {
    let done = crate::blocking::run("reading a log", move || {
        let mut batch = Vec::new();
        let read = cursor.read(&mut |e| {
            batch.push(e);
            batch.len() < BATCH
        });
        let mut progress = read.unwrap_or(Progress {
            caught_up: true,
            ..Progress::default()
        });
        // A full batch is not the end.
        if progress.stopped {
            progress.caught_up = false;
        }
        Ok((cursor, batch, progress))
    });
    done.await.ok()
}

/// Wakes a log follower when a file in the log's directory is written, created or renamed
/// (inotify: a rotation renames the file being followed) or the container's state changes.
/// Without a watch (inotify is out of watches) it falls back to polling.
struct LogWatch {
    events: Option<inotify::EventStream<Vec<u8>>>,
}

impl LogWatch {
    fn new(dir: &Path) -> Self {
        use inotify::WatchMask;
        let events = inotify::Inotify::init().ok().and_then(|i| {
            let mask =
                WatchMask::MODIFY | WatchMask::CREATE | WatchMask::MOVED_TO | WatchMask::MOVED_FROM;
            i.watches().add(dir, mask).ok()?;
            i.into_event_stream(vec![0u8; 4096]).ok()
        });
        LogWatch { events }
    }

    async fn wait(&mut self, dir: &Path, changed: &mut watch::Receiver<u64>) {
        if self.events.is_none() {
            *self = LogWatch::new(dir);
        }
        let fallback = if self.events.is_some() {
            Duration::from_secs(1)
        } else {
            Duration::from_millis(50)
        };
        let written = async {
            match &mut self.events {
                Some(events) => {
                    events.next().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = written => {}
            _ = changed.changed() => {}
            () = tokio::time::sleep(fallback) => {}
        }
    }
}
