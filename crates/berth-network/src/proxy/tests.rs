use std::io::{Read, Write};
use std::net::{Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use super::*;
use crate::firewall::Proto;
use crate::ports::Ports;
use crate::testns::in_new_netns;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

const LO6: Option<std::net::IpAddr> = Some(std::net::IpAddr::V6(Ipv6Addr::LOCALHOST));

/// A TCP server on 127.0.0.1 (the container) that answers one line with `got <line>`.
fn tcp_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let mut c = c.unwrap();
            let mut buf = [0u8; 64];
            let n = c.read(&mut buf).unwrap();
            let _ = c.write_all(&[b"got ", &buf[..n]].concat());
        }
    });
    addr
}

/// A UDP server on 127.0.0.1 that answers each datagram with the sender's port.
fn udp_server() -> SocketAddr {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = s.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        while let Ok((_, from)) = s.recv_from(&mut buf) {
            let _ = s.send_to(from.port().to_string().as_bytes(), from);
        }
    });
    addr
}

#[test]
fn tcp_over_ipv6_loopback_reaches_an_ipv4_server_and_the_port_is_free_after() {
    in_new_netns(|| {
        let rt = runtime();
        let target = tcp_server();
        let mut ports = Ports::default();
        let port = ports.reserve(Proto::Tcp, LO6, 0).unwrap();
        ports
            .proxy(Proto::Tcp, LO6, port, target, rt.handle())
            .unwrap();
        for _ in 0..2 {
            let mut c = TcpStream::connect(("::1", port)).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            c.write_all(b"hi").unwrap();
            let mut got = String::new();
            c.read_to_string(&mut got).unwrap();
            assert_eq!(got, "got hi");
        }
        assert_eq!(
            ports
                .reserve(Proto::Tcp, LO6, port)
                .unwrap_err()
                .to_string(),
            format!("Bind for ::1:{port} failed: port is already allocated"),
            "Docker's allocator writes IPv6 unbracketed"
        );
        drop(ports.release(Proto::Tcp, LO6, port));
        // Free at once, past the TIME_WAIT of the proxied connections (the proxy closed
        // them first): IPv6 TCP ports bind with SO_REUSEADDR, as Go's listeners do.
        TcpStream::connect(("::1", port)).unwrap_err();
        let again = Ports::default().reserve(Proto::Tcp, LO6, port);
        assert_eq!(again, Ok(port));
    });
}

#[test]
fn a_connection_the_container_refuses_is_closed() {
    in_new_netns(|| {
        let rt = runtime();
        let dead = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = dead.local_addr().unwrap();
        drop(dead);
        let mut ports = Ports::default();
        let port = ports.reserve(Proto::Tcp, LO6, 0).unwrap();
        ports
            .proxy(Proto::Tcp, LO6, port, target, rt.handle())
            .unwrap();
        let mut c = TcpStream::connect(("::1", port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut buf = Vec::new();
        assert_eq!(c.read_to_end(&mut buf).map(|_| buf.len()).unwrap_or(0), 0);
    });
}

#[test]
fn udp_flows_are_per_client_and_forgotten_when_idle() {
    in_new_netns(|| {
        let rt = runtime();
        let target = udp_server();
        let listener = UdpSocket::bind("[::1]:0").unwrap();
        let front = listener.local_addr().unwrap();
        let (tx, closed) = std::sync::mpsc::sync_channel(0);
        let idle = Duration::from_millis(300);
        let _guard = rt.enter();
        listener.set_nonblocking(true).unwrap();
        let socket = tokio::net::UdpSocket::from_std(listener).unwrap();
        let task = rt.spawn(udp::run(socket, target, idle, Closed(tx)));
        let proxy = Proxy {
            task: task.abort_handle(),
            closed,
        };
        let ask = |c: &UdpSocket| {
            c.send_to(b"x", front).unwrap();
            let mut buf = [0u8; 16];
            let n = c.recv(&mut buf).unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        };
        let client = |_| {
            let c = UdpSocket::bind("[::1]:0").unwrap();
            c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            c
        };
        let (a, b) = (client(0), client(1));
        let first = ask(&a);
        assert_eq!(ask(&a), first, "one flow per client");
        assert_ne!(ask(&b), first, "another client, another flow");
        std::thread::sleep(idle * 2);
        assert_ne!(ask(&a), first, "an idle flow is forgotten");
        drop(proxy);
        UdpSocket::bind(front).unwrap();
    });
}

#[test]
fn sctp_is_not_proxied() {
    in_new_netns(|| {
        let rt = runtime();
        let mut ports = Ports::default();
        ports.reserve(Proto::Sctp, LO6, 9).unwrap();
        let e = ports
            .proxy(
                Proto::Sctp,
                LO6,
                9,
                "127.0.0.1:9".parse().unwrap(),
                rt.handle(),
            )
            .unwrap_err();
        assert_eq!(e.to_string(), "berth does not proxy sctp");
    });
}
