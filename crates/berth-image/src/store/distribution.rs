//! What berth knows of its images at registries, for pushes that send only what is missing
//! (dockerd's "v2 metadata"): the compressed blob each layer was pulled or pushed as, and where;
//! the manifest each image was pulled with, so that pushing it back gives the same digest; the
//! `name@digest` names registries know an image by.

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use berth_core::Digest;

use crate::error::db;
use crate::{ImageError, ImageStore};

/// Diff ID (hex) → JSON list of [`BlobSource`].
pub(super) const BLOB_SOURCES: TableDefinition<&str, &[u8]> = TableDefinition::new("blob_sources");
/// `<image ID hex> <registry>/<path>` → JSON [`PulledManifest`].
pub(super) const PULLED: TableDefinition<&str, &[u8]> = TableDefinition::new("pulled_manifests");

/// A layer's compressed blob at a registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobSource {
    /// Its digest there.
    pub digest: String,
    /// Its media type.
    pub media_type: String,
    /// Its size.
    pub size: u64,
    /// The repository that has it: `localhost:5000/a/b`, `docker.io/library/busybox`.
    pub repository: String,
}

/// The manifest an image was pulled with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PulledManifest {
    /// Its media type.
    pub media_type: String,
    /// Its bytes (manifests are JSON text).
    pub bytes: String,
}

/// How many sources a layer keeps (the newest).
const SOURCES_KEPT: usize = 16;

impl ImageStore {
    /// Records that the layer `diff_id` is `source.digest` at `source.repository`.
    pub fn add_blob_source(&self, diff_id: &Digest, source: BlobSource) -> Result<(), ImageError> {
        let mut all = self.blob_sources(diff_id)?;
        all.retain(|s| s != &source);
        all.insert(0, source);
        all.truncate(SOURCES_KEPT);
        let tx = self.db.begin_write().map_err(db)?;
        tx.open_table(BLOB_SOURCES)
            .map_err(db)?
            .insert(
                diff_id.hex(),
                serde_json::to_vec(&all).expect("serializes").as_slice(),
            )
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// Where the layer `diff_id` is known to be, newest first.
    pub fn blob_sources(&self, diff_id: &Digest) -> Result<Vec<BlobSource>, ImageError> {
        let tx = self.db.begin_read().map_err(db)?;
        let table = tx.open_table(BLOB_SOURCES).map_err(db)?;
        let found = table.get(diff_id.hex()).map_err(db)?;
        Ok(found
            .and_then(|v| serde_json::from_slice(v.value()).ok())
            .unwrap_or_default())
    }

    /// Records the manifest image `id` was pulled from `repository` with.
    pub fn remember_manifest(
        &self,
        id: &Digest,
        repository: &str,
        manifest: &PulledManifest,
    ) -> Result<(), ImageError> {
        let key = format!("{} {repository}", id.hex());
        let tx = self.db.begin_write().map_err(db)?;
        tx.open_table(PULLED)
            .map_err(db)?
            .insert(
                key.as_str(),
                serde_json::to_vec(manifest).expect("serializes").as_slice(),
            )
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// The manifest image `id` was pulled from `repository` with, if it was.
    pub fn pulled_manifest(
        &self,
        id: &Digest,
        repository: &str,
    ) -> Result<Option<PulledManifest>, ImageError> {
        let key = format!("{} {repository}", id.hex());
        let tx = self.db.begin_read().map_err(db)?;
        let table = tx.open_table(PULLED).map_err(db)?;
        let found = table.get(key.as_str()).map_err(db)?;
        Ok(found.and_then(|v| serde_json::from_slice(v.value()).ok()))
    }

    /// Every manifest image `id` was pulled with, by repository.
    pub fn pulled_manifests(
        &self,
        id: &Digest,
    ) -> Result<Vec<(String, PulledManifest)>, ImageError> {
        let prefix = format!("{} ", id.hex());
        let tx = self.db.begin_read().map_err(db)?;
        let table = tx.open_table(PULLED).map_err(db)?;
        let mut out = Vec::new();
        for row in table.range(prefix.as_str()..).map_err(db)? {
            let (k, v) = row.map_err(db)?;
            let Some(repo) = k.value().strip_prefix(&prefix) else {
                break;
            };
            if let Ok(m) = serde_json::from_slice(v.value()) {
                out.push((repo.to_string(), m));
            }
        }
        Ok(out)
    }

    /// Adds `repo_digest` (`name@sha256:...`) to the names registries know image `id` by; one
    /// of the same repository is replaced, as dockerd keeps one digest per repository.
    pub fn add_repo_digest(&self, id: &Digest, repo_digest: &str) -> Result<(), ImageError> {
        let repository = repo_digest.split('@').next().unwrap_or(repo_digest);
        let tx = self.db.begin_write().map_err(db)?;
        {
            let mut images = tx.open_table(super::IMAGES).map_err(db)?;
            let bytes = images
                .get(id.hex())
                .map_err(db)?
                .map(|v| v.value().to_vec())
                .ok_or_else(|| ImageError::NotFound(id.to_string()))?;
            let mut record: super::Record =
                serde_json::from_slice(&bytes).map_err(|source| ImageError::Config {
                    id: id.to_string(),
                    source,
                })?;
            record
                .repo_digests
                .retain(|d| d.split('@').next() != Some(repository));
            record.repo_digests.push(repo_digest.to_string());
            let bytes = serde_json::to_vec(&record).expect("record serializes");
            images.insert(id.hex(), bytes.as_slice()).map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    /// Forgets what was pulled for image `id` (it is removed).
    pub(super) fn forget_pulled(&self, id: &Digest) -> Result<(), ImageError> {
        let prefix = format!("{} ", id.hex());
        let tx = self.db.begin_write().map_err(db)?;
        {
            let mut table = tx.open_table(PULLED).map_err(db)?;
            let keys: Vec<String> = table
                .range(prefix.as_str()..)
                .map_err(db)?
                .map_while(|row| {
                    let (k, _) = row.ok()?;
                    let k = k.value().to_string();
                    k.starts_with(&prefix).then_some(k)
                })
                .collect();
            for k in keys {
                table.remove(k.as_str()).map_err(db)?;
            }
        }
        tx.commit().map_err(db)
    }
}
