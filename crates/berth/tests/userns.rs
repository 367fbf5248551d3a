//! User namespaces (`--userns-remap`), end to end: each test adds an account of its own with
//! /etc/subuid and /etc/subgid ranges, and takes every line it added out again when it ends,
//! however it ends.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use common::{BERTH, TestDaemon};

/// Edits of the host's account files, one at a time.
static ETC: Mutex<()> = Mutex::new(());

/// Lines a test appended to the host's files; dropping it removes exactly those.
struct Added(Vec<(PathBuf, String)>);

impl Added {
    /// Appends `line` to `path`, on a line of its own.
    fn append(&mut self, path: &str, line: &str) {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let sep = if text.is_empty() || text.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        let added = format!("{sep}{line}\n");
        std::fs::write(path, format!("{text}{added}")).unwrap();
        self.0.push((path.into(), added));
    }
}

impl Drop for Added {
    fn drop(&mut self) {
        let _lock = ETC.lock().unwrap_or_else(|e| e.into_inner());
        for (path, added) in self.0.drain(..).rev() {
            if let Ok(text) = std::fs::read_to_string(&path) {
                let _ = std::fs::write(&path, text.replacen(&added, "", 1));
            }
        }
    }
}

/// A test account with subordinate ranges.
struct Account {
    name: String,
    /// The host ID the container's root is.
    start: u32,
    _added: Added,
}

/// Adds account `bt<pid><tag>` (user and group) with one range of 65536 IDs past every range
/// already listed; `ranges: false` adds the account alone.
fn account(tag: &str, ranges: bool) -> Account {
    let _lock = ETC.lock().unwrap_or_else(|e| e.into_inner());
    let name = format!("bt{}{tag}", std::process::id());
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let group = std::fs::read_to_string("/etc/group").unwrap();
    let taken = |text: &str, id: u32| {
        text.lines()
            .any(|l| l.split(':').nth(2) == Some(&id.to_string()))
    };
    let id = (61000..62000)
        .find(|id| !taken(&passwd, *id) && !taken(&group, *id))
        .expect("a free ID");
    let end = |file: &str| {
        std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                Some(f.get(1)?.parse::<u64>().ok()? + f.get(2)?.parse::<u64>().ok()?)
            })
            .max()
            .unwrap_or(0)
    };
    let start = end("/etc/subuid").max(end("/etc/subgid")).max(1_000_000) as u32;
    let mut added = Added(Vec::new());
    added.append(
        "/etc/passwd",
        &format!("{name}:x:{id}:{id}::/nonexistent:/bin/false"),
    );
    added.append("/etc/group", &format!("{name}:x:{id}:"));
    if ranges {
        added.append("/etc/subuid", &format!("{name}:{start}:65536"));
        added.append("/etc/subgid", &format!("{name}:{start}:65536"));
    }
    Account {
        name,
        start,
        _added: added,
    }
}

fn remapped(a: &Account) -> TestDaemon {
    let d = TestDaemon::start_in_netns_with_args(&["--userns-remap", &a.name]);
    d.import_busybox("busybox");
    d
}

fn owner(path: &Path) -> (u32, u32) {
    let m = std::fs::symlink_metadata(path).unwrap();
    (m.uid(), m.gid())
}

