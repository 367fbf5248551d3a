//! `--sysctl`, `--ulimit`, `--oom-score-adj` and `--group-add` as a user meets them, through the
//! stock docker CLI and berth's: what the container's processes (and its execs) see, and the
//! messages for what Docker, runc or this daemon refuses.

mod common;

use common::TestDaemon;

/// The output of `busybox sh -c script` in a container run with `opts`, through `cli`.
fn run(d: &TestDaemon, cli: &str, opts: &[&str], script: &str) -> String {
    let mut args = vec!["run", "--rm"];
    args.extend(opts);
    args.extend(["busybox", "busybox", "sh", "-c", script]);
    let out = if cli == "docker" {
        d.docker(&args)
    } else {
        d.berth(&args)
    };
    out.ok().trim().to_string()
}

/// This process's hard limit on open files, which the daemon it starts inherits.
fn own_hard_nofile() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(4)?.parse().ok()
}

/// Whether this process, and so the daemon it starts, holds CAP_SYS_RESOURCE.
fn cap_sys_resource() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let eff = status.lines().find(|l| l.starts_with("CapEff:")).unwrap();
    let eff = u64::from_str_radix(eff.trim_start_matches("CapEff:").trim(), 16).unwrap();
    eff & (1 << 24) != 0
}

#[test]
fn sysctls_are_set_in_the_containers_namespaces() {
    let d = TestDaemon::with_busybox(&[]);
    for cli in ["docker", "berth"] {
        let shm = run(
            &d,
            cli,
            &["--sysctl", "kernel.shmmax=65536"],
            "cat /proc/sys/kernel/shmmax",
        );
        assert_eq!(shm, "65536", "{cli}");
    }
    let net = run(
        &d,
        "docker",
        &["--network", "none", "--sysctl", "net.ipv4.ip_forward=1"],
        "cat /proc/sys/net/ipv4/ip_forward",
    );
    assert_eq!(net, "1");
    // Docker's defaults for a network namespace of its own, unless the container sets them.
    let defaults = run(
        &d,
        "docker",
        &["--sysctl", "net.ipv4.ip_unprivileged_port_start=80"],
        "cat /proc/sys/net/ipv4/ping_group_range /proc/sys/net/ipv4/ip_unprivileged_port_start",
    );
    assert_eq!(defaults, "0\t2147483647\n80");
    // What the default is for: a user without capabilities may bind a low port.
    let bind = "busybox nc -l -p 80 2>/dev/null & for i in $(busybox seq 20); do \
                busybox netstat -ltn | grep -q ':80 ' && exec echo 1; sleep 0.1; done; echo 0";
    assert_eq!(run(&d, "docker", &["-u", "u1"], bind), "1");
    let own = [
        "-u",
        "u1",
        "--sysctl",
        "net.ipv4.ip_unprivileged_port_start=1024",
    ];
    assert_eq!(run(&d, "berth", &own, bind), "0");
    let id = d
        .docker(&[
            "create",
            "--sysctl",
            "net.core.somaxconn=1024",
            "--sysctl",
            "kernel.sem=250 32000 32 128",
            "busybox",
            "true",
        ])
        .ok();
    assert_eq!(
        d.inspect(id.trim(), "{{json .HostConfig.Sysctls}}"),
        r#"{"kernel.sem":"250 32000 32 128","net.core.somaxconn":"1024"}"#
    );
    let plain = d.docker(&["create", "busybox", "true"]).ok();
    let shown = d.docker(&["inspect", plain.trim()]).ok();
    assert!(!shown.contains("\"Sysctls\""), "omitted when empty");
}

