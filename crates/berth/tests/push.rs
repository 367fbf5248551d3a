//! Pushes to a real registry (Debian's docker-registry, CNCF distribution 2.8) through the
//! stock docker CLI, checked with skopeo and by pulling back.

mod common;
mod distribution;

use common::TestDaemon;
use distribution::{Registry, config_dir, docker_with, sha256_hex};

/// The `TAG: digest: sha256:... size: N` line of a push.
fn pushed_digest(out: &str, tag: &str) -> String {
    let prefix = format!("{tag}: digest: ");
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no digest line: {out}"));
    line.split_whitespace().next().unwrap().to_string()
}

#[test]
fn a_pushed_image_is_the_registrys_and_pulls_back_the_same_on_a_fresh_store() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let r = Registry::start(&d, 5010, &[]);
    let name = format!("{}/me/bb:1", r.addr);
    d.docker(&["tag", "busybox", &name]).ok();
    let out = d.docker(&["push", &name]).ok();
    assert!(
        out.starts_with(&format!(
            "The push refers to repository [{}/me/bb]\n",
            r.addr
        )),
        "{out}"
    );
    assert!(out.lines().any(|l| l.ends_with(": Pushed")), "{out}");
    let digest = pushed_digest(&out, "1");
    let raw = r.raw_manifest(&d, "me/bb:1", None);
    assert_eq!(digest, format!("sha256:{}", sha256_hex(raw.as_bytes())));
    assert!(
        raw.contains("application/vnd.docker.image.rootfs.diff.tar.gzip"),
        "{raw}"
    );
    assert!(raw.starts_with("{\n   \"schemaVersion\": 2,"), "{raw}");
    assert_eq!(
        d.inspect(&name, "{{json .RepoDigests}}"),
        format!("[\"{}/me/bb@{digest}\"]", r.addr)
    );

    let id = d.inspect(&name, "{{.Id}}");
    d.docker(&["rmi", &name, "busybox"]).ok();
    assert_eq!(d.docker(&["images", "-q"]).ok(), "");
    let back = d.docker(&["pull", &name]).ok();
    assert!(back.contains(&format!("Digest: {digest}")), "{back}");
    assert_eq!(d.inspect(&name, "{{.Id}}"), id);
    assert_eq!(
        d.docker(&["run", "--rm", &name, "echo", "round trip"]).ok(),
        "round trip\n"
    );
}

#[test]
fn a_second_push_sends_nothing_and_another_repository_mounts_the_layer() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let r = Registry::start(&d, 5011, &[]);
    let first = format!("{}/me/bb:1", r.addr);
    d.docker(&["tag", "busybox", &first]).ok();
    let digest = pushed_digest(&d.docker(&["push", &first]).ok(), "1");
    let again = d.docker(&["push", &first]).ok();
    assert!(
        again.lines().any(|l| l.ends_with(": Layer already exists")),
        "{again}"
    );
    assert_eq!(pushed_digest(&again, "1"), digest);

    let other = format!("{}/other/bb:2", r.addr);
    d.docker(&["tag", "busybox", &other]).ok();
    let mounted = d.docker(&["push", &other]).ok();
    assert!(
        mounted.lines().any(|l| l.ends_with(": Mounted from me/bb")),
        "{mounted}"
    );
    assert_eq!(pushed_digest(&mounted, "2"), digest);
    // Without a tag every local tag of the repository goes.
    d.docker(&["tag", "busybox", &format!("{}/me/bb:3", r.addr)])
        .ok();
    let all = d
        .docker(&["push", "--all-tags", &format!("{}/me/bb", r.addr)])
        .ok();
    assert_eq!(pushed_digest(&all, "1"), digest);
    assert_eq!(pushed_digest(&all, "3"), digest);
}

#[test]
fn a_pulled_image_pushed_elsewhere_keeps_the_digest_it_was_pulled_with() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let r = Registry::start(&d, 5012, &[]);
    // skopeo writes its own manifest (not berth's): pushing it back must keep it.
    r.seed(&d, "busybox", "lib/busybox:1", None);
    let raw = r.raw_manifest(&d, "lib/busybox:1", None);
    let original = format!("sha256:{}", sha256_hex(raw.as_bytes()));
    d.docker(&["rmi", "busybox"]).ok();
    d.docker(&["pull", &format!("{}/lib/busybox:1", r.addr)])
        .ok();
    let copy = format!("{}/lib/copy:2", r.addr);
    d.docker(&["tag", &format!("{}/lib/busybox:1", r.addr), &copy])
        .ok();
    let out = d.docker(&["push", &copy]).ok();
    assert!(
        out.lines()
            .any(|l| l.ends_with(": Mounted from lib/busybox")),
        "{out}"
    );
    assert_eq!(pushed_digest(&out, "2"), original);
}

#[test]
fn pushing_needs_the_login_an_htpasswd_registry_asks_for_and_a_local_image() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let r = Registry::start(&d, 5013, &[("bob", "pw")]);
    let config = config_dir(&d);
    let name = format!("{}/bob/bb:1", r.addr);
    d.docker(&["tag", "busybox", &name]).ok();
    let refused = docker_with(&d, &config, &["push", &name]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stdout.starts_with("The push refers to repository"),
        "{refused:?}"
    );
    assert_eq!(refused.stderr, "no basic auth credentials\n");
    docker_with(&d, &config, &["login", "-u", "bob", "-p", "pw", &r.addr]).ok();
    let out = docker_with(&d, &config, &["push", &name]).ok();
    assert!(out.contains("1: digest: sha256:"), "{out}");
    let missing = format!("{}/bob/none:1", r.addr);
    docker_with(&d, &config, &["push", &missing]).fails_with(
        1,
        &format!(
            "An image does not exist locally with the tag: {}/bob/none",
            r.addr
        ),
    );
}
