//! Issue 8: a daemon upgraded in place keeps its containers. Records written before schema
//! versions (Docker's `Config`/`HostConfig` as the client sent them) are migrated when the new
//! daemon opens the store; created containers start as before and running ones are reattached.

mod common;

use common::TestDaemon;
use redb::{ReadableDatabase, TableDefinition};
use serde_json::{Value, json};

const CONTAINERS: TableDefinition<&str, &[u8]> = TableDefinition::new("containers");

/// The record as berth wrote it before schema versions, rebuilt from today's.
fn as_schema_1(r: &Value) -> Value {
    let s = &r["spec"];
    json!({
        "id": r["id"], "name": r["name"], "created": r["created"],
        "image_id": r["image_id"], "chain_id": r["chain_id"],
        "config": {
            "Hostname": s["hostname"], "Domainname": "", "User": s["user"],
            "AttachStdin": false, "AttachStdout": true, "AttachStderr": true,
            "Tty": false, "OpenStdin": false, "StdinOnce": false,
            "Env": s["env"], "Cmd": s["cmd"], "Image": s["image"], "Volumes": null,
            "WorkingDir": s["working_dir"], "Entrypoint": null, "OnBuild": null,
            "Labels": s["labels"],
        },
        "host_config": {
            "NetworkMode": "none", "AutoRemove": false,
            "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
            "LogConfig": {"Type": "json-file", "Config": null},
            "Memory": s["resources"]["memory"], "PidsLimit": null, "Init": null,
        },
        "path": r["path"], "args": r["args"], "state": r["state"],
    })
}

fn rewrite(root: &std::path::Path, f: impl Fn(&Value) -> Value) -> usize {
    let db = redb::Database::create(root.join("metadata.redb")).unwrap();
    let rows: Vec<(String, Vec<u8>)> = {
        let tx = db.begin_read().unwrap();
        let t = tx.open_table(CONTAINERS).unwrap();
        redb::ReadableTable::iter(&t)
            .unwrap()
            .map(|r| {
                let (k, v) = r.unwrap();
                (k.value().to_string(), v.value().to_vec())
            })
            .collect()
    };
    let tx = db.begin_write().unwrap();
    {
        let mut t = tx.open_table(CONTAINERS).unwrap();
        for (k, v) in &rows {
            let new = f(&serde_json::from_slice(v).unwrap());
            t.insert(k.as_str(), serde_json::to_vec(&new).unwrap().as_slice())
                .unwrap();
        }
    }
    tx.commit().unwrap();
    rows.len()
}

#[test]
fn records_of_an_older_berth_are_migrated_and_their_containers_kept() {
    let mut d = TestDaemon::start();
    d.import_busybox("busybox");
    d.docker(&[
        "create",
        "--name",
        "old",
        "-e",
        "A=1",
        "-w",
        "/tmp",
        "-l",
        "app=x",
        "-m",
        "64m",
        "busybox",
        "sh",
        "-c",
        "echo $A; pwd",
    ])
    .ok();
    let live = d
        .docker(&["run", "-d", "--name", "live", "busybox", "sleep", "100"])
        .ok();
    d.kill9();
    assert_eq!(rewrite(&d.root, as_schema_1), 2);
    d.spawn();
    assert_eq!(
        d.docker(&["ps", "-a", "--format", "{{.Names}} {{.State}}"])
            .ok(),
        "live running\nold created\n"
    );
    assert_eq!(d.docker(&["start", "-a", "old"]).ok(), "1\n/tmp\n");
    let inspect = d.docker(&[
        "inspect",
        "-f",
        "{{.Config.Labels.app}} {{.HostConfig.Memory}} {{.Config.WorkingDir}}",
        "old",
    ]);
    assert_eq!(inspect.ok().trim(), "x 67108864 /tmp");
    // The running one was reattached: it can be stopped and reports how it ended.
    d.docker(&["kill", live.trim()]).ok();
    assert_eq!(d.docker(&["wait", "live"]).ok().trim(), "137");
    // The store now holds the current schema.
    d.kill9();
    rewrite(&d.root, |r| {
        assert_eq!(r["schema"], 3, "{r}");
        r.clone()
    });
    d.spawn();
}
