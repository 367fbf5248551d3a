//! The registry's blobs, on berth's content store layout in a root of their own:
//! - `ingest/<id>`: one file per upload in progress;
//! - `blobs/sha256/<hex>`, `blobs/sha512/<hex>`: committed blobs, shared by every repository.
//!
//! Lifecycle (berth-content's): an [`Ingest`] is appended to and hashed as it goes (sha256;
//! sha512 content is hashed again from the file at commit, as only the final `PUT` says which
//! algorithm the client meant); [`Ingest::seal`] verifies the digest and fsyncs, then
//! [`Sealed::publish`] renames the file into `blobs/` (two steps, so that the slow part
//! happens outside the blob's guard and only the rename under it; [`Ingest::commit`] does
//! both). Until then nobody sees it. A committed blob never changes: a second commit of the
//! same content just drops its ingest.
//!
//! Which repositories may see a blob, and whether anything still needs it, is the
//! metadata's and the garbage collector's business, not this module's. Callers run
//! everything here off the async workers: it is all blocking file I/O.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::digest::{Algorithm, Digest, Hasher};

/// Errors of the blob store; each names the operation and its path.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Creating the store's directories failed.
    #[error("failed to create the blob store at {path}")]
    Init {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Writing an ingest failed.
    #[error("failed to write upload {path}")]
    Write {
        /// The ingest file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Reading, listing or removing blobs failed.
    #[error("failed to access {path}")]
    Access {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The content does not have the digest the client gave.
    #[error("digest {actual} of the content is not the expected {expected}")]
    DigestMismatch {
        /// What the client said.
        expected: Digest,
        /// What was written.
        actual: Digest,
    },
}

/// The blob store.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// Opens (creating if needed) the store at `root`. Ingests left from an earlier run are
    /// dropped: uploads do not outlive the server that took them.
    pub fn open(root: &Path) -> Result<BlobStore, StorageError> {
        let ingest = root.join("ingest");
        let _ = fs::remove_dir_all(&ingest);
        for dir in [ingest, root.join("blobs/sha256"), root.join("blobs/sha512")] {
            fs::create_dir_all(&dir).map_err(|source| StorageError::Init { path: dir, source })?;
        }
        Ok(BlobStore {
            root: root.to_path_buf(),
        })
    }

    /// Where a blob lives, whether or not it is there.
    pub fn path(&self, d: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(d.algorithm().name())
            .join(d.hex())
    }

    /// The size of a committed blob, `None` when it is not there.
    pub fn size(&self, d: &Digest) -> Option<u64> {
        fs::metadata(self.path(d)).ok().map(|m| m.len())
    }

    /// When a committed blob was written, `None` when it is not there.
    pub fn modified(&self, d: &Digest) -> Option<SystemTime> {
        fs::metadata(self.path(d)).ok()?.modified().ok()
    }

    /// Reads a whole blob: for manifests, which are small.
    pub fn read(&self, d: &Digest) -> Result<Vec<u8>, StorageError> {
        let path = self.path(d);
        fs::read(&path).map_err(|source| StorageError::Access { path, source })
    }

    /// Starts an ingest.
    pub fn ingest(&self) -> Result<Ingest, StorageError> {
        let id = berth_core::id::generate()[..32].to_string();
        let path = self.root.join("ingest").join(&id);
        let file = File::create_new(&path).map_err(|source| StorageError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(Ingest {
            id,
            path,
            file: Some(file),
            size: 0,
            sha256: Hasher::new(Algorithm::Sha256),
        })
    }

    /// Stores `data` (a manifest) as the blob `digest`, verified.
    pub fn put(&self, data: &[u8], digest: &Digest) -> Result<(), StorageError> {
        let mut ingest = self.ingest()?;
        ingest.append(data)?;
        ingest.commit(self, digest).map(|_| ())
    }

    /// Removes a committed blob; whether it was there.
    pub fn remove(&self, d: &Digest) -> Result<bool, StorageError> {
        let path = self.path(d);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(StorageError::Access { path, source }),
        }
    }

    /// Every committed blob.
    pub fn list(&self) -> Result<Vec<Digest>, StorageError> {
        let mut out = Vec::new();
        for alg in [Algorithm::Sha256, Algorithm::Sha512] {
            let dir = self.root.join("blobs").join(alg.name());
            let access = |source| StorageError::Access {
                path: dir.clone(),
                source,
            };
            for entry in fs::read_dir(&dir).map_err(access)? {
                let name = entry.map_err(access)?.file_name();
                // Anything else in there is not ours to judge; skip it.
                if let Ok(d) = format!("{}:{}", alg.name(), name.to_string_lossy()).parse() {
                    out.push(d);
                }
            }
        }
        Ok(out)
    }

    /// Every ingest file and when it was last written (to expire abandoned uploads).
    pub fn ingests(&self) -> Result<Vec<(String, SystemTime)>, StorageError> {
        let dir = self.root.join("ingest");
        let access = |source| StorageError::Access {
            path: dir.clone(),
            source,
        };
        let mut out = Vec::new();
        for entry in fs::read_dir(&dir).map_err(access)? {
            let entry = entry.map_err(access)?;
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .map_err(access)?;
            out.push((entry.file_name().to_string_lossy().into_owned(), modified));
        }
        Ok(out)
    }

    /// Removes an ingest file by id (an expired upload).
    pub fn remove_ingest(&self, id: &str) {
        let _ = fs::remove_file(self.root.join("ingest").join(id));
    }
}

/// A blob being written. Dropping it without [`commit`](Ingest::commit) removes the file.
#[derive(Debug)]
pub struct Ingest {
    id: String,
    path: PathBuf,
    file: Option<File>,
    size: u64,
    sha256: Hasher,
}

impl Ingest {
    /// Its id (the file name under `ingest/`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends bytes.
    pub fn append(&mut self, data: &[u8]) -> Result<(), StorageError> {
        let file = self
            .file
            .as_mut()
            .expect("an ingest has its file until commit");
        file.write_all(data).map_err(|source| StorageError::Write {
            path: self.path.clone(),
            source,
        })?;
        self.sha256.update(data);
        self.size += data.len() as u64;
        Ok(())
    }

    /// Verifies the content against `expected` and makes it durable; [`Sealed::publish`]
    /// then makes it visible. Hashing and fsync happen here, outside the blob's guard.
    pub fn seal(mut self, expected: &Digest) -> Result<Sealed, StorageError> {
        let actual = match expected.algorithm() {
            Algorithm::Sha256 => {
                std::mem::replace(&mut self.sha256, Hasher::new(Algorithm::Sha256)).finish()
            }
            Algorithm::Sha512 => self.rehash(Algorithm::Sha512)?,
        };
        if actual != *expected {
            return Err(StorageError::DigestMismatch {
                expected: expected.clone(),
                actual,
            });
        }
        let file = self
            .file
            .take()
            .expect("an ingest has its file until sealed");
        file.sync_all().map_err(|source| StorageError::Write {
            path: self.path.clone(),
            source,
        })?;
        Ok(Sealed {
            ingest: self,
            digest: expected.clone(),
        })
    }

    /// [`seal`](Ingest::seal) and [`Sealed::publish`] in one, for callers that need no
    /// guard between them (tests, and manifests, whose digest is computed here).
    pub fn commit(self, store: &BlobStore, expected: &Digest) -> Result<u64, StorageError> {
        self.seal(expected)?.publish(store)
    }

    fn rehash(&self, alg: Algorithm) -> Result<Digest, StorageError> {
        let access = |source| StorageError::Access {
            path: self.path.clone(),
            source,
        };
        let mut file = File::open(&self.path).map_err(access)?;
        let mut h = Hasher::new(alg);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(access)?;
            if n == 0 {
                return Ok(h.finish());
            }
            h.update(&buf[..n]);
        }
    }
}

