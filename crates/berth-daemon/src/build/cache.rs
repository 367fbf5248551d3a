//! The build cache: a key (parent image + instruction, as Docker's classic builder compares
//! them) to the image that step produced. Kept in the metadata database.

use std::sync::Arc;

use berth_core::Digest;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use sha2::{Digest as _, Sha256};

use crate::error::{Result, db};

/// Cache key (hex) → image ID.
const CACHE: TableDefinition<&str, &str> = TableDefinition::new("build_cache");

pub struct Cache {
    db: Arc<Database>,
}

/// The key of a step: its parent image and what it does (the history line, which holds the
/// expanded instruction, the build args a RUN sees and the checksum of what COPY copies), plus
/// anything else that changes the result without showing in history.
pub fn key(parent: Option<&Digest>, created_by: &str, extra: &str) -> String {
    let mut h = Sha256::new();
    h.update(parent.map(Digest::as_str).unwrap_or("scratch"));
    h.update([0]);
    h.update(created_by);
    h.update([0]);
    h.update(extra);
    format!("{:x}", h.finalize())
}

impl Cache {
    pub fn open(database: Arc<Database>) -> Result<Cache> {
        let tx = database.begin_write().map_err(db)?;
        tx.open_table(CACHE).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Cache { db: database })
    }

    pub fn get(&self, key: &str) -> Result<Option<Digest>> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(CACHE).map_err(db)?;
        Ok(t.get(key).map_err(db)?.and_then(|v| v.value().parse().ok()))
    }

    /// Forgets every entry; returns their keys.
    pub fn clear(&self) -> Result<Vec<String>> {
        let tx = self.db.begin_write().map_err(db)?;
        let keys = {
            let mut t = tx.open_table(CACHE).map_err(db)?;
            let keys: Vec<String> = t
                .iter()
                .map_err(db)?
                .filter_map(|r| r.ok().map(|(k, _)| k.value().to_string()))
                .collect();
            for k in &keys {
                t.remove(k.as_str()).map_err(db)?;
            }
            keys
        };
        tx.commit().map_err(db)?;
        Ok(keys)
    }

    pub fn put(&self, key: &str, image: &Digest) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        tx.open_table(CACHE)
            .map_err(db)?
            .insert(key, image.as_str())
            .map_err(db)?;
        tx.commit().map_err(db)
    }
}
