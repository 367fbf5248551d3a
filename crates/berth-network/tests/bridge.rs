//! A bridge with two containers, built in namespaces of the test's own: a "host" namespace
//! holding the bridge, and one namespace per container. Nothing here touches the real host,
//! and everything goes when the `Netns` values drop, also when an assertion fails.
//! Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN), as berth's CI is.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use berth_network::endpoint::{self, Bridge, Endpoint, EndpointError};
use berth_network::link::{LinkError, Netlink};
use berth_network::mac::MacAddr;
use berth_network::netns::Netns;
use berth_network::sysctl;

const TIMEOUT: Duration = Duration::from_secs(3);
const BRIDGE: &str = "br-test0";

fn bridge() -> Bridge {
    Bridge {
        name: BRIDGE.into(),
        mtu: 1500,
        addresses: vec!["10.99.0.1/24".parse().unwrap()],
    }
}

fn endpoint(host_ifname: &str, addr: &str) -> Endpoint {
    Endpoint {
        bridge: BRIDGE.into(),
        host_ifname: host_ifname.into(),
        ifname: "eth0".into(),
        mtu: 1500,
        mac: None,
        addresses: vec![addr.parse().unwrap()],
        gateways: vec!["10.99.0.1".parse().unwrap()],
    }
}

/// A host namespace with the bridge, and two containers at .2 and .3 on it.
struct Topology {
    host: Netns,
    c1: Netns,
    c2: Netns,
}

fn topology() -> Topology {
    let t = Topology {
        host: Netns::new().expect("host netns"),
        c1: Netns::new().expect("container 1 netns"),
        c2: Netns::new().expect("container 2 netns"),
    };
    t.host
        .run(|| -> Result<(), EndpointError> {
            let nl = Netlink::open().map_err(EndpointError::Host)?;
            endpoint::setup_bridge(&nl, &bridge())?;
            endpoint::attach(&nl, &endpoint("vethtest1", "10.99.0.2/24"), &t.c1)?;
            endpoint::attach(&nl, &endpoint("vethtest2", "10.99.0.3/24"), &t.c2)
        })
        .expect("run in host netns")
        .expect("set up bridge and endpoints");
    t
}

/// Serves `n` echo connections on `listener`, giving up at the deadline.
fn serve_echo(listener: TcpListener, n: usize) -> JoinHandle<usize> {
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let deadline = Instant::now() + TIMEOUT * 2;
        let mut served = 0;
        while served < n && Instant::now() < deadline {
            match listener.accept() {
                Ok((mut s, _)) => {
                    s.set_nonblocking(false).unwrap();
                    s.set_read_timeout(Some(TIMEOUT)).unwrap();
                    let mut buf = [0u8; 4];
                    if s.read_exact(&mut buf).is_ok() && s.write_all(&buf).is_ok() {
                        served += 1;
                    }
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        served
    })
}

fn ping(addr: SocketAddr) -> std::io::Result<[u8; 4]> {
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    s.set_read_timeout(Some(TIMEOUT))?;
    s.write_all(b"ping")?;
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf)?;
    Ok(buf)
}

#[test]
fn bridge_links_addresses_and_sysctls_are_in_place() {
    let t = topology();
    t.host
        .run(|| {
            let nl = Netlink::open().unwrap();
            let br = nl.link(BRIDGE).unwrap();
            assert_eq!(br.kind.as_deref(), Some("bridge"));
            assert!(br.up);
            // The kernel adds an fe80:: address of its own; look for ours.
            let addrs = nl.addresses(BRIDGE).unwrap();
            assert!(
                addrs.contains(&"10.99.0.1/24".parse().unwrap()),
                "{addrs:?}"
            );
            for port in ["vethtest1", "vethtest2"] {
                let l = nl.link(port).unwrap();
                assert_eq!(l.kind.as_deref(), Some("veth"));
                assert_eq!(l.master, Some(br.index), "{port} is on the bridge");
                assert_eq!(l.hairpin, Some(true), "{port} hairpin");
                assert!(l.up, "{port} is up");
            }
            let key = format!("net.ipv4.conf.{BRIDGE}.route_localnet");
            assert_eq!(sysctl::read(&key).unwrap(), "1");
            assert_eq!(sysctl::read("net.ipv4.ip_forward").unwrap(), "1");
        })
        .unwrap();
    t.c1.run(|| {
        let nl = Netlink::open().unwrap();
        let names: Vec<String> = nl
            .list_links()
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        assert_eq!(names, ["lo", "eth0"]);
        assert!(nl.link("lo").unwrap().up);
        let eth0 = nl.link("eth0").unwrap();
        assert!(eth0.up);
        assert_eq!(eth0.mac, Some(MacAddr::new([0x02, 0x42, 10, 99, 0, 2])));
        let addrs = nl.addresses("eth0").unwrap();
        assert!(
            addrs.contains(&"10.99.0.2/24".parse().unwrap()),
            "{addrs:?}"
        );
    })
    .unwrap();
}

