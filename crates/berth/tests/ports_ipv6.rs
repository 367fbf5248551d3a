//! Published ports on IPv6 through the daemon's proxy, as Docker 20.10 with its userland
//! proxy publishes them (`docs/reference/docker-20.10-networking/4-port-ps.txt`): `-p 8080:80`
//! is on `0.0.0.0:8080` and `[::]:8080` also for an IPv4-only container, `[::1]` reaches it
//! (what `localhost` is first for many clients), TCP and UDP; an IPv6 container keeps the
//! kernel's DNAT for all but loopback; the port is free after `rm -f`, and the proxy comes
//! back after a daemon restart. Every daemon runs in a network namespace of its own.

mod common;

use std::process::{Child, Command, Stdio};

use common::TestDaemon;

const HTTPD: &str = "busybox mkdir -p /www && echo hi from $(hostname) > /www/index.html && exec busybox httpd -f -p 80 -h /www";

/// A daemon in its own namespace whose loopback has `::1`.
fn daemon() -> TestDaemon {
    let d = TestDaemon::start_in_netns();
    let lo = d.in_netns(&["ip", "-6", "addr", "show", "lo"]).ok();
    assert!(lo.contains("inet6 ::1/128"), "{lo}");
    d.import_busybox("busybox");
    d
}

fn web(d: &TestDaemon, name: &str, args: &[&str]) {
    let mut run = vec!["run", "-d", "--name", name, "--hostname", name];
    run.extend_from_slice(args);
    run.extend_from_slice(&["busybox", "sh", "-c", HTTPD]);
    d.docker(&run).ok();
}

/// The elements of nftables map `name` of berth's table.
fn map(d: &TestDaemon, name: &str) -> String {
    d.in_netns(&["nft", "list", "map", "inet", "berth", name])
        .ok()
}

/// Whether a program can listen on `[::]:port` (as servers do, with SO_REUSEADDR).
fn can_listen(d: &TestDaemon, port: u16) -> bool {
    let script = format!(
        "import socket\ns = socket.socket(socket.AF_INET6)\n\
         s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)\n\
         s.bind(('::', {port})); s.listen()\n"
    );
    d.in_netns(&["python3", "-c", &script]).code == 0
}

#[test]
fn an_ipv4_container_is_published_on_ipv6_too_and_reached_through_loopback() {
    let d = daemon();
    web(&d, "srv", &["-p", "8080:80"]);
    assert_eq!(d.fetch("http://[::1]:8080/"), "hi from srv\n");
    assert_eq!(d.fetch("http://127.0.0.1:8080/"), "hi from srv\n");
    // Shown as Docker shows it: the API's records, and `ps` and `port` as berth's CLI and the
    // stock CLI (28.x) print them, IPv6 in brackets.
    assert_eq!(
        d.inspect("srv", "{{json .NetworkSettings.Ports}}"),
        r#"{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},{"HostIp":"::","HostPort":"8080"}]}"#
    );
    let ps = d.berth(&["ps", "--format", "{{.Ports}}"]).ok();
    assert_eq!(ps, "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp\n");
    assert_eq!(d.docker(&["ps", "--format", "{{.Ports}}"]).ok(), ps);
    let stock = d.docker(&["port", "srv"]).ok();
    assert_eq!(stock, "80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n");
    let stock = d.docker(&["port", "srv", "80"]).ok();
    assert_eq!(stock, "0.0.0.0:8080\n[::]:8080\n");
    let (_, _, body) = d.http("GET", "/containers/json", b"");
    assert!(
        body.contains(r#"{"IP":"::","PrivatePort":80,"PublicPort":8080,"Type":"tcp"}"#),
        "{body}"
    );
    // No IPv6 DNAT for a container without IPv6: the proxy alone serves it.
    assert!(map(&d, "tcp4_any").contains("8080 : 172.17."));
    assert!(
        !map(&d, "tcp6_any").contains("8080"),
        "{}",
        map(&d, "tcp6_any")
    );
    // The port is held: by berth (Docker's allocator error) and against other programs.
    d.docker(&["run", "-d", "-p", "[::]:8080:80", "busybox", "sleep", "9"])
        .fails_with(125, "Bind for :::8080 failed: port is already allocated");
    assert!(!can_listen(&d, 8080));
    // Removed, the port is free at once, and another container gets it and its proxy.
    d.docker(&["rm", "-f", "srv"]).ok();
    assert!(can_listen(&d, 8080), "the port is free after rm -f");
    web(&d, "next", &["-p", "8080:80"]);
    assert_eq!(d.fetch("http://[::1]:8080/"), "hi from next\n");
    // Stopped, the proxy goes with the port.
    d.docker(&["stop", "-t", "0", "next"]).ok();
    assert!(can_listen(&d, 8080), "the port is free after stop");
    let ps = [
        "ps",
        "-a",
        "--filter",
        "name=next",
        "--format",
        "[{{.Ports}}]",
    ];
    assert_eq!(d.berth(&ps).ok(), "[]\n");
    for c in d.docker(&["ps", "-aq"]).ok().split_whitespace() {
        d.docker(&["rm", "-f", c]).ok();
    }
}

/// A UDP server in container `name`'s network namespace answering `pong <datagram>`: this
/// busybox has no UDP server, so the test's python runs there (it is not in the container).
fn udp_pong(d: &TestDaemon, name: &str) -> Child {
    let pid = d.inspect(name, "{{.State.Pid}}");
    let mut child = Command::new("nsenter")
        .args(["-t", &pid, "--net", "python3", "-c"])
        .arg(
            "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
             s.bind(('0.0.0.0', 53)); print('ready', flush=True)\n\
             while True:\n    q, a = s.recvfrom(512); s.sendto(b'pong ' + q, a)\n",
        )
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "ready");
    child
}

