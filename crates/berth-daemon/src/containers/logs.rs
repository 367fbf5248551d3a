//! Reading a container's json-file log: what is there, and what comes while it runs (`logs`,
//! `attach`, and build steps).

use std::sync::Arc;
use std::time::Duration;

use berth_runtime::logfile::Entry;
use futures_util::StreamExt;
use tokio::io::{AsyncBufReadExt, AsyncSeekExt, BufReader};
use tokio::sync::watch;

use super::{Container, Status};

/// Where to start reading a log.
#[derive(Debug, Clone, Copy)]
pub enum From {
    /// The beginning of the file.
    Start,
    /// A byte offset: the end of what was read before, or the size when a client attached.
    Offset(u64),
}

/// The current size of a log: where output written from now on begins.
pub fn log_end(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
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

/// Reads the log of `c` and hands each entry to `emit`, which returns false to stop. Returns the
/// offset after the last entry read.
pub async fn follow_log(
    c: Arc<Container>,
    path: std::path::PathBuf,
    from: From,
    until: Until,
    mut emit: impl FnMut(Entry) -> bool,
) -> u64 {
    let first = c.record().state;
    let mut changed = c.watch();
    let mut offset: u64 = match from {
        From::Start => 0,
        From::Offset(n) => n,
    };
    let mut watch = LogWatch::new(&path);
    // Opened once: the file stays readable through this handle after an auto-remove unlinks it.
    let mut file: Option<tokio::fs::File> = None;
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
        if file.is_none() {
            file = tokio::fs::File::open(&path).await.ok();
        }
        if let Some(f) = file.as_mut()
            && f.seek(std::io::SeekFrom::Start(offset)).await.is_ok()
        {
            let mut r = BufReader::new(f);
            let mut line = Vec::new();
            loop {
                line.clear();
                match r.read_until(b'\n', &mut line).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) if line.last() == Some(&b'\n') => {
                        offset += n as u64;
                        read_any = true;
                        if let Ok(e) = serde_json::from_slice::<Entry>(&line)
                            && !emit(e)
                        {
                            return offset;
                        }
                    }
                    Ok(_) => break, // a line still being written
                }
            }
        }
        if ended {
            return offset;
        }
        if !read_any {
            watch.wait(&path, &mut changed).await;
        }
    }
}

/// Wakes a log follower when the log file is written (inotify) or the container's state
/// changes. Without a watch (the file does not exist yet, or inotify is out of watches) it
/// falls back to polling.
struct LogWatch {
    events: Option<inotify::EventStream<Vec<u8>>>,
}

impl LogWatch {
    fn new(path: &std::path::Path) -> Self {
        let events = inotify::Inotify::init().ok().and_then(|i| {
            i.watches().add(path, inotify::WatchMask::MODIFY).ok()?;
            i.into_event_stream(vec![0u8; 1024]).ok()
        });
        LogWatch { events }
    }

    async fn wait(&mut self, path: &std::path::Path, changed: &mut watch::Receiver<u64>) {
        if self.events.is_none() {
            *self = LogWatch::new(path);
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
