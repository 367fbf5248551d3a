use super::*;
use crate::testns::in_new_netns;

fn nft(args: &[&str]) -> String {
    let out = Command::new("nft").args(args).output().expect("nft");
    assert!(
        out.status.success(),
        "nft {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sample() -> Ruleset {
    Ruleset {
        bridges: vec![
            Bridge {
                name: "berth0".into(),
                subnets: vec![
                    "172.17.0.0/16".parse().unwrap(),
                    "fd00:1::/64".parse().unwrap(),
                ],
                masquerade: true,
                internal: false,
                icc: true,
            },
            Bridge {
                name: "br-internal".into(),
                subnets: vec!["172.18.0.0/16".parse().unwrap()],
                masquerade: true,
                internal: true,
                icc: false,
            },
        ],
        ports: vec![
            Port {
                proto: Proto::Tcp,
                host_ip: None,
                host_port: 8080,
                container_ip: "172.17.0.2".parse().unwrap(),
                container_port: 80,
            },
            Port {
                proto: Proto::Udp,
                host_ip: Some("127.0.0.1".parse().unwrap()),
                host_port: 5353,
                container_ip: "172.17.0.3".parse().unwrap(),
                container_port: 53,
            },
            Port {
                proto: Proto::Tcp,
                host_ip: None,
                host_port: 8443,
                container_ip: "fd00:1::2".parse().unwrap(),
                container_port: 443,
            },
        ],
    }
}

#[test]
fn the_table_loads_with_ports_in_maps_and_bridges_in_sets() {
    let listed = in_new_netns(|| {
        sample().apply().unwrap();
        nft(&["list", "table", "inet", TABLE])
    });
    assert!(listed.contains("8080 : 172.17.0.2 . 80"), "{listed}");
    assert!(
        listed.contains("127.0.0.1 . 5353 : 172.17.0.3 . 53"),
        "{listed}"
    );
    assert!(listed.contains("8443 : fd00:1::2 . 443"), "{listed}");
    assert!(listed.contains("\"berth0\""), "{listed}");
    assert!(
        listed.contains("ip saddr 172.17.0.0/16 oifname != \"berth0\" masquerade"),
        "{listed}"
    );
    assert!(
        !listed.contains("ip saddr 172.18.0.0/16 oifname"),
        "an internal network is not masqueraded: {listed}"
    );
    assert!(listed.contains("jump berth-user"), "{listed}");
}

#[test]
fn a_rebuild_drops_stale_entries_and_keeps_the_administrators_chain() {
    let listed = in_new_netns(|| {
        sample().apply().unwrap();
        nft(&[
            "add", "rule", "inet", TABLE, USER_CHAIN, "ip", "saddr", "10.9.9.9", "drop",
        ]);
        let mut fewer = sample();
        fewer.ports.truncate(1);
        fewer.bridges.truncate(1);
        fewer.apply().unwrap();
        // Applying the same state twice changes nothing.
        fewer.apply().unwrap();
        nft(&["list", "table", "inet", TABLE])
    });
    assert!(listed.contains("ip saddr 10.9.9.9 drop"), "kept: {listed}");
    assert!(!listed.contains("5353"), "stale port gone: {listed}");
    assert!(
        !listed.contains("br-internal"),
        "stale bridge gone: {listed}"
    );
    assert_eq!(listed.matches("jump berth-user").count(), 1, "{listed}");
}

#[test]
fn removal_leaves_no_table() {
    let tables = in_new_netns(|| {
        sample().apply().unwrap();
        remove().unwrap();
        remove().unwrap();
        nft(&["list", "tables"])
    });
    assert!(!tables.contains(TABLE), "{tables}");
}

#[test]
fn a_forward_policy_of_drop_gets_narrow_accepts_that_go_again() {
    let (with, again, without, untouched) = in_new_netns(|| {
        let ipt = |args: &[&str]| {
            let out = Command::new("iptables")
                .args(args)
                .output()
                .expect("iptables");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        // A policy that accepts gets nothing.
        ipt(&["-w", "-S", "FORWARD"]);
        forward_accepts(&["berth0".into()]).unwrap();
        let untouched = ipt(&["-w", "-S", "FORWARD"]);
        ipt(&["-w", "-P", "FORWARD", "DROP"]);
        ipt(&["-w", "-A", "FORWARD", "-i", "eth9", "-j", "DROP"]);
        forward_accepts(&["berth0".into(), "br-1".into()]).unwrap();
        let with = ipt(&["-w", "-S", "FORWARD"]);
        forward_accepts(&["berth0".into()]).unwrap();
        let again = ipt(&["-w", "-S", "FORWARD"]);
        remove_forward_accepts().unwrap();
        (with, again, ipt(&["-w", "-S", "FORWARD"]), untouched)
    });
    assert!(!untouched.contains("berth"), "{untouched}");
    assert_eq!(with.matches("--comment berth").count(), 6, "{with}");
    assert!(
        with.contains("-A FORWARD -o berth0 -m conntrack --ctstate DNAT"),
        "{with}"
    );
    assert_eq!(
        again.matches("--comment berth").count(),
        3,
        "rebuilt, not added to: {again}"
    );
    assert!(!without.contains("berth"), "{without}");
    assert!(
        without.contains("-A FORWARD -i eth9 -j DROP"),
        "the host's rules stay: {without}"
    );
}
