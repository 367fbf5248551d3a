//! Debian's docker-compose 1.29 (Python, over docker-py) driving `berth daemon` unchanged, as a
//! user runs it: published ports reached from the test's namespace, names and aliases through
//! the embedded DNS, named volumes across `down` and `down -v`, recreation on change (with the
//! image's anonymous volumes kept), builds, healthchecks gating dependents, the attached `up`'s
//! exit code, and the lifecycle commands. Every daemon runs in a network namespace of its own
//! (each project makes a bridge).

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::{Out, TestDaemon, wait_for};

/// A compose project in a directory of the test's own, driven through docker-compose.
struct Project<'a> {
    d: &'a TestDaemon,
    dir: PathBuf,
    name: &'static str,
}

impl<'a> Project<'a> {
    /// Writes `files` (path, text) under a new project directory of daemon `d`.
    fn new(d: &'a TestDaemon, name: &'static str, files: &[(&str, &str)]) -> Project<'a> {
        let dir = d.dir().join(name);
        for (path, text) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        Project { d, dir, name }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("timeout");
        c.args(["120", "docker-compose", "-p", self.name])
            .args(args)
            .current_dir(&self.dir)
            // As a shell in the directory sets it (`${PWD}` in files).
            .env("PWD", &self.dir)
            .env("DOCKER_HOST", self.d.host())
            .stdin(Stdio::null());
        c
    }

    /// `docker-compose -p NAME ARGS` in the project's directory.
    fn run(&self, args: &[&str]) -> Out {
        self.command(args).output().expect("docker-compose").into()
    }

    /// Like [`Project::run`], asserting success; stdout and stderr together (docker-compose
    /// reports progress on stderr).
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(out.code, 0, "docker-compose {args:?}: {out:?}");
        out.stdout + &out.stderr
    }

    /// `docker-compose exec -T SERVICE sh -c SCRIPT`, asserting success.
    fn sh(&self, service: &str, script: &str) -> String {
        self.run(&["exec", "-T", service, "sh", "-c", script]).ok()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
}

/// A daemon in a namespace of its own with the busybox fixture as `busybox`.
fn daemon() -> TestDaemon {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    d
}

fn names(d: &TestDaemon, what: &str) -> Vec<String> {
    let out = d.docker(&[what, "ls", "--format", "{{.Name}}"]).ok();
    out.lines().map(str::to_string).collect()
}

/// Seconds `f` took, printed for the report's figures.
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let v = f();
    eprintln!("{what}: {:.2} s", start.elapsed().as_secs_f64());
    v
}

const WEB: &str = include_str!("compose_v1/web.yml");

#[test]
fn web_stack_serves_ports_names_and_keeps_named_volumes_until_down_v() {
    let d = daemon();
    let p = Project::new(
        &d,
        "web",
        &[
            ("docker-compose.yml", WEB),
            ("site/index.html", "hello from compose\n"),
            ("client.env", "GREETING=hi\n"),
            (".env", "ROLE=batch\n"),
        ],
    );
    assert!(p.ok(&["config", "--services"]).contains("worker"));
    timed("up -d (3 services)", || p.ok(&["up", "-d"]));
    let ps = p.ok(&["ps"]);
    for name in ["web_web_1", "web_client_1", "web_worker_1"] {
        let line = ps.lines().find(|l| l.starts_with(name)).expect(name);
        assert!(line.contains(" Up "), "{ps}");
    }
    assert!(ps.contains("0.0.0.0:8080->80/tcp"), "{ps}");
    // The published port from the test's namespace, the service by name and by alias from
    // another container through the embedded DNS.
    assert_eq!(d.fetch("http://127.0.0.1:8080/"), "hello from compose\n");
    for host in ["web", "www", "web_web_1"] {
        let got = p.sh("client", &format!("busybox wget -qO- http://{host}/"));
        assert_eq!(got, "hello from compose\n", "{host}");
    }
    assert_eq!(p.sh("client", "echo $GREETING"), "hi\n");
    assert_eq!(p.sh("worker", "echo $ROLE"), "batch\n");
    assert_eq!(p.ok(&["port", "web", "80"]).trim(), "0.0.0.0:8080");
    assert_eq!(
        d.inspect("web_web_1", "{{index .Config.Labels \"tier\"}}"),
        "front"
    );

    // Three clients answer for one name.
    p.ok(&["up", "-d", "--scale", "client=3"]);
    let answer = p.sh("worker", "busybox nslookup client 127.0.0.11");
    assert_eq!(answer.matches("Address: 172.").count(), 3, "{answer}");

    // A named volume outlives `down`; `down -v` takes it.
    p.sh("client", "echo kept > /data/f");
    timed("down (3 services)", || p.ok(&["down"]));
    assert!(names(&d, "volume").contains(&"web_data".to_string()));
    assert!(!names(&d, "network").contains(&"web_default".to_string()));
    p.ok(&["up", "-d"]);
    assert_eq!(p.sh("client", "cat /data/f"), "kept\n");
    p.ok(&["down", "-v"]);
    assert!(!names(&d, "volume").contains(&"web_data".to_string()));
    assert_eq!(d.docker(&["ps", "-aq"]).ok(), "");
}

