//! Reading a container's log files: the rotated ones (`<log>.N`, `<log>.N.gz`) oldest first,
//! then the current one, and following the current one across rotations.
//!
//! A [`Cursor`] holds the file it reads open. When that file is rotated away (the path names
//! another file) the cursor finishes it, then finds where it went among the rotated files (by
//! inode, or for a compressed one by the time of its last entry, which the gzip header holds)
//! and reads the newer ones before the new current file. A reader that fell so far behind that
//! its file was dropped goes on with the oldest file left, after the last entry it saw.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::logdriver::Format;
use crate::logfile::{Entry, Stream};
use crate::logproto::LocalEntry;
use crate::logrotate::GzipMeta;

/// A rotated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    /// Its number: 1 is the newest.
    pub n: u32,
    /// Its path.
    pub path: PathBuf,
    /// Gzipped.
    pub compressed: bool,
}

/// The rotated files of `log`, oldest first.
pub fn rotated(log: &Path) -> Vec<Rotated> {
    let (Some(dir), Some(base)) = (log.parent(), log.file_name()) else {
        return Vec::new();
    };
    let base = base.to_string_lossy();
    let mut found: Vec<Rotated> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let rest = name.strip_prefix(&*base)?.strip_prefix('.')?;
            let (num, compressed) = match rest.strip_suffix(".gz") {
                Some(n) => (n, true),
                None => (rest, false),
            };
            Some(Rotated {
                n: num.parse().ok()?,
                path: e.path(),
                compressed,
            })
        })
        .collect();
    found.sort_by(|a, b| b.n.cmp(&a.n).then(a.compressed.cmp(&b.compressed)));
    // While `.1` is being compressed both copies exist: the plain one is read.
    found.dedup_by(|later, first| later.n == first.n);
    found
}

/// The next whole entry of `r` and its encoded length (`None` inside for an entry that does
/// not decode); `None` at the end or before an entry still being written.
fn next_entry(
    r: &mut impl BufRead,
    format: Format,
    buf: &mut Vec<u8>,
) -> io::Result<Option<(Option<Entry>, u64)>> {
    buf.clear();
    match format {
        Format::JsonFile => {
            let n = r.read_until(b'\n', buf)?;
            if n == 0 || buf.last() != Some(&b'\n') {
                return Ok(None);
            }
            Ok(Some((serde_json::from_slice(buf).ok(), n as u64)))
        }
        Format::Local => {
            let mut len = [0u8; 4];
            if !read_full(r, &mut len)? {
                return Ok(None);
            }
            let n = u32::from_be_bytes(len) as usize;
            buf.resize(n + 4, 0);
            if !read_full(r, buf)? {
                return Ok(None);
            }
            let e = LocalEntry::decode(&buf[..n]).map(from_local);
            Ok(Some((e, n as u64 + 8)))
        }
    }
}

/// Fills `buf`; false when the data ends first.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..])? {
            0 => return Ok(false),
            n => got += n,
        }
    }
    Ok(true)
}

/// A `local` entry as the json-file one the readers hand on.
pub fn from_local(e: LocalEntry) -> Entry {
    let mut log = String::from_utf8_lossy(&e.line).into_owned();
    if !e.partial || e.partial_meta.as_ref().is_some_and(|m| m.0) {
        log.push('\n');
    }
    Entry {
        log,
        stream: if e.source == "stderr" {
            Stream::Stderr
        } else {
            Stream::Stdout
        },
        attrs: (!e.attrs.is_empty()).then_some(e.attrs),
        time: chrono::DateTime::from_timestamp_nanos(e.time_nano)
            .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
    }
}

/// The `lastTime` a compressed file's gzip header holds.
fn gzip_last_time(path: &Path) -> Option<String> {
    let d = flate2::read::GzDecoder::new(File::open(path).ok()?);
    let meta: GzipMeta = serde_json::from_slice(d.header()?.extra()?).ok()?;
    Some(meta.last_time)
}

