//! Issue 9: the archive API and `cp`, through the stock docker CLI and `berth cp`, for stopped
//! and running containers, with hostile archives and a container racing the copy.

mod common;

use std::fs;
use std::path::Path;

use common::{Out, TestDaemon};

/// A local tree to copy: `src/a.txt`, `src/sub/b.txt`.
fn local_tree() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("berth-cp")
        .tempdir_in("/tmp")
        .unwrap();
    fs::create_dir_all(dir.path().join("src/sub")).unwrap();
    fs::write(dir.path().join("src/a.txt"), "alpha").unwrap();
    fs::write(dir.path().join("src/sub/b.txt"), "beta").unwrap();
    dir
}

/// Entry names and contents of a tar (a CLI's stdout).
fn entries(tar: &[u8]) -> Vec<(String, String)> {
    let mut a = tar::Archive::new(tar);
    a.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
            let mut body = String::new();
            std::io::Read::read_to_string(&mut e, &mut body).unwrap();
            (name, body)
        })
        .collect()
}

fn names(tar: &[u8]) -> Vec<String> {
    entries(tar).into_iter().map(|(n, _)| n).collect()
}

/// Runs `cp` with the stock docker CLI or with berth.
fn cp(d: &TestDaemon, berth: bool, args: &[&str]) -> Out {
    let mut all = vec!["cp"];
    all.extend_from_slice(args);
    if berth { d.berth(&all) } else { d.docker(&all) }
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn files_and_directories_go_both_ways_with_docker_and_berth() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    d.docker(&["create", "--name", "box", "busybox", "true"])
        .ok();
    for berth in [false, true] {
        let local = local_tree();
        let l = |p: &str| local.path().join(p).to_str().unwrap().to_string();
        let src = l("src");
        // Into the container: a directory under its own name, a file renamed.
        cp(&d, berth, &[&src, "box:/tmp/"]).ok();
        cp(&d, berth, &[&l("src/a.txt"), "box:/tmp/renamed.txt"]).ok();
        // Out: to a new name, the contents of a directory (`/.`) into an existing one, a file.
        cp(&d, berth, &["box:/tmp/src", &l("new")]).ok();
        assert_eq!(read(&local.path().join("new/sub/b.txt")), "beta");
        fs::create_dir(local.path().join("existing")).unwrap();
        cp(&d, berth, &["box:/tmp/src/.", &l("existing")]).ok();
        assert_eq!(read(&local.path().join("existing/a.txt")), "alpha");
        assert!(!local.path().join("existing/src").exists());
        cp(&d, berth, &["box:/tmp/renamed.txt", &l("r.txt")]).ok();
        assert_eq!(read(&local.path().join("r.txt")), "alpha");
        // Into an existing directory: under the source's name.
        cp(&d, berth, &["box:/tmp/src", &l("existing")]).ok();
        assert_eq!(read(&local.path().join("existing/src/a.txt")), "alpha");
        // `-`: tar streams both ways, names as Docker gives them.
        let out = cp(&d, berth, &["box:/tmp/src", "-"]).ok();
        let mut got = names(out.as_bytes());
        got.sort();
        assert_eq!(got, ["src/", "src/a.txt", "src/sub/", "src/sub/b.txt"]);
        assert_eq!(
            names(cp(&d, berth, &["box:/tmp/src/.", "-"]).ok().as_bytes())[0],
            "./"
        );
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        h.set_mode(0o644);
        h.set_mtime(0);
        b.append_data(&mut h, "streamed.txt", &b"piped"[..])
            .unwrap();
        let tar = b.into_inner().unwrap();
        let args = ["cp", "-", "box:/tmp"];
        if berth {
            let mut c = std::process::Command::new(common::BERTH)
                .args(["-H", &d.host()])
                .args(args)
                .stdin(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::io::Write::write_all(&mut c.stdin.take().unwrap(), &tar).unwrap();
            assert!(c.wait().unwrap().success());
        } else {
            d.docker_stdin(&args, &tar).ok();
        }
        let out = cp(&d, berth, &["box:/tmp/streamed.txt", "-"]).ok();
        assert_eq!(
            entries(out.as_bytes()),
            [("streamed.txt".into(), "piped".into())]
        );
        // Docker's errors, word for word.
        cp(&d, berth, &["box:/nope", &l("x")]).fails_with(
            1,
            "Error response from daemon: Could not find the file /nope in container box",
        );
        cp(&d, berth, &[&l("src"), "box:/tmp/renamed.txt"]).fails_with(1, "cannot copy directory");
        cp(&d, berth, &[&l("nope"), "box:/tmp"]).fails_with(1, "no such file or directory");
        cp(&d, berth, &["box:/tmp", "other:/tmp"])
            .fails_with(1, "copying between containers is not supported");
        cp(&d, berth, &["box:/tmp/src/", "-"]).ok();
    }
}

#[test]
fn a_running_container_sees_what_is_copied_in_and_gives_what_it_wrote() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    d.docker(&["run", "-d", "--name", "run", "busybox", "sleep", "1000"])
        .ok();
    let local = local_tree();
    let src = local.path().join("src");
    d.docker(&["cp", src.to_str().unwrap(), "run:/root/"]).ok();
    assert_eq!(
        d.docker(&["exec", "run", "cat", "/root/src/sub/b.txt"])
            .ok(),
        "beta"
    );
    d.berth(&["cp", src.join("a.txt").to_str().unwrap(), "run:/root/a2"])
        .ok();
    assert_eq!(d.docker(&["exec", "run", "cat", "/root/a2"]).ok(), "alpha");
    d.docker(&["exec", "run", "sh", "-c", "echo written > /tmp/w"])
        .ok();
    for berth in [false, true] {
        let out = cp(&d, berth, &["run:/tmp/w", "-"]).ok();
        assert_eq!(entries(out.as_bytes()), [("w".into(), "written\n".into())]);
    }
}

