//! `--privileged`, `exec --privileged` and `--security-opt systempaths=unconfined`, through the
//! stock docker CLI: what each opens up, and that the defaults keep it closed.

mod common;

use common::TestDaemon;

/// Opens a device node the default rules deny (loop-control, 10:237), made with mknod.
const OPEN_LOOP_CONTROL: &str =
    "busybox mknod /tmp/lc c 10 237 && busybox dd if=/tmp/lc of=/dev/null count=0 && echo opened";

#[test]
fn privileged_opens_what_the_defaults_close() {
    let d = TestDaemon::with_busybox(&[]);
    let status = "busybox grep -E '^(Seccomp|CapEff):' /proc/self/status";
    let out = d.sh_with(&["--privileged"], status);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        format!("CapEff:\t{}\nSeccomp:\t0\n", common::held_capabilities())
    );
    // Where the daemon lacks a capability (CAP_SYS_RESOURCE here), the client is told.
    if common::held_capabilities() != "000001ffffffffff" {
        assert!(
            out.stderr
                .contains("WARNING: The daemon does not hold CAP_"),
            "{}",
            out.stderr
        );
    }
    // Every device may be opened; by default a node one may make still cannot be opened.
    assert_eq!(
        d.sh_with(&["--privileged"], OPEN_LOOP_CONTROL).ok().trim(),
        "opened"
    );
    d.sh_with(&[], OPEN_LOOP_CONTROL)
        .fails_with(1, "Operation not permitted");
    // The host's device nodes are there, as Docker gives them.
    if std::path::Path::new("/dev/loop-control").exists() {
        let ls = "busybox ls /dev/loop-control";
        assert_eq!(
            d.sh_with(&["--privileged"], ls).ok().trim(),
            "/dev/loop-control"
        );
        d.sh_with(&[], ls)
            .fails_with(1, "No such file or directory");
    }
    // /sys and the cgroup files are writable, nothing is masked (the last mount of a path is
    // the one in force).
    let access = |path: &str| {
        format!(
            "busybox grep ' {path} ' /proc/mounts | busybox tail -1 | busybox cut -d' ' -f4 | busybox cut -d, -f1"
        )
    };
    let cgroup = if std::path::Path::new("/sys/fs/cgroup/pids").exists() {
        "/sys/fs/cgroup/pids"
    } else {
        "/sys/fs/cgroup"
    };
    for path in ["/sys", cgroup] {
        assert_eq!(
            d.sh_with(&["--privileged"], &access(path)).ok(),
            "rw\n",
            "{path}"
        );
        assert_eq!(d.sh_with(&[], &access(path)).ok(), "ro\n", "{path}");
    }
    let masked = "busybox grep -c -E ' /proc/(interrupts|keys|sys) ' /proc/mounts";
    assert_eq!(d.sh_with(&["--privileged"], masked).stdout.trim(), "0");
    // A profile named explicitly still applies.
    let named = ["--privileged", "--security-opt", "seccomp=builtin"];
    assert_eq!(
        d.sh_with(&named, "busybox grep ^Seccomp: /proc/self/status")
            .ok(),
        "Seccomp:\t2\n"
    );
    d.docker(&[
        "run",
        "-d",
        "--name",
        "p1",
        "--privileged",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    assert_eq!(
        d.inspect(
            "p1",
            "{{.HostConfig.Privileged}} {{json .HostConfig.MaskedPaths}} {{json .HostConfig.SecurityOpt}}"
        ),
        r#"true null ["label=disable"]"#
    );
}

#[test]
fn exec_privileged_gets_every_capability_in_a_default_container() {
    let d = TestDaemon::with_busybox(&[]);
    d.docker(&["run", "-d", "--name", "c1", "busybox", "sleep", "1000"])
        .ok();
    let caps = |extra: &[&str]| {
        let mut args = vec!["exec"];
        args.extend(extra);
        args.extend(["c1", "busybox", "grep", "^CapEff:", "/proc/self/status"]);
        d.docker(&args).ok()
    };
    assert_eq!(caps(&[]).trim(), "CapEff:\t00000000a80425fb");
    assert_eq!(
        caps(&["--privileged"]).trim(),
        format!("CapEff:\t{}", common::held_capabilities())
    );
    // The container's filter still applies to it, as in Docker.
    let seccomp = d
        .docker(&[
            "exec",
            "--privileged",
            "c1",
            "busybox",
            "grep",
            "^Seccomp:",
            "/proc/self/status",
        ])
        .ok();
    assert_eq!(seccomp.trim(), "Seccomp:\t2");
}

#[test]
fn systempaths_unconfined_unmasks_proc_and_sys() {
    let d = TestDaemon::with_busybox(&[]);
    // Masked and read-only paths that exist on every kernel.
    let masked = "busybox grep -c -E ' /proc/(interrupts|keys|sys) ' /proc/mounts";
    assert_eq!(d.sh_with(&[], masked).ok().trim(), "3");
    let unconfined = ["--security-opt", "systempaths=unconfined"];
    assert_eq!(d.sh_with(&unconfined, masked).stdout.trim(), "0");
    d.docker(&[
        "create",
        "--name",
        "u1",
        "--security-opt",
        "systempaths=unconfined",
        "busybox",
        "true",
    ])
    .ok();
    assert_eq!(
        d.inspect("u1", "{{json .HostConfig.MaskedPaths}} {{json .HostConfig.ReadonlyPaths}} {{json .HostConfig.SecurityOpt}}"),
        "[] [] []"
    );
    d.docker(&["create", "--name", "u2", "busybox", "true"])
        .ok();
    let shown = d.inspect("u2", "{{json .HostConfig.ReadonlyPaths}}");
    assert_eq!(
        shown,
        r#"["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]"#
    );
}
