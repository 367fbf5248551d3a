//! Pulls from a real registry (Debian's docker-registry, CNCF distribution 2.8) through the
//! stock docker CLI: progress, names and digests, errors in dockerd's words, auth.

mod common;
mod distribution;

use common::TestDaemon;
use distribution::{Registry, config_dir, docker_with, sha256_hex};

/// A daemon in its own network namespace with busybox, and a registry there holding it as
/// `lib/busybox:1`.
fn setup(port: u16, users: &[(&str, &str)]) -> (TestDaemon, Registry) {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let r = Registry::start(&d, port, users);
    let creds = users.first().map(|(u, p)| format!("{u}:{p}"));
    r.seed(&d, "busybox", "lib/busybox:1", creds.as_deref());
    (d, r)
}

#[test]
fn a_pulled_image_runs_with_its_digest_and_dockers_progress_lines() {
    let (d, r) = setup(5000, &[]);
    let name = format!("{}/lib/busybox:1", r.addr);
    let out = d.docker(&["pull", &name]).ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1: Pulling from lib/busybox", "{out}");
    // busybox is here: its layer is not fetched again.
    assert!(lines[1].ends_with(": Already exists"), "{out}");
    let digest = lines
        .iter()
        .find_map(|l| l.strip_prefix("Digest: "))
        .unwrap_or_else(|| panic!("no digest line: {out}"));
    let status = format!("Status: Downloaded newer image for {name}");
    assert_eq!(
        &lines[lines.len() - 2..],
        [status.as_str(), name.as_str()],
        "{out}"
    );
    // The digest is the registry's: sha256 of the manifest skopeo reads back.
    let raw = r.raw_manifest(&d, "lib/busybox:1", None);
    let want = format!("sha256:{}", sha256_hex(raw.as_bytes()));
    assert_eq!(digest, want);
    assert_eq!(
        d.inspect(&name, "{{json .RepoDigests}}"),
        format!("[\"{}/lib/busybox@{want}\"]", r.addr)
    );
    assert_eq!(
        d.docker(&["run", "--rm", &name, "echo", "pulled"]).ok(),
        "pulled\n"
    );
    // The same layers and config: the pulled image is the seeded one.
    assert_eq!(d.inspect(&name, "{{.Id}}"), d.inspect("busybox", "{{.Id}}"));

    let again = d.docker(&["pull", &name]).ok();
    assert!(
        again.contains(&format!("Status: Image is up to date for {name}")),
        "{again}"
    );
}

#[test]
fn a_pull_by_digest_names_no_tag_and_a_fresh_daemon_downloads_every_layer() {
    let (d, r) = setup(5001, &[]);
    let raw = r.raw_manifest(&d, "lib/busybox:1", None);
    let digest = format!("sha256:{}", sha256_hex(raw.as_bytes()));
    // Removing busybox leaves no layer, so the pull downloads all.
    d.docker(&["rmi", "busybox"]).ok();
    let by_digest = format!("{}/lib/busybox@{digest}", r.addr);
    let out = d.docker(&["pull", &by_digest]).ok();
    assert!(
        out.starts_with(&format!("{digest}: Pulling from lib/busybox\n")),
        "{out}"
    );
    assert!(out.contains("Download complete"), "{out}");
    assert!(!out.contains("Already exists"), "{out}");
    assert_eq!(
        d.docker(&[
            "images",
            "--digests",
            "--format",
            "{{.Repository}} {{.Tag}} {{.Digest}}"
        ])
        .ok(),
        format!("{}/lib/busybox <none> {digest}\n", r.addr)
    );
    d.docker(&["run", "--rm", &by_digest, "true"]).ok();
}

#[test]
fn missing_tags_and_repositories_fail_in_dockerds_words_and_leave_nothing() {
    let (d, r) = setup(5002, &[]);
    let before = d.docker(&["images", "-aq"]).ok();
    let tag = format!("{}/lib/busybox:nope", r.addr);
    d.docker(&["pull", &tag]).fails_with(
        1,
        &format!("Error response from daemon: manifest for {tag} not found: manifest unknown: manifest unknown"),
    );
    let repo = format!("{}/nothing/here", r.addr);
    d.docker(&["pull", &repo]).fails_with(
        1,
        &format!("Error response from daemon: manifest for {repo}:latest not found: manifest unknown: manifest unknown"),
    );
    assert_eq!(d.docker(&["images", "-aq"]).ok(), before);
}

#[test]
fn an_htpasswd_registry_wants_a_login_which_the_stock_cli_stores_and_pulls_with() {
    let (d, r) = setup(5003, &[("alice", "s3cret")]);
    let config = config_dir(&d);
    let name = format!("{}/lib/busybox:1", r.addr);
    let refused = docker_with(&d, &config, &["pull", &name]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stderr.contains("no basic auth credentials")
            || refused.stderr.contains("unauthorized"),
        "{refused:?}"
    );

    let wrong = docker_with(
        &d,
        &config,
        &["login", "-u", "alice", "-p", "nope", &r.addr],
    );
    assert_eq!(wrong.code, 1, "{wrong:?}");
    assert!(
        wrong.stderr.contains(&format!(
            "login attempt to http://{}/v2/ failed with status: 401 Unauthorized",
            r.addr
        )),
        "{wrong:?}"
    );
    let login = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "echo s3cret | docker -H {} --config {} login -u alice --password-stdin {}",
            d.host(),
            config.display(),
            r.addr
        ))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&login.stdout);
    assert!(stdout.contains("Login Succeeded"), "{login:?}");
    let stored = std::fs::read_to_string(config.join("config.json")).unwrap();
    assert!(stored.contains(&r.addr), "{stored}");
    let out = docker_with(&d, &config, &["pull", &name]).ok();
    assert!(out.contains("Status: "), "{out}");
}

