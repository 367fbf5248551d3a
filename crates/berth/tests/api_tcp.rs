//! The API over TCP: TLS with client certificates (`--tlsverify`) for the stock docker CLI and
//! berth, attached streams over it, the clients it turns away, and plain TCP only when asked
//! for by name (`--tls=false`). Every daemon listens inside a network namespace of the test's
//! own and its clients run there; the certificates are made with the openssl CLI.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{BERTH, Out, Pki, TestDaemon};

const TLS_HOST: &str = "tcp://127.0.0.1:2376";
const PLAIN_HOST: &str = "tcp://127.0.0.1:2375";

/// A daemon that also listens on a TCP host, with busybox imported, and the certificates.
struct Setup {
    pki: Pki,
    d: TestDaemon,
}

impl Setup {
    /// A daemon with TLS on TLS_HOST (`verify`: `--tlsverify` or `--tlsverify=false`) and
    /// the server's key pair.
    fn tls(verify: &str) -> Setup {
        let pki = Pki::new();
        let (ca, cert, key) = (
            pki.p("ca/cert.pem"),
            pki.p("server/cert.pem"),
            pki.p("server/key.pem"),
        );
        let args = [
            "-H",
            TLS_HOST,
            verify,
            "--tlscacert",
            &ca,
            "--tlscert",
            &cert,
            "--tlskey",
            &key,
        ];
        Self::with(pki, &[], &args)
    }

    fn with(pki: Pki, env: &[(&str, &str)], args: &[&str]) -> Setup {
        let d = TestDaemon::start_in_netns_with(env, args);
        d.import_busybox("busybox");
        Setup { pki, d }
    }

    /// `cmd` in the daemon's network namespace with `input` on stdin, with `env` and none of
    /// Docker's variables else, and no certificates where clients look by default.
    fn run(&self, env: &[(&str, &str)], cmd: &[&str], input: &[u8]) -> Out {
        let ns = self.d.netns.as_ref().unwrap();
        let mut c = Command::new("nsenter")
            .arg(format!("--net={}", ns.display()))
            .args(["timeout", "60"])
            .args(cmd)
            .env_remove("BERTH_HOST")
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_TLS")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH")
            .env("DOCKER_CONFIG", self.pki.p("none"))
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(input).unwrap();
        c.wait_with_output().unwrap().into()
    }

    /// The stock docker CLI on TLS_HOST, verifying the daemon, with the key pair in `certs`
    /// (`None`: no client certificate).
    fn docker(&self, certs: Option<&str>, args: &[&str], input: &[u8]) -> Out {
        let ca = self.pki.p("ca/cert.pem");
        let mut cmd = vec![
            "docker".to_string(),
            "--tlsverify".into(),
            "--tlscacert".into(),
            ca,
        ];
        if let Some(dir) = certs {
            cmd.extend(["--tlscert".into(), self.pki.p(&format!("{dir}/cert.pem"))]);
            cmd.extend(["--tlskey".into(), self.pki.p(&format!("{dir}/key.pem"))]);
        }
        cmd.extend(
            ["-H", TLS_HOST]
                .into_iter()
                .chain(args.iter().copied())
                .map(String::from),
        );
        self.run(
            &[],
            &cmd.iter().map(String::as_str).collect::<Vec<_>>(),
            input,
        )
    }

    /// berth on TLS_HOST through Docker's environment: DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.
    fn berth(&self, certs: &str, args: &[&str], input: &[u8]) -> Out {
        let dir = self.pki.p(certs);
        let env = [
            ("DOCKER_HOST", TLS_HOST),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", &dir),
        ];
        self.run(&env, &[&[BERTH], args].concat(), input)
    }
}

/// Asserts `out` failed and its stderr says `text`.
fn refused(out: Out, text: &str) {
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stderr.contains(text),
        "stderr should say {text:?}: {}",
        out.stderr
    );
}