/// What a [`Cursor::read`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// It read entries.
    pub any: bool,
    /// It reached the end of the current file: more comes only when the file changes.
    pub caught_up: bool,
    /// `emit` asked to stop.
    pub stopped: bool,
}

/// The file a [`Cursor`] reads.
enum Reading {
    /// A plain file (the current one, or a rotated one), read from an offset.
    Plain { file: File, ino: u64 },
    /// A compressed rotated file, read through.
    Gz(BufReader<Box<dyn Read + Send>>),
}

/// A place in a container's log, kept between reads.
pub struct Cursor {
    path: PathBuf,
    format: Format,
    reading: Option<Reading>,
    /// In a plain file: the offset after the last whole entry.
    offset: u64,
    /// Begin with the oldest rotated file.
    from_oldest: bool,
    /// The time of the last entry read.
    last_time: Option<String>,
    /// Entries up to this time were seen already (after falling behind).
    skip_until: Option<String>,
}

impl Cursor {
    /// Before the first entry of the oldest file.
    pub fn start(path: &Path, format: Format) -> Cursor {
        Cursor {
            path: path.to_path_buf(),
            format,
            reading: None,
            offset: 0,
            from_oldest: true,
            last_time: None,
            skip_until: None,
        }
    }

    /// After the last entry written so far: what a client attaching now gets.
    pub fn end(path: &Path, format: Format) -> Cursor {
        Cursor::at(path, format, u64::MAX)
    }

    /// At `offset` of the current file (its end if it is shorter: it was rotated since).
    pub fn at(path: &Path, format: Format, offset: u64) -> Cursor {
        let mut c = Cursor::start(path, format);
        c.from_oldest = false;
        if let Ok(file) = File::open(path)
            && let Ok(m) = file.metadata()
        {
            c.offset = offset.min(m.len());
            c.last_time = last_time_before(&file, c.offset, format);
            c.reading = Some(Reading::Plain { file, ino: m.ino() });
        }
        c
    }

    /// The offset in the current file after the last entry read.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Hands the whole entries written since the last read to `emit` (false from it stops),
    /// through rotated files, up to the end of the current file.
    pub fn read(&mut self, emit: &mut dyn FnMut(Entry) -> bool) -> io::Result<Progress> {
        let mut p = Progress::default();
        loop {
            if self.reading.is_none() {
                let first = if std::mem::take(&mut self.from_oldest) {
                    rotated(&self.path).into_iter().next()
                } else {
                    None
                };
                self.offset = 0;
                self.reading = match first {
                    Some(f) => open(&f)?,
                    None => open_plain(&self.path)?,
                };
                if self.reading.is_none() {
                    p.caught_up = true;
                    return Ok(p);
                }
            }
            let skip = &mut self.skip_until;
            let last = &mut self.last_time;
            let mut emit = |e: Entry| {
                p.any = true;
                if skip.as_ref().is_some_and(|s| e.time.as_str() <= s.as_str()) {
                    return true;
                }
                *skip = None;
                *last = Some(e.time.clone());
                emit(e)
            };
            let finished = match self.reading.as_mut().expect("opened above") {
                Reading::Gz(r) => {
                    let mut buf = Vec::new();
                    loop {
                        match next_entry(r, self.format, &mut buf)? {
                            Some((Some(e), _)) => {
                                if !emit(e) {
                                    p.stopped = true;
                                    return Ok(p);
                                }
                            }
                            Some((None, _)) => {}
                            None => break None,
                        }
                    }
                }
                Reading::Plain { file, ino } => {
                    let ino = *ino;
                    // Looked at before reading: a file rotated away before the read was
                    // whole, and is read to its end.
                    let gone = std::fs::metadata(&self.path).map_or(true, |m| m.ino() != ino);
                    if !read_from(file, &mut self.offset, self.format, &mut emit)? {
                        p.stopped = true;
                        return Ok(p);
                    }
                    if !gone {
                        p.caught_up = true;
                        return Ok(p);
                    }
                    Some(ino)
                }
            };
            self.advance(finished)?;
        }
    }

