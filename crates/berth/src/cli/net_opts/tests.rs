use super::*;

fn b(ip: &str, port: &str) -> PortBinding {
    PortBinding {
        host_ip: ip.into(),
        host_port: port.into(),
    }
}

fn spec(s: &str) -> Vec<(String, PortBinding)> {
    parse_port_spec(s)
        .unwrap()
        .into_iter()
        .map(|m| (m.port, m.binding))
        .collect()
}

#[test]
fn port_specs_as_nat_parses_them() {
    assert_eq!(spec("80"), [("80/tcp".into(), b("", ""))]);
    assert_eq!(spec("8080:80"), [("80/tcp".into(), b("", "8080"))]);
    assert_eq!(
        spec("127.0.0.1::81/udp"),
        [("81/udp".into(), b("127.0.0.1", ""))]
    );
    assert_eq!(
        spec("1.2.3.4:53:53/UDP"),
        [("53/udp".into(), b("1.2.3.4", "53"))]
    );
    assert_eq!(spec("[::1]:80:80"), [("80/tcp".into(), b("::1", "80"))]);
    assert_eq!(spec("::1:80:80"), [("80/tcp".into(), b("::1", "80"))]);
    assert_eq!(spec("80/sctp"), [("80/sctp".into(), b("", ""))]);
    assert_eq!(spec("80/"), [("80/tcp".into(), b("", ""))]);
    assert_eq!(
        spec("[::]:9000-9001:9000-9001"),
        [
            ("9000/tcp".into(), b("::", "9000")),
            ("9001/tcp".into(), b("::", "9001"))
        ]
    );
    assert_eq!(
        spec("7000-7001:80-81/udp"),
        [
            ("80/udp".into(), b("", "7000")),
            ("81/udp".into(), b("", "7001"))
        ]
    );
    // A host range for one container port: the daemon picks a port in it.
    assert_eq!(
        spec("7000-7005:82"),
        [("82/tcp".into(), b("", "7000-7005"))]
    );
    assert_eq!(
        spec("0.0.0.0::80-81"),
        [
            ("80/tcp".into(), b("0.0.0.0", "")),
            ("81/tcp".into(), b("0.0.0.0", ""))
        ]
    );
}

#[test]
fn port_spec_errors_are_nats() {
    let err = |s: &str| parse_port_spec(s).unwrap_err();
    assert_eq!(err("80:abc"), "invalid containerPort: abc");
    assert_eq!(err("abc:80"), "invalid hostPort: abc");
    assert_eq!(err("1.2.3:80:80"), "invalid IP address: 1.2.3");
    assert_eq!(err("80:"), "no port specified: 80:<empty>");
    assert_eq!(err(""), "no port specified: <empty>");
    assert_eq!(err("/tcp"), "no port specified: /tcp<empty>");
    assert_eq!(err("80/icmp"), "invalid proto: icmp");
    assert_eq!(err("80/ICMP"), "invalid proto: ICMP");
    assert_eq!(err("70000"), "invalid containerPort: 70000");
    assert_eq!(err("90-80"), "invalid containerPort: 90-80");
    assert_eq!(
        err("1000-1001:80-82"),
        "invalid ranges specified for container and host Ports: 80-82 and 1000-1001"
    );
    assert_eq!(
        err("[::1:80:80"),
        "invalid IP address [::1: address [::1:: missing ']' in address"
    );
    assert_eq!(
        err("[::1]x:80:80"),
        "invalid IP address [::1]x: address [::1]x:: missing port in address"
    );
}

#[test]
fn specs_merge_into_exposed_ports_and_bindings() {
    let specs: Vec<String> = ["80", "8080:80", "127.0.0.1:53:53/udp"]
        .map(String::from)
        .to_vec();
    let (exposed, bindings) = parse_port_specs(&specs).unwrap();
    assert_eq!(
        serde_json::to_value(&exposed).unwrap(),
        json!({"80/tcp": {}, "53/udp": {}})
    );
    assert_eq!(
        serde_json::to_value(&bindings).unwrap(),
        json!({
            "80/tcp": [{"HostIp": "", "HostPort": ""}, {"HostIp": "", "HostPort": "8080"}],
            "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "53"}],
        })
    );
}

