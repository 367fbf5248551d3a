//! Compressed streams recognized by their first bytes (gzip, zstd, or none), with a cap on how
//! far they may expand: a small gzip of zeros must not fill the disk.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A compressed stream may expand to this many times its size...
pub const MAX_RATIO: u64 = 256;
/// ...plus this much (small blobs of one repeated byte are legitimate).
pub const SLACK: u64 = 64 << 20;

/// What the stream turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}

/// Set when a stream went past its cap; the error it returned says so too, but through the tar
/// reader and the layer applier only this flag survives intact.
#[derive(Debug, Default, Clone)]
pub struct Tripped(Arc<Mutex<Option<(u64, u64)>>>);

impl Tripped {
    /// `(compressed, expanded)` bytes when the cap was hit.
    pub fn get(&self) -> Option<(u64, u64)> {
        *self.0.lock().expect("tripped lock")
    }
}

struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

struct Capped<R> {
    inner: R,
    read: Arc<AtomicU64>,
    out: u64,
    tripped: Tripped,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        let input = self.read.load(Ordering::Relaxed);
        if self.out > input.saturating_mul(MAX_RATIO).saturating_add(SLACK) {
            *self.tripped.0.lock().expect("tripped lock") = Some((input, self.out));
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "decompression bomb: {input} bytes expand past {} bytes",
                    self.out
                ),
            ));
        }
        Ok(n)
    }
}

/// `input`, decompressed when it starts like gzip or zstd, with what it was and the flag that
/// tells whether it hit the cap.
pub fn expand<'a>(
    input: impl Read + Send + 'a,
) -> io::Result<(Box<dyn Read + Send + 'a>, Compression, Tripped)> {
    let count = Arc::new(AtomicU64::new(0));
    let mut input = BufReader::with_capacity(
        256 << 10,
        Counted {
            inner: input,
            count: count.clone(),
        },
    );
    let magic = input.fill_buf()?;
    let tripped = Tripped::default();
    let capped = |inner: Box<dyn Read + Send + 'a>| -> Box<dyn Read + Send + 'a> {
        Box::new(Capped {
            inner,
            read: count.clone(),
            out: 0,
            tripped: tripped.clone(),
        })
    };
    Ok(if magic.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::bufread::MultiGzDecoder::new(input);
        (capped(Box::new(gz)), Compression::Gzip, tripped)
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let zs = zstd::stream::read::Decoder::with_buffer(input)?;
        (capped(Box::new(zs)), Compression::Zstd, tripped)
    } else {
        (Box::new(input), Compression::None, tripped)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_and_zstd_expand_and_bombs_stop() {
        let data = b"hello world".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        let gz = gz.finish().unwrap();
        let (mut r, c, _) = expand(&gz[..]).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!((c, out), (Compression::Gzip, data.clone()));
        let zs = zstd::stream::encode_all(&data[..], 3).unwrap();
        let (mut r, c, _) = expand(&zs[..]).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!((c, out), (Compression::Zstd, data.clone()));
        let (mut r, c, _) = expand(&data[..]).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        drop(r);
        assert_eq!((c, out), (Compression::None, data));

        // 200 MiB of zeros in zstd is a few kilobytes.
        let zeros = io::repeat(0).take(200 << 20);
        let bomb = zstd::stream::encode_all(zeros, 19).unwrap();
        let (mut r, _, tripped) = expand(&bomb[..]).unwrap();
        let err = io::copy(&mut r, &mut io::sink()).unwrap_err();
        assert!(err.to_string().contains("decompression bomb"), "{err}");
        assert!(tripped.get().is_some());
    }
}
