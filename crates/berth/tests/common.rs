//! Test harness: a real `berth daemon` on a temporary socket and data root, a busybox image made
//! from the host's static busybox, and helpers that drive the stock `docker` CLI and `berth`.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BERTH: &str = env!("CARGO_BIN_EXE_berth");

/// `python3 -c HTTP_GET URL` prints the body of a GET of URL (two-second timeout).
pub const HTTP_GET: &str = "import sys, urllib.request as u; print(u.urlopen(sys.argv[1], timeout=2).read().decode(), end='')";

/// A daemon for one test; everything it made is removed on drop, even when the test fails.
pub struct TestDaemon {
    pub root: PathBuf,
    pub exec_root: PathBuf,
    pub socket: PathBuf,
    /// Run the daemon in a mount namespace of its own whose /sys/fs/cgroup is a pure cgroup v2
    /// hierarchy, as on a v2-only host.
    cgroup2: bool,
    /// Shell commands run in a mount namespace of the daemon's own before it starts there
    /// (`$BERTH_TEST_DIR` is the test's directory).
    prelude: Option<String>,
    /// Extra environment of the daemon process.
    env: Vec<(String, String)>,
    /// Extra arguments of `berth daemon`.
    args: Vec<String>,
    /// A network namespace of the test's own the daemon runs in (`ip netns`-style, a file
    /// the namespace is bind-mounted on): its bridges and firewall never touch the host's.
    pub netns: Option<PathBuf>,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

/// Output of a command, with text accessors.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Out {
    fn from(o: Output) -> Self {
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Out {
    /// Asserts success and returns stdout.
    pub fn ok(self) -> String {
        assert_eq!(
            self.code, 0,
            "command failed: stdout={:?} stderr={:?}",
            self.stdout, self.stderr
        );
        self.stdout
    }

    /// Asserts the command failed with `code` and its stderr says `text`.
    pub fn fails_with(self, code: i32, text: &str) {
        assert_eq!(
            self.code, code,
            "exit code; stdout={:?} stderr={:?}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.contains(text),
            "stderr should say {text:?}: {:?}",
            self.stderr
        );
    }
}

impl TestDaemon {
    pub fn start() -> TestDaemon {
        Self::start_with(false)
    }

    /// A daemon that sees only a cgroup v2 hierarchy.
    pub fn start_cgroup2() -> TestDaemon {
        Self::start_with(true)
    }

    /// A daemon started with `env` added to its environment.
    pub fn start_with_env(env: &[(&str, &str)]) -> TestDaemon {
        Self::make(false, env, &[])
    }

    /// A daemon started with `args` added to its command line (`--add-runtime ...`).
    pub fn start_with_args(args: &[&str]) -> TestDaemon {
        Self::make(false, &[], args)
    }

    /// A daemon that sees only a cgroup v2 hierarchy, started with `args`.
    pub fn start_cgroup2_with_args(args: &[&str]) -> TestDaemon {
        Self::make(true, &[], args)
    }

    fn start_with(cgroup2: bool) -> TestDaemon {
        Self::make(cgroup2, &[], &[])
    }

    /// A daemon in a network namespace of its own (loopback up), which outlives daemon
    /// restarts and goes when the test does.
    pub fn start_in_netns() -> TestDaemon {
        Self::make_in(false, &[], &[], true)
    }

    /// A daemon in a network namespace of its own, started with `args`.
    pub fn start_in_netns_with_args(args: &[&str]) -> TestDaemon {
        Self::make_in(false, &[], args, true)
    }

    /// A daemon in a network namespace of its own, with `env` added to its environment and
    /// started with `args`.
    pub fn start_in_netns_with(env: &[(&str, &str)], args: &[&str]) -> TestDaemon {
        Self::make_in(false, env, args, true)
    }

    /// A daemon in a private mount namespace made by the shell commands `prelude` (which
    /// must leave the host's mounts alone); `$BERTH_TEST_DIR` names the test's directory.
    pub fn start_in_mount_ns(prelude: &str) -> TestDaemon {
        Self::build(false, &[], &[], false, Some(prelude.to_string()))
    }

    /// A daemon in a network namespace of its own and a private mount namespace made by
    /// `prelude` (see [`start_in_mount_ns`](Self::start_in_mount_ns)), which runs in the
    /// network namespace too.
    pub fn start_in_netns_and_mount_ns(prelude: &str) -> TestDaemon {
        Self::build(false, &[], &[], true, Some(prelude.to_string()))
    }

    /// The test's directory (the daemon's log, its data root and anything the test keeps).
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    /// The arguments of the next [`TestDaemon::spawn`], after those the harness adds.
    pub fn set_args(&mut self, args: &[&str]) {
        let keep = if self.netns.is_some() { 0 } else { 2 };
        self.args.truncate(keep);
        self.args.extend(args.iter().map(|a| a.to_string()));
    }

    /// Stops the daemon with SIGTERM, as a service manager does.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let _ = c.wait();
        }
    }

