//! The daemon's defaults for containers (`default-ulimits`, `default-shm-size`,
//! `default-ipc-mode`, `default-cgroupns-mode`, `init`) and its stop with and without live
//! restore (`live-restore`, `shutdown-timeout`), as dockerd has them, through the stock CLI.

mod common;

use std::process::Command;

use common::{TestDaemon, monitor_left, validate, wait_for};

#[test]
fn container_defaults_apply_where_a_container_sets_none() {
    let d = TestDaemon::start_with_args(&[
        "--default-ulimit",
        "nofile=512:1024",
        "--default-shm-size",
        "32m",
        "--default-ipc-mode",
        "shareable",
        "--default-cgroupns-mode",
        "private",
        "--init",
    ]);
    d.import_busybox("busybox");
    let run = |args: &[&str]| {
        let mut all = vec!["run", "--rm"];
        all.extend_from_slice(args);
        d.docker(&all).ok().trim().to_string()
    };
    assert_eq!(
        run(&["busybox", "sh", "-c", "ulimit -n; ulimit -Hn"]),
        "512\n1024"
    );
    // The container's own limit of the same name wins; the others still apply.
    let own = run(&[
        "--ulimit",
        "nofile=256:256",
        "--ulimit",
        "nproc=100:200",
        "busybox",
        "sh",
        "-c",
        "ulimit -n; ulimit -u",
    ]);
    assert_eq!(own, "256\n100");
    let shm = run(&["busybox", "sh", "-c", "df -k /dev/shm | tail -1"]);
    assert!(shm.split_whitespace().nth(1) == Some("32768"), "{shm}");
    let ps = run(&["busybox", "ps", "-o", "pid,args"]);
    assert!(ps.contains("1 /sbin/docker-init -- ps"), "{ps}");
    let ps = run(&["--init=false", "busybox", "ps", "-o", "pid,args"]);
    assert!(!ps.contains("docker-init"), "{ps}");

    d.docker(&["create", "--name", "c1", "busybox", "true"])
        .ok();
    assert_eq!(
        d.inspect(
            "c1",
            "{{.HostConfig.ShmSize}} {{.HostConfig.IpcMode}} {{.HostConfig.CgroupnsMode}}"
        ),
        "33554432 shareable private"
    );
    // The default ulimits become the container's at start, as dockerd records them.
    assert_eq!(d.inspect("c1", "{{json .HostConfig.Ulimits}}"), "[]");
    d.docker(&["start", "-a", "c1"]).ok();
    assert_eq!(
        d.inspect("c1", "{{json .HostConfig.Ulimits}}"),
        r#"[{"Name":"nofile","Hard":1024,"Soft":512}]"#
    );
    d.docker(&[
        "create",
        "--name",
        "c2",
        "--shm-size",
        "8m",
        "--ipc",
        "private",
        "--cgroupns",
        "host",
        "busybox",
        "true",
    ])
    .ok();
    assert_eq!(
        d.inspect(
            "c2",
            "{{.HostConfig.ShmSize}} {{.HostConfig.IpcMode}} {{.HostConfig.CgroupnsMode}}"
        ),
        "8388608 private host"
    );
}

#[test]
fn container_defaults_come_from_daemon_json_with_dockerds_checks() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("daemon.json");
    std::fs::write(
        &file,
        r#"{"default-ulimits":{"nofile":{"Name":"nofile","Hard":2048,"Soft":1024}},
            "default-shm-size":"16m","default-ipc-mode":"private","init":true}"#,
    )
    .unwrap();
    let file = file.to_str().unwrap().to_string();
    let d = TestDaemon::start_with_args(&["--config-file", &file]);
    d.import_busybox("busybox");
    let out = d
        .docker(&[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1",
        ])
        .ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..2], ["1024", "2048"], "{out}");
    assert_eq!(lines[2].split_whitespace().nth(1), Some("16384"), "{out}");

    let bad = |json: &str| {
        std::fs::write(dir.path().join("bad.json"), json).unwrap();
        validate(&[
            "--config-file",
            dir.path().join("bad.json").to_str().unwrap(),
        ])
    };
    bad(r#"{"default-ipc-mode":"host"}"#).fails_with(
        1,
        r#"IPC mode "host" is not supported as default value; use "shareable" or "private""#,
    );
    bad(r#"{"default-cgroupns-mode":"bogus"}"#).fails_with(
        1,
        r#"invalid default cgroup namespace (bogus): use "host" or "private""#,
    );
    bad(r#"{"default-ulimits":{"x":{"Name":"bogus","Hard":1,"Soft":1}}}"#)
        .fails_with(1, "invalid ulimit type: bogus");
    validate(&["--default-ulimit", "nofile=10:5"]).fails_with(
        1,
        "ulimit soft limit must be less than or equal to hard limit: 10 > 5",
    );
    bad(r#"{"default-ulimits":{"nofile":{"Name":"nofile","Hard":2048,"Soft":1024}}}"#);
    validate(&[
        "--config-file",
        dir.path().join("bad.json").to_str().unwrap(),
        "--default-ulimit",
        "nproc=1",
    ])
    .fails_with(1, "default-ulimits: (from flag: [nproc=1]");
}

#[test]
fn without_live_restore_the_daemon_stops_its_containers_and_policies_bring_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("daemon.json");
    std::fs::write(&file, r#"{"live-restore": false, "shutdown-timeout": 2}"#).unwrap();
    let file = file.to_str().unwrap().to_string();
    let mut d = TestDaemon::start_with_args(&["--config-file", &file]);
    d.import_busybox("busybox");
    assert_eq!(
        d.docker(&["info", "--format", "{{.LiveRestoreEnabled}}"])
            .ok()
            .trim(),
        "false"
    );
    let id = |args: &[&str]| d.docker(args).ok().trim().to_string();
    // PID 1 ignores SIGTERM without a handler: this one needs its stop timeout and SIGKILL.
    let plain = id(&[
        "run",
        "-d",
        "--stop-timeout",
        "1",
        "busybox",
        "sleep",
        "1000",
    ]);
    let always = id(&[
        "run",
        "-d",
        "--restart",
        "always",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 0' TERM; while true; do sleep 0.1; done",
    ]);
    let stopped_by_user = id(&[
        "run",
        "-d",
        "--restart",
        "unless-stopped",
        "busybox",
        "sleep",
        "1000",
    ]);
    d.docker(&["stop", "-t", "0", &stopped_by_user]).ok();
    d.stop();
    wait_for("the daemon's containers to end", || {
        !monitor_left(&plain) && !monitor_left(&always)
    });

    d.spawn();
    wait_for("the always container to run again", || {
        d.inspect(&always, "{{.State.Running}}") == "true"
    });
    assert_eq!(
        d.inspect(&plain, "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 137"
    );
    assert_eq!(d.inspect(&stopped_by_user, "{{.State.Status}}"), "exited");

    // SIGHUP turns live restore on: the next stop leaves containers running.
    std::fs::write(&file, r#"{"live-restore": true}"#).unwrap();
    let hup = Command::new("kill")
        .args(["-HUP", &d.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    wait_for("the reload", || {
        d.docker(&["info", "--format", "{{.LiveRestoreEnabled}}"])
            .ok()
            .trim()
            == "true"
    });
    d.stop();
    assert!(
        monitor_left(&always),
        "the container runs on without a daemon"
    );
    d.spawn();
    assert_eq!(d.inspect(&always, "{{.State.Running}}"), "true");
    d.docker(&["rm", "-f", &always, &plain, &stopped_by_user])
        .ok();
}
