//! The registry peer of the pull and push tests: Debian's `docker-registry` (CNCF
//! distribution 2.8) on loopback inside the test daemon's network namespace, its storage in a
//! directory of its own; with htpasswd auth when asked. It goes when the value drops.

// Each test binary uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::{TestDaemon, wait_for};

pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    dir: tempfile::TempDir,
}

impl Registry {
    /// A registry on `127.0.0.1:port` in `d`'s network namespace; with `users`
    /// (`(name, password)`), behind htpasswd basic auth.
    pub fn start(d: &TestDaemon, port: u16, users: &[(&str, &str)]) -> Registry {
        Self::start_on(d, "127.0.0.1", port, users, None)
    }

    /// A registry on `ip:port` serving TLS with `tls` (`certificate`, `key`, and the CA
    /// client certificates must be signed by).
    pub fn start_tls(d: &TestDaemon, ip: &str, port: u16, tls: (&str, &str, &str)) -> Registry {
        Self::start_on(d, ip, port, &[], Some(tls))
    }

    fn start_on(
        d: &TestDaemon,
        ip: &str,
        port: u16,
        users: &[(&str, &str)],
        tls: Option<(&str, &str, &str)>,
    ) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let mut auth = String::new();
        if !users.is_empty() {
            let file = dir.path().join("htpasswd");
            for (i, (user, password)) in users.iter().enumerate() {
                let create = if i == 0 { "-cbB" } else { "-bB" };
                let out = Command::new("htpasswd")
                    .args([create, file.to_str().unwrap(), user, password])
                    .output()
                    .expect("htpasswd (apache2-utils)");
                assert!(out.status.success(), "{out:?}");
            }
            auth = format!(
                "auth:\n  htpasswd:\n    realm: basic-realm\n    path: {}\n",
                file.display()
            );
        }
        let tls = match tls {
            Some((cert, key, ca)) => format!(
                "  tls:\n    certificate: {cert}\n    key: {key}\n    clientcas:\n      - {ca}\n"
            ),
            None => String::new(),
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {ip}:{port}\n{tls}{auth}",
            dir.path().join("data").display()
        );
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let ns = d.netns.as_ref().expect("a daemon in a network namespace");
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("nsenter")
            .arg(format!("--net={}", ns.display()))
            .args(["docker-registry", "serve"])
            .arg(dir.path().join("config.yml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("docker-registry");
        let addr = format!("{ip}:{port}");
        let probe = format!("exec 3<>/dev/tcp/{ip}/{port}");
        wait_for("the registry to listen", || {
            d.in_netns(&["bash", "-c", &probe]).code == 0
        });
        Registry { child, addr, dir }
    }

    /// The registry's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Copies an image the daemon has into the registry as `name` (`repo:tag`), with skopeo
    /// (which compresses the layers, as a registry's images are).
    pub fn seed(&self, d: &TestDaemon, image: &str, name: &str, creds: Option<&str>) {
        self.seed_with(d, image, name, &["--dest-tls-verify=false"], creds)
    }

    /// [`seed`](Self::seed) with skopeo's destination options `opts`.
    pub fn seed_with(
        &self,
        d: &TestDaemon,
        image: &str,
        name: &str,
        opts: &[&str],
        creds: Option<&str>,
    ) {
        let archive = d
            .dir()
            .join(format!("seed-{}.tar", name.replace(['/', ':'], "_")));
        d.docker(&["save", "-o", archive.to_str().unwrap(), image])
            .ok();
        let src = format!("docker-archive:{}", archive.display());
        let dst = format!("docker://{}/{name}", self.addr);
        let mut args = vec!["skopeo", "copy", "--quiet"];
        args.extend_from_slice(opts);
        if let Some(c) = creds {
            args.extend(["--dest-creds", c]);
        }
        args.extend([src.as_str(), dst.as_str()]);
        d.in_netns(&args).ok();
        let _ = std::fs::remove_file(archive);
    }

    /// skopeo's view of `name` (`inspect --raw`: the manifest as the registry has it).
    pub fn raw_manifest(&self, d: &TestDaemon, name: &str, creds: Option<&str>) -> String {
        let url = format!("docker://{}/{name}", self.addr);
        let mut args = vec!["skopeo", "inspect", "--raw", "--tls-verify=false"];
        if let Some(c) = creds {
            args.extend(["--creds", c]);
        }
        args.push(&url);
        d.in_netns(&args).ok()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("registry log:\n{}", self.log());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A docker CLI config directory of its own (`docker --config DIR`).
pub fn config_dir(d: &TestDaemon) -> PathBuf {
    let p = d.dir().join("docker-config");
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// The stock docker CLI with its own config directory.
pub fn docker_with(d: &TestDaemon, config: &Path, args: &[&str]) -> crate::common::Out {
    let mut all = vec!["--config", config.to_str().unwrap()];
    all.extend_from_slice(args);
    d.docker(&all)
}

/// A proxy in front of `upstream` that breaks blob downloads (`drop-once` or `corrupt`), in
/// `d`'s network namespace; it logs every request line.
pub struct FaultyProxy {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    log: PathBuf,
}

impl FaultyProxy {
    pub fn start(d: &TestDaemon, port: u16, upstream: &Registry, mode: &str) -> FaultyProxy {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/distribution/faulty_proxy.py");
        let log = d.dir().join(format!("proxy-{port}.log"));
        let up_port = upstream.addr.rsplit(':').next().unwrap();
        let ns = d.netns.as_ref().expect("a daemon in a network namespace");
        let child = Command::new("nsenter")
            .arg(format!("--net={}", ns.display()))
            .arg("python3")
            .arg(&script)
            .args([&port.to_string(), up_port, mode])
            .arg(&log)
            .stdin(Stdio::null())
            .spawn()
            .expect("python3");
        let probe = format!("exec 3<>/dev/tcp/127.0.0.1/{port}");
        wait_for("the proxy to listen", || {
            d.in_netns(&["bash", "-c", &probe]).code == 0
        });
        FaultyProxy {
            child,
            addr: format!("127.0.0.1:{port}"),
            log,
        }
    }

    /// The requests it saw.
    pub fn requests(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The hex sha256 of `b` (a manifest's digest).
pub fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(b))
}