    /// `docker inspect -f FORMAT NAME`, trimmed.
    pub fn inspect(&self, name: &str, format: &str) -> String {
        self.docker(&["inspect", "-f", format, name])
            .ok()
            .trim()
            .to_string()
    }

    /// The body of a GET of `url` from the daemon's network namespace, retried while the
    /// server starts (with python3: this busybox's `wget` crashes on timeouts).
    pub fn fetch(&self, url: &str) -> String {
        let get = || self.in_netns(&["python3", "-c", HTTP_GET, url]);
        for _ in 0..50 {
            let out = get();
            if out.code == 0 {
                return out.stdout;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no answer from {url}: {}", get().stderr);
    }

    /// Runs `args` (a command) in the daemon's network namespace.
    pub fn in_netns(&self, args: &[&str]) -> Out {
        let ns = self
            .netns
            .as_ref()
            .expect("a daemon in a network namespace");
        Command::new("nsenter")
            .arg(format!("--net={}", ns.display()))
            .args(args)
            .output()
            .expect("nsenter")
            .into()
    }

    fn make(cgroup2: bool, env: &[(&str, &str)], args: &[&str]) -> TestDaemon {
        Self::make_in(cgroup2, env, args, false)
    }

    fn make_in(cgroup2: bool, env: &[(&str, &str)], args: &[&str], netns: bool) -> TestDaemon {
        Self::build(cgroup2, env, args, netns, None)
    }

    fn build(
        cgroup2: bool,
        env: &[(&str, &str)],
        args: &[&str],
        netns: bool,
        prelude: Option<String>,
    ) -> TestDaemon {
        let dir = tempfile::Builder::new()
            .prefix("berth-test")
            .tempdir_in("/tmp")
            .unwrap();
        // Searchable by others, as a remapped root needs its data root to be (dockerd's check).
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o711),
        )
        .unwrap();
        let root = dir.path().join("root");
        let exec_root = dir.path().join("run");
        let socket = exec_root.join("berth.sock");
        let mut d = TestDaemon {
            root,
            exec_root,
            socket,
            cgroup2,
            prelude,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            // Outside a namespace of the test's own, no default bridge: the host's links stay
            // as they are.
            args: (!netns)
                .then(|| ["--bridge".to_string(), "none".to_string()])
                .into_iter()
                .flatten()
                .chain(args.iter().map(|a| a.to_string()))
                .collect(),
            netns: netns.then(|| dir.path().join("netns")),
            child: None,
            _dir: dir,
        };
        if let Some(ns) = &d.netns {
            std::fs::write(ns, "").unwrap();
            let made = Command::new("unshare")
                .arg(format!("--net={}", ns.display()))
                .arg("true")
                .status()
                .unwrap();
            assert!(made.success(), "unshare --net");
            d.in_netns(&["ip", "link", "set", "lo", "up"]).ok();
        }
        d.spawn();
        d
    }

