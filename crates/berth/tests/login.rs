//! `login`, `logout`, `pull` and `push` on the client side, side by side with the stock docker
//! CLI: the same config files and credential helper, the same bytes out. Pull and push talk to
//! a replay server that answers as dockerd does with recorded streams, so that what is compared
//! is the client alone (the daemon's side has tests of its own).

mod common;
mod distribution;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use common::{BERTH, Out};

/// A credential helper speaking the docker-credential-helpers protocol, keeping each credential
/// as a file in `$TEST_CREDS` and logging every call to `$TEST_CREDS/log`.
const HELPER: &str = r#"#!/bin/sh
dir="${TEST_CREDS:?}"
key() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; }
case "$1" in
store)
  in=$(cat)
  url=$(printf %s "$in" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p')
  printf %s "$in" > "$dir/$(key "$url")"
  echo "store $in" >> "$dir/log" ;;
get)
  url=$(cat)
  echo "get $url" >> "$dir/log"
  if [ -f "$dir/$(key "$url")" ]; then cat "$dir/$(key "$url")"
  else echo "credentials not found in native keychain"; exit 1; fi ;;
erase)
  url=$(cat)
  echo "erase $url" >> "$dir/log"
  if [ -f "$dir/$(key "$url")" ]; then rm "$dir/$(key "$url")"
  else echo "credentials not found in native keychain"; exit 1; fi ;;
list) echo '{}' ;;
*) exit 2 ;;
esac
"#;

/// A user's setup: a config dir and a PATH with the test helper.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(config: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        for d in ["config", "bin", "creds"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        if !config.is_empty() {
            std::fs::write(dir.path().join("config/config.json"), config).unwrap();
        }
        let helper = dir.path().join("bin/docker-credential-test");
        std::fs::write(&helper, HELPER).unwrap();
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        Setup { dir }
    }

    /// The same setup in another directory, so that docker and berth start equal.
    fn copy(&self) -> Setup {
        let other = Setup::new("");
        for d in ["config", "creds"] {
            for e in std::fs::read_dir(self.dir.path().join(d)).unwrap() {
                let e = e.unwrap();
                std::fs::copy(e.path(), other.dir.path().join(d).join(e.file_name())).unwrap();
            }
        }
        other
    }

    fn config(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("config/config.json")).unwrap_or_default()
    }

    fn helper_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("creds/log")).unwrap_or_default()
    }

    /// Stores a credential in the helper, as `docker login` would have.
    fn helper_has(&self, url: &str, user: &str, secret: &str) {
        let json = format!(r#"{{"ServerURL":"{url}","Username":"{user}","Secret":"{secret}"}}"#);
        let mut c = self.command("docker-credential-test");
        c.arg("store").stdin(Stdio::piped());
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(json.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
        std::fs::remove_file(self.dir.path().join("creds/log")).unwrap();
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        let path = format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        c.env("PATH", path)
            .env("DOCKER_CONFIG", self.dir.path().join("config"))
            .env("TEST_CREDS", self.dir.path().join("creds"))
            .env("HOME", self.dir.path())
            // Nothing listens there: what needs no daemon must not try one.
            .env("DOCKER_HOST", "unix:///nonexistent/berth-test.sock")
            .env_remove("BERTH_HOST")
            .env_remove("DOCKER_CONTENT_TRUST");
        c
    }

    /// Runs docker (`docker`) or berth (`BERTH`) with `args` and `stdin`.
    fn run(&self, program: &str, args: &[&str], stdin: &[u8]) -> Out {
        let mut c = self.command("timeout");
        c.arg("30").arg(program).args(args);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let _ = child.stdin.take().unwrap().write_all(stdin);
        child.wait_with_output().unwrap().into()
    }
}

/// Runs `args` with docker in one setup and berth in a copy of it; asserts both print and
/// exit the same, and returns the two setups (docker's, berth's) and berth's output.
fn side_by_side(s: &Setup, args: &[&str], stdin: &[u8]) -> (Setup, Setup, Out) {
    let (d, b) = (s.copy(), s.copy());
    let docker = d.run("docker", args, stdin);
    let berth = b.run(BERTH, args, stdin);
    assert_eq!(
        (docker.code, &docker.stdout, &docker.stderr),
        (berth.code, &berth.stdout, &berth.stderr),
        "{args:?}: docker (left) and berth (right) differ"
    );
    (d, b, berth)
}

#[test]
fn login_refuses_what_docker_refuses_before_asking_the_daemon() {
    let s = Setup::new("");
    for args in [
        &["login", "--password-stdin"][..],
        &["login", "-u", "x", "-p", "y", "--password-stdin"],
        &["login", "-u", "", "localhost:5000"],
        &["login", "-p", "", "localhost:5000"],
    ] {
        let (_, _, out) = side_by_side(&s, args, b"");
        assert_ne!(out.code, 0, "{args:?}");
    }
    // Too many arguments: berth's usage error is clap's, as everywhere in berth.
    assert_ne!(s.run(BERTH, &["login", "a", "b"], b"").code, 0);
    // A prompt needs a terminal; --password alone warns first.
    let (_, _, out) = side_by_side(&s, &["login", "-u", "x", "localhost:5000"], b"");
    assert!(out.stderr.contains("non TTY device"), "{}", out.stderr);
    let (_, _, out) = side_by_side(&s, &["login", "-p", "secret", "localhost:5000"], b"");
    assert!(
        out.stderr.starts_with("WARNING! Using --password"),
        "{}",
        out.stderr
    );
}

#[test]
fn logout_removes_the_entries_docker_removes_from_the_file() {
    let config = r#"{
	"auths": {
		"http://localhost:5000": {
			"auth": "dXNlcjpwYXNz"
		},
		"https://index.docker.io/v1/": {
			"auth": "aHViOnNlY3JldA=="
		},
		"other.example": {
			"auth": "bzpw",
			"email": "o@example"
		}
	},
	"psFormat": "table {{.ID}}"
}"#;
    let s = Setup::new(config);
    let (d, b, out) = side_by_side(&s, &["logout", "localhost:5000/v2/"], b"");
    assert_eq!(
        out.stdout,
        "Removing login credentials for localhost:5000\n"
    );
    assert_eq!(d.config(), b.config());
    assert!(!b.config().contains("localhost:5000"), "{}", b.config());
    assert!(b.config().contains("\"email\": \"o@example\""));
    // Docker Hub by default.
    let (d, b, _) = side_by_side(&s, &["logout"], b"");
    assert_eq!(d.config(), b.config());
    assert!(!b.config().contains("index.docker.io"));
    // Logged out already: the same words, the file untouched.
    let (d, b, _) = side_by_side(&s, &["logout", "nowhere.example"], b"");
    assert_eq!(d.config(), config);
    assert_eq!(b.config(), config);
    // A config file that does not exist stays so.
    let none = Setup::new("");
    let (_, b, _) = side_by_side(&none, &["logout", "x.example"], b"");
    assert!(!b.dir.path().join("config/config.json").exists());
}