#[test]
fn the_stock_cli_runs_containers_over_tls() {
    let s = Setup::tls("--tlsverify");
    let ok = |args: &[&str]| s.docker(Some("client"), args, b"").ok();
    assert_eq!(ok(&["version", "--format", "{{.Server.Os}}"]), "linux\n");
    assert_eq!(ok(&["run", "--rm", "busybox", "echo", "hi"]), "hi\n");
    // Both directions of a hijacked stream.
    let cat = s.docker(
        Some("client"),
        &["run", "--rm", "-i", "busybox", "cat"],
        b"over tls\n",
    );
    assert_eq!(cat.ok(), "over tls\n");
    ok(&["run", "-d", "--name", "web", "busybox", "sleep", "100"]);
    assert_eq!(ok(&["exec", "web", "echo", "in"]), "in\n");
    // The unix socket serves beside it.
    assert_eq!(s.d.inspect("web", "{{.State.Running}}"), "true");
}

#[test]
fn berth_reads_dockers_tls_environment() {
    // The daemon's files by default from DOCKER_CERT_PATH, as dockerd's.
    let pki = Pki::new();
    let server = pki.p("server");
    let s = Setup::with(
        pki,
        &[("DOCKER_CERT_PATH", &server)],
        &["-H", TLS_HOST, "--tlsverify"],
    );
    let version = s.berth("client", &["version"], b"").ok();
    assert!(
        version.contains("Server:") && version.contains("1.43"),
        "{version}"
    );
    let hi = s.berth("client", &["run", "--rm", "busybox", "echo", "hi"], b"");
    assert_eq!(hi.ok(), "hi\n");
    let cat = s.berth(
        "client",
        &["run", "--rm", "-i", "busybox", "cat"],
        b"both ways\n",
    );
    assert_eq!(cat.ok(), "both ways\n");
    // The flags say the same.
    let (ca, cert, key) = (
        s.pki.p("client/ca.pem"),
        s.pki.p("client/cert.pem"),
        s.pki.p("client/key.pem"),
    );
    let flags = [
        BERTH,
        "-H",
        TLS_HOST,
        "--tlsverify",
        "--tlscacert",
        &ca,
        "--tlscert",
        &cert,
        "--tlskey",
        &key,
    ];
    assert_eq!(
        s.run(&[], &[&flags[..], &["ps", "-q"]].concat(), b"").ok(),
        ""
    );
}

#[test]
fn clients_without_a_certificate_of_the_ca_are_refused() {
    let s = Setup::tls("--tlsverify");
    let create = ["create", "--name", "refused", "busybox"];
    refused(s.docker(None, &create, b""), "tls: certificate required");
    // Go offers no certificate the daemon's CA did not sign (it names the CAs it takes).
    refused(
        s.docker(Some("other"), &create, b""),
        "tls: certificate required",
    );
    refused(
        s.berth("none", &create, b""),
        "could not read CA certificate",
    );
    let hint = "the server probably has client authentication (--tlsverify) enabled";
    std::fs::copy(s.pki.p("ca/cert.pem"), s.pki.p("none/ca.pem")).unwrap();
    refused(s.berth("none", &create, b""), hint);
    // The other CA's key pair: berth does not trust the daemon, nor the daemon berth.
    refused(
        s.berth("other", &create, b""),
        "invalid peer certificate: UnknownIssuer",
    );
    std::fs::copy(s.pki.p("ca/cert.pem"), s.pki.p("other/ca.pem")).unwrap();
    refused(s.berth("other", &create, b""), hint);
    // Plain HTTP gets Go's answer, which names the mistake.
    let plain = s.run(&[], &[BERTH, "-H", TLS_HOST, "ps"], b"");
    refused(
        plain,
        "Error response from daemon: Client sent an HTTP request to an HTTPS server.",
    );
    assert_eq!(s.d.docker(&["ps", "-aq"]).ok(), "", "nothing was made");
    assert!(s.d.log().contains("TLS handshake failed"), "{}", s.d.log());
}

