//! A log file that rotates as Docker's `loggerutils.LogFile` does: before an entry is written to
//! a file already `max_size` long, `<log>.N-1` → `<log>.N` … `<log>` → `<log>.1` (the oldest
//! dropped), and writing goes on in a fresh `<log>`; with `compress`, `<log>.1` is gzipped to
//! `<log>.1.gz` by a short-lived thread so the container is never held up by the compression.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};

/// When and how a log file rotates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rotation {
    /// Rotate once the file holds this many bytes; `None`: never.
    pub max_size: Option<u64>,
    /// Files kept, the current one included (at least 1).
    pub max_file: u32,
    /// Gzip the rotated files.
    pub compress: bool,
}

impl Default for Rotation {
    fn default() -> Self {
        Rotation {
            max_size: None,
            max_file: 1,
            compress: false,
        }
    }
}

/// The path of rotated file `n` (1 the newest) of `log`.
pub fn rotated_path(log: &Path, n: u32, compressed: bool) -> PathBuf {
    let mut s = log.as_os_str().to_owned();
    s.push(format!(".{n}{}", if compressed { ".gz" } else { "" }));
    PathBuf::from(s)
}

/// The writer of a rotating log file.
pub struct RotatingFile {
    path: PathBuf,
    file: BufWriter<File>,
    size: u64,
    rotation: Rotation,
    last_time: String,
    compressing: Option<JoinHandle<()>>,
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("opening {}: {e}", path.display())))
}

impl RotatingFile {
    /// Opens (or creates) `path` for appending.
    pub fn open(path: &Path, rotation: Rotation) -> io::Result<RotatingFile> {
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_path_buf(),
            file: BufWriter::with_capacity(64 * 1024, file),
            size,
            rotation,
            last_time: String::new(),
            compressing: None,
        })
    }

    /// Appends one encoded entry written at `time` (RFC 3339), rotating first when the file is
    /// full.
    pub fn write_entry(&mut self, bytes: &[u8], time: &str) -> io::Result<()> {
        if self.rotation.max_size.is_some_and(|max| self.size >= max) {
            self.rotate()?;
        }
        self.file.write_all(bytes)?;
        self.size += bytes.len() as u64;
        time.clone_into(&mut self.last_time);
        Ok(())
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    /// Flushes and waits for a compression under way (at the container's end).
    pub fn close(mut self) -> io::Result<()> {
        self.flush()?;
        if let Some(t) = self.compressing.take() {
            let _ = t.join();
        }
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        // The previous compression renames `.1`; it must be done before `.1` moves on.
        if let Some(t) = self.compressing.take() {
            let _ = t.join();
        }
        let Rotation {
            max_file, compress, ..
        } = self.rotation;
        if max_file < 2 {
            remove(&self.path)?;
        } else {
            remove(&rotated_path(&self.path, max_file - 1, compress))?;
            for n in (1..max_file - 1).rev() {
                rename(
                    &rotated_path(&self.path, n, compress),
                    &rotated_path(&self.path, n + 1, compress),
                )?;
            }
            rename(&self.path, &rotated_path(&self.path, 1, false))?;
        }
        self.file = BufWriter::with_capacity(64 * 1024, open_append(&self.path)?);
        self.size = 0;
        if compress && max_file >= 2 {
            let plain = rotated_path(&self.path, 1, false);
            let last_time = self.last_time.clone();
            self.compressing = Some(std::thread::spawn(move || {
                if let Err(e) = compress_file(&plain, &last_time) {
                    eprintln!("monitor: compressing {}: {e}", plain.display());
                }
            }));
        }
        Ok(())
    }
}

fn remove(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io::Error::new(
            e.kind(),
            format!("removing {}: {e}", path.display()),
        )),
        _ => Ok(()),
    }
}

fn rename(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io::Error::new(
            e.kind(),
            format!("renaming {} to {}: {e}", from.display(), to.display()),
        )),
        _ => Ok(()),
    }
}

/// The gzip header's extra field, as Docker writes it: the time of the file's last entry, so
/// readers with `--since` can skip the file unopened.
#[derive(Debug, Serialize, Deserialize)]
pub struct GzipMeta {
    /// RFC 3339.
    #[serde(rename = "lastTime")]
    pub last_time: String,
}

/// Gzips `plain` to `plain.gz` and then removes `plain`: readers always find one whole copy.
fn compress_file(plain: &Path, last_time: &str) -> io::Result<()> {
    let mut src = File::open(plain)?;
    let mut gz_name = plain.as_os_str().to_owned();
    gz_name.push(".gz");
    let gz_path = PathBuf::from(gz_name);
    let tmp = gz_path.with_extension("gz.tmp");
    let extra = serde_json::to_vec(&GzipMeta {
        last_time: last_time.to_string(),
    })
    .map_err(io::Error::other)?;
    let written = (|| {
        let out = BufWriter::new(File::create(&tmp)?);
        let mut gz = flate2::GzBuilder::new()
            .extra(extra)
            .write(out, flate2::Compression::fast());
        io::copy(&mut src, &mut gz)?;
        gz.finish()?.into_inner().map_err(|e| e.into_error())?;
        fs::rename(&tmp, &gz_path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::remove_file(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_keeps_max_file_and_compresses() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("c-json.log");
        let rotation = Rotation {
            max_size: Some(10),
            max_file: 3,
            compress: true,
        };
        let mut f = RotatingFile::open(&log, rotation).unwrap();
        for i in 0..5 {
            f.write_entry(format!("entry-{i:04}\n").as_bytes(), "t")
                .unwrap();
        }
        f.close().unwrap();
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["c-json.log", "c-json.log.1.gz", "c-json.log.2.gz"]);
        assert_eq!(fs::read_to_string(&log).unwrap(), "entry-0004\n");
        let gz = File::open(rotated_path(&log, 2, true)).unwrap();
        let mut d = flate2::read::GzDecoder::new(gz);
        let mut text = String::new();
        io::Read::read_to_string(&mut d, &mut text).unwrap();
        assert_eq!(text, "entry-0002\n");
        let meta: GzipMeta = serde_json::from_slice(d.header().unwrap().extra().unwrap()).unwrap();
        assert_eq!(meta.last_time, "t");
    }

    #[test]
    fn one_file_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("l");
        let rotation = Rotation {
            max_size: Some(4),
            max_file: 1,
            compress: false,
        };
        let mut f = RotatingFile::open(&log, rotation).unwrap();
        for line in ["aaaa", "bbbb"] {
            f.write_entry(line.as_bytes(), "t").unwrap();
        }
        f.close().unwrap();
        assert_eq!(fs::read_to_string(&log).unwrap(), "bbbb");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