#[test]
fn logout_erases_from_the_credential_helper_as_docker() {
    let s = Setup::new(
        r#"{"auths":{"localhost:5000":{}},"credHelpers":{"helped.example":"test"},"credsStore":"test"}"#,
    );
    s.helper_has("localhost:5000", "u", "p");
    s.helper_has("helped.example", "u2", "p2");
    let (d, b, _) = side_by_side(&s, &["logout", "localhost:5000"], b"");
    assert_eq!(d.helper_log(), b.helper_log());
    assert!(b.helper_log().starts_with("erase localhost:5000\n"));
    assert_eq!(d.config(), b.config());
    let (d, b, _) = side_by_side(&s, &["logout", "helped.example"], b"");
    assert_eq!(d.helper_log(), b.helper_log());
    // A helper that is not installed: every erase fails, and docker warns of each (in its
    // map's order, so compared as sets) when it tried four different names.
    let missing = Setup::new(r#"{"credsStore":"missing"}"#);
    side_by_side(&missing, &["logout", "r.example"], b"");
    let d = missing
        .copy()
        .run("docker", &["logout", "r.example/v2/"], b"");
    let b = missing.copy().run(BERTH, &["logout", "r.example/v2/"], b"");
    let sorted = |s: &str| {
        let mut l: Vec<String> = s.lines().map(str::to_string).collect();
        l.sort();
        l
    };
    assert_eq!((d.code, &d.stdout), (b.code, &b.stdout));
    assert_eq!(sorted(&d.stderr), sorted(&b.stderr));
    assert!(
        b.stderr
            .starts_with("WARNING: could not erase credentials:\n")
    );
    assert!(b.stderr.contains("r.example/v2/: error erasing credentials - err: exec: \"docker-credential-missing\": executable file not found in $PATH, out: ``"), "{}", b.stderr);
}

/// What one client sent the replay server: the request line and `X-Registry-Auth`.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    method: String,
    path: String,
    auth: Option<String>,
}

/// A replay server on a unix socket: `/_ping` as dockerd answers it, and for every other
/// request whose path contains a key of `answers` that answer (status, JSON body).
struct Replay {
    socket: PathBuf,
    seen: Arc<Mutex<Vec<Seen>>>,
    _dir: tempfile::TempDir,
}

impl Replay {
    fn start(answers: Vec<(&'static str, u16, String)>) -> Replay {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("replay.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let log = log.clone();
                let answers = answers.clone();
                std::thread::spawn(move || serve(conn, &answers, &log));
            }
        });
        Replay {
            socket,
            seen,
            _dir: dir,
        }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The requests after the version handshake, and forgets them.
    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
            .into_iter()
            .filter(|s| !s.path.ends_with("/_ping") && !s.path.ends_with("/version"))
            .map(|mut s| {
                // The API version prefix is the client's own.
                if let Some(i) = s.path.find("/images") {
                    s.path = s.path[i..].to_string();
                }
                s
            })
            .collect()
    }
}

