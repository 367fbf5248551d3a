//! Seccomp, as a user meets it: Docker's default profile on every container and exec, the
//! escapes it closes, `--security-opt seccomp=…` from the stock docker CLI and berth's, the
//! daemon's defaults, and the same filter handed to an external runc.

mod common;

use std::path::Path;

use common::TestDaemon;

/// `-v PROBE:/probe:ro`.
fn probe_mount() -> String {
    format!("{}:/probe:ro", common::syscall_probe().display())
}

/// What the probe answers in a new container run with `opts`: `ok` or the errno.
fn answer(d: &TestDaemon, opts: &[&str], call: &[&str]) -> String {
    let mount = probe_mount();
    let mut args = vec!["run", "--rm", "-v", mount.as_str()];
    args.extend(opts);
    args.extend(["busybox", "/probe"]);
    args.extend(call);
    let out = d.docker(&args);
    assert!(
        matches!(out.code, 0 | 1),
        "probe {call:?}: {} {}",
        out.stdout,
        out.stderr
    );
    out.stdout.trim().to_string()
}

/// A line of the container's `/proc/self/status`.
fn status_line(d: &TestDaemon, opts: &[&str], key: &str) -> String {
    let mut args = vec!["run", "--rm"];
    args.extend(opts);
    let script = format!("busybox grep '^{key}:' /proc/self/status");
    args.extend(["busybox", "sh", "-c", script.as_str()]);
    d.docker(&args).ok().trim().to_string()
}

const EPERM: &str = "1";
const ENOSYS: &str = "38";
/// Docker's 14 default capabilities.
const DEFAULT_CAPS: &str = "00000000a80425fb";

#[test]
fn the_default_profile_closes_the_escapes_in_run_and_exec() {
    let d = TestDaemon::with_busybox(&[]);
    assert_eq!(status_line(&d, &[], "Seccomp"), "Seccomp:\t2");
    let cases: &[(&[&str], &str)] = &[
        (&["clone-newuser"], EPERM),
        (&["unshare-user"], EPERM),
        (&["clone3"], ENOSYS),
        (&["fork"], "ok"),
        (&["keyctl"], EPERM),
        // AF_ALG and AF_VSOCK refused; AF_UNIX is not.
        (&["socket", "38"], EPERM),
        (&["socket", "40"], EPERM),
        (&["socket", "1"], "ok"),
        (&["personality", "8"], "ok"),
        (&["personality", "0x0040000"], EPERM),
        // Allowed by Docker's profile, unknown to the libseccomp berth links.
        (&["mseal"], "ok"),
    ];
    for (call, want) in cases {
        assert_eq!(answer(&d, &[], call), *want, "{call:?}");
    }
    d.docker(&["run", "--rm", "busybox", "busybox", "unshare", "-U", "true"])
        .fails_with(1, "Operation not permitted");
    // The capability lent for loading the filter is gone again, for root and for a user.
    for (user, caps) in [("0", DEFAULT_CAPS), ("1000", "0000000000000000")] {
        for set in ["CapEff", "CapPrm"] {
            let line = status_line(&d, &["-u", user], set);
            assert_eq!(line, format!("{set}:\t{caps}"), "user {user}");
        }
    }
    let mount = probe_mount();
    d.docker(&[
        "run", "-d", "--name", "c1", "-v", &mount, "busybox", "sleep", "1000",
    ])
    .ok();
    let exec = |args: &[&str]| {
        let mut all = vec!["exec"];
        all.extend(args);
        d.docker(&all)
    };
    let out = exec(&["c1", "busybox", "grep", "^Seccomp:", "/proc/self/status"]).ok();
    assert_eq!(out.trim(), "Seccomp:\t2");
    assert_eq!(
        exec(&["c1", "/probe", "clone-newuser"]).stdout.trim(),
        EPERM
    );
    assert_eq!(exec(&["c1", "/probe", "keyctl"]).stdout.trim(), EPERM);
    let caps = exec(&[
        "-u",
        "1000",
        "c1",
        "busybox",
        "grep",
        "^CapPrm:",
        "/proc/self/status",
    ])
    .ok();
    assert_eq!(caps.trim(), "CapPrm:\t0000000000000000");
    assert_eq!(d.inspect("c1", "{{json .HostConfig.SecurityOpt}}"), "null");
    // What the execs wrote for the runtime is gone with them.
    let left: Vec<_> = std::fs::read_dir(d.exec_root.join("execs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let info = d
        .docker(&["info", "--format", "{{json .SecurityOptions}}"])
        .ok();
    assert_eq!(info.trim(), r#"["name=seccomp,profile=builtin"]"#);
}

#[test]
fn security_opt_chooses_the_profile_from_either_cli() {
    let d = TestDaemon::with_busybox(&[]);
    let unconfined = ["--security-opt", "seccomp=unconfined"];
    assert_eq!(status_line(&d, &unconfined, "Seccomp"), "Seccomp:\t0");
    assert_eq!(answer(&d, &unconfined, &["keyctl"]), "ok");
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("no-mkdir.json");
    std::fs::write(
        &profile,
        r#"{
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]
        }"#,
    )
    .unwrap();
    let opt = format!("seccomp={}", profile.display());
    let mkdir = ["busybox", "busybox", "mkdir", "/tmp/x"];
    let mut args = vec!["run", "--name", "c1", "--security-opt", opt.as_str()];
    args.extend(mkdir);
    d.docker(&args).fails_with(1, "Operation not permitted");
    let mut args = vec!["run", "--rm", "--security-opt", opt.as_str()];
    args.extend(mkdir);
    d.berth(&args).fails_with(1, "Operation not permitted");
    // Sent inline and compacted, and shown so by inspect.
    let shown = d.inspect("c1", "{{json .HostConfig.SecurityOpt}}");
    assert_eq!(
        shown,
        r#"["seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\"}]}"]"#
    );
    // Without the filter the same container makes its directory.
    d.docker(&["run", "--rm", "busybox", "busybox", "mkdir", "/tmp/x"])
        .ok();
    std::fs::write(
        &profile,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"mkdir","names":["rmdir"],"action":"SCMP_ACT_ERRNO"}]}"#,
    )
    .unwrap();
    d.docker(&["run", "--rm", "--security-opt", &opt, "busybox", "true"])
        .fails_with(
            125,
            "both 'name' and 'names' are specified in the seccomp profile",
        );
    d.docker(&[
        "run",
        "--rm",
        "--security-opt",
        "foo=bar",
        "busybox",
        "true",
    ])
    .fails_with(125, "invalid --security-opt 2: \"foo=bar\"");
    d.docker(&[
        "run",
        "--rm",
        "--security-opt",
        "apparmor=docker-default",
        "busybox",
        "true",
    ])
    .fails_with(125, "apparmor=docker-default");
    let other = [
        "--security-opt",
        "apparmor=unconfined",
        "--security-opt",
        "label=disable",
    ];
    assert_eq!(status_line(&d, &other, "Seccomp"), "Seccomp:\t2");
    // Without SELinux on the host a label means nothing, and Docker takes it as it is.
    if !Path::new("/sys/fs/selinux/enforce").exists() {
        let label = ["--security-opt", "label=type:container_t"];
        assert_eq!(status_line(&d, &label, "Seccomp"), "Seccomp:\t2");
    }
}

