//! Containers through the stock docker CLI and berth: run, exit codes, logs, stop, limits.

mod common;

use common::TestDaemon;

#[test]
fn run_output_exit_codes_and_options() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    assert_eq!(
        d.docker(&["run", "--rm", "busybox", "echo", "hi"]).ok(),
        "hi\n"
    );
    let out = d.docker(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
    ]);
    assert_eq!((out.code, out.stdout.as_str()), (3, "out\n"));
    assert!(
        out.stderr.contains("err"),
        "stderr is kept apart: {}",
        out.stderr
    );
    let out = d.docker(&["run", "--rm", "busybox", "nosuchcmd"]);
    assert!(
        !out.stderr.contains("Error waiting for container"),
        "a failed start is reported once: {}",
        out.stderr
    );
    out.fails_with(127, "executable file not found in $PATH");
    // A missing working directory is made (owned by root), as Docker does; a file is refused.
    assert_eq!(
        d.docker(&[
            "run",
            "--rm",
            "-w",
            "/new/dir",
            "busybox",
            "sh",
            "-c",
            "pwd; ls -ld ."
        ])
        .ok()
        .split_whitespace()
        .take(4)
        .collect::<Vec<_>>(),
        ["/new/dir", "drwxr-xr-x", "2", "root"]
    );
    d.docker(&["run", "--rm", "-w", "/etc/passwd", "busybox", "true"])
        .fails_with(125, "Cannot mkdir: /etc/passwd is not a directory");
    let out = d.docker(&["run", "--rm", "nosuchimage"]);
    assert_eq!(out.code, 125);
    let env = d
        .docker(&[
            "run",
            "--rm",
            "-e",
            "A=1",
            "-w",
            "/tmp",
            "--hostname",
            "box",
            "busybox",
            "sh",
            "-c",
            "echo $A $(pwd) $(hostname) $PATH",
        ])
        .ok();
    assert_eq!(
        env,
        "1 /tmp box /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
    );
    // What a container writes is its size (ps -s, inspect -s), on top of its image's.
    d.docker(&[
        "run",
        "--name",
        "sz",
        "busybox",
        "sh",
        "-c",
        "echo data > /file",
    ])
    .ok();
    let size = d
        .docker(&[
            "ps",
            "-a",
            "-s",
            "--filter",
            "name=sz",
            "--format",
            "{{.Size}}",
        ])
        .ok();
    assert!(size.starts_with("5B (virtual "), "{size}");
    assert_eq!(
        d.docker(&["inspect", "-s", "-f", "{{.SizeRw}}", "sz"]).ok(),
        "5\n"
    );
    let ps = d.berth(&["ps", "-a", "-s"]).ok();
    assert!(ps.lines().next().unwrap().ends_with("SIZE"), "{ps}");
    assert!(ps.contains("5B (virtual "), "{ps}");
    d.docker(&["rm", "sz"]).ok();
    // The default PATH is the process's, not part of the container's config.
    let c = d.docker(&["create", "-e", "X=1", "busybox", "true"]).ok();
    assert_eq!(
        d.docker(&["inspect", "-f", "{{json .Config.Env}}", c.trim()])
            .ok(),
        "[\"X=1\"]\n"
    );
    let nets = "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}";
    assert_eq!(d.docker(&["inspect", "-f", nets, c.trim()]).ok(), "none\n");
    d.docker(&["rm", c.trim()]).ok();
    let c = d
        .docker(&["create", "--network", "host", "busybox", "true"])
        .ok();
    assert_eq!(d.docker(&["inspect", "-f", nets, c.trim()]).ok(), "host\n");
    d.docker(&["rm", c.trim()]).ok();
    assert_eq!(
        d.docker(&["run", "--rm", "-u", "u1", "busybox", "id"]).ok(),
        "uid=1000(u1) gid=1000(g1) groups=2000(extra)\n"
    );
    assert_eq!(
        d.docker(&["run", "--rm", "-u", "1000:2000", "busybox", "id", "-g"])
            .ok(),
        "2000\n"
    );
    assert_eq!(
        d.docker(&["run", "--rm", "--entrypoint", "echo", "busybox", "x"])
            .ok(),
        "x\n"
    );
    // Isolation: own pid namespace, /etc files, masked /proc paths, read-only /sys.
    assert_eq!(
        d.docker(&["run", "--rm", "busybox", "sh", "-c", "echo $$"])
            .ok(),
        "1\n"
    );
    let hosts = d
        .docker(&["run", "--rm", "busybox", "cat", "/etc/hosts"])
        .ok();
    assert!(hosts.starts_with("127.0.0.1\tlocalhost"), "{hosts}");
    let out = d.docker(&["run", "--rm", "busybox", "touch", "/sys/x"]);
    assert_ne!(out.code, 0);
    let caps = d.sh("grep CapEff /proc/self/status").ok();
    assert!(
        caps.contains("00000000a80425fb"),
        "Docker's default capabilities: {caps}"
    );
    // Stdin.
    assert_eq!(
        d.docker_stdin(&["run", "--rm", "-i", "busybox", "cat"], b"piped\n")
            .ok(),
        "piped\n"
    );
    // Networks: none and host work; bridge says it is not there yet.
    assert_eq!(
        d.docker(&[
            "run",
            "--rm",
            "--network",
            "none",
            "busybox",
            "sh",
            "-c",
            "ls /sys/class/net"
        ])
        .ok(),
        "lo\n"
    );
    d.docker(&["run", "--rm", "--network", "bridge", "busybox", "true"])
        .fails_with(125, "network bridge not found");
    // The same through berth's own CLI.
    assert_eq!(
        d.berth(&["run", "--rm", "busybox", "echo", "from-berth"])
            .ok(),
        "from-berth\n"
    );
    assert_eq!(
        d.berth(&["run", "--rm", "busybox", "sh", "-c", "exit 7"])
            .code,
        7
    );
    // --rm left nothing behind.
    assert_eq!(d.docker(&["ps", "-aq"]).ok(), "");
}

