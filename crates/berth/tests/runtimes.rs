//! OCI runtimes: the embedded one (libcontainer) and an external runc added with
//! `--add-runtime`, chosen per container with `--runtime`, through the stock docker CLI.

mod common;

use common::TestDaemon;

const RUNC: &str = "/usr/sbin/runc";

/// A daemon with Debian's runc added as `runc`, and the busybox image.
fn with_runc(extra: &[&str]) -> TestDaemon {
    assert!(
        std::path::Path::new(RUNC).exists(),
        "these tests need runc at {RUNC} (apt-get install runc)"
    );
    let add = format!("runc={RUNC}");
    let mut args = vec!["--add-runtime", add.as_str()];
    args.extend(extra);
    let d = TestDaemon::start_with_args(&args);
    d.import_busybox("busybox");
    d
}

/// `docker run --rm --runtime runc ARGS...`.
fn run_runc(d: &TestDaemon, args: &[&str]) -> common::Out {
    let mut all = vec!["run", "--rm", "--runtime", "runc"];
    all.extend(args);
    d.docker(&all)
}

#[test]
fn runc_runs_containers_as_the_embedded_runtime_does() {
    let d = with_runc(&[]);
    // Exit code and the two output streams, kept apart.
    let out = run_runc(
        &d,
        &["busybox", "sh", "-c", "echo out; echo err >&2; exit 3"],
    );
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (3, "out\n"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("err"), "{}", out.stderr);
    // Docker's start errors and exit codes: from runc's messages, and from berth's own check
    // of the command for the embedded runtime.
    for runtime in ["runc", "berth"] {
        let run = |args: &[&str]| {
            let mut all = vec!["run", "--rm", "--runtime", runtime, "busybox"];
            all.extend(args);
            d.docker(&all)
        };
        run(&["nosuchcmd"]).fails_with(
            127,
            "failed to create task for container: exec: \"nosuchcmd\": executable file not found in $PATH: unknown",
        );
        run(&["/no/such"]).fails_with(
            127,
            "exec: \"/no/such\": stat /no/such: no such file or directory",
        );
        run(&["/etc"]).fails_with(126, "exec: \"/etc\": permission denied");
    }
    run_runc(&d, &["-w", "/etc/passwd", "busybox", "true"])
        .fails_with(125, "Cannot mkdir: /etc/passwd is not a directory");
    // -w, -u, -e, the hostname.
    assert_eq!(
        run_runc(
            &d,
            &[
                "-w",
                "/new/dir",
                "-u",
                "u1",
                "-e",
                "A=1",
                "--hostname",
                "box",
                "busybox",
                "sh",
                "-c",
                "pwd; id; echo $A $(hostname)",
            ],
        )
        .ok(),
        "/new/dir\nuid=1000(u1) gid=1000(g1) groups=2000(extra)\n1 box\n"
    );
    // Standard input, and a terminal.
    assert_eq!(
        d.docker_stdin(
            &["run", "-i", "--rm", "--runtime", "runc", "busybox", "cat"],
            b"through stdin\n"
        )
        .ok(),
        "through stdin\n"
    );
    let cmd = format!(
        "docker -H {} run --rm -it --runtime runc busybox sh -c 'sleep 0.5; tty; stty size; exit 4'",
        d.host()
    );
    terminal_of_size(&d, &cmd, 33, 103);
    // The processes start with no signal ignored (the monitor ignores SIGPIPE, SIGHUP and
    // SIGINT; signals libc keeps for itself, 32 and 33, are not checked).
    for runtime in ["runc", "berth"] {
        let status = d
            .docker(&[
                "run",
                "--rm",
                "--runtime",
                runtime,
                "busybox",
                "cat",
                "/proc/self/status",
            ])
            .ok();
        let ignored = status
            .lines()
            .find_map(|l| l.strip_prefix("SigIgn:"))
            .map(|m| u64::from_str_radix(m.trim(), 16).unwrap())
            .unwrap();
        assert_eq!(ignored & 0x7fff_ffff, 0, "{runtime}: SigIgn {ignored:#x}");
    }
    // --init and a read-only rootfs.
    let ps = run_runc(&d, &["--init", "busybox", "ps", "-o", "pid,args"]).ok();
    assert!(ps.contains("1 /sbin/docker-init -- ps -o pid,args"), "{ps}");
    run_runc(&d, &["--read-only", "busybox", "touch", "/x"]).fails_with(1, "Read-only file system");
    // The runtime is recorded; a container that names none gets the default.
    d.docker(&[
        "create",
        "--name",
        "on-runc",
        "--runtime",
        "runc",
        "busybox",
        "true",
    ])
    .ok();
    d.docker(&["create", "--name", "on-berth", "busybox", "true"])
        .ok();
    let rt = |name: &str| {
        d.docker(&["inspect", "-f", "{{.HostConfig.Runtime}}", name])
            .ok()
    };
    assert_eq!(
        (rt("on-runc"), rt("on-berth")),
        ("runc\n".into(), "berth\n".into())
    );
    assert_eq!(d.docker(&["start", "-a", "on-runc"]).code, 0);
}

