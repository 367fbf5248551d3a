//! Issue 9: `diff`, `export` and `commit`, through the stock docker CLI and berth.

mod common;

use std::process::Command;

use common::TestDaemon;

/// The names in a tar, in order.
fn names(tar: &[u8]) -> Vec<String> {
    tar::Archive::new(tar)
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect()
}

/// The content of `name` in a tar.
fn content(tar: &[u8], name: &str) -> String {
    let mut ar = tar::Archive::new(tar);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().display().to_string() == name {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut e, &mut s).unwrap();
            return s;
        }
    }
    panic!("{name} not in the tar");
}

fn export(d: &TestDaemon, name: &str) -> Vec<u8> {
    let out = Command::new("docker")
        .args(["-H", &d.host(), "export", name])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn diff_shows_what_a_container_changed() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    d.docker(&[
        "run",
        "--name",
        "c1",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /data/sub && echo x > /data/sub/f && echo hi > /hello && rm /bin/ls && rm -r /data",
    ])
    .ok();
    // An untouched container changed nothing: the runtime's mount stubs are not its changes.
    d.docker(&["run", "--name", "c2", "busybox", "true"]).ok();
    assert_eq!(d.docker(&["diff", "c2"]).ok(), "");
    let (status, _, body) = d.http("GET", "/containers/c2/changes", b"");
    assert_eq!((status, body.trim()), (200, "null"));
    d.docker(&[
        "run",
        "--name",
        "c3",
        "busybox",
        "sh",
        "-c",
        "echo more >> /etc/passwd; rm -r /root; mkdir /newdir",
    ])
    .ok();
    let diff = d.docker(&["diff", "c3"]).ok();
    assert!(diff.contains("C /etc/passwd\n"), "{diff}");
    assert!(diff.contains("D /root\n"), "{diff}");
    assert!(diff.contains("A /newdir\n"), "{diff}");
    assert!(!diff.contains("/proc") && !diff.contains("hosts"), "{diff}");
    let ours = d.berth(&["diff", "c1"]).ok();
    assert!(
        ours.contains("A /hello\n") && ours.contains("C /bin\nD /bin/ls\n"),
        "{ours}"
    );
    // A directory made and removed again is no change.
    assert!(!ours.contains("/data"), "{ours}");
    d.docker(&["diff", "nope"])
        .fails_with(1, "No such container: nope");
}

#[test]
fn export_writes_the_merged_filesystem_of_stopped_and_running_containers() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    d.docker(&[
        "run",
        "--name",
        "stopped",
        "busybox",
        "sh",
        "-c",
        "echo hi > /hello && ln /hello /hard && ln -s /hello /soft && rm /etc/passwd",
    ])
    .ok();
    let tar = export(&d, "stopped");
    let all = names(&tar);
    assert_eq!(content(&tar, "hard"), "hi\n");
    assert!(all.contains(&"bin/busybox".to_string()), "{all:?}");
    assert!(!all.contains(&"etc/passwd".to_string()), "{all:?}");
    let mut ar = tar::Archive::new(&tar[..]);
    let kinds: Vec<(String, tar::EntryType)> = ar
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.path().unwrap().display().to_string(),
                e.header().entry_type(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("soft".into(), tar::EntryType::Symlink)),
        "{kinds:?}"
    );
    // The second name of an inode is a link to the first.
    assert!(
        kinds.contains(&("hello".into(), tar::EntryType::Link))
            || kinds.contains(&("hard".into(), tar::EntryType::Link)),
        "{kinds:?}"
    );
    d.docker(&[
        "run",
        "-d",
        "--name",
        "running",
        "busybox",
        "sh",
        "-c",
        "echo up > /state && sleep 100",
    ])
    .ok();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let tar = export(&d, "running");
    assert_eq!(content(&tar, "state"), "up\n");
    // berth's CLI: -o writes a file; a terminal is refused.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.tar");
    d.berth(&["export", "-o", file.to_str().unwrap(), "stopped"])
        .ok();
    assert_eq!(content(&std::fs::read(&file).unwrap(), "hard"), "hi\n");
    let tty = d.in_terminal(
        &format!("{} -H {} export stopped", common::BERTH, d.host()),
        24,
        80,
    );
    assert!(
        tty.stdout
            .contains("cowardly refusing to save to a terminal. Use the -o flag or redirect"),
        "{}",
        tty.stdout
    );
    d.docker(&["rm", "-f", "running"]).ok();
}

