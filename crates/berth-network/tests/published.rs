//! Published ports with no proxy process, for real, in namespaces of the test's own: a "host"
//! namespace with berth's bridge and firewall table, a container on the bridge, and an
//! "external" client joined to the host by a veth pair. Nothing touches the real host.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::Command;
use std::time::Duration;

use berth_network::endpoint::{self, Bridge, Endpoint};
use berth_network::firewall::{self, Port, Proto, Ruleset};
use berth_network::link::Netlink;
use berth_network::netns::Netns;
use berth_network::ports::Ports;

const TIMEOUT: Duration = Duration::from_secs(3);
const HOST_IP: &str = "10.97.0.1";
const EXT_IP: &str = "10.97.0.2";
const CTR_IP: &str = "10.98.0.2";

struct World {
    host: Netns,
    ctr: Netns,
    ext: Netns,
}

fn ruleset() -> Ruleset {
    let ctr: IpAddr = CTR_IP.parse().unwrap();
    Ruleset {
        bridges: vec![firewall::Bridge {
            name: "br-pub0".into(),
            subnets: vec!["10.98.0.0/24".parse().unwrap()],
            masquerade: true,
            internal: false,
            icc: true,
        }],
        ports: vec![
            Port {
                proto: Proto::Tcp,
                host_ip: None,
                host_port: 8080,
                container_ip: ctr,
                container_port: 80,
            },
            Port {
                proto: Proto::Udp,
                host_ip: None,
                host_port: 5300,
                container_ip: ctr,
                container_port: 5353,
            },
        ],
    }
}

fn world() -> World {
    let w = World {
        host: Netns::new().unwrap(),
        ctr: Netns::new().unwrap(),
        ext: Netns::new().unwrap(),
    };
    w.host
        .run(|| {
            let nl = Netlink::open().unwrap();
            nl.set_up("lo").unwrap();
            let bridge = Bridge {
                name: "br-pub0".into(),
                mtu: 1500,
                addresses: vec!["10.98.0.1/24".parse().unwrap()],
            };
            endpoint::setup_bridge(&nl, &bridge).unwrap();
            let ep = Endpoint {
                bridge: "br-pub0".into(),
                host_ifname: "vethpub1".into(),
                ifname: "eth0".into(),
                mtu: 1500,
                mac: None,
                addresses: vec![format!("{CTR_IP}/24").parse().unwrap()],
                gateways: vec!["10.98.0.1".parse().unwrap()],
            };
            endpoint::attach(&nl, &ep, &w.ctr).unwrap();
            // The outside world: a veth to the client's namespace.
            nl.create_veth("uplink0", "uplink1", 1500).unwrap();
            nl.add_address("uplink0", format!("{HOST_IP}/24").parse().unwrap())
                .unwrap();
            nl.set_up("uplink0").unwrap();
            nl.move_to_netns("uplink1", &w.ext).unwrap();
            ruleset().apply().unwrap();
        })
        .unwrap();
    w.ext
        .run(|| {
            let nl = Netlink::open().unwrap();
            nl.set_up("lo").unwrap();
            nl.add_address("uplink1", format!("{EXT_IP}/24").parse().unwrap())
                .unwrap();
            nl.set_up("uplink1").unwrap();
        })
        .unwrap();
    w
}

/// A TCP server in the container that answers each connection with the peer's address.
fn serve_tcp(w: &World) {
    let l = w
        .ctr
        .run(|| TcpListener::bind((CTR_IP, 80)).unwrap())
        .unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut s = s;
            let peer = s.peer_addr().unwrap().ip().to_string();
            let _ = s.write_all(peer.as_bytes());
        }
    });
}

/// Connects from namespace `ns` to `addr` and reads what the server says.
fn fetch(ns: &Netns, addr: &str) -> std::io::Result<String> {
    let addr: SocketAddr = addr.parse().unwrap();
    ns.run(|| {
        let mut s = TcpStream::connect_timeout(&addr, TIMEOUT)?;
        s.set_read_timeout(Some(TIMEOUT))?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        Ok(out)
    })
    .unwrap()
}

#[test]
fn tcp_reaches_the_container_from_outside_the_host_loopback_and_hairpin() {
    let w = world();
    serve_tcp(&w);
    let ext = format!("{HOST_IP}:8080");
    assert_eq!(
        fetch(&w.ext, &ext).unwrap(),
        EXT_IP,
        "the client's own address is kept"
    );
    assert!(
        !fetch(&w.host, &ext).unwrap().is_empty(),
        "the host's own address"
    );
    assert!(
        !fetch(&w.host, "127.0.0.1:8080").unwrap().is_empty(),
        "127.0.0.1, no proxy"
    );
    assert!(
        !fetch(&w.ctr, &ext).unwrap().is_empty(),
        "hairpin: the container to itself"
    );
}

#[test]
fn udp_is_published_too() {
    let w = world();
    let server = w
        .ctr
        .run(|| UdpSocket::bind((CTR_IP, 5353)).unwrap())
        .unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        while let Ok((n, from)) = server.recv_from(&mut buf) {
            let _ = server.send_to(&buf[..n], from);
        }
    });
    let echoed = w
        .ext
        .run(|| {
            let s = UdpSocket::bind((EXT_IP, 0)).unwrap();
            s.set_read_timeout(Some(TIMEOUT)).unwrap();
            s.send_to(b"hello", (HOST_IP, 5300)).unwrap();
            let mut buf = [0u8; 64];
            let (n, _) = s.recv_from(&mut buf).unwrap();
            buf[..n].to_vec()
        })
        .unwrap();
    assert_eq!(echoed, b"hello");
}

fn iptables(ns: &Netns, args: &[&str]) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    ns.run(move || {
        let out = Command::new("iptables").args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    })
    .unwrap();
}

#[test]
fn a_forward_policy_of_drop_and_the_administrators_chain_are_respected() {
    let w = world();
    serve_tcp(&w);
    let ext = format!("{HOST_IP}:8080");
    iptables(&w.host, &["-w", "-P", "FORWARD", "DROP"]);
    assert!(
        fetch(&w.ext, &ext).is_err(),
        "dropped until berth adds its accepts"
    );
    w.host
        .run(|| firewall::forward_accepts(&["br-pub0".into()]).unwrap())
        .unwrap();
    assert_eq!(fetch(&w.ext, &ext).unwrap(), EXT_IP);
    // The administrator's chain comes first, and a rebuild keeps it.
    w.host
        .run(|| {
            let out = Command::new("nft")
                .args([
                    "add",
                    "rule",
                    "inet",
                    firewall::TABLE,
                    firewall::USER_CHAIN,
                    "ip",
                    "saddr",
                    EXT_IP,
                    "drop",
                ])
                .output()
                .unwrap();
            assert!(out.status.success());
            ruleset().apply().unwrap();
        })
        .unwrap();
    assert!(fetch(&w.ext, &ext).is_err(), "berth-user's drop holds");
}

#[test]
fn a_held_host_port_cannot_be_taken_and_traffic_still_goes_to_the_container() {
    let w = world();
    serve_tcp(&w);
    let mut ports = Ports::default();
    w.host
        .run(|| ports.reserve(Proto::Tcp, None, 8080).unwrap())
        .unwrap();
    let taken = w
        .host
        .run(|| TcpListener::bind("0.0.0.0:8080").is_err())
        .unwrap();
    assert!(taken, "no host program can listen there");
    assert_eq!(fetch(&w.ext, &format!("{HOST_IP}:8080")).unwrap(), EXT_IP);
}
