//! `--network container:<name|id>` through the stock docker CLI, the daemon in a network
//! namespace of its own: the other container's interfaces, loopback, /etc files and hostname,
//! and Docker's refusals of what such a container cannot have.

mod common;

use common::TestDaemon;

#[test]
fn a_container_shares_another_ones_network_and_files() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    d.docker(&["network", "create", "n1"]).ok();
    let pb = d
        .docker(&[
            "run", "-d", "--name", "pb", "--hostname", "pbhost", "--network", "n1", "busybox",
            "sh", "-c",
            "busybox mkdir -p /www && echo shared > /www/index.html && exec busybox httpd -f -p 127.0.0.1:80 -h /www",
        ])
        .ok();
    let pb = pb.trim();
    let ip = d.inspect("pb", "{{.NetworkSettings.Networks.n1.IPAddress}}");
    let run = |cmd: &str| {
        d.docker(&[
            "run",
            "--rm",
            "--network",
            "container:pb",
            "busybox",
            "sh",
            "-c",
            cmd,
        ])
        .ok()
    };
    assert!(run("busybox ip -o -4 addr").contains(&format!("inet {ip}/16")));
    assert_eq!(run("hostname; echo $HOSTNAME"), "pbhost\npbhost\n");
    assert_eq!(
        run("cat /etc/hosts"),
        d.docker(&["exec", "pb", "cat", "/etc/hosts"]).ok()
    );
    assert!(run("cat /etc/resolv.conf").contains("nameserver 127.0.0.11"));
    // Its loopback is pb's: pb's server on 127.0.0.1 answers it (retried while it starts).
    let got = (0..50)
        .map(|_| {
            d.docker(&[
                "run",
                "--rm",
                "--network",
                "container:pb",
                "busybox",
                "busybox",
                "wget",
                "-q",
                "-O",
                "-",
                "http://127.0.0.1/",
            ])
        })
        .find(|o| o.code == 0)
        .map(|o| o.stdout);
    assert_eq!(got.as_deref(), Some("shared\n"));
    d.docker(&[
        "create",
        "--name",
        "pc",
        "--network",
        "container:pb",
        "busybox",
        "true",
    ])
    .ok();
    assert_eq!(
        d.inspect(
            "pc",
            "{{.HostConfig.NetworkMode}} {{json .NetworkSettings.Networks}}"
        ),
        format!("container:{pb} {{}}")
    );
    d.docker(&["network", "connect", "n1", "pc"]).fails_with(
        1,
        "container sharing network namespace with another container or host cannot be connected to any other network",
    );
    d.docker(&["rm", "pc"]).ok();
    d.docker(&["rm", "-f", "pb"]).ok();
    d.docker(&["network", "rm", "n1"]).ok();
}

#[test]
fn what_a_shared_namespace_cannot_have_is_refused() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    d.docker(&["run", "-d", "--name", "pb", "busybox", "sleep", "1000"])
        .ok();
    for (flags, msg) in [
        (
            &["-p", "80:80"][..],
            "conflicting options: port publishing and the container type network mode",
        ),
        (
            &["--dns", "1.1.1.1"],
            "conflicting options: dns and the network mode",
        ),
        (
            &["--add-host", "a:1.2.3.4"],
            "conflicting options: custom host-to-IP mapping and the network mode",
        ),
        (
            &["--hostname", "x"],
            "conflicting options: hostname and the network mode",
        ),
    ] {
        let mut args = vec!["run", "--rm", "--network", "container:pb"];
        args.extend_from_slice(flags);
        args.extend(["busybox", "true"]);
        d.docker(&args).fails_with(125, msg);
    }
    d.docker(&[
        "run",
        "--rm",
        "--network",
        "container:nosuch",
        "busybox",
        "true",
    ])
    .fails_with(125, "No such container: nosuch");
    d.docker(&["create", "--name", "stopped", "busybox", "true"])
        .ok();
    d.docker(&[
        "create",
        "--name",
        "joiner",
        "--network",
        "container:stopped",
        "busybox",
        "true",
    ])
    .ok();
    d.docker(&["start", "joiner"])
        .fails_with(1, "cannot join network of a non running container");
    assert_eq!(d.docker(&["ps", "-q", "-f", "name=joiner"]).ok(), "");
    d.docker(&["rm", "-f", "pb", "stopped", "joiner"]).ok();
}
