//! Shared namespaces, end to end: `--pid`, `--ipc`, `--uts` and `--cgroupns` through the stock
//! docker CLI, docker-py and berth, with Docker's messages for what cannot be shared.

mod common;

use std::process::Command;

use common::TestDaemon;

/// `readlink /proc/self/ns/<ns>` of this (the host's) process.
fn host_ns(ns: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{ns}"))
        .unwrap()
        .display()
        .to_string()
}

/// A running `sleep` container `name`, with `opts`; returns its ID.
fn sleeper(d: &TestDaemon, name: &str, opts: &[&str]) -> String {
    let mut args = vec!["run", "-d", "--name", name];
    args.extend(opts);
    args.extend(["busybox", "sleep", "1000"]);
    d.docker(&args).ok().trim().to_string()
}

/// Runs a docker-py script against the daemon (`c` is the client); returns its output.
fn docker_py(d: &TestDaemon, script: &str) -> String {
    let code = format!(
        "import docker\nc = docker.DockerClient(base_url='{}')\n{script}",
        d.host()
    );
    let out = Command::new("python3")
        .args(["-c", &code])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "docker-py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_container_in_another_s_pid_namespace_sees_its_processes_and_ends_with_it() {
    let d = TestDaemon::with_busybox(&[]);
    let a = sleeper(&d, "donor", &[]);
    let ps = d
        .docker(&[
            "run",
            "--rm",
            "--pid",
            "container:donor",
            "busybox",
            "busybox",
            "ps",
        ])
        .ok();
    assert!(ps.contains("sleep 1000"), "{ps}");
    // Its own process is not PID 1 there: the donor's is.
    let ps = d
        .berth(&[
            "run",
            "--rm",
            "--pid",
            "container:donor",
            "busybox",
            "busybox",
            "ps",
            "-o",
            "pid,args",
        ])
        .ok();
    assert!(
        ps.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["1", "sleep", "1000"]),
        "{ps}"
    );
    let py = docker_py(
        &d,
        "print(c.containers.run('busybox', ['busybox', 'ps'], pid_mode='container:donor', remove=True).decode())",
    );
    assert!(py.contains("sleep 1000"), "{py}");

    sleeper(&d, "joiner", &["--pid", "container:donor"]);
    assert_eq!(
        d.inspect("joiner", "{{.HostConfig.PidMode}}"),
        format!("container:{a}")
    );
    assert_eq!(d.inspect("donor", "{{.HostConfig.PidMode}}"), "");
    // The stop signal reaches the joiner's own process, not the donor's PID 1.
    d.docker(&["kill", "-s", "KILL", "joiner"]).ok();
    assert_eq!(d.docker(&["wait", "joiner"]).ok().trim(), "137");
    assert_eq!(d.inspect("donor", "{{.State.Running}}"), "true");

    d.docker(&["start", "joiner"]).ok();
    // The kernel ends a PID namespace's processes with its init.
    d.docker(&["kill", "donor"]).ok();
    assert_eq!(d.docker(&["wait", "joiner"]).ok().trim(), "137");
    d.docker(&["start", "joiner"]).fails_with(
        1,
        &format!("failed to join PID namespace: container {a} is not running"),
    );
    // A restarted donor is joined anew.
    d.docker(&["start", "donor"]).ok();
    d.docker(&["start", "joiner"]).ok();
    let ps = d
        .docker(&["exec", "joiner", "busybox", "ps", "-o", "pid,args"])
        .ok();
    assert!(ps.lines().any(|l| l.trim() == "1 sleep 1000"), "{ps}");
}

#[test]
fn the_host_pid_namespace_has_the_host_s_pid_1() {
    let d = TestDaemon::with_busybox(&[]);
    let comm = std::fs::read_to_string("/proc/1/comm").unwrap();
    let out = d
        .sh_with(
            &["--pid", "host"],
            "busybox cat /proc/1/comm; busybox readlink /proc/self/ns/pid",
        )
        .ok();
    assert_eq!(out, format!("{comm}{}\n", host_ns("pid")));
    assert_ne!(d.sh("busybox cat /proc/1/comm").ok(), comm);
}

