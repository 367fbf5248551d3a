//! Issue 10, first part: bridge networks through the stock docker CLI, with the daemon in a
//! network namespace of the test's own, so its bridges and firewall never touch the host.

mod common;

use common::TestDaemon;

fn inspect(d: &TestDaemon, net: &str, format: &str) -> String {
    d.docker(&["network", "inspect", "-f", format, net])
        .ok()
        .trim()
        .to_string()
}

#[test]
fn bridge_networks_are_created_with_dockers_addressing_listed_inspected_and_removed() {
    let d = TestDaemon::start_in_netns();
    let ls = d
        .docker(&["network", "ls", "--format", "{{.Name}} {{.Driver}}"])
        .ok();
    assert_eq!(ls, "bridge bridge\nhost host\nnone null\n");
    let id = d
        .docker(&["network", "create", "--label", "app=web", "front"])
        .ok();
    let id = id.trim();
    assert_eq!(id.len(), 64);
    // Docker's first pool after the default bridge's 172.17.0.0/16.
    assert_eq!(
        inspect(
            &d,
            "front",
            "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}"
        ),
        "172.18.0.0/16 172.18.0.1"
    );
    assert_eq!(
        inspect(&d, "front", "{{.Driver}} {{.Scope}} {{.Labels.app}}"),
        "bridge local web"
    );
    let bridge = format!("br-{}", &id[..12]);
    let link = d.in_netns(&["ip", "-br", "addr", "show", &bridge]).ok();
    assert!(link.contains("172.18.0.1/16"), "{link}");
    d.docker(&[
        "network",
        "create",
        "--subnet",
        "10.5.0.0/24",
        "--gateway",
        "10.5.0.254",
        "--ip-range",
        "10.5.0.128/25",
        "--aux-address",
        "printer=10.5.0.10",
        "--internal",
        "-o",
        "com.docker.network.bridge.name=berthtest1",
        "back",
    ])
    .ok();
    assert_eq!(
        inspect(
            &d,
            "back",
            "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{.IPRange}} {{.AuxiliaryAddresses.printer}}{{end}} {{.Internal}}"
        ),
        "10.5.0.0/24 10.5.0.254 10.5.0.128/25 10.5.0.10 true"
    );
    d.in_netns(&["ip", "link", "show", "berthtest1"]).ok();
    // berth's table holds both bridges; an internal one is not masqueraded.
    let table = d.in_netns(&["nft", "list", "table", "inet", "berth"]).ok();
    assert!(
        table.contains(&bridge) && table.contains("berthtest1"),
        "{table}"
    );
    assert!(table.contains("ip saddr 172.18.0.0/16 oifname"), "{table}");
    assert!(!table.contains("ip saddr 10.5.0.0/24 oifname"), "{table}");
    let names = d
        .docker(&["network", "ls", "-q", "--filter", "label=app=web"])
        .ok();
    assert_eq!(names.trim(), &id[..12]);
    d.docker(&["network", "rm", "front"]).ok();
    assert!(
        d.in_netns(&["ip", "link", "show", &bridge]).code != 0,
        "the bridge went"
    );
    d.docker(&["network", "prune", "-f"]).ok();
    // bridge, host and none are left.
    assert_eq!(d.docker(&["network", "ls", "-q"]).ok().lines().count(), 3);
    let table = d.in_netns(&["nft", "list", "table", "inet", "berth"]).ok();
    assert!(!table.contains("berthtest1"), "{table}");
}

#[test]
fn bad_network_requests_get_dockers_answers_and_change_nothing() {
    let d = TestDaemon::start_in_netns();
    d.docker(&["network", "create", "--subnet", "10.6.0.0/16", "one"])
        .ok();
    d.docker(&["network", "create", "one"])
        .fails_with(1, "network with name one already exists");
    d.docker(&["network", "create", "--subnet", "10.6.1.0/24", "two"])
        .fails_with(1, "Pool overlaps with other one on this address space");
    d.docker(&["network", "create", "-d", "overlay", "o"])
        .fails_with(1, "berth does not support the overlay network driver");
    d.docker(&["network", "create", "-d", "nosuch", "p"])
        .fails_with(1, "plugin \"nosuch\" not found");
    d.docker(&[
        "network",
        "create",
        "--subnet",
        "10.7.0.0/24",
        "--gateway",
        "10.8.0.1",
        "q",
    ])
    .fails_with(1, "");
    d.docker(&["network", "rm", "none"])
        .fails_with(1, "none is a pre-defined network and cannot be removed");
    d.docker(&["network", "inspect", "nosuch"])
        .fails_with(1, "nosuch");
    let ls = d.docker(&["network", "ls", "--format", "{{.Name}}"]).ok();
    assert_eq!(ls, "bridge\nhost\nnone\none\n");
    d.docker(&["network", "rm", "bridge"])
        .fails_with(1, "bridge is a pre-defined network and cannot be removed");
    d.docker(&["network", "create", "bridge"])
        .fails_with(1, "bridge is a pre-defined network name");
    d.import_busybox("busybox");
    d.docker(&["run", "--rm", "--network", "nosuch", "busybox", "true"])
        .fails_with(125, "network nosuch not found");
}

