//! The default `bridge` network (Docker's docker0, berth's berth0) through the stock docker
//! CLI, each daemon in a network namespace of its own: containers join it by default, with
//! Docker's addressing, files and inspect; no DNS on it; `--bip`/`--fixed-cidr` remake it;
//! `--bridge none` removes it.

mod common;

use common::TestDaemon;

#[test]
fn containers_join_the_default_bridge_as_in_docker() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let shown = d
        .docker(&[
            "network", "inspect", "-f",
            "{{.Driver}} {{json .IPAM.Config}} {{json .IPAM.Options}} {{index .Options \"com.docker.network.bridge.name\"}} {{index .Options \"com.docker.network.bridge.default_bridge\"}}",
            "bridge",
        ])
        .ok();
    assert_eq!(
        shown.trim(),
        r#"bridge [{"Subnet":"172.17.0.0/16"}] null berth0 true"#
    );
    let link = d
        .in_netns(&["ip", "-br", "-4", "addr", "show", "berth0"])
        .ok();
    assert!(link.contains("172.17.0.1/16"), "{link}");
    let id = d
        .docker(&["run", "-d", "--name", "web", "busybox", "sleep", "1000"])
        .ok();
    let short = &id.trim()[..12];
    assert_eq!(
        d.inspect("web",
            "{{.HostConfig.NetworkMode}} {{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.MacAddress}} {{.NetworkSettings.Networks.bridge.IPAddress}} {{json .NetworkSettings.Networks.bridge.Aliases}}"
        ),
        "default 172.17.0.2 172.17.0.1 02:42:ac:11:00:02 172.17.0.2 null"
    );
    let hosts = d.docker(&["exec", "web", "cat", "/etc/hosts"]).ok();
    assert!(
        hosts.ends_with(&format!("172.17.0.2\t{short}\n")),
        "{hosts}"
    );
    let route = d.docker(&["exec", "web", "busybox", "ip", "route"]).ok();
    assert!(
        route.starts_with("default via 172.17.0.1 dev eth0"),
        "{route}"
    );
    // No DNS server on the default bridge: the host's resolv.conf without loopback servers.
    let resolv = d.docker(&["exec", "web", "cat", "/etc/resolv.conf"]).ok();
    assert!(!resolv.contains("127.0.0.11"), "{resolv}");
    let hosts = d
        .docker(&[
            "run",
            "--rm",
            "--add-host",
            "a:1.2.3.4",
            "--add-host",
            "gw:host-gateway",
            "busybox",
            "cat",
            "/etc/hosts",
        ])
        .ok();
    assert!(
        hosts.contains("1.2.3.4\ta\n172.17.0.1\tgw\n172.17.0.3\t"),
        "{hosts}"
    );
    // (The docker CLI refuses the alias itself; the daemon's answer to other clients.)
    let (status, _, body) = d.http(
        "POST",
        "/containers/create",
        br#"{"Image":"busybox","HostConfig":{"NetworkMode":"bridge"},"NetworkingConfig":{"EndpointsConfig":{"bridge":{"Aliases":["x"]}}}}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains(
            "network-scoped alias is supported only for containers in user defined networks"
        ),
        "{body}"
    );
    d.docker(&[
        "run",
        "--rm",
        "--network",
        "bridge",
        "--ip",
        "172.17.0.50",
        "busybox",
        "true",
    ])
    .fails_with(
        125,
        "user specified IP address is supported on user defined networks only",
    );
    let members = d
        .docker(&[
            "network",
            "inspect",
            "-f",
            "{{range .Containers}}{{.Name}} {{end}}",
            "bridge",
        ])
        .ok();
    assert_eq!(members.trim(), "web");
    d.docker(&["rm", "-f", "web"]).ok();
}

