//! Issue 9: volumes, binds and tmpfs on containers, through the stock docker CLI and `berth`.

mod common;

use common::{TestDaemon, context};

/// An image whose `/data` (a VOLUME) holds files with owners, modes and a symlink.
fn image_with_data(d: &TestDaemon) {
    d.import_busybox("busybox");
    let ctx = context(&[(
        "Dockerfile",
        "FROM busybox\n\
         RUN mkdir -p /data/sub && echo image > /data/f && chown 1000:2000 /data/f \
         && chmod 640 /data/f && ln -s /etc/passwd /data/link && chmod 0751 /data\n\
         VOLUME /data\n",
    )]);
    d.docker_build(&["-q", "-t", "withdata", ctx.path().to_str().unwrap()])
        .ok();
}

#[test]
fn named_volumes_bind_mounts_and_tmpfs_are_mounted_and_kept() {
    let d = TestDaemon::start();
    image_with_data(&d);
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("hf"), "from host").unwrap();
    let bind = format!("{}:/h:ro", host.path().display());
    let out = d
        .docker(&[
            "run",
            "--name",
            "c1",
            "-v",
            "keep:/data",
            "-v",
            &bind,
            "--tmpfs",
            "/t:size=1m",
            "--mount",
            "type=tmpfs,dst=/t2,tmpfs-mode=700",
            "withdata",
            "sh",
            "-c",
            "cat /h/hf; echo; stat -c '%u:%g %a' /data/f; readlink /data/link; \
             echo written > /data/new; grep -E ' /t | /t2 ' /proc/mounts | cut -d' ' -f2,4; \
             touch /h/x 2>&1 | grep -c Read-only",
        ])
        .ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "from host");
    assert_eq!(
        lines[1], "1000:2000 640",
        "copied up with owner and mode: {out}"
    );
    assert_eq!(lines[2], "/etc/passwd", "symlinks copied as symlinks");
    assert!(
        out.contains("/t rw,nosuid,nodev,noexec,relatime,size=1024k"),
        "{out}"
    );
    assert!(
        out.contains("/t2 rw,nosuid,nodev,noexec,relatime,mode=700"),
        "{out}"
    );
    assert_eq!(lines.last(), Some(&"1"), "the :ro bind is read-only: {out}");
    // The data outlives the container, with the image's root owner and mode.
    let data = d.root.join("volumes/keep/_data");
    assert_eq!(
        std::fs::read_to_string(data.join("new")).unwrap(),
        "written\n"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&data).unwrap().permissions().mode() & 0o7777,
        0o751
    );
    // A used volume cannot go: Docker's 409 and message, naming the container.
    let id = d
        .docker(&["inspect", "-f", "{{.Id}}", "c1"])
        .ok()
        .trim()
        .to_string();
    d.docker(&["volume", "rm", "keep"])
        .fails_with(1, &format!("remove keep: volume is in use - [{id}]"));
    d.docker(&["ps", "-a", "-q", "--filter", "volume=keep"])
        .ok()
        .contains(&id[..12])
        .then_some(())
        .expect("ps --filter volume finds the container");
    // A second container sees the data; an existing volume is not filled again.
    let again = d
        .docker(&[
            "run",
            "--rm",
            "-v",
            "keep:/data",
            "withdata",
            "cat",
            "/data/new",
        ])
        .ok();
    assert_eq!(again, "written\n");
    d.docker(&["rm", "c1"]).ok();
    d.docker(&["volume", "rm", "keep"]).ok();
    assert!(!d.root.join("volumes/keep").exists());
}

