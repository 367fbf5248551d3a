//! The registry's metadata, in one redb database (`<root>/registry.redb`): crash-safe, and
//! read through MVCC snapshots, so a long reader (the garbage collector's mark) never holds
//! up pushes.
//!
//! Tables, keyed by `repository\0...` so that one repository is one key range:
//! - `repositories`: name → when it was first written to;
//! - `tags`: `repo\0tag` → [`TagRecord`] (the manifest digest, push and pull times);
//! - `manifests`: `repo\0digest` → [`ManifestRecord`] (what the manifest names, its subject);
//! - `links`: `repo\0digest` → when a blob was linked into the repository (uploaded or
//!   mounted); a repository sees only the blobs linked to it, while the files are shared;
//! - `referrers`: `repo\0subject\0referrer` → nothing: the referrers API's index.
//!
//! Manifest bytes are blobs like any other (in the blob store, by digest). Times are unix
//! milliseconds. Pull times are buffered by the caller and written in batches.

use std::collections::BTreeMap;
use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

const REPOS: TableDefinition<&str, u64> = TableDefinition::new("repositories");
const TAGS: TableDefinition<&str, &[u8]> = TableDefinition::new("tags");
const MANIFESTS: TableDefinition<&str, &[u8]> = TableDefinition::new("manifests");
const LINKS: TableDefinition<&str, u64> = TableDefinition::new("links");
const REFERRERS: TableDefinition<&str, ()> = TableDefinition::new("referrers");

/// A failure of the metadata database.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    /// The database (open, transaction, table, commit, storage).
    #[error("registry metadata: {0}")]
    Db(#[from] redb::Error),
    /// A record that does not decode (written by a newer berth?).
    #[error("registry metadata: corrupt record {key:?}: {source}")]
    Corrupt {
        /// Its key.
        key: String,
        /// The cause.
        source: serde_json::Error,
    },
}

fn db<E: Into<redb::Error>>(e: E) -> MetaError {
    MetaError::Db(e.into())
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRecord {
    /// The manifest it points to.
    pub digest: String,
    /// When it was last pushed (pointed somewhere).
    pub pushed: u64,
    /// When it was last pulled by tag, 0 if never.
    #[serde(default)]
    pub pulled: u64,
}

/// A manifest or index in one repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRecord {
    /// The media type it was pushed with (served back as `Content-Type`).
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was pushed.
    pub pushed: u64,
    /// When it was last pulled (by tag or digest), 0 if never.
    #[serde(default)]
    pub pulled: u64,
    /// The blobs it names (config and layers).
    #[serde(default)]
    pub blobs: Vec<String>,
    /// The manifests it names (an index's).
    #[serde(default)]
    pub children: Vec<String>,
    /// The manifest it refers to.
    #[serde(default)]
    pub subject: Option<String>,
    /// Its artifact type (or its config's media type), for the referrers API.
    #[serde(default)]
    pub artifact_type: Option<String>,
    /// Its annotations, for the referrers API.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// A pull to record: of a tag (which also counts for its manifest) or of a digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pulled {
    /// `repo`, tag.
    Tag(String, String),
    /// `repo`, digest.
    Manifest(String, String),
}

/// What [`Meta::put_manifest`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum PutManifest {
    /// It is stored.
    Stored,
    /// Nothing was stored: this child manifest is not in the repository.
    MissingChild(String),
}

fn key(a: &str, b: &str) -> String {
    format!("{a}\0{b}")
}

/// The key range of one repository (or of one repository and subject).
fn prefix_range(prefix: &str) -> std::ops::Range<String> {
    format!("{prefix}\0")..format!("{prefix}\x01")
}

/// A key range as redb takes it.
fn span(r: &std::ops::Range<String>) -> std::ops::Range<&str> {
    r.start.as_str()..r.end.as_str()
}

fn decode<T: for<'a> Deserialize<'a>>(k: &str, v: &[u8]) -> Result<T, MetaError> {
    serde_json::from_slice(v).map_err(|source| MetaError::Corrupt {
        key: k.to_string(),
        source,
    })
}

fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("records serialize")
}

/// The metadata store.
#[derive(Debug)]
pub struct Meta {
    db: Database,
}

