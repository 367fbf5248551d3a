//! The content store: blobs addressed by their sha256 digest.
//!
//! Layout under the store's root:
//! - `ingest/` holds writes in progress, one temporary file each;
//! - `blobs/sha256/<hex>` holds committed blobs.
//!
//! Lifecycle: [`ContentStore::writer`] opens an ingest; bytes written to the [`Writer`] are hashed as
//! they go; [`Writer::commit`] checks the digest (and an expected one, if given), fsyncs, and renames
//! the file into `blobs/`. Until `commit` returns, the blob is invisible to readers; a crash leaves
//! at most a stale file in `ingest/`, which [`ContentStore::open`] clears.
//!
//! The store knows nothing of what blobs mean (layers, configs, manifests) or who references them:
//! that is the image store's business.
#![deny(missing_docs)]

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use berth_core::{Digest, ErrorKind, HasKind};
use sha2::{Digest as _, Sha256};

/// Errors of the content store; each names the operation and carries its data.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// Creating the store's directories failed.
    #[error("failed to create content store at {path}")]
    Init {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Listing the committed blobs failed.
    #[error("failed to list blobs in {path}")]
    List {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Starting or writing an ingest failed.
    #[error("failed to write blob in {path}")]
    Write {
        /// The ingest file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The written content does not have the digest it was expected to have.
    #[error("unexpected commit digest {actual}, expected {expected}")]
    DigestMismatch {
        /// The digest the caller expected.
        expected: Digest,
        /// The digest of what was written.
        actual: Digest,
    },
    /// The blob is not in the store.
    #[error("content {0} not found")]
    NotFound(Digest),
    /// Reading or removing a blob failed.
    #[error("failed to access blob {digest}")]
    Access {
        /// The blob.
        digest: Digest,
        /// The cause.
        source: io::Error,
    },
}

impl HasKind for ContentError {
    fn kind(&self) -> ErrorKind {
        match self {
            ContentError::NotFound(_) => ErrorKind::NotFound,
            ContentError::DigestMismatch { .. } => ErrorKind::InvalidArgument,
            _ => ErrorKind::Internal,
        }
    }
}

/// A content store rooted at a directory.
#[derive(Debug, Clone)]
pub struct ContentStore {
    root: PathBuf,
}

impl ContentStore {
    /// Opens (creating if needed) the store at `root` and drops abandoned ingests.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, ContentError> {
        let root = root.into();
        let ingest = root.join("ingest");
        let _ = fs::remove_dir_all(&ingest);
        for dir in [ingest, root.join("blobs/sha256")] {
            fs::create_dir_all(&dir).map_err(|source| ContentError::Init { path: dir, source })?;
        }
        Ok(ContentStore { root })
    }

    /// Starts a new blob; see [`Writer`].
    pub fn writer(&self) -> Result<Writer, ContentError> {
        let path = self.root.join("ingest").join(berth_core::id::generate());
        let file = File::create_new(&path).map_err(|source| ContentError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(Writer {
            store: self.clone(),
            file,
            path,
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// Stores `data` as a blob and returns its digest.
    pub fn put(&self, data: &[u8]) -> Result<Digest, ContentError> {
        let mut w = self.writer()?;
        w.write_all(data).map_err(|source| ContentError::Write {
            path: w.path.clone(),
            source,
        })?;
        Ok(w.commit(None)?.0)
    }

    /// Where the blob lives (whether or not it exists).
    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(digest.hex())
    }

    /// Whether the blob is in the store.
    pub fn contains(&self, digest: &Digest) -> bool {
        self.path(digest).exists()
    }

    /// Opens a blob for reading.
    pub fn open_blob(&self, digest: &Digest) -> Result<File, ContentError> {
        File::open(self.path(digest)).map_err(|e| self.access_error(digest, e))
    }

    /// Reads a whole blob (for small ones: configs and manifests).
    pub fn read(&self, digest: &Digest) -> Result<Vec<u8>, ContentError> {
        fs::read(self.path(digest)).map_err(|e| self.access_error(digest, e))
    }

    /// The size of a blob in bytes.
    pub fn size(&self, digest: &Digest) -> Result<u64, ContentError> {
        fs::metadata(self.path(digest))
            .map(|m| m.len())
            .map_err(|e| self.access_error(digest, e))
    }

    /// The digests of every committed blob (for garbage collection).
    pub fn list(&self) -> Result<Vec<Digest>, ContentError> {
        let dir = self.root.join("blobs/sha256");
        let init = |source| ContentError::List {
            path: dir.clone(),
            source,
        };
        let mut out = Vec::new();
        for e in fs::read_dir(&dir).map_err(init)? {
            let name = e.map_err(init)?.file_name();
            if let Ok(d) = format!("sha256:{}", name.to_string_lossy()).parse() {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Removes a blob; removing a missing blob is not an error.
    pub fn delete(&self, digest: &Digest) -> Result<(), ContentError> {
        match fs::remove_file(self.path(digest)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(self.access_error(digest, e)),
            _ => Ok(()),
        }
    }

    fn access_error(&self, digest: &Digest, source: io::Error) -> ContentError {
        if source.kind() == io::ErrorKind::NotFound {
            ContentError::NotFound(digest.clone())
        } else {
            ContentError::Access {
                digest: digest.clone(),
                source,
            }
        }
    }
}

/// A blob being written. Dropping it without [`commit`](Writer::commit) discards the data.
#[derive(Debug)]
pub struct Writer {
    store: ContentStore,
    file: File,
    path: PathBuf,
    hasher: Sha256,
    size: u64,
}

impl Writer {
    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The digest of what was written so far (the writer goes on hashing).
    pub fn digest(&self) -> Digest {
        Digest::from_sha256(&self.hasher.clone().finalize())
    }

    /// Verifies the content against `expected` (if any), makes it durable and visible, and returns
    /// its digest and size. Committing content that is already stored is not an error.
    pub fn commit(mut self, expected: Option<&Digest>) -> Result<(Digest, u64), ContentError> {
        let actual = Digest::from_sha256(&std::mem::take(&mut self.hasher).finalize());
        if let Some(expected) = expected
            && *expected != actual
        {
            return Err(ContentError::DigestMismatch {
                expected: expected.clone(),
                actual,
            });
        }
        let target = self.store.path(&actual);
        if !target.exists() {
            self.file
                .sync_all()
                .and_then(|()| fs::rename(&self.path, &target))
                .map_err(|source| ContentError::Write {
                    path: self.path.clone(),
                    source,
                })?;
        }
        Ok((actual, self.size))
    }

    /// The ingest file's path, for error messages.
    pub fn ingest_path(&self) -> &Path {
        &self.path
    }
}

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // After a successful commit the file was renamed away and this finds nothing.
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_verifies_and_publishes() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::open(dir.path()).unwrap();
        let d = store.put(b"hello").unwrap();
        assert_eq!(
            d.as_str(),
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(store.read(&d).unwrap(), b"hello");
        assert_eq!(store.size(&d).unwrap(), 5);

        let mut w = store.writer().unwrap();
        w.write_all(b"other").unwrap();
        let ingest = w.ingest_path().to_path_buf();
        let err = w.commit(Some(&d)).unwrap_err();
        assert!(matches!(err, ContentError::DigestMismatch { .. }), "{err}");
        assert!(!ingest.exists(), "a rejected ingest must not linger");
        assert_eq!(
            fs::read_dir(dir.path().join("blobs/sha256"))
                .unwrap()
                .count(),
            1
        );

        store.delete(&d).unwrap();
        assert!(matches!(
            store.read(&d).unwrap_err(),
            ContentError::NotFound(_)
        ));
    }
}
