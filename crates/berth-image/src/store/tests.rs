//! The store's lifecycle: manifests written and migrated, leases, and garbage collection after
//! removals and after a crash in the middle of an import.

use std::sync::Arc;

use berth_content::ContentStore;
use berth_snapshot::{Overlay, Snapshotter};

use super::*;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn db(&self) -> Arc<Database> {
        Arc::new(Database::create(self.dir.path().join("db")).unwrap())
    }

    /// Opens the store (collecting garbage), as a daemon start does.
    fn open(&self, db: Arc<Database>) -> ImageStore {
        let content = ContentStore::open(self.dir.path().join("content")).unwrap();
        let snapshots: Arc<dyn Snapshotter> =
            Arc::new(Overlay::open(self.dir.path().join("snapshots"), db.clone()).unwrap());
        ImageStore::new(db, content, snapshots).unwrap()
    }
}

fn layer(name: &str, body: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(body.len() as u64);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    b.append_data(&mut h, name, body).unwrap();
    b.into_inner().unwrap()
}

fn counts(s: &ImageStore) -> (usize, usize) {
    (
        s.snapshots().walk().unwrap().len(),
        s.content().list().unwrap().len(),
    )
}

#[test]
fn an_import_keeps_config_manifest_and_layer_and_rmi_collects_them() {
    let f = Fixture::new();
    let s = f.open(f.db());
    let image = s
        .import(&layer("a", b"1")[..], ImportOptions::default())
        .unwrap();
    let manifest = image.manifest.clone().expect("a manifest is written");
    let m: serde_json::Value =
        serde_json::from_slice(&s.content().read(&manifest).unwrap()).unwrap();
    assert_eq!(m["config"]["digest"], image.id.as_str());
    assert_eq!(
        m["layers"][0]["digest"],
        image.config.rootfs.diff_ids[0].as_str()
    );
    // Config, manifest, index, one layer blob; one layer.
    assert_eq!(counts(&s), (1, 4));
    let index: serde_json::Value =
        serde_json::from_slice(&s.content().read(image.index.as_ref().unwrap()).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], manifest.as_str());
    assert_eq!(
        index["manifests"][0]["platform"]["architecture"],
        crate::config::host_architecture()
    );
    assert_eq!(image.platform.os, "linux");
    assert!(
        s.gc().unwrap().blobs.is_empty(),
        "nothing referenced is collected"
    );
    s.delete(&image.id).unwrap();
    assert_eq!(counts(&s), (0, 0));
}

#[test]
fn shared_layers_stay_until_the_last_image_goes() {
    let f = Fixture::new();
    let s = f.open(f.db());
    let base = s
        .import(&layer("a", b"1")[..], ImportOptions::default())
        .unwrap();
    let mut config = base.config.clone();
    config.comment = Some("second".into());
    let other = s
        .create(&config, base.chain_id.clone(), base.size, Some(&base.id))
        .unwrap();
    assert_eq!(counts(&s).0, 1);
    s.delete(&base.id).unwrap();
    assert_eq!(counts(&s).0, 1, "the other image still uses the layer");
    s.get(&other.id).unwrap();
    s.delete(&other.id).unwrap();
    assert_eq!(counts(&s), (0, 0));
}

#[test]
fn a_lease_pins_a_layer_until_its_image_exists_or_it_is_dropped() {
    let f = Fixture::new();
    let s = f.open(f.db());
    let new = s.add_layer(None, &layer("a", b"1")[..]).unwrap();
    assert!(s.gc().unwrap().layers.is_empty(), "pinned while in flight");
    drop(new);
    let stats = s.gc().unwrap();
    assert_eq!(
        (stats.layers.len(), stats.blobs.len()),
        (1, 1),
        "abandoned: garbage"
    );
    assert_eq!(counts(&s), (0, 0));
}

#[test]
fn what_a_crash_left_between_layer_and_record_is_collected_at_open() {
    let f = Fixture::new();
    let db = f.db();
    {
        let s = f.open(db.clone());
        let kept = s
            .import(&layer("k", b"kept")[..], ImportOptions::default())
            .unwrap();
        // The import that "crashed": its layer and blob are written, its record never was.
        std::mem::forget(
            s.add_layer(kept.chain_id.as_ref(), &layer("a", b"1")[..])
                .unwrap(),
        );
        assert_eq!(counts(&s), (2, 5));
    }
    let s = f.open(db);
    assert_eq!(counts(&s), (1, 4));
    assert_eq!(s.list().unwrap().len(), 1);
}

#[test]
fn records_without_a_manifest_get_one_when_the_store_opens() {
    let f = Fixture::new();
    let db = f.db();
    let id = {
        let s = f.open(db.clone());
        let image = s
            .import(&layer("a", b"1")[..], ImportOptions::default())
            .unwrap();
        // As an older berth stored it: no manifest in the record or the content store.
        let mut record: Record = s.records().unwrap().remove(0).1;
        s.content()
            .delete(&record.manifest.take().unwrap())
            .unwrap();
        s.put_record(&image.id, &record).unwrap();
        image.id
    };
    let s = f.open(db);
    let image = s.get(&id).unwrap();
    let manifest = s.content().read(image.manifest.as_ref().unwrap()).unwrap();
    assert_eq!(crate::manifest::blobs(&manifest)[0], id);
    let index = s.content().read(image.index.as_ref().unwrap()).unwrap();
    assert_eq!(
        crate::manifest::references(&index),
        vec![(image.manifest.clone().unwrap(), true)]
    );
    assert_eq!(counts(&s), (1, 4), "nothing else is left");
}