#[test]
fn long_publish_syntax() {
    assert_eq!(
        standard_notation("published=8080,target=80").unwrap(),
        "8080:80/tcp"
    );
    assert_eq!(
        standard_notation("target=53,protocol=udp,mode=host").unwrap(),
        ":53/udp"
    );
    assert_eq!(
        standard_notation("target=80,x").unwrap_err().to_string(),
        "invalid publish opts format (should be name=value but got 'x')"
    );
}

#[test]
fn expose_takes_ports_and_ranges() {
    assert_eq!(expose_ports("80").unwrap(), ["80/tcp"]);
    assert_eq!(
        expose_ports("100-102/udp").unwrap(),
        ["100/udp", "101/udp", "102/udp"]
    );
    assert_eq!(expose_ports("80/TCP").unwrap(), ["80/TCP"]);
    assert_eq!(
        expose_ports("80:81").unwrap_err().to_string(),
        "invalid port format for --expose: 80:81"
    );
    assert_eq!(
        expose_ports("abc").unwrap_err().to_string(),
        "invalid range format for --expose: abc, error: strconv.ParseUint: parsing \"abc\": invalid syntax"
    );
    assert_eq!(
        expose_ports("9-8").unwrap_err().to_string(),
        "invalid range format for --expose: 9-8, error: invalid range specified for port: 9-8"
    );
    assert_eq!(
        expose_ports("").unwrap_err().to_string(),
        "invalid range format for --expose: , error: empty string specified for ports"
    );
    assert_eq!(
        expose_ports("99999").unwrap_err().to_string(),
        "invalid range format for --expose: 99999, error: strconv.ParseUint: parsing \"99999\": value out of range"
    );
}

#[test]
fn add_host_as_the_cli_checks_it() {
    assert_eq!(validate_extra_host("a:1.2.3.4").unwrap(), "a:1.2.3.4");
    assert_eq!(validate_extra_host("a=1.2.3.4").unwrap(), "a:1.2.3.4");
    assert_eq!(validate_extra_host("a:::1").unwrap(), "a:::1");
    assert_eq!(validate_extra_host("a=[::1]").unwrap(), "a:::1");
    assert_eq!(validate_extra_host("a=0:0::1").unwrap(), "a:0:0::1");
    assert_eq!(
        validate_extra_host("gw:host-gateway").unwrap(),
        "gw:host-gateway"
    );
    assert_eq!(
        validate_extra_host("foo").unwrap_err(),
        "bad format for add-host: \"foo\""
    );
    assert_eq!(
        validate_extra_host(":1.2.3.4").unwrap_err(),
        "bad format for add-host: \":1.2.3.4\""
    );
    assert_eq!(
        validate_extra_host("a:b=1.2.3.4").unwrap_err(),
        "bad format for add-host: \"a:b=1.2.3.4\""
    );
    assert_eq!(
        validate_extra_host("a:nope").unwrap_err(),
        "invalid IP address in add-host: \"nope\""
    );
}

#[test]
fn dns_flags_as_the_cli_checks_them() {
    assert_eq!(validate_ip_address("8.8.8.8").unwrap(), "8.8.8.8");
    assert_eq!(validate_ip_address(" 0:0::1 ").unwrap(), "::1");
    assert_eq!(validate_ip_address("::ffff:1.2.3.4").unwrap(), "1.2.3.4");
    assert_eq!(
        validate_ip_address("1.2.3").unwrap_err(),
        "IP address is not correctly formatted: 1.2.3"
    );
    assert_eq!(validate_dns_search("example.com.").unwrap(), "example.com");
    assert_eq!(validate_dns_search(".").unwrap(), ".");
    assert_eq!(validate_dns_search("a-b.c1").unwrap(), "a-b.c1");
    assert_eq!(
        validate_dns_search("-a").unwrap_err(),
        "-a is not a valid domain"
    );
    assert_eq!(
        validate_dns_search("123").unwrap_err(),
        "123 is not a valid domain"
    );
    assert_eq!(
        validate_dns_search("a..b").unwrap_err(),
        "a..b is not a valid domain"
    );
    let long = format!("{}.com", "a".repeat(252));
    validate_dns_search(&long).unwrap_err();
}