/// Verified, durable content, not yet visible. Dropping it removes the file.
#[derive(Debug)]
pub struct Sealed {
    ingest: Ingest,
    digest: Digest,
}

impl Sealed {
    /// Its size.
    pub fn size(&self) -> u64 {
        self.ingest.size
    }

    /// Renames it into `blobs/`, and returns its size. The caller holds the blob's guard.
    /// Content already there stays as it is (its readers go on) and this copy is dropped.
    pub fn publish(self, store: &BlobStore) -> Result<u64, StorageError> {
        let target = store.path(&self.digest);
        if !target.exists() {
            fs::rename(&self.ingest.path, &target).map_err(|source| StorageError::Write {
                path: self.ingest.path.clone(),
                source,
            })?;
        }
        Ok(self.ingest.size)
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        // After a commit the file was renamed away (or was a duplicate): either way it goes.
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_verifies_both_algorithms_and_publishes() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        for alg in [Algorithm::Sha256, Algorithm::Sha512] {
            let d = alg.digest(b"hello world");
            let mut i = store.ingest().unwrap();
            i.append(b"hello ").unwrap();
            i.append(b"world").unwrap();
            assert_eq!(i.commit(&store, &d).unwrap(), 11);
            assert_eq!(store.read(&d).unwrap(), b"hello world");
            assert!(store.list().unwrap().contains(&d));
        }
        let mut i = store.ingest().unwrap();
        i.append(b"other").unwrap();
        let err = i
            .commit(&store, &Algorithm::Sha256.digest(b"x"))
            .unwrap_err();
        assert!(matches!(err, StorageError::DigestMismatch { .. }), "{err}");
        assert!(
            store.ingests().unwrap().is_empty(),
            "a rejected ingest must not linger"
        );
    }
}
