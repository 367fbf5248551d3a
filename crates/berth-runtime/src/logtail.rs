//! Where `logs --tail N` starts reading: N entries before the end of the current file, found
//! by reading it backwards, so a tail costs what it shows rather than the whole log. When the
//! current file holds fewer (or its end cannot be read backwards), reading starts at the
//! oldest rotated file and the caller keeps the last N.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::logdriver::Format;
use crate::logread::Cursor;

/// Bytes read at a time going backwards through a json-file log.
const CHUNK: u64 = 64 * 1024;

/// A cursor before the last `n` entries of the log at `path`, or at its start.
pub fn cursor(path: &Path, format: Format, n: usize) -> Cursor {
    match start_of_last(path, format, n) {
        Some(offset) => Cursor::at(path, format, offset),
        None => Cursor::start(path, format),
    }
}

/// The offset in the current file where its last `n` whole entries begin.
fn start_of_last(path: &Path, format: Format, n: usize) -> Option<u64> {
    let f = File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    match format {
        Format::JsonFile => json_start(&f, len, n),
        Format::Local => local_start(&f, len, n),
    }
}

/// json-file: the newline that ends the entry before the last `n` (an entry still being
/// written, after the last newline, is not one of them).
fn json_start(f: &File, len: u64, n: usize) -> Option<u64> {
    let mut buf = vec![0u8; CHUNK as usize];
    let (mut pos, mut seen) = (len, 0usize);
    while pos > 0 {
        let start = pos.saturating_sub(CHUNK);
        let chunk = &mut buf[..(pos - start) as usize];
        f.read_exact_at(chunk, start).ok()?;
        for (i, _) in chunk.iter().enumerate().rev().filter(|(_, b)| **b == b'\n') {
            seen += 1;
            if seen == n + 1 {
                return Some(start + i as u64 + 1);
            }
        }
        pos = start;
    }
    None
}

/// local: each frame ends with its length, as it begins, so frames can be walked back; one
/// whose two lengths differ (the end is still being written) stops the walk.
fn local_start(f: &File, len: u64, n: usize) -> Option<u64> {
    let mut end = len;
    for _ in 0..n {
        let mut trailer = [0u8; 4];
        f.read_exact_at(&mut trailer, end.checked_sub(4)?).ok()?;
        let start = end.checked_sub(u64::from(u32::from_be_bytes(trailer)) + 8)?;
        let mut header = [0u8; 4];
        f.read_exact_at(&mut header, start).ok()?;
        if header != trailer {
            return None;
        }
        end = start;
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logdriver::{LogSettings, LogWriter};
    use crate::logfile::{EntryWriter, Stream};

    fn write(path: &Path, format: Format, lines: usize) {
        let settings = LogSettings {
            format: Some(format),
            ..Default::default()
        };
        let mut w = LogWriter::open(path, &settings).unwrap();
        for i in 0..lines {
            w.entry(Stream::Stdout, format!("line {i}\n").as_bytes())
                .unwrap();
        }
        w.close().unwrap();
    }

    fn logs(mut c: Cursor) -> Vec<String> {
        let mut out = Vec::new();
        c.read(&mut |e| {
            out.push(e.log.trim_end().to_string());
            true
        })
        .unwrap();
        out
    }

    #[test]
    fn a_tail_starts_n_entries_before_the_end_in_both_formats() {
        for format in [Format::JsonFile, Format::Local] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("log");
            // Longer than one backward chunk, so the walk crosses chunks.
            write(&path, format, 5000);
            let got = logs(cursor(&path, format, 3));
            assert_eq!(got, ["line 4997", "line 4998", "line 4999"], "{format:?}");
            assert!(logs(cursor(&path, format, 0)).is_empty(), "{format:?}");
            // More than the file holds: everything, from the start.
            assert_eq!(logs(cursor(&path, format, 9000)).len(), 5000, "{format:?}");
        }
    }

    #[test]
    fn an_entry_still_being_written_is_not_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        write(&path, Format::JsonFile, 10);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut f, b"{\"log\":\"half").unwrap();
        assert_eq!(
            logs(cursor(&path, Format::JsonFile, 2)),
            ["line 8", "line 9"]
        );
    }
}