#[test]
fn a_remapped_container_is_root_inside_and_its_map_outside() {
    let a = account("run", true);
    let d = remapped(&a);
    let s = a.start;
    let security = d
        .docker(&["info", "--format", "{{json .SecurityOptions}}"])
        .ok();
    assert!(security.contains("\"name=userns\""), "{security}");

    let sub = d.root.join(format!("{s}.{s}"));
    let m = std::fs::metadata(&sub).expect("dockerd's <root>/<uid>.<gid>");
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o777), (0, s, 0o710));

    let out = d
        .docker(&[
            "run",
            "--rm",
            "busybox",
            "busybox",
            "sh",
            "-c",
            "busybox cat /proc/self/uid_map /proc/self/gid_map; busybox id -u; busybox stat -c %u:%g /bin/busybox; busybox grep Seccomp: /proc/self/status",
        ])
        .ok();
    let words: Vec<&str> = out.split_whitespace().collect();
    let s_str = s.to_string();
    assert_eq!(
        words,
        [
            "0",
            s_str.as_str(),
            "65536",
            "0",
            s_str.as_str(),
            "65536",
            "0",
            "0:0",
            "Seccomp:",
            "2"
        ],
        "{out}"
    );
    // Layers hold the host IDs, as Docker's remapped layers do.
    let layers = sub.join("snapshots/layers");
    let layer = std::fs::read_dir(&layers).unwrap().next().unwrap().unwrap();
    assert_eq!(owner(&layer.path().join("fs/bin/busybox")), (s, s));

    // Still no new user namespace from inside (seccomp), and no mount.
    let out = d.docker(&[
        "run",
        "--rm",
        "busybox",
        "busybox",
        "sh",
        "-c",
        "busybox unshare -U true && echo unshared; busybox mount -t tmpfs t /mnt && echo mounted; true",
    ]);
    assert!(!out.stdout.contains("unshared"), "{}", out.stdout);
    assert!(!out.stdout.contains("mounted"), "{}", out.stdout);
    assert!(
        out.stderr.contains("Operation not permitted"),
        "{}",
        out.stderr
    );

    // The container's user namespace owns its network namespace, as in Docker: a port below
    // 1024, a sysfs of its own, and `container:` joins both.
    let out = d
        .docker(&[
            "run",
            "--rm",
            "busybox",
            "busybox",
            "sh",
            "-c",
            "busybox nc -l -p 80 & busybox sleep 0.3; busybox netstat -ltn | busybox grep -c :80; busybox ls /sys/class/net",
        ])
        .ok();
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["1", "eth0", "lo"],
        "{out}"
    );
    // Its network settings are its own to set (`--sysctl`), and Docker's ping default, which
    // names GIDs outside the map, stays out.
    let out = d
        .docker(&[
            "run",
            "--rm",
            "--sysctl",
            "net.ipv4.ip_unprivileged_port_start=100",
            "busybox",
            "busybox",
            "cat",
            "/proc/sys/net/ipv4/ip_unprivileged_port_start",
            "/proc/sys/net/ipv4/ping_group_range",
        ])
        .ok();
    // The kernel's default range (1 0), whose host GIDs show as the overflow ID.
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["100", "65534", "65534"],
        "{out}"
    );
    // An exec joins the same user namespace (and the network namespace).
    d.docker(&[
        "run", "-d", "--name", "c1", "busybox", "busybox", "sleep", "100",
    ])
    .ok();
    let out = d
        .docker(&[
            "exec",
            "c1",
            "busybox",
            "sh",
            "-c",
            "busybox cat /proc/self/uid_map; busybox id -u; busybox ip -4 addr show eth0 | busybox grep -c inet",
        ])
        .ok();
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["0", s_str.as_str(), "65536", "0", "1"],
        "{out}"
    );
    let user_ns = |args: &[&str]| d.docker(args).ok().trim().to_string();
    let own = user_ns(&["exec", "c1", "busybox", "readlink", "/proc/self/ns/user"]);
    let joined = user_ns(&[
        "run",
        "--rm",
        "--network",
        "container:c1",
        "busybox",
        "busybox",
        "readlink",
        "/proc/self/ns/user",
    ]);
    assert_eq!(own, joined, "container: shares the user namespace too");
}

