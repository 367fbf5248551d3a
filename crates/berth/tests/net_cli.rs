//! The networking flags of `berth create`/`run` against a real daemon: what the CLI sends
//! (seen through `inspect`) is what the stock docker CLI sends for the same flags, and bad
//! values fail as docker fails, before anything reaches the daemon.

mod common;

use common::TestDaemon;

/// The fields the networking flags set, as inspect shows them.
const FIELDS: &str = "{{json .HostConfig.PortBindings}} {{json .HostConfig.PublishAllPorts}} \
{{json .HostConfig.Dns}} {{json .HostConfig.DnsSearch}} {{json .HostConfig.DnsOptions}} \
{{json .HostConfig.ExtraHosts}} {{json .Config.ExposedPorts}} {{json .Config.Domainname}}";

fn fields(d: &TestDaemon, name: &str) -> String {
    d.berth(&["inspect", "-f", FIELDS, name]).ok()
}

/// Creates a container named `name` with `flags` through both CLIs (`b-NAME` with berth,
/// `d-NAME` with docker) and returns what inspect shows of each.
fn both(d: &TestDaemon, name: &str, flags: &[&str]) -> (String, String) {
    let create = |cli: &str, n: &str| {
        let mut args = vec!["create", "--name", n];
        args.extend_from_slice(flags);
        args.extend(["busybox", "sh"]);
        if cli == "berth" {
            d.berth(&args).ok()
        } else {
            d.docker(&args).ok()
        }
    };
    let (b, k) = (format!("b-{name}"), format!("d-{name}"));
    create("berth", &b);
    create("docker", &k);
    let mode = |n: &str| {
        d.berth(&["inspect", "-f", "{{json .HostConfig.NetworkMode}}", n])
            .ok()
    };
    (fields(d, &b) + &mode(&b), fields(d, &k) + &mode(&k))
}

fn docker_available() -> bool {
    std::process::Command::new("docker")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn networking_flags_reach_the_daemon_as_dockers_do() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let flags = [
        "-p",
        "80",
        "-p",
        "8080:80",
        "-p",
        "127.0.0.1::81/udp",
        "-p",
        "[::1]:9000-9001:9000-9001",
        "-p",
        "7000-7005:82",
        "-p",
        "published=8443,target=443",
        "--expose",
        "100-102/udp",
        "--expose",
        "80",
        "-P",
        "--dns",
        "8.8.8.8",
        "--dns",
        "0:0::1",
        "--dns-search",
        "example.com.",
        "--dns-option",
        "ndots:2",
        "--dns-opt",
        "rotate",
        "--add-host",
        "a=1.2.3.4",
        "--add-host",
        "b:host-gateway",
        "--add-host",
        "c=[::1]",
        "--domainname",
        "example.org",
    ];
    let mut args = vec!["create", "--name", "web"];
    args.extend_from_slice(&flags);
    args.extend(["busybox", "sh"]);
    let out = d.berth(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "WARNING: Localhost DNS setting (--dns=::1) may fail in containers.\n"
    );
    let shown = fields(&d, "web");
    let expected = [
        r#"{"443/tcp":[{"HostIp":"","HostPort":"8443"}],"80/tcp":[{"HostIp":"","HostPort":""},{"HostIp":"","HostPort":"8080"}],"81/udp":[{"HostIp":"127.0.0.1","HostPort":""}],"82/tcp":[{"HostIp":"","HostPort":"7000-7005"}],"9000/tcp":[{"HostIp":"::1","HostPort":"9000"}],"9001/tcp":[{"HostIp":"::1","HostPort":"9001"}]}"#,
        "true",
        r#"["8.8.8.8","::1"]"#,
        r#"["example.com"]"#,
        r#"["ndots:2","rotate"]"#,
        r#"["a:1.2.3.4","b:host-gateway","c:::1"]"#,
        r#"{"100/udp":{},"101/udp":{},"102/udp":{},"443/tcp":{},"80/tcp":{},"81/udp":{},"82/tcp":{},"9000/tcp":{},"9001/tcp":{}}"#,
        r#""example.org""#,
    ]
    .join(" ");
    assert_eq!(shown.trim_end(), expected);

    if docker_available() {
        let (berth, docker) = both(&d, "all", &flags);
        assert_eq!(berth, docker);
        // No flags at all: the same defaults (`Dns: []`, `PortBindings: {}`, ...).
        let (berth, docker) = both(&d, "none", &[]);
        assert_eq!(berth, docker);
        let (berth, docker) = both(&d, "one", &["-p", "0.0.0.0:5000-5001:5000-5001/udp"]);
        assert_eq!(berth, docker);
    }
}

#[test]
fn bad_networking_flags_fail_as_docker_does() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    for (flags, message) in [
        (
            &["-p", "80:abc"][..],
            "berth: invalid containerPort: abc\n\nRun 'berth create --help' for more information\n",
        ),
        (
            &["-p", "1.2.3:80:80"][..],
            "berth: invalid IP address: 1.2.3\n\nRun 'berth create --help' for more information\n",
        ),
        (
            &["--expose", "80:81"][..],
            "berth: invalid port format for --expose: 80:81\n\nRun 'berth create --help' for more information\n",
        ),
        (
            &["--add-host", "foo"][..],
            "invalid argument \"foo\" for \"--add-host\" flag: bad format for add-host: \"foo\"\n\nUsage:  berth create [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth create --help' for more information\n",
        ),
        (
            &["--dns", "1.2.3"][..],
            "invalid argument \"1.2.3\" for \"--dns\" flag: IP address is not correctly formatted: 1.2.3\n\nUsage:  berth create [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth create --help' for more information\n",
        ),
        (
            &["--network-alias", "x"][..],
            "berth: network-scoped aliases are only supported for user-defined networks\n\nRun 'berth create --help' for more information\n",
        ),
    ] {
        let mut args = vec!["create"];
        args.extend_from_slice(flags);
        args.push("busybox");
        let out = d.berth(&args);
        assert_eq!(out.code, 125, "{flags:?}: {}", out.stderr);
        assert_eq!(out.stderr, message, "{flags:?}");
        if docker_available() {
            let mut run = vec!["run"];
            run.extend_from_slice(flags);
            run.push("busybox");
            let docker = d.docker(&run);
            let berth = d.berth(&run);
            assert_eq!(docker.code, berth.code, "{flags:?}");
            assert_eq!(
                docker.stderr.replace("docker", "berth"),
                berth.stderr,
                "{flags:?}"
            );
        }
    }
    // Nothing was created.
    assert_eq!(d.berth(&["ps", "-aq"]).ok(), "");
}