#[test]
fn a_bridge_container_gets_dockers_defaults_and_one_joining_it_may_set_net_sysctls() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let files = "/proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ping_group_range \
                 /proc/sys/net/ipv4/ip_unprivileged_port_start";
    let id = d
        .docker(&[
            "run",
            "-d",
            "--sysctl",
            "net.ipv4.ip_forward=1",
            "busybox",
            "sleep",
            "100",
        ])
        .ok();
    let id = id.trim();
    assert_eq!(
        d.docker(&["exec", id, "cat", "/proc/sys/net/ipv4/ip_forward"])
            .ok()
            .trim(),
        "1"
    );
    let own = d
        .docker(&["exec", id, "sh", "-c", &format!("cat {files}")])
        .ok();
    assert_eq!(own.trim(), "1\n0\t2147483647\n0");
    // runc lets a container in another's namespace set net.*: the namespace is not the host's.
    let mode = format!("container:{id}");
    let joined = run(
        &d,
        "docker",
        &["--network", &mode, "--sysctl", "net.ipv4.ip_forward=0"],
        "cat /proc/sys/net/ipv4/ip_forward",
    );
    assert_eq!(joined, "0");
    d.docker(&["rm", "-f", id]).ok();
}

#[test]
fn sysctls_outside_the_containers_namespaces_are_refused() {
    let d = TestDaemon::with_busybox(&[]);
    for cli in ["docker", "berth"] {
        let out = if cli == "docker" {
            d.docker(&[
                "run",
                "--rm",
                "--sysctl",
                "kernel.domainname=x",
                "busybox",
                "true",
            ])
        } else {
            d.berth(&[
                "run",
                "--rm",
                "--sysctl",
                "kernel.domainname=x",
                "busybox",
                "true",
            ])
        };
        out.fails_with(125, "sysctl 'kernel.domainname=x' is not allowed");
    }
    d.docker(&[
        "run",
        "--rm",
        "--network",
        "host",
        "--sysctl",
        "net.ipv4.ip_forward=1",
        "busybox",
        "true",
    ])
    .fails_with(
        125,
        r#"sysctl "net.ipv4.ip_forward" not allowed in host network namespace"#,
    );
    // Nor in the namespace of a container that runs in the host's.
    let host = d
        .docker(&["run", "-d", "--network", "host", "busybox", "sleep", "100"])
        .ok();
    let host = host.trim();
    d.docker(&[
        "run",
        "--rm",
        "--network",
        &format!("container:{host}"),
        "--sysctl",
        "net.ipv4.ip_forward=1",
        "busybox",
        "true",
    ])
    .fails_with(
        125,
        r#"sysctl "net.ipv4.ip_forward" not allowed in host network namespace"#,
    );
    d.docker(&["rm", "-f", host]).ok();
    // A key the kernel does not have fails the start, naming the container's sysctls.
    let out = d.docker(&[
        "run",
        "--rm",
        "--sysctl",
        "net.ipv4.nonexistent=1",
        "busybox",
        "true",
    ]);
    assert_eq!(out.code, 125, "{}", out.stderr);
    assert!(
        out.stderr.contains("net.ipv4.nonexistent=1")
            && out
                .stderr
                .contains("does not exist in the container's namespaces"),
        "{}",
        out.stderr
    );
    // An API client skips the CLI's list; runc's checks still hold.
    let body = r#"{"Image": "busybox", "HostConfig": {"Sysctls": {"vm.swappiness": "1"}}}"#;
    let (status, _, resp) = d.http("POST", "/containers/create", body.as_bytes());
    assert_eq!(status, 400, "{resp}");
    assert!(
        resp.contains(r#"sysctl \"vm.swappiness\" is not in a separate kernel namespace"#),
        "{resp}"
    );
    assert!(d.docker(&["ps", "-aq"]).ok().trim().is_empty());
}

#[test]
fn ulimits_bind_the_container_and_its_execs() {
    let d = TestDaemon::with_busybox(&[]);
    for cli in ["docker", "berth"] {
        let limits = run(
            &d,
            cli,
            &["--ulimit", "nofile=1024:2048"],
            "ulimit -n; ulimit -Hn",
        );
        assert_eq!(limits, "1024\n2048", "{cli}");
    }
    // Without --ulimit the process keeps the daemon's limits.
    let inherited = run(&d, "docker", &[], "ulimit -Hn");
    if let Some(own) = own_hard_nofile() {
        assert_eq!(inherited, own.to_string());
    }
    // Root in the container lacks CAP_SYS_RESOURCE: the hard limit is a ceiling.
    let raise = d.docker(&[
        "run",
        "--rm",
        "--ulimit",
        "nofile=1024:2048",
        "busybox",
        "sh",
        "-c",
        "ulimit -Hn 4096",
    ]);
    assert_ne!(raise.code, 0, "{}", raise.stdout);
    assert!(raise.stderr.contains("not permitted"), "{}", raise.stderr);
    let id = d
        .docker(&[
            "run",
            "-d",
            "--ulimit",
            "nofile=1024:2048",
            "--ulimit",
            "nproc=500",
            "busybox",
            "sleep",
            "100",
        ])
        .ok();
    let id = id.trim();
    let exec = d
        .docker(&["exec", id, "sh", "-c", "ulimit -n; ulimit -Hn; ulimit -u"])
        .ok();
    assert_eq!(exec.trim(), "1024\n2048\n500");
    assert_eq!(
        d.inspect(id, "{{json .HostConfig.Ulimits}}"),
        r#"[{"Name":"nofile","Hard":2048,"Soft":1024},{"Name":"nproc","Hard":500,"Soft":500}]"#
    );
    d.docker(&["rm", "-f", id]).ok();
    d.docker(&["run", "--rm", "--ulimit", "nofile=abc", "busybox", "true"])
        .fails_with(125, "invalid argument \"nofile=abc\" for \"--ulimit\" flag");
    d.berth(&["run", "--rm", "--ulimit", "as=1", "busybox", "true"])
        .fails_with(125, "invalid ulimit type: as");
}

#[test]
fn a_hard_limit_above_the_daemons_is_refused_at_create() {
    let d = TestDaemon::with_busybox(&[]);
    let Some(own) = own_hard_nofile() else {
        eprintln!("skipped: open files are unlimited here");
        return;
    };
    if cap_sys_resource() {
        eprintln!("skipped: the daemon holds CAP_SYS_RESOURCE and may raise its limits");
        return;
    }
    let above = format!("nofile=1024:{}", own + 1);
    let says = format!(
        "cannot set ulimit nofile: its hard limit {} is above the daemon's own ({own})",
        own + 1
    );
    d.docker(&["create", "--ulimit", &above, "busybox", "true"])
        .fails_with(1, &says);
    d.berth(&["create", "--ulimit", &above, "busybox", "true"])
        .fails_with(1, "CAP_SYS_RESOURCE, which the daemon does not hold");
    assert!(d.docker(&["ps", "-aq"]).ok().trim().is_empty());
    let at = format!("nofile=1024:{own}");
    assert_eq!(
        run(&d, "docker", &["--ulimit", &at], "ulimit -Hn"),
        own.to_string()
    );
}

#[test]
fn the_oom_score_is_the_containers_own() {
    let d = TestDaemon::with_busybox(&[]);
    for cli in ["docker", "berth"] {
        let score = run(
            &d,
            cli,
            &["--oom-score-adj", "500"],
            "cat /proc/self/oom_score_adj",
        );
        assert_eq!(score, "500", "{cli}");
    }
    let id = d
        .docker(&[
            "run",
            "-d",
            "--oom-score-adj",
            "300",
            "busybox",
            "sleep",
            "100",
        ])
        .ok();
    let id = id.trim();
    let exec = d
        .docker(&["exec", id, "cat", "/proc/self/oom_score_adj"])
        .ok();
    assert_eq!(exec.trim(), "300");
    assert_eq!(d.inspect(id, "{{.HostConfig.OomScoreAdj}}"), "300");
    // The monitor took its own score back after starting the container.
    let pid = d.inspect(id, "{{.State.Pid}}");
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let ppid = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap();
    let monitor = std::fs::read_to_string(format!("/proc/{ppid}/oom_score_adj")).unwrap();
    let ours = std::fs::read_to_string("/proc/self/oom_score_adj").unwrap();
    assert_eq!(monitor, ours);
    d.docker(&["rm", "-f", id]).ok();
    d.docker(&["run", "--rm", "--oom-score-adj", "1001", "busybox", "true"])
        .fails_with(
            125,
            "Invalid value 1001, range for oom score adj is [-1000, 1000]",
        );
    d.berth(&["create", "--oom-score-adj", "-1001", "busybox", "true"])
        .fails_with(
            1,
            "Invalid value -1001, range for oom score adj is [-1000, 1000]",
        );
}

#[test]
fn lowering_the_oom_score_without_cap_sys_resource_says_why() {
    let d = TestDaemon::with_busybox(&[]);
    if cap_sys_resource() {
        eprintln!("skipped: the daemon holds CAP_SYS_RESOURCE and may lower scores");
        return;
    }
    let out = d.docker(&["run", "--rm", "--oom-score-adj", "-500", "busybox", "true"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains(
            "cannot set the OOM score adjustment to -500: lowering it below the daemon's"
        ) && out.stderr.contains("CAP_SYS_RESOURCE"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_external_runtime_gets_the_same_limits_and_messages() {
    const RUNC: &str = "/usr/sbin/runc";
    assert!(
        std::path::Path::new(RUNC).exists(),
        "this test needs runc at {RUNC} (apt-get install runc)"
    );
    let d = TestDaemon::start_with_args(&["--add-runtime", &format!("runc={RUNC}")]);
    d.import_busybox("busybox");
    let all = run(
        &d,
        "docker",
        &[
            "--runtime",
            "runc",
            "--ulimit",
            "nofile=1024:2048",
            "--oom-score-adj",
            "400",
            "--sysctl",
            "kernel.shmmax=65536",
            "--group-add",
            "extra",
        ],
        "ulimit -Hn; cat /proc/self/oom_score_adj /proc/sys/kernel/shmmax; id -G",
    );
    assert_eq!(all, "2048\n400\n65536\n0 2000");
    if !cap_sys_resource() {
        let out = d.docker(&[
            "run",
            "--rm",
            "--runtime",
            "runc",
            "--oom-score-adj",
            "-400",
            "busybox",
            "true",
        ]);
        assert!(
            out.stderr
                .contains("cannot set the OOM score adjustment to -400"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn added_groups_follow_the_users_own_in_the_container_and_its_execs() {
    let d = TestDaemon::with_busybox(&[]);
    for cli in ["docker", "berth"] {
        let groups = run(
            &d,
            cli,
            &["--group-add", "extra", "--group-add", "4242"],
            "id -G",
        );
        assert_eq!(groups, "0 2000 4242", "{cli}");
    }
    let id = d
        .docker(&[
            "run",
            "-d",
            "--group-add",
            "extra",
            "--group-add",
            "4242",
            "busybox",
            "sleep",
            "100",
        ])
        .ok();
    let id = id.trim();
    assert_eq!(
        d.docker(&["exec", id, "id", "-G"]).ok().trim(),
        "0 2000 4242"
    );
    // u1 is in `extra` already; the numeric group is added after it.
    assert_eq!(
        d.docker(&["exec", "-u", "u1", id, "id", "-G"]).ok().trim(),
        "1000 2000 4242"
    );
    assert_eq!(
        d.inspect(id, "{{json .HostConfig.GroupAdd}}"),
        r#"["extra","4242"]"#
    );
    d.docker(&["rm", "-f", id]).ok();
    let plain = d.docker(&["create", "busybox", "true"]).ok();
    assert_eq!(
        d.inspect(plain.trim(), "{{json .HostConfig.GroupAdd}}"),
        "null"
    );
    let out = d.docker(&["run", "--rm", "--group-add", "nosuch", "busybox", "true"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("unable to find group nosuch: no matching entries in group file"),
        "{}",
        out.stderr
    );
}