#[test]
fn the_stat_header_and_the_status_codes_are_dockers() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    d.docker(&["create", "--name", "st", "busybox", "true"])
        .ok();
    let (status, head, _) = d.http("HEAD", "/containers/st/archive?path=/bin/sh", b"");
    assert_eq!(status, 200, "{head}");
    let stat = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(": ")?;
            k.eq_ignore_ascii_case("x-docker-container-path-stat")
                .then_some(v)
        })
        .unwrap_or_else(|| panic!("no stat header: {head}"));
    let json = String::from_utf8(
        std::process::Command::new("base64")
            .arg("-d")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map(|mut c| {
                std::io::Write::write_all(&mut c.stdin.take().unwrap(), stat.trim().as_bytes())
                    .unwrap();
                c.wait_with_output().unwrap().stdout
            })
            .unwrap(),
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["name"], "sh");
    assert_eq!(v["mode"], (1u64 << 27) | 0o777, "a symlink: {v}");
    assert_eq!(v["linkTarget"], "/bin/busybox");
    assert!(
        v["mtime"]
            .as_str()
            .unwrap()
            .starts_with("1970-01-01T00:00:00"),
        "{v}"
    );
    let (status, _, body) = d.http("GET", "/containers/st/archive?path=/nope", b"");
    assert_eq!(status, 404);
    assert!(
        body.contains("Could not find the file /nope in container st"),
        "{body}"
    );
    let (status, _, body) = d.http("GET", "/containers/st/archive?path=", b"");
    assert_eq!(
        (status, body.contains("bad parameter: pathcannot be empty")),
        (400, true),
        "{body}"
    );
    let (status, _, _) = d.http("HEAD", "/containers/nope/archive?path=/", b"");
    assert_eq!(status, 404);
    let (status, _, body) = d.http(
        "PUT",
        "/containers/st/archive?path=/bin/busybox",
        &tar_of(&[("x", "x")]),
    );
    assert_eq!(
        (status, body.contains("extraction point is not a directory")),
        (400, true),
        "{body}"
    );
    d.docker(&["create", "--name", "ro", "--read-only", "busybox", "true"])
        .ok();
    let local = local_tree();
    d.docker(&["cp", local.path().join("src").to_str().unwrap(), "ro:/tmp"])
        .fails_with(1, "container rootfs is marked read-only");
}