    /// Starts the daemon process (again, after `kill`).
    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self._dir.path().join("daemon.log"))
            .unwrap();
        let mut cmd = if let (Some(ns), Some(prelude)) = (&self.netns, &self.prelude) {
            let mut c = Command::new("nsenter");
            c.arg(format!("--net={}", ns.display()))
                .args(["unshare", "-m", "--propagation", "private", "sh", "-ec"])
                .arg(format!("{prelude}\nexec \"$@\""))
                .args(["sh", BERTH])
                .env("BERTH_TEST_DIR", self._dir.path());
            c
        } else if let Some(ns) = &self.netns {
            let mut c = Command::new("nsenter");
            c.arg(format!("--net={}", ns.display())).arg(BERTH);
            c
        } else if let Some(prelude) = &self.prelude {
            let mut c = Command::new("unshare");
            c.args(["-m", "--propagation", "private", "sh", "-ec"])
                .arg(format!("{prelude}\nexec \"$@\""))
                .args(["sh", BERTH])
                .env("BERTH_TEST_DIR", self._dir.path());
            c
        } else if self.cgroup2 {
            let mut c = Command::new("unshare");
            c.args(["-m", "--propagation", "private", "sh", "-c"]).arg(
                "umount -R /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec \"$@\"",
            );
            c.args(["sh", BERTH]);
            c
        } else {
            Command::new(BERTH)
        };
        let child = cmd
            .args(["daemon", "-H"])
            .arg(&self.socket)
            .arg("--data-root")
            .arg(&self.root)
            .arg("--exec-root")
            .arg(&self.exec_root)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while UnixStream::connect(&self.socket).is_err() {
            assert!(
                Instant::now() < deadline,
                "daemon did not start; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// Kills the daemon with SIGKILL (containers live on in their monitors).
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The stock docker CLI against this daemon.
    pub fn docker(&self, args: &[&str]) -> Out {
        // A hung command fails the test instead of hanging the suite.
        Command::new("timeout")
            .args(["120", "docker", "-H"])
            .arg(self.host())
            .args(args)
            .output()
            .expect("docker CLI")
            .into()
    }

    /// `docker build` with the classic builder (the API berth serves) and extra arguments.
    pub fn docker_build(&self, args: &[&str]) -> Out {
        Command::new("timeout")
            .args(["120", "docker", "-H"])
            .arg(self.host())
            .arg("build")
            .args(args)
            .env("DOCKER_BUILDKIT", "0")
            .output()
            .expect("docker CLI")
            .into()
    }

    /// `docker events` from the epoch until now, filtered by `filter`, in `format`.
    pub fn events(&self, filter: &str, format: &str) -> String {
        let until = (now() + 1).to_string();
        self.docker(&[
            "events", "--since", "0", "--until", &until, "--filter", filter, "--format", format,
        ])
        .ok()
    }

    /// Runs `cmd` (a shell command line) with a terminal of `rows`x`cols` as the user's, as
    /// an interactive user runs the CLI (through `script`).
    pub fn in_terminal(&self, cmd: &str, rows: u16, cols: u16) -> Out {
        let line = format!("stty rows {rows} cols {cols}; {cmd}");
        Command::new("timeout")
            .args(["60", "script", "-qec", &line, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .unwrap()
            .into()
    }

    /// The docker CLI with stdin.
    pub fn docker_stdin(&self, args: &[&str], input: &[u8]) -> Out {
        let mut c = Command::new("docker")
            .arg("-H")
            .arg(self.host())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(input).unwrap();
        c.wait_with_output().unwrap().into()
    }

    /// The berth CLI against this daemon.
    pub fn berth(&self, args: &[&str]) -> Out {
        Command::new("timeout")
            .arg("120")
            .arg(BERTH)
            .arg("-H")
            .arg(self.host())
            .args(args)
            .output()
            .unwrap()
            .into()
    }

    /// `berth compose ARGS` against this daemon, run in project directory `dir` with `env`.
    pub fn compose_in(&self, dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Out {
        Command::new("timeout")
            .arg("120")
            .arg(BERTH)
            .args(["-H", &self.host(), "compose"])
            .args(args)
            .envs(env.iter().copied())
            .current_dir(dir)
            .output()
            .unwrap()
            .into()
    }

    /// A raw HTTP request; returns status, headers and body.
    pub fn http(&self, method: &str, path: &str, body: &[u8]) -> (u16, String, String) {
        let mut s = UnixStream::connect(&self.socket).unwrap();
        write!(s, "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len()).unwrap();
        // A server may answer (and close) before it reads a body it does not need.
        let _ = s.write_all(body);
        let mut resp = Vec::new();
        let _ = s.read_to_end(&mut resp);
        let text = String::from_utf8_lossy(&resp).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        // Bodies may be chunked: keep only JSON-looking lines.
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            body.lines()
                .filter(|l| !l.chars().all(|c| c.is_ascii_hexdigit()))
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            body.to_string()
        };
        (status, head.to_string(), body)
    }

    /// `docker run --rm busybox sh -c SCRIPT`.
    pub fn sh(&self, script: &str) -> Out {
        self.sh_with(&[], script)
    }

    /// `docker run --rm OPTS busybox sh -c SCRIPT`.
    pub fn sh_with(&self, opts: &[&str], script: &str) -> Out {
        let mut args = vec!["run", "--rm"];
        args.extend(opts);
        args.extend(["busybox", "sh", "-c", script]);
        self.docker(&args)
    }

    /// A daemon started with `args` that has the busybox fixture as `busybox`.
    pub fn with_busybox(args: &[&str]) -> TestDaemon {
        let d = TestDaemon::start_with_args(args);
        d.import_busybox("busybox");
        d
    }

    /// Imports the busybox fixture as `name`.
    pub fn import_busybox(&self, name: &str) -> String {
        self.docker_stdin(&["import", "-", name], busybox_tar())
            .ok()
            .trim()
            .to_string()
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("daemon log:\n{}", self.log());
        }
        if self.child.is_none() && UnixStream::connect(&self.socket).is_err() {
            self.spawn();
        }
        let ids = self.docker(&["ps", "-aq"]).stdout;
        for id in ids.split_whitespace() {
            let _ = self.docker(&["rm", "-f", id]);
        }
        if let Some(mut c) = self.child.take() {
            // SAFETY-free: a plain SIGTERM via the kill command keeps the harness free of unsafe.
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let _ = c.wait();
        }
        // Whatever is still mounted under the test root goes too.
        if let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") {
            for m in mounts.lines().filter_map(|l| l.split_whitespace().nth(1)) {
                if m.starts_with(self._dir.path().to_str().unwrap()) {
                    let _ = Command::new("umount").arg("-l").arg(m).status();
                }
            }
        }
    }
}

/// A tar header of `kind`, owned by root, dated 0.
pub fn tar_header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// A tar holding one file, `name`, with `content` (mode 0644, owned by root, dated 0).
pub fn tar_of(name: &str, content: &[u8]) -> Vec<u8> {
    let mut t = tar::Builder::new(Vec::new());
    let mut h = tar_header(tar::EntryType::Regular, 0o644, content.len() as u64);
    t.append_data(&mut h, name, content).unwrap();
    t.into_inner().unwrap()
}

/// A tarball of a minimal busybox rootfs, built once per test binary, in memory (nothing is
/// left on disk).
pub fn busybox_tar() -> &'static [u8] {
    static ONCE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        let bb = ["/bin/busybox", "/usr/bin/busybox"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.exists())
            .expect("busybox-static installed");
        let mut t = tar::Builder::new(Vec::new());
        let header = tar_header;
        for d in ["bin", "etc", "tmp", "root"] {
            let mut h = header(tar::EntryType::Directory, 0o755, 0);
            t.append_data(&mut h, d, std::io::empty()).unwrap();
        }
        let binary = std::fs::read(bb).unwrap();
        let mut h = header(tar::EntryType::Regular, 0o755, binary.len() as u64);
        t.append_data(&mut h, "bin/busybox", &binary[..]).unwrap();
        for app in [
            "sh", "echo", "cat", "ls", "true", "false", "sleep", "id", "env", "hostname", "ps",
            "pwd", "tail", "head", "seq", "wc", "touch", "kill", "dd",
        ] {
            let mut h = header(tar::EntryType::Symlink, 0o777, 0);
            t.append_link(&mut h, format!("bin/{app}"), "busybox")
                .unwrap();
        }
        for (name, text) in [
            (
                "etc/passwd",
                "root:x:0:0:root:/root:/bin/sh\nu1:x:1000:1000::/:/bin/sh\n",
            ),
            ("etc/group", "root:x:0:\ng1:x:1000:\nextra:x:2000:u1\n"),
        ] {
            let mut h = header(tar::EntryType::Regular, 0o644, text.len() as u64);
            t.append_data(&mut h, name, text.as_bytes()).unwrap();
        }
        t.into_inner().unwrap()
    })
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A build context directory with `files` (path, content); parents are created.
pub fn context(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("berth-ctx")
        .tempdir_in("/tmp")
        .unwrap();
    for (path, content) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    dir
}