#[test]
fn a_shareable_ipc_namespace_and_its_shm_are_joined() {
    let d = TestDaemon::with_busybox(&[]);
    let a = sleeper(&d, "donor", &["--ipc", "shareable"]);
    d.docker(&[
        "exec",
        "donor",
        "busybox",
        "sh",
        "-c",
        "echo shared > /dev/shm/f",
    ])
    .ok();
    let ns_a = d
        .docker(&["exec", "donor", "busybox", "readlink", "/proc/self/ns/ipc"])
        .ok();
    let out = d
        .sh_with(
            &["--ipc", "container:donor"],
            "busybox cat /dev/shm/f; busybox readlink /proc/self/ns/ipc",
        )
        .ok();
    assert_eq!(out, format!("shared\n{ns_a}"));
    let py = docker_py(
        &d,
        "print(c.containers.run('busybox', ['busybox', 'cat', '/dev/shm/f'], ipc_mode='container:donor', remove=True).decode(), end='')",
    );
    assert_eq!(py, "shared\n");
    assert_eq!(d.inspect("donor", "{{.HostConfig.IpcMode}}"), "shareable");
    let j = d
        .docker(&["create", "--ipc", "container:donor", "busybox", "true"])
        .ok();
    assert_eq!(
        d.inspect(j.trim(), "{{.HostConfig.IpcMode}}"),
        format!("container:{a}")
    );
    // The daemon's tmpfs goes when the donor ends.
    let shm = d.root.join("containers").join(&a).join("mounts/shm");
    let mounted = || {
        std::fs::read_to_string("/proc/self/mounts")
            .unwrap()
            .contains(shm.to_str().unwrap())
    };
    assert!(mounted(), "a daemon-side /dev/shm");
    d.docker(&["stop", "-t", "0", "donor"]).ok();
    assert!(!mounted(), "unmounted at exit");
}

#[test]
fn a_private_ipc_donor_and_missing_or_stopped_donors_are_refused_with_docker_s_messages() {
    let d = TestDaemon::with_busybox(&[]);
    let p = sleeper(&d, "priv", &[]);
    assert_eq!(d.inspect("priv", "{{.HostConfig.IpcMode}}"), "private");
    d.sh_with(&["--ipc", "container:priv"], "true").fails_with(
        125,
        &format!("failed to join IPC namespace: container {p}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)"),
    );
    d.sh_with(&["--pid", "container:nosuch"], "true")
        .fails_with(
            125,
            "failed to join PID namespace: No such container: nosuch",
        );
    d.docker(&["stop", "-t", "0", "priv"]).ok();
    d.sh_with(&["--ipc", "container:priv"], "true").fails_with(
        125,
        &format!("failed to join IPC namespace: container {p} is not running"),
    );
}

#[test]
fn ipc_none_has_no_shm_and_ipc_host_is_the_host_s() {
    let d = TestDaemon::with_busybox(&[]);
    let mounts = "busybox grep -c ' /dev/shm ' /proc/self/mounts; true";
    assert_eq!(d.sh_with(&["--ipc", "none"], mounts).ok(), "0\n");
    assert_eq!(d.sh(mounts).ok(), "1\n");
    assert_ne!(
        d.sh("busybox readlink /proc/self/ns/ipc").ok().trim(),
        host_ns("ipc")
    );

    let file = format!("/dev/shm/berth-test-{}", std::process::id());
    std::fs::write(&file, "from the host").unwrap();
    let name = file.trim_start_matches("/dev/shm/");
    let out = d.sh_with(
        &["--ipc", "host"],
        &format!("busybox cat /dev/shm/{name}; echo; busybox readlink /proc/self/ns/ipc"),
    );
    std::fs::remove_file(&file).unwrap();
    assert_eq!(out.ok(), format!("from the host\n{}\n", host_ns("ipc")));
}

#[test]
fn uts_host_keeps_the_host_s_name_and_conflicts_with_a_hostname() {
    let d = TestDaemon::with_busybox(&[]);
    let host = nix_hostname();
    assert_eq!(
        d.sh_with(&["--uts", "host"], "busybox hostname").ok(),
        format!("{host}\n")
    );
    assert_ne!(d.sh("busybox hostname").ok(), format!("{host}\n"));
    let out = d.berth(&[
        "run", "--rm", "--uts", "host", "--ipc", "none", "busybox", "busybox", "hostname",
    ]);
    assert_eq!(out.ok(), format!("{host}\n"));
    d.sh_with(&["--uts", "host", "-h", "other"], "true")
        .fails_with(125, "conflicting options: hostname and the UTS mode");
    let id = d
        .docker(&["create", "--uts", "host", "busybox", "true"])
        .ok();
    assert_eq!(d.inspect(id.trim(), "{{.HostConfig.UTSMode}}"), "host");
}

