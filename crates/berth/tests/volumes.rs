//! Issue 9, first part: the volume API with the `local` driver, through the stock docker CLI.

mod common;

use common::TestDaemon;

#[test]
fn volumes_are_created_listed_inspected_removed_and_pruned() {
    let d = TestDaemon::start();
    d.docker(&["volume", "create", "--label", "app=web", "data"])
        .ok();
    // Creating an existing name answers with the volume, as Docker does.
    assert_eq!(d.docker(&["volume", "create", "data"]).ok().trim(), "data");
    let anon = d.docker(&["volume", "create"]).ok().trim().to_string();
    assert_eq!(anon.len(), 64, "{anon}");
    let shown = d.docker(&[
        "volume",
        "inspect",
        "-f",
        "{{.Driver}} {{.Scope}} {{.Labels.app}} {{.Mountpoint}}",
        "data",
    ]);
    let shown = shown.ok();
    let mountpoint = d.root.join("volumes/data/_data");
    assert_eq!(
        shown.trim(),
        format!("local local web {}", mountpoint.display())
    );
    assert!(mountpoint.is_dir());
    let ls = d
        .docker(&["volume", "ls", "--format", "{{.Driver}} {{.Name}}"])
        .ok();
    assert_eq!(ls.lines().count(), 2, "{ls}");
    assert!(ls.contains("local data"), "{ls}");
    let named = d
        .docker(&["volume", "ls", "-q", "--filter", "label=app=web"])
        .ok();
    assert_eq!(named.trim(), "data");
    assert_eq!(
        d.docker(&["volume", "ls", "-q", "--filter", "name=dat"])
            .ok()
            .trim(),
        "data"
    );
    // Bad input: Docker's messages, and nothing stored.
    d.docker(&["volume", "create", "a"])
        .fails_with(1, "volume name is too short");
    d.docker(&["volume", "create", "bad/name"])
        .fails_with(1, "includes invalid characters for a local volume name");
    d.docker(&["volume", "create", "--opt", "type=tmpfs", "t1"])
        .fails_with(1, "missing required option: \"device\"");
    d.docker(&["volume", "create", "--opt", "colour=red", "t1"])
        .fails_with(1, "invalid option: \"colour\"");
    d.docker(&["volume", "create", "-d", "nfsplugin", "n1"])
        .fails_with(
            1,
            "create n1: error looking up volume plugin nfsplugin: plugin \"nfsplugin\" not found",
        );
    // As Docker 20.10 shows them: no labels is null, options null.
    let (_, _, body) = d.http("GET", &format!("/volumes/{anon}"), b"");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["Labels"].is_null() && v["Options"].is_null(), "{v}");
    d.docker(&["volume", "inspect", "nope"])
        .fails_with(1, "no such volume");
    d.docker(&["volume", "rm", "nope"])
        .fails_with(1, "no such volume");
    assert_eq!(d.docker(&["volume", "ls", "-q"]).ok().lines().count(), 2);
    // Prune: named volumes stay unless --all (API 1.42 and later).
    std::fs::write(mountpoint.join("f"), vec![0u8; 4096]).unwrap();
    d.docker(&[
        "volume",
        "create",
        "--label",
        "com.docker.volume.anonymous=",
        "anon2",
    ])
    .ok();
    let pruned = d.docker(&["volume", "prune", "-f"]).ok();
    assert!(
        pruned.contains("anon2") && !pruned.contains("data"),
        "{pruned}"
    );
    let pruned = d.docker(&["volume", "prune", "-f", "--all"]).ok();
    assert!(
        pruned.contains("data") && pruned.contains(&anon),
        "{pruned}"
    );
    assert!(
        pruned.contains("Total reclaimed space: 4.096kB"),
        "{pruned}"
    );
    assert_eq!(d.docker(&["volume", "ls", "-q"]).ok(), "");
    assert!(!d.root.join("volumes/data").exists());
    let events = d.events("type=volume", "{{.Action}} {{.Actor.ID}}");
    assert!(
        events.contains("create data") && events.contains("destroy data"),
        "{events}"
    );
}
