//! `image prune`, `container prune` and `system prune` through the stock docker CLI and
//! berth's, with Docker's choices (dangling, unused, filters) and output; and the data root
//! back to its size after cycles of build, run, load, rm, rmi and prune.

mod common;

use std::path::Path;

use common::*;

/// A new image `name` with a layer of its own (100 kB of random bytes), made by commit;
/// returns its ID.
fn commit(d: &TestDaemon, name: &str, changes: &[&str]) -> String {
    let c = format!("mk-{}", name.replace([':', '/'], "-"));
    d.docker(&[
        "run",
        "--name",
        &c,
        "busybox",
        "sh",
        "-c",
        "head -c 100000 /dev/urandom > /blob",
    ])
    .ok();
    let mut args = vec!["commit"];
    for ch in changes {
        args.extend(["-c", ch]);
    }
    args.extend([c.as_str(), name]);
    let id = d.docker(&args).ok().trim().to_string();
    d.docker(&["rm", &c]).ok();
    id
}

fn ids(d: &TestDaemon) -> String {
    d.docker(&["images", "-a", "-q", "--no-trunc"]).ok()
}

#[test]
fn image_prune_takes_dangling_images_or_with_all_every_unused_one() {
    let d = TestDaemon::with_busybox(&[]);
    let old = commit(&d, "app:1", &[]);
    let kept = commit(&d, "app:2", &["LABEL keep=yes"]);
    // Retagging leaves the first images dangling.
    commit(&d, "app:1", &[]);
    commit(&d, "app:2", &[]);
    assert!(ids(&d).contains(&old) && ids(&d).contains(&kept));
    // Nothing older than 2001, nothing goes.
    let none = d
        .docker(&[
            "image",
            "prune",
            "-f",
            "--filter",
            "until=2001-01-01T00:00:00Z",
        ])
        .ok();
    assert_eq!(none, "Total reclaimed space: 0B\n");
    let out = d
        .docker(&["image", "prune", "-f", "--filter", "label!=keep=yes"])
        .ok();
    assert!(out.starts_with("Deleted Images:\n"), "{out}");
    assert!(out.contains(&format!("deleted: {old}")), "{out}");
    assert!(!out.contains(&kept), "{out}");
    assert!(
        !out.contains("Total reclaimed space: 0B"),
        "its layer counts: {out}"
    );
    assert!(!ids(&d).contains(&old) && ids(&d).contains(&kept));
    // berth's CLI, with Docker's words.
    let out = d.berth(&["image", "prune", "-f"]).ok();
    assert!(out.contains(&format!("deleted: {kept}")), "{out}");
    // All unused: a tagged image no container uses goes by its names; one a stopped
    // container uses stays.
    commit(&d, "other:1", &[]);
    d.docker(&["create", "--name", "user", "app:1", "true"])
        .ok();
    let out = d.docker(&["image", "prune", "-a", "-f"]).ok();
    assert!(out.contains("untagged: other:1"), "{out}");
    assert!(out.contains("untagged: app:2"), "{out}");
    assert!(!out.contains("untagged: app:1"), "{out}");
    let left = d
        .docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
        .ok();
    assert_eq!(left, "app:1\n");
    d.docker(&["image", "prune", "-f", "--filter", "dangling=maybe"])
        .fails_with(1, "Invalid filter 'dangling=[maybe]'");
    d.docker(&["image", "prune", "-f", "--filter", "bogus=1"])
        .fails_with(1, "bogus");
}

#[test]
fn system_prune_removes_what_nothing_uses_in_dockers_order() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    commit(&d, "spare:1", &[]);
    d.docker(&["run", "--name", "stopped", "busybox", "true"])
        .ok();
    d.docker(&["network", "create", "idle"]).ok();
    d.docker(&["volume", "create", "named"]).ok();
    // An anonymous volume, left by a container removed without -v.
    d.docker(&["run", "--name", "anon", "-v", "/data", "busybox", "true"])
        .ok();
    let anon = d.inspect("anon", "{{range .Mounts}}{{.Name}}{{end}}");
    d.docker(&["rm", "anon"]).ok();
    d.docker(&["run", "-d", "--name", "up", "busybox", "sleep", "100"])
        .ok();
    let out = d.berth(&["system", "prune", "-a", "--volumes", "-f"]).ok();
    let order = [
        "Deleted Containers:",
        "Deleted Networks:\nidle",
        "Deleted Volumes:\n",
        "Deleted Images:",
        "Total reclaimed space:",
    ];
    let at: Vec<usize> = order
        .iter()
        .map(|s| out.find(s).unwrap_or_else(|| panic!("{s:?} in {out}")))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{out}");
    assert!(out.contains("untagged: spare:1"), "{out}");
    assert!(out.contains(&anon), "{out}");
    let volumes = d.docker(&["volume", "ls", "-q"]).ok();
    assert_eq!(volumes, "named\n", "named volumes stay");
    d.berth(&["system", "prune", "--volumes", "-f", "--filter", "until=1h"])
        .fails_with(1, r#"The "until" filter is not supported with "--volumes""#);
    // What runs, and the image it runs, stay.
    assert_eq!(d.inspect("up", "{{.State.Running}}"), "true");
    let images = d.docker(&["images", "--format", "{{.Repository}}"]).ok();
    assert_eq!(images, "busybox\n");
    // The stock CLI prunes through the same endpoints.
    d.docker(&["run", "--name", "again", "busybox", "true"])
        .ok();
    let out = d.docker(&["system", "prune", "-f"]).ok();
    assert!(out.contains("Deleted Containers:"), "{out}");
    assert!(d.docker(&["ps", "-aq", "-f", "name=again"]).ok().is_empty());
}