#[test]
fn bip_and_fixed_cidr_remake_it_and_bridge_none_removes_it() {
    let mut d = TestDaemon::start_in_netns_with_args(&[
        "--bip",
        "10.55.0.1/24",
        "--fixed-cidr",
        "10.55.0.128/25",
    ]);
    d.import_busybox("busybox");
    assert_eq!(
        d.inspect("bridge", "{{json .IPAM.Config}}")
            .replace(' ', ""),
        r#"[{"Subnet":"10.55.0.0/24","IPRange":"10.55.0.128/25"}]"#
    );
    let ip = d
        .docker(&["run", "--rm", "busybox", "sh", "-c", "tail -1 /etc/hosts"])
        .ok();
    assert!(ip.starts_with("10.55.0.128\t"), "{ip}");
    // Other settings at the next start: made again.
    d.stop();
    d.set_args(&["--bip", "10.66.0.1/16"]);
    d.spawn();
    assert_eq!(
        d.inspect("bridge", "{{json .IPAM.Config}}"),
        r#"[{"Subnet":"10.66.0.0/16"}]"#
    );
    let link = d
        .in_netns(&["ip", "-br", "-4", "addr", "show", "berth0"])
        .ok();
    assert!(
        link.contains("10.66.0.1/16") && !link.contains("10.55."),
        "{link}"
    );
    // None at all: gone, and containers get only loopback.
    d.stop();
    d.set_args(&["--bridge", "none"]);
    d.spawn();
    let ls = d.docker(&["network", "ls", "--format", "{{.Name}}"]).ok();
    assert_eq!(ls, "host\nnone\n");
    assert_ne!(d.in_netns(&["ip", "link", "show", "berth0"]).code, 0);
    let nets = d
        .docker(&["run", "--rm", "busybox", "ls", "/sys/class/net"])
        .ok();
    assert_eq!(nets, "lo\n");
    d.docker(&[
        "run",
        "--rm",
        "--add-host",
        "gw:host-gateway",
        "busybox",
        "true",
    ])
    .fails_with(125, "unable to derive the IP value for host-gateway");
    d.docker(&["run", "--rm", "--network", "bridge", "busybox", "true"])
        .fails_with(125, "network bridge not found");
}

#[test]
fn ports_published_on_the_default_bridge_are_reached() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    d.docker(&[
        "run", "-d", "--name", "srv", "-p", "8080:80", "busybox", "sh", "-c",
        "busybox mkdir -p /www && echo default > /www/index.html && exec busybox httpd -f -p 80 -h /www",
    ])
    .ok();
    assert_eq!(d.fetch("http://127.0.0.1:8080/"), "default\n");
    let ports = d.docker(&["port", "srv"]).ok();
    // The stock CLI (28.x) brackets IPv6; Docker 20.10's printed `80/tcp -> :::8080`.
    assert_eq!(ports, "80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n");
    d.docker(&["rm", "-f", "srv"]).ok();
}

#[test]
fn links_give_hosts_lines_and_dockers_variables() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let other = d
        .docker(&[
            "run", "-d", "--name", "other", "--expose", "80", "--expose", "53/udp", "-e",
            "FOO=bar", "busybox", "sleep", "1000",
        ])
        .ok();
    let ip = d.inspect("other", "{{.NetworkSettings.IPAddress}}");
    let out = d
        .docker(&[
            "run",
            "--rm",
            "--name",
            "me",
            "--link",
            "other:al",
            "busybox",
            "sh",
            "-c",
            "cat /etc/hosts; env | sort",
        ])
        .ok();
    let short = &other.trim()[..12];
    assert!(out.contains(&format!("{ip}\tal {short} other\n")), "{out}");
    for var in [
        // The lowest port, as Docker picks it.
        format!("AL_PORT=udp://{ip}:53"),
        format!("AL_PORT_53_UDP=udp://{ip}:53"),
        format!("AL_PORT_80_TCP_ADDR={ip}"),
        "AL_PORT_80_TCP_PORT=80".to_string(),
        "AL_PORT_80_TCP_PROTO=tcp".to_string(),
        "AL_NAME=/me/al".to_string(),
        "AL_ENV_FOO=bar".to_string(),
    ] {
        assert!(out.lines().any(|l| l == var), "{var} in {out}");
    }
    d.docker(&[
        "create", "--name", "lk", "--link", "other", "busybox", "true",
    ])
    .ok();
    assert_eq!(
        d.inspect("lk", "{{json .HostConfig.Links}}"),
        r#"["/other:/lk/other"]"#
    );
    d.docker(&["run", "--rm", "--link", "nosuch:a", "busybox", "true"])
        .fails_with(
            125,
            "could not get container for nosuch: No such container: nosuch",
        );
    // Links an API client puts in the endpoint's settings are the same links.
    let (status, _, body) = d.http(
        "POST",
        "/containers/create?name=ep",
        br#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"NetworkMode":"bridge"},"NetworkingConfig":{"EndpointsConfig":{"bridge":{"Links":["other:x"]}}}}"#,
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        d.inspect("ep", "{{json .HostConfig.Links}}"),
        r#"["/other:/ep/x"]"#
    );
    d.docker(&["rm", "ep"]).ok();
    d.docker(&["stop", "-t", "0", "other"]).ok();
    d.docker(&["start", "lk"]).fails_with(
        1,
        "Cannot link to a non running container: /other AS /lk/other",
    );
    d.docker(&["rm", "-f", "other", "lk"]).ok();
}