#[test]
fn lifecycle_logs_stop_kill_rm() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let id = d.docker(&["run", "-d", "--name", "web", "-l", "app=x", "busybox", "sh", "-c", "echo one; echo two >&2; trap 'echo got-term; exit 0' TERM; trap 'exit 5' USR1; while true; do sleep 0.1; done"]).ok();
    let id = id.trim();
    assert_eq!(id.len(), 64);
    let ps = d.docker(&["ps"]).ok();
    assert!(ps.starts_with("CONTAINER ID   IMAGE     COMMAND"), "{ps}");
    assert!(ps.contains("web") && ps.contains("Up "), "{ps}");
    assert_eq!(
        d.docker(&["ps", "-q", "--filter", "label=app=x"])
            .ok()
            .trim(),
        &id[..12]
    );
    assert_eq!(
        d.docker(&["ps", "-q", "--filter", "name=nomatch"])
            .ok()
            .trim(),
        ""
    );
    assert_eq!(
        d.docker(&["ps", "-q", "--filter", "status=running"])
            .ok()
            .trim(),
        &id[..12]
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    let logs = d.docker(&["logs", "web"]);
    assert_eq!(logs.stdout, "one\n");
    assert_eq!(logs.stderr, "two\n");
    assert_eq!(d.docker(&["logs", "--tail", "1", "web"]).stderr, "two\n");
    let ts = d.docker(&["logs", "-t", "web"]).stdout;
    assert!(ts.contains("Z one"), "{ts}");
    let later = d.docker(&["logs", "--since", "2999-01-01T00:00:00Z", "web"]);
    assert_eq!((later.stdout.as_str(), later.stderr.as_str()), ("", ""));
    assert_eq!(
        d.docker(&["logs", "--until", "2999-01-01T00:00:00Z", "web"])
            .stdout,
        "one\n"
    );
    assert_eq!(
        d.docker(&["logs", "--until", "1000000000", "web"]).stdout,
        ""
    );
    d.docker(&["rm", "web"])
        .fails_with(1, "You cannot remove a running container");
    // Graceful stop: the trap runs and the exit code is the container's.
    d.docker(&["stop", "web"]).ok();
    assert!(d.docker(&["logs", "web"]).stdout.contains("got-term"));
    assert_eq!(
        d.docker(&[
            "inspect",
            "--format",
            "{{.State.Status}} {{.State.ExitCode}}",
            "web"
        ])
        .ok()
        .trim(),
        "exited 0"
    );
    // Start again, then a stop that must escalate to SIGKILL (sleep as PID 1 ignores TERM).
    let id2 = d.docker(&["run", "-d", "busybox", "sleep", "100"]).ok();
    // top: the host's ps, only the container's processes.
    let top = d.docker(&["top", id2.trim()]).ok();
    let lines: Vec<&str> = top.lines().collect();
    assert!(
        lines[0].starts_with("UID ") && lines[0].contains(" PID "),
        "{top}"
    );
    assert_eq!(lines.len(), 2, "{top}");
    assert!(lines[1].ends_with("sleep 100"), "{top}");
    let top = d.berth(&["top", id2.trim(), "-o", "pid,comm"]).ok();
    assert!(
        top.starts_with("PID ") && top.trim_end().ends_with("sleep"),
        "{top}"
    );
    d.docker(&["top", "web"]).fails_with(1, "is not running");
    let t = std::time::Instant::now();
    d.docker(&["stop", "-t", "1", id2.trim()]).ok();
    assert!(t.elapsed() >= std::time::Duration::from_millis(900));
    assert_eq!(
        d.docker(&["inspect", "--format", "{{.State.ExitCode}}", id2.trim()])
            .ok()
            .trim(),
        "137"
    );
    d.docker(&["start", "web"]).ok();
    d.docker(&["kill", "-s", "USR1", "web"]).ok();
    assert_eq!(d.docker(&["wait", "web"]).ok().trim(), "5");
    d.docker(&["kill", "web"])
        .fails_with(1, "Cannot kill container: web: Container");
    d.docker(&["kill", "nosuch"]).fails_with(
        1,
        "Cannot kill container: nosuch: No such container: nosuch",
    );
    // logs -f returns when the container ends.
    let cid = d
        .docker(&["run", "-d", "busybox", "sh", "-c", "sleep 0.5; echo late"])
        .ok();
    assert_eq!(d.docker(&["logs", "-f", cid.trim()]).stdout, "late\n");
    d.docker(&["rm", "-f", "web"]).ok();
    let out = d.docker(&["inspect", "web"]);
    assert_ne!(out.code, 0);
    // Name conflicts are Docker's 409.
    d.docker(&["create", "--name", "dup", "busybox", "true"])
        .ok();
    d.docker(&["create", "--name", "dup", "busybox", "true"])
        .fails_with(1, "Conflict. The container name \"/dup\" is already in use");
}

