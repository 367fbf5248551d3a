//! Published ports and `network connect`/`disconnect` end to end, through the stock docker
//! CLI, each daemon in a network namespace of its own: `-p` reached on 127.0.0.1, on a host
//! address and from another container; `-P`; a port taken twice is Docker's error at start and
//! leaves nothing behind; a running container joins and leaves a second network.

mod common;

use common::TestDaemon;

const HTTPD: &str = "busybox mkdir -p /www && echo hi from $(hostname) > /www/index.html && exec busybox httpd -f -p 80 -h /www";

#[test]
fn published_ports_reach_the_container_and_a_taken_port_is_dockers_error() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    d.docker(&["network", "create", "web"]).ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "srv",
        "--hostname",
        "srv",
        "--network",
        "web",
        "-p",
        "8080:80",
        "-p",
        "127.0.0.1::81/udp",
        "busybox",
        "sh",
        "-c",
        HTTPD,
    ])
    .ok();
    assert_eq!(d.fetch("http://127.0.0.1:8080/"), "hi from srv\n");
    let gw = d.inspect("srv", "{{.NetworkSettings.Networks.web.Gateway}}");
    assert_eq!(d.fetch(&format!("http://{gw}:8080/")), "hi from srv\n");
    // Another container reaches it through the host's port.
    let via = d
        .docker(&[
            "run",
            "--rm",
            "--network",
            "web",
            "busybox",
            "busybox",
            "wget",
            "-q",
            "-O",
            "-",
            &format!("http://{gw}:8080/"),
        ])
        .ok();
    assert_eq!(via, "hi from srv\n");
    let ports = d.inspect("srv", "{{json .NetworkSettings.Ports}}");
    let udp: serde_json::Value = serde_json::from_str(&ports).unwrap();
    // On every address means on IPv6 too, as Docker's userland proxy publishes it.
    assert_eq!(
        udp["80/tcp"],
        serde_json::json!([{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}])
    );
    assert_eq!(udp["81/udp"].as_array().map(Vec::len), Some(1), "{ports}");
    let udp_port: u16 = udp["81/udp"][0]["HostPort"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(udp_port >= 32768, "{ports}");
    assert_eq!(udp["81/udp"][0]["HostIp"], "127.0.0.1");
    // ps filters by network, published and exposed port.
    let ps = |filter: &str| {
        d.docker(&["ps", "--format", "{{.Names}}", "--filter", filter])
            .ok()
            .trim()
            .to_string()
    };
    assert_eq!(ps("network=web"), "srv");
    assert_eq!(ps("network=nosuch"), "");
    assert_eq!(ps("publish=80"), "srv");
    assert_eq!(ps("publish=79-81/udp"), "srv");
    assert_eq!(
        ps("publish=8080"),
        "",
        "the container's port, not the host's"
    );
    assert_eq!(ps("expose=81/udp"), "srv");
    d.docker(&["ps", "--filter", "publish=abc"])
        .fails_with(1, "invalid filter 'publish=abc'");
    let bindings = d.inspect("srv", "{{json .HostConfig.PortBindings}}");
    assert_eq!(
        bindings,
        r#"{"80/tcp":[{"HostIp":"","HostPort":"8080"}],"81/udp":[{"HostIp":"127.0.0.1","HostPort":""}]}"#
    );
    let (status, _, body) = d.http("GET", "/containers/json", b"");
    assert_eq!(status, 200);
    assert!(
        body.contains(r#"{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"}"#),
        "{body}"
    );
    // The same port again: created, then Docker's error at start, and nothing left of it.
    d.docker(&[
        "create",
        "--name",
        "dup",
        "--network",
        "web",
        "-p",
        "8080:80",
        "busybox",
        "sleep",
        "9",
    ])
    .ok();
    let out = d.docker(&["start", "dup"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("driver failed programming external connectivity on endpoint dup (")
            && out
                .stderr
                .contains("Bind for 0.0.0.0:8080 failed: port is already allocated"),
        "{}",
        out.stderr
    );
    assert_eq!(d.inspect("dup", "{{.State.Status}}"), "created");
    let members = d
        .docker(&["network", "inspect", "-f", "{{len .Containers}}", "web"])
        .ok();
    assert_eq!(members.trim(), "1");
    // Stopped, the port is free and shown no more.
    d.docker(&["rm", "-f", "srv"]).ok();
    d.docker(&["start", "dup"]).ok();
    assert_eq!(
        d.inspect("dup", "{{json .NetworkSettings.Ports}}"),
        r#"{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},{"HostIp":"::","HostPort":"8080"}]}"#
    );
    d.docker(&["stop", "-t", "0", "dup"]).ok();
    assert_eq!(d.inspect("dup", "{{json .NetworkSettings.Ports}}"), "{}");
    let table = d.in_netns(&["nft", "list", "table", "inet", "berth"]).ok();
    assert!(!table.contains(":80"), "no mapping left: {table}");
    // A port another program of the host holds is Docker's userland-proxy error.
    let held = format!(
        "import socket, subprocess, sys\n\
         s = socket.socket(); s.bind(('127.0.0.1', 8091)); s.listen()\n\
         r = subprocess.run(['docker', '-H', '{}', 'run', '-d', '--name', 'held', '--network', 'web', \
         '-p', '127.0.0.1:8091:80', 'busybox', 'sleep', '9'], capture_output=True, text=True)\n\
         sys.stdout.write(r.stderr)\n",
        d.host()
    );
    let out = d.in_netns(&["python3", "-c", &held]).ok();
    assert!(
        out.contains(
            "Error starting userland proxy: listen tcp4 127.0.0.1:8091: bind: address already in use"
        ),
        "{out}"
    );
    d.docker(&["rm", "held"]).ok();
    d.docker(&["rm", "dup"]).ok();
    d.docker(&["network", "rm", "web"]).ok();
}

#[test]
fn publish_all_picks_ports_from_the_local_range() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    d.docker(&["network", "create", "web"]).ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "srv",
        "--hostname",
        "any",
        "--network",
        "web",
        "--expose",
        "80",
        "-P",
        "busybox",
        "sh",
        "-c",
        HTTPD,
    ])
    .ok();
    let port = d.inspect(
        "srv",
        r#"{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}"#,
    );
    let p: u16 = port.parse().unwrap();
    assert!(p >= 32768, "{p}");
    assert_eq!(d.fetch(&format!("http://127.0.0.1:{p}/")), "hi from any\n");
    // The host's network publishes nothing: Docker's warning, and a MAC is refused.
    let out = d.docker(&[
        "create",
        "--network",
        "host",
        "-p",
        "80:80",
        "busybox",
        "true",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("WARNING: Published ports are discarded when using host network mode"),
        "{}",
        out.stderr
    );
    // (API 1.43, the one berth speaks, has the MAC in Config.)
    let (status, _, body) = d.http(
        "POST",
        "/containers/create",
        br#"{"Image":"busybox","MacAddress":"02:42:ac:11:00:09","HostConfig":{"NetworkMode":"host"}}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("conflicting options: mac-address and the network mode"),
        "{body}"
    );
    d.docker(&["rm", "-f", "srv"]).ok();
    d.docker(&["network", "rm", "web"]).ok();
}

