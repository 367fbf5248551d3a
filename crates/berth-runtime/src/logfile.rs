//! Docker's json-file log format: one JSON object per line,
//! `{"log":"hi\n","stream":"stdout","time":"2024-01-01T00:00:00.000000000Z"}`, and the
//! splitting of a stream's output into entries, which every log driver shares.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::{Deserialize, Serialize};

/// Which stream a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One line of the log file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// The bytes of the line, newline included when there was one.
    pub log: String,
    /// Its stream.
    pub stream: Stream,
    /// The `labels`/`env`/`tag` attributes of the container's log options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attrs: Option<BTreeMap<String, String>>,
    /// RFC 3339 time with nanoseconds.
    pub time: String,
}

/// Where a [`LineSplitter`] puts the entries it cuts: a log driver's writer.
pub trait EntryWriter {
    /// Writes one entry: a line with its newline, or a piece of a longer one without.
    fn entry(&mut self, stream: Stream, line: &[u8]) -> io::Result<()>;
}

/// Writes entries as json-file lines (the format's unit tests and simple callers).
impl<W: Write> EntryWriter for W {
    fn entry(&mut self, stream: Stream, line: &[u8]) -> io::Result<()> {
        self.write_all(&json_line(stream, line, None, &now())?)
    }
}

/// Docker cuts lines longer than this into several entries.
const MAX_LINE: usize = 16 * 1024;

/// Splits a stream's output into entries at newlines, keeping incomplete lines until more
/// bytes or [`flush`](LineSplitter::flush) arrive.
#[derive(Debug)]
pub struct LineSplitter {
    stream: Stream,
    pending: Vec<u8>,
}

impl LineSplitter {
    /// A splitter for one stream.
    pub fn new(stream: Stream) -> Self {
        LineSplitter {
            stream,
            pending: Vec::new(),
        }
    }

    /// Adds output and writes every complete line to `out`.
    pub fn push(&mut self, data: &[u8], out: &mut impl EntryWriter) -> io::Result<()> {
        self.pending.extend_from_slice(data);
        let mut start = 0;
        while let Some(pos) = self.pending[start..].iter().position(|&b| b == b'\n') {
            let end = start + pos + 1;
            // Docker's copier reads into a buffer of MAX_LINE: a longer line is cut even when
            // its newline came in the same read.
            while end - start > MAX_LINE {
                out.entry(self.stream, &self.pending[start..start + MAX_LINE])?;
                start += MAX_LINE;
            }
            out.entry(self.stream, &self.pending[start..end])?;
            start = end;
        }
        while self.pending.len() - start >= MAX_LINE {
            out.entry(self.stream, &self.pending[start..start + MAX_LINE])?;
            start += MAX_LINE;
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// Writes what is left (a last line without newline).
    pub fn flush(&mut self, out: &mut impl EntryWriter) -> io::Result<()> {
        if !self.pending.is_empty() {
            out.entry(self.stream, &self.pending)?;
            self.pending.clear();
        }
        Ok(())
    }
}

/// The current time as Docker writes it in logs and inspect output.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// One json-file line, newline included.
pub fn json_line(
    stream: Stream,
    bytes: &[u8],
    attrs: Option<&BTreeMap<String, String>>,
    time: &str,
) -> io::Result<Vec<u8>> {
    /// [`Entry`] borrowed: the same fields in the same order.
    #[derive(Serialize)]
    struct Line<'a> {
        log: std::borrow::Cow<'a, str>,
        stream: Stream,
        #[serde(skip_serializing_if = "Option::is_none")]
        attrs: Option<&'a BTreeMap<String, String>>,
        time: &'a str,
    }
    let entry = Line {
        log: String::from_utf8_lossy(bytes),
        stream,
        attrs,
        time,
    };
    let mut line = serde_json::to_vec(&entry).map_err(io::Error::other)?;
    line.push(b'\n');
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_and_keeps_partial() {
        let mut out = Vec::new();
        let mut s = LineSplitter::new(Stream::Stdout);
        s.push(b"a\nb", &mut out).unwrap();
        s.push(b"c\n", &mut out).unwrap();
        s.push(b"tail", &mut out).unwrap();
        s.flush(&mut out).unwrap();
        let entries: Vec<Entry> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let logs: Vec<&str> = entries.iter().map(|e| e.log.as_str()).collect();
        assert_eq!(logs, ["a\n", "bc\n", "tail"]);
        assert!(
            entries
                .iter()
                .all(|e| e.stream == Stream::Stdout && e.time.ends_with('Z'))
        );
    }

    #[test]
    fn cuts_long_lines_that_came_whole_as_dockers_copier_does() {
        struct Lens(Vec<(usize, bool)>);
        impl EntryWriter for Lens {
            fn entry(&mut self, _: Stream, line: &[u8]) -> io::Result<()> {
                self.0.push((line.len(), line.ends_with(b"\n")));
                Ok(())
            }
        }
        let mut out = Lens(Vec::new());
        let mut s = LineSplitter::new(Stream::Stdout);
        let mut data = vec![b'x'; MAX_LINE * 2 + 10];
        data.push(b'\n');
        s.push(&data, &mut out).unwrap();
        let mut exact = vec![b'y'; MAX_LINE];
        exact.push(b'\n');
        s.push(&exact, &mut out).unwrap();
        assert_eq!(
            out.0,
            [
                (MAX_LINE, false),
                (MAX_LINE, false),
                (11, true),
                (MAX_LINE, false),
                (1, true)
            ]
        );
    }
}
