//! Issue 8: what schema-driven fuzzing of the API found, one test each, and the request-field
//! policy (refused by name, accepted as Docker ignores it, or dropped as unknown).

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use common::TestDaemon;

fn running(d: &TestDaemon) -> String {
    d.docker(&["run", "-d", "busybox", "sleep", "100"])
        .ok()
        .trim()
        .to_string()
}

#[test]
fn exec_bodies_docker_py_sends_are_accepted() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let id = running(&d);
    // The body docker-py 7 sends for exec_run, `Container` included.
    let body = format!(
        r#"{{"AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"Tty":false,"Privileged":false,"User":"","Cmd":["echo","hi"],"Env":null,"WorkingDir":null,"Container":"{id}","DetachKeys":null}}"#
    );
    let (status, _, resp) = d.http("POST", &format!("/containers/{id}/exec"), body.as_bytes());
    assert_eq!(status, 201, "{resp}");
    // A field no API version defines is dropped, as Docker drops it.
    let (status, _, resp) = d.http(
        "POST",
        &format!("/containers/{id}/exec"),
        br#"{"Cmd":["true"],"SomeFutureField":{"a":1}}"#,
    );
    assert_eq!(status, 201, "{resp}");
    // A defined field berth cannot honour is still refused by name.
    let (status, _, resp) = d.http(
        "POST",
        "/containers/create",
        br#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"StorageOpt":{"size":"1G"},"ContainerIDFile":"/tmp/x"}}"#,
    );
    assert_eq!(status, 501, "{resp}");
    assert!(resp.contains("HostConfig.StorageOpt"), "{resp}");
    assert!(!resp.contains("ContainerIDFile"), "{resp}");
    // The real client, end to end.
    let script = format!(
        "import docker\nc = docker.DockerClient(base_url='unix://{}')\nr = c.containers.get('{id}').exec_run(['echo', 'from docker-py'])\nprint(r.exit_code, r.output.decode().strip())\n",
        d.socket.display()
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3");
    let out = common::Out::from(out).ok();
    assert_eq!(out.trim(), "0 from docker-py");
}

#[test]
fn create_checks_values_as_docker_does() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let long_hostname = format!(r#"{{"Image":"busybox","Hostname":"{}"}}"#, "h".repeat(65));
    for (body, want) in [
        (
            r#"{"Image":"busybox","Env":["=x"]}"#,
            "invalid environment variable: =x",
        ),
        (
            r#"{"Image":"busybox","Env":[""]}"#,
            "invalid environment variable: ",
        ),
        (
            r#"{"Image":"busybox","HostConfig":{"Memory":-1}}"#,
            "Minimum memory limit allowed is 6MB",
        ),
        (
            r#"{"Image":"busybox","HostConfig":{"CpuPeriod":5}}"#,
            "CPU cfs period can not be less than 1ms",
        ),
        (
            r#"{"Image":"busybox","HostConfig":{"ShmSize":-1}}"#,
            "SHM size can not be less than 0",
        ),
        // Checked before the image is looked up, as Docker does.
        (
            r#"{"Image":"nosuchimage","HostConfig":{"Memory":1}}"#,
            "Minimum memory limit allowed is 6MB",
        ),
        // What the kernel would refuse at start is refused at create.
        (
            r#"{"Image":"busybox","Env":["A=\u0000"]}"#,
            "invalid environment variable: A=\\\\0",
        ),
        (
            r#"{"Image":"busybox","Hostname":"a\u0000b"}"#,
            "invalid Hostname",
        ),
        (
            r#"{"Image":"busybox","WorkingDir":"/a\u0000"}"#,
            "invalid WorkingDir",
        ),
        (long_hostname.as_str(), "longer than 64 bytes"),
        // A value of the wrong type is a 400, typed field or not, in Go's words.
        (
            r#"{"Image":"busybox","Healthcheck":5}"#,
            "cannot unmarshal number into Go struct field Config.Healthcheck of type object",
        ),
        (
            r#"{"Image":"busybox","HostConfig":{"Dns":"8.8.8.8"}}"#,
            "cannot unmarshal string into Go struct field HostConfig.Dns of type array",
        ),
        (
            r#"{"Image":"busybox","Tty":"yes"}"#,
            "cannot unmarshal string into Go struct field Config.Tty of type bool",
        ),
    ] {
        let (status, _, resp) = d.http("POST", "/containers/create", body.as_bytes());
        assert_eq!(status, 400, "{body}: {resp}");
        assert!(resp.contains(want), "{body}: {resp}");
    }
    d.docker(&["run", "--rm", "-e", "=x", "busybox", "true"])
        .fails_with(125, "invalid environment variable: =x");
    // Keys match without regard to case, as Go's decoder matches them; Cmd may be a string.
    let (status, _, resp) = d.http(
        "POST",
        "/containers/create?name=lower",
        br#"{"image":"busybox","cmd":"true","hostconfig":{"networkmode":"host"}}"#,
    );
    assert_eq!(status, 201, "{resp}");
    let mode = d.docker(&[
        "inspect",
        "-f",
        "{{.HostConfig.NetworkMode}} {{.Config.Cmd}}",
        "lower",
    ]);
    assert_eq!(mode.ok().trim(), "host [true]");
    // Inspect shows Docker's whole HostConfig, zero values for what berth does not have.
    let (_, _, body) = d.http("GET", "/containers/lower/json", b"");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let h = &v["HostConfig"];
    assert_eq!(
        (&h["OomScoreAdj"], &h["PublishAllPorts"]),
        (&0.into(), &false.into())
    );
    assert!(h.get("PortBindings").is_some_and(|p| p.is_null()), "{h}");
    d.docker(&["rm", "lower"]).ok();
    // Nothing was left of the refused creates.
    assert_eq!(d.docker(&["ps", "-aq"]).ok().trim(), "");
    let dirs = std::fs::read_dir(d.root.join("containers"))
        .map(|r| r.count())
        .unwrap_or(0);
    assert_eq!(dirs, 0);
}

