//! `exec` through the stock docker CLI, berth and the raw API.

mod common;

use common::TestDaemon;

#[test]
fn exec_runs_in_the_container_with_its_options() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    d.docker(&[
        "run",
        "-d",
        "--name",
        "c1",
        "-e",
        "FROM_RUN=r",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    // Same pid namespace: the container's command is PID 1.
    let ps = d.docker(&["exec", "c1", "ps", "-o", "pid,args"]).ok();
    assert!(ps.contains("    1 sleep 1000"), "{ps}");
    let out = d.docker(&["exec", "c1", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (3, "out\n"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr, "err\n");
    let env = d
        .docker(&[
            "exec",
            "-u",
            "u1",
            "-w",
            "/tmp",
            "-e",
            "X=1",
            "c1",
            "sh",
            "-c",
            "id; pwd; echo $X $FROM_RUN $HOSTNAME",
        ])
        .ok();
    let hostname = d
        .docker(&["inspect", "-f", "{{.Config.Hostname}}", "c1"])
        .ok();
    assert_eq!(
        env,
        format!(
            "uid=1000(u1) gid=1000(g1) groups=2000(extra)\n/tmp\n1 r {}",
            hostname
        )
    );
    assert_eq!(
        d.docker_stdin(&["exec", "-i", "c1", "cat"], b"through stdin\n")
            .ok(),
        "through stdin\n"
    );
    // A process that cannot start is reported in the stream, as Docker does.
    let out = d.docker(&["exec", "c1", "nosuchcmd"]);
    assert_eq!(out.code, 127, "{}", out.stderr);
    assert!(
        out.stdout.contains("executable file not found in $PATH"),
        "{}",
        out.stdout
    );
    let out = d.docker(&["exec", "-u", "nobody", "c1", "true"]);
    assert_eq!(out.code, 126, "{}", out.stderr);
    assert!(
        out.stdout.contains("unable to find user nobody"),
        "{}",
        out.stdout
    );
    // Detached: returns at once, the process runs on.
    d.docker(&[
        "exec",
        "-d",
        "c1",
        "sh",
        "-c",
        "sleep 0.2; echo bg > /tmp/bg",
    ])
    .ok();
    std::thread::sleep(std::time::Duration::from_millis(800));
    assert_eq!(d.docker(&["exec", "c1", "cat", "/tmp/bg"]).ok(), "bg\n");
    // The berth CLI, too.
    let out = d.berth(&["exec", "c1", "sh", "-c", "echo b; exit 5"]);
    assert_eq!((out.code, out.stdout.as_str()), (5, "b\n"));
    // Not running, or no such container.
    d.docker(&["exec", "nosuch", "true"])
        .fails_with(1, "No such container: nosuch");
    d.docker(&["stop", "-t", "0", "c1"]).ok();
    d.docker(&["exec", "c1", "true"])
        .fails_with(1, "is not running");
}

#[test]
fn exec_api_inspect_and_errors() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let cid = d
        .docker(&["run", "-d", "busybox", "sleep", "1000"])
        .ok()
        .trim()
        .to_string();
    let (status, _, body) = d.http(
        "POST",
        &format!("/v1.43/containers/{cid}/exec"),
        br#"{"Cmd":["sh","-c","exit 9"]}"#,
    );
    assert_eq!(status, 201, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = v["Id"].as_str().unwrap().to_string();
    let (_, _, body) = d.http("GET", &format!("/exec/{id}/json"), b"");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["ExitCode"], serde_json::Value::Null);
    assert_eq!(v["Running"], false);
    assert_eq!(v["ProcessConfig"]["entrypoint"], "sh");
    assert_eq!(v["ContainerID"], cid.as_str());
    let (status, _, body) = d.http("POST", &format!("/exec/{id}/start"), br#"{"Detach":true}"#);
    assert_eq!(status, 200, "{body}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, _, body) = d.http("GET", &format!("/exec/{id}/json"), b"");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if v["ExitCode"] == 9 {
            assert_eq!(v["Running"], false);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "exec never ended: {body}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (status, _, body) = d.http("POST", &format!("/exec/{id}/start"), br#"{"Detach":true}"#);
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("has already run"), "{body}");
    let (status, _, body) = d.http("GET", "/exec/nope/json", b"");
    assert_eq!(
        (status, body.trim()),
        (404, r#"{"message":"No such exec instance: nope"}"#)
    );
    let (status, _, body) = d.http("POST", &format!("/containers/{cid}/exec"), br#"{"Cmd":[]}"#);
    assert_eq!(
        (status, body.trim()),
        (400, r#"{"message":"No exec command specified"}"#)
    );
    let (status, _, body) = d.http("POST", &format!("/containers/{cid}/exec"), b"{bad");
    assert_eq!(status, 400, "{body}");
    let ids = d.docker(&["inspect", "-f", "{{.ExecIDs}}", &cid]).ok();
    assert!(ids.contains(&id), "{ids}");
    // Events name the exec.
    let ev = d.events(
        "event=exec_die",
        "{{.Action}} {{.Actor.Attributes.exitCode}}",
    );
    assert!(ev.contains("exec_die 9"), "{ev}");
}

#[test]
fn exec_with_a_terminal() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    d.docker(&["run", "-d", "--name", "c1", "busybox", "sleep", "1000"])
        .ok();
    for cli in [
        format!("docker -H {}", d.host()),
        format!("{} -H {}", common::BERTH, d.host()),
    ] {
        // `script` gives the CLI a terminal of 33x103; the size reaches the exec's terminal
        // (possibly a moment after it starts: the sleep).
        let cmd = format!("{cli} exec -it c1 sh -c 'sleep 0.5; tty; stty size; exit 4'");
        let out = d.in_terminal(&cmd, 33, 103);
        assert!(
            out.stdout.contains("/dev/pts/"),
            "{cli}: {:?} {}",
            out.stdout,
            out.stderr
        );
        assert!(out.stdout.contains("33 103\r\n"), "{cli}: {:?}", out.stdout);
        assert_eq!(out.code, 4, "{cli}: exit code passes through");
    }
}

#[test]
fn exec_output_after_its_stdin_ended_reaches_the_client() {
    let d = TestDaemon::with_busybox(&[]);
    d.docker(&["run", "-d", "--name", "c1", "busybox", "sleep", "100"])
        .ok();
    // Stdin ends at once; the output comes afterwards, in several writes.
    let out = d.docker_stdin(
        &[
            "exec",
            "-i",
            "c1",
            "sh",
            "-c",
            "sleep 0.3; for i in 1 2 3; do echo $i; sleep 0.05; done",
        ],
        b"",
    );
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "1\n2\n3\n"),
        "{}",
        out.stderr
    );
}
