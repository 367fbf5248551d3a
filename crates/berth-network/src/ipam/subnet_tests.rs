use std::collections::BTreeMap;
use std::net::IpAddr;

use super::*;

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn plain(subnet: &str) -> Subnet {
    Subnet::new(net(subnet), None, None, BTreeMap::new()).unwrap()
}

fn aux(pairs: &[(&str, &str)]) -> BTreeMap<String, IpAddr> {
    pairs.iter().map(|&(k, v)| (k.to_string(), ip(v))).collect()
}

#[test]
fn gateway_defaults_to_first_host() {
    let s = plain("172.18.0.5/16");
    assert_eq!(s.subnet(), net("172.18.0.0/16"));
    assert_eq!(s.gateway(), ip("172.18.0.1"));
}

#[test]
fn gateway_defaults_to_first_address_of_ip_range() {
    let range = Some(net("172.30.5.0/24"));
    let s = Subnet::new(net("172.30.0.0/16"), None, range, BTreeMap::new()).unwrap();
    assert_eq!(s.gateway(), ip("172.30.5.0"));
}

#[test]
fn gateway_must_be_a_host_in_the_subnet() {
    let outside = Subnet::new(
        net("10.1.0.0/24"),
        Some(ip("10.2.0.1")),
        None,
        BTreeMap::new(),
    );
    assert_eq!(
        outside.unwrap_err().to_string(),
        "failed to allocate gateway (10.2.0.1): Requested address is out of range"
    );
    let broadcast = Subnet::new(
        net("10.1.0.0/24"),
        Some(ip("10.1.0.255")),
        None,
        BTreeMap::new(),
    );
    assert_eq!(
        broadcast.unwrap_err(),
        IpamError::GatewayInUse {
            gateway: ip("10.1.0.255")
        }
    );
}

#[test]
fn ip_range_must_be_inside_subnet() {
    let err = Subnet::new(
        net("10.1.0.0/24"),
        None,
        Some(net("10.1.0.0/23")),
        BTreeMap::new(),
    );
    assert_eq!(
        err.unwrap_err().to_string(),
        "no matching subnet for range 10.1.0.0/23"
    );
}

#[test]
fn aux_addresses_are_checked_and_reserved() {
    let outside = Subnet::new(net("10.1.0.0/24"), None, None, aux(&[("r", "10.9.0.1")]));
    assert_eq!(
        outside.unwrap_err().to_string(),
        "auxiliary address: (r:10.9.0.1) must belong to the master pool: 10.1.0.0/24"
    );
    let on_gateway = Subnet::new(net("10.1.0.0/24"), None, None, aux(&[("r", "10.1.0.1")]));
    assert_eq!(
        on_gateway.unwrap_err().to_string(),
        "failed to allocate secondary ip address (r:10.1.0.1): Address already in use"
    );
    let mut s = Subnet::new(net("10.1.0.0/24"), None, None, aux(&[("r", "10.1.0.2")])).unwrap();
    assert_eq!(s.allocate(None).unwrap(), ip("10.1.0.3"));
    let err = s.allocate(Some(ip("10.1.0.2"))).unwrap_err();
    assert_eq!(err.to_string(), "Address already in use");
}

#[test]
fn sequential_from_the_range_and_exhaustion() {
    let range = Some(net("10.1.0.4/30"));
    let mut s = Subnet::new(net("10.1.0.0/24"), None, range, BTreeMap::new()).unwrap();
    assert_eq!(s.gateway(), ip("10.1.0.4"));
    assert_eq!(s.allocate(None).unwrap(), ip("10.1.0.5"));
    assert_eq!(s.allocate(None).unwrap(), ip("10.1.0.6"));
    assert_eq!(s.allocate(None).unwrap(), ip("10.1.0.7"));
    let err = s.allocate(None).unwrap_err();
    assert_eq!(err.to_string(), "No available addresses on this pool");
    // Outside the range but inside the subnet is fine for --ip.
    assert_eq!(
        s.allocate(Some(ip("10.1.0.200"))).unwrap(),
        ip("10.1.0.200")
    );
}

#[test]
fn network_and_broadcast_are_never_handed_out() {
    let mut s = plain("10.1.0.0/30");
    assert_eq!(s.gateway(), ip("10.1.0.1"));
    assert_eq!(s.allocate(None).unwrap(), ip("10.1.0.2"));
    assert!(matches!(s.allocate(None), Err(IpamError::Exhausted { .. })));
    for addr in ["10.1.0.0", "10.1.0.3"] {
        assert_eq!(
            s.allocate(Some(ip(addr))).unwrap_err(),
            IpamError::InUse { addr: ip(addr) }
        );
    }
}