#[test]
fn a_running_container_joins_and_leaves_a_network() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    d.docker(&["network", "create", "n1"]).ok();
    d.docker(&["network", "create", "n2"]).ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "c1",
        "--network",
        "n1",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "c2",
        "--network",
        "n2",
        "--hostname",
        "c2",
        "busybox",
        "sh",
        "-c",
        HTTPD,
    ])
    .ok();
    d.docker(&["network", "connect", "--alias", "extra", "n2", "c1"])
        .ok();
    let links = d
        .docker(&["exec", "c1", "busybox", "ip", "-o", "-4", "addr"])
        .ok();
    let ip2 = d.inspect("c1", "{{.NetworkSettings.Networks.n2.IPAddress}}");
    assert!(links.contains(&format!("eth1    inet {ip2}/16")), "{links}");
    // Through n2's DNS, which c1 now uses.
    let got = d
        .docker(&[
            "exec",
            "c1",
            "busybox",
            "wget",
            "-q",
            "-O",
            "-",
            "http://c2/",
        ])
        .ok();
    assert_eq!(got, "hi from c2\n");
    let hosts = d.docker(&["exec", "c1", "cat", "/etc/hosts"]).ok();
    assert!(
        hosts.ends_with(&format!("\t{}\n", &d.inspect("c1", "{{.Config.Hostname}}"))),
        "{hosts}"
    );
    assert!(hosts.contains(&format!("{ip2}\t")), "{hosts}");
    let ns = d
        .docker(&["exec", "c2", "busybox", "nslookup", "extra"])
        .ok();
    assert!(ns.contains(&ip2), "{ns}");
    d.docker(&["network", "connect", "n2", "c1"])
        .fails_with(1, "endpoint with name c1 already exists in network n2");
    d.docker(&["network", "disconnect", "n2", "c1"]).ok();
    let links = d
        .docker(&["exec", "c1", "busybox", "ip", "-o", "link"])
        .ok();
    assert!(!links.contains("eth1"), "{links}");
    let hosts = d.docker(&["exec", "c1", "cat", "/etc/hosts"]).ok();
    assert!(!hosts.contains(&format!("{ip2}\t")), "{hosts}");
    d.docker(&["network", "disconnect", "n2", "c1"])
        .fails_with(1, "is not connected to network n2");
    let nets = d.inspect(
        "c1",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
    );
    assert_eq!(nets, "n1");
    d.docker(&["rm", "-f", "c1", "c2"]).ok();
    d.docker(&["network", "rm", "n1", "n2"]).ok();
}