#[test]
fn anonymous_volumes_come_from_image_volumes_and_go_with_rm_v() {
    let d = TestDaemon::start();
    image_with_data(&d);
    let id = d
        .docker(&[
            "create", "-v", "/scratch", "-v", "named:/n", "withdata", "true",
        ])
        .ok()
        .trim()
        .to_string();
    let mounts = d.docker(&["inspect", "-f", "{{json .Mounts}}", &id]).ok();
    let mounts: Vec<serde_json::Value> = serde_json::from_str(&mounts).unwrap();
    let by_dest = |p: &str| {
        mounts
            .iter()
            .find(|m| m["Destination"] == p)
            .unwrap()
            .clone()
    };
    let data = by_dest("/data");
    assert_eq!(data["Type"], "volume");
    assert_eq!(data["Mode"], "", "anonymous volumes have no mode");
    assert_eq!(data["Name"].as_str().unwrap().len(), 64);
    assert_eq!(
        by_dest("/n")["Mode"],
        "z",
        "named local volumes are z, as in Docker"
    );
    assert_eq!(by_dest("/scratch")["RW"], true);
    let binds = d
        .docker(&["inspect", "-f", "{{json .HostConfig.Binds}}", &id])
        .ok();
    assert_eq!(binds.trim(), r#"["named:/n"]"#);
    // Copied up at create, as Docker does.
    let anon = data["Name"].as_str().unwrap();
    let f = d.root.join(format!("volumes/{anon}/_data/f"));
    assert_eq!(std::fs::read_to_string(f).unwrap(), "image\n");
    assert_eq!(d.docker(&["volume", "ls", "-q"]).ok().lines().count(), 3);
    let dangling = d
        .docker(&["volume", "ls", "-q", "-f", "dangling=true"])
        .ok();
    assert!(dangling.trim().is_empty(), "all in use: {dangling}");
    d.docker(&["rm", "-v", &id]).ok();
    // The anonymous ones went with the container; the named one stays.
    assert_eq!(d.docker(&["volume", "ls", "-q"]).ok().trim(), "named");
    // `run --rm` removes them too, and `nocopy` leaves a new volume empty.
    let out = d
        .docker(&[
            "run",
            "--rm",
            "-v",
            "empty:/data:nocopy",
            "withdata",
            "ls",
            "/data",
        ])
        .ok();
    assert_eq!(out, "", "nocopy: {out}");
    assert_eq!(d.docker(&["volume", "ls", "-q"]).ok().lines().count(), 2);
}

#[test]
fn volumes_from_share_mounts_read_only_when_asked() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    d.docker(&[
        "create",
        "--name",
        "store",
        "-v",
        "shared:/s",
        "busybox",
        "true",
    ])
    .ok();
    d.docker(&[
        "run",
        "--rm",
        "--volumes-from",
        "store",
        "busybox",
        "sh",
        "-c",
        "echo 1 > /s/a",
    ])
    .ok();
    let out = d
        .docker(&[
            "run",
            "--rm",
            "--volumes-from",
            "store:ro",
            "busybox",
            "sh",
            "-c",
            "cat /s/a; touch /s/b 2>&1 | grep -c Read-only",
        ])
        .ok();
    assert_eq!(out, "1\n1\n");
    d.docker(&["create", "--volumes-from", "nonexist", "busybox", "true"])
        .fails_with(1, "No such container: nonexist");
}

#[test]
fn malformed_mounts_are_refused_with_dockers_messages_and_nothing_is_kept() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    d.docker(&["volume", "create", "precious"]).ok();
    std::fs::write(d.root.join("volumes/precious/_data/x"), "keep").unwrap();
    for (args, says) in [
        (
            vec!["-v", "a:b:c:d"],
            "invalid volume specification: 'a:b:c:d'",
        ),
        (vec!["-v", "/tmp:/x:bogus"], "invalid mode: bogus"),
        (vec!["-v", "/tmp:/"], "destination can't be '/'"),
        (
            vec!["-v", "bad*name:/x"],
            "includes invalid characters for a local volume name",
        ),
        (
            vec!["-v", "/tmp:/x", "-v", "precious:/x"],
            "Duplicate mount point: /x",
        ),
        (
            vec!["--mount", "type=bind,src=/nonexist,dst=/x"],
            "bind source path does not exist: /nonexist",
        ),
        (
            vec!["--mount", "type=volume,dst=/x,ro"],
            "must not set ReadOnly mode when using anonymous volumes",
        ),
        (vec!["--tmpfs", "rel"], "mount path must be absolute"),
    ] {
        let mut all = vec!["create"];
        all.extend(args.iter().copied());
        all.extend(["busybox", "true"]);
        d.docker(&all).fails_with(1, says);
    }
    assert_eq!(d.docker(&["ps", "-aq"]).ok(), "");
    assert_eq!(d.docker(&["volume", "ls", "-q"]).ok().trim(), "precious");
    let kept = std::fs::read_to_string(d.root.join("volumes/precious/_data/x")).unwrap();
    assert_eq!(kept, "keep");
}