#[test]
fn links_and_macs() {
    validate_link("c1").unwrap();
    validate_link("c1:alias").unwrap();
    assert_eq!(
        validate_link("a:b:c").unwrap_err(),
        "bad format for links: a:b:c"
    );
    assert_eq!(
        validate_link("").unwrap_err(),
        "empty string specified for links"
    );
    assert!(valid_mac("92:d0:c6:0a:29:33"));
    assert!(valid_mac("92-D0-C6-0A-29-33"));
    assert!(valid_mac("92d0.c60a.2933"));
    assert!(!valid_mac("92:d0:c6:0a:29"));
    assert!(!valid_mac("92:d0:c6:0a:29:3g"));
    assert!(!valid_mac("zz"));
}

#[test]
fn network_long_syntax() {
    let n = parse_network_opt("name=N1,alias=A,alias=b,ip=10.0.0.2,driver-opt=K=V").unwrap();
    assert_eq!(n.target, "n1");
    assert_eq!(n.aliases, ["a", "b"]);
    assert_eq!(n.ipv4.as_deref(), Some("10.0.0.2"));
    assert_eq!(n.driver_opts, BTreeMap::from([("k".into(), "v".into())]));
    assert_eq!(parse_network_opt("my-net").unwrap().target, "my-net");
    assert_eq!(
        parse_network_opt("name=n,foo=bar").unwrap_err(),
        "invalid field key foo"
    );
    assert_eq!(
        parse_network_opt("alias=a").unwrap_err(),
        "network name/id is not specified"
    );
    assert_eq!(
        parse_network_opt("name=n,x").unwrap_err(),
        "invalid field x"
    );
    assert_eq!(
        parse_network_opt("name=n,driver-opt=x").unwrap_err(),
        "invalid key value pair format in driver options"
    );
    assert_eq!(
        parse_network_opt("name=n,gw-priority=x").unwrap_err(),
        "invalid gw-priority (x): invalid syntax"
    );
    assert_eq!(
        parse_network_opt("\"name=a,b\",alias=x").unwrap().target,
        "a,b"
    );
}

fn opts(args: &[&str]) -> NetOpts {
    use clap::Parser;
    #[derive(clap::Parser)]
    struct T {
        #[command(flatten)]
        o: NetOpts,
    }
    let mut v = vec!["t"];
    v.extend_from_slice(args);
    T::try_parse_from(v).unwrap().o
}

#[test]
fn no_flags_send_what_the_cli_sends() {
    let p = opts(&[]).parse().unwrap();
    assert_eq!(p.network_mode, "default");
    assert_eq!(p.exposed_ports, None);
    assert!(p.port_bindings.is_empty());
    assert_eq!(p.extra_hosts, None);
    assert_eq!(
        p.endpoints,
        BTreeMap::from([("default".into(), Some(EndpointSettings::default()))])
    );
}

#[test]
fn first_network_takes_the_endpoint_flags() {
    let p = opts(&[
        "--network",
        "n1",
        "--network-alias",
        "a1",
        "--ip",
        "10.0.0.2",
        "--ip6",
        "fd00::2",
        "--link",
        "c1:x",
        "--mac-address",
        "92:d0:c6:0a:29:33",
        "--network",
        "name=n2,alias=b",
    ])
    .parse()
    .unwrap();
    assert_eq!(p.network_mode, "n1");
    assert_eq!(p.links, Some(vec!["c1:x".into()]));
    assert_eq!(p.mac_address, "92:d0:c6:0a:29:33");
    let n1 = p.endpoints["n1"].clone().unwrap();
    assert_eq!(n1.aliases, Some(vec!["a1".into()]));
    assert_eq!(n1.links, Some(vec!["c1:x".into()]));
    assert_eq!(n1.mac_address, "92:d0:c6:0a:29:33");
    assert_eq!(
        n1.ipam_config,
        Some(EndpointIpamConfig {
            ipv4_address: "10.0.0.2".into(),
            ipv6_address: "fd00::2".into(),
            link_local_ips: None,
        })
    );
    let n2 = p.endpoints["n2"].clone().unwrap();
    assert_eq!(n2.aliases, Some(vec!["b".into()]));
    assert_eq!(n2.ipam_config, None);
    // One network and nothing to say about it: no endpoint.
    assert!(
        opts(&["--network", "n1"])
            .parse()
            .unwrap()
            .endpoints
            .is_empty()
    );
    assert!(
        opts(&["--network", "host"])
            .parse()
            .unwrap()
            .endpoints
            .is_empty()
    );
    // A legacy link on the default bridge is only a HostConfig link.
    let p = opts(&["--link", "c1"]).parse().unwrap();
    assert_eq!(p.links, Some(vec!["c1".into()]));
    assert_eq!(p.endpoints["default"], Some(EndpointSettings::default()));
}