#[test]
fn runc_containers_log_attach_exec_and_stop() {
    let mut d = with_runc(&[]);
    // Logs, and a client attached while it runs.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "late",
        "--runtime",
        "runc",
        "busybox",
        "sh",
        "-c",
        "echo early; echo warn >&2; sleep 1; echo late; exit 2",
    ])
    .ok();
    // Attach once the early lines are out, so only the late one is live (a loaded machine
    // may start the container after `run -d` returned).
    for _ in 0..100 {
        if d.docker(&["logs", "late"]).stderr.contains("warn") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = d.docker(&["attach", "late"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (2, "late\n"),
        "{}",
        out.stderr
    );
    let logs = d.docker(&["logs", "late"]);
    assert_eq!(
        (logs.stdout.as_str(), logs.stderr.as_str()),
        ("early\nlate\n", "warn\n")
    );

    d.docker(&[
        "run",
        "-d",
        "--name",
        "c1",
        "--runtime",
        "runc",
        "--memory",
        "64m",
        "busybox",
        "sh",
        "-c",
        "trap 'echo bye; exit 5' TERM; while true; do sleep 0.1; done",
    ])
    .ok();
    // The monitor is the init's parent (runc exited, the init was reparented to it).
    let pid = d.docker(&["inspect", "-f", "{{.State.Pid}}", "c1"]).ok();
    let ppid = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("PPid:").map(|p| p.trim().to_string()))
            .unwrap()
    };
    let monitor = ppid(pid.trim());
    let exe = std::fs::read_link(format!("/proc/{monitor}/exe")).unwrap();
    assert!(exe.to_string_lossy().starts_with("/memfd:berth"), "{exe:?}");
    // The limit, where the container sees its cgroup (v1 or v2).
    let limit = d
        .docker(&[
            "exec", "c1", "sh", "-c",
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max",
        ])
        .ok();
    assert_eq!(limit, "67108864\n");
    // exec: same pid namespace, stdio, -u, -w, -e, stdin, Docker's errors.
    let ps = d.docker(&["exec", "c1", "ps", "-o", "pid,args"]).ok();
    assert!(ps.contains("    1 sh -c trap"), "{ps}");
    let out = d.docker(&["exec", "c1", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (3, "out\n", "err\n")
    );
    assert_eq!(
        d.docker(&[
            "exec",
            "-u",
            "u1",
            "-w",
            "/tmp",
            "-e",
            "X=1",
            "c1",
            "sh",
            "-c",
            "id; pwd; echo $X"
        ])
        .ok(),
        "uid=1000(u1) gid=1000(g1) groups=2000(extra)\n/tmp\n1\n"
    );
    assert_eq!(
        d.docker_stdin(&["exec", "-i", "c1", "cat"], b"through stdin\n")
            .ok(),
        "through stdin\n"
    );
    let out = d.docker(&["exec", "c1", "nosuchcmd"]);
    assert_eq!(out.code, 127, "{}", out.stderr);
    assert!(
        out.stdout.contains("OCI runtime exec failed: exec failed: exec: \"nosuchcmd\": executable file not found in $PATH: unknown"),
        "{}",
        out.stdout
    );
    let out = d.docker(&["exec", "c1", "/etc"]);
    assert_eq!(out.code, 126, "{}", out.stderr);
    let cmd = format!(
        "docker -H {} exec -it c1 sh -c 'sleep 0.5; tty; stty size; exit 4'",
        d.host()
    );
    terminal_of_size(&d, &cmd, 20, 50);
    let top = d.docker(&["top", "c1"]).ok();
    assert!(top.contains("sleep"), "{top}");
    // After a daemon restart, exec still goes through the runtime the container started with.
    d.kill9();
    d.spawn();
    assert_eq!(d.docker(&["exec", "c1", "echo", "again"]).ok(), "again\n");
    // stop: the init's trap runs, its exit code is recorded.
    d.docker(&["stop", "c1"]).ok();
    assert_eq!(
        d.docker(&[
            "inspect",
            "-f",
            "{{.State.ExitCode}} {{.State.OOMKilled}}",
            "c1"
        ])
        .ok(),
        "5 false\n"
    );
    assert!(d.docker(&["logs", "c1"]).stdout.contains("bye"));
    // kill: SIGKILL is 137.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "killed",
        "--runtime",
        "runc",
        "busybox",
        "sleep",
        "100",
    ])
    .ok();
    d.docker(&["kill", "killed"]).ok();
    assert_eq!(d.docker(&["wait", "killed"]).ok(), "137\n");
    // An OOM kill is recorded as with the embedded runtime.
    let out = d.docker(&[
        "run",
        "--name",
        "oom",
        "--runtime",
        "runc",
        "--memory",
        "32m",
        "busybox",
        "tail",
        "/dev/zero",
    ]);
    assert_eq!(out.code, 137, "{}", out.stderr);
    assert_eq!(
        d.docker(&["inspect", "-f", "{{.State.OOMKilled}}", "oom"])
            .ok(),
        "true\n"
    );
    // Nothing of runc's is left once its containers are gone.
    for c in ["late", "c1", "killed", "oom"] {
        d.docker(&["rm", c]).ok();
    }
    let state: Vec<_> = std::fs::read_dir(d.exec_root.join("runtime-runc"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(state.is_empty(), "runc state left: {state:?}");
}

#[test]
fn runtimes_are_listed_chosen_and_checked() {
    let d = with_runc(&[]);
    let (status, _, body) = d.http("GET", "/v1.43/info", b"");
    assert_eq!(status, 200);
    let info: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        info["Runtimes"],
        serde_json::json!({"berth": {"path": "berth"}, "runc": {"path": RUNC}})
    );
    assert_eq!(info["DefaultRuntime"], "berth");
    // An unknown runtime is refused at create, with Docker's message and status.
    d.docker(&["run", "--rm", "--runtime", "nosuch", "busybox", "true"])
        .fails_with(125, "unknown or invalid runtime name: nosuch");
    let (status, _, body) = d.http(
        "POST",
        "/v1.43/containers/create",
        br#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"Runtime":"nosuch"}}"#,
    );
    assert_eq!(
        (status, body.trim()),
        (
            400,
            r#"{"message":"unknown or invalid runtime name: nosuch"}"#
        )
    );
    // A default runtime of the daemon's choosing.
    let d = with_runc(&["--default-runtime", "runc"]);
    assert_eq!(
        d.docker(&["info", "--format", "{{.DefaultRuntime}}"]).ok(),
        "runc\n"
    );
    d.docker(&["run", "--name", "dflt", "busybox", "true"]).ok();
    assert_eq!(
        d.docker(&["inspect", "-f", "{{.HostConfig.Runtime}}", "dflt"])
            .ok(),
        "runc\n"
    );
    // Flags Docker refuses, berth refuses with Docker's words.
    for (args, said) in [
        (
            &["--default-runtime", "nosuch"][..],
            "specified default runtime 'nosuch' does not exist",
        ),
        (&["--add-runtime", "runc"], "invalid runtime argument: runc"),
        (
            &["--add-runtime", "berth=/usr/sbin/runc"],
            "runtime name 'berth' is reserved",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out: common::Out = std::process::Command::new(common::BERTH)
            .arg("daemon")
            .arg("-H")
            .arg(dir.path().join("s.sock"))
            .arg("--data-root")
            .arg(dir.path().join("root"))
            .arg("--exec-root")
            .arg(dir.path().join("run"))
            .args(args)
            .output()
            .unwrap()
            .into();
        out.fails_with(1, said);
    }
}

#[test]
fn a_pids_limit_of_one_runs_a_command() {
    let d = with_runc(&[]);
    for runtime in ["berth", "runc"] {
        // `read` and `echo` are shell builtins: the init itself reads its limit, with no fork.
        let out = d
            .docker(&[
                "run", "--rm", "--runtime", runtime, "--pids-limit", "1", "busybox", "sh", "-c",
                "read x < /sys/fs/cgroup/pids/pids.max || read x < /sys/fs/cgroup/pids.max; echo $x",
            ])
            .ok();
        assert_eq!(out, "1\n", "{runtime}");
        d.docker(&[
            "run",
            "--rm",
            "--runtime",
            runtime,
            "--pids-limit",
            "1",
            "busybox",
            "true",
        ])
        .ok();
        // The limit holds: a second task cannot be made.
        let out = d.docker(&[
            "run",
            "--rm",
            "--runtime",
            runtime,
            "--pids-limit",
            "1",
            "busybox",
            "sh",
            "-c",
            "true & wait",
        ]);
        assert!(
            out.stderr.contains("can't fork"),
            "{runtime}: {}",
            out.stderr
        );
    }
}

#[test]
fn runc_runs_on_a_cgroup_v2_only_host() {
    let add = format!("runc={RUNC}");
    let d = TestDaemon::start_cgroup2_with_args(&["--add-runtime", &add]);
    d.import_busybox("busybox");
    let cgroups = d
        .docker(&[
            "run",
            "--rm",
            "--runtime",
            "runc",
            "busybox",
            "cat",
            "/proc/self/cgroup",
        ])
        .ok();
    assert!(
        cgroups.lines().any(|l| l == "0::/"),
        "a cgroup namespace: {cgroups}"
    );
    let id = d
        .docker(&["run", "-d", "--runtime", "runc", "busybox", "sleep", "100"])
        .ok();
    assert_eq!(d.docker(&["exec", id.trim(), "echo", "in"]).ok(), "in\n");
    d.docker(&["rm", "-f", id.trim()]).ok();
    // Here the pids controller is still bound to a v1 hierarchy of the host: a limit is refused.
    let pids = d.docker(&["info", "--format", "{{.PidsLimit}}"]).ok();
    if pids.trim() == "true" {
        for runtime in ["berth", "runc"] {
            d.docker(&[
                "run",
                "--rm",
                "--runtime",
                runtime,
                "--pids-limit",
                "1",
                "busybox",
                "true",
            ])
            .ok();
        }
    }
}

/// Runs `cmd` (which prints `tty` and `stty size`, then exits 4) in a terminal of `rows` x
/// `cols`: the process has a pty of that size.
fn terminal_of_size(d: &TestDaemon, cmd: &str, rows: u16, cols: u16) {
    let out = d.in_terminal(cmd, rows, cols);
    assert!(
        out.stdout.contains("/dev/pts/"),
        "{:?} {}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stdout.contains(&format!("{rows} {cols}\r\n")),
        "{:?}",
        out.stdout
    );
    assert_eq!(out.code, 4);
}

#[test]
fn runc_mounts_the_cgroup_hierarchies_read_only_once() {
    if !std::path::Path::new("/sys/fs/cgroup/pids/cgroup.procs").exists() {
        return; // a v2 host: the container's cgroup namespace is its view
    }
    let d = with_runc(&[]);
    let mounts = "busybox grep ' /sys/fs/cgroup/pids ' /proc/mounts | busybox cut -d' ' -f4 | busybox cut -d, -f1";
    let out = run_runc(&d, &["busybox", "sh", "-c", mounts]).ok();
    assert_eq!(out, "ro\n");
}