#[test]
fn mount_targets_resolve_inside_the_rootfs() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let outside = tempfile::tempdir().unwrap();
    let (abs, up) = (outside.path().join("abs"), outside.path().join("up"));
    // Symlinks in the image that point at host paths, absolute and by `..`.
    let ctx = context(&[(
        "Dockerfile",
        &format!(
            "FROM busybox\nRUN ln -s {} /abs && ln -s ../../../../../../..{} /up\n",
            abs.display(),
            up.display()
        ),
    )]);
    d.docker_build(&["-q", "-t", "links", ctx.path().to_str().unwrap()])
        .ok();
    let out = d
        .docker(&[
            "run",
            "--rm",
            "-v",
            "v1:/abs",
            "--tmpfs",
            "/up",
            "links",
            "sh",
            "-c",
            &format!(
                "echo in > /abs/f && cat {0}/f && grep -c -e ' {0} ' -e ' {1} tmpfs' /proc/mounts",
                abs.display(),
                up.display()
            ),
        ])
        .ok();
    // Both mounts are inside the container, where its symlinks lead there.
    assert_eq!(out, "in\n2\n");
    assert!(
        !abs.exists() && !up.exists(),
        "nothing was made or mounted on the host"
    );
    assert!(d.root.join("volumes/v1/_data/f").exists());
}

#[test]
fn berth_cli_mounts_volumes_binds_and_tmpfs() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let host = tempfile::tempdir().unwrap();
    let missing = host.path().join("made/by/run");
    let out = d
        .berth(&[
            "run",
            "--rm",
            "-v",
            "bv:/v",
            "-v",
            &format!("{}:/h", missing.display()),
            "--mount",
            "type=tmpfs,target=/t",
            "--read-only",
            "busybox",
            "sh",
            "-c",
            "echo ok > /v/f && echo ok > /h/f && echo ok > /t/f && cat /v/f /h/f /t/f",
        ])
        .ok();
    assert_eq!(out, "ok\nok\nok\n");
    // A missing `-v` host path is created, as Docker does.
    assert_eq!(std::fs::read_to_string(missing.join("f")).unwrap(), "ok\n");
    assert!(d.root.join("volumes/bv/_data/f").exists());
    let id = d
        .berth(&["create", "-v", "/anon", "busybox", "true"])
        .ok()
        .trim()
        .to_string();
    d.berth(&["rm", "-v", &id]).ok();
    assert_eq!(d.docker(&["volume", "ls", "-q"]).ok().trim(), "bv");
    d.berth(&[
        "run",
        "--rm",
        "--mount",
        "type=bind,dst=/x",
        "busybox",
        "true",
    ])
    .fails_with(
        125,
        "invalid mount config for type \"bind\": field Source must not be empty",
    );
}

#[test]
fn a_run_after_volume_writes_into_a_volume_the_image_does_not_keep() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let ctx = context(&[(
        "Dockerfile",
        "FROM busybox\nRUN mkdir /data && echo before > /data/a\nVOLUME /data\n\
         RUN echo after > /data/b && ls /data\n",
    )]);
    let out = d
        .docker_build(&["-t", "vol", ctx.path().to_str().unwrap()])
        .ok();
    assert!(
        out.contains("a\nb\n"),
        "the step sees the image's content and its own: {out}"
    );
    let ls = d.docker(&["run", "--rm", "vol", "ls", "/data"]).ok();
    assert_eq!(
        ls, "a\n",
        "what RUN wrote into the volume is not in the image"
    );
    assert_eq!(
        d.docker(&["volume", "ls", "-q"]).ok(),
        "",
        "the steps' volumes are gone"
    );
}

/// Whether `path` is a mount point in this (the daemon's) mount namespace.
fn mounted(path: &std::path::Path) -> bool {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let want = path.to_str().unwrap();
    table.lines().any(|l| l.split(' ').nth(4) == Some(want))
}