#[test]
fn limits_are_enforced_and_visible() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    // tail keeps the whole newline-free stream in memory: it must be OOM-killed.
    let out = d.docker(&[
        "run",
        "--name",
        "oom",
        "--memory",
        "32m",
        "busybox",
        "tail",
        "/dev/zero",
    ]);
    assert_eq!(out.code, 137, "{}", out.stderr);
    let st = d
        .docker(&[
            "inspect",
            "--format",
            "{{.State.OOMKilled}} {{.HostConfig.Memory}}",
            "oom",
        ])
        .ok();
    assert_eq!(st.trim(), "true 33554432");
    // A fork bomb stops at the pids limit.
    let out = d.docker(&[
        "run",
        "--rm",
        "--pids-limit",
        "8",
        "busybox",
        "sh",
        "-c",
        "for i in $(seq 30); do sleep 2 & done; wait; echo done",
    ]);
    assert!(
        out.stderr.contains("can't fork"),
        "pids limit not enforced: {} / {}",
        out.stdout,
        out.stderr
    );
    let cfg = d
        .docker(&[
            "create",
            "--cpus",
            "0.5",
            "--cpu-shares",
            "512",
            "--pids-limit",
            "20",
            "busybox",
            "true",
        ])
        .ok();
    let h = d
        .docker(&[
            "inspect",
            "--format",
            "{{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}}",
            cfg.trim(),
        ])
        .ok();
    assert_eq!(h.trim(), "500000000 512 20");
    d.docker(&["run", "--rm", "--memory", "1m", "busybox", "true"])
        .fails_with(125, "Minimum memory limit allowed is 6MB");
    // The container sees its cgroup read-only: it cannot raise its own limits (v1 or v2).
    let out = d
        .docker(&[
            "run",
            "--rm",
            "--memory",
            "64m",
            "--pids-limit",
            "50",
            "busybox",
            "sh",
            "-c",
            "for f in /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max \
                      /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max; do \
               [ -e $f ] || continue; echo seen; (echo 999999488 > $f) 2>/dev/null && echo WROTE $f; \
             done; true",
        ])
        .ok();
    assert_eq!(
        out, "seen\nseen\n",
        "limits must not be writable from inside"
    );
}