/// A tar with raw names and symlinks (`name`, content; a content `-> target` is a symlink).
fn tar_of(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_uid(1234);
        h.set_gid(1234);
        match data.strip_prefix("-> ") {
            Some(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                h.as_old_mut().linkname[..target.len()].copy_from_slice(target.as_bytes());
            }
            None => h.set_size(data.len() as u64),
        }
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        let body = if data.starts_with("-> ") { "" } else { data };
        b.append(&h, body.as_bytes()).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn hostile_archives_are_refused_and_write_nothing_outside() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    d.docker(&["create", "--name", "hh", "busybox", "true"])
        .ok();
    let host = tempfile::Builder::new()
        .prefix("berth-cp-host")
        .tempdir_in("/tmp")
        .unwrap();
    let hp = host.path().to_str().unwrap();
    let put = |tar: Vec<u8>| d.http("PUT", "/containers/hh/archive?path=/tmp", &tar);
    // `..` above the destination, first member: refused, nothing written.
    let (status, _, body) = put(tar_of(&[("../../../../../../..", "x"), ("ok", "x")]));
    assert_eq!(status, 400, "{body}");
    let (status, _, body) = put(tar_of(&[(&format!("../../../..{hp}/dotdot"), "x")]));
    assert_eq!(
        (status, body.contains("outside of the destination")),
        (400, true),
        "{body}"
    );
    // A symlink to the host's directory, then a file through it.
    let (status, _, body) = put(tar_of(&[
        ("link", &format!("-> {hp}")),
        ("link/through", "x"),
    ]));
    assert_eq!(
        (status, body.contains("goes through the symlink")),
        (400, true),
        "{body}"
    );
    assert_eq!(
        fs::read_dir(host.path()).unwrap().count(),
        0,
        "nothing reached the host"
    );
    // An absolute name lands inside the destination, as in Docker; the owner is the archive's.
    let (status, _, body) = put(tar_of(&[(&format!("{hp}/abs"), "inside")]));
    assert_eq!(status, 200, "{body}");
    assert!(!host.path().join("abs").exists());
    let out = d.docker(&["cp", &format!("hh:/tmp{hp}/abs"), "-"]).ok();
    let mut a = tar::Archive::new(out.as_bytes());
    let e = a.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(
        (e.header().uid().unwrap(), e.header().gid().unwrap()),
        (1234, 1234)
    );
}

#[test]
fn archive_mode_gives_files_to_the_containers_user() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    d.docker(&["create", "--name", "usr", "-u", "u1", "busybox", "true"])
        .ok();
    let local = local_tree();
    d.docker(&[
        "cp",
        "-a",
        local.path().join("src/a.txt").to_str().unwrap(),
        "usr:/tmp/a",
    ])
    .ok();
    d.berth(&[
        "cp",
        "-a",
        local.path().join("src/a.txt").to_str().unwrap(),
        "usr:/tmp/b",
    ])
    .ok();
    for f in ["a", "b"] {
        let out = d.docker(&["cp", &format!("usr:/tmp/{f}"), "-"]).ok();
        let mut a = tar::Archive::new(out.as_bytes());
        let e = a.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(
            (e.header().uid().unwrap(), e.header().gid().unwrap()),
            (1000, 1000),
            "{f}"
        );
    }
}

