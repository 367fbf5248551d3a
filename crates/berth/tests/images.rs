//! Images: import, list, inspect, tag, remove, hostile archives.

mod common;

use common::TestDaemon;

#[test]
fn import_list_tag_inspect_remove() {
    let d = TestDaemon::start();
    let id = d
        .docker_stdin(
            &[
                "import",
                "-c",
                "CMD [\"sh\"]",
                "-c",
                "ENV A=1",
                "-c",
                "WORKDIR /tmp",
                "-c",
                "STOPSIGNAL SIGUSR1",
                "-c",
                "LABEL k=v",
                "-",
                "busybox",
            ],
            common::busybox_tar(),
        )
        .ok();
    assert!(id.trim().starts_with("sha256:"), "{id}");
    let images = d.docker(&["images"]).ok();
    assert!(
        images.starts_with("REPOSITORY   TAG       IMAGE ID"),
        "{images}"
    );
    assert!(images.contains("busybox      latest"), "{images}");
    let cfg = d.docker(&["image", "inspect", "--format", "{{json .Config.Cmd}} {{.Config.WorkingDir}} {{.Config.StopSignal}} {{index .Config.Labels \"k\"}} {{.Comment}}", "busybox"]).ok();
    assert_eq!(cfg.trim(), r#"["sh"] /tmp SIGUSR1 v Imported from -"#);
    // HEALTHCHECK is a change too; an unknown one is refused with Docker's message (and the
    // client, still sending the tarball, gets to read it).
    let tar = common::busybox_tar();
    let hc = d
        .docker_stdin(
            &[
                "import",
                "-c",
                "HEALTHCHECK --interval=5s CMD true",
                "-",
                "hc",
            ],
            tar,
        )
        .ok();
    assert_eq!(
        d.docker(&[
            "image",
            "inspect",
            "-f",
            "{{json .Config.Healthcheck}}",
            hc.trim()
        ])
        .ok()
        .trim(),
        r#"{"Test":["CMD-SHELL","true"],"Interval":5000000000}"#
    );
    d.docker(&["rmi", "hc"]).ok();
    d.docker_stdin(&["import", "-c", "BOGUS x", "-", "bad"], tar)
        .fails_with(1, "bogus is not a valid change command");
    // Normalized names all point at the same image.
    d.docker(&["tag", "busybox", "localhost:5000/x/y:1"]).ok();
    d.docker(&["tag", "docker.io/library/busybox:latest", "mine"])
        .ok();
    let q = d.docker(&["images", "-q"]).ok();
    let unique: std::collections::BTreeSet<&str> = q.lines().collect();
    assert_eq!(
        (q.lines().count(), unique.len()),
        (3, 1),
        "one row per name, one image: {q}"
    );
    let refs = d
        .docker(&[
            "images",
            "--filter",
            "reference=localhost:5000/*/*",
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ])
        .ok();
    assert_eq!(refs.trim(), "localhost:5000/x/y:1");
    assert_eq!(
        d.docker(&["images", "--filter", "label=k=v", "-q"])
            .ok()
            .lines()
            .count(),
        3
    );
    assert_eq!(
        d.docker(&["images", "--filter", "dangling=true", "-q"])
            .ok()
            .trim(),
        ""
    );
    let berth = d.berth(&["images", "mine"]).ok();
    assert!(
        berth.contains("mine") && !berth.contains("busybox"),
        "{berth}"
    );
    // In use by a container: refused, then untagged only when forced by name.
    d.docker(&["create", "--name", "user1", "mine", "true"])
        .ok();
    let out = d.docker(&["rmi", "mine"]);
    assert_eq!(
        out.code, 0,
        "one of several names just untags: {}",
        out.stderr
    );
    assert!(out.stdout.contains("Untagged: mine:latest"));
    d.docker(&["rmi", "localhost:5000/x/y:1"]).ok();
    let out = d.docker(&["rmi", "busybox"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("conflict: unable to remove repository reference \"busybox\" (must force)"),
        "{}",
        out.stderr
    );
    d.docker(&["rm", "user1"]).ok();
    let out = d.docker(&["rmi", "busybox"]).ok();
    assert!(
        out.contains("Untagged: busybox:latest") && out.contains("Deleted: sha256:"),
        "{out}"
    );
    assert_eq!(d.docker(&["images", "-q"]).ok().trim(), "");
    let out = d.docker(&["rmi", "busybox"]);
    assert!(
        out.stderr.contains("No such image: busybox:latest"),
        "{}",
        out.stderr
    );
}

#[test]
fn hostile_archives_are_rejected_and_store_is_intact() {
    let d = TestDaemon::start();
    d.import_busybox("good");
    let dir = tempfile::tempdir().unwrap();
    // A tar whose entry climbs out of the layer; built by hand since tar tools refuse to.
    let mut h = tar::Header::new_gnu();
    h.set_size(4);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.as_old_mut().name[..13].copy_from_slice(b"../../escaped");
    h.set_cksum();
    let mut b = tar::Builder::new(Vec::new());
    b.append(&h, &b"evil"[..]).unwrap();
    let evil = dir.path().join("evil.tar");
    std::fs::write(&evil, b.into_inner().unwrap()).unwrap();
    let out = d.docker(&["import", evil.to_str().unwrap(), "evil"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("escapes the layer root"),
        "{}",
        out.stderr
    );
    assert!(!d.root.join("escaped").exists() && !d.root.parent().unwrap().join("escaped").exists());
    let images = d.docker(&["images", "--format", "{{.Repository}}"]).ok();
    assert_eq!(images.trim(), "good");
    d.docker(&["run", "--rm", "good", "true"]).ok();
}

/// Issue 8: images are kept as a registry serves them (config and manifest blobs), and removing
/// the last image that uses a blob or layer collects it, also what a build left behind.
#[test]
fn images_keep_manifests_and_removal_collects_every_byte() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let ctx = common::context(&[(
        "Dockerfile",
        "FROM busybox\nRUN echo one > /one\nCOPY Dockerfile /\nRUN false\n",
    )]);
    // The build fails at its last step: the layers of the steps before stay as images.
    d.docker_build(&["-t", "built", ctx.path().to_str().unwrap()])
        .fails_with(1, "returned a non-zero code");
    let count = |dir: &str| {
        std::fs::read_dir(d.root.join(dir))
            .map(|r| r.count())
            .unwrap_or(0)
    };
    assert!(count("content/blobs/sha256") >= 3);
    assert!(count("snapshots/layers") >= 2);
    // The failed step's container stays, as with Docker's classic builder; it goes first.
    d.docker(&["container", "prune", "-f"]).ok();
    let before = d.docker(&["images", "-a"]).ok();
    let mut said = String::new();
    for id in d.docker(&["images", "-aq"]).ok().lines() {
        said += &d.docker(&["rmi", "-f", id]).ok();
    }
    assert_eq!(d.docker(&["images", "-aq"]).ok(), "", "{before}\n{said}");
    assert_eq!(count("content/blobs/sha256"), 0, "every blob collected");
    assert_eq!(count("snapshots/layers"), 0, "every layer collected");
}