fn serve(
    conn: std::os::unix::net::UnixStream,
    answers: &[(&'static str, u16, String)],
    log: &Mutex<Vec<Seen>>,
) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut w = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut headers = BTreeMap::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        if headers
            .get("transfer-encoding")
            .is_some_and(|t| t == "chunked")
        {
            skip_chunks(&mut reader);
        }
        log.lock().unwrap().push(Seen {
            method: method.clone(),
            path: path.clone(),
            auth: headers.get("x-registry-auth").cloned(),
        });
        let (status, ctype, body) = if path.ends_with("/_ping") {
            (200, "text/plain", "OK".to_string())
        } else if let Some((_, status, body)) = answers.iter().find(|(k, _, _)| path.contains(k)) {
            (*status, "application/json", body.clone())
        } else {
            (
                404,
                "application/json",
                r#"{"message":"page not found"}"#.into(),
            )
        };
        let head = format!(
            "HTTP/1.1 {status} X\r\nApi-Version: 1.43\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if w.write_all(head.as_bytes()).is_err()
            || (method != "HEAD" && w.write_all(body.as_bytes()).is_err())
        {
            return;
        }
    }
}

/// Reads a chunked body to its end.
fn skip_chunks(reader: &mut impl BufRead) {
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).unwrap();
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        let mut chunk = vec![0; n + 2];
        reader.read_exact(&mut chunk).unwrap();
        if n == 0 {
            return;
        }
    }
}

/// A pull of two layers as dockerd streams it.
fn pull_stream() -> String {
    [
        r#"{"status":"Pulling from library/busybox","id":"latest"}"#,
        r#"{"status":"Pulling fs layer","progressDetail":{},"id":"9ad63333ebc9"}"#,
        r#"{"status":"Pulling fs layer","progressDetail":{},"id":"1f9c5b1b2fd0"}"#,
        r#"{"status":"Downloading","progressDetail":{"current":32768,"total":2219949},"progress":"[\u003e      ]  32.77kB/2.22MB","id":"9ad63333ebc9"}"#,
        r#"{"status":"Downloading","progressDetail":{"current":1100000,"total":2219949},"progress":"[====\u003e  ]   1.1MB/2.22MB","id":"9ad63333ebc9"}"#,
        r#"{"status":"Downloading","progressDetail":{"current":512,"total":1024},"progress":"[==\u003e ]  512B/1.024kB","id":"1f9c5b1b2fd0"}"#,
        r#"{"status":"Verifying Checksum","progressDetail":{},"id":"1f9c5b1b2fd0"}"#,
        r#"{"status":"Download complete","progressDetail":{},"id":"1f9c5b1b2fd0"}"#,
        r#"{"status":"Download complete","progressDetail":{},"id":"9ad63333ebc9"}"#,
        r#"{"status":"Extracting","progressDetail":{"current":2219949,"total":2219949},"progress":"[=====\u003e]  2.22MB/2.22MB","id":"9ad63333ebc9"}"#,
        r#"{"status":"Pull complete","progressDetail":{},"id":"9ad63333ebc9"}"#,
        r#"{"status":"Already exists","progressDetail":{},"id":"1f9c5b1b2fd0"}"#,
        r#"{"status":"Digest: sha256:9ae97d36d26566ff84e8893c64a6dc4fe8ca6d1144bf5b87b2b85a32def253c7"}"#,
        r#"{"status":"Status: Downloaded newer image for busybox:latest"}"#,
    ]
    .join("\r\n")
        + "\r\n"
}

fn push_stream() -> String {
    [
        r#"{"status":"The push refers to repository [localhost:5000/app]"}"#,
        r#"{"status":"Preparing","progressDetail":{},"id":"5b8c72934dfc"}"#,
        r#"{"status":"Pushing","progressDetail":{"current":512,"total":4096},"progress":"[=\u003e ] 512B/4.096kB","id":"5b8c72934dfc"}"#,
        r#"{"status":"Pushed","progressDetail":{},"id":"5b8c72934dfc"}"#,
        r#"{"status":"Layer already exists","progressDetail":{},"id":"0b3e54e6ef03"}"#,
        r#"{"status":"v1: digest: sha256:6f7e5f2a0e4b9e9d0c1b6a1f4f2a7d3c8e5b9a0d1c2e3f405162738495a6b7c8 size: 735"}"#,
        r#"{"progressDetail":{},"aux":{"Tag":"v1","Digest":"sha256:6f7e5f2a0e4b9e9d0c1b6a1f4f2a7d3c8e5b9a0d1c2e3f405162738495a6b7c8","Size":735}}"#,
    ]
    .join("\r\n")
        + "\r\n"
}

impl Setup {
    /// docker and berth, each in a copy of this setup, against `replay`: asserts the same
    /// output and exit code, returns berth's output and what both sent.
    fn both_against(&self, replay: &Replay, args: &[&str]) -> (Out, Vec<Seen>) {
        let mut full = vec!["-H".to_string(), replay.host()];
        full.extend(args.iter().map(|a| a.to_string()));
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        let docker = self.copy().run("docker", &full, b"");
        let docker_seen = replay.take();
        let berth = self.copy().run(BERTH, &full, b"");
        let berth_seen = replay.take();
        assert_eq!(
            (docker.code, &docker.stdout, &docker.stderr),
            (berth.code, &berth.stdout, &berth.stderr),
            "{args:?}: docker (left) and berth (right) differ"
        );
        assert_eq!(docker_seen, berth_seen, "the requests differ");
        (berth, berth_seen)
    }

