//! The spool of `load`: an archive's files in content-store ingests, hashed as they were
//! written, by their cleaned names (never used as host paths), links resolved inside the
//! archive. The rules it enforces are listed in `load`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Component, Path};

use berth_content::Writer;
use berth_core::Digest;

use super::expand::{MAX_RATIO, Tripped, expand};
use super::{ArchiveError, invalid};
use crate::ImageStore;

/// The largest JSON file (manifest, index, config) read into memory.
const MAX_JSON: u64 = 64 << 20;
const METADATA: [&str; 4] = ["manifest.json", "index.json", "oci-layout", "repositories"];

enum Spooled {
    /// An ingest with its digest.
    File(Writer, Digest),
    /// A symlink or hard link: the archive path it names.
    Link(String),
    /// An ingest committed as a blob (an uncompressed layer), with its size.
    Stored(Digest, u64),
}

/// The archive's files, spooled.
pub(super) struct Spool {
    content: berth_content::ContentStore,
    files: BTreeMap<String, Spooled>,
}

/// `./a/b` → `a/b`; `None` for the root itself; an error for names outside.
fn clean(raw: &str) -> Result<Option<String>, ArchiveError> {
    let path = Path::new(raw);
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::RootDir | Component::ParentDir | Component::Prefix(_) => {
                return Err(invalid(format!(
                    "entry {raw:?} is outside the archive (absolute or with ..)"
                )));
            }
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("/")))
}