/// What two clients get back for a datagram to `[::1]:port` (each asks twice).
fn ask_udp(d: &TestDaemon, port: u16) -> String {
    let script = format!(
        "import socket\nfor name in ('a', 'b'):\n\
         \x20   c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); c.settimeout(2)\n\
         \x20   for _ in range(2):\n\
         \x20       c.sendto(name.encode(), ('::1', {port})); print(c.recv(512).decode())\n"
    );
    d.in_netns(&["python3", "-c", &script]).ok()
}

#[test]
fn udp_reaches_an_ipv4_container_through_ipv6_loopback_and_after_a_daemon_restart() {
    let mut d = daemon();
    d.docker(&["network", "create", "web"]).ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "udp",
        "--network",
        "web",
        "-p",
        "5353:53/udp",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    web(&d, "srv", &["--network", "web", "-p", "8080:80"]);
    let mut server = udp_pong(&d, "udp");
    assert_eq!(ask_udp(&d, 5353), "pong a\npong a\npong b\npong b\n");
    assert_eq!(
        d.berth(&["ps", "--filter", "name=udp", "--format", "{{.Ports}}"])
            .ok(),
        "0.0.0.0:5353->53/udp, [::]:5353->53/udp\n"
    );
    assert_eq!(d.fetch("http://[::1]:8080/"), "hi from srv\n");
    // A daemon killed and one stopped: the new one holds the ports again with their proxies.
    d.kill9();
    d.spawn();
    assert_eq!(d.fetch("http://[::1]:8080/"), "hi from srv\n");
    assert_eq!(ask_udp(&d, 5353), "pong a\npong a\npong b\npong b\n");
    d.stop();
    d.spawn();
    assert_eq!(d.fetch("http://[::1]:8080/"), "hi from srv\n");
    assert_eq!(ask_udp(&d, 5353), "pong a\npong a\npong b\npong b\n");
    let _ = server.kill();
    let _ = server.wait();
    d.docker(&["rm", "-f", "udp", "srv"]).ok();
    assert!(can_listen(&d, 8080));
    d.docker(&["network", "rm", "web"]).ok();
}

#[test]
fn explicit_ipv6_addresses_are_proxied_and_ipv6_containers_keep_the_kernels_dnat() {
    let d = daemon();
    d.docker(&[
        "network",
        "create",
        "--ipv6",
        "--subnet",
        "fd00:77::/64",
        "n6",
    ])
    .ok();
    web(
        &d,
        "six",
        &["--network", "n6", "-p", "8080:80", "-p", "[::1]:8081:80"],
    );
    // Loopback through the proxy, to the container's IPv6 address; the rest DNATed.
    assert_eq!(d.fetch("http://[::1]:8080/"), "hi from six\n");
    assert_eq!(d.fetch("http://[::1]:8081/"), "hi from six\n");
    assert_eq!(d.fetch("http://[fd00:77::1]:8080/"), "hi from six\n");
    let any6 = map(&d, "tcp6_any");
    assert!(any6.contains("8080 : fd00:77::2 . 80"), "{any6}");
    assert!(!map(&d, "tcp6").contains("8081"), "no DNAT for ::1");
    assert_eq!(
        d.berth(&["port", "six"]).ok(),
        "80/tcp -> 0.0.0.0:8080\n80/tcp -> [::1]:8081\n80/tcp -> [::]:8080\n"
    );
    // An explicit IPv6 address to an IPv4-only container, as docker-proxy serves it.
    d.docker(&["network", "create", "v4only"]).ok();
    web(&d, "four", &["--network", "v4only", "-p", "[::]:8082:80"]);
    assert_eq!(d.fetch("http://[::1]:8082/"), "hi from four\n");
    assert_eq!(
        d.inspect("four", "{{json .NetworkSettings.Ports}}"),
        r#"{"80/tcp":[{"HostIp":"::","HostPort":"8082"}]}"#
    );
    // SCTP is not proxied: IPv4 only, and refused where only the proxy could serve it.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "sctp",
        "--network",
        "v4only",
        "-p",
        "8083:83/sctp",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    assert_eq!(
        d.inspect("sctp", "{{json .NetworkSettings.Ports}}"),
        r#"{"83/sctp":[{"HostIp":"0.0.0.0","HostPort":"8083"}]}"#
    );
    d.docker(&[
        "run",
        "-d",
        "--network",
        "v4only",
        "-p",
        "[::1]:8084:84/sctp",
        "busybox",
        "sleep",
        "9",
    ])
    .fails_with(125, "berth cannot publish sctp on IPv6 address ::1");
    for c in d.docker(&["ps", "-aq"]).ok().split_whitespace() {
        d.docker(&["rm", "-f", c]).ok();
    }
    d.docker(&["network", "rm", "n6", "v4only"]).ok();
}
