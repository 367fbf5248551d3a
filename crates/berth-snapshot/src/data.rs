//! Copying a tar member's data into a file, shared by layer apply and the archive copy.

use std::io::{self, Read, Write};

/// Which side of a copy failed.
pub(crate) enum DataError {
    /// Reading the archive: truncated, or corrupt compression.
    Read(io::Error),
    /// Writing the file.
    Write(io::Error),
}

/// Copies `from` into `to`, telling a broken archive from a failed write; returns the bytes.
pub(crate) fn copy_data(from: &mut impl Read, to: &mut impl Write) -> Result<u64, DataError> {
    let mut buf = vec![0u8; 128 * 1024];
    let mut total = 0;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(DataError::Read(e)),
        };
        to.write_all(&buf[..n]).map_err(DataError::Write)?;
        total += n as u64;
    }
}
