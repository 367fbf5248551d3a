//! Layer metadata (parent, size) in the daemon's metadata database, one record per committed
//! layer, keyed by chain ID.
//!
//! A layer exists when its record and its directory both do. The directory is renamed into
//! place first and the record written after, and a removal deletes the record first: a crash in
//! between leaves a directory without a record, which [`Layers::reconcile`] removes when the
//! store opens (and a record without a directory, which it drops). Layer directories written by
//! berth before the metadata moved here carry `parent` and `size` side files; `reconcile` turns
//! them into records.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use berth_core::Digest;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::overlay::SnapshotError;

/// Chain ID (hex) → [`LayerMeta`] as JSON.
const LAYERS: TableDefinition<&str, &[u8]> = TableDefinition::new("snapshot_layers");

/// What is recorded of a committed layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerMeta {
    /// The layer stack below it.
    pub parent: Option<Digest>,
    /// The bytes of its files, as Docker counts a layer's size.
    pub size: u64,
}

/// The layer records.
#[derive(Debug, Clone)]
pub(crate) struct Layers {
    db: Arc<Database>,
}

fn db(e: impl Into<redb::Error>) -> SnapshotError {
    SnapshotError::Db(e.into())
}

impl Layers {
    pub(crate) fn open(db: Arc<Database>) -> Result<Layers, SnapshotError> {
        let tx = db.begin_write().map_err(self::db)?;
        tx.open_table(LAYERS).map_err(self::db)?;
        tx.commit().map_err(self::db)?;
        Ok(Layers { db })
    }

    pub(crate) fn get(&self, chain: &Digest) -> Result<Option<LayerMeta>, SnapshotError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(LAYERS).map_err(db)?;
        let Some(v) = t.get(chain.hex()).map_err(db)? else {
            return Ok(None);
        };
        Ok(serde_json::from_slice(v.value()).ok())
    }

    pub(crate) fn put(&self, chain: &Digest, meta: &LayerMeta) -> Result<(), SnapshotError> {
        let tx = self.db.begin_write().map_err(db)?;
        let bytes = serde_json::to_vec(meta).expect("layer meta serializes");
        tx.open_table(LAYERS)
            .map_err(db)?
            .insert(chain.hex(), bytes.as_slice())
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    pub(crate) fn delete(&self, chain: &Digest) -> Result<(), SnapshotError> {
        let tx = self.db.begin_write().map_err(db)?;
        tx.open_table(LAYERS)
            .map_err(db)?
            .remove(chain.hex())
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// Every record, by chain ID.
    pub(crate) fn all(&self) -> Result<Vec<(Digest, LayerMeta)>, SnapshotError> {
        let tx = self.db.begin_read().map_err(db)?;
        let mut out = Vec::new();
        for row in tx.open_table(LAYERS).map_err(db)?.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            if let (Ok(chain), Ok(meta)) = (
                format!("sha256:{}", k.value()).parse(),
                serde_json::from_slice(v.value()),
            ) {
                out.push((chain, meta));
            }
        }
        Ok(out)
    }

    /// Makes records and `layers/` agree: side files become records, directories without a
    /// record and records without a directory go.
    pub(crate) fn reconcile(&self, layers_dir: &Path) -> Result<(), SnapshotError> {
        let io = |op| {
            move |source| SnapshotError::Io {
                op,
                path: layers_dir.to_path_buf(),
                source,
            }
        };
        for e in fs::read_dir(layers_dir).map_err(io("list"))? {
            let dir = e.map_err(io("list"))?.path();
            let Some(chain) = dir.file_name().and_then(|n| {
                format!("sha256:{}", n.to_string_lossy())
                    .parse::<Digest>()
                    .ok()
            }) else {
                continue;
            };
            if self.get(&chain)?.is_some() {
                continue;
            }
            match fs::read_to_string(dir.join("size")) {
                Ok(size) => {
                    let parent = fs::read_to_string(dir.join("parent"))
                        .ok()
                        .and_then(|p| p.trim().parse().ok());
                    let size = size.trim().parse().unwrap_or(0);
                    self.put(&chain, &LayerMeta { parent, size })?;
                    let _ = fs::remove_file(dir.join("size"));
                    let _ = fs::remove_file(dir.join("parent"));
                }
                // Renamed into place, never recorded: a crash in the middle of an unpack.
                Err(_) => fs::remove_dir_all(&dir).map_err(io("remove"))?,
            }
        }
        for (chain, _) in self.all()? {
            if !layers_dir.join(chain.hex()).join("fs").is_dir() {
                self.delete(&chain)?;
            }
        }
        Ok(())
    }
}