#[test]
fn tlsverify_false_is_tls_without_client_certificates() {
    let s = Setup::tls("--tlsverify=false");
    // berth's `--tls` alone: encrypted, neither side checks the other.
    let ca = s.pki.p("ca/cert.pem");
    let tls = [BERTH, "-H", TLS_HOST, "--tls", "--tlscacert", &ca];
    let hi = s.run(
        &[],
        &[&tls[..], &["run", "--rm", "busybox", "echo", "hi"]].concat(),
        b"",
    );
    assert_eq!(hi.ok(), "hi\n");
    // The docker CLI verifying the daemon, without a certificate of its own.
    let os = s.docker(None, &["version", "--format", "{{.Server.Os}}"], b"");
    assert_eq!(os.ok(), "linux\n");
    let warnings = s.d.docker(&["info", "--format", "{{json .Warnings}}"]).ok();
    let unverified = "API is accessible on https://127.0.0.1:2376 without TLS client verification.";
    assert!(warnings.contains(unverified), "{warnings}");
    let log = s.d.log();
    assert!(
        log.contains("Binding to IP address without --tlsverify is insecure"),
        "{log}"
    );
}

#[test]
fn plain_tcp_needs_tls_false_said_out_loud() {
    let dir = tempfile::tempdir().unwrap();
    // In a network namespace of its own, should it listen after all.
    let daemon = |args: &[&str]| -> Out {
        let (root, run) = (dir.path().join("root"), dir.path().join("run"));
        let mut c = Command::new("unshare");
        c.args(["-n", BERTH, "daemon"]).args(args);
        c.arg("--data-root").arg(root).arg("--exec-root").arg(run);
        c.output().unwrap().into()
    };
    let out = daemon(&["-H", PLAIN_HOST]);
    let err = &out.stderr;
    assert_eq!(out.code, 1, "{err}");
    let why =
        "-H tcp://127.0.0.1:2375: binding to an IP address without --tlsverify gives root access";
    assert!(err.contains(why), "{err}");
    let how = "override this by explicitly specifying '--tls=false' or '--tlsverify=false'";
    assert!(err.contains(how), "{err}");
    // Certificates that cannot be read stop the start too.
    let out = daemon(&[
        "--tlsverify",
        "--tlscacert",
        "/nonexistent/ca.pem",
        "-H",
        TLS_HOST,
    ]);
    let unreadable =
        "invalid TLS configuration: could not read CA certificate \"/nonexistent/ca.pem\"";
    out.fails_with(1, unreadable);
    assert!(!dir.path().join("root").exists(), "nothing made");

    let s = Setup::with(Pki::new(), &[], &["-H", PLAIN_HOST, "--tls=false"]);
    let docker = |args: &[&str]| s.run(&[], &[&["docker", "-H", PLAIN_HOST], args].concat(), b"");
    assert_eq!(
        docker(&["run", "--rm", "busybox", "echo", "plain"]).ok(),
        "plain\n"
    );
    let berth = s.run(
        &[],
        &[
            BERTH, "-H", PLAIN_HOST, "run", "--rm", "busybox", "echo", "hi",
        ],
        b"",
    );
    assert_eq!(berth.ok(), "hi\n");
    // A TLS client is told what it met.
    let ca = s.pki.p("ca/cert.pem");
    let tls = s.run(
        &[],
        &[
            BERTH,
            "-H",
            PLAIN_HOST,
            "--tlsverify",
            "--tlscacert",
            &ca,
            "ps",
        ],
        b"",
    );
    refused(
        tls,
        "the daemon did not answer in TLS (does it serve plain HTTP?)",
    );
    let warnings = docker(&["info", "--format", "{{json .Warnings}}"]).ok();
    let unencrypted = "API is accessible on http://127.0.0.1:2375 without encryption.";
    assert!(warnings.contains(unencrypted), "{warnings}");
    let log = s.d.log();
    let warned = "Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network.";
    assert!(log.contains(warned), "{log}");
}