#[test]
fn container_prune_removes_what_is_not_running() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let keep = running(&d);
    let exited = d
        .docker(&["run", "-d", "busybox", "sh", "-c", "echo x > /f"])
        .ok()
        .trim()
        .to_string();
    d.docker(&["wait", &exited]).ok();
    let labelled = d
        .docker(&["create", "-l", "keep=yes", "busybox", "true"])
        .ok()
        .trim()
        .to_string();
    let out = d
        .docker(&["container", "prune", "-f", "--filter", "label!=keep"])
        .ok();
    assert!(out.contains(&exited), "{out}");
    assert!(out.contains("Total reclaimed space"), "{out}");
    let left = d.docker(&["ps", "-aq", "--no-trunc"]).ok();
    assert!(left.contains(&keep) && left.contains(&labelled), "{left}");
    assert!(!left.contains(&exited), "{left}");
    let (status, _, body) = d.http("POST", "/containers/prune", b"");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&labelled), "{body}");
    assert!(d.docker(&["ps", "-aq"]).ok().contains(&keep[..12]));
}

#[test]
fn images_create_and_import_refuse_bad_input_with_400() {
    let d = TestDaemon::start();
    let (status, _, body) = d.http("POST", "/images/create", b"");
    assert_eq!(
        (status, body.trim()),
        (400, r#"{"message":"fromImage or fromSrc is required"}"#)
    );
    // A truncated gzip: the client's fault, and the daemon's paths stay private.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(common::busybox_tar()).unwrap();
    let gz = gz.finish().unwrap();
    let (status, _, body) = d.http("POST", "/images/create?fromSrc=-", &gz[..gz.len() / 2]);
    assert_eq!(status, 400, "{body}");
    assert!(!body.contains(d.root.to_str().unwrap()), "{body}");
    assert_eq!(d.docker(&["images", "-q"]).ok().trim(), "");
}

#[test]
fn attach_without_upgrade_streams_the_output_as_the_body() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let id = d
        .docker(&["run", "-d", "busybox", "echo", "attached"])
        .ok()
        .trim()
        .to_string();
    d.docker(&["wait", &id]).ok();
    let (status, head, body) = d.http(
        "POST",
        &format!("/containers/{id}/attach?logs=1&stdout=1&stderr=1"),
        b"",
    );
    assert_eq!(status, 200, "{head}");
    assert!(body.contains("attached"), "{body:?}");
}

#[test]
fn slow_and_unrouted_requests_do_not_hold_connections() {
    let d = TestDaemon::start_with_env(&[("BERTH_API_READ_TIMEOUT", "1")]);
    // Half a request's headers: the daemon hangs up.
    let mut s = UnixStream::connect(&d.socket).unwrap();
    s.write_all(b"GET /_ping HTTP/1.1\r\nHost: x\r\n").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "connection held"
    );
    // Headers, then half a body: the body read fails and the connection ends.
    let mut s = UnixStream::connect(&d.socket).unwrap();
    s.write_all(b"POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"Ima").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "connection held"
    );
    // A large body to an unknown route: the answer says the connection closes.
    let mut s = UnixStream::connect(&d.socket).unwrap();
    s.write_all(b"POST /no/such/route HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n")
        .unwrap();
    // The daemon may answer and hang up before the body is all sent.
    let _ = s.write_all(&vec![b'x'; 1 << 20]);
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let head = String::from_utf8_lossy(&resp).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 404"), "{head}");
    assert!(head.contains("connection: close"), "{head}");
    d.docker(&["version"]).ok();
}

#[test]
fn top_answers_4xx_for_bad_args_and_containers_that_just_ended() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let id = running(&d);
    let (status, _, resp) = d.http("GET", &format!("/containers/{id}/top?ps_args=%00"), b"");
    assert_eq!(status, 400, "{resp}");
    // Containers that end while top looks at them: whatever the moment, never a 500.
    for _ in 0..20 {
        let short = d.docker(&["run", "-d", "busybox", "true"]).ok();
        let (status, _, resp) = d.http("GET", &format!("/containers/{}/top", short.trim()), b"");
        assert!(status == 200 || status == 409, "{status}: {resp}");
    }
    d.docker(&["rm", "-f", &id]).ok();
}
