//! The Engine API surface: negotiation, errors, the data-root lock.

mod common;

use common::TestDaemon;

#[test]
fn ping_version_and_negotiation() {
    let d = TestDaemon::start();
    let (status, head, body) = d.http("GET", "/_ping", b"");
    assert_eq!(status, 200);
    assert_eq!(body, "OK");
    assert!(
        head.to_ascii_lowercase().contains("api-version: 1.43"),
        "{head}"
    );
    let (status, _, _) = d.http("HEAD", "/v1.24/_ping", b"");
    assert_eq!(status, 200);
    for v in ["1.24", "1.41", "1.43"] {
        let (status, _, body) = d.http("GET", &format!("/v{v}/version"), b"");
        assert_eq!(status, 200, "{v}: {body}");
        assert!(body.contains("\"ApiVersion\":\"1.43\""), "{body}");
    }
    let (status, _, body) = d.http("GET", "/v1.99/version", b"");
    assert_eq!(status, 400);
    assert!(
        body.contains("client version 1.99 is too new. Maximum supported API version is 1.43"),
        "{body}"
    );
    let (status, _, body) = d.http("GET", "/v1.12/version", b"");
    assert_eq!(status, 400);
    assert!(body.contains("is too old"), "{body}");
    // The stock CLI negotiates down and talks to berth.
    let out = d
        .docker(&["version", "--format", "{{.Server.APIVersion}}"])
        .ok();
    assert_eq!(out.trim(), "1.43");
    let info = d
        .docker(&["info", "--format", "{{.Driver}} {{.LoggingDriver}}"])
        .ok();
    assert_eq!(info.trim(), "overlay2 json-file");
    // The whole `docker info` text renders (it reads Swarm, Plugins, the registry config).
    let text = d.docker(&["info"]).ok();
    for want in [
        "Swarm: inactive",
        "Live Restore Enabled: true",
        "Insecure Registries:",
    ] {
        assert!(text.contains(want), "{want:?} in {text}");
    }
}

#[test]
fn docker_errors_and_bad_input() {
    let d = TestDaemon::start();
    let (status, _, body) = d.http("GET", "/containers/nope/json", b"");
    assert_eq!(
        (status, body.trim()),
        (404, r#"{"message":"No such container: nope"}"#)
    );
    let (status, _, body) = d.http("GET", "/images/busybox/json", b"");
    assert_eq!(
        (status, body.trim()),
        (404, r#"{"message":"No such image: busybox:latest"}"#)
    );
    let (status, _, body) = d.http("POST", "/containers/create", b"{not json");
    assert_eq!(status, 400, "{body}");
    let (status, _, _) = d.http("POST", "/containers/create", br#"{"Image": 5}"#);
    assert_eq!(status, 400);
    let (status, _, body) = d.http("GET", "/containers/json?filters=notjson", b"");
    assert_eq!(status, 400, "{body}");
    let (status, _, body) = d.http(
        "GET",
        "/containers/json?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D",
        b"",
    );
    assert_eq!(
        (status, body.trim()),
        (400, r#"{"message":"invalid filter 'bogus'"}"#)
    );
    let (status, _, _) = d.http("GET", "/no/such/endpoint", b"");
    assert_eq!(status, 404);
    // Options berth does not implement are refused by name, never ignored.
    for (flag, says) in [
        (&["--storage-opt", "size=1G"][..], "HostConfig.StorageOpt"),
        (
            &["--cgroup-parent", "custom"][..],
            "HostConfig.CgroupParent",
        ),
    ] {
        let mut args = vec!["create"];
        args.extend_from_slice(flag);
        args.push("busybox");
        let out = d.docker(&args);
        assert_ne!(out.code, 0, "{flag:?}");
        assert!(out.stderr.contains(says), "{flag:?}: {}", out.stderr);
    }
    // The daemon survived all of it.
    assert_eq!(d.http("GET", "/_ping", b"").0, 200);
}

#[test]
fn second_daemon_on_same_root_is_refused() {
    let d = TestDaemon::start();
    let out = std::process::Command::new(common::BERTH)
        .args(["daemon", "-H", "/tmp/berth-test-second.sock", "--data-root"])
        .arg(&d.root)
        .arg("--exec-root")
        .arg(&d.exec_root)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("another berth daemon is using the data root"),
        "{err}"
    );
    assert_eq!(d.http("GET", "/_ping", b"").0, 200);
}

#[test]
fn berth_cli_without_daemon_says_how_to_start_it() {
    let out = std::process::Command::new(common::BERTH)
        .args(["-H", "unix:///tmp/berth-no-such.sock", "ps"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Is the berth daemon running?") && err.contains("berth daemon"),
        "{err}"
    );
}
