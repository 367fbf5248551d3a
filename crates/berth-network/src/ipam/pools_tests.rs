use super::*;

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn pool(base: &str, size: u32) -> PoolConfig {
    PoolConfig {
        base: base.into(),
        size,
    }
}

#[test]
fn docker_defaults_in_order() {
    let all: Vec<IpNet> = Pools::default().subnets().collect();
    // 3 × /16, 3 × /14 split into 4 × /16, 192.168/16 split into 16 × /20.
    assert_eq!(all.len(), 3 + 12 + 16);
    assert_eq!(all[0], net("172.17.0.0/16"));
    assert_eq!(all[2], net("172.19.0.0/16"));
    assert_eq!(all[3], net("172.20.0.0/16"));
    assert_eq!(all[14], net("172.31.0.0/16"));
    assert_eq!(all[15], net("192.168.0.0/20"));
    assert_eq!(all[16], net("192.168.16.0/20"));
    assert_eq!(all[30], net("192.168.240.0/20"));
}

#[test]
fn first_free_pool_skips_existing_networks() {
    let mut pools = Pools::default();
    let existing = [net("172.17.0.0/16"), net("172.18.5.0/24")];
    let got = pools.allocate_subnet(IpFamily::V4, &existing, &[]).unwrap();
    assert_eq!(got, net("172.19.0.0/16"));
}

#[test]
fn host_routes_and_nameservers_are_skipped_but_default_route_is_not() {
    let mut pools = Pools::default();
    let routes = [
        net("0.0.0.0/0"),
        net("172.16.0.0/12"),
        net("192.168.0.53/32"),
    ];
    let got = pools.allocate_subnet(IpFamily::V4, &[], &routes).unwrap();
    assert_eq!(got, net("192.168.16.0/20"));
}

#[test]
fn start_index_rotates_like_libnetwork() {
    let mut pools = Pools::default();
    let a = pools.allocate_subnet(IpFamily::V4, &[], &[]).unwrap();
    assert_eq!(a, net("172.17.0.0/16"));
    // 172.17 was freed again, but the search goes on from after it.
    let b = pools.allocate_subnet(IpFamily::V4, &[], &[]).unwrap();
    assert_eq!(b, net("172.18.0.0/16"));
}

#[test]
fn rotation_wraps_to_the_start() {
    let mut pools = Pools::new(&[pool("10.9.0.0/23", 24)]).unwrap();
    let first = pools.allocate_subnet(IpFamily::V4, &[], &[]).unwrap();
    let second = pools.allocate_subnet(IpFamily::V4, &[first], &[]).unwrap();
    assert_eq!(second, net("10.9.1.0/24"));
    let third = pools.allocate_subnet(IpFamily::V4, &[second], &[]).unwrap();
    assert_eq!(third, net("10.9.0.0/24"));
}

#[test]
fn exhaustion_is_dockers_error() {
    let mut pools = Pools::default();
    let everything = [net("172.16.0.0/12"), net("192.168.0.0/16")];
    let err = pools
        .allocate_subnet(IpFamily::V4, &everything, &[])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network"
    );
}

#[test]
fn no_ipv6_defaults_as_in_docker_20_10() {
    let err = Pools::default()
        .allocate_subnet(IpFamily::V6, &[], &[])
        .unwrap_err();
    assert_eq!(
        err,
        IpamError::NoAvailablePool {
            family: IpFamily::V6
        }
    );
    assert!(err.to_string().contains("IPv6 address pool"));
}

#[test]
fn configured_pools_replace_defaults_and_may_be_ipv6() {
    let config = [pool("10.10.0.0/16", 24), pool("fd00:dead::/48", 64)];
    let mut pools = Pools::new(&config).unwrap();
    let v4 = pools.allocate_subnet(IpFamily::V4, &[], &[]).unwrap();
    assert_eq!(v4, net("10.10.0.0/24"));
    let taken = [net("fd00:dead::/56")];
    let v6 = pools.allocate_subnet(IpFamily::V6, &taken, &[]).unwrap();
    assert_eq!(v6, net("fd00:dead:0:100::/64"));
}

#[test]
fn huge_ipv6_base_is_searched_by_jumping() {
    let mut pools = Pools::new(&[pool("fd00::/16", 64)]).unwrap();
    let taken = [net("fd00::/17")];
    let got = pools.allocate_subnet(IpFamily::V6, &taken, &[]).unwrap();
    assert_eq!(got, net("fd00:8000::/64"));
}

#[test]
fn pool_config_errors_are_named() {
    let bad_base = Pools::new(&[pool("10.0.0/8", 24)]).unwrap_err();
    assert_eq!(
        bad_base.to_string(),
        r#"invalid base pool "10.0.0/8": invalid CIDR address: 10.0.0/8"#
    );
    for size in [0, 7, 33] {
        let err = Pools::new(&[pool("10.0.0.0/8", size)]).unwrap_err();
        assert_eq!(err.to_string(), format!("invalid pools size: {size}"));
    }
}

#[test]
fn user_subnet_overlapping_a_network_is_refused() {
    let existing = [net("172.18.0.0/16")];
    let err = check_subnet(net("172.18.3.0/24"), &existing).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Pool overlaps with other one on this address space"
    );
    let wider = check_subnet(net("172.16.0.0/12"), &existing).unwrap_err();
    assert_eq!(
        wider,
        IpamError::PoolOverlap {
            subnet: net("172.16.0.0/12"),
            existing: net("172.18.0.0/16"),
        }
    );
    check_subnet(net("172.19.0.0/16"), &existing).expect("no overlap");
    check_subnet(net("fd00::/64"), &existing).expect("other family");
}