    /// Moves on from the file just finished (plain: its inode) to the one written after it.
    fn advance(&mut self, ino: Option<u64>) -> io::Result<()> {
        let all = rotated(&self.path);
        let mine = all.iter().position(|f| match ino {
            Some(ino) if !f.compressed => std::fs::metadata(&f.path).is_ok_and(|m| m.ino() == ino),
            _ => {
                f.compressed
                    && self.last_time.is_some()
                    && gzip_last_time(&f.path) == self.last_time
            }
        });
        let next = match mine {
            Some(i) => all.into_iter().nth(i + 1),
            // Fell behind past the oldest file: on after the last entry seen.
            None => {
                self.skip_until = self.last_time.clone();
                all.into_iter().next()
            }
        };
        self.offset = 0;
        self.reading = match next {
            Some(f) => open(&f)?,
            None => open_plain(&self.path)?,
        };
        Ok(())
    }
}

/// Opens a plain file to read from its start; `None` when it does not exist.
fn open_plain(path: &Path) -> io::Result<Option<Reading>> {
    match File::open(path) {
        Ok(file) => {
            let ino = file.metadata()?.ino();
            Ok(Some(Reading::Plain { file, ino }))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Opens a rotated file; one compressed since it was listed is read compressed.
fn open(f: &Rotated) -> io::Result<Option<Reading>> {
    if !f.compressed
        && let Some(r) = open_plain(&f.path)?
    {
        return Ok(Some(r));
    }
    let gz = if f.compressed {
        f.path.clone()
    } else {
        let mut gz = f.path.as_os_str().to_owned();
        gz.push(".gz");
        PathBuf::from(gz)
    };
    match File::open(&gz) {
        Ok(file) => {
            let r: Box<dyn Read + Send> = Box::new(flate2::read::GzDecoder::new(file));
            Ok(Some(Reading::Gz(BufReader::with_capacity(64 * 1024, r))))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads whole entries of `file` from `offset` on, moving `offset` past them.
fn read_from(
    file: &mut File,
    offset: &mut u64,
    format: Format,
    emit: &mut dyn FnMut(Entry) -> bool,
) -> io::Result<bool> {
    file.seek(SeekFrom::Start(*offset))?;
    let mut r = BufReader::with_capacity(64 * 1024, &*file);
    let mut buf = Vec::new();
    while let Some((e, n)) = next_entry(&mut r, format, &mut buf)? {
        *offset += n;
        if let Some(e) = e
            && !emit(e)
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The time of the entry that ends at `offset` in `f`.
fn last_time_before(f: &File, offset: u64, format: Format) -> Option<String> {
    use std::os::unix::fs::FileExt;
    if offset == 0 {
        return None;
    }
    let entry = match format {
        Format::Local => {
            let mut len = [0u8; 4];
            f.read_exact_at(&mut len, offset.checked_sub(4)?).ok()?;
            let n = u64::from(u32::from_be_bytes(len));
            let mut buf = vec![0u8; n as usize];
            f.read_exact_at(&mut buf, offset.checked_sub(n + 4)?).ok()?;
            from_local(LocalEntry::decode(&buf)?)
        }
        Format::JsonFile => {
            // A json-file line is at most 16 KiB of output, escaped.
            let start = offset.saturating_sub(256 * 1024);
            let mut buf = vec![0u8; (offset - start) as usize];
            f.read_exact_at(&mut buf, start).ok()?;
            let body = buf.strip_suffix(b"\n")?;
            let from = body.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
            serde_json::from_slice::<Entry>(&body[from..]).ok()?
        }
    };
    Some(entry.time)
}

/// Docker's `--details` prefix: the attributes as `k=v,k=v` (query-escaped), then a space.
pub fn details(attrs: Option<&BTreeMap<String, String>>) -> String {
    let esc = |s: &str| serde_urlencoded_escape(s);
    let pairs: Vec<String> = attrs
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{}={}", esc(k), esc(v)))
        .collect();
    format!("{} ", pairs.join(","))
}

/// Go's `url.QueryEscape`.
fn serde_urlencoded_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logdriver::{LogSettings, LogWriter};
    use crate::logfile::EntryWriter;
    use crate::logrotate::Rotation;

    fn writer(path: &Path, format: Format, compress: bool) -> LogWriter {
        let settings = LogSettings {
            format: Some(format),
            rotation: Rotation {
                max_size: Some(100),
                max_file: 6,
                compress,
            },
            ..Default::default()
        };
        LogWriter::open(path, &settings).unwrap()
    }

    /// Everything up to the end of the current file.
    fn collect(c: &mut Cursor) -> Vec<String> {
        let mut got = Vec::new();
        while !c
            .read(&mut |e| {
                got.push(e.log);
                true
            })
            .unwrap()
            .caught_up
        {}
        got
    }

    #[test]
    fn follows_across_rotations_in_both_formats() {
        for (format, compress) in [
            (Format::JsonFile, false),
            (Format::JsonFile, true),
            (Format::Local, true),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let log = dir.path().join("c-json.log");
            let mut w = writer(&log, format, compress);
            w.entry(Stream::Stdout, b"0\n").unwrap();
            w.flush().unwrap();
            let mut from_end = Cursor::end(&log, format);
            let mut from_start = Cursor::start(&log, format);
            let mut seen_end = Vec::new();
            let mut seen_start = collect(&mut from_start);
            for i in 1..40 {
                w.entry(Stream::Stdout, format!("{i}\n").as_bytes())
                    .unwrap();
                w.flush().unwrap();
                if i % 7 == 0 {
                    seen_end.extend(collect(&mut from_end));
                }
                if i % 3 == 0 {
                    seen_start.extend(collect(&mut from_start));
                }
            }
            w.close().unwrap();
            seen_end.extend(collect(&mut from_end));
            seen_start.extend(collect(&mut from_start));
            let want: Vec<String> = (1..40).map(|i| format!("{i}\n")).collect();
            assert_eq!(seen_end, want, "{format:?} compress={compress}");
            assert_eq!(seen_start[1..], want[..], "{format:?} compress={compress}");
            assert!(rotated(&log).len() <= 5);
        }
    }

    #[test]
    fn a_slow_reader_misses_nothing_while_files_rotate_under_it() {
        for format in [Format::JsonFile, Format::Local] {
            let dir = tempfile::tempdir().unwrap();
            let log = dir.path().join("l");
            let settings = LogSettings {
                format: Some(format),
                rotation: Rotation {
                    max_size: Some(100),
                    max_file: 40,
                    compress: true,
                },
                ..Default::default()
            };
            let mut w = LogWriter::open(&log, &settings).unwrap();
            let mut c = Cursor::start(&log, format);
            let mut seen = Vec::new();
            let mut n = 0;
            for _ in 0..30 {
                for _ in 0..3 {
                    n += 1;
                    w.entry(Stream::Stdout, format!("{n}\n").as_bytes())
                        .unwrap();
                }
                w.flush().unwrap();
                // One entry per read: the reader lags further behind each time.
                c.read(&mut |e| {
                    seen.push(e.log);
                    false
                })
                .unwrap();
            }
            w.close().unwrap();
            seen.extend(collect(&mut c));
            let want: Vec<String> = (1..=n).map(|i| format!("{i}\n")).collect();
            assert_eq!(seen, want, "{format:?}");
        }
    }

    #[test]
    fn details_are_query_escaped() {
        let attrs = BTreeMap::from([
            ("a b".to_string(), "x=y".to_string()),
            ("c".into(), "d".into()),
        ]);
        assert_eq!(details(Some(&attrs)), "a+b=x%3Dy,c=d ");
        assert_eq!(details(None), " ");
    }
}