#[test]
fn volumes_with_driver_options_are_mounted_while_used() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    d.docker(&[
        "volume",
        "create",
        "--opt",
        "type=tmpfs",
        "--opt",
        "device=tmpfs",
        "--opt",
        "o=size=1m,uid=1000,noexec",
        "tv",
    ])
    .ok();
    let opts = d
        .docker(&["volume", "inspect", "-f", "{{json .Options}}", "tv"])
        .ok();
    assert_eq!(
        opts.trim(),
        r#"{"device":"tmpfs","o":"size=1m,uid=1000,noexec","type":"tmpfs"}"#
    );
    let data = d.root.join("volumes/tv/_data");
    let out = d
        .docker(&[
            "run",
            "--rm",
            "-v",
            "tv:/t",
            "busybox",
            "sh",
            "-c",
            "grep ' /t ' /proc/mounts | cut -d' ' -f3,4; stat -c %u /t; echo x > /t/f",
        ])
        .ok();
    assert!(
        out.starts_with("tmpfs rw,noexec,relatime,size=1024k,uid=1000"),
        "{out}"
    );
    assert!(out.ends_with("1000\n"), "{out}");
    assert!(!mounted(&data), "unmounted when its last user stopped");
    assert!(!data.join("f").exists(), "a tmpfs keeps nothing");
    // `o=bind`: a host directory behind a volume, seen by two users at once.
    let host = tempfile::tempdir().unwrap();
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
        "bv",
    ])
    .ok();
    d.docker(&[
        "run", "-d", "--name", "long", "-v", "bv:/b", "busybox", "sleep", "60",
    ])
    .ok();
    d.docker(&[
        "run",
        "--rm",
        "-v",
        "bv:/b",
        "busybox",
        "sh",
        "-c",
        "echo shared > /b/f",
    ])
    .ok();
    assert!(
        mounted(&d.root.join("volumes/bv/_data")),
        "still used by `long`"
    );
    assert_eq!(
        std::fs::read_to_string(host.path().join("f")).unwrap(),
        "shared\n"
    );
    d.docker(&["rm", "-f", "long"]).ok();
    assert!(!mounted(&d.root.join("volumes/bv/_data")));
    d.docker(&["run", "--rm", "-v", "bv:/b", "busybox", "cat", "/b/f"])
        .ok()
        .eq("shared\n")
        .then_some(())
        .expect("mounted again for the next user");
}

#[test]
fn a_target_swapped_for_a_symlink_during_start_stays_inside_the_container() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("marker"), "marker").unwrap();
    let name = format!("berth-race-{}", std::process::id());
    // Another container keeps swapping /s/d between a directory and a symlink to `/`.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "swapper",
        "-v",
        "shared:/s",
        "busybox",
        "sh",
        "-c",
        "while :; do mkdir -p /s/d; rmdir /s/d 2>/dev/null; ln -s / /s/d; rm -f /s/d; done",
    ])
    .ok();
    let bind = format!("{}:/s/d/{name}:ro", host.path().display());
    let script = format!("cat /s/d/{name}/marker 2>/dev/null || cat /{name}/marker");
    for _ in 0..15 {
        let out = d.docker(&[
            "run",
            "--rm",
            "-v",
            "shared:/s",
            "-v",
            &bind,
            "busybox",
            "sh",
            "-c",
            &script,
        ]);
        // A start may fail when the swap breaks a path mid-way; it never lands outside.
        if out.code == 0 {
            assert_eq!(
                out.stdout, "marker",
                "the bind is where the container sees it"
            );
        }
        assert!(
            !std::path::Path::new("/").join(&name).exists(),
            "nothing made on the host"
        );
    }
    d.docker(&["rm", "-f", "swapper"]).ok();
}

#[test]
fn docker_py_mounts_volumes_and_sees_them_in_inspect_and_events() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let host = tempfile::tempdir().unwrap();
    let script = format!(
        "import docker\n\
         from docker.types import Mount\n\
         c = docker.DockerClient(base_url='unix://{sock}')\n\
         v = c.volumes.create('pyvol', labels={{'by': 'py'}})\n\
         out = c.containers.run('busybox', ['sh', '-c', 'echo py > /v/f; cat /h/f'], remove=True,\n\
             volumes={{'pyvol': {{'bind': '/v', 'mode': 'rw'}}, '{host}': {{'bind': '/h', 'mode': 'ro'}}}},\n\
             mounts=[Mount('/t', None, type='tmpfs')])\n\
         print(out.decode().strip())\n\
         k = c.containers.create('busybox', 'true', volumes=['/anon'])\n\
         print(sorted(m['Destination'] for m in k.attrs['Mounts']))\n\
         k.remove(v=True)\n\
         print(sorted(x.name for x in c.volumes.list()), c.volumes.get('pyvol').attrs['Labels'])\n",
        sock = d.socket.display(),
        host = host.path().display(),
    );
    std::fs::write(host.path().join("f"), "host").unwrap();
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3");
    let out = common::Out::from(out).ok();
    assert_eq!(out, "host\n['/anon']\n['pyvol'] {'by': 'py'}\n");
    assert_eq!(
        std::fs::read_to_string(d.root.join("volumes/pyvol/_data/f")).unwrap(),
        "py\n"
    );
    let events = d.events("type=volume", "{{.Action}}");
    let actions: Vec<&str> = events.lines().collect();
    assert_eq!(
        actions,
        ["create", "mount", "unmount", "create", "destroy"],
        "{events}"
    );
    let mount = d.events(
        "event=mount",
        "{{.Actor.Attributes.destination}} {{.Actor.Attributes.driver}}",
    );
    assert_eq!(mount.trim(), "/v local");
}

