//! The embedded DNS server of user-defined networks, through the stock docker CLI: names,
//! aliases and short IDs on the networks a container is on and nowhere else, forwarding to
//! `--dns` servers, resolv.conf as Docker writes it, port 53 left to the container, and the
//! server coming back after a daemon restart. Every daemon runs in a network namespace of its
//! own; the upstream server is a small responder in that namespace.

mod common;

use std::process::{Child, Command, Stdio};

use common::TestDaemon;

/// A DNS server on 127.0.0.1:53 of the daemon's namespace answering every A query with
/// 10.1.2.3; it stops with the test.
struct Upstream(Child);

impl Upstream {
    fn start(d: &TestDaemon) -> Upstream {
        let script = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
print("ready", flush=True)
while True:
    q, a = s.recvfrom(512)
    i = 12
    while q[i] != 0:
        i += q[i] + 1
    qtype = q[i + 1:i + 3]
    question = q[12:i + 5]
    is_a = qtype == b"\x00\x01"
    head = q[:2] + b"\x81\x80" + b"\x00\x01" + (b"\x00\x01" if is_a else b"\x00\x00") + b"\x00\x00\x00\x00"
    answer = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + bytes([10, 1, 2, 3]) if is_a else b""
    s.sendto(head + question + answer, a)
"#;
        let ns = d.netns.as_ref().expect("a daemon in a namespace");
        let mut child = Command::new("nsenter")
            .arg(format!("--net={}", ns.display()))
            .args(["python3", "-c", script])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line.trim(), "ready");
        Upstream(child)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ip_of(d: &TestDaemon, name: &str, net: &str) -> String {
    d.docker(&[
        "inspect",
        "-f",
        &format!("{{{{.NetworkSettings.Networks.{net}.IPAddress}}}}"),
        name,
    ])
    .ok()
    .trim()
    .to_string()
}

/// `nslookup NAME` in a new container on `net`; the addresses it printed for the name.
fn lookup(d: &TestDaemon, net: &str, name: &str) -> Vec<String> {
    let out = d.docker(&[
        "run",
        "--rm",
        "--network",
        net,
        "--dns",
        "127.0.0.1",
        "busybox",
        "busybox",
        "nslookup",
        name,
    ]);
    answers(&out.stdout)
}

/// The addresses after the `Name:` line of busybox nslookup's output.
fn answers(out: &str) -> Vec<String> {
    let mut seen_name = false;
    let mut addrs = Vec::new();
    for l in out.lines() {
        if l.starts_with("Name:") {
            seen_name = true;
        } else if seen_name && let Some(a) = l.strip_prefix("Address:") {
            addrs.push(a.trim().to_string());
        }
    }
    addrs
}

#[test]
fn containers_find_each_other_by_name_alias_and_short_id_on_their_network_only() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let _up = Upstream::start(&d);
    d.docker(&["network", "create", "n1"]).ok();
    d.docker(&["network", "create", "n2"]).ok();
    let id = d
        .docker(&[
            "run",
            "-d",
            "--name",
            "c1",
            "--network",
            "n1",
            "--network-alias",
            "svc",
            "busybox",
            "sleep",
            "1000",
        ])
        .ok();
    let ip = ip_of(&d, "c1", "n1");
    for name in ["c1", "svc", &id.trim()[..12], "c1.n1", "SVC"] {
        assert_eq!(lookup(&d, "n1", name), vec![ip.clone()], "{name} on n1");
    }
    // Not on n2: the name goes upstream, whose answer is all there is.
    assert_eq!(lookup(&d, "n2", "c1"), vec!["10.1.2.3"]);
    // Names berth does not know are forwarded to the --dns server.
    assert_eq!(lookup(&d, "n1", "example.org"), vec!["10.1.2.3"]);
    let aliases = d
        .docker(&[
            "inspect",
            "-f",
            "{{json .NetworkSettings.Networks.n1.Aliases}}",
            "c1",
        ])
        .ok();
    assert_eq!(aliases.trim(), format!(r#"["svc","{}"]"#, &id.trim()[..12]));
    // The name is gone with the container.
    d.docker(&["rm", "-f", "c1"]).ok();
    assert_eq!(lookup(&d, "n1", "c1"), vec!["10.1.2.3"]);
    d.docker(&["network", "rm", "n1", "n2"]).ok();
}

#[test]
fn resolv_conf_points_at_the_embedded_server_as_dockers_does() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    d.docker(&["network", "create", "n1"]).ok();
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap();
    let words = |key: &str| -> Vec<String> {
        host.lines()
            .filter_map(|l| l.strip_prefix(&format!("{key} ")))
            .flat_map(|l| l.split_whitespace().map(str::to_string))
            .collect()
    };
    let mut want = String::new();
    if !words("search").is_empty() {
        want.push_str(&format!("search {}\n", words("search").join(" ")));
    }
    want.push_str("nameserver 127.0.0.11\n");
    let mut options = words("options");
    if !options.iter().any(|o| o.starts_with("ndots:")) {
        options.push("ndots:0".into());
    }
    want.push_str(&format!("options {}\n", options.join(" ")));
    let got = d
        .docker(&[
            "run",
            "--rm",
            "--network",
            "n1",
            "--dns",
            "9.9.9.9",
            "busybox",
            "cat",
            "/etc/resolv.conf",
        ])
        .ok();
    assert_eq!(got, want, "--dns only changes the upstream");
    let got = d
        .docker(&[
            "run",
            "--rm",
            "--network",
            "n1",
            "--dns-search",
            "x.example",
            "--dns-option",
            "ndots:3",
            "--dns-option",
            "timeout:1",
            "busybox",
            "cat",
            "/etc/resolv.conf",
        ])
        .ok();
    assert_eq!(
        got,
        "search x.example\nnameserver 127.0.0.11\noptions ndots:3 timeout:1\n"
    );
    // `none` has no DNS server: the --dns servers are written as given.
    let got = d
        .docker(&[
            "run",
            "--rm",
            "--network",
            "none",
            "--dns",
            "9.9.9.9",
            "--dns-search",
            "x.example",
            "busybox",
            "cat",
            "/etc/resolv.conf",
        ])
        .ok();
    assert_eq!(got, "search x.example\nnameserver 9.9.9.9\n");
    d.docker(&["network", "rm", "n1"]).ok();
}

#[test]
fn a_container_keeps_port_53_and_the_server_survives_a_daemon_restart() {
    let mut d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let _up = Upstream::start(&d);
    d.docker(&["network", "create", "n1"]).ok();
    // A server of its own can bind port 53 (busybox has no UDP listener; TCP and UDP are
    // redirected alike), and the embedded one still answers it.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "own53",
        "--network",
        "n1",
        "--dns",
        "127.0.0.1",
        "busybox",
        "busybox",
        "httpd",
        "-f",
        "-p",
        "53",
    ])
    .ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "peer",
        "--network",
        "n1",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    let peer = ip_of(&d, "peer", "n1");
    let out = d.docker(&["exec", "own53", "busybox", "nslookup", "peer"]);
    assert_eq!(answers(&out.stdout), vec![peer.clone()], "{}", out.stderr);
    let state = d
        .docker(&["inspect", "-f", "{{.State.Running}}", "own53"])
        .ok();
    assert_eq!(state.trim(), "true", "its httpd holds :53");
    let sockets = d
        .docker(&["exec", "own53", "busybox", "netstat", "-lnt"])
        .ok();
    assert!(sockets.contains(":::53 "), "{sockets}");
    // After kill -9 and a new daemon, the running containers are answered again.
    d.kill9();
    d.spawn();
    let out = d.docker(&["exec", "own53", "busybox", "nslookup", "peer"]);
    assert_eq!(answers(&out.stdout), vec![peer], "{}", out.stderr);
    d.docker(&["rm", "-f", "own53", "peer"]).ok();
    d.docker(&["network", "rm", "n1"]).ok();
}

