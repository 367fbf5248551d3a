//! Detach keys, end to end: a user at a terminal (a pty, driven from python) detaches from
//! `attach`, `run -it` and `exec -it` through the stock docker CLI and berth, and a raw API
//! client detaches with the keys the daemon watches for; the container runs on.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::time::Duration;

use common::{BERTH, TestDaemon};

/// Runs `cmd` on a pty; once the shell it reaches printed `42` (in answer to a line typed
/// into it), types `keys` and reads until the command ends. Returns (exit code, output).
const PTY: &str = r#"
import os, pty, sys, select, time
keys = bytes.fromhex(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
def read_until(pred, secs):
    out, end = b'', time.time() + secs
    while not pred(out) and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                b = os.read(fd, 4096)
            except OSError:
                break
            if not b:
                break
            out += b
    return out
os.write(fd, b'echo $((40+2))\r')
out = read_until(lambda o: b'42' in o.replace(b'40+2', b''), 20)
os.write(fd, keys)
out += read_until(lambda o: False, 5 if b'42' in out else 0)
_, status = os.waitpid(pid, 0)
sys.stdout.write(str(os.waitstatus_to_exitcode(status)) + '\n' + out.decode(errors='replace'))
"#;

/// `args` run on a terminal, detached with `keys` (hex); (exit code, what the terminal showed).
fn on_pty(keys: &str, args: &[&str]) -> (i32, String) {
    on_pty_with(&[], keys, args)
}

/// [`on_pty`] with `env` added to the command's environment.
fn on_pty_with(env: &[(&str, &str)], keys: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new("timeout")
        .args(["60", "python3", "-c", PTY, keys])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (code, shown) = text.split_once('\n').unwrap_or(("-1", ""));
    (code.parse().unwrap_or(-1), shown.to_string())
}

/// A running interactive shell `name` with a terminal.
fn shell(d: &TestDaemon, name: &str) {
    d.docker(&["run", "-dit", "--name", name, "busybox", "busybox", "sh"])
        .ok();
}

#[test]
fn ctrl_p_ctrl_q_detaches_the_docker_cli_and_berth_from_a_running_container() {
    let d = TestDaemon::with_busybox(&[]);
    shell(&d, "sh1");
    let host = d.host();
    let (code, shown) = on_pty("1011", &["docker", "-H", &host, "attach", "sh1"]);
    assert!(shown.contains("read escape sequence"), "{shown}");
    assert_eq!(code, 1, "{shown}");
    assert_eq!(d.inspect("sh1", "{{.State.Running}}"), "true");

    let (code, shown) = on_pty("1011", &[BERTH, "-H", &host, "attach", "sh1"]);
    assert!(shown.contains("read escape sequence"), "{shown}");
    assert_eq!(code, 1, "{shown}");
    assert_eq!(d.inspect("sh1", "{{.State.Running}}"), "true");

    // `run -it` detaches silently, with success.
    let (code, shown) = on_pty(
        "1011",
        &[
            BERTH, "-H", &host, "run", "-it", "--name", "sh2", "busybox", "busybox", "sh",
        ],
    );
    assert_eq!(code, 0, "{shown}");
    assert!(!shown.contains("read escape sequence"), "{shown}");
    assert_eq!(d.inspect("sh2", "{{.State.Running}}"), "true");
}

#[test]
fn custom_detach_keys_detach_attach_run_and_exec() {
    let d = TestDaemon::with_busybox(&[]);
    shell(&d, "sh1");
    let host = d.host();
    for cli in [vec!["docker", "-H", &host], vec![BERTH, "-H", &host]] {
        // ctrl-p ctrl-q is only input now: the shell gets them and the session goes on
        // until ctrl-x.
        let mut args = cli.clone();
        args.extend(["attach", "--detach-keys", "ctrl-x", "sh1"]);
        let (code, shown) = on_pty("101118", &args);
        assert!(shown.contains("read escape sequence"), "{shown}");
        assert_eq!(code, 1, "{shown}");

        let mut args = cli.clone();
        args.extend([
            "exec",
            "-it",
            "--detach-keys",
            "ctrl-x",
            "sh1",
            "busybox",
            "sh",
        ]);
        let (code, shown) = on_pty("18", &args);
        assert!(shown.contains("read escape sequence"), "{cli:?}: {shown}");
        assert_eq!(code, 1, "{shown}");
    }
    let (code, shown) = on_pty(
        "18",
        &[
            BERTH,
            "-H",
            &host,
            "run",
            "-it",
            "--detach-keys",
            "ctrl-x",
            "--name",
            "sh3",
            "busybox",
            "busybox",
            "sh",
        ],
    );
    assert_eq!(code, 0, "{shown}");
    assert_eq!(d.inspect("sh3", "{{.State.Running}}"), "true");
    // The execs' shells run on in the container.
    let ps = d.docker(&["top", "sh1"]).ok();
    assert!(ps.matches("busybox sh").count() >= 3, "{ps}");
    assert_eq!(d.inspect("sh1", "{{.State.Running}}"), "true");
}

#[test]
fn invalid_detach_keys_get_docker_s_messages() {
    let d = TestDaemon::with_busybox(&[]);
    shell(&d, "sh1");
    let (status, _, body) = d.http(
        "POST",
        "/containers/sh1/attach?stream=1&stdin=1&stdout=1&detachKeys=foo",
        b"",
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("Invalid detach keys (foo) provided"),
        "{body}"
    );
    let (status, _, body) = d.http(
        "POST",
        "/containers/sh1/exec",
        br#"{"Cmd":["true"],"DetachKeys":"ctrl-1"}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("Invalid escape keys (ctrl-1) provided"),
        "{body}"
    );
    d.berth(&["attach", "--detach-keys", "a,foo", "sh1"])
        .fails_with(1, "invalid detach keys (a,foo): Unknown character: 'foo'");
}

/// Sends a hijacking `POST path` with `body`; returns the stream after the 101 headers.
fn hijack(d: &TestDaemon, path: &str, body: &str) -> UnixStream {
    let mut s = UnixStream::connect(&d.socket).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).unwrap();
        head.push(b[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Reads until the stream shows `text` (failing on the timeout).
fn until_shown(s: &mut UnixStream, text: &str) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&out).contains(text) {
        let n = s.read(&mut buf).expect("output before the timeout");
        assert!(n > 0, "stream ended: {}", String::from_utf8_lossy(&out));
        out.extend_from_slice(&buf[..n]);
    }
}

/// Reads until the daemon closes the stream (failing on the timeout).
fn until_closed(s: &mut UnixStream) -> String {
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("the daemon ends the stream");
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn the_daemon_ends_a_raw_client_s_stream_at_the_detach_keys() {
    let d = TestDaemon::with_busybox(&[]);
    shell(&d, "sh1");
    let mut s = hijack(
        &d,
        "/containers/sh1/attach?stream=1&stdin=1&stdout=1&stderr=1",
        "",
    );
    // Bytes before the keys reach the container; the stream ends at the last key.
    s.write_all(b"echo $((40+2))\r\x10").unwrap();
    until_shown(&mut s, "42");
    s.write_all(b"\x11").unwrap();
    until_closed(&mut s);
    assert_eq!(d.inspect("sh1", "{{.State.Running}}"), "true");

    let mut s = hijack(
        &d,
        "/containers/sh1/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-x",
        "",
    );
    s.write_all(b"\x18").unwrap();
    until_closed(&mut s);

    let (status, _, body) = d.http(
        "POST",
        "/containers/sh1/exec",
        br#"{"Cmd":["busybox","sh"],"AttachStdin":true,"AttachStdout":true,"Tty":true,"DetachKeys":"ctrl-x"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let exec = v["Id"].as_str().unwrap();
    let mut s = hijack(&d, &format!("/exec/{exec}/start"), r#"{"Tty":true}"#);
    s.write_all(b"echo $((40+3))\r").unwrap();
    until_shown(&mut s, "43");
    s.write_all(b"\x18").unwrap();
    until_closed(&mut s);
    let (_, _, body) = d.http("GET", &format!("/exec/{exec}/json"), b"");
    assert!(
        body.contains(r#""Running":true"#),
        "the exec runs on: {body}"
    );
    let format = "{{.Action}} {{index .Actor.Attributes \"execID\"}}";
    let events = d.events("container=sh1", format);
    let detaches: Vec<&str> = events.lines().filter(|l| l.contains("detach")).collect();
    let exec_detach = format!("exec_detach {exec}");
    assert_eq!(
        detaches,
        ["detach ", "detach ", exec_detach.as_str()],
        "{events}"
    );
}

/// `berth run` of a shell that reports SIGTERM, signalled with SIGTERM once it runs; returns
/// the CLI's exit status and output.
fn run_and_term(d: &TestDaemon, opts: &[&str]) -> (std::process::ExitStatus, String) {
    use std::io::BufRead;
    let script =
        "trap 'echo got TERM; exit 3' TERM; echo ready; while true; do busybox sleep 0.1; done";
    let mut child = Command::new(BERTH)
        .args(["-H", &d.host(), "run"])
        .args(opts)
        .args(["busybox", "busybox", "sh", "-c", script])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    (child.wait().unwrap(), rest)
}

#[test]
fn sig_proxy_sends_the_cli_s_signals_to_the_container() {
    let d = TestDaemon::with_busybox(&[]);
    let (status, out) = run_and_term(&d, &["--name", "proxied"]);
    assert_eq!(out, "got TERM\n");
    assert_eq!(status.code(), Some(3));

    let (status, _) = run_and_term(&d, &["--name", "kept", "--sig-proxy=false"]);
    assert_eq!(status.code(), None, "the CLI itself ends by the signal");
    assert_eq!(d.inspect("kept", "{{.State.Running}}"), "true");
}

#[test]
fn without_a_terminal_the_keys_are_only_input() {
    let d = TestDaemon::with_busybox(&[]);
    d.docker(&["run", "-di", "--name", "cat", "busybox", "busybox", "cat"])
        .ok();
    let mut s = hijack(&d, "/containers/cat/attach?stream=1&stdin=1&stdout=1", "");
    s.write_all(b"a\x10\x11b\n").unwrap();
    // One stdout frame: the 8-byte header, then the line as sent.
    let mut frame = [0u8; 13];
    s.read_exact(&mut frame).unwrap();
    assert_eq!(&frame[8..], b"a\x10\x11b\n");
    assert_eq!(d.inspect("cat", "{{.State.Running}}"), "true");
}

#[test]
fn the_docker_config_file_s_detach_keys_apply() {
    let d = TestDaemon::with_busybox(&[]);
    shell(&d, "sh1");
    let host = d.host();
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("config.json"),
        r#"{"detachKeys": "ctrl-x"}"#,
    )
    .unwrap();
    let env = [("DOCKER_CONFIG", config.path().to_str().unwrap())];
    for cli in [["docker", "-H", &host], [BERTH, "-H", &host]] {
        let mut args = cli.to_vec();
        args.extend(["attach", "sh1"]);
        let (code, shown) = on_pty_with(&env, "18", &args);
        assert!(shown.contains("read escape sequence"), "{cli:?}: {shown}");
        assert_eq!(code, 1, "{shown}");
    }
    assert_eq!(d.inspect("sh1", "{{.State.Running}}"), "true");
}