const BUILT: &str = include_str!("compose_v1/built.yml");

/// docker-compose 1.x reads `ContainerConfig` of the image on every recreate (a `KeyError`
/// without it) to carry the image's anonymous volumes over to the new container.
#[test]
fn build_then_recreate_on_change_keeps_the_images_anonymous_volume() {
    let d = daemon();
    // The step records its memory limit (cgroup v1 or v2): `build --memory` reaches RUN.
    let dockerfile = "FROM busybox\n\
        RUN echo built > /built.txt; cat /sys/fs/cgroup/memory/memory.limit_in_bytes \
        /sys/fs/cgroup/memory.max 2>/dev/null > /limit.txt; true\n\
        VOLUME /cache\nCMD [\"sleep\", \"1000\"]\n";
    let p = Project::new(
        &d,
        "built",
        &[
            ("docker-compose.yml", BUILT),
            ("app/Dockerfile", dockerfile),
        ],
    );
    let out = p.ok(&["build", "--force-rm", "--memory", "64m"]);
    assert!(out.contains("Successfully tagged built:v1"), "{out}");
    p.ok(&["up", "-d"]);
    assert_eq!(
        p.sh("app", "cat /built.txt /limit.txt"),
        "built\n67108864\n"
    );
    p.sh("app", "echo cached > /cache/f");
    let first = d.inspect("built_app_1", "{{.Id}}");

    std::fs::write(
        p.path("docker-compose.yml"),
        BUILT.replace("\"1\"", "\"2\""),
    )
    .unwrap();
    let out = p.ok(&["up", "-d"]);
    assert!(out.contains("Recreating built_app_1"), "{out}");
    assert_ne!(d.inspect("built_app_1", "{{.Id}}"), first);
    assert_eq!(p.sh("app", "echo $REV; cat /cache/f"), "2\ncached\n");
    // Unchanged: left alone.
    let out = p.ok(&["up", "-d"]);
    assert!(out.contains("built_app_1 is up-to-date"), "{out}");
    p.ok(&["down", "-v", "--rmi", "all"]);
    assert!(d.docker(&["image", "inspect", "built:v1"]).code != 0);
}

const GATED: &str = include_str!("compose_v1/gated.yml");

