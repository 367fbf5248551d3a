//! berth as a systemd service, without systemd as PID 1: socket activation through
//! `systemd-socket-activate`, readiness on a `NOTIFY_SOCKET` the test listens on, the units
//! checked by `systemd-analyze verify`, and `scripts/install.sh` staged in a `DESTDIR`.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{BERTH, Out};

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// A process killed (SIGKILL) and reaped when the test ends, failed or not.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn docker(host: &str, args: &[&str]) -> Out {
    Command::new("timeout")
        .args(["60", "docker", "-H", host])
        .args(args)
        .output()
        .unwrap()
        .into()
}

/// One datagram of the notify socket, as text.
fn next_state(notify: &UnixDatagram) -> String {
    let mut buf = [0u8; 256];
    let n = notify
        .recv(&mut buf)
        .expect("a notification within the timeout");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// `GET /_ping` on a unix socket, one request (its connection retried while the socket file
/// exists but is not listening yet: bind comes before listen).
fn ping(socket: &Path) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut s = loop {
        match UnixStream::connect(socket) {
            Ok(s) => break s,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                assert!(std::time::Instant::now() < deadline, "{e}");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp
}

#[test]
fn socket_activated_daemon_serves_fd_and_notifies_readiness_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("x.sock");
    let notify_path = dir.path().join("notify");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // The data root and labels come from the file, the listener from systemd.
    let root = dir.path().join("root");
    let config = dir.path().join("daemon.json");
    std::fs::write(
        &config,
        serde_json::json!({
            "data-root": root,
            "exec-root": dir.path().join("exec"),
            "bridge": "none",
            "labels": ["service=yes"],
        })
        .to_string(),
    )
    .unwrap();
    let daemon = Reaped(
        Command::new("systemd-socket-activate")
            .arg("-E")
            .arg(format!("NOTIFY_SOCKET={}", notify_path.display()))
            .arg("-l")
            .arg(&socket)
            .args([BERTH, "daemon", "-H", "fd://", "--config-file"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("daemon.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    // systemd-socket-activate listens, and starts the daemon at the first connection, which
    // waits in the backlog until the daemon serves.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !socket.exists() {
        assert!(std::time::Instant::now() < deadline, "no socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut buf = [0u8; 16];
    notify.set_nonblocking(true).unwrap();
    assert!(
        notify.recv(&mut buf).is_err(),
        "no READY=1 before the daemon runs"
    );
    notify.set_nonblocking(false).unwrap();
    let pong = ping(&socket);
    assert!(pong.starts_with("HTTP/1.1 200"), "{pong}");
    // READY=1 comes once the daemon serves: a new connection is answered at once.
    assert_eq!(next_state(&notify), "READY=1");
    let pong = ping(&socket);
    assert!(pong.ends_with("OK"), "{pong}");

    let host = format!("unix://{}", socket.display());
    assert!(
        !docker(&host, &["version", "--format", "{{.Server.Version}}"])
            .ok()
            .trim()
            .is_empty()
    );
    assert_eq!(
        docker(
            &host,
            &["info", "--format", "{{.DockerRootDir}} {{json .Labels}}"]
        )
        .ok()
        .trim(),
        format!("{} [\"service=yes\"]", root.display())
    );

    let pid = daemon.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let reloading = next_state(&notify);
    assert!(
        reloading.starts_with("RELOADING=1\nMONOTONIC_USEC="),
        "{reloading:?}"
    );
    assert_eq!(next_state(&notify), "READY=1");

    assert!(Command::new("kill").arg(&pid).status().unwrap().success());
    assert_eq!(next_state(&notify), "STOPPING=1");
    let mut daemon = daemon;
    let status = daemon.0.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(
        socket.exists(),
        "the socket is systemd's: the daemon leaves it"
    );
}

#[test]
fn fd_hosts_need_sockets_from_systemd() {
    let dir = tempfile::tempdir().unwrap();
    let run = |host: &str| -> Out {
        Command::new(BERTH)
            .args(["daemon", "--bridge", "none", "-H", host, "--data-root"])
            .arg(dir.path().join("root"))
            .arg("--exec-root")
            .arg(dir.path().join("exec"))
            .env_remove("LISTEN_FDS")
            .env_remove("LISTEN_PID")
            .output()
            .unwrap()
            .into()
    };
    run("fd://").fails_with(
        1,
        "no sockets found via socket activation: make sure the service was started by systemd",
    );
    run("fd://x").fails_with(
        1,
        "failed to parse systemd fd address: should be a number: x",
    );
}

#[test]
fn units_verify_and_install_sh_stages_idempotently_and_uninstalls() {
    let dest = tempfile::tempdir().unwrap();
    let d = dest.path();
    std::fs::create_dir_all(d.join("etc")).unwrap();
    std::fs::write(d.join("etc/group"), "root:x:0:\n").unwrap();
    let docker_config = d.join("docker-config");
    let install = |args: &[&str]| -> Out {
        Command::new(format!("{REPO}/scripts/install.sh"))
            .args(args)
            .env("DESTDIR", d)
            .env("DOCKER_CONFIG", &docker_config)
            .output()
            .unwrap()
            .into()
    };
    install(&[BERTH]).ok();
    let out = install(&[BERTH]).ok();
    assert!(out.contains("systemd is not running here"), "{out}");

    let bin = d.join("usr/local/bin/berth");
    assert_eq!(std::fs::read(&bin).unwrap(), std::fs::read(BERTH).unwrap());
    let groups = std::fs::read_to_string(d.join("etc/group")).unwrap();
    assert_eq!(groups.matches("\nberth:").count(), 1, "{groups}");
    let units = d.join("etc/systemd/system");
    let service = std::fs::read_to_string(units.join("berth.service")).unwrap();
    for line in [
        "Type=notify",
        "ExecStart=/usr/local/bin/berth daemon -H fd://",
        "ExecReload=/bin/kill -s HUP $MAINPID",
        "KillMode=process",
        "Delegate=yes",
        "Restart=always",
    ] {
        assert!(service.lines().any(|l| l == line), "{line} missing");
    }
    let socket = std::fs::read_to_string(units.join("berth.socket")).unwrap();
    for line in [
        "ListenStream=/run/berth/berth.sock",
        "SocketMode=0660",
        "SocketGroup=berth",
    ] {
        assert!(socket.lines().any(|l| l == line), "{line} missing");
    }
    // The installed units, with the staged binary, are valid for systemd.
    let check = d.join("verify");
    std::fs::create_dir(&check).unwrap();
    std::fs::write(
        check.join("berth.service"),
        service.replace("/usr/local/bin/berth", bin.to_str().unwrap()),
    )
    .unwrap();
    std::fs::write(check.join("berth.socket"), &socket).unwrap();
    let verify: Out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(check.join("berth.socket"))
        .arg(check.join("berth.service"))
        .output()
        .unwrap()
        .into();
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert_eq!(verify.stderr.trim(), "", "warnings");

    let context = Command::new("docker")
        .args([
            "context",
            "inspect",
            "berth",
            "--format",
            "{{.Endpoints.docker.Host}}",
        ])
        .env("DOCKER_CONFIG", &docker_config)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&context.stdout).trim(),
        "unix:///run/berth/berth.sock"
    );

    install(&["--uninstall"]).ok();
    assert!(!bin.exists());
    assert!(!units.join("berth.service").exists());
    assert!(!units.join("berth.socket").exists());
    let groups = std::fs::read_to_string(d.join("etc/group")).unwrap();
    assert!(!groups.contains("berth:"), "{groups}");
    let gone = Command::new("docker")
        .args(["context", "inspect", "berth"])
        .env("DOCKER_CONFIG", &docker_config)
        .output()
        .unwrap();
    assert!(!gone.status.success());
}