#[test]
fn wanted_address_must_be_in_subnet_and_free() {
    let mut s = plain("10.1.0.0/24");
    let err = s.allocate(Some(ip("10.2.0.9"))).unwrap_err();
    assert_eq!(err.to_string(), "Requested address is out of range");
    assert_eq!(s.allocate(Some(ip("10.1.0.9"))).unwrap(), ip("10.1.0.9"));
    assert_eq!(
        s.allocate(Some(ip("10.1.0.9"))).unwrap_err().to_string(),
        "Address already in use"
    );
    assert!(matches!(
        s.allocate(Some(ip("10.1.0.1"))),
        Err(IpamError::InUse { .. })
    ));
}

#[test]
fn lowest_free_reuses_a_released_address() {
    let mut s = plain("10.1.0.0/24");
    let a = s.allocate(None).unwrap();
    let b = s.allocate(None).unwrap();
    assert_eq!((a, b), (ip("10.1.0.2"), ip("10.1.0.3")));
    s.release(a).unwrap();
    s.release(a).expect("releasing twice is harmless");
    assert_eq!(s.allocate(None).unwrap(), a);
    assert!(matches!(
        s.release(ip("10.2.0.1")),
        Err(IpamError::OutOfRange { .. })
    ));
}

#[test]
fn serial_continues_after_the_last_and_wraps() {
    let mut s = plain("10.1.0.0/29").with_order(Order::Serial);
    let got: Vec<IpAddr> = (0..5).map(|_| s.allocate(None).unwrap()).collect();
    assert_eq!(got.first(), Some(&ip("10.1.0.2")));
    assert_eq!(got.last(), Some(&ip("10.1.0.6")));
    s.release(ip("10.1.0.3")).unwrap();
    s.release(ip("10.1.0.5")).unwrap();
    // After .6 comes the end of the subnet, so it wraps to the lowest free one.
    assert_eq!(s.allocate(None).unwrap(), ip("10.1.0.3"));
    assert_eq!(s.allocate(None).unwrap(), ip("10.1.0.5"));
}

#[test]
fn releasing_the_gateway_keeps_it_reserved() {
    let mut s = plain("10.1.0.0/24");
    s.release(ip("10.1.0.1")).unwrap();
    assert_eq!(s.allocate(None).unwrap(), ip("10.1.0.2"));
}

#[test]
fn a_whole_slash_16_fills_quickly() {
    let mut s = plain("172.18.0.0/16");
    for _ in 0..65533 {
        s.allocate(None).unwrap();
    }
    assert!(matches!(s.allocate(None), Err(IpamError::Exhausted { .. })));
    s.release(ip("172.18.200.7")).unwrap();
    assert_eq!(s.allocate(None).unwrap(), ip("172.18.200.7"));
}

#[test]
fn serde_round_trip_keeps_allocations() {
    let range = Some(net("10.1.0.128/25"));
    let mut s = Subnet::new(net("10.1.0.0/24"), None, range, aux(&[("r", "10.1.0.130")])).unwrap();
    s.allocate(None).unwrap();
    s.allocate(None).unwrap();
    s.allocate(Some(ip("10.1.0.7"))).unwrap();
    let json = serde_json::to_string(&s).unwrap();
    let mut back: Subnet = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    assert_eq!(back.allocate(None).unwrap(), ip("10.1.0.132"));
    assert!(
        json.contains(r#"{"first":"10.1.0.131","last":"10.1.0.131"}"#),
        "{json}"
    );
}

#[test]
fn ipv6_hands_out_from_one_and_has_no_broadcast() {
    let mut s = plain("fd00:1::/64");
    assert_eq!(s.gateway(), ip("fd00:1::1"));
    assert_eq!(s.allocate(None).unwrap(), ip("fd00:1::2"));
    let last = ip("fd00:1::ffff:ffff:ffff:ffff");
    assert_eq!(s.allocate(Some(last)).unwrap(), last);
    assert_eq!(
        s.allocate(Some(ip("fd00:1::"))).unwrap_err(),
        IpamError::InUse {
            addr: ip("fd00:1::")
        }
    );
    let small = Subnet::new(net("fd00:2::/126"), None, None, BTreeMap::new());
    let mut small = small.unwrap();
    let got: Vec<IpAddr> = (0..2).map(|_| small.allocate(None).unwrap()).collect();
    assert_eq!(got, [ip("fd00:2::2"), ip("fd00:2::3")]);
    assert!(matches!(
        small.allocate(None),
        Err(IpamError::Exhausted { .. })
    ));
}

#[test]
fn ipv6_wanted_must_be_v6() {
    let mut s = plain("fd00:1::/64");
    let err = s.allocate(Some(ip("10.0.0.1"))).unwrap_err();
    assert_eq!(
        err,
        IpamError::OutOfRange {
            addr: ip("10.0.0.1")
        }
    );
}