/// A link target, relative to the directory of `entry` (symlinks) or to the root (hard links).
fn link_target(entry: &str, target: &str, symlink: bool) -> Result<String, ArchiveError> {
    let dir = match entry.rsplit_once('/') {
        Some((d, _)) if symlink => d,
        _ => "",
    };
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    if target.starts_with('/') {
        return Err(invalid(format!(
            "link {entry:?} points outside the archive ({target:?})"
        )));
    }
    for p in target.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop().ok_or_else(|| {
                    invalid(format!(
                        "link {entry:?} points outside the archive ({target:?})"
                    ))
                })?;
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

pub(super) fn read_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ArchiveError {
    let what = what.into();
    move |source| ArchiveError::Read { what, source }
}

pub(super) fn bomb(what: &str, (input, out): (u64, u64)) -> ArchiveError {
    invalid(format!(
        "{what}: {input} compressed bytes expand past {out} (more than {MAX_RATIO} times): refusing a decompression bomb"
    ))
}

impl Spool {
    /// Reads the whole archive into ingests of `store`.
    pub(super) fn read(store: &ImageStore, input: impl Read + Send) -> Result<Spool, ArchiveError> {
        let (stream, _, tripped) = expand(input).map_err(read_err("the archive"))?;
        let spool = Self::entries(store, stream, &tripped);
        match tripped.get() {
            Some(t) => Err(bomb("the archive", t)),
            None => spool,
        }
    }

    fn entries(
        store: &ImageStore,
        stream: impl Read,
        tripped: &Tripped,
    ) -> Result<Spool, ArchiveError> {
        let mut files = BTreeMap::new();
        let mut archive = tar::Archive::new(stream);
        let mut buf = vec![0u8; 1 << 20];
        for entry in archive.entries().map_err(read_err("the archive"))? {
            let mut entry = entry.map_err(read_err("the archive"))?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let Some(name) = clean(&raw)? else { continue };
            let kind = entry.header().entry_type();
            let is_meta = METADATA.contains(&name.as_str());
            match kind {
                tar::EntryType::Directory => {}
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let mut w = store.content().writer()?;
                    let want = entry.size();
                    loop {
                        let n = entry.read(&mut buf).map_err(read_err(&name))?;
                        if n == 0 {
                            break;
                        }
                        w.write_all(&buf[..n])
                            .map_err(|source| ArchiveError::Write {
                                what: format!("spooling {name}"),
                                source,
                            })?;
                    }
                    if w.size() != want {
                        return Err(ArchiveError::Read {
                            what: name,
                            source: std::io::Error::new(
                                std::io::ErrorKind::UnexpectedEof,
                                format!("the stream ended after {} of {want} bytes", w.size()),
                            ),
                        });
                    }
                    let digest = w.digest();
                    if let Some(hex) = name.strip_prefix("blobs/sha256/")
                        && hex != digest.hex()
                    {
                        return Err(invalid(format!(
                            "blob {name} does not match its digest: its content has digest {digest}"
                        )));
                    }
                    files.insert(name, Spooled::File(w, digest));
                }
                tar::EntryType::Symlink | tar::EntryType::Link if is_meta => {
                    return Err(invalid(format!(
                        "{name} is a link; it must be a regular file"
                    )));
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let target = entry
                        .link_name_bytes()
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default();
                    let target = link_target(&name, &target, kind == tar::EntryType::Symlink)?;
                    files.insert(name, Spooled::Link(target));
                }
                other => {
                    return Err(invalid(format!(
                        "entry {name:?} has unsupported type {other:?}"
                    )));
                }
            }
            if tripped.get().is_some() {
                break;
            }
        }
        Ok(Spool {
            content: store.content().clone(),
            files,
        })
    }

    /// The name of the file `path` stands for, links followed; `what` says who names it.
    pub(super) fn resolve(&self, what: &str, path: &str) -> Result<String, ArchiveError> {
        let missing = || {
            invalid(format!(
                "{what} names {path:?}, which is not in the archive"
            ))
        };
        let mut cur = clean(path)?.ok_or_else(missing)?;
        for _ in 0..16 {
            match self.files.get(&cur).ok_or_else(missing)? {
                Spooled::Link(t) => cur = t.clone(),
                _ => return Ok(cur),
            }
        }
        Err(invalid(format!("{path:?}: too many levels of links")))
    }

    /// The digest of the file at `path`.
    pub(super) fn digest(&self, what: &str, path: &str) -> Result<Digest, ArchiveError> {
        Ok(self.open(what, path)?.2)
    }

    pub(super) fn open(&self, what: &str, path: &str) -> Result<(File, u64, Digest), ArchiveError> {
        let (file, size, digest) = match &self.files[&self.resolve(what, path)?] {
            Spooled::File(w, d) => (w.ingest_path().to_path_buf(), w.size(), d.clone()),
            Spooled::Stored(d, size) => (self.content.path(d), *size, d.clone()),
            Spooled::Link(_) => unreachable!("resolved"),
        };
        let f = File::open(file).map_err(read_err(format!("spooled {path}")))?;
        Ok((f, size, digest))
    }

    /// The ingest of the file at `path`, to commit: it is then read from the content store.
    pub(super) fn take(&mut self, what: &str, path: &str) -> Result<Option<Writer>, ArchiveError> {
        let key = self.resolve(what, path)?;
        match self.files.remove(&key) {
            Some(Spooled::File(w, d)) => {
                self.files.insert(key, Spooled::Stored(d, w.size()));
                Ok(Some(w))
            }
            Some(other) => {
                self.files.insert(key, other);
                Ok(None)
            }
            None => unreachable!("resolved"),
        }
    }

    /// A small file read whole.
    pub(super) fn bytes(&self, what: &str, path: &str) -> Result<Vec<u8>, ArchiveError> {
        let (f, size, _) = self.open(what, path)?;
        if size > MAX_JSON {
            return Err(invalid(format!("{path} is too large ({size} bytes)")));
        }
        let mut out = Vec::with_capacity(size as usize);
        f.take(MAX_JSON)
            .read_to_end(&mut out)
            .map_err(read_err(path))?;
        Ok(out)
    }

    pub(super) fn has(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside() {
        assert_eq!(clean("./a/b").unwrap().as_deref(), Some("a/b"));
        assert_eq!(clean("./").unwrap(), None);
        clean("../x").unwrap_err();
        clean("/etc/passwd").unwrap_err();
        clean("a/../../x").unwrap_err();
        assert_eq!(
            link_target("a/layer.tar", "../b/layer.tar", true).unwrap(),
            "b/layer.tar"
        );
        assert_eq!(link_target("a/l", "b/l", false).unwrap(), "b/l");
        link_target("a/l", "../../x", true).unwrap_err();
        link_target("a/l", "/x", true).unwrap_err();
    }
}