#[test]
fn containers_survive_daemon_kill() {
    let mut d = TestDaemon::start();
    d.import_busybox("busybox");
    let id = d
        .docker(&[
            "run",
            "-d",
            "busybox",
            "sh",
            "-c",
            "trap 'echo bye; exit 4' TERM; echo before; while true; do sleep 0.1; done",
        ])
        .ok();
    let id = id.trim().to_string();
    // The monitor runs from a sealed in-memory copy of berth (CVE-2019-5736), not the file.
    let pid = d.docker(&["inspect", "-f", "{{.State.Pid}}", &id]).ok();
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).unwrap();
    let ppid = status
        .lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .unwrap()
        .trim();
    let exe = std::fs::read_link(format!("/proc/{ppid}/exe")).unwrap();
    assert!(
        exe.to_string_lossy().starts_with("/memfd:berth"),
        "monitor runs {exe:?}"
    );
    d.kill9();
    d.spawn();
    let ps = d.docker(&["ps", "-q"]).ok();
    assert_eq!(ps.trim(), &id[..12], "running container found again");
    assert!(d.docker(&["logs", &id]).stdout.contains("before"));
    d.docker(&["stop", &id]).ok();
    assert_eq!(d.docker(&["wait", &id]).ok().trim(), "4");
    assert!(d.docker(&["logs", &id]).stdout.contains("bye"));
}

#[test]
fn events_stream_container_lifecycle() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let since = common::now();
    d.docker(&["run", "--rm", "--name", "ev", "busybox", "true"])
        .ok();
    let until = common::now() + 1;
    let ev = d
        .docker(&[
            "events",
            "--since",
            &since.to_string(),
            "--until",
            &until.to_string(),
            "--filter",
            "type=container",
            "--format",
            "{{.Action}}",
        ])
        .ok();
    let actions: Vec<&str> = ev.lines().collect();
    assert_eq!(
        actions,
        ["create", "attach", "start", "die", "destroy"],
        "{ev}"
    );
    // berth's own CLI prints Docker's default event lines.
    let ev = d
        .berth(&[
            "events",
            "--since",
            &since.to_string(),
            "--until",
            &until.to_string(),
            "--filter",
            "event=die",
        ])
        .ok();
    let line = ev.lines().next().unwrap_or_default();
    let fields: Vec<&str> = line.splitn(5, ' ').collect();
    assert_eq!(fields[1..3], ["container", "die"], "{ev}");
    assert!(
        fields[4].starts_with("(execDuration=0, exitCode=0, image=busybox, name=ev"),
        "{ev}"
    );
    assert!(
        d.berth(&["info"])
            .ok()
            .contains(" Storage Driver: overlay2"),
        "berth info"
    );
}

