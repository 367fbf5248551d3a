//! Issue 11, devices: `--device`, `--device-cgroup-rule` and the device cgroup every
//! container gets, on this host's cgroup v1 rules and on a cgroup v2-only daemon (berth's eBPF
//! filter); `--gpus` refused by name. The host's `/dev/loop0` (block 7:0) serves as a device
//! no default rule allows; the tests open it and move no data.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use common::TestDaemon;

const LOOP: &str = "/dev/loop0";

fn daemon(v2: bool) -> TestDaemon {
    assert!(
        std::path::Path::new(LOOP).exists(),
        "these tests need {LOOP} (modprobe loop)"
    );
    let d = if v2 {
        TestDaemon::start_cgroup2()
    } else {
        TestDaemon::start()
    };
    d.import_busybox("busybox");
    d
}

/// Opens `path` for reading, then for writing, and prints what happened to each.
fn probe(path: &str) -> String {
    format!(
        "for m in if of; do if dd $m={path} count=0 2>/tmp/err; then echo $m ok; \
         elif grep -q 'Operation not permitted' /tmp/err; then echo $m EPERM; \
         else cat /tmp/err; fi; done"
    )
}

/// What every container gets, on v1 (libcontainer's writes) and v2 (berth's filter) alike.
fn default_rules_hold(d: &TestDaemon) {
    // CAP_MKNOD and `b *:* m` let a node be made; opening it is another matter.
    let made = format!("mknod /tmp/disk b 7 0 && {}", probe("/tmp/disk"));
    assert_eq!(d.sh(&made).ok(), "if EPERM\nof EPERM\n");
    // The standard nodes work; a made fuse node (Docker's explicit deny) does not.
    let std = "echo x > /dev/null && head -c 1 /dev/zero | wc -c && head -c 1 /dev/urandom | wc -c \
               && mknod /tmp/fuse c 10 229 && cat /tmp/fuse 2>&1";
    let out = d.sh(std);
    assert!(out.stdout.starts_with("1\n1\n"), "{}", out.stdout);
    assert!(
        out.stdout.contains("Operation not permitted"),
        "{}",
        out.stdout
    );

    // A rule allows a node as it says: here reading only.
    let allowed = d
        .docker(&[
            "run",
            "--rm",
            "--device-cgroup-rule",
            "b 7:0 r",
            "busybox",
            "sh",
            "-c",
            &made,
        ])
        .ok();
    assert_eq!(allowed, "if ok\nof EPERM\n");

    // A mapped device: its node as on the host, usable with rwm, read-only with r.
    let host = std::fs::metadata(LOOP).unwrap();
    let want = format!(
        "block special file 7:0 {:o} {}:{}\n",
        host.permissions().mode() & 0o7777,
        host.uid(),
        host.gid()
    );
    let stat = "stat -c '%F %t:%T %a %u:%g' /dev/disk";
    let mapped = |spec: &str| {
        d.docker(&[
            "run",
            "--rm",
            "--device",
            spec,
            "busybox",
            "sh",
            "-c",
            &format!("{stat} && {}", probe("/dev/disk")),
        ])
        .ok()
    };
    assert_eq!(
        mapped("/dev/loop0:/dev/disk"),
        format!("{want}if ok\nof ok\n")
    );
    assert_eq!(
        mapped("/dev/loop0:/dev/disk:r"),
        format!("{want}if ok\nof EPERM\n")
    );
}

#[test]
fn devices_are_denied_unless_a_rule_or_a_mapping_allows_them() {
    let d = daemon(false);
    default_rules_hold(&d);

    // Renamed with the container path, through the berth CLI: the node is the host's.
    let out = d
        .berth(&[
            "run",
            "--rm",
            "--device",
            "/dev/null:/dev/mynull",
            "busybox",
            "sh",
            "-c",
            "echo hi > /dev/mynull && stat -c '%F %t:%T' /dev/mynull",
        ])
        .ok();
    assert_eq!(out, "character special file 1:3\n");
}

#[test]
fn a_cgroup_v2_only_host_gets_the_same_device_rules() {
    let d = daemon(true);
    assert_eq!(
        d.docker(&["info", "--format", "{{.CgroupVersion}}"]).ok(),
        "2\n"
    );
    default_rules_hold(&d);
    // Processes exec'd into the container are in its cgroup, under the same filter.
    d.docker(&["run", "-d", "--name", "long", "busybox", "sleep", "600"])
        .ok();
    let out = d
        .docker(&[
            "exec",
            "long",
            "sh",
            "-c",
            &format!("mknod /tmp/disk b 7 0 && {}", probe("/tmp/disk")),
        ])
        .ok();
    assert_eq!(out, "if EPERM\nof EPERM\n");
    d.docker(&["rm", "-f", "long"]).ok();
}

