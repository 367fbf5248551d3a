//! `--cap-add` and `--cap-drop` as a user meets them, through the stock docker CLI and berth's:
//! the capability sets the container's processes get (run and exec), what they can and cannot
//! do with them, and Docker's messages for names the daemon cannot give.

mod common;

use common::TestDaemon;

/// `CapEff` of a container run with `opts`.
fn cap_eff(d: &TestDaemon, opts: &[&str]) -> String {
    let mut args = vec!["run", "--rm"];
    args.extend(opts);
    args.extend([
        "busybox",
        "busybox",
        "grep",
        "^CapEff:",
        "/proc/self/status",
    ]);
    let line = d.docker(&args).ok();
    line.trim().trim_start_matches("CapEff:\t").to_string()
}

#[test]
fn adds_and_drops_change_what_the_container_can_do() {
    let d = TestDaemon::with_busybox(&[]);
    assert_eq!(cap_eff(&d, &[]), "00000000a80425fb");
    // CAP_CHOWN is bit 0; names in any case, with or without the prefix.
    assert_eq!(cap_eff(&d, &["--cap-drop", "chown"]), "00000000a80425fa");
    assert_eq!(
        cap_eff(&d, &["--cap-add", "CAP_SYS_ADMIN"]),
        "00000000a82425fb"
    );
    assert_eq!(
        cap_eff(&d, &["--cap-drop", "ALL", "--cap-add", "kill"]),
        "0000000000000020"
    );
    assert_eq!(
        cap_eff(&d, &["--cap-add", "ALL"]),
        common::held_capabilities()
    );
    d.docker(&[
        "run",
        "--rm",
        "--cap-drop",
        "CHOWN",
        "busybox",
        "sh",
        "-c",
        "busybox touch /tmp/f && busybox chown 1000 /tmp/f",
    ])
    .fails_with(1, "Operation not permitted");
    // Without CAP_SYS_ADMIN: no mount (EPERM from seccomp), with it a tmpfs mounts.
    let mount = "busybox mount -t tmpfs none /tmp && echo mounted";
    d.docker(&["run", "--rm", "busybox", "sh", "-c", mount])
        .fails_with(1, "mount: permission denied");
    let out = d
        .docker(&[
            "run",
            "--rm",
            "--cap-add",
            "SYS_ADMIN",
            "busybox",
            "sh",
            "-c",
            mount,
        ])
        .ok();
    assert_eq!(out.trim(), "mounted");
    // The berth CLI sends the same fields; inspect shows them as given; exec inherits them.
    d.berth(&[
        "run",
        "-d",
        "--name",
        "c1",
        "--cap-drop",
        "chown",
        "--cap-add",
        "sys_ptrace",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    assert_eq!(
        d.inspect(
            "c1",
            "{{json .HostConfig.CapAdd}} {{json .HostConfig.CapDrop}}"
        ),
        r#"["sys_ptrace"] ["chown"]"#
    );
    let exec = d
        .docker(&[
            "exec",
            "c1",
            "busybox",
            "grep",
            "^CapEff:",
            "/proc/self/status",
        ])
        .ok();
    assert_eq!(exec.trim(), "CapEff:\t00000000a80c25fa");
    // CAP_SYS_PTRACE reaches no host process: only the container's are there to see.
    let pids = d
        .docker(&[
            "exec",
            "c1",
            "sh",
            "-c",
            "busybox ls /proc | busybox grep -c '^[0-9]'",
        ])
        .ok();
    assert!(pids.trim().parse::<u32>().unwrap() < 10, "{pids}");
}

#[test]
fn names_the_daemon_cannot_give_are_refused() {
    let d = TestDaemon::with_busybox(&[]);
    d.docker(&["run", "--rm", "--cap-add", "NOPE", "busybox", "true"])
        .fails_with(125, "invalid CapAdd: unknown capability: \"CAP_NOPE\"");
    d.docker(&["create", "--cap-drop", "bogus", "busybox"])
        .fails_with(1, "invalid CapDrop: unknown capability: \"CAP_BOGUS\"");
    // This machine's daemon lacks CAP_SYS_RESOURCE; elsewhere the container gets it.
    let bounding = u64::from_str_radix(&common::held_capabilities(), 16).unwrap();
    let sys_resource = 1u64 << 24;
    let out = d.docker(&[
        "run",
        "--rm",
        "--cap-add",
        "SYS_RESOURCE",
        "busybox",
        "true",
    ]);
    if bounding & sys_resource == 0 {
        out.fails_with(
            125,
            "capability not supported by your kernel or not available in the current environment: \"CAP_SYS_RESOURCE\"",
        );
    } else {
        out.ok();
    }
}
