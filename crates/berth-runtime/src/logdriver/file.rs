//! The file drivers: messages as json-file lines or `local` entries in a rotating file.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use super::{Driver, Format, Message};
use crate::logproto::LocalEntry;
use crate::logrotate::{RotatingFile, Rotation};

/// A rotating log file of one format.
pub struct FileDriver {
    file: RotatingFile,
    format: Format,
    attrs: Option<BTreeMap<String, String>>,
}

impl FileDriver {
    /// Opens (appending to) the file at `path`.
    pub fn open(
        path: &Path,
        format: Format,
        rotation: Rotation,
        attrs: &BTreeMap<String, String>,
    ) -> io::Result<FileDriver> {
        Ok(FileDriver {
            file: RotatingFile::open(path, rotation)?,
            format,
            attrs: (!attrs.is_empty()).then(|| attrs.clone()),
        })
    }

    fn encode(&self, m: &Message, time: &str) -> io::Result<Vec<u8>> {
        match self.format {
            Format::JsonFile => {
                let mut line = m.line.clone();
                if m.ends_line() {
                    line.push(b'\n');
                }
                crate::logfile::json_line(m.stream, &line, self.attrs.as_ref(), time)
            }
            Format::Local => Ok(LocalEntry {
                source: m.source().into(),
                time_nano: m.time.timestamp_nanos_opt().unwrap_or(0),
                line: m.line.clone(),
                partial: m.partial.is_some(),
                partial_meta: m
                    .partial
                    .as_ref()
                    .map(|p| (p.last, p.id.clone(), p.ordinal)),
                attrs: self.attrs.clone().unwrap_or_default(),
            }
            .frame()),
        }
    }
}

impl Driver for FileDriver {
    fn log(&mut self, m: &Message) -> io::Result<()> {
        let time = m.rfc3339();
        let bytes = self.encode(m, &time)?;
        self.file.write_entry(&bytes, &time)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    fn close(self: Box<Self>) -> io::Result<()> {
        self.file.close()
    }
}
