//! Both halves of issue 14 together: the berth daemon (through the stock docker CLI) logs
//! in to, pushes to and pulls from `berth registry serve` with token auth, inside the test
//! daemon's network namespace.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{BERTH, TestDaemon};

/// `berth registry serve` on `127.0.0.1:port` in `d`'s network namespace, killed on drop.
struct ServedRegistry {
    child: Child,
    dir: tempfile::TempDir,
    addr: String,
}

impl ServedRegistry {
    fn start(d: &TestDaemon, port: u16, args: &[&str]) -> ServedRegistry {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("registry.log");
        let ns = d.netns.as_ref().expect("a daemon in a network namespace");
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new("nsenter")
            .arg(format!("--net={}", ns.display()))
            .args([BERTH, "registry", "serve", "--addr", &addr, "--root"])
            .arg(dir.path().join("root"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let r = ServedRegistry { child, dir, addr };
        let start = Instant::now();
        while !r.log().contains("listening on") {
            assert!(start.elapsed() < Duration::from_secs(20), "{}", r.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        r
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for ServedRegistry {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("registry log:\n{}", self.log());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn docker_with(d: &TestDaemon, config: &std::path::Path, args: &[&str]) -> common::Out {
    let mut all = vec!["--config", config.to_str().unwrap()];
    all.extend_from_slice(args);
    d.docker(&all)
}

/// docker login, push, rmi, pull and run through the berth daemon against berth's own
/// registry with Bearer tokens it issues; without the login the push is refused.
#[test]
fn the_daemon_pushes_to_and_pulls_from_berth_registry_with_tokens() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let keys = tempfile::tempdir().unwrap();
    let users = keys.path().join("htpasswd");
    let out = Command::new("htpasswd")
        .args(["-cbB"])
        .arg(&users)
        .args(["bob", "pw"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let key = keys.path().join("token.key");
    let out = Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let r = ServedRegistry::start(
        &d,
        5020,
        &[
            "--htpasswd",
            users.to_str().unwrap(),
            "--token-key",
            key.to_str().unwrap(),
        ],
    );
    let config = d.dir().join("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    let name = format!("{}/bob/bb:1", r.addr);
    d.docker(&["tag", "busybox", &name]).ok();
    let refused = docker_with(&d, &config, &["push", &name]);
    assert_eq!(refused.code, 1, "{refused:?}");
    docker_with(&d, &config, &["login", "-u", "bob", "-p", "pw", &r.addr]).ok();
    let out = docker_with(&d, &config, &["push", &name]).ok();
    assert!(out.contains("1: digest: sha256:"), "{out}");
    let id = d.inspect(&name, "{{.Id}}");
    d.docker(&["rmi", &name, "busybox"]).ok();
    let back = docker_with(&d, &config, &["pull", &name]).ok();
    assert!(back.contains("Digest: sha256:"), "{back}");
    assert_eq!(d.inspect(&name, "{{.Id}}"), id);
    assert_eq!(
        d.docker(&["run", "--rm", &name, "echo", "round trip"]).ok(),
        "round trip\n"
    );
    assert!(r.log().contains("user=\"bob\""), "{}", r.log());
}
