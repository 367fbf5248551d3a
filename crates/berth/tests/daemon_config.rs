//! `daemon.json` and SIGHUP, as dockerd reads and reloads them, and the swarm and plugin
//! endpoints of an engine in no swarm, through the stock docker CLI.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Out, TestDaemon, validate};

fn write(dir: &Path, name: &str, json: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, json).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn validate_names_unknown_keys_and_conflicts_in_dockerds_words() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "good.json",
        r#"{"labels":["a=b"],"debug":true,"data-root":"/var/lib/x","hosts":["unix:///run/x.sock"],
            "default-address-pools":[{"base":"10.123.0.0/16","size":24}],"no-new-privileges":true,
            "cgroup-parent":"/batch","features":{"buildkit":false,"containerd-snapshotter":true},
            "log-driver":"syslog","log-opts":{"mode":"non-blocking","max-buffer-size":"4m"}}"#,
    );
    let ok = validate(&["--config-file", &good]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert_eq!(ok.stderr.trim(), "configuration OK");

    let unknown = write(
        dir.path(),
        "unknown.json",
        r#"{"debug":true,"log-format":"json","no-such-key":1}"#,
    );
    validate(&["--config-file", &unknown]).fails_with(
        1,
        "the following directives don't match any configuration option: log-format, no-such-key",
    );

    validate(&["--config-file", &good, "--data-root", "/flag", "--label", "c=d"]).fails_with(
        1,
        "the following directives are specified both as a flag and in the configuration file: data-root: (from flag: /flag, from file: /var/lib/x), labels: (from flag: [c=d], from file: [a=b])",
    );

    let buildkit = write(dir.path(), "bk.json", r#"{"features":{"buildkit":true}}"#);
    validate(&["--config-file", &buildkit]).fails_with(
        1,
        "berth does not support the feature buildkit=true: its builder is Docker's classic one",
    );

    let bad_label = write(dir.path(), "label.json", r#"{"labels":["nolabel"]}"#);
    validate(&["--config-file", &bad_label]).fails_with(1, "bad attribute format: nolabel");
    let bad_type = write(dir.path(), "type.json", r#"{"debug":"yes"}"#);
    validate(&["--config-file", &bad_type])
        .fails_with(1, "invalid value for debug in the configuration file");
    let bad_json = write(dir.path(), "json.json", "{");
    validate(&["--config-file", &bad_json]).fails_with(1, "json.json");

    let missing = dir.path().join("missing.json");
    validate(&["--config-file", missing.to_str().unwrap()])
        .fails_with(1, "no such file or directory");
    let empty = write(dir.path(), "empty.json", "  \n");
    assert_eq!(validate(&["--config-file", &empty]).code, 0);
}

#[test]
fn the_default_file_may_be_missing() {
    if Path::new("/etc/berth/daemon.json").exists() {
        eprintln!("skipped: this host has an /etc/berth/daemon.json of its own");
        return;
    }
    let ok = validate(&[]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert_eq!(ok.stderr.trim(), "configuration OK");
}

/// `docker info` labels and debug.
fn labels_and_debug(d: &TestDaemon) -> String {
    d.docker(&["info", "--format", "{{json .Labels}} {{.Debug}}"])
        .ok()
        .trim()
        .to_string()
}

fn sighup(d: &TestDaemon) {
    let sent = Command::new("kill")
        .args(["-HUP", &d.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// The first `docker events` line of type `daemon` since `since`, waiting for it.
fn next_daemon_event(d: &TestDaemon, since: &str, format: &str) -> String {
    let mut child = Command::new("timeout")
        .args(["20", "docker", "-H", &d.host(), "events", "--since", since])
        .args(["--filter", "type=daemon", "--format", format])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    line.trim().to_string()
}

#[test]
fn sighup_reloads_labels_and_debug_and_says_so_on_events() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "daemon.json", r#"{"labels":["tier=one"]}"#);
    let d = TestDaemon::start_with_args(&["--config-file", &file]);
    assert_eq!(labels_and_debug(&d), r#"["tier=one"] false"#);

    let since = common::now().to_string();
    write(
        dir.path(),
        "daemon.json",
        r#"{"labels":["tier=two","zone=b"],"debug":true}"#,
    );
    sighup(&d);
    let format = "{{.Type}} {{.Action}} {{.Actor.ID}} labels={{index .Actor.Attributes \"labels\"}} debug={{.Actor.Attributes.debug}}";
    let id = d
        .docker(&["info", "--format", "{{.ID}}"])
        .ok()
        .trim()
        .to_string();
    assert_eq!(
        next_daemon_event(&d, &since, format),
        format!("daemon reload {id} labels=[tier=two zone=b] debug=true")
    );
    assert_eq!(labels_and_debug(&d), r#"["tier=two","zone=b"] true"#);

    // An invalid file is logged and changes nothing.
    write(
        dir.path(),
        "daemon.json",
        r#"{"labels":["tier=three"],"bogus":1}"#,
    );
    sighup(&d);
    wait_for_log(
        &d,
        "the following directives don't match any configuration option: bogus",
    );
    assert_eq!(labels_and_debug(&d), r#"["tier=two","zone=b"] true"#);
    let reloads = d.events("type=daemon", "{{.Action}}");
    assert_eq!(reloads.lines().count(), 1, "one reload only: {reloads}");
    assert_eq!(
        d.events(&format!("daemon={id}"), "{{.Action}}").trim(),
        "reload"
    );
    assert_eq!(d.events("daemon=nosuchdaemon", "{{.Action}}"), "");
}

#[test]
fn swarm_and_plugin_endpoints_answer_as_an_engine_in_no_swarm() {
    let d = TestDaemon::start();
    const NO_MANAGER: &str = "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.";
    for cmd in [
        &["node", "ls"][..],
        &["service", "ls"],
        &["secret", "ls"],
        &["config", "ls"],
        &["node", "inspect", "self"],
        &["service", "ps", "web"],
    ] {
        d.docker(cmd)
            .fails_with(1, &format!("Error response from daemon: {NO_MANAGER}"));
    }
    d.docker(&["swarm", "leave"]).fails_with(
        1,
        "Error response from daemon: This node is not part of a swarm",
    );
    assert_eq!(
        d.docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"])
            .ok()
            .trim(),
        "inactive"
    );
    for (method, path, status) in [
        ("GET", "/swarm", 503),
        ("GET", "/v1.43/tasks", 503),
        ("GET", "/tasks/x/logs", 503),
        ("DELETE", "/secrets/x", 503),
        ("POST", "/configs/create", 503),
        ("POST", "/swarm/unlock", 503),
        ("POST", "/swarm/init", 501),
        ("GET", "/plugins/a/b:latest/json", 404),
        ("DELETE", "/plugins/x", 404),
        ("POST", "/plugins/pull", 501),
    ] {
        let (got, _, body) = d.http(method, path, b"{}");
        assert_eq!(got, status, "{method} {path}: {body}");
    }
    let (_, _, body) = d.http("GET", "/plugins/a/b:latest/json", b"");
    assert!(
        body.contains(r#"plugin \"a/b:latest\" not found"#),
        "{body}"
    );

    assert_eq!(
        d.docker(&["plugin", "ls"]).ok(),
        "ID        NAME      DESCRIPTION   ENABLED\n"
    );
    d.docker(&["plugin", "inspect", "sshfs"])
        .fails_with(1, "Error response from daemon: plugin \"sshfs\" not found");
    d.docker(&["plugin", "ls", "--filter", "color=red"])
        .fails_with(1, "color");

    // docker-py sees the same engine.
    let script = r#"
import sys, docker
c = docker.DockerClient(base_url=sys.argv[1])
print(c.plugins.list(), c.info()["Swarm"]["LocalNodeState"])
for call in (c.nodes.list, c.services.list, c.swarm.reload):
    try:
        call()
    except docker.errors.APIError as e:
        print(e.status_code, e.explanation.startswith("This node is not a swarm manager."))
"#;
    let out: Out = Command::new("python3")
        .args(["-c", script, &d.host()])
        .output()
        .unwrap()
        .into();
    assert_eq!(out.ok(), "[] inactive\n503 True\n503 True\n503 True\n");
}

/// The log line of a failed reload, waited for.
fn wait_for_log(d: &TestDaemon, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !d.log().contains(text) {
        assert!(
            Instant::now() < deadline,
            "{text:?} not logged:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sighup_reloads_runtimes_and_keeps_those_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "daemon.json", "{}");
    let d = TestDaemon::with_busybox(&["--config-file", &file]);
    d.docker(&["create", "--runtime", "extra", "busybox", "true"])
        .fails_with(1, "unknown or invalid runtime name: extra");

    let since = common::now().to_string();
    write(
        dir.path(),
        "daemon.json",
        r#"{"runtimes":{"extra":{"path":"/bin/true"}},"default-runtime":"extra"}"#,
    );
    sighup(&d);
    assert_eq!(
        next_daemon_event(
            &d,
            &since,
            "{{index .Actor.Attributes \"runtimes\"}} {{index .Actor.Attributes \"default-runtime\"}}"
        ),
        "[berth extra] extra"
    );
    assert_eq!(
        d.docker(&[
            "info",
            "--format",
            "{{.DefaultRuntime}} {{json .Runtimes.extra}}"
        ])
        .ok()
        .trim(),
        r#"extra {"path":"/bin/true"}"#
    );
    d.docker(&["create", "--name", "uses-extra", "busybox", "true"])
        .ok();
    assert_eq!(d.inspect("uses-extra", "{{.HostConfig.Runtime}}"), "extra");

    // A runtime a container uses stays: the reload is refused as a whole.
    write(
        dir.path(),
        "daemon.json",
        r#"{"runtimes":{},"default-runtime":"berth","labels":["x=y"]}"#,
    );
    sighup(&d);
    wait_for_log(
        &d,
        "runtime extra cannot be removed: container uses-extra uses it",
    );
    assert_eq!(
        d.docker(&["info", "--format", "{{.DefaultRuntime}} {{json .Labels}}"])
            .ok()
            .trim(),
        "extra []"
    );
    d.docker(&["rm", "uses-extra"]).ok();
    sighup(&d);
    let deadline = Instant::now() + Duration::from_secs(20);
    while labels_and_debug(&d) != r#"["x=y"] false"# {
        assert!(Instant::now() < deadline, "not reloaded:\n{}", d.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        d.docker(&["info", "--format", "{{.DefaultRuntime}}"])
            .ok()
            .trim(),
        "berth"
    );
}
