//! The contents of a context's files, hashed as they stream in and kept in memory up to
//! [`MEMORY_LIMIT`] for the whole context; what comes after that goes to one spill file, written
//! once, in order, and read back by offset.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use bytes::Bytes;
use sha2::{Digest as _, Sha256};

/// The most of a context's contents kept in memory.
pub const MEMORY_LIMIT: u64 = 64 << 20;

/// One file's content.
#[derive(Clone, Debug)]
pub struct Blob {
    /// Its length.
    pub size: u64,
    /// Its sha256.
    pub sha256: [u8; 32],
    at: At,
}

#[derive(Clone, Debug)]
enum At {
    Memory(Bytes),
    /// At this offset of the spill file.
    Spill(u64),
}

/// Where contents are kept.
pub struct Blobs {
    limit: u64,
    in_memory: u64,
    spill_path: PathBuf,
    spill: Option<File>,
    spill_len: u64,
}

impl Blobs {
    /// A store that keeps up to `limit` bytes in memory and the rest in `spill_path` (made,
    /// with its directory, when needed).
    pub fn new(spill_path: PathBuf, limit: u64) -> Blobs {
        Blobs {
            limit,
            in_memory: 0,
            spill_path,
            spill: None,
            spill_len: 0,
        }
    }

    /// Reads all of `r`, which announces `size` bytes, hashing it as it goes.
    pub fn ingest(&mut self, r: &mut dyn Read, size: u64) -> io::Result<Blob> {
        let mut h = Sha256::new();
        if self.in_memory + size <= self.limit {
            let mut data = Vec::with_capacity(size as usize);
            r.take(self.limit - self.in_memory + 1)
                .read_to_end(&mut data)?;
            if self.in_memory + data.len() as u64 <= self.limit {
                h.update(&data);
                self.in_memory += data.len() as u64;
                return Ok(Blob {
                    size: data.len() as u64,
                    sha256: h.finalize().into(),
                    at: At::Memory(data.into()),
                });
            }
            // More than announced: what was read goes to the spill file first.
            return self.spill(&mut io::Cursor::new(data).chain(r), h);
        }
        self.spill(r, h)
    }

    fn spill(&mut self, r: &mut dyn Read, mut h: Sha256) -> io::Result<Blob> {
        let file = match &mut self.spill {
            Some(f) => f,
            None => {
                if let Some(dir) = self.spill_path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let f = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(&self.spill_path)?;
                self.spill.insert(f)
            }
        };
        let offset = self.spill_len;
        let mut buf = vec![0u8; 256 << 10];
        let mut size = 0u64;
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            h.update(&buf[..n]);
            file.write_all(&buf[..n])?;
            size += n as u64;
        }
        self.spill_len += size;
        Ok(Blob {
            size,
            sha256: h.finalize().into(),
            at: At::Spill(offset),
        })
    }

    /// A blob of `data`, in memory whatever the bound.
    #[cfg(test)]
    pub fn memory(data: Vec<u8>) -> Blob {
        Blob {
            size: data.len() as u64,
            sha256: Sha256::digest(&data).into(),
            at: At::Memory(data.into()),
        }
    }

    /// What `blob` holds.
    pub fn reader<'a>(&'a self, blob: &'a Blob) -> io::Result<Box<dyn Read + 'a>> {
        match &blob.at {
            At::Memory(b) => Ok(Box::new(&b[..])),
            At::Spill(offset) => {
                let file = self
                    .spill
                    .as_ref()
                    .ok_or_else(|| io::Error::other("the context's spill file is gone"))?;
                Ok(Box::new(SpillReader {
                    file,
                    pos: *offset,
                    end: offset + blob.size,
                }))
            }
        }
    }

    /// All of `blob`, when it is at most `limit` bytes.
    pub fn read(&self, blob: &Blob, limit: u64) -> io::Result<Option<Vec<u8>>> {
        if blob.size > limit {
            return Ok(None);
        }
        let mut v = Vec::with_capacity(blob.size as usize);
        self.reader(blob)?.read_to_end(&mut v)?;
        Ok(Some(v))
    }

    /// Whether some content went to the spill file.
    pub fn spilled(&self) -> bool {
        self.spill.is_some()
    }
}

/// A range of the spill file, read by offset (so that readers don't share a position).
struct SpillReader<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for SpillReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = (self.end - self.pos).min(buf.len() as u64) as usize;
        if left == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..left], self.pos)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_past_the_bound_spill_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let spill = dir.path().join("sub/spill");
        let mut b = Blobs::new(spill.clone(), 7);
        let small = b.ingest(&mut &b"small"[..], 5).unwrap();
        assert!(!spill.exists(), "nothing spilled yet");
        // Announced as 1 byte, which would fit, but is 6: still read whole, and spilled.
        let big = b.ingest(&mut &b"abcdef"[..], 1).unwrap();
        let next = b.ingest(&mut &b"xyz"[..], 3).unwrap();
        assert!(b.spilled() && spill.exists());
        let all = |blob: &Blob| {
            let mut v = Vec::new();
            b.reader(blob).unwrap().read_to_end(&mut v).unwrap();
            v
        };
        assert_eq!(all(&small), b"small");
        assert_eq!(all(&big), b"abcdef");
        assert_eq!(all(&next), b"xyz");
        assert_eq!(big.sha256, <[u8; 32]>::from(Sha256::digest(b"abcdef")));
        assert_eq!(b.read(&next, 2).unwrap(), None);
    }
}