/// A directory bind-mounted onto itself and made shared, unmounted on drop.
struct SharedDir(tempfile::TempDir);

impl SharedDir {
    fn new() -> SharedDir {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().to_str().unwrap();
        let ok = |args: &[&str]| {
            assert!(
                std::process::Command::new("mount")
                    .args(args)
                    .status()
                    .unwrap()
                    .success()
            )
        };
        ok(&["--bind", p, p]);
        ok(&["--make-shared", p]);
        SharedDir(dir)
    }
}

impl Drop for SharedDir {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.0.path())
            .status();
    }
}

#[test]
fn shared_binds_need_a_shared_host_mount_and_a_runtime_that_keeps_propagation() {
    let d = TestDaemon::start_with_args(&["--add-runtime", "runc=/usr/sbin/runc"]);
    d.import_busybox("busybox");
    let private = tempfile::tempdir().unwrap();
    let private = private.path().to_str().unwrap().to_string();
    // Docker's refusal when the host mount is private (this host's `/` is).
    let mount_point = {
        let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let shared = table
            .lines()
            .any(|l| l.split(' ').nth(4) == Some("/") && l.contains(" shared:"));
        if shared { None } else { Some("/") }
    };
    if let Some(mp) = mount_point {
        d.docker(&[
            "run",
            "--rm",
            "-v",
            &format!("{private}:/x:rshared"),
            "busybox",
            "true",
        ])
        .fails_with(
            125,
            &format!("path {private} is mounted on {mp} but it is not a shared mount"),
        );
    }
    let shared = SharedDir::new();
    let spec = format!("{}:/x:rshared", shared.0.path().display());
    d.docker(&["run", "--rm", "-v", &spec, "busybox", "true"])
        .fails_with(125, "use --runtime runc");
    let info = d
        .docker(&[
            "run",
            "--rm",
            "--runtime",
            "runc",
            "-v",
            &spec,
            "busybox",
            "sh",
            "-c",
            "grep ' /x ' /proc/self/mountinfo",
        ])
        .ok();
    assert!(
        info.contains(" shared:"),
        "the bind is shared in the container: {info}"
    );
}

#[test]
fn an_image_volume_over_a_file_is_refused_at_create() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let ctx = context(&[("Dockerfile", "FROM busybox\nRUN echo x > /f\nVOLUME /f\n")]);
    d.docker_build(&["-q", "-t", "filevol", ctx.path().to_str().unwrap()])
        .ok();
    d.docker(&["create", "filevol", "true"])
        .fails_with(1, "cannot mount volume over existing file, file exists /f");
    assert_eq!(
        d.docker(&["volume", "ls", "-q"]).ok(),
        "",
        "its volume went with it"
    );
    assert_eq!(d.docker(&["ps", "-aq"]).ok(), "");
}

#[test]
fn a_volume_mount_is_counted_again_after_a_daemon_restart() {
    let mut d = TestDaemon::start();
    d.import_busybox("busybox");
    d.docker(&[
        "volume",
        "create",
        "--opt",
        "type=tmpfs",
        "--opt",
        "device=tmpfs",
        "tv",
    ])
    .ok();
    d.docker(&[
        "run", "-d", "--name", "keeps", "-v", "tv:/t", "busybox", "sleep", "60",
    ])
    .ok();
    let data = d.root.join("volumes/tv/_data");
    assert!(mounted(&data));
    d.kill9();
    d.spawn();
    // Another user comes and goes: the survivor still holds the mount.
    d.docker(&["run", "--rm", "-v", "tv:/t", "busybox", "true"])
        .ok();
    assert!(mounted(&data), "the running container still uses it");
    d.docker(&["rm", "-f", "keeps"]).ok();
    assert!(!mounted(&data), "its last user is gone");
}