#[test]
fn builds_run_on_the_default_bridge_with_extra_hosts_and_host_gateway_is_its_gateway() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let ctx = common::context(&[(
        "Dockerfile",
        "FROM busybox\nRUN cat /etc/hosts > /hosts.txt && ls /sys/class/net > /nets.txt\n",
    )]);
    let out = d.docker_build(&[
        "--add-host",
        "a:1.2.3.4",
        "--add-host",
        "gw:host-gateway",
        "-t",
        "h",
        ctx.path().to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{} {}", out.stdout, out.stderr);
    let hosts = d.docker(&["run", "--rm", "h", "cat", "/hosts.txt"]).ok();
    assert!(
        hosts.contains("1.2.3.4\ta\n172.17.0.1\tgw\n172.17.0."),
        "{hosts}"
    );
    // RUN steps are on the default bridge, as in Docker's classic builder; `none` has none.
    let nets = d.docker(&["run", "--rm", "h", "cat", "/nets.txt"]).ok();
    assert_eq!(nets, "eth0\nlo\n");
    let out = d.docker_build(&[
        "--network",
        "none",
        "-t",
        "h2",
        ctx.path().to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{} {}", out.stdout, out.stderr);
    let nets = d.docker(&["run", "--rm", "h2", "cat", "/nets.txt"]).ok();
    assert_eq!(nets, "lo\n");
    // On a user-defined network too, host-gateway is the default bridge's gateway.
    d.docker(&["network", "create", "n1"]).ok();
    let hosts = d
        .docker(&[
            "run",
            "--rm",
            "--network",
            "n1",
            "--add-host",
            "gw:host-gateway",
            "busybox",
            "cat",
            "/etc/hosts",
        ])
        .ok();
    assert!(hosts.contains("172.17.0.1\tgw\n"), "{hosts}");
    d.docker(&["network", "rm", "n1"]).ok();
}

/// A second namespace standing for another host, joined to the daemon's by a veth pair:
/// 10.200.0.1 on the daemon's side, 10.200.0.2 on its own. Goes with the test.
struct Peer {
    holder: std::process::Child,
}

impl Peer {
    fn join(d: &TestDaemon) -> Peer {
        let ns = d.netns.as_ref().unwrap().display().to_string();
        let holder = std::process::Command::new("unshare")
            .args(["--net", "sleep", "600"])
            .spawn()
            .unwrap();
        let pid = holder.id().to_string();
        let sh = |script: &str| {
            let out = std::process::Command::new("sh")
                .args(["-c", script])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{script}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        sh(&format!(
            "nsenter --net={ns} ip link add vpeer0 type veth peer name vpeer1 && \
             nsenter --net={ns} ip link set vpeer1 netns {pid} && \
             nsenter --net={ns} ip addr add 10.200.0.1/24 dev vpeer0 && \
             nsenter --net={ns} ip link set vpeer0 up && \
             nsenter -t {pid} --net ip addr add 10.200.0.2/24 dev vpeer1 && \
             nsenter -t {pid} --net ip link set vpeer1 up && \
             nsenter -t {pid} --net ip link set lo up"
        ));
        Peer { holder }
    }

    fn run(&self, args: &[&str]) -> common::Out {
        std::process::Command::new("nsenter")
            .args(["-t", &self.holder.id().to_string(), "--net"])
            .args(args)
            .output()
            .unwrap()
            .into()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

#[test]
fn another_host_reaches_published_ports_and_containers_reach_out_masqueraded() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let peer = Peer::join(&d);
    d.docker(&[
        "run", "-d", "--name", "srv", "-p", "8080:80", "busybox", "sh", "-c",
        "busybox mkdir -p /www && echo published > /www/index.html && exec busybox httpd -f -p 80 -h /www",
    ])
    .ok();
    // From the other host to the daemon host's address: DNAT in prerouting, then forwarded.
    let got = (0..50)
        .map(|_| peer.run(&["python3", "-c", common::HTTP_GET, "http://10.200.0.1:8080/"]))
        .find(|o| o.code == 0)
        .map(|o| o.stdout);
    assert_eq!(got.as_deref(), Some("published\n"));
    // Out of a container to the other host: masqueraded behind the daemon host's address.
    let mut server = std::process::Command::new("nsenter")
        .args([
            "-t",
            &peer.holder.id().to_string(),
            "--net",
            "python3",
            "-c",
        ])
        .arg(
            "import socket\n\
             s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             s.bind(('10.200.0.2', 9000)); s.listen(1); print('ready', flush=True)\n\
             c, a = s.accept(); c.sendall((a[0] + '\\n').encode()); c.close()\n",
        )
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "ready");
    let seen = d
        .docker(&[
            "run",
            "--rm",
            "busybox",
            "busybox",
            "nc",
            "10.200.0.2",
            "9000",
        ])
        .ok();
    assert_eq!(
        seen, "10.200.0.1\n",
        "the peer sees the host's address, not 172.17.x"
    );
    let _ = server.kill();
    let _ = server.wait();
    d.docker(&["rm", "-f", "srv"]).ok();
}

#[test]
fn bridges_are_isolated_internal_networks_stay_inside_and_icc_off_separates_containers() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let peer = Peer::join(&d);
    let serve =
        "busybox mkdir -p /www && echo up > /www/index.html && exec busybox httpd -f -p 80 -h /www";
    d.docker(&["network", "create", "n1"]).ok();
    d.docker(&["network", "create", "n2"]).ok();
    d.docker(&["network", "create", "--internal", "inside"])
        .ok();
    d.docker(&[
        "network",
        "create",
        "-o",
        "com.docker.network.bridge.enable_icc=false",
        "noicc",
    ])
    .ok();
    for (name, net) in [("srv1", "n1"), ("inner", "inside"), ("quiet", "noicc")] {
        d.docker(&[
            "run",
            "-d",
            "--name",
            name,
            "--network",
            net,
            "busybox",
            "sh",
            "-c",
            serve,
        ])
        .ok();
    }
    let ip = |name: &str, net: &str| {
        d.inspect(
            name,
            &format!("{{{{.NetworkSettings.Networks.{net}.IPAddress}}}}"),
        )
    };
    // `wget` from a new container on `net` (under `timeout`: this busybox's `wget -T`
    // crashes). A block is checked once its server is known to answer.
    let reach = |net: &str, url: &str, tries: usize| -> bool {
        (0..tries).any(|_| {
            // With --init: as PID 1, wget would ignore the timeout's signal.
            let wget = [
                "run",
                "--rm",
                "--init",
                "--network",
                net,
                "busybox",
                "busybox",
                "timeout",
                "2",
                "busybox",
                "wget",
                "-q",
                "-O",
                "-",
                url,
            ];
            d.docker(&wget).code == 0
        })
    };
    let a = format!("http://{}/", ip("srv1", "n1"));
    assert!(reach("n1", &a, 10), "same network");
    assert!(!reach("n2", &a, 1), "another bridge is isolated");
    let i = format!("http://{}/", ip("inner", "inside"));
    assert!(reach("inside", &i, 10), "an internal network inside");
    let mut server = std::process::Command::new("nsenter")
        .args([
            "-t",
            &peer.holder.id().to_string(),
            "--net",
            "python3",
            "-m",
            "http.server",
            "--bind",
            "10.200.0.2",
            "9100",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let outside = "http://10.200.0.2:9100/";
    assert!(reach("n1", outside, 10), "a network reaches out");
    assert!(!reach("inside", outside, 1), "an internal network does not");
    let q = format!("http://{}/", ip("quiet", "noicc"));
    // The host reaches it; another container on its network does not.
    assert_eq!(d.fetch(&q), "up\n", "the host reaches it");
    assert!(!reach("noicc", &q, 1), "icc off: no container to container");
    let _ = server.kill();
    let _ = server.wait();
    d.docker(&["rm", "-f", "srv1", "inner", "quiet"]).ok();
    d.docker(&["network", "rm", "n1", "n2", "inside", "noicc"])
        .ok();
}