#[test]
fn network_errors_as_the_cli_words_them() {
    let err = |a: &[&str]| opts(a).parse().unwrap_err().to_string();
    assert_eq!(
        err(&["--network-alias", "a"]),
        "network-scoped aliases are only supported for user-defined networks"
    );
    assert_eq!(
        err(&["--network", "n1", "--network", "n1"]),
        "network \"n1\" is specified multiple times"
    );
    assert_eq!(
        err(&["--network", "n1", "--network", "host"]),
        "conflicting options: cannot attach both user-defined and non-user-defined network-modes"
    );
    assert_eq!(
        err(&["--network", "name=n1,alias=x", "--network-alias", "y"]),
        "conflicting options: cannot specify both --network-alias and per-network alias"
    );
    assert_eq!(
        err(&["--network", "name=n1,ip=10.0.0.3", "--ip", "10.0.0.2"]),
        "conflicting options: cannot specify both --ip and per-network IPv4 address"
    );
    assert_eq!(
        err(&["--mac-address", "zz"]),
        "zz is not a valid mac address"
    );
    assert_eq!(
        err(&["--network", "name=n1,mac-address=zz"]),
        "zz is not a valid mac address"
    );
    assert_eq!(
        err(&["--network", "name=n1,bad=1"]),
        "invalid argument \"name=n1,bad=1\" for \"--network\" flag: invalid field key bad"
    );
    assert_eq!(
        err(&["--add-host", "foo"]),
        "invalid argument \"foo\" for \"--add-host\" flag: bad format for add-host: \"foo\""
    );
    assert_eq!(
        err(&["--dns", "1.2.3"]),
        "invalid argument \"1.2.3\" for \"--dns\" flag: IP address is not correctly formatted: 1.2.3"
    );
    assert_eq!(
        err(&["--dns-search", "-a"]),
        "invalid argument \"-a\" for \"--dns-search\" flag: -a is not a valid domain"
    );
    assert_eq!(err(&["-p", "80:abc"]), "invalid containerPort: abc");
}

#[test]
fn everything_at_once() {
    let p = opts(&[
        "-p",
        "80",
        "-p",
        "8080:80",
        "-p",
        "127.0.0.1::81/udp",
        "-p",
        "[::1]:9000-9001:9000-9001",
        "--expose",
        "100-101/udp",
        "--expose",
        "80",
        "-P",
        "--dns",
        "8.8.8.8",
        "--dns",
        "0:0::1",
        "--dns-search",
        "example.com.",
        "--dns-opt",
        "ndots:2",
        "--dns-option",
        "rotate",
        "--add-host",
        "a=1.2.3.4",
        "--add-host",
        "b:host-gateway",
        "--add-host",
        "c=[::1]",
    ])
    .parse()
    .unwrap();
    assert_eq!(
        serde_json::to_value(&p.exposed_ports).unwrap(),
        json!({"100/udp": {}, "101/udp": {}, "80/tcp": {}, "81/udp": {}, "9000/tcp": {}, "9001/tcp": {}})
    );
    assert_eq!(
        serde_json::to_value(&p.port_bindings).unwrap(),
        json!({
            "80/tcp": [{"HostIp": "", "HostPort": ""}, {"HostIp": "", "HostPort": "8080"}],
            "81/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
            "9000/tcp": [{"HostIp": "::1", "HostPort": "9000"}],
            "9001/tcp": [{"HostIp": "::1", "HostPort": "9001"}],
        })
    );
    assert!(p.publish_all);
    assert_eq!(p.dns, ["8.8.8.8", "::1"]);
    assert_eq!(p.dns_search, ["example.com"]);
    assert_eq!(p.dns_options, ["ndots:2", "rotate"]);
    assert_eq!(
        p.extra_hosts,
        Some(vec![
            "a:1.2.3.4".into(),
            "b:host-gateway".into(),
            "c:::1".into()
        ])
    );
    assert_eq!(
        p.warning.as_deref(),
        Some("Localhost DNS setting (--dns=::1) may fail in containers.")
    );
}