/// The raw-syscall probe (`tests/probe/syscalls.c`: one system call, answered `ok` or with its
/// errno), built static once per test binary under the target directory.
pub fn syscall_probe() -> &'static Path {
    static ONCE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        let name = concat!("syscall-probe-", env!("CARGO_CRATE_NAME"));
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/probe/syscalls.c");
        let status = Command::new("cc")
            .args(["-static", "-O1", "-o"])
            .arg(&out)
            .arg(src)
            .status()
            .expect("running cc (apt-get install gcc libc6-dev)");
        assert!(status.success(), "building the probe");
        out
    })
}

/// The capabilities the test process (root) holds in its bounding set, as `/proc` shows them:
/// what a privileged container or `--cap-add ALL` gets.
pub fn held_capabilities() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("CapBnd:")).unwrap();
    line.trim_start_matches("CapBnd:\t").to_string()
}

impl TestDaemon {
    /// The pid of the daemon process (of its wrapper for cgroup v2 and netns daemons), to
    /// signal it as a service manager does (`kill -HUP`).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("daemon running").id()
    }
}

/// Polls `cond` every 20 ms for up to 30 s: for states that have no event of their own.
pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a monitor process of container `id` still runs.
pub fn monitor_left(id: &str) -> bool {
    let out = Command::new("pgrep")
        .args(["-f", &format!("monitor.*{id}")])
        .output()
        .unwrap();
    !out.stdout.is_empty()
}