/// Files under the daemon's content store and snapshot store.
fn stored(d: &TestDaemon) -> usize {
    let count = |p: std::path::PathBuf| std::fs::read_dir(p).map_or(0, |r| r.count());
    count(d.root.join("content/blobs/sha256")) + count(d.root.join("snapshots/layers"))
}

#[test]
fn a_dropped_blob_download_resumes_with_a_range_request() {
    let (d, r) = setup(5004, &[]);
    d.docker(&["rmi", "busybox"]).ok();
    let proxy = distribution::FaultyProxy::start(&d, 5104, &r, "drop-once");
    let name = format!("{}/lib/busybox:1", proxy.addr);
    d.docker(&["pull", &name]).ok();
    assert_eq!(
        d.docker(&["run", "--rm", &name, "echo", "whole"]).ok(),
        "whole\n"
    );
    let seen = proxy.requests();
    assert!(
        seen.lines()
            .any(|l| l.contains("/blobs/sha256:") && l.contains("range=bytes=")),
        "{seen}"
    );
}

#[test]
fn a_blob_with_the_wrong_digest_fails_the_pull_and_leaves_nothing_behind() {
    let (d, r) = setup(5005, &[]);
    d.docker(&["rmi", "busybox"]).ok();
    let before = stored(&d);
    let proxy = distribution::FaultyProxy::start(&d, 5105, &r, "corrupt");
    let name = format!("{}/lib/busybox:1", proxy.addr);
    let out = d.docker(&["pull", &name]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("verification failed"), "{out:?}");
    assert_eq!(d.docker(&["images", "-aq"]).ok(), "");
    assert_eq!(stored(&d), before);
}

#[test]
fn a_build_pulls_a_missing_base_image_and_with_pull_refreshes_one_that_is_here() {
    let (d, r) = setup(5006, &[]);
    d.docker(&["rmi", "busybox"]).ok();
    let base = format!("{}/lib/busybox:1", r.addr);
    let dockerfile = format!("FROM {base}\nRUN echo built > /f\n");
    let ctx = common::context(&[("Dockerfile", &dockerfile)]);
    let out = d
        .docker_build(&["-t", "built", ctx.path().to_str().unwrap()])
        .ok();
    assert!(out.contains("1: Pulling from lib/busybox"), "{out}");
    assert!(
        out.contains(&format!("Status: Downloaded newer image for {base}")),
        "{out}"
    );
    assert_eq!(
        d.docker(&["run", "--rm", "built", "cat", "/f"]).ok(),
        "built\n"
    );
    // Here now: a build without --pull does not ask the registry, one with it does.
    let cached = d
        .docker_build(&["-t", "built", ctx.path().to_str().unwrap()])
        .ok();
    assert!(!cached.contains("Pulling from"), "{cached}");
    let pulled = d
        .docker_build(&["--pull", "-t", "built", ctx.path().to_str().unwrap()])
        .ok();
    assert!(
        pulled.contains(&format!("Status: Image is up to date for {base}")),
        "{pulled}"
    );
}

#[test]
fn docker_hub_names_come_from_the_configured_mirror() {
    let d = TestDaemon::start_in_netns_with_args(&["--registry-mirror", "http://127.0.0.1:5007"]);
    d.import_busybox("busybox");
    let r = Registry::start(&d, 5007, &[]);
    r.seed(&d, "busybox", "library/busybox:mirrored", None);
    d.docker(&["rmi", "busybox"]).ok();
    let out = d.docker(&["pull", "busybox:mirrored"]).ok();
    assert!(
        out.starts_with("mirrored: Pulling from library/busybox\n"),
        "{out}"
    );
    assert!(
        out.ends_with("docker.io/library/busybox:mirrored\n"),
        "{out}"
    );
    assert_eq!(
        d.docker(&["run", "--rm", "busybox:mirrored", "echo", "hub"])
            .ok(),
        "hub\n"
    );
    let info = d
        .docker(&["info", "--format", "{{json .RegistryConfig.Mirrors}}"])
        .ok();
    assert_eq!(info.trim(), "[\"http://127.0.0.1:5007/\"]");
}

#[test]
fn docker_py_reads_the_registrys_descriptor_and_platforms() {
    let (d, r) = setup(5008, &[]);
    let raw = r.raw_manifest(&d, "lib/busybox:1", None);
    let digest = format!("sha256:{}", sha256_hex(raw.as_bytes()));
    let script = format!(
        "import docker\nc = docker.DockerClient(base_url='{}')\nr = c.images.get_registry_data('{}/lib/busybox:1')\nprint(r.id)\nprint(r.has_platform('linux/amd64'), r.has_platform('linux/s390x'))\n",
        d.host(),
        r.addr
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{digest}\nTrue False\n")
    );
    let (status, _, body) = d.http(
        "GET",
        &format!("/distribution/{}/lib/busybox:nope/json", r.addr),
        b"",
    );
    assert_eq!(status, 404, "{body}");
}