impl Meta {
    /// Opens (creating) the database at `path`.
    pub fn open(path: &Path) -> Result<Meta, MetaError> {
        let database = Database::create(path).map_err(db)?;
        let tx = database.begin_write().map_err(db)?;
        tx.open_table(REPOS).map_err(db)?;
        tx.open_table(TAGS).map_err(db)?;
        tx.open_table(MANIFESTS).map_err(db)?;
        tx.open_table(LINKS).map_err(db)?;
        tx.open_table(REFERRERS).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Meta { db: database })
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<T, MetaError>,
    ) -> Result<T, MetaError> {
        let tx = self.db.begin_write().map_err(db)?;
        let out = f(&tx)?;
        tx.commit().map_err(db)?;
        Ok(out)
    }

    fn touch_repo(tx: &redb::WriteTransaction, repo: &str, now: u64) -> Result<(), MetaError> {
        let mut t = tx.open_table(REPOS).map_err(db)?;
        if t.get(repo).map_err(db)?.is_none() {
            t.insert(repo, now).map_err(db)?;
        }
        Ok(())
    }

    /// Links a blob into a repository (an upload or a mount).
    pub fn link(&self, repo: &str, digest: &str, now: u64) -> Result<(), MetaError> {
        self.write(|tx| {
            Self::touch_repo(tx, repo, now)?;
            tx.open_table(LINKS)
                .map_err(db)?
                .insert(key(repo, digest).as_str(), now)
                .map_err(db)?;
            Ok(())
        })
    }

    /// Whether a blob is linked into a repository.
    pub fn linked(&self, repo: &str, digest: &str) -> Result<bool, MetaError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(LINKS).map_err(db)?;
        Ok(t.get(key(repo, digest).as_str()).map_err(db)?.is_some())
    }

    /// Unlinks a blob from a repository; whether it was linked.
    pub fn unlink(&self, repo: &str, digest: &str) -> Result<bool, MetaError> {
        self.write(|tx| {
            let mut t = tx.open_table(LINKS).map_err(db)?;
            Ok(t.remove(key(repo, digest).as_str()).map_err(db)?.is_some())
        })
    }

    /// Stores a manifest (and points `tags` at it), unless one of `children` (an index's
    /// manifests) is not in the repository: the check and the write are one transaction,
    /// so retention cannot delete a child in between.
    pub fn put_manifest(
        &self,
        repo: &str,
        digest: &str,
        record: &ManifestRecord,
        tags: &[String],
    ) -> Result<PutManifest, MetaError> {
        let now = record.pushed;
        self.write(|tx| {
            let mut manifests = tx.open_table(MANIFESTS).map_err(db)?;
            for child in &record.children {
                if manifests
                    .get(key(repo, child).as_str())
                    .map_err(db)?
                    .is_none()
                {
                    return Ok(PutManifest::MissingChild(child.clone()));
                }
            }
            Self::touch_repo(tx, repo, now)?;
            let mk = key(repo, digest);
            let mut record = record.clone();
            if let Some(old) = manifests.get(mk.as_str()).map_err(db)? {
                record.pulled = decode::<ManifestRecord>(&mk, old.value())?.pulled;
            }
            manifests
                .insert(mk.as_str(), encode(&record).as_slice())
                .map_err(db)?;
            if let Some(subject) = &record.subject {
                let rk = key(&key(repo, subject), digest);
                tx.open_table(REFERRERS)
                    .map_err(db)?
                    .insert(rk.as_str(), ())
                    .map_err(db)?;
            }
            let mut table = tx.open_table(TAGS).map_err(db)?;
            for tag in tags {
                let tk = key(repo, tag);
                let tags = &mut table;
                let pulled = match tags.get(tk.as_str()).map_err(db)? {
                    Some(old) => decode::<TagRecord>(&tk, old.value())?.pulled,
                    None => 0,
                };
                let rec = TagRecord {
                    digest: digest.to_string(),
                    pushed: now,
                    pulled,
                };
                tags.insert(tk.as_str(), encode(&rec).as_slice())
                    .map_err(db)?;
            }
            Ok(PutManifest::Stored)
        })
    }

    /// A manifest of a repository.
    pub fn manifest(&self, repo: &str, digest: &str) -> Result<Option<ManifestRecord>, MetaError> {
        self.get_in(MANIFESTS, repo, digest)
    }

    /// A tag of a repository.
    pub fn tag(&self, repo: &str, tag: &str) -> Result<Option<TagRecord>, MetaError> {
        self.get_in(TAGS, repo, tag)
    }

    /// The row `name` of `repo` in `table`.
    fn get_in<T: for<'a> Deserialize<'a>>(
        &self,
        table: TableDefinition<&str, &[u8]>,
        repo: &str,
        name: &str,
    ) -> Result<Option<T>, MetaError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(table).map_err(db)?;
        let k = key(repo, name);
        let v = t.get(k.as_str()).map_err(db)?;
        v.map(|v| decode(&k, v.value())).transpose()
    }

    /// Deletes a tag; whether it was there.
    pub fn delete_tag(&self, repo: &str, tag: &str) -> Result<bool, MetaError> {
        self.write(|tx| {
            let mut t = tx.open_table(TAGS).map_err(db)?;
            Ok(t.remove(key(repo, tag).as_str()).map_err(db)?.is_some())
        })
    }

    /// Deletes a manifest, the tags that point to it and its referrer entry; whether it
    /// was there. Its blobs stay until the garbage collector finds nothing needs them.
    pub fn delete_manifest(&self, repo: &str, digest: &str) -> Result<bool, MetaError> {
        self.write(|tx| {
            let mk = key(repo, digest);
            let mut manifests = tx.open_table(MANIFESTS).map_err(db)?;
            let Some(old) = manifests.remove(mk.as_str()).map_err(db)? else {
                return Ok(false);
            };
            let record: ManifestRecord = decode(&mk, old.value())?;
            drop(old);
            if let Some(subject) = &record.subject {
                let rk = key(&key(repo, subject), digest);
                tx.open_table(REFERRERS)
                    .map_err(db)?
                    .remove(rk.as_str())
                    .map_err(db)?;
            }
            let mut tags = tx.open_table(TAGS).map_err(db)?;
            let mut pointing = Vec::new();
            for entry in tags.range(span(&prefix_range(repo))).map_err(db)? {
                let (k, v) = entry.map_err(db)?;
                if decode::<TagRecord>(k.value(), v.value())?.digest == digest {
                    pointing.push(k.value().to_string());
                }
            }
            for k in pointing {
                tags.remove(k.as_str()).map_err(db)?;
            }
            Ok(true)
        })
    }

    /// Deletes a tag if it still is `expected` (retention decided on that record; a push
    /// since then wins). Whether it was deleted.
    pub fn delete_tag_if(
        &self,
        repo: &str,
        tag: &str,
        expected: &TagRecord,
    ) -> Result<bool, MetaError> {
        self.write(|tx| {
            let k = key(repo, tag);
            let mut t = tx.open_table(TAGS).map_err(db)?;
            let current = match t.get(k.as_str()).map_err(db)? {
                Some(v) => decode::<TagRecord>(&k, v.value())?,
                None => return Ok(false),
            };
            if current.digest != expected.digest || current.pushed != expected.pushed {
                return Ok(false);
            }
            t.remove(k.as_str()).map_err(db)?;
            Ok(true)
        })
    }

    /// Deletes a manifest if it was pushed at `pushed` and neither a tag nor an index of the
    /// repository names it now (checked in the same transaction as the delete, so a push
    /// racing retention is never left pointing at nothing). Whether it was deleted.
    pub fn delete_manifest_if_unused(
        &self,
        repo: &str,
        digest: &str,
        pushed: u64,
    ) -> Result<bool, MetaError> {
        self.write(|tx| {
            let mk = key(repo, digest);
            let mut manifests = tx.open_table(MANIFESTS).map_err(db)?;
            let record: ManifestRecord = match manifests.get(mk.as_str()).map_err(db)? {
                Some(v) => decode(&mk, v.value())?,
                None => return Ok(false),
            };
            if record.pushed != pushed {
                return Ok(false);
            }
            for entry in manifests.range(span(&prefix_range(repo))).map_err(db)? {
                let (k, v) = entry.map_err(db)?;
                let other: ManifestRecord = decode(k.value(), v.value())?;
                if other.children.iter().any(|c| c == digest) {
                    return Ok(false);
                }
            }
            let tags = tx.open_table(TAGS).map_err(db)?;
            for entry in tags.range(span(&prefix_range(repo))).map_err(db)? {
                let (k, v) = entry.map_err(db)?;
                if decode::<TagRecord>(k.value(), v.value())?.digest == digest {
                    return Ok(false);
                }
            }
            manifests.remove(mk.as_str()).map_err(db)?;
            if let Some(subject) = &record.subject {
                let rk = key(&key(repo, subject), digest);
                tx.open_table(REFERRERS)
                    .map_err(db)?
                    .remove(rk.as_str())
                    .map_err(db)?;
            }
            Ok(true)
        })
    }

    /// The tags of a repository, sorted.
    pub fn tags(&self, repo: &str) -> Result<Vec<(String, TagRecord)>, MetaError> {
        self.in_repository(TAGS, repo)
    }

    /// The manifests of a repository, by digest.
    pub fn manifests(&self, repo: &str) -> Result<Vec<(String, ManifestRecord)>, MetaError> {
        self.in_repository(MANIFESTS, repo)
    }

    /// The rows of `table` under `repo`, by the rest of their key.
    fn in_repository<T: for<'a> Deserialize<'a>>(
        &self,
        table: TableDefinition<&str, &[u8]>,
        repo: &str,
    ) -> Result<Vec<(String, T)>, MetaError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(table).map_err(db)?;
        let mut out = Vec::new();
        for entry in t.range(span(&prefix_range(repo))).map_err(db)? {
            let (k, v) = entry.map_err(db)?;
            let rest = k.value()[repo.len() + 1..].to_string();
            out.push((rest, decode(k.value(), v.value())?));
        }
        Ok(out)
    }

    /// The manifests of a repository whose subject is `subject`.
    pub fn referrers(
        &self,
        repo: &str,
        subject: &str,
    ) -> Result<Vec<(String, ManifestRecord)>, MetaError> {
        let tx = self.db.begin_read().map_err(db)?;
        let refs = tx.open_table(REFERRERS).map_err(db)?;
        let manifests = tx.open_table(MANIFESTS).map_err(db)?;
        let prefix = key(repo, subject);
        let mut out = Vec::new();
        for entry in refs.range(span(&prefix_range(&prefix))).map_err(db)? {
            let (k, ()) = (entry.map_err(db)?.0, ());
            let referrer = k.value()[prefix.len() + 1..].to_string();
            let mk = key(repo, &referrer);
            if let Some(v) = manifests.get(mk.as_str()).map_err(db)? {
                out.push((referrer, decode(&mk, v.value())?));
            }
        }
        Ok(out)
    }

    /// Whether a repository is known.
    pub fn repository_exists(&self, repo: &str) -> Result<bool, MetaError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(REPOS).map_err(db)?;
        Ok(t.get(repo).map_err(db)?.is_some())
    }

    /// Every repository, sorted.
    pub fn repositories(&self) -> Result<Vec<String>, MetaError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(REPOS).map_err(db)?;
        let mut out = Vec::new();
        for entry in t.iter().map_err(db)? {
            out.push(entry.map_err(db)?.0.value().to_string());
        }
        Ok(out)
    }

    /// Writes buffered pull times (the latest wins; records deleted since are skipped).
    pub fn record_pulls(&self, pulls: &BTreeMap<Pulled, u64>) -> Result<(), MetaError> {
        if pulls.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin_write().map_err(db)?;
        // Losing the last few pull times to a crash costs a retention decision nothing
        // that a later pull does not restore; they are not worth an fsync.
        tx.set_durability(redb::Durability::None).map_err(db)?;
        {
            let mut tags = tx.open_table(TAGS).map_err(db)?;
            let mut manifests = tx.open_table(MANIFESTS).map_err(db)?;
            for (p, &when) in pulls {
                let (table, k) = match p {
                    Pulled::Tag(r, t) => (&mut tags, key(r, t)),
                    Pulled::Manifest(r, d) => (&mut manifests, key(r, d)),
                };
                let Some(v) = table
                    .get(k.as_str())
                    .map_err(db)?
                    .map(|v| v.value().to_vec())
                else {
                    continue;
                };
                let mut rec: serde_json::Value =
                    serde_json::from_slice(&v).map_err(|source| MetaError::Corrupt {
                        key: k.clone(),
                        source,
                    })?;
                rec["pulled"] = when.into();
                table
                    .insert(k.as_str(), encode(&rec).as_slice())
                    .map_err(db)?;
            }
        }
        tx.commit().map_err(db)
    }

    /// One consistent snapshot of what every manifest names: the manifests' own digests,
    /// their blobs and children. The garbage collector's mark; it blocks no writer.
    pub fn referenced(&self) -> Result<std::collections::HashSet<String>, MetaError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(MANIFESTS).map_err(db)?;
        let mut live = std::collections::HashSet::new();
        for entry in t.iter().map_err(db)? {
            let (k, v) = entry.map_err(db)?;
            let rec: ManifestRecord = decode(k.value(), v.value())?;
            if let Some((_, digest)) = k.value().split_once('\0') {
                live.insert(digest.to_string());
            }
            live.extend(rec.blobs);
            live.extend(rec.children);
        }
        Ok(live)
    }

    /// Every blob link: (repository, digest, when linked).
    pub fn links(&self) -> Result<Vec<(String, String, u64)>, MetaError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(LINKS).map_err(db)?;
        let mut out = Vec::new();
        for entry in t.iter().map_err(db)? {
            let (k, v) = entry.map_err(db)?;
            if let Some((repo, digest)) = k.value().split_once('\0') {
                out.push((repo.to_string(), digest.to_string(), v.value()));
            }
        }
        Ok(out)
    }

    /// Removes links (of swept blobs), in one transaction.
    pub fn unlink_all(&self, links: &[(String, String)]) -> Result<(), MetaError> {
        if links.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            let mut t = tx.open_table(LINKS).map_err(db)?;
            for (repo, digest) in links {
                t.remove(key(repo, digest).as_str()).map_err(db)?;
            }
            Ok(())
        })
    }

    /// Forgets repositories that hold nothing any more (no tag, manifest or link).
    pub fn drop_empty_repositories(&self) -> Result<Vec<String>, MetaError> {
        self.write(|tx| {
            let mut repos = tx.open_table(REPOS).map_err(db)?;
            let tags = tx.open_table(TAGS).map_err(db)?;
            let manifests = tx.open_table(MANIFESTS).map_err(db)?;
            let links = tx.open_table(LINKS).map_err(db)?;
            let mut empty = Vec::new();
            for entry in repos.iter().map_err(db)? {
                let name = entry.map_err(db)?.0.value().to_string();
                let r = prefix_range(&name);
                let has = |n: usize| n > 0;
                let holds = has(tags.range(span(&r)).map_err(db)?.count())
                    || has(manifests.range(span(&r)).map_err(db)?.count())
                    || has(links.range(span(&r)).map_err(db)?.count());
                if !holds {
                    empty.push(name);
                }
            }
            for name in &empty {
                repos.remove(name.as_str()).map_err(db)?;
            }
            Ok(empty)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_tags_and_referrers_live_per_repository() {
        let dir = tempfile::tempdir().unwrap();
        let meta = Meta::open(&dir.path().join("r.redb")).unwrap();
        let rec = ManifestRecord {
            media_type: "m".into(),
            pushed: 5,
            blobs: vec!["sha256:b".into()],
            ..Default::default()
        };
        meta.put_manifest("a", "sha256:m", &rec, &["v1".into()])
            .unwrap();
        meta.put_manifest("a/b", "sha256:n", &rec, &["v1".into()])
            .unwrap();
        let index = ManifestRecord {
            children: vec!["sha256:nope".into()],
            ..rec.clone()
        };
        let missing = meta.put_manifest("a", "sha256:i", &index, &[]).unwrap();
        assert_eq!(missing, PutManifest::MissingChild("sha256:nope".into()));
        let referrer = ManifestRecord {
            subject: Some("sha256:m".into()),
            ..rec.clone()
        };
        meta.put_manifest("a", "sha256:r", &referrer, &[]).unwrap();
        assert_eq!(meta.tags("a").unwrap().len(), 1, "a/b's tags are not a's");
        assert_eq!(meta.referrers("a", "sha256:m").unwrap()[0].0, "sha256:r");
        let pulls = BTreeMap::from([(Pulled::Tag("a".into(), "v1".into()), 9)]);
        meta.record_pulls(&pulls).unwrap();
        assert_eq!(meta.tag("a", "v1").unwrap().unwrap().pulled, 9);
        assert!(meta.delete_manifest("a", "sha256:m").unwrap());
        assert!(
            meta.tag("a", "v1").unwrap().is_none(),
            "its tags go with it"
        );
        assert!(meta.referenced().unwrap().contains("sha256:b"));
        assert_eq!(meta.repositories().unwrap(), ["a", "a/b"]);
    }
}