#[test]
fn commit_makes_an_image_that_runs_and_shows_its_history() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    d.docker(&[
        "run",
        "--name",
        "c1",
        "-e",
        "A=1",
        "busybox",
        "sh",
        "-c",
        "echo hello > /hello",
    ])
    .ok();
    let id = d
        .docker(&[
            "commit",
            "-c",
            r#"CMD ["cat","/hello"]"#,
            "-m",
            "the message",
            "-a",
            "Ann <ann@example.com>",
            "c1",
            "committed:v1",
        ])
        .ok();
    assert!(id.trim().starts_with("sha256:"), "{id}");
    assert_eq!(d.docker(&["run", "--rm", "committed:v1"]).ok(), "hello\n");
    let history = d
        .docker(&[
            "history",
            "--no-trunc",
            "--format",
            "{{.CreatedBy}}|{{.Comment}}",
            "committed:v1",
        ])
        .ok();
    let first = history.lines().next().unwrap();
    assert_eq!(first, "sh -c echo hello > /hello|the message");
    let shown = d
        .docker(&[
            "inspect",
            "-f",
            "{{.Author}} {{.Config.Env}} {{.Parent}}",
            "committed:v1",
        ])
        .ok();
    assert!(shown.starts_with("Ann <ann@example.com> [A=1"), "{shown}");
    // The layer holds what the container wrote, not the runtime's mount stubs.
    let (_, _, body) = d.http("GET", "/images/committed:v1/json", b"");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["RootFS"]["Layers"].as_array().unwrap().len(), 2, "{v}");
    // A running container is committed too, frozen meanwhile and thawed after, with berth's
    // CLI.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "live1",
        "busybox",
        "sh",
        "-c",
        "echo live > /live && sleep 100",
    ])
    .ok();
    let written = (0..200).any(|_| d.docker(&["exec", "live1", "cat", "/live"]).code == 0);
    assert!(written, "the container wrote /live");
    let out = d
        .berth(&["commit", "-c", "CMD cat /live", "live1", "live"])
        .ok();
    assert!(out.starts_with("sha256:"), "{out}");
    assert_eq!(d.docker(&["run", "--rm", "live"]).ok(), "live\n");
    assert_eq!(
        d.docker(&["exec", "live1", "cat", "/live"]).ok(),
        "live\n",
        "thawed"
    );
    let id = d.docker(&["inspect", "-f", "{{.Id}}", "live1"]).ok();
    let v1 = format!("/sys/fs/cgroup/freezer/berth/{}/freezer.state", id.trim());
    if let Ok(state) = std::fs::read_to_string(v1) {
        assert_eq!(state.trim(), "THAWED");
    }
    d.docker(&["commit", "--pause=false", "live1", "live:nopause"])
        .ok();
    let events = d.events(
        "event=commit",
        "{{.Actor.Attributes.comment}}|{{.Actor.Attributes.imageRef}}",
    );
    assert!(events.contains("the message|committed:v1"), "{events}");
    d.docker(&["commit", "nope"])
        .fails_with(1, "No such container: nope");
    d.docker(&["rm", "-f", "live1"]).ok();
}

#[test]
fn commit_freezes_and_thaws_on_a_cgroup_v2_host() {
    let d = TestDaemon::start_cgroup2();
    d.import_busybox("busybox");
    d.docker(&[
        "run",
        "-d",
        "--name",
        "v2",
        "busybox",
        "sh",
        "-c",
        "echo x > /x; sleep 100",
    ])
    .ok();
    let written = (0..200).any(|_| d.docker(&["exec", "v2", "cat", "/x"]).code == 0);
    assert!(written, "the container wrote /x");
    d.docker(&["commit", "v2", "v2img"]).ok();
    assert_eq!(d.docker(&["exec", "v2", "cat", "/x"]).ok(), "x\n", "thawed");
    assert_eq!(d.docker(&["run", "--rm", "v2img", "cat", "/x"]).ok(), "x\n");
    d.docker(&["rm", "-f", "v2"]).ok();
}