#[test]
fn symlinks_and_directories_give_the_nodes_they_lead_to() {
    let d = daemon(false);
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("disk");
    std::os::unix::fs::symlink(LOOP, &link).unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    let mk = |path: &std::path::Path, kind: &str, major: &str, minor: &str| {
        let ok = std::process::Command::new("mknod")
            .args(["-m", "640"])
            .arg(path)
            .args([kind, major, minor])
            .status()
            .unwrap();
        assert!(ok.success());
    };
    mk(&tree.join("null"), "c", "1", "3");
    mk(&tree.join("sub/loop"), "b", "7", "0");
    std::fs::write(tree.join("notes"), "not a device").unwrap();
    let link_spec = format!("{}:/dev/disk:r", link.display());
    let tree_spec = format!("{}:/dev/mine", tree.display());
    let out = d
        .berth(&[
            "run",
            "--rm",
            "--device",
            &link_spec,
            "--device",
            &tree_spec,
            "busybox",
            "sh",
            "-c",
            &format!(
                "stat -c '%n %F %t:%T %a' /dev/disk /dev/mine/null /dev/mine/sub/loop; \
                 ls /dev/mine; {}",
                probe("/dev/mine/sub/loop")
            ),
        ])
        .ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split(' ').nth(4),
        Some("7:0"),
        "the link's target: {out}"
    );
    assert_eq!(
        lines[1..],
        [
            "/dev/mine/null character special file 1:3 640",
            "/dev/mine/sub/loop block special file 7:0 640",
            "null",
            "sub",
            "if ok",
            "of ok",
        ],
        "the tree's nodes only, allowed rwm"
    );
}

#[test]
fn inspect_shows_devices_and_rules_as_given() {
    let d = daemon(false);
    d.docker(&[
        "create",
        "--name",
        "mapped",
        "--device",
        "/dev/null:/dev/mynull:r",
        "--device-cgroup-rule",
        "c 1:3 rw",
        "busybox",
        "true",
    ])
    .ok();
    d.docker(&["create", "--name", "plain", "busybox", "true"])
        .ok();
    let f = "{{json .HostConfig.Devices}} {{json .HostConfig.DeviceCgroupRules}} {{json .HostConfig.DeviceRequests}}";
    assert_eq!(
        d.inspect("mapped", f),
        r#"[{"PathOnHost":"/dev/null","PathInContainer":"/dev/mynull","CgroupPermissions":"r"}] ["c 1:3 rw"] null"#
    );
    // What the docker CLI sends when there are none.
    assert_eq!(d.inspect("plain", f), "[] null null");
}

#[test]
fn gpus_and_bad_device_values_are_refused_with_dockers_words() {
    let d = daemon(false);
    let gpus = "berth does not support HostConfig.DeviceRequests (--gpus, CDI devices): it has no GPU or other device drivers";
    for cli in ["docker", "berth"] {
        let run = |args: &[&str]| {
            let mut all = vec!["run", "--rm"];
            all.extend(args);
            all.extend(["busybox", "true"]);
            if cli == "docker" {
                d.docker(&all)
            } else {
                d.berth(&all)
            }
        };
        run(&["--gpus", "all"]).fails_with(125, gpus);
        run(&["--device", "nvidia.com/gpu=all"]).fails_with(125, gpus);
        run(&["--device-cgroup-rule", "c 1:3"]).fails_with(
            125,
            "invalid argument \"c 1:3\" for \"--device-cgroup-rule\" flag: invalid device cgroup format 'c 1:3'",
        );
        // The CLI checks the form; the daemon the numbers.
        run(&["--device-cgroup-rule", "c 99999999999:1 r"]).fails_with(
            125,
            "invalid major value in device cgroup rule format: 'c 99999999999:1 r'",
        );
        run(&["--device", "dev/null"]).fails_with(125, "dev/null is not an absolute path");
        run(&["--device", "/dev/null:/dev/x:rx"]).fails_with(125, "bad mode specified: rx");
        run(&["--device", "/dev/null:/mynull"]).fails_with(
            125,
            "berth's embedded runtime makes device nodes under /dev only, not at /mynull: use --runtime runc",
        );
        // 127 for "no such file or directory", as the docker CLI picks it.
        run(&["--device", "/dev/nosuch"]).fails_with(
            127,
            "error gathering device information while adding custom device \"/dev/nosuch\": no such file or directory",
        );
    }
    // The host is looked at again when the container starts, as Docker does.
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("node");
    let made = std::process::Command::new("mknod")
        .arg(&node)
        .args(["c", "1", "3"])
        .status()
        .unwrap();
    assert!(made.success());
    let spec = format!("{}:/dev/x", node.display());
    d.docker(&[
        "create", "--name", "gone", "--device", &spec, "busybox", "true",
    ])
    .ok();
    std::fs::remove_file(&node).unwrap();
    d.docker(&["start", "gone"]).fails_with(
        1,
        &format!(
            "error gathering device information while adding custom device \"{}\": no such file or directory",
            node.display()
        ),
    );
    d.docker(&["rm", "gone"]).ok();
    assert_eq!(d.docker(&["ps", "-aq"]).ok(), "", "--rm cleaned up");
    // API clients get the daemon's checks.
    let (status, _, body) = d.http(
        "POST",
        "/containers/create",
        br#"{"Image":"busybox","HostConfig":{"DeviceCgroupRules":["c 1:3"]}}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("invalid device cgroup rule format: 'c 1:3'"),
        "{body}"
    );
}