#[test]
fn the_daemon_sets_the_defaults() {
    let d = TestDaemon::with_busybox(&["--seccomp-profile", "unconfined", "--no-new-privileges"]);
    let info = d
        .docker(&["info", "--format", "{{json .SecurityOptions}}"])
        .ok();
    assert_eq!(
        info.trim(),
        r#"["name=seccomp,profile=unconfined","name=no-new-privileges"]"#
    );
    // Both CLIs print them alike.
    let block = " Security Options:\n  seccomp\n   Profile: unconfined\n  no-new-privileges\n";
    for out in [d.docker(&["info"]), d.berth(&["info"])] {
        assert!(out.stdout.contains(block), "{}", out.stdout);
    }
    assert_eq!(status_line(&d, &[], "Seccomp"), "Seccomp:\t0");
    assert_eq!(status_line(&d, &[], "NoNewPrivs"), "NoNewPrivs:\t1");
    let builtin = ["--security-opt", "seccomp=builtin"];
    assert_eq!(status_line(&d, &builtin, "Seccomp"), "Seccomp:\t2");
    let off = ["--security-opt", "no-new-privileges=false"];
    assert_eq!(status_line(&d, &off, "NoNewPrivs"), "NoNewPrivs:\t0");
}

#[test]
fn an_external_runc_gets_the_same_filter() {
    const RUNC: &str = "/usr/sbin/runc";
    assert!(Path::new(RUNC).exists(), "apt-get install runc");
    let d = TestDaemon::with_busybox(&["--add-runtime", &format!("runc={RUNC}")]);
    let runc = ["--runtime", "runc"];
    assert_eq!(status_line(&d, &runc, "Seccomp"), "Seccomp:\t2");
    assert_eq!(answer(&d, &runc, &["clone-newuser"]), EPERM);
    assert_eq!(answer(&d, &runc, &["clone3"]), ENOSYS);
    assert_eq!(answer(&d, &runc, &["fork"]), "ok");
}

#[test]
fn the_default_profile_holds_on_a_cgroup_v2_host() {
    let d = TestDaemon::start_cgroup2();
    d.import_busybox("busybox");
    assert_eq!(status_line(&d, &[], "Seccomp"), "Seccomp:\t2");
    assert_eq!(answer(&d, &[], &["clone-newuser"]), EPERM);
    d.docker(&["run", "-d", "--name", "c1", "busybox", "sleep", "1000"])
        .ok();
    let out = d
        .docker(&[
            "exec",
            "c1",
            "busybox",
            "grep",
            "^Seccomp:",
            "/proc/self/status",
        ])
        .ok();
    assert_eq!(out.trim(), "Seccomp:\t2");
}