/// CVE-2019-14271's class, end to end: the container keeps swapping `/d` between a directory
/// and a symlink to `/` while the daemon copies through it; no copy ever reads the host's
/// files or writes to the host's `/`.
#[test]
fn a_container_swapping_a_directory_for_a_symlink_cannot_make_a_copy_escape() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let marker = format!("berth-cp-marker-{}", std::process::id());
    fs::write(format!("/{marker}"), "host secret").unwrap();
    let _cleanup = Cleanup(vec![format!("/{marker}"), "/planted".into()]);
    let script = "mkdir -p /d && echo inside > /d/f; while true; do mv /d /d.tmp; ln -s / /d; rm /d; mv /d.tmp /d; done";
    d.docker(&["run", "-d", "--name", "race", "busybox", "sh", "-c", script])
        .ok();
    let tar = tar_of(&[("planted", "x")]);
    let mut whole = 0;
    for i in 0..100 {
        // A copy may fail when the path changes under it (even before the answer's head):
        // what matters is what it read.
        let got = raw_http(&d, "GET", "/containers/race/archive?path=/d/", b"");
        let text = String::from_utf8_lossy(&got);
        assert!(
            !text.contains(&marker) && !text.contains("host secret"),
            "round {i} read the host"
        );
        whole += usize::from(text.starts_with("HTTP/1.1 200"));
        raw_http(&d, "PUT", "/containers/race/archive?path=/d", &tar);
        assert!(
            !Path::new("/planted").exists(),
            "round {i} wrote to the host's /"
        );
    }
    assert!(whole > 0, "no copy got through at all");
}

/// A request's raw answer, whatever it is (an empty one included).
fn raw_http(d: &TestDaemon, method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(&d.socket).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

struct Cleanup(Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = fs::remove_file(p);
        }
    }
}

/// Paths under a bind mount or a volume are the mounted data, on stopped containers too (a
/// volume with driver options is mounted for the copy).
#[test]
fn a_copy_into_a_bind_mount_goes_to_the_host_directory() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let host = tempfile::Builder::new()
        .prefix("berth-cp-bind")
        .tempdir_in("/tmp")
        .unwrap();
    let bind = format!("{}:/mnt", host.path().display());
    d.docker(&["create", "--name", "bb", "-v", &bind, "busybox", "true"])
        .ok();
    let local = local_tree();
    d.docker(&["cp", local.path().join("src").to_str().unwrap(), "bb:/mnt/"])
        .ok();
    assert_eq!(read(&host.path().join("src/a.txt")), "alpha");
    fs::write(host.path().join("from-host"), "h").unwrap();
    let out = d.docker(&["cp", "bb:/mnt/from-host", "-"]).ok();
    assert_eq!(entries(out.as_bytes()), [("from-host".into(), "h".into())]);
    // A bind-backed volume (driver options) of a stopped container.
    let device = format!("device={}", host.path().display());
    d.docker(&[
        "volume",
        "create",
        "--opt",
        "type=none",
        "--opt",
        &device,
        "--opt",
        "o=bind",
        "ov",
    ])
    .ok();
    d.docker(&[
        "create", "--name", "withvol", "-v", "ov:/v", "busybox", "true",
    ])
    .ok();
    let out = d.docker(&["cp", "withvol:/v/from-host", "-"]).ok();
    assert_eq!(entries(out.as_bytes()), [("from-host".into(), "h".into())]);
    let table = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let data = d.root.join("volumes/ov/_data");
    assert!(
        !table.lines().any(|l| l.split(' ').nth(4) == data.to_str()),
        "unmounted after the copy"
    );
}

#[test]
fn follow_link_copies_the_target_under_the_links_name() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    d.docker(&["create", "--name", "fl", "busybox", "true"])
        .ok();
    for berth in [false, true] {
        let local = local_tree();
        let (link, file) = (local.path().join("sh"), local.path().join("sh-L"));
        cp(&d, berth, &["fl:/bin/sh", link.to_str().unwrap()]).ok();
        assert_eq!(fs::read_link(&link).unwrap(), Path::new("busybox"));
        cp(&d, berth, &["-L", "fl:/bin/sh", file.to_str().unwrap()]).ok();
        assert!(
            fs::symlink_metadata(&file).unwrap().len() > 100_000,
            "the busybox binary"
        );
        // Into the container: -L follows a local symlink too.
        std::os::unix::fs::symlink(local.path().join("src/a.txt"), local.path().join("la"))
            .unwrap();
        cp(
            &d,
            berth,
            &[
                "-L",
                local.path().join("la").to_str().unwrap(),
                "fl:/tmp/la",
            ],
        )
        .ok();
        let out = cp(&d, berth, &["fl:/tmp/la", "-"]).ok();
        assert_eq!(entries(out.as_bytes()), [("la".into(), "alpha".into())]);
    }
}