#[test]
fn a_link_on_a_user_network_is_a_name_for_the_linking_container_only() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let _up = Upstream::start(&d);
    d.docker(&["network", "create", "n1"]).ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "pa",
        "--network",
        "n1",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    let ip = ip_of(&d, "pa", "n1");
    d.docker(&[
        "run",
        "-d",
        "--name",
        "linker",
        "--network",
        "n1",
        "--dns",
        "127.0.0.1",
        "--link",
        "pa:foo",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    let mine = answers(
        &d.docker(&["exec", "linker", "busybox", "nslookup", "foo"])
            .stdout,
    );
    assert_eq!(mine, vec![ip]);
    // Another container on the network does not know the name: it goes upstream.
    assert_eq!(lookup(&d, "n1", "foo"), vec!["10.1.2.3"]);
    let shown = d
        .docker(&[
            "inspect",
            "-f",
            "{{json .NetworkSettings.Networks.n1.Links}} {{json .HostConfig.Links}}",
            "linker",
        ])
        .ok();
    assert_eq!(shown.trim(), r#"["pa:foo"] null"#);
    d.docker(&["rm", "-f", "pa", "linker"]).ok();
    d.docker(&["network", "rm", "n1"]).ok();
}

#[test]
fn a_renamed_container_answers_to_its_new_name_only() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let _up = Upstream::start(&d);
    d.docker(&["network", "create", "rn"]).ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "before",
        "--network",
        "rn",
        "busybox",
        "busybox",
        "sleep",
        "100",
    ])
    .ok();
    let ip = ip_of(&d, "before", "rn");
    d.docker(&["rename", "before", "after"]).ok();
    assert_eq!(lookup(&d, "rn", "after"), [ip]);
    // The old name goes upstream, whose answer is all there is.
    assert_eq!(lookup(&d, "rn", "before"), ["10.1.2.3"]);
}

#[test]
fn a_stopping_container_leaves_dns_before_its_stop_signal() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    d.docker(&["network", "create", "n"]).ok();
    // PID 1 ignores SIGTERM: the container runs through its whole grace period.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "slow",
        "--network",
        "n",
        "--network-alias",
        "svc",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "asker",
        "--network",
        "n",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    let resolves = |name: &str| {
        d.docker(&["exec", "asker", "busybox", "nslookup", name, "127.0.0.11"])
            .code
            == 0
    };
    assert!(resolves("slow") && resolves("svc"));
    let mut stop = Command::new(common::BERTH)
        .args(["-H", &d.host(), "stop", "-t", "20", "slow"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    common::wait_for("slow's names to leave DNS", || !resolves("svc"));
    assert!(!resolves("slow"));
    assert_eq!(
        d.inspect("slow", "{{.State.Running}}"),
        "true",
        "still in its grace period"
    );
    d.docker(&["kill", "slow"]).ok();
    stop.wait().unwrap();
    d.docker(&["start", "slow"]).ok();
    assert!(resolves("svc"), "a started container is found again");
}
