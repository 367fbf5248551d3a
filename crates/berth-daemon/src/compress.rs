//! Compressed streams, recognized by their first bytes, as Docker recognizes them in build
//! contexts, imports and ADD sources: gzip, bzip2, xz, or none.

use std::io::{self, BufRead, Read};

/// `input`, decompressed when it starts like gzip, bzip2 or xz.
pub fn decompress<'a>(mut input: impl BufRead + 'a) -> io::Result<Box<dyn Read + 'a>> {
    let magic = input.fill_buf()?;
    Ok(if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(input))
    } else if magic.starts_with(b"BZh") {
        Box::new(bzip2::read::MultiBzDecoder::new(input))
    } else if magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Box::new(liblzma::read::XzDecoder::new_multi_decoder(input))
    } else {
        Box::new(input)
    })
}
