//! Image archives between berth and its peers: what `berth save` writes loads into Podman,
//! converts with skopeo and unpacks with umoci; what Podman, skopeo and umoci write loads into
//! berth and runs; skopeo's `docker-daemon:` transport reads and writes berth's images through
//! the API. The peers come from scripts/deps.sh: a missing one fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Out, TestDaemon};

fn need(bin: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(found, "{bin} is missing: scripts/deps.sh installs it");
}

fn run(cmd: &mut Command) -> String {
    let out: Out = cmd.output().expect("peer runs").into();
    out.ok()
}

/// Podman with storage of its own (vfs: no mounts), removed with the test.
struct Podman {
    dir: tempfile::TempDir,
}

impl Podman {
    fn new() -> Podman {
        need("podman");
        Podman {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("timeout");
        c.args(["120", "podman", "--root"])
            .arg(self.dir.path().join("root"))
            .arg("--runroot")
            .arg(self.dir.path().join("run"))
            .args(["--storage-driver", "vfs"])
            .args(args);
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        run(&mut self.cmd(args))
    }
}

/// A daemon with busybox and `app:1` (busybox plus a layer with /app.txt); returns it and
/// app's ID.
fn source() -> (TestDaemon, String) {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let ctx = common::context(&[("Dockerfile", "FROM busybox\nRUN echo app > /app.txt\n")]);
    d.docker_build(&["-q", "-t", "app:1", ctx.path().to_str().unwrap()])
        .ok();
    let id = d.inspect("app:1", "{{.Id}}");
    (d, id)
}

fn save_to(d: &TestDaemon, dir: &Path, names: &[&str]) -> PathBuf {
    let path = dir.join("berth.tar");
    let mut args = vec!["save", "-o", path.to_str().unwrap()];
    args.extend(names);
    d.berth(&args).ok();
    path
}

fn load_file(d: &TestDaemon, path: &Path) -> String {
    d.berth(&["load", "-i", path.to_str().unwrap()]).ok()
}

#[test]
fn berth_archives_load_into_podman_convert_with_skopeo_and_unpack_with_umoci() {
    need("skopeo");
    need("umoci");
    let (d, id) = source();
    let dir = tempfile::tempdir().unwrap();
    let archive = save_to(&d, dir.path(), &["busybox", "app:1"]);
    let archive = archive.to_str().unwrap();

    let podman = Podman::new();
    let out = podman.ok(&["load", "-i", archive]);
    assert!(out.contains("app:1"), "{out}");
    let pid = podman.ok(&["image", "inspect", "--format", "{{.Id}}", "app:1"]);
    assert_eq!(format!("sha256:{}", pid.trim()), id, "Podman keeps the ID");

    let layout = dir.path().join("layout");
    run(Command::new("skopeo").args([
        "copy",
        "-q",
        &format!("docker-archive:{archive}:app:1"),
        &format!("oci:{}:app", layout.display()),
    ]));
    let bundle = dir.path().join("bundle");
    run(Command::new("umoci").args([
        "unpack",
        "--image",
        &format!("{}:app", layout.display()),
        bundle.to_str().unwrap(),
    ]));
    assert_eq!(
        std::fs::read_to_string(bundle.join("rootfs/app.txt")).unwrap(),
        "app\n"
    );
    assert!(bundle.join("rootfs/bin/busybox").is_file());
}

#[test]
fn podman_skopeo_and_umoci_archives_load_into_berth_and_run() {
    need("skopeo");
    need("umoci");
    let (src, id) = source();
    let dir = tempfile::tempdir().unwrap();
    let archive = save_to(&src, dir.path(), &["app:1"]);
    let archive = archive.to_str().unwrap();
    let podman = Podman::new();
    podman.ok(&["load", "-i", archive]);
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();

    // Podman's docker-archive keeps the config bytes: same ID.
    podman.ok(&["save", "-o", &p("podman-docker.tar"), "app:1"]);
    let d = TestDaemon::start();
    let name = loaded_name(&load_file(&d, Path::new(&p("podman-docker.tar"))));
    assert_eq!(d.inspect(&name, "{{.Id}}"), id);
    assert_eq!(
        d.docker(&["run", "--rm", &name, "cat", "/app.txt"]).ok(),
        "app\n"
    );

    // Podman's oci-archive rewrites the config as OCI's (another ID) and names it.
    podman.ok(&[
        "save",
        "--format",
        "oci-archive",
        "-o",
        &p("podman-oci.tar"),
        "app:1",
    ]);
    let d = TestDaemon::start();
    let name = loaded_name(&load_file(&d, Path::new(&p("podman-oci.tar"))));
    assert_eq!(
        d.docker(&["run", "--rm", &name, "cat", "/app.txt"]).ok(),
        "app\n"
    );

    // skopeo: docker-archive (config kept: same ID) and oci-archive with zstd layers.
    let d = TestDaemon::start();
    run(Command::new("skopeo").args([
        "copy",
        "-q",
        &format!("docker-archive:{archive}"),
        &format!("docker-archive:{}:sk/app:d", p("sk-docker.tar")),
    ]));
    assert_eq!(
        load_file(&d, Path::new(&p("sk-docker.tar"))),
        "Loaded image: sk/app:d\n"
    );
    assert_eq!(d.inspect("sk/app:d", "{{.Id}}"), id);
    run(Command::new("skopeo").args([
        "copy",
        "-q",
        "--dest-compress-format",
        "zstd",
        &format!("docker-archive:{archive}"),
        &format!("oci-archive:{}:sk/app:zstd", p("sk-oci.tar")),
    ]));
    assert_eq!(
        load_file(&d, Path::new(&p("sk-oci.tar"))),
        "Loaded image: sk/app:zstd\n"
    );
    assert_eq!(
        d.docker(&["run", "--rm", "sk/app:zstd", "cat", "/app.txt"])
            .ok(),
        "app\n"
    );

    // umoci: a layout made from scratch, tarred; its bare tag names no repository.
    let layout = p("umoci");
    let image = format!("{layout}:t");
    let rootfs = dir.path().join("rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    run(Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-xf")
        .arg("-")
        .stdin(std::fs::File::open(busybox_fixture(dir.path())).unwrap()));
    run(Command::new("umoci").args(["init", "--layout", &layout]));
    run(Command::new("umoci").args(["new", "--image", &image]));
    run(Command::new("umoci").args(["insert", "--image", &image, rootfs.to_str().unwrap(), "/"]));
    run(Command::new("umoci").args([
        "config",
        "--image",
        &image,
        "--config.cmd",
        "echo",
        "--config.cmd",
        "umoci",
    ]));
    run(Command::new("tar").args(["-C", &layout, "-cf", &p("umoci.tar"), "."]));
    let out = load_file(&d, Path::new(&p("umoci.tar")));
    let loaded = out
        .strip_prefix("Loaded image ID: ")
        .unwrap_or_else(|| panic!("{out}"))
        .trim();
    assert_eq!(d.docker(&["run", "--rm", loaded]).ok(), "umoci\n");
}