#[test]
fn networks_come_back_after_a_restart() {
    let mut d = TestDaemon::start_in_netns();
    let id = d.docker(&["network", "create", "keep"]).ok();
    let bridge = format!("br-{}", &id.trim()[..12]);
    d.kill9();
    // As after a host reboot: the bridge and the table are gone.
    d.in_netns(&["ip", "link", "del", &bridge]).ok();
    d.in_netns(&["nft", "delete", "table", "inet", "berth"])
        .ok();
    d.spawn();
    assert!(
        d.in_netns(&["ip", "-br", "addr", "show", &bridge])
            .ok()
            .contains("172.18.0.1/16")
    );
    let table = d.in_netns(&["nft", "list", "table", "inet", "berth"]).ok();
    assert!(table.contains(&bridge), "{table}");
    assert_eq!(inspect(&d, "keep", "{{.Name}}"), "keep");
}

#[test]
fn berth_network_commands_print_as_docker_does() {
    let d = TestDaemon::start_in_netns();
    let id = d
        .berth(&[
            "network",
            "create",
            "--subnet",
            "10.9.0.0/24",
            "--label",
            "a=b",
            "mine",
        ])
        .ok();
    assert_eq!(id.trim().len(), 64);
    // The same table the stock CLI prints.
    assert_eq!(
        d.berth(&["network", "ls"]).ok(),
        d.docker(&["network", "ls"]).ok()
    );
    assert_eq!(
        d.berth(&["network", "inspect", "-f", "{{.Name}} {{.Driver}}", "mine"])
            .ok(),
        "mine bridge\n"
    );
    let inspected: serde_json::Value =
        serde_json::from_str(&d.berth(&["network", "inspect", "mine"]).ok()).unwrap();
    assert_eq!(inspected[0]["IPAM"]["Config"][0]["Subnet"], "10.9.0.0/24");
    assert_eq!(
        d.berth(&["network", "ls", "-q", "-f", "name=mine"])
            .ok()
            .trim(),
        &id.trim()[..12]
    );
    // Never the default bridge.
    let pruned = d.berth(&["network", "prune", "-f"]).ok();
    assert_eq!(pruned, "Deleted Networks:\nmine\n\n");
    d.berth(&[
        "network",
        "rm",
        d.berth(&["network", "ls", "-q", "-f", "name=bridge"])
            .ok()
            .trim(),
    ])
    .fails_with(1, "bridge is a pre-defined network and cannot be removed");
    d.berth(&["network", "rm", "none"])
        .fails_with(1, "none is a pre-defined network and cannot be removed");
}

#[test]
fn containers_on_a_bridge_network_reach_each_other_and_leave_nothing_behind() {
    let mut d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    d.docker(&["network", "create", "front"]).ok();
    let server = d
        .docker(&[
            "run",
            "-d",
            "--name",
            "srv",
            "--network",
            "front",
            "busybox",
            "sh",
            "-c",
            "while true; do echo hello | busybox nc -l -p 80; done",
        ])
        .ok();
    let server = server.trim();
    let ip = d
        .docker(&[
            "inspect",
            "-f",
            "{{.NetworkSettings.Networks.front.IPAddress}}",
            "srv",
        ])
        .ok();
    let ip = ip.trim();
    assert_eq!(ip, "172.18.0.2", "the first address after the gateway");
    let shown = d
        .docker(&[
            "inspect", "-f",
            "{{.HostConfig.NetworkMode}} {{with .NetworkSettings.Networks.front}}{{.Gateway}} {{.IPPrefixLen}} {{.MacAddress}}{{end}}",
            "srv",
        ])
        .ok();
    assert_eq!(shown.trim(), "front 172.18.0.1 16 02:42:ac:12:00:02");
    let hosts = d.docker(&["exec", "srv", "cat", "/etc/hosts"]).ok();
    assert!(
        hosts.ends_with(&format!("{ip}\t{}\n", &server[..12])),
        "{hosts}"
    );
    // Another container on the network reaches it (retried while the server starts).
    let got = (0..50)
        .map(|_| {
            d.docker(&[
                "run",
                "--rm",
                "--network",
                "front",
                "busybox",
                "busybox",
                "nc",
                ip,
                "80",
            ])
        })
        .find(|o| o.code == 0 && o.stdout.contains("hello"));
    assert!(got.is_some(), "connected to {ip}:80");
    let members = d
        .docker(&[
            "network",
            "inspect",
            "-f",
            "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}",
            "front",
        ])
        .ok();
    assert_eq!(members.trim(), "srv 172.18.0.2/16");
    d.docker(&["network", "rm", "front"])
        .fails_with(1, "has active endpoints");
    // The running container keeps its network across a daemon's kill -9 and restart.
    d.kill9();
    d.spawn();
    let again = (0..50)
        .map(|_| {
            d.docker(&[
                "run",
                "--rm",
                "--network",
                "front",
                "busybox",
                "busybox",
                "nc",
                ip,
                "80",
            ])
        })
        .find(|o| o.code == 0 && o.stdout.contains("hello"));
    assert!(
        again.is_some(),
        "still reachable at {ip}:80 after the restart"
    );
    d.docker(&["rm", "-f", "srv"]).ok();
    // Nothing left: no veth on the bridge (deleted just after the container's end, off the
    // path of `rm`), no namespace file, the address free again.
    let links = (0..100)
        .map(|i| {
            if i > 0 {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            d.in_netns(&["ip", "-br", "link"]).ok()
        })
        .find(|links| !links.contains("veth"));
    assert!(links.is_some(), "a veth is left after rm -f");
    assert!(
        std::fs::read_dir(d.exec_root.join("netns"))
            .unwrap()
            .next()
            .is_none()
    );
    let again = d
        .docker(&[
            "run",
            "--rm",
            "--network",
            "front",
            "busybox",
            "sh",
            "-c",
            "cat /etc/hosts | tail -1",
        ])
        .ok();
    assert!(again.starts_with("172.18.0.2\t"), "{again}");
    d.docker(&["network", "rm", "front"]).ok();
}