#[test]
fn files_in_volumes_binds_and_archives_are_owned_as_docker_owns_them() {
    let a = account("files", true);
    let d = remapped(&a);
    let s = a.start;
    let bind = tempfile::tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(
        bind.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    std::fs::write(bind.path().join("host-file"), "h").unwrap();
    let b = format!("{}:/b", bind.path().display());
    let out = d
        .docker(&[
            "run",
            "--rm",
            "-v",
            "vol:/vol",
            "-v",
            &b,
            "busybox",
            "busybox",
            "sh",
            "-c",
            "busybox touch /vol/f /b/f && busybox chown 5:6 /b/f && busybox stat -c %u /b/host-file",
        ])
        .ok();
    assert_eq!(
        out.trim(),
        "65534",
        "a host root file shows as the overflow ID"
    );
    assert_eq!(
        owner(&bind.path().join("f")),
        (s + 5, s + 6),
        "a bind as it is"
    );
    let mountpoint = d
        .docker(&["volume", "inspect", "-f", "{{.Mountpoint}}", "vol"])
        .ok();
    let mountpoint = Path::new(mountpoint.trim());
    assert_eq!(
        owner(mountpoint),
        (s, s),
        "a new volume is the remapped root's"
    );
    assert_eq!(owner(&mountpoint.join("f")), (s, s));

    // cp, export and commit write the owners the container sees.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "c1",
        "busybox",
        "busybox",
        "sh",
        "-c",
        "echo a > /a && busybox chown 5:6 /a && busybox sleep 100",
    ])
    .ok();
    let wait = std::time::Instant::now();
    while d
        .docker(&["exec", "c1", "busybox", "test", "-f", "/a"])
        .code
        != 0
    {
        assert!(
            wait.elapsed().as_secs() < 10,
            "the container never wrote /a"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let listing = |cmd: &str| {
        let script = format!("{cmd} | tar -tvf - | grep -E ' (\\./)?a$'");
        let out = Command::new("sh").args(["-c", &script]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let host = d.host();
    assert!(listing(&format!("docker -H {host} cp c1:/a -")).contains(" 5/6 "));
    assert!(listing(&format!("docker -H {host} export c1")).contains(" 5/6 "));
    d.docker(&["commit", "c1", "committed"]).ok();
    let out = d
        .docker(&[
            "run",
            "--rm",
            "committed",
            "busybox",
            "stat",
            "-c",
            "%u:%g",
            "/a",
        ])
        .ok();
    assert_eq!(out.trim(), "5:6");

    // A file copied in keeps its owner as the container sees it.
    let src = bind.path().join("in");
    std::fs::write(&src, "x").unwrap();
    std::os::unix::fs::chown(&src, Some(7), Some(8)).unwrap();
    d.docker(&["cp", src.to_str().unwrap(), "c1:/in"]).ok();
    let out = d
        .docker(&["exec", "c1", "busybox", "stat", "-c", "%u:%g", "/in"])
        .ok();
    assert_eq!(out.trim(), "7:8");
}

#[test]
fn host_namespaces_conflict_unless_the_container_keeps_the_hosts_user_namespace() {
    let a = account("mode", true);
    let d = remapped(&a);
    d.docker(&["run", "--rm", "--privileged", "busybox", "true"])
        .fails_with(
            125,
            "privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode",
        );
    d.docker(&["run", "--rm", "--network", "host", "busybox", "true"])
        .fails_with(
            125,
            "cannot share the host's network namespace when user namespaces are enabled",
        );
    let out = d
        .docker(&[
            "run",
            "--rm",
            "--userns=host",
            "busybox",
            "busybox",
            "cat",
            "/proc/self/uid_map",
        ])
        .ok();
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["0", "0", "4294967295"]
    );
    d.docker(&[
        "run",
        "--rm",
        "--userns=host",
        "--privileged",
        "--network",
        "host",
        "busybox",
        "true",
    ])
    .ok();
    let out = d
        .docker(&[
            "run",
            "--rm",
            "--device",
            "/dev/zero",
            "busybox",
            "busybox",
            "head",
            "-c",
            "3",
            "/dev/zero",
        ])
        .ok();
    assert_eq!(out.len(), 3, "a device at its own path");
    d.docker(&[
        "run",
        "--rm",
        "--device",
        "/dev/zero:/dev/z",
        "busybox",
        "true",
    ])
    .fails_with(
        125,
        "berth cannot put device /dev/zero at another path (/dev/z) in a user namespace",
    );
    let id = d
        .berth(&["create", "--userns", "host", "busybox", "true"])
        .ok();
    assert_eq!(d.inspect(id.trim(), "{{.HostConfig.UsernsMode}}"), "host");
    d.berth(&["run", "--rm", "--userns", "private", "busybox", "true"])
        .fails_with(125, "--userns: invalid USER mode");
    let (status, _, body) = d.http(
        "POST",
        "/containers/create",
        br#"{"Image": "busybox", "HostConfig": {"UsernsMode": "private"}}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("invalid user namespace mode: private"),
        "{body}"
    );
}

/// `berth daemon --userns-remap VALUE` on a throwaway root: it must not start; its stderr.
fn refused_daemon(value: &str) -> String {
    let dir = tempfile::tempdir_in("/tmp").unwrap();
    let out = Command::new(BERTH)
        .args(["daemon", "--bridge", "none", "-H"])
        .arg(dir.path().join("s.sock"))
        .arg("--data-root")
        .arg(dir.path().join("root"))
        .arg("--exec-root")
        .arg(dir.path().join("run"))
        .args(["--userns-remap", value])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the daemon started with {value}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_daemon_refuses_a_remapping_it_cannot_make() {
    let a = account("noranges", false);
    let err = refused_daemon(&a.name);
    assert!(
        err.contains(&format!(
            "error creating ID mappings: no subuid ranges found for user \"{}\"",
            a.name
        )),
        "{err}"
    );
    let err = refused_daemon("bt-no-such-user");
    assert!(
        err.contains("Error during uid lookup for \"bt-no-such-user\""),
        "{err}"
    );
    let err = refused_daemon("a:b:c");
    assert!(
        err.contains("Invalid user/group specification in --userns-remap: \"a:b:c\""),
        "{err}"
    );
}

#[test]
fn builds_and_made_directories_belong_to_the_remapped_root() {
    let a = account("build", true);
    let d = remapped(&a);
    let ctx = common::context(&[(
        "Dockerfile",
        "FROM busybox\n\
         RUN busybox mkdir /made && busybox chown 9:9 /made\n\
         RUN --mount=type=cache,target=/cache,uid=4,gid=5 busybox stat -c %u:%g /cache > /cache-owner\n\
         VOLUME /vol\n\
         WORKDIR /wd\n",
    )]);
    d.berth(&["build", "-q", "-t", "built", ctx.path().to_str().unwrap()])
        .ok();
    let out = d
        .docker(&[
            "run",
            "--rm",
            "-v",
            "fresh:/vol",
            "-w",
            "/new/dir",
            "built",
            "busybox",
            "sh",
            "-c",
            "busybox stat -c %u:%g /made /vol /wd /new /new/dir; busybox cat /cache-owner; busybox touch /new/dir/f /vol/f && echo wrote",
        ])
        .ok();
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["9:9", "0:0", "0:0", "0:0", "0:0", "4:5", "wrote"],
        "{out}"
    );
}

/// The host's files a system account lives in; dropping it restores them as they were.
struct Restore(Vec<(PathBuf, Option<String>)>);

impl Restore {
    fn of(files: &[&str]) -> Restore {
        Restore(
            files
                .iter()
                .map(|f| (PathBuf::from(f), std::fs::read_to_string(f).ok()))
                .collect(),
        )
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        for (path, before) in &self.0 {
            let now = std::fs::read_to_string(path).ok();
            match (before, now) {
                (Some(b), Some(n)) if n.starts_with(b.as_str()) => {
                    let _ = std::fs::write(path, b);
                }
                // Something else changed it meanwhile: take out only dockremap's new lines.
                (Some(b), Some(n)) => {
                    let kept: String = n
                        .lines()
                        .filter(|l| !l.starts_with("dockremap:") || b.lines().any(|o| o == *l))
                        .map(|l| format!("{l}\n"))
                        .collect();
                    let _ = std::fs::write(path, kept);
                }
                (None, Some(_)) => {
                    let _ = std::fs::remove_file(path);
                }
                _ => {}
            }
        }
    }
}

/// `--userns-remap=default` makes dockerd's `dockremap` account and its ranges when the host
/// lacks them, and maps containers onto them.
#[test]
fn default_creates_the_dockremap_account_with_its_ranges() {
    let _lock = ETC.lock().unwrap_or_else(|e| e.into_inner());
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    if passwd.lines().any(|l| l.starts_with("dockremap:")) {
        eprintln!(
            "skipped: this host already has a dockremap account, which the test must not touch"
        );
        return;
    }
    let _restore = Restore::of(&[
        "/etc/passwd",
        "/etc/group",
        "/etc/shadow",
        "/etc/gshadow",
        "/etc/subuid",
        "/etc/subgid",
    ]);
    let d = TestDaemon::start_with_args(&["--userns-remap", "default"]);
    let subuid = std::fs::read_to_string("/etc/subuid").unwrap();
    let line = subuid
        .lines()
        .find(|l| l.starts_with("dockremap:"))
        .expect("a dockremap range");
    let f: Vec<&str> = line.split(':').collect();
    assert_eq!(f[2], "65536", "{line}");
    d.import_busybox("busybox");
    let map = d
        .docker(&[
            "run",
            "--rm",
            "busybox",
            "busybox",
            "cat",
            "/proc/self/uid_map",
        ])
        .ok();
    assert_eq!(
        map.split_whitespace().collect::<Vec<_>>(),
        ["0", f[1], "65536"]
    );
    drop(d);
}

/// The escape attempts of `escapes.rs` that a user namespace could change: all still fail.
#[test]
fn escapes_stay_shut_under_a_remapping() {
    let a = account("esc", true);
    let d = remapped(&a);
    let sh = |script: &str| d.docker(&["run", "--rm", "busybox", "sh", "-c", script]);
    let cgroups = "for f in /sys/fs/cgroup/*/notify_on_release /sys/fs/cgroup/*/pids.max \
                   /sys/fs/cgroup/pids.max /sys/fs/cgroup/*/release_agent; do \
                   [ -e $f ] && { echo 1 > $f && echo WROTE $f; }; done; true";
    let out = sh(cgroups);
    assert!(!out.stdout.contains("WROTE"), "{}", out.stdout);
    for file in [
        "/proc/sys/kernel/domainname",
        "/sys/class/net/lo/mtu",
        "/proc/sysrq-trigger",
    ] {
        let out = sh(&format!("[ ! -e {file} ] || echo 1500 > {file}"));
        assert!(
            out.code != 0 || !Path::new(file).exists(),
            "{file} was written"
        );
    }
    let own = "busybox unshare -U -r -m busybox mount -t cgroup -o memory cgroup /tmp";
    sh(own).fails_with(1, "Operation not permitted");
    let kernel = "busybox cat /proc/interrupts /proc/keys | busybox wc -c";
    assert_eq!(sh(kernel).ok().trim(), "0");
    let raise = "ulimit -Hn $(( $(ulimit -Hn) + 1 ))";
    assert_ne!(sh(raise).code, 0, "raised its hard limit");
    for fd in 3..6 {
        let wd = format!("/proc/self/fd/{fd}");
        let out = d.docker(&["run", "--rm", "-w", &wd, "busybox", "true"]);
        assert_ne!(out.code, 0, "-w {wd} started");
    }
    // The raw calls seccomp refuses, from inside the user namespace too.
    let mount = format!("{}:/probe:ro", common::syscall_probe().display());
    for call in ["clone-newuser", "unshare-user", "keyctl"] {
        let out = d
            .docker(&["run", "--rm", "-v", &mount, "busybox", "/probe", call])
            .stdout;
        assert_eq!(out.trim(), "1", "{call}: EPERM");
    }
    // Host processes stay out of sight.
    let out = sh("busybox ps -o pid | busybox wc -l").ok();
    // The header, sh, ps and wc.
    assert!(out.trim().parse::<u32>().unwrap() <= 4, "{out}");
}

/// An external runtime gets the same user namespace from the bundle, and execs join it.
#[test]
fn runc_runs_remapped_containers_too() {
    if !Path::new("/usr/sbin/runc").exists() {
        eprintln!("skipped: no /usr/sbin/runc on this host");
        return;
    }
    let a = account("runc", true);
    let d = TestDaemon::start_in_netns_with_args(&[
        "--userns-remap",
        &a.name,
        "--add-runtime",
        "runc=/usr/sbin/runc",
    ]);
    d.import_busybox("busybox");
    let s = a.start.to_string();
    let map = d
        .docker(&[
            "run",
            "--rm",
            "--runtime",
            "runc",
            "busybox",
            "busybox",
            "cat",
            "/proc/self/uid_map",
        ])
        .ok();
    assert_eq!(
        map.split_whitespace().collect::<Vec<_>>(),
        ["0", s.as_str(), "65536"]
    );
    d.docker(&[
        "run",
        "-d",
        "--name",
        "r1",
        "--runtime",
        "runc",
        "busybox",
        "busybox",
        "sleep",
        "100",
    ])
    .ok();
    // runc 1.1 enters the user namespace before the network namespace: fine, as the
    // container's user namespace owns it.
    let map = d
        .docker(&["exec", "r1", "busybox", "cat", "/proc/self/uid_map"])
        .ok();
    assert_eq!(
        map.split_whitespace().collect::<Vec<_>>(),
        ["0", s.as_str(), "65536"]
    );
}