#[test]
fn docker_py_creates_connects_and_publishes() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let script = format!(
        "import docker, time\n\
         c = docker.DockerClient(base_url='unix://{sock}')\n\
         ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet='10.77.0.0/24')])\n\
         n = c.networks.create('pynet', driver='bridge', ipam=ipam)\n\
         srv = c.containers.run('busybox', ['sh', '-c', '{httpd}'], name='pysrv', hostname='pysrv',\n\
             detach=True, network='pynet', ports={{'80/tcp': 18080}})\n\
         n.reload()\n\
         print(sorted(x.name for x in n.containers), n.attrs['IPAM']['Config'][0]['Subnet'])\n\
         cli = c.containers.create('busybox', ['sleep', '100'], name='pycli')\n\
         n.connect(cli, aliases=['client'])\n\
         cli.start()\n\
         for _ in range(50):\n\
         \x20   r = cli.exec_run(['busybox', 'wget', '-q', '-O', '-', 'http://pysrv/'])\n\
         \x20   if r.exit_code == 0: break\n\
         \x20   time.sleep(0.1)\n\
         print(r.output.decode().strip())\n\
         cli.reload()\n\
         print(sorted(cli.attrs['NetworkSettings']['Networks']), cli.attrs['NetworkSettings']['Networks']['pynet']['Aliases'][0])\n\
         srv.reload()\n\
         print(srv.ports)\n\
         n.disconnect(cli)\n\
         cli.reload()\n\
         print(sorted(cli.attrs['NetworkSettings']['Networks']))\n\
         cli.remove(force=True)\n\
         srv.remove(force=True)\n\
         n.remove()\n\
         print(sorted(x.name for x in c.networks.list()))\n",
        sock = d.socket.display(),
        httpd = HTTPD,
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3");
    let out = common::Out::from(out).ok();
    assert_eq!(
        out,
        "['pysrv'] 10.77.0.0/24\n\
         hi from pysrv\n\
         ['bridge', 'pynet'] client\n\
         {'80/tcp': [{'HostIp': '0.0.0.0', 'HostPort': '18080'}, {'HostIp': '::', 'HostPort': '18080'}]}\n\
         ['bridge']\n\
         ['bridge', 'host', 'none']\n"
    );
}

#[test]
fn ipv6_networks_publish_on_both_families() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    d.docker(&[
        "network",
        "create",
        "--ipv6",
        "--subnet",
        "fd00:77::/64",
        "n6",
    ])
    .ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "srv",
        "--hostname",
        "six",
        "--network",
        "n6",
        "-p",
        "8080:80",
        "busybox",
        "sh",
        "-c",
        HTTPD,
    ])
    .ok();
    assert_eq!(
        d.inspect("srv", "{{json .NetworkSettings.Ports}}"),
        r#"{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},{"HostIp":"::","HostPort":"8080"}]}"#
    );
    let gw6 = d.inspect("srv", "{{.NetworkSettings.Networks.n6.IPv6Gateway}}");
    assert_eq!(gw6, "fd00:77::1");
    assert_eq!(d.fetch("http://[fd00:77::1]:8080/"), "hi from six\n");
    assert_eq!(d.fetch("http://127.0.0.1:8080/"), "hi from six\n");
    // IPv6 loopback, which the kernel cannot DNAT, goes through the daemon's proxy.
    assert_eq!(d.fetch("http://[::1]:8080/"), "hi from six\n");
    d.docker(&["rm", "-f", "srv"]).ok();
    d.docker(&["network", "rm", "n6"]).ok();
}
