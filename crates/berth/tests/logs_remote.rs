//! The remote log drivers against real peers in the daemon's network namespace: `syslog`
//! to Debian's rsyslogd (TCP, UDP and a unix socket), `fluentd` to a forward-protocol
//! receiver decoding with the msgpack library; the dual-logging cache that `logs` and
//! `attach` read; blocking and non-blocking mode against a receiver that stops reading.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::*;

/// rsyslogd with TCP and UDP inputs on 127.0.0.1:5514 and a unix datagram socket (and, given
/// certificates, TLS on 6514 that asks for a client certificate of the CA), writing
/// `PRI TAG MSG` lines.
struct Rsyslog {
    dir: tempfile::TempDir,
    child: Child,
}

impl Rsyslog {
    fn start(d: &TestDaemon) -> Rsyslog {
        Self::start_with(d, None)
    }

    fn start_with(d: &TestDaemon, pki: Option<&Pki>) -> Rsyslog {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().display();
        let tls = pki.map_or(String::new(), |k| {
            let (ca, cert, key) = (k.p("ca/cert.pem"), k.p("server/cert.pem"), k.p("server/key.pem"));
            format!(
                r#"global(DefaultNetstreamDriverCAFile="{ca}" DefaultNetstreamDriverCertFile="{cert}" DefaultNetstreamDriverKeyFile="{key}")
input(type="imtcp" port="6514" address="127.0.0.1" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
"#
            )
        });
        let conf = format!(
            r#"global(workDirectory="{p}")
module(load="imtcp")
module(load="imudp")
module(load="imuxsock" SysSock.Use="off")
input(type="imtcp" port="5514" address="127.0.0.1")
input(type="imudp" port="5514" address="127.0.0.1")
input(type="imuxsock" Socket="{p}/log.sock")
template(name="raw" type="string" string="%pri% %syslogtag%%msg%\n")
*.* action(type="omfile" file="{p}/out.log" template="raw")
{tls}"#
        );
        std::fs::write(dir.path().join("rs.conf"), conf).unwrap();
        let child = Command::new("nsenter")
            .arg(format!("--net={}", d.netns.as_ref().unwrap().display()))
            .args(["rsyslogd", "-n", "-f"])
            .arg(dir.path().join("rs.conf"))
            .arg("-i")
            .arg(dir.path().join("pid"))
            // Its complaints about the handshakes the tests fail on purpose.
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rsyslogd (scripts/deps.sh installs rsyslog)");
        let r = Rsyslog { dir, child };
        wait_for("rsyslogd's inputs", || {
            r.socket().exists() && d.in_netns(&["python3", "-c", PROBE_5514]).code == 0
        });
        r
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("log.sock")
    }

    fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("out.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The lines that end with `text`, once there are `n` of them.
    fn wait_lines(&self, text: &str, n: usize) -> Vec<String> {
        let got = || -> Vec<String> {
            self.lines()
                .into_iter()
                .filter(|l| l.ends_with(text))
                .collect()
        };
        wait_for(&format!("{n} syslog lines ending {text:?}"), || {
            got().len() >= n
        });
        got()
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const PROBE_5514: &str =
    "import socket; socket.create_connection(('127.0.0.1', 5514), timeout=1).close()";

/// A Fluentd forward-protocol receiver: decodes events with msgpack, writes each as a JSON
/// line (or, `brief`, only its `log`), acks chunks; stops reading while the file `stall`
/// exists; with a certificate and key, over TLS.
const FLUENT_RECEIVER: &str = r#"
import json, os, socket, struct, sys, time
import msgpack
port, out, stall, brief = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == "brief"
tls = None
if len(sys.argv) > 6:
    import ssl
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(sys.argv[5], sys.argv[6])

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
srv.bind(("127.0.0.1", port))
srv.listen(16)
open(out + ".ready", "w").close()
while True:
    conn, _ = srv.accept()
    if tls:
        try:
            conn = tls.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            conn.close()
            continue
    unpacker = msgpack.Unpacker(raw=False)
    with open(out, "a") as f:
        while True:
            while os.path.exists(stall):
                time.sleep(0.02)
            data = conn.recv(65536)
            if not data:
                break
            unpacker.feed(data)
            for ev in unpacker:
                tag, t, record = ev[0], ev[1], ev[2]
                option = ev[3] if len(ev) > 3 else None
                kind = "int"
                if isinstance(t, msgpack.ExtType):
                    secs, nsecs = struct.unpack(">II", t.data)
                    t, kind = secs + nsecs / 1e9, "eventtime"
                if brief:
                    f.write(record["log"] + "\n")
                else:
                    f.write(json.dumps({"tag": tag, "time": t, "kind": kind, "record": record}) + "\n")
                f.flush()
                if option and "chunk" in option:
                    conn.sendall(msgpack.packb({"ack": option["chunk"]}))
    conn.close()
"#;

struct Fluent {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
}

impl Fluent {
    fn start(d: &TestDaemon, port: u16, brief: bool) -> Fluent {
        Self::start_with(d, port, brief, &[])
    }

    fn start_with(d: &TestDaemon, port: u16, brief: bool, tls: &[String]) -> Fluent {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("events");
        let child = Command::new("nsenter")
            .arg(format!("--net={}", d.netns.as_ref().unwrap().display()))
            .args(["python3", "-c", FLUENT_RECEIVER, &port.to_string()])
            .arg(&out)
            .arg(dir.path().join("stall"))
            .arg(if brief { "brief" } else { "full" })
            .args(tls)
            .spawn()
            .unwrap();
        let ready = dir.path().join("events.ready");
        wait_for("the fluentd receiver", || ready.exists());
        Fluent { dir, child, port }
    }

    fn address(&self) -> String {
        format!("fluentd-address=127.0.0.1:{}", self.port)
    }

    fn stall(&self, on: bool) {
        let f = self.dir.path().join("stall");
        if on {
            std::fs::write(f, "").unwrap();
        } else {
            std::fs::remove_file(f).unwrap();
        }
    }

    fn text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("events")).unwrap_or_default()
    }

    fn count(&self) -> usize {
        self.text().matches('\n').count()
    }

    fn events(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn wait_events(&self, n: usize) -> Vec<serde_json::Value> {
        wait_for(&format!("{n} fluentd events"), || self.count() >= n);
        self.events()
    }
}

impl Drop for Fluent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn daemon() -> TestDaemon {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    d
}

#[test]
fn syslog_lines_reach_rsyslog_over_tcp_udp_and_a_unix_socket() {
    let d = daemon();
    let rs = Rsyslog::start(&d);
    let unix = format!("unixgram://{}", rs.socket().display());
    let cases = [
        ("tcp://127.0.0.1:5514", "rfc3164", "user", "14", "11"),
        ("udp://127.0.0.1:5514", "rfc5424", "local3", "158", "155"),
        // A local socket: the default format, without a hostname, as rsyslog reads it there.
        (unix.as_str(), "", "", "30", "27"),
    ];
    for (i, (addr, format, facility, info, err)) in cases.iter().enumerate() {
        let name = format!("s{i}");
        let mut args = vec![
            "run".to_string(),
            "--name".into(),
            name.clone(),
            "--log-driver".into(),
            "syslog".into(),
            "--log-opt".into(),
            format!("syslog-address={addr}"),
            "--log-opt".into(),
            format!("tag=t{i}-{{{{.Name}}}}"),
        ];
        for (k, v) in [("syslog-format", format), ("syslog-facility", facility)] {
            if !v.is_empty() {
                args.extend(["--log-opt".into(), format!("{k}={v}")]);
            }
        }
        args.extend(
            [
                "busybox",
                "sh",
                "-c",
                &format!("echo out-{i}; echo err-{i} >&2"),
            ]
            .map(String::from),
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // Attached: the output reaches the client through the cache as well.
        let out = d.docker(&args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.stdout, format!("out-{i}\n"));
        let tag = format!("t{i}-{name}");
        let got = rs.wait_lines(&format!("out-{i}"), 1);
        assert!(
            got[0].starts_with(&format!("{info} {tag}")),
            "priority and tag of {got:?}"
        );
        let got = rs.wait_lines(&format!("err-{i}"), 1);
        assert!(got[0].starts_with(&format!("{err} {tag}")), "{got:?}");
        // `logs` reads the dual-logging cache.
        let logs = d.docker(&["logs", &name]);
        assert_eq!(logs.stdout, format!("out-{i}\n"));
        assert_eq!(logs.stderr, format!("err-{i}\n"));
    }
    let plugins = d
        .docker(&["info", "--format", "{{json .Plugins.Log}}"])
        .ok();
    assert_eq!(
        plugins.trim(),
        r#"["fluentd","journald","json-file","local","syslog"]"#
    );
}

#[test]
fn syslog_over_tls_checks_the_server_and_presents_the_client_certificate() {
    let d = daemon();
    let pki = Pki::new();
    let rs = Rsyslog::start_with(&d, Some(&pki));
    wait_for("rsyslogd's TLS input", || {
        let probe = PROBE_5514.replace("5514", "6514");
        d.in_netns(&["python3", "-c", &probe]).code == 0
    });
    let tls = |extra: &[&str], text: &str| {
        let mut args = vec![
            "run",
            "--rm",
            "--log-driver",
            "syslog",
            "--log-opt",
            "syslog-address=tcp+tls://127.0.0.1:6514",
            "--log-opt",
            "tag=tls",
        ];
        args.extend_from_slice(extra);
        args.extend(["busybox", "echo", text]);
        d.docker(&args)
    };
    let (ca, cert, key) = (
        format!("syslog-tls-ca-cert={}", pki.p("ca/cert.pem")),
        format!("syslog-tls-cert={}", pki.p("client/cert.pem")),
        format!("syslog-tls-key={}", pki.p("client/key.pem")),
    );
    let opts = |list: &[&String]| -> Vec<String> {
        list.iter()
            .flat_map(|o| ["--log-opt".to_string(), o.to_string()])
            .collect()
    };
    let with = opts(&[&ca, &cert, &key]);
    let with: Vec<&str> = with.iter().map(String::as_str).collect();
    assert_eq!(tls(&with, "verified").ok(), "verified\n");
    let got = rs.wait_lines("verified", 1);
    assert!(got[0].starts_with("30 tls"), "{got:?}");
    // rfc5424 over TLS is framed by its length (RFC 5425); rsyslog reads it whole.
    let mut framed = with.clone();
    framed.extend(["--log-opt", "syslog-format=rfc5424"]);
    tls(&framed, "framed").ok();
    rs.wait_lines("framed", 1);
    // Another CA's server: the start fails; skipping verification takes it.
    let other = format!("syslog-tls-ca-cert={}", pki.p("other-ca/cert.pem"));
    let wrong = opts(&[&other, &cert, &key]);
    let wrong: Vec<&str> = wrong.iter().map(String::as_str).collect();
    tls(&wrong, "refused").fails_with(125, "failed to initialize logging driver: tls:");
    let mut skip = wrong.clone();
    skip.extend(["--log-opt", "syslog-tls-skip-verify=true"]);
    tls(&skip, "skipped").ok();
    rs.wait_lines("skipped", 1);
    // The server asks for a client certificate: without one, nothing is taken.
    let anonymous = opts(&[&ca]);
    let anonymous: Vec<&str> = anonymous.iter().map(String::as_str).collect();
    let out = tls(&anonymous, "anonymous");
    tls(&with, "after").ok();
    rs.wait_lines("after", 1);
    assert!(
        rs.lines().iter().all(|l| !l.ends_with("anonymous")),
        "{}",
        out.stderr
    );
}

#[test]
fn fluentd_over_tls_checks_the_server_against_the_hosts_roots() {
    let pki = Pki::new();
    let server = "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
    pki.key_pair("other-server", Some("other-ca"), server);
    // The host's roots are the test CA's, as Go reads SSL_CERT_FILE.
    let d = TestDaemon::start_in_netns_with(&[("SSL_CERT_FILE", &pki.p("ca/cert.pem"))], &[]);
    d.import_busybox("busybox");
    let good = Fluent::start_with(
        &d,
        24284,
        true,
        &[pki.p("server/cert.pem"), pki.p("server/key.pem")],
    );
    let other = Fluent::start_with(
        &d,
        24285,
        true,
        &[
            pki.p("other-server/cert.pem"),
            pki.p("other-server/key.pem"),
        ],
    );
    let run = |port: u16| {
        d.docker(&[
            "run",
            "--rm",
            "--log-driver",
            "fluentd",
            "--log-opt",
            &format!("fluentd-address=tls://127.0.0.1:{port}"),
            "busybox",
            "echo",
            "secure",
        ])
    };
    assert_eq!(run(good.port).ok(), "secure\n");
    wait_for("the event", || good.count() >= 1);
    assert_eq!(good.text(), "secure\n");
    run(other.port).fails_with(125, "failed to initialize logging driver: tls:");
}

#[test]
fn an_unreachable_server_fails_the_start_and_without_cache_logs_cannot_be_read() {
    let d = daemon();
    d.docker(&[
        "run",
        "--log-driver",
        "syslog",
        "--log-opt",
        "syslog-address=tcp://127.0.0.1:1",
        "busybox",
        "true",
    ])
    .fails_with(
        125,
        "failed to initialize logging driver: dial tcp 127.0.0.1:1",
    );
    d.docker(&["run", "--log-driver", "fluentd", "busybox", "true"])
        .fails_with(
            125,
            "failed to initialize logging driver: dial tcp 127.0.0.1:24224",
        );
    // Asynchronous: the container runs, and the events are lost after the retries.
    let out = d.docker(&[
        "run",
        "--rm",
        "--log-driver",
        "fluentd",
        "--log-opt",
        "fluentd-async=true",
        "--log-opt",
        "fluentd-max-retries=0",
        "busybox",
        "echo",
        "lost",
    ]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "lost\n"),
        "{}",
        out.stderr
    );
    let rs = Rsyslog::start(&d);
    let id = d
        .docker(&[
            "run",
            "-d",
            "--log-driver",
            "syslog",
            "--log-opt",
            "syslog-address=tcp://127.0.0.1:5514",
            "--log-opt",
            "cache-disabled=true",
            "busybox",
            "echo",
            "uncached",
        ])
        .ok();
    rs.wait_lines("uncached", 1);
    d.docker(&["logs", id.trim()])
        .fails_with(1, "configured logging driver does not support reading");
    d.docker(&[
        "create",
        "--log-driver",
        "syslog",
        "--log-opt",
        "cache-disabled=maybe",
        "busybox",
    ])
    .fails_with(1, "invalid value for option cache-disabled: maybe");
}

#[test]
fn fluentd_events_carry_dockers_record_and_are_acknowledged() {
    let d = daemon();
    let f = Fluent::start(&d, 24224, false);
    let id = d
        .docker(&[
            "run",
            "-d",
            "--name",
            "fl",
            "--label",
            "team=db",
            "--log-driver",
            "fluentd",
            "--log-opt",
            &f.address(),
            "--log-opt",
            "tag=app.{{.Name}}",
            "--log-opt",
            "labels=team",
            "--log-opt",
            "fluentd-request-ack=true",
            "--log-opt",
            "fluentd-sub-second-precision=true",
            "busybox",
            "sh",
            "-c",
            "echo hello; echo oops >&2; head -c 20000 /dev/zero | tr '\\0' x; echo",
        ])
        .ok();
    let id = id.trim();
    let events = f.wait_events(4);
    for e in &events {
        assert_eq!(e["tag"], "app.fl");
        assert_eq!(e["kind"], "eventtime");
        assert_eq!(e["record"]["container_id"], id);
        assert_eq!(e["record"]["container_name"], "/fl");
        assert_eq!(e["record"]["team"], "db");
    }
    let rec = |i: usize| &events[i]["record"];
    let by_log = |text: &str| events.iter().find(|e| e["record"]["log"] == text).unwrap();
    assert_eq!(by_log("hello")["record"]["source"], "stdout");
    assert_eq!(by_log("oops")["record"]["source"], "stderr");
    // A 20000-byte line goes in two pieces that say how they join.
    let pieces: Vec<_> = (0..4)
        .filter(|&i| rec(i).get("partial_message").is_some())
        .collect();
    assert_eq!(pieces.len(), 2, "{events:?}");
    let (a, b) = (rec(pieces[0]), rec(pieces[1]));
    assert_eq!(a["log"].as_str().unwrap().len(), 16384);
    assert_eq!(b["log"].as_str().unwrap().len(), 20000 - 16384);
    assert_eq!(a["partial_id"], b["partial_id"]);
    assert_eq!(
        (&a["partial_ordinal"], &b["partial_ordinal"]),
        (&"1".into(), &"2".into())
    );
    assert_eq!(
        (&a["partial_last"], &b["partial_last"]),
        (&"false".into(), &"true".into())
    );
    let now = common::now() as f64;
    let t = events[0]["time"].as_f64().unwrap();
    assert!(
        (now - t).abs() < 60.0 && t.fract() != 0.0,
        "sub-second time {t}"
    );
    let logs = d.docker(&["logs", "fl"]);
    assert_eq!(logs.stdout, format!("hello\n{}\n", "x".repeat(20000)));
    assert_eq!(logs.stderr, "oops\n");
}

/// What the flooding containers write: 300000 lines of 41 bytes (more than the queue and the
/// socket buffers hold), then `end`.
const FLOOD: &str = "yes 0123456789012345678901234567890123456789 | head -n 300000; echo end";
const FLOOD_LINES: usize = 300_001;

fn cached_log(d: &TestDaemon, id: &str) -> PathBuf {
    d.root
        .join("containers")
        .join(id)
        .join("container-cached.log")
}

/// A detached flooding container logging to `f` with `opts` added; its full ID.
fn flood(d: &TestDaemon, f: &Fluent, opts: &[&str]) -> String {
    let address = f.address();
    let mut args = vec![
        "run",
        "-d",
        "--log-driver",
        "fluentd",
        "--log-opt",
        &address,
    ];
    for o in opts {
        args.extend(["--log-opt", o]);
    }
    args.extend(["busybox", "sh", "-c", FLOOD]);
    d.docker(&args).ok().trim().to_string()
}

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

#[test]
fn blocking_mode_holds_the_container_until_the_server_reads_again() {
    let d = daemon();
    let f = Fluent::start(&d, 24224, true);
    f.stall(true);
    let id = flood(&d, &f, &[]);
    // The output stops where the queue and the socket buffers are full: the cache stays put
    // and the container, held on its pipe, runs on.
    let cache = cached_log(&d, &id);
    let mut last = (0, 0);
    wait_for("the output to stop", || {
        let s = size(&cache);
        last = if s == last.0 { (s, last.1 + 1) } else { (s, 0) };
        std::thread::sleep(std::time::Duration::from_millis(30));
        s > 0 && last.1 >= 20
    });
    assert_eq!(d.inspect(&id, "{{.State.Running}}"), "true");
    f.stall(false);
    assert_eq!(d.docker(&["wait", &id]).ok().trim(), "0");
    wait_for("every line", || f.count() >= FLOOD_LINES);
    let text = f.text();
    assert_eq!(
        text.lines().count(),
        FLOOD_LINES,
        "every line arrives, once"
    );
    assert!(text.ends_with("0123456789\nend\n"));
}

#[test]
fn non_blocking_mode_drops_lines_instead_of_holding_the_container() {
    let d = daemon();
    let f = Fluent::start(&d, 24224, true);
    f.stall(true);
    let id = flood(&d, &f, &["mode=non-blocking", "max-buffer-size=64k"]);
    // It ends while nothing is read: its exit waits at most the driver's grace at close.
    assert_eq!(d.docker(&["wait", &id]).ok().trim(), "0");
    // The cache has every line; the server gets what fit.
    let logs = d.docker(&["logs", "--tail", "1", &id]).ok();
    assert_eq!(logs, "end\n");
    let all = d.docker(&["logs", &id]).ok();
    assert_eq!(all.lines().count(), FLOOD_LINES);
    f.stall(false);
    wait_for("the receiver to catch up", || {
        let n = f.count();
        std::thread::sleep(std::time::Duration::from_millis(200));
        n > 0 && n == f.count()
    });
    let n = f.count();
    assert!(n < FLOOD_LINES, "lines were dropped, not queued: {n}");
}