    /// The same on a terminal `cols` wide (through `script`): the bytes both wrote.
    fn both_on_terminal(&self, replay: &Replay, args: &str, cols: u16) -> String {
        let run = |program: &str| {
            let s = self.copy();
            let line = format!(
                "stty rows 40 cols {cols}; {program} -H {} {args}",
                replay.host()
            );
            let out: Out = s
                .command("timeout")
                .args(["30", "script", "-qec", &line, "/dev/null"])
                .stdin(Stdio::null())
                .output()
                .unwrap()
                .into();
            out.stdout
        };
        let (docker, berth) = (run("docker"), run(BERTH));
        assert_eq!(
            docker, berth,
            "on a terminal: docker (left) and berth (right)"
        );
        berth
    }
}

fn decode_auth(header: &str) -> serde_json::Value {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf %s '{}' | tr -- '-_' '+/' | base64 -d",
            header
        ))
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn pull_renders_the_stream_and_sends_the_stored_credentials_as_docker() {
    let replay = Replay::start(vec![("/images/create", 200, pull_stream())]);
    let s = Setup::new(
        r#"{"auths":{"https://index.docker.io/v1/":{"auth":"aHViOnNlY3JldA=="},"localhost:5000":{"auth":"dXNlcjpwYXNz"}}}"#,
    );
    let (out, seen) = s.both_against(&replay, &["pull", "busybox"]);
    assert!(
        out.stdout
            .starts_with("Using default tag: latest\nlatest: Pulling from library/busybox\n")
    );
    assert!(
        out.stdout.ends_with("docker.io/library/busybox:latest\n"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("Downloading"),
        "no bars off a terminal"
    );
    assert_eq!(
        seen[0].path,
        "/images/create?fromImage=docker.io%2Flibrary%2Fbusybox&tag=latest"
    );
    let auth = decode_auth(seen[0].auth.as_deref().unwrap());
    assert_eq!(auth["username"], "hub");
    assert_eq!(auth["serveraddress"], "https://index.docker.io/v1/");
    // Another registry, by digest, quiet, for a platform.
    let digest = "sha256:9ae97d36d26566ff84e8893c64a6dc4fe8ca6d1144bf5b87b2b85a32def253c7";
    let name = format!("localhost:5000/a/b@{digest}");
    let (out, seen) = s.both_against(&replay, &["pull", "-q", "--platform", "Linux/AMD64", &name]);
    assert_eq!(out.stdout, format!("{name}\n"));
    assert!(
        seen[0].path.contains("&platform=linux%2Famd64"),
        "{:?}",
        seen[0]
    );
    assert_eq!(
        decode_auth(seen[0].auth.as_deref().unwrap())["password"],
        "pass"
    );
    // All tags; a registry without credentials gets `{}`.
    let (out, seen) = s.both_against(&replay, &["pull", "-a", "other.example/x"]);
    assert!(
        out.stdout.ends_with("\nother.example/x\n"),
        "{}",
        out.stdout
    );
    assert_eq!(seen[0].path, "/images/create?fromImage=other.example%2Fx");
    assert_eq!(seen[0].auth.as_deref(), Some("e30="));
}

#[test]
fn pull_on_a_terminal_redraws_layer_lines_as_docker() {
    let replay = Replay::start(vec![("/images/create", 200, pull_stream())]);
    let s = Setup::new("");
    // Wide: bars; narrow: counts only.
    let wide = s.both_on_terminal(&replay, "pull busybox", 120);
    assert!(wide.contains("[========================>"), "{wide:?}");
    let narrow = s.both_on_terminal(&replay, "pull busybox", 80);
    assert!(narrow.contains("Downloading    1.1MB/2.22MB"), "{narrow:?}");
    assert!(!narrow.contains("[="), "{narrow:?}");
}

#[test]
fn errors_in_and_before_the_stream_end_pull_and_push_as_docker() {
    let broken = [
        r#"{"status":"Pulling from library/x","id":"1"}"#,
        r#"{"errorDetail":{"message":"manifest for x:1 not found: manifest unknown: manifest unknown"},"error":"manifest for x:1 not found: manifest unknown: manifest unknown"}"#,
    ]
    .join("\r\n");
    let replay = Replay::start(vec![
        ("/images/create", 200, broken),
        (
            "/push",
            404,
            r#"{"message":"An image does not exist locally with the tag: nothere"}"#.into(),
        ),
    ]);
    let s = Setup::new("");
    let (out, _) = s.both_against(&replay, &["pull", "x:1"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "manifest for x:1 not found: manifest unknown: manifest unknown\n"
    );
    let (out, _) = s.both_against(&replay, &["push", "nothere"]);
    assert_eq!(out.code, 1);
    for args in [
        &["pull", "-a", "x:1"][..],
        &[
            "push",
            "x@sha256:9ae97d36d26566ff84e8893c64a6dc4fe8ca6d1144bf5b87b2b85a32def253c7",
        ],
        &["pull", "UPPER"],
        &["push", "user/Repo:1"],
    ] {
        let (out, _) = s.both_against(&replay, args);
        assert_eq!(out.code, 1, "{args:?}");
    }
}

#[test]
fn push_renders_the_stream_and_takes_aux_as_docker() {
    let replay = Replay::start(vec![("/push", 200, push_stream())]);
    let s = Setup::new(r#"{"auths":{"http://localhost:5000":{"auth":"dXNlcjpwYXNz"}}}"#);
    let (out, seen) = s.both_against(&replay, &["push", "localhost:5000/app:v1"]);
    assert!(
        out.stdout.contains("5b8c72934dfc: Pushed\n"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("Tag"),
        "aux is not shown: {}",
        out.stdout
    );
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/images/localhost:5000/app/push?tag=v1");
    let auth = decode_auth(seen[0].auth.as_deref().unwrap());
    assert_eq!(auth["serveraddress"], "http://localhost:5000");
    let (out, seen) = s.both_against(&replay, &["push", "-q", "localhost:5000/app"]);
    assert_eq!(out.stdout, "localhost:5000/app:latest\n");
    assert_eq!(seen[0].path, "/images/localhost:5000/app/push?tag=latest");
    let (_, seen) = s.both_against(&replay, &["push", "--all-tags", "localhost:5000/app"]);
    assert_eq!(seen[0].path, "/images/localhost:5000/app/push");
    s.both_on_terminal(&replay, "push localhost:5000/app:v1", 120);
}

/// `load` renders its stream with the same renderer: bars on a terminal, as docker.
#[test]
fn load_on_a_terminal_renders_as_docker() {
    let stream = [
        r#"{"status":"Loading layer","progressDetail":{"current":32768,"total":4403200},"progress":"[\u003e ]  32.77kB/4.403MB","id":"8e2ab394fabf"}"#,
        r#"{"status":"Loading layer","progressDetail":{"current":4403200,"total":4403200},"progress":"[==\u003e]  4.403MB/4.403MB","id":"8e2ab394fabf"}"#,
        r#"{"stream":"Loaded image: busybox:latest\n"}"#,
    ]
    .join("\r\n");
    let replay = Replay::start(vec![("/images/load", 200, stream)]);
    let s = Setup::new("");
    let archive = s.dir.path().join("a.tar");
    std::fs::write(&archive, b"not read by the replay server").unwrap();
    let out = s.both_on_terminal(&replay, &format!("load -i {}", archive.display()), 120);
    assert!(
        out.contains("8e2ab394fabf: Loading layer [==================================================>]  4.403MB/4.403MB\r"),
        "{out:?}"
    );
    assert!(out.ends_with("Loaded image: busybox:latest\r\n"), "{out:?}");
}

/// Debian's docker-registry (CNCF distribution) on loopback with htpasswd auth: `user`/`pass`.
struct Registry {
    child: std::process::Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Registry {
    fn start() -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let htpasswd = Command::new("htpasswd")
            .args(["-Bbn", "user", "pass"])
            .output()
            .unwrap();
        std::fs::write(dir.path().join("htpasswd"), htpasswd.stdout).unwrap();
        let config = format!(
            "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root}\nhttp:\n  addr: {addr}\nauth:\n  htpasswd:\n    realm: test\n    path: {root}/htpasswd\n",
            root = dir.path().display()
        );
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "docker-registry did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Registry {
            child,
            addr,
            _dir: dir,
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `args` by docker and by berth against one daemon, each in its own copy of `s`; asserts
/// the same output (the config paths made equal) and returns both setups and berth's output.
fn both_against_daemon(
    s: &Setup,
    d: &common::TestDaemon,
    args: &[&str],
    stdin: &[u8],
) -> (Setup, Setup, Out) {
    let mut full = vec!["-H".to_string(), d.host()];
    full.extend(args.iter().map(|a| a.to_string()));
    let full: Vec<&str> = full.iter().map(String::as_str).collect();
    let (ds, bs) = (s.copy(), s.copy());
    let docker = ds.run("docker", &full, stdin);
    let berth = bs.run(BERTH, &full, stdin);
    // berth names itself where docker does (`run 'berth logout' followed by 'berth login'`).
    let plain = |o: &Out, setup: &Setup| {
        let dir = setup.dir.path().display().to_string();
        let same = |s: &str| {
            s.replace(&dir, "DIR").replace(
                "'docker logout' followed by 'docker login'",
                "'berth logout' followed by 'berth login'",
            )
        };
        (o.code, same(&o.stdout), same(&o.stderr))
    };
    assert_eq!(
        plain(&docker, &ds),
        plain(&berth, &bs),
        "{args:?}: docker (left) and berth (right) differ"
    );
    (ds, bs, berth)
}

/// Login through the daemon's `POST /auth` against a registry with htpasswd, docker and
/// berth side by side: what they print, what they store (in the file and in a helper), the
/// stored credentials tried first, and a refused password.
#[test]
fn login_against_a_registry_as_docker() {
    let reg = Registry::start();
    let d = common::TestDaemon::start();
    let file = Setup::new("");
    let (ds, bs, out) = both_against_daemon(
        &file,
        &d,
        &["login", "-u", "user", "--password-stdin", &reg.addr],
        b"pass\n",
    );
    assert_eq!(out.stdout, "Login Succeeded\n");
    assert!(
        out.stderr
            .contains("WARNING! Your credentials are stored unencrypted")
    );
    assert_eq!(ds.config(), bs.config());
    assert!(bs.config().contains("dXNlcjpwYXNz"), "{}", bs.config());
    // Logged in: a login without arguments tries the stored credentials first.
    let (_, _, out) = both_against_daemon(&bs, &d, &["login", &reg.addr], b"");
    assert!(
        out.stderr
            .starts_with("Authenticating with existing credentials... [Username: user]")
    );
    assert_eq!(out.stdout, "Login Succeeded\n");
    // docker logs out what berth logged in.
    let out = bs.run("docker", &["logout", &reg.addr], b"");
    assert_eq!(out.code, 0);
    assert!(!bs.config().contains(&reg.addr), "{}", bs.config());
    // A wrong password: the daemon's 401 in docker's words.
    let (_, _, out) = both_against_daemon(
        &file,
        &d,
        &["login", "-u", "user", "--password-stdin", &reg.addr],
        b"wrong\n",
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.starts_with("Error response from daemon: "),
        "{}",
        out.stderr
    );
    // In a credential helper: the secret there, an empty entry in the file.
    let helped = Setup::new(r#"{"credsStore":"test"}"#);
    let (ds, bs, _) = both_against_daemon(
        &helped,
        &d,
        &["login", "-u", "user", "--password-stdin", &reg.addr],
        b"pass",
    );
    assert_eq!(ds.helper_log(), bs.helper_log());
    assert!(
        bs.helper_log()
            .contains(r#""Username":"user","Secret":"pass""#)
    );
    assert_eq!(ds.config(), bs.config());
}

/// A pull from a registry behind htpasswd with the credentials `berth login` stored: the
/// daemon gets them in `X-Registry-Auth`, and berth prints what docker prints for the same
/// pull (each pulls into the same state: the image removed before).
#[test]
fn pull_with_stored_credentials_as_docker() {
    let d = common::TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let r = distribution::Registry::start(&d, 5010, &[("alice", "s3cret")]);
    r.seed(&d, "busybox", "lib/busybox:1", Some("alice:s3cret"));
    let s = Setup::new("");
    let run = |program: &str, args: &[&str], stdin: &[u8]| {
        let mut full = vec!["-H".to_string(), d.host()];
        full.extend(args.iter().map(|a| a.to_string()));
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        s.run(program, &full, stdin)
    };
    let name = format!("{}/lib/busybox:1", r.addr);
    let (docker, berth) = (
        run("docker", &["pull", &name], b""),
        run(BERTH, &["pull", &name], b""),
    );
    assert_eq!(
        (docker.code, &docker.stdout, &docker.stderr),
        (berth.code, &berth.stdout, &berth.stderr),
        "without credentials"
    );
    assert_eq!(berth.code, 1);
    run(
        BERTH,
        &["login", "-u", "alice", "--password-stdin", &r.addr],
        b"s3cret",
    )
    .ok();
    let berth = run(BERTH, &["pull", &name], b"").ok();
    run(BERTH, &["rmi", &name], b"").ok();
    let docker = run("docker", &["pull", &name], b"").ok();
    assert_eq!(docker, berth, "docker (left) and berth (right) pulling");
    assert!(
        berth.starts_with("1: Pulling from lib/busybox\n"),
        "{berth}"
    );
    assert!(
        berth.ends_with(&format!(
            "Status: Downloaded newer image for {name}\n{name}\n"
        )),
        "{berth}"
    );
    // Up to date the second time, in docker's words too.
    let again = run(BERTH, &["pull", "-q", &name], b"").ok();
    assert_eq!(again, format!("{name}\n"));
}

/// Push and pull through the registry with the credentials `login` stored: the daemon gets
/// them in `X-Registry-Auth`.
#[test]
fn push_and_pull_with_stored_credentials() {
    let reg = Registry::start();
    let d = common::TestDaemon::with_busybox(&[]);
    let s = Setup::new("");
    let berth = |args: &[&str], stdin: &[u8]| {
        let mut full = vec!["-H".to_string(), d.host()];
        full.extend(args.iter().map(|a| a.to_string()));
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        s.run(BERTH, &full, stdin)
    };
    let image = format!("{}/test/busybox:1", reg.addr);
    berth(&["tag", "busybox", &image], b"").ok();
    let out = berth(&["push", &image], b"");
    assert_ne!(out.code, 0, "no credentials yet: {}", out.stdout);
    berth(
        &["login", "-u", "user", "--password-stdin", &reg.addr],
        b"pass",
    )
    .ok();
    let out = berth(&["push", &image], b"").ok();
    assert!(
        out.starts_with(&format!(
            "The push refers to repository [{}/test/busybox]\n",
            reg.addr
        )),
        "{out}"
    );
    assert!(out.contains(": Pushed\n"), "{out}");
    assert!(out.contains("1: digest: sha256:"), "{out}");
    // Pushed again, by docker and by berth: the same lines (every layer there already).
    let docker = s
        .run("docker", &["-H", &d.host(), "push", &image], b"")
        .ok();
    let again = berth(&["push", &image], b"").ok();
    assert_eq!(docker, again, "docker (left) and berth (right) pushing");
    assert!(again.contains(": Layer already exists\n"), "{again}");
    berth(&["rmi", &image], b"").ok();
    let out = berth(&["pull", &image], b"").ok();
    assert!(out.starts_with("1: Pulling from test/busybox\n"), "{out}");
    assert!(
        out.ends_with(&format!(
            "Status: Downloaded newer image for {image}\n{image}\n"
        )),
        "{out}"
    );
}

impl Setup {
    /// docker and berth on a terminal, typing `lines` one a second after two (so that the
    /// password arrives after echo is off): the bytes each terminal showed.
    fn typed_on_terminal(&self, replay: &Replay, args: &str, lines: &[&str]) -> (String, String) {
        let run = |program: &str| {
            let s = self.copy();
            let line = format!(
                "stty rows 40 cols 120; {program} -H {} {args}",
                replay.host()
            );
            // The first line waits for the program to start (docker's CLI is slow to).
            let mut typing = String::from("sleep 1; ");
            for l in lines {
                typing.push_str(&format!("sleep 1; printf '%s\\n' '{l}'; "));
            }
            typing.push_str("sleep 2");
            let mut feed = Command::new("sh")
                .args(["-c", &typing])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let out: Out = s
                .command("timeout")
                .args(["30", "script", "-qec", &line, "/dev/null"])
                .env("DOCKER_CLI_DISABLE_OAUTH_LOGIN", "1")
                .stdin(feed.stdout.take().unwrap())
                .output()
                .unwrap()
                .into();
            feed.wait().unwrap();
            out.stdout
        };
        (run("docker"), run(BERTH))
    }
}

/// The prompts, on a terminal: the username echoed, the password not; Docker Hub's hints.
/// The replay server refuses the login as dockerd refuses a wrong password.
#[test]
fn login_prompts_on_a_terminal_as_docker() {
    let refused = r#"{"message":"login attempt to http://127.0.0.1:1/v2/ failed with status: 401 Unauthorized"}"#;
    let replay = Replay::start(vec![("/auth", 401, refused.into())]);
    let s = Setup::new("");
    let (docker, berth) = s.typed_on_terminal(&replay, "login 127.0.0.1:1", &["user", "pass"]);
    assert_eq!(docker, berth);
    assert!(
        berth.starts_with("Username: user\r\nPassword: \r\n"),
        "{berth:?}"
    );
    assert!(
        berth.contains("Error response from daemon: login attempt to"),
        "{berth:?}"
    );
    assert!(
        !berth.contains("pass\r"),
        "the password is not echoed: {berth:?}"
    );
    // Docker Hub, with a username given: the PAT note before the password.
    let (docker, berth) = s.typed_on_terminal(&replay, "login -u user", &["pass"]);
    assert_eq!(docker, berth);
    assert!(
        berth.contains("A Personal Access Token (PAT) can be used instead."),
        "{berth:?}"
    );
    // Stored credentials are offered as the default username.
    let stored = Setup::new(r#"{"auths":{"127.0.0.1:1":{"identitytoken":"t","auth":"b2xkOg=="}}}"#);
    let (docker, berth) = stored.typed_on_terminal(&replay, "login 127.0.0.1:1", &["", "pass"]);
    assert_eq!(docker, berth);
    assert!(berth.starts_with("Username (old): "), "{berth:?}");
}

/// A 401 before the stream: docker asks for credentials ("Login prior to pull:", in Docker
/// Hub's words whatever the registry) and tries once more with what was typed.
#[test]
fn a_refused_pull_asks_for_credentials_and_tries_again_as_docker() {
    let refused = r#"{"message":"unauthorized: authentication required"}"#;
    let replay = Replay::start(vec![("/images/create", 401, refused.into())]);
    let s = Setup::new(r#"{"auths":{"127.0.0.1:1":{"auth":"b2xkOnNlY3JldA=="}}}"#);
    let (docker, berth) = s.typed_on_terminal(&replay, "pull 127.0.0.1:1/x:1", &["typed", "word"]);
    assert_eq!(docker, berth);
    assert!(
        berth.starts_with("\r\nLogin prior to pull:\r\n"),
        "{berth:?}"
    );
    assert!(berth.contains("Username (old): typed\r\n"), "{berth:?}");
    assert!(
        berth.ends_with("Error response from daemon: unauthorized: authentication required\r\n"),
        "{berth:?}"
    );
    let seen = replay.take();
    let auths: Vec<serde_json::Value> = seen
        .iter()
        .filter_map(|s| s.auth.as_deref().map(decode_auth))
        .collect();
    // Stored, then typed: twice for docker, twice for berth.
    assert_eq!(auths.len(), 4, "{seen:?}");
    assert_eq!(auths[0], auths[2]);
    assert_eq!(auths[1], auths[3]);
    assert_eq!(auths[1]["username"], "typed");
    assert_eq!(auths[1]["serveraddress"], "https://index.docker.io/v1/");
}

/// Credentials from a credential helper (a password, and an identity token kept under
/// `<token>`) reach the daemon as docker sends them; a helper that fails sends none.
#[test]
fn pull_sends_what_the_credential_helper_has_as_docker() {
    let replay = Replay::start(vec![("/images/create", 200, pull_stream())]);
    let s = Setup::new(
        r#"{"auths":{"localhost:5000":{"email":"e@x"}},"credsStore":"test","credHelpers":{"tok.example":"test","broken.example":"missing"}}"#,
    );
    s.helper_has("localhost:5000", "user", "pass");
    s.helper_has("tok.example", "<token>", "refresh-me");
    let (_, seen) = s.both_against(&replay, &["pull", "-q", "localhost:5000/x"]);
    let auth = decode_auth(seen[0].auth.as_deref().unwrap());
    assert_eq!(auth["username"], "user");
    assert_eq!(auth["password"], "pass");
    assert_eq!(auth["email"], "e@x");
    let (_, seen) = s.both_against(&replay, &["pull", "-q", "tok.example/x"]);
    let auth = decode_auth(seen[0].auth.as_deref().unwrap());
    assert_eq!(auth["identitytoken"], "refresh-me");
    assert!(auth.get("username").is_none(), "{auth}");
    let (_, seen) = s.both_against(&replay, &["pull", "-q", "broken.example/x"]);
    assert_eq!(seen[0].auth.as_deref(), Some("e30="));
    // Not in the helper: nothing.
    let (_, seen) = s.both_against(&replay, &["pull", "-q", "elsewhere.example/x"]);
    assert_eq!(seen[0].auth.as_deref(), Some("e30="));
}

/// Ctrl-C at the password prompt leaves the terminal echoing.
#[test]
fn ctrl_c_at_the_password_prompt_gives_the_echo_back() {
    let s = Setup::new("");
    // The shell catches SIGINT (its children get the default action) to run stty after.
    let line = format!(
        "trap : INT; stty rows 40 cols 120; {BERTH} -H unix:///nonexistent/x.sock login -u u 127.0.0.1:1; stty -a"
    );
    let mut feed = Command::new("sh")
        .args(["-c", "sleep 1; printf '\\003'; sleep 2"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out: Out = s
        .command("timeout")
        .args(["30", "script", "-qec", &line, "/dev/null"])
        .stdin(feed.stdout.take().unwrap())
        .output()
        .unwrap()
        .into();
    feed.wait().unwrap();
    assert!(out.stdout.starts_with("Password: "), "{:?}", out.stdout);
    let words: Vec<&str> = out.stdout.split_whitespace().collect();
    assert!(words.contains(&"echo"), "{:?}", out.stdout);
    assert!(!words.contains(&"-echo"), "{:?}", out.stdout);
}

/// Streams berth's daemon really sent for a pull and a push, replayed to docker and berth on
/// terminals wide and narrow: the same bytes.
#[test]
fn real_pull_and_push_streams_render_as_docker_on_a_terminal() {
    let d = common::TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let r = distribution::Registry::start(&d, 5011, &[]);
    r.seed(&d, "busybox", "lib/busybox:1", None);
    d.docker(&["rmi", "busybox"]).ok();
    let path = format!(
        "/images/create?fromImage={}%2Flib%2Fbusybox&tag=1",
        r.addr.replace(':', "%3A")
    );
    let (status, _, body) = d.http("POST", &path, b"");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Pull complete"), "{body}");
    let replay = Replay::start(vec![("/images/create", 200, body)]);
    let s = Setup::new("");
    let name = format!("{}/lib/busybox:1", r.addr);
    for cols in [120, 80] {
        let out = s.both_on_terminal(&replay, &format!("pull {name}"), cols);
        assert!(out.contains("Pull complete"), "{out:?}");
    }
    // And a push's, with its aux message.
    let other = format!("{}/lib/other:2", r.addr);
    d.docker(&["tag", &name, &other]).ok();
    let path = format!("/images/{}/lib/other/push?tag=2", r.addr);
    let (status, _, body) = d.http("POST", &path, b"");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"aux\""), "{body}");
    let replay = Replay::start(vec![("/push", 200, body)]);
    let out = s.both_on_terminal(&replay, &format!("push {other}"), 120);
    assert!(out.contains("2: digest: sha256:"), "{out:?}");
}

/// No daemon to ask: `login` asks the registry itself and stores the credentials, as docker
/// does; a wrong password is refused.
#[test]
fn login_without_a_daemon_asks_the_registry_itself() {
    let reg = Registry::start();
    let s = Setup::new("");
    let args = ["login", "-u", "user", "--password-stdin", reg.addr.as_str()];
    let (docker, berth) = (s.copy(), s.copy());
    let d = docker.run("docker", &args, b"pass\n");
    let b = berth.run(BERTH, &args, b"pass\n");
    assert_eq!((d.code, &d.stdout), (b.code, &b.stdout), "{}", b.stderr);
    assert_eq!(b.stdout, "Login Succeeded\n");
    assert_eq!(docker.config(), berth.config());
    // Refused in the registry's words, as docker's last line (docker logs its attempts
    // at each endpoint before it).
    let d = s.copy().run("docker", &args, b"wrong\n");
    let b = s.copy().run(BERTH, &args, b"wrong\n");
    assert_eq!((d.code, &d.stdout), (b.code, &b.stdout));
    assert_eq!(
        d.stderr.lines().last(),
        b.stderr.lines().last(),
        "{}",
        d.stderr
    );
    assert!(
        b.stderr.ends_with("failed with status: 401 Unauthorized\n"),
        "{}",
        b.stderr
    );
}