#[test]
fn healthcheck_gates_the_dependent_and_the_attached_up_returns_the_exit_code() {
    let d = daemon();
    let p = Project::new(&d, "gated", &[("docker-compose.yml", GATED)]);
    p.ok(&["up", "-d", "app"]);
    // app starts only once db is healthy: by then db's probe has passed.
    assert_eq!(
        d.inspect("gated_db_1", "{{.State.Health.Status}}"),
        "healthy"
    );
    assert_eq!(d.inspect("gated_app_1", "{{.State.Status}}"), "running");
    assert!(p.ok(&["ps"]).contains("Up (healthy)"));

    let q = Project::new(&d, "attached", &[("docker-compose.yml", ATTACHED)]);
    let out = q.run(&["up", "--abort-on-container-exit", "--exit-code-from", "job"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stdout.contains("job-ran"), "{out:?}");
    assert!(
        out.stdout.contains("attached_job_1 exited with code 3"),
        "{out:?}"
    );
    // The others were stopped on the way out.
    assert_eq!(
        d.inspect("attached_server_1", "{{.State.Running}}"),
        "false"
    );
    let out = q.run(&["run", "--rm", "job", "sh", "-c", "echo one-off; exit 4"]);
    assert_eq!(out.code, 4, "{out:?}");
    assert!(out.stdout.contains("one-off"), "{out:?}");
    q.ok(&["down"]);
    p.ok(&["down"]);
}

/// A service that exits with 3 beside one that runs on.
const ATTACHED: &str = include_str!("compose_v1/attached.yml");

const LIFE: &str = include_str!("compose_v1/life.yml");

fn state(d: &TestDaemon) -> String {
    d.inspect("life_svc_1", "{{.State.Status}}")
}

#[test]
fn lifecycle_commands_and_events() {
    let d = daemon();
    let p = Project::new(&d, "life", &[("docker-compose.yml", LIFE)]);
    p.ok(&["up", "-d"]);
    let events_file = d.dir().join("events.json");
    let mut events = p
        .command(&["events", "--json"])
        .stdout(std::fs::File::create(&events_file).unwrap())
        .spawn()
        .unwrap();
    let logged = |action: &str| {
        let text = std::fs::read_to_string(&events_file).unwrap_or_default();
        text.contains(&format!("\"action\": \"{action}\""))
    };
    // Subscribed once an exec of ours shows.
    wait_for("the event stream", || {
        p.sh("svc", "true");
        std::fs::read_to_string(&events_file).is_ok_and(|t| t.contains("exec_start"))
    });
    p.ok(&["pause"]);
    assert_eq!(state(&d), "paused");
    assert!(p.ok(&["ps"]).contains("Paused"));
    p.ok(&["unpause"]);
    assert_eq!(state(&d), "running");
    p.ok(&["stop"]);
    assert_eq!(state(&d), "exited");
    p.ok(&["start"]);
    p.ok(&["restart"]);
    assert_eq!(state(&d), "running");
    let top = p.ok(&["top"]);
    assert!(top.contains("sleep 1000"), "{top}");
    let logs = p.ok(&["logs", "--no-color"]);
    assert!(logs.matches("started").count() >= 3, "{logs}");
    p.ok(&["kill", "-s", "SIGKILL"]);
    assert_eq!(state(&d), "exited");
    wait_for("the kill event", || logged("kill") && logged("die"));
    let _ = events.kill();
    let _ = events.wait();
    let text = std::fs::read_to_string(&events_file).unwrap();
    for action in ["pause", "unpause", "stop", "start", "restart"] {
        assert!(logged(action), "no {action} event in {text}");
    }
    assert!(text.contains("\"service\": \"svc\""), "{text}");
    p.ok(&["rm", "-f"]);
    assert_eq!(d.docker(&["ps", "-aq"]).ok(), "");
    p.ok(&["down"]);
}

const NETS: &str = include_str!("compose_v1/nets.yml");

#[test]
fn custom_networks_aliases_fixed_address_links_and_shared_namespaces() {
    let d = daemon();
    let p = Project::new(&d, "nets", &[("docker-compose.yml", NETS)]);
    p.ok(&["up", "-d"]);
    let resolve = "for n in db database dblink nets_db_1; do busybox nslookup $n 127.0.0.11 | busybox grep -c 10.50.0.10; done";
    assert_eq!(p.sh("app", resolve), "1\n1\n1\n1\n");
    // side lives in app's network namespace.
    let addr = "busybox ip -4 addr show eth0 | busybox grep -o 'inet [0-9.]*'";
    assert_eq!(p.sh("side", addr), p.sh("app", addr));
    let db = p.sh("db", &format!("{addr}; ulimit -n; ulimit -Hn; cat /proc/sys/net/ipv4/ip_forward; busybox mount | busybox grep -c ' /run type tmpfs'"));
    assert_eq!(db, "inet 10.50.0.10\n1024\n2048\n1\n1\n");
    // On the host's network (the test's namespace here), the host's name everywhere.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(
        p.sh("onhost", "echo $HOSTNAME; cat /etc/hostname"),
        host.repeat(2)
    );
    assert_eq!(
        d.inspect("nets_onhost_1", "{{.Config.Hostname}}"),
        host.trim()
    );
    // The second network (joined through /networks/{id}/connect, where docker-compose names
    // the short ID itself) lists every alias once.
    let id = d.inspect("nets_db_1", "{{.Id}}");
    for net in ["nets_back", "nets_front"] {
        let aliases = d.inspect(
            "nets_db_1",
            &format!("{{{{json (index .NetworkSettings.Networks \"{net}\").Aliases}}}}"),
        );
        assert_eq!(aliases.matches(&id[..12]).count(), 1, "{net}: {aliases}");
        assert!(aliases.contains("\"db\""), "{net}: {aliases}");
    }
    p.ok(&["down"]);
    assert!(names(&d, "network").iter().all(|n| !n.starts_with("nets_")));
}