/// The one name a load printed (Podman names images `app:1` or `localhost/app:1`, as they
/// came to it).
fn loaded_name(out: &str) -> String {
    let name = out
        .strip_prefix("Loaded image: ")
        .unwrap_or_else(|| panic!("{out:?}"))
        .trim();
    assert!(name.ends_with("app:1") && !name.contains('\n'), "{out:?}");
    name.to_string()
}

/// The busybox fixture as a file in `dir`.
fn busybox_fixture(dir: &Path) -> PathBuf {
    let path = dir.join("busybox.tar");
    std::fs::write(&path, common::busybox_tar()).unwrap();
    path
}

#[test]
fn skopeos_docker_daemon_transport_reads_and_writes_berths_images() {
    need("skopeo");
    let (src, id) = source();
    let dir = tempfile::tempdir().unwrap();
    // From berth (GET /images/get) to an OCI layout...
    let layout = dir.path().join("layout");
    run(Command::new("timeout").args([
        "120",
        "skopeo",
        "copy",
        "-q",
        "--src-daemon-host",
        &src.host(),
        "docker-daemon:app:1",
        &format!("oci:{}:app", layout.display()),
    ]));
    assert!(layout.join("index.json").is_file());
    // ...and from that layout into another berth (POST /images/load), which runs it.
    let dst = TestDaemon::start();
    run(Command::new("timeout").args([
        "120",
        "skopeo",
        "copy",
        "-q",
        "--dest-daemon-host",
        &dst.host(),
        &format!("oci:{}:app", layout.display()),
        "docker-daemon:copied/app:2",
    ]));
    assert_eq!(
        dst.docker(&["run", "--rm", "copied/app:2", "cat", "/app.txt"])
            .ok(),
        "app\n"
    );
    // The docker-archive it sends keeps the config: the ID too.
    run(Command::new("timeout").args([
        "120",
        "skopeo",
        "copy",
        "-q",
        "--src-daemon-host",
        &src.host(),
        "--dest-daemon-host",
        &dst.host(),
        "docker-daemon:app:1",
        "docker-daemon:copied/app:3",
    ]));
    assert_eq!(dst.inspect("copied/app:3", "{{.Id}}"), id);
    // Other endpoints still refuse API 1.22, as dockerd does.
    let (status, _, body) = dst.http("GET", "/v1.22/images/json", b"");
    assert_eq!(status, 400, "{body}");
}