#[test]
fn tty_gives_the_container_a_terminal() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let cmd = format!(
        "docker -H {} run --rm -t busybox sh -c 'tty; echo done'",
        d.host()
    );
    let out = d.in_terminal(&cmd, 24, 80);
    assert!(
        out.stdout.contains("/dev/pts/0"),
        "{} / {}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stdout.contains("done\r"),
        "output went through the container terminal (onlcr): {:?}",
        out.stdout
    );
    // Resizing reaches the container's terminal.
    let id = d
        .docker(&[
            "run",
            "-d",
            "-t",
            "busybox",
            "sh",
            "-c",
            "sleep 1; stty size",
        ])
        .ok();
    let (status, _, body) = d.http(
        "POST",
        &format!("/containers/{}/resize?h=30&w=100", id.trim()),
        b"",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(d.docker(&["wait", id.trim()]).ok().trim(), "0");
    assert_eq!(d.docker(&["logs", id.trim()]).ok(), "30 100\r\n");
    let ev = d.events(
        "event=resize",
        "{{.Actor.Attributes.height}}x{{.Actor.Attributes.width}}",
    );
    assert!(ev.lines().any(|l| l == "30x100"), "{ev}");
}

#[test]
fn init_reaps_forwards_signals_and_exits_with_the_child_code() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let ps = d
        .docker(&["run", "--rm", "--init", "busybox", "ps", "-o", "pid,args"])
        .ok();
    assert!(
        ps.contains("1 /sbin/docker-init -- ps -o pid,args"),
        "the init is PID 1 and runs the command: {ps}"
    );
    // An orphan reparented to PID 1 is reaped, never left as a zombie.
    let ps = d
        .docker(&[
            "run",
            "--rm",
            "--init",
            "busybox",
            "sh",
            "-c",
            "(sleep 0.2 &); sleep 1; ps -o stat,args",
        ])
        .ok();
    assert!(!ps.lines().any(|l| l.trim_start().starts_with('Z')), "{ps}");
    d.docker(&["run", "--rm", "--init", "busybox", "sh", "-c", "exit 7"])
        .fails_with(7, "");
    d.docker(&["run", "--rm", "--init", "busybox", "nosuchcmd"])
        .fails_with(127, "nosuchcmd");
    // `stop` sends SIGTERM to the init, which forwards it: sh traps it and exits 5.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "trap",
        "--init",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 5' TERM; while true; do sleep 0.1; done",
    ])
    .ok();
    std::thread::sleep(std::time::Duration::from_millis(300));
    d.docker(&["stop", "trap"]).ok();
    assert_eq!(
        d.docker(&[
            "inspect",
            "-f",
            "{{.State.ExitCode}} {{.HostConfig.Init}}",
            "trap"
        ])
        .ok(),
        "5 true\n"
    );
}

#[test]
fn runs_on_a_cgroup_v2_only_host() {
    let d = TestDaemon::start_cgroup2();
    d.import_busybox("busybox");
    assert_eq!(
        d.docker(&["info", "--format", "{{.CgroupVersion}}"]).ok(),
        "2\n"
    );
    // A cgroup namespace: the container sees itself at the root of the hierarchy (here the
    // host's v1 hierarchies still exist in the kernel, so they are listed too).
    let cgroups = d
        .docker(&["run", "--rm", "busybox", "cat", "/proc/self/cgroup"])
        .ok();
    assert!(cgroups.lines().any(|l| l == "0::/"), "{cgroups}");
    assert!(cgroups.lines().all(|l| l.ends_with(":/")), "{cgroups}");
    let memory = d.docker(&["info", "--format", "{{.MemoryLimit}}"]).ok();
    let out = d.docker(&[
        "run",
        "--rm",
        "--memory",
        "64m",
        "busybox",
        "cat",
        "/sys/fs/cgroup/memory.max",
    ]);
    if memory.trim() == "true" {
        assert_eq!(out.ok(), "67108864\n");
    } else {
        // Here the memory controller is still bound to a v1 hierarchy of the host.
        out.fails_with(125, "the memory cgroup controller is not available");
    }
    // The hierarchy is read-only inside.
    let out = d
        .sh("mkdir /sys/fs/cgroup/escape 2>/dev/null && echo made; grep ' /sys/fs/cgroup ' /proc/mounts")
        .ok();
    assert!(
        !out.contains("made") && out.contains("cgroup2 ro,"),
        "{out}"
    );
}
