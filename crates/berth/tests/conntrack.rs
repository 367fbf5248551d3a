//! Stale conntrack entries end to end, each daemon in a network namespace of its own. A UDP
//! flow the kernel began tracking before its port was published (as going to the host) keeps
//! its entry for as long as the client keeps sending, so unless the daemon deletes it (as
//! Docker does when it publishes UDP ports) the container never sees that client.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::TestDaemon;

/// `python3 -c UDP_SEND ADDR MSG` sends MSG from ADDR:40053 (the same flow every time) to
/// ADDR:5353, a local address of the daemon's namespace.
const UDP_SEND: &str = "import socket, sys
a = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ':' in a else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((a, 40053))
s.sendto(sys.argv[2].encode(), (a, 5353))";

/// `python3 -c UDP_RECV` prints the first datagram to port 5353, IPv4 or IPv6 (ten-second
/// timeout). This busybox's `nc` has no `-u`, so it runs in the container's network namespace
/// from outside.
const UDP_RECV: &str = "import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(('::', 5353))
s.settimeout(10)
print(s.recv(100).decode(), end='')";

/// Sends `msg` on the flow from and to `addr`, retried while the address is new (IPv6's
/// duplicate address detection).
fn send(d: &TestDaemon, addr: &str, msg: &str) {
    for _ in 0..50 {
        if d.in_netns(&["python3", "-c", UDP_SEND, addr, msg]).code == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let sent = d.in_netns(&["python3", "-c", UDP_SEND, addr, msg]);
    assert_eq!(sent.code, 0, "{}", sent.stderr);
}

/// Whether `msg`, sent again and again on the flow of `addr`, reaches a socket in container
/// `name`.
fn reaches(d: &TestDaemon, addr: &str, name: &str, msg: &str) -> bool {
    let pid = d.inspect(name, "{{.State.Pid}}");
    let mut rx = Command::new("nsenter")
        .args(["-t", &pid, "--net", "python3", "-c", UDP_RECV])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..50 {
        send(d, addr, msg);
        if rx.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = rx.kill();
    let out = rx.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout) == msg
}

#[test]
fn a_udp_flow_that_began_before_its_port_was_published_reaches_the_container() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    // Nothing holds 5353/udp yet: the kernel tracks this flow as one to the host.
    send(&d, "127.0.0.1", "early");
    let run = |name: &str| {
        d.docker(&[
            "run",
            "-d",
            "--name",
            name,
            "-p",
            "5353:5353/udp",
            "busybox",
            "sleep",
            "1000",
        ])
        .ok();
    };
    run("rx1");
    assert!(
        reaches(&d, "127.0.0.1", "rx1", "late"),
        "the flow never reached rx1"
    );
    // The same flow, DNATed to rx1 by now, goes to the container that replaces it.
    d.docker(&["rm", "-f", "rx1"]).ok();
    run("rx2");
    assert!(
        reaches(&d, "127.0.0.1", "rx2", "again"),
        "the flow never reached rx2"
    );
    d.docker(&["rm", "-f", "rx2"]).ok();
}

#[test]
fn an_ipv6_udp_flow_that_began_before_its_port_was_published_reaches_the_container() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    d.docker(&[
        "network",
        "create",
        "--ipv6",
        "--subnet",
        "fd00:78::/64",
        "n6",
    ])
    .ok();
    // The network's gateway is a local address: the flow goes to the host.
    send(&d, "fd00:78::1", "early");
    d.docker(&[
        "run",
        "-d",
        "--name",
        "rx6",
        "--network",
        "n6",
        "-p",
        "5353:5353/udp",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    assert!(
        reaches(&d, "fd00:78::1", "rx6", "late"),
        "the flow never reached rx6"
    );
    d.docker(&["rm", "-f", "rx6"]).ok();
    d.docker(&["network", "rm", "n6"]).ok();
}