fn nix_hostname() -> String {
    String::from_utf8(Command::new("hostname").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string()
}

/// `/proc/self/cgroup` of a container with `opts`, and its ID.
fn cgroups(d: &TestDaemon, opts: &[&str]) -> (String, String) {
    let mut args = vec!["run", "-d"];
    args.extend(opts);
    args.extend(["busybox", "cat", "/proc/self/cgroup"]);
    let id = d.docker(&args).ok().trim().to_string();
    d.docker(&["wait", &id]).ok();
    (d.docker(&["logs", &id]).ok(), id)
}

#[test]
fn the_cgroup_namespace_is_the_host_s_on_v1_unless_private() {
    let d = TestDaemon::with_busybox(&[]);
    let (own, id) = cgroups(&d, &[]);
    assert!(own.contains(&format!("/berth/{id}")), "{own}");
    assert_eq!(d.inspect(&id, "{{.HostConfig.CgroupnsMode}}"), "host");
    let (private, id) = cgroups(&d, &["--cgroupns", "private"]);
    assert!(!private.contains("/berth/"), "{private}");
    assert!(private.lines().all(|l| l.ends_with(":/")), "{private}");
    assert_eq!(d.inspect(&id, "{{.HostConfig.CgroupnsMode}}"), "private");
}

#[test]
fn the_cgroup_namespace_is_private_on_v2_unless_host() {
    let d = TestDaemon::start_cgroup2();
    d.import_busybox("busybox");
    // The kernel lists the host's v1 hierarchies too: the v2 one is the container's.
    let (own, id) = cgroups(&d, &[]);
    assert!(own.ends_with("\n0::/\n"), "{own}");
    assert_eq!(d.inspect(&id, "{{.HostConfig.CgroupnsMode}}"), "private");
    let (host, id) = cgroups(&d, &["--cgroupns", "host"]);
    assert!(host.ends_with(&format!("\n0::/berth/{id}\n")), "{host}");
}

#[test]
fn bad_modes_get_docker_s_messages() {
    let d = TestDaemon::start();
    for (field, value, message) in [
        ("PidMode", "shareable", "invalid PID mode: shareable"),
        ("PidMode", "container:", "invalid PID mode: container:"),
        ("UTSMode", "shareable", "invalid UTS mode: shareable"),
        ("IpcMode", "bogus", "invalid IPC mode: bogus"),
        ("CgroupnsMode", "x", "invalid cgroup namespace mode: x"),
    ] {
        let body = format!(r#"{{"Image":"busybox","HostConfig":{{"{field}":"{value}"}}}}"#);
        let (status, _, text) = d.http("POST", "/containers/create", body.as_bytes());
        assert_eq!(status, 400, "{field}={value}: {text}");
        assert!(text.contains(message), "{field}={value}: {text}");
    }
    d.berth(&["run", "--pid", "bogus", "busybox"])
        .fails_with(125, "--pid: invalid PID mode");
    d.berth(&["create", "--cgroupns", "bogus", "busybox"])
        .fails_with(1, "--cgroupns: invalid CGROUP mode");
}

/// Lines appended to the host's account files, taken out again on drop.
struct Account {
    name: String,
    added: Vec<(&'static str, String)>,
}

impl Account {
    /// An account with a range of subordinate IDs far from any other's.
    fn new() -> Account {
        let name = format!("btns{}", std::process::id());
        let mut a = Account {
            name: name.clone(),
            added: Vec::new(),
        };
        a.append(
            "/etc/passwd",
            format!("{name}:x:62999:62999::/nonexistent:/bin/false"),
        );
        a.append("/etc/group", format!("{name}:x:62999:"));
        a.append("/etc/subuid", format!("{name}:3000000000:65536"));
        a.append("/etc/subgid", format!("{name}:3000000000:65536"));
        a
    }

    fn append(&mut self, path: &'static str, line: String) {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let sep = if text.is_empty() || text.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        let line = format!("{sep}{line}\n");
        std::fs::write(path, format!("{text}{line}")).unwrap();
        self.added.push((path, line));
    }
}

impl Drop for Account {
    fn drop(&mut self) {
        for (path, line) in self.added.drain(..).rev() {
            if let Ok(text) = std::fs::read_to_string(path) {
                let _ = std::fs::write(path, text.replacen(&line, "", 1));
            }
        }
    }
}

#[test]
fn the_host_pid_namespace_is_refused_under_userns_remap() {
    let a = Account::new();
    let d = TestDaemon::with_busybox(&["--userns-remap", &a.name]);
    d.sh_with(&["--pid", "host"], "true").fails_with(
        125,
        "cannot share the host PID namespace when user namespaces are enabled",
    );
    d.sh_with(
        &["--pid", "host", "--userns", "host"],
        "busybox readlink /proc/self/ns/pid",
    )
    .ok();
    // What berth cannot do under the remapping yet is refused by name.
    sleeper(&d, "donor", &[]);
    d.sh_with(&["--ipc", "container:donor"], "true").fails_with(
        125,
        "berth cannot join the IPC namespace of another container under --userns-remap yet",
    );
    drop(d);
}

#[test]
fn a_joiner_s_processes_end_with_it_in_a_shared_pid_namespace() {
    let d = TestDaemon::with_busybox(&[]);
    sleeper(&d, "donor", &[]);
    d.docker(&[
        "run",
        "-d",
        "--name",
        "joiner",
        "--pid",
        "container:donor",
        "busybox",
        "busybox",
        "sh",
        "-c",
        "busybox sleep 1001 & exec busybox sleep 1002",
    ])
    .ok();
    let ps = || {
        d.docker(&["exec", "donor", "busybox", "ps", "-o", "args"])
            .ok()
    };
    // The shell forks its child after the start returned: polled for, as no event tells.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !ps().contains("sleep 1001") {
        assert!(std::time::Instant::now() < deadline, "{}", ps());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    d.docker(&["kill", "joiner"]).ok();
    d.docker(&["wait", "joiner"]).ok();
    // As runc, which kills what is left in the container's cgroup when its PID namespace is
    // not its own.
    let after = ps();
    assert!(!after.contains("sleep 1001"), "{after}");
}

#[test]
fn runc_shares_the_namespaces_as_the_embedded_runtime_does() {
    let d = TestDaemon::with_busybox(&["--add-runtime", "runc=/usr/sbin/runc"]);
    sleeper(&d, "donor", &["--ipc", "shareable"]);
    d.docker(&[
        "exec",
        "donor",
        "busybox",
        "sh",
        "-c",
        "echo shared > /dev/shm/f",
    ])
    .ok();
    let out = d
        .sh_with(
            &[
                "--runtime",
                "runc",
                "--pid",
                "container:donor",
                "--ipc",
                "container:donor",
            ],
            "busybox cat /dev/shm/f; busybox ps -o args | busybox grep -c '^sleep 1000'",
        )
        .ok();
    assert_eq!(out, "shared\n1\n");
    let host = nix_hostname();
    let out = d.sh_with(
        &["--runtime", "runc", "--uts", "host", "--pid", "host"],
        "busybox hostname; busybox cat /proc/1/comm",
    );
    assert_eq!(
        out.ok(),
        format!(
            "{host}\n{}",
            std::fs::read_to_string("/proc/1/comm").unwrap()
        )
    );
}

#[test]
fn a_restarting_donor_is_refused_with_docker_s_message() {
    let d = TestDaemon::with_busybox(&[]);
    let id = d
        .docker(&[
            "run",
            "-d",
            "--name",
            "donor",
            "--restart",
            "always",
            "busybox",
            "busybox",
            "false",
        ])
        .ok();
    // Polled until the back-off between restarts is long (1.6 s after the fourth), as no
    // event marks the waits.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let state = d.inspect("donor", "{{.State.Restarting}} {{.RestartCount}}");
        let (restarting, count) = state.split_once(' ').unwrap();
        if restarting == "true" && count.parse::<u32>().unwrap() >= 4 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{state}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    d.sh_with(&["--pid", "container:donor"], "true").fails_with(
        125,
        &format!(
            "failed to join PID namespace: Container {} is restarting, wait until the container is running",
            id.trim()
        ),
    );
}