#[test]
fn containers_and_host_reach_a_listener_in_a_container() {
    let t = topology();
    let addr: SocketAddr = "10.99.0.2:80".parse().unwrap();
    let listener =
        t.c1.run(|| TcpListener::bind(addr))
            .unwrap()
            .expect("bind in c1");
    let server = serve_echo(listener, 2);
    let from_c2 = t.c2.run(|| ping(addr)).unwrap();
    let from_host = t.host.run(|| ping(addr)).unwrap();
    assert_eq!(&from_c2.expect("c2 -> c1"), b"ping");
    assert_eq!(&from_host.expect("host -> c1"), b"ping");
    assert_eq!(server.join().unwrap(), 2);
}

#[test]
fn deleting_the_host_end_removes_the_peer_in_the_container() {
    let t = topology();
    t.host
        .run(|| endpoint::detach(&Netlink::open().unwrap(), "vethtest2"))
        .unwrap()
        .expect("detach");
    t.host
        .run(|| {
            let nl = Netlink::open().unwrap();
            let err = nl.index("vethtest2").unwrap_err();
            assert!(matches!(err, LinkError::NotFound(_)), "{err}");
        })
        .unwrap();
    t.c2.run(|| {
        let names: Vec<String> = Netlink::open()
            .unwrap()
            .list_links()
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        assert_eq!(names, ["lo"]);
    })
    .unwrap();
}

#[test]
fn a_failed_attach_leaves_no_veth_behind() {
    let (host, ctr) = (Netns::new().unwrap(), Netns::new().unwrap());
    let mut ep = endpoint("vethtest9", "10.99.0.9/24");
    ep.bridge = "br-missing".into();
    let names = host
        .run(|| {
            let nl = Netlink::open().unwrap();
            let err = endpoint::attach(&nl, &ep, &ctr).unwrap_err();
            assert!(
                matches!(err, EndpointError::Host(LinkError::NotFound(_))),
                "{err}"
            );
            nl.list_links()
                .unwrap()
                .into_iter()
                .map(|l| l.name)
                .collect::<Vec<_>>()
        })
        .unwrap();
    assert_eq!(names, ["lo"]);
}

#[test]
fn the_default_route_leads_off_the_subnet_to_the_host() {
    let t = topology();
    // An address of the host's that only the default route via 10.99.0.1 reaches.
    let addr: SocketAddr = "10.98.0.1:81".parse().unwrap();
    let listener = t
        .host
        .run(|| {
            let nl = Netlink::open().unwrap();
            nl.set_up("lo").unwrap();
            nl.add_address("lo", "10.98.0.1/32".parse().unwrap())
                .unwrap();
            TcpListener::bind(addr)
        })
        .unwrap()
        .expect("bind in host");
    let server = serve_echo(listener, 1);
    let from_c1 = t.c1.run(|| ping(addr)).unwrap();
    assert_eq!(&from_c1.expect("c1 -> host via gateway"), b"ping");
    assert_eq!(server.join().unwrap(), 1);
}

#[test]
fn an_ipv6_bridge_turns_on_ipv6_forwarding() {
    let host = Netns::new().unwrap();
    let mut br = bridge();
    br.addresses.push("fd00:99::1/64".parse().unwrap());
    let (forwarding, addrs) = host
        .run(|| {
            let nl = Netlink::open().unwrap();
            endpoint::setup_bridge(&nl, &br).expect("setup bridge");
            let f = sysctl::read("net.ipv6.conf.all.forwarding").unwrap();
            (f, nl.addresses(BRIDGE).unwrap())
        })
        .unwrap();
    assert_eq!(forwarding, "1");
    assert!(
        addrs.contains(&"fd00:99::1/64".parse().unwrap()),
        "{addrs:?}"
    );
}

#[test]
fn errors_name_the_operation_and_the_interface() {
    let host = Netns::new().unwrap();
    let (exists, too_long) = host
        .run(|| {
            let nl = Netlink::open().unwrap();
            nl.create_bridge(BRIDGE, 1500).expect("first bridge");
            let exists = nl.create_bridge(BRIDGE, 1500).unwrap_err();
            let too_long = nl
                .create_veth("veth0123456789ab", "peer0", 1500)
                .unwrap_err();
            (exists, too_long)
        })
        .unwrap();
    assert_eq!(
        exists.to_string(),
        format!("failed to create bridge {BRIDGE}")
    );
    let cause = std::error::Error::source(&exists)
        .expect("a cause")
        .to_string();
    assert!(cause.contains("File exists"), "{cause}");
    assert!(matches!(too_long, LinkError::InvalidName(_)), "{too_long}");
}