/// A version 1 file: no project network, the default bridge and legacy links, whose hosts
/// lines and variables an exec sees as the container's main process does.
const LEGACY: &str = include_str!("compose_v1/legacy.yml");

#[test]
fn version_1_file_links_containers_on_the_default_bridge() {
    let d = daemon();
    let p = Project::new(&d, "legacy", &[("docker-compose.yml", LEGACY)]);
    p.ok(&["up", "-d"]);
    assert_eq!(
        d.inspect("legacy_cli_1", "{{.HostConfig.NetworkMode}}"),
        "default"
    );
    let ip = d.inspect(
        "legacy_web_1",
        "{{.NetworkSettings.Networks.bridge.IPAddress}}",
    );
    let hosts = p.sh("cli", "busybox grep -w w2 /etc/hosts");
    assert!(hosts.starts_with(&format!("{ip}\tw2 ")), "{hosts}");
    let env = p.sh("cli", "env | busybox grep ^W2_ | busybox sort");
    let want = [
        "W2_ENV_FLAVOUR=plain".to_string(),
        "W2_NAME=/legacy_cli_1/w2".into(),
        format!("W2_PORT=tcp://{ip}:80"),
        format!("W2_PORT_80_TCP=tcp://{ip}:80"),
        format!("W2_PORT_80_TCP_ADDR={ip}"),
        "W2_PORT_80_TCP_PORT=80".into(),
        "W2_PORT_80_TCP_PROTO=tcp".into(),
    ];
    assert_eq!(env.lines().collect::<Vec<_>>(), want);
    p.ok(&["down", "-t", "1"]);
}

const EXTRAS: &str = include_str!("compose_v1/extras.yml");

#[test]
fn secrets_external_resources_and_the_options_of_run_and_exec() {
    let d = daemon();
    let p = Project::new(
        &d,
        "extras",
        &[
            ("docker-compose.yml", EXTRAS),
            ("pw.txt", "topsecret\n"),
            ("hostdir/.keep", ""),
        ],
    );
    d.docker(&["volume", "create", "outside"]).ok();
    d.docker(&["network", "create", "made-outside"]).ok();
    p.ok(&["up", "--no-start"]);
    assert_eq!(d.inspect("extras_a_1", "{{.State.Status}}"), "created");
    p.ok(&["start"]);
    // A file secret, a local volume bound to a host directory, an external volume.
    let a = "cat /run/secrets/pw; echo from-a > /hv/f; ls -d /ov";
    assert_eq!(p.sh("a", a), "topsecret\n/ov\n");
    assert_eq!(
        std::fs::read_to_string(p.path("hostdir/f")).unwrap(),
        "from-a\n"
    );
    let exec = p.run(&[
        "exec",
        "-T",
        "-e",
        "X=1",
        "-w",
        "/tmp",
        "-u",
        "1000",
        "b",
        "sh",
        "-c",
        "echo $X; pwd; id -u",
    ]);
    assert_eq!(exec.ok(), "1\n/tmp\n1000\n");
    let hd = format!("{}:/hd", p.path("hostdir").display());
    let run = p.run(&[
        "run",
        "--rm",
        "-T",
        "-e",
        "Y=2",
        "-w",
        "/etc",
        "--entrypoint",
        "",
        "-v",
        &hd,
        "-l",
        "k=v",
        "b",
        "sh",
        "-c",
        "echo $Y; pwd; cat /hd/f",
    ]);
    assert_eq!(run.ok(), "2\n/etc\nfrom-a\n");
    // `down` leaves what the project did not make.
    p.ok(&["down", "-v", "-t", "1"]);
    assert!(names(&d, "network").contains(&"made-outside".to_string()));
    assert!(names(&d, "volume").contains(&"outside".to_string()));
    assert!(!names(&d, "volume").contains(&"extras_hostvol".to_string()));
}