/// Bytes under `dir`, files and directories, as `du -sb` counts them.
fn du(dir: &Path) -> u64 {
    let out = std::process::Command::new("du")
        .args(["-sb"])
        .arg(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn the_data_root_returns_to_its_size_after_build_run_load_and_prune() {
    let d = TestDaemon::start();
    // The metadata database grows in pages and keeps them: measured once warm.
    d.import_busybox("busybox");
    d.docker(&["rmi", "busybox"]).ok();
    let start = du(&d.root);
    for round in 0..2 {
        d.import_busybox("busybox");
        let ctx = context(&[(
            "Dockerfile",
            "FROM busybox\nRUN head -c 2000000 /dev/urandom > /big\n",
        )]);
        d.docker_build(&["-t", "built", ctx.path().to_str().unwrap()])
            .ok();
        d.docker(&["run", "--name", "rr", "built", "sh", "-c", "echo hi > /x"])
            .ok();
        let archive = d.dir().join("img.tar");
        d.docker(&["save", "-o", archive.to_str().unwrap(), "built"])
            .ok();
        d.docker(&["rm", "rr"]).ok();
        d.docker(&["rmi", "built"]).ok();
        d.docker(&["load", "-i", archive.to_str().unwrap()]).ok();
        std::fs::remove_file(&archive).unwrap();
        d.docker(&["run", "--rm", "built", "true"]).ok();
        d.docker(&["system", "prune", "-a", "-f"]).ok();
        let now = du(&d.root);
        assert!(
            now.abs_diff(start) < 1_000_000,
            "round {round}: {start} bytes at the start, {now} after"
        );
    }
}

#[test]
fn what_a_crash_left_of_containers_is_collected_at_start() {
    let mut d = TestDaemon::with_busybox(&[]);
    let kept = d
        .docker(&["create", "--name", "kept", "busybox", "true"])
        .ok()
        .trim()
        .to_string();
    d.kill9();
    // A container directory and a writable layer whose record never was (or is gone).
    let ghost = "ab".repeat(32);
    let dir = d.root.join("containers").join(&ghost);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.v2.json"), "{}").unwrap();
    let layer = d.root.join("snapshots/active").join(&ghost).join("upper");
    std::fs::create_dir_all(&layer).unwrap();
    std::fs::write(layer.join("f"), vec![0u8; 100_000]).unwrap();
    d.spawn();
    assert!(!dir.exists(), "the orphaned directory goes");
    assert!(!layer.parent().unwrap().exists(), "the orphaned layer goes");
    assert!(d.root.join("containers").join(&kept).exists());
    assert!(d.root.join("snapshots/active").join(&kept).exists());
    d.docker(&["start", "-a", "kept"]).ok();
}

#[test]
fn system_df_verbose_counts_shared_layers_and_volumes_as_the_docker_cli_shows_them() {
    let d = TestDaemon::with_busybox(&[]);
    commit(&d, "app:1", &[]);
    d.docker(&[
        "create",
        "--name",
        "vols",
        "-v",
        "data:/data",
        "busybox",
        "true",
    ])
    .ok();
    for out in [
        d.docker(&["system", "df", "-v"]).ok(),
        d.berth(&["system", "df", "-v"]).ok(),
    ] {
        let line = |start: &str| -> Vec<String> {
            out.lines()
                .find(|l| l.starts_with(start))
                .unwrap_or_else(|| panic!("{start} in {out}"))
                .split("   ")
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect()
        };
        // busybox's layer is app's too: all shared; app's own layer is its unique size.
        let bb = line("busybox ");
        let bb = &bb[4..];
        assert_eq!(bb[2], "0B", "busybox unique: {out}");
        assert_ne!(bb[1], "0B", "busybox shared: {out}");
        let app = line("app ");
        assert_eq!(app[5], bb[1], "{out}");
        assert!(app[6].ends_with("kB"), "app's own 100 kB: {out}");
        let c = line(&d.inspect("vols", "{{.Id}}")[..12]);
        assert_eq!(c[3], "1", "a container's local volumes: {out}");
    }
}