/// `berth daemon ARGS --validate`: checks flags and daemon.json without starting.
pub fn validate(args: &[&str]) -> Out {
    Command::new(BERTH)
        .arg("daemon")
        .args(args)
        .arg("--validate")
        .output()
        .unwrap()
        .into()
}

/// A CA with a server certificate for 127.0.0.1 and a client certificate, and a client
/// certificate of another CA, each in a directory laid out as `DOCKER_CERT_PATH` is
/// (`ca.pem`, `cert.pem`, `key.pem`); and `none/`, empty.
pub struct Pki {
    dir: tempfile::TempDir,
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

impl Pki {
    pub fn new() -> Pki {
        let pki = Pki {
            dir: tempfile::tempdir().unwrap(),
        };
        pki.key_pair("ca", None, "basicConstraints=critical,CA:TRUE\n");
        pki.key_pair("other-ca", None, "basicConstraints=critical,CA:TRUE\n");
        let server = "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
        pki.key_pair("server", Some("ca"), server);
        pki.key_pair("client", Some("ca"), "extendedKeyUsage=clientAuth\n");
        pki.key_pair("other", Some("other-ca"), "extendedKeyUsage=clientAuth\n");
        std::fs::create_dir(pki.dir.path().join("none")).unwrap();
        pki
    }

    /// The path of `rel`, for a command line.
    pub fn p(&self, rel: &str) -> String {
        self.dir.path().join(rel).display().to_string()
    }

    /// `name/{cert,key}.pem` with the extensions `ext`, signed by `ca` (whose certificate is
    /// copied to `name/ca.pem`), or self-signed.
    pub fn key_pair(&self, name: &str, ca: Option<&str>, ext: &str) {
        std::fs::create_dir(self.dir.path().join(name)).unwrap();
        let ext_file = format!("{name}.ext");
        std::fs::write(self.dir.path().join(&ext_file), ext).unwrap();
        let (key, csr, cert) = (
            format!("{name}/key.pem"),
            format!("{name}.csr"),
            format!("{name}/cert.pem"),
        );
        let subject = format!("/CN={name}");
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        self.openssl(
            &[
                &["req"],
                &ec[..],
                &["-keyout", &key, "-out", &csr, "-subj", &subject],
            ]
            .concat(),
        );
        let x509 = [
            "x509", "-req", "-in", &csr, "-days", "2", "-extfile", &ext_file, "-out", &cert,
        ];
        let Some(ca) = ca else {
            return self.openssl(&[&x509[..], &["-signkey", &key]].concat());
        };
        let (ca_cert, ca_key) = (format!("{ca}/cert.pem"), format!("{ca}/key.pem"));
        let by = ["-CA", &ca_cert, "-CAkey", &ca_key, "-set_serial", "0x1234"];
        self.openssl(&[&x509[..], &by[..]].concat());
        let own_ca = self.dir.path().join(format!("{name}/ca.pem"));
        std::fs::copy(self.dir.path().join(&ca_cert), own_ca).unwrap();
    }

    pub fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("the openssl CLI (scripts/deps.sh installs it)");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "openssl {args:?}: {err}");
    }
}
