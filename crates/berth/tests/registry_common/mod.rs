//! Helpers of the registry tests: a `berth registry serve` process on a free loopback
//! port and a root of its own, raw HTTP through curl (status, headers and body as the
//! wire has them), and images made by hand (blobs, OCI layouts) with their digests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

pub const BERTH: &str = env!("CARGO_BIN_EXE_berth");

/// A running registry; killed (and waited for) on drop.
pub struct Registry {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub addr: String,
    pub scheme: &'static str,
    args: Vec<String>,
}

impl Registry {
    /// Serves a fresh root with `args` added to `serve`.
    pub fn start(args: &[&str]) -> Registry {
        Registry::start_in(tempfile::tempdir().unwrap(), args)
    }

    /// Serves the root in `dir` (`dir/root`).
    pub fn start_in(dir: tempfile::TempDir, args: &[&str]) -> Registry {
        let scheme = if args.contains(&"--tls-cert") {
            "https"
        } else {
            "http"
        };
        let mut r = Registry {
            child: None,
            dir,
            addr: String::new(),
            scheme,
            args: args.iter().map(|s| s.to_string()).collect(),
        };
        r.spawn();
        r
    }

    fn spawn(&mut self) {
        let log = self.log_path();
        let _ = std::fs::remove_file(&log);
        let child = Command::new(BERTH)
            .args(["registry", "serve", "--addr", "127.0.0.1:0", "--root"])
            .arg(self.root())
            .args(&self.args)
            .args(["--log-level", "info,berth_distribution=debug"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let start = Instant::now();
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(l) = text
                .lines()
                .find_map(|l| l.strip_prefix("berth registry: listening on "))
            {
                self.addr = l.trim().to_string();
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("registry exited with {status}: {text}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "registry did not start: {text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("registry.log")
    }

    /// What it logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// `http://ADDR/PATH`.
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.addr)
    }

    /// `ADDR/REPO` for skopeo's `docker://`.
    pub fn image(&self, repo_tag: &str) -> String {
        format!("docker://{}/{repo_tag}", self.addr)
    }

    /// Stops it (SIGTERM: it writes its pull times) and waits.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: kill(2) on our own child's pid; no memory is involved.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let start = Instant::now();
            while child.try_wait().unwrap().is_none() {
                if start.elapsed() > Duration::from_secs(10) {
                    let _ = child.kill();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.wait();
        }
    }

    /// Stops and starts it again on the same root (a new port).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Kills it (SIGKILL, no chance to tidy up) and starts it again on the same root.
    pub fn kill9_and_restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.spawn();
    }

    /// `berth registry gc --root ROOT ARGS` (stopped registry only); its stdout.
    pub fn gc(&self, args: &[&str]) -> String {
        let out = Command::new(BERTH)
            .args(["registry", "gc", "--root"])
            .arg(self.root())
            .args(args)
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(
            out.status.success(),
            "registry gc {args:?}: {stdout}{stderr}"
        );
        stdout.into_owned()
    }

    /// The committed blobs on disk.
    pub fn blob_files(&self) -> usize {
        ["sha256", "sha512"]
            .iter()
            .map(|a| {
                std::fs::read_dir(self.root().join("blobs").join(a))
                    .map(|d| d.count())
                    .unwrap_or(0)
            })
            .sum()
    }

    /// A request (see [`http`]).
    pub fn req(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        http(method, &self.url(path), headers, body)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// A header (names compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first error code of an error body.
    pub fn code(&self) -> String {
        self.json()["errors"][0]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Asserts the status.
    #[track_caller]
    pub fn expect(self, status: u16) -> Resp {
        assert_eq!(self.status, status, "{:?} {}", self.headers, self.text());
        self
    }
}

/// One HTTP request through curl (`--insecure` for TLS, no `Expect: 100-continue`).
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Resp {
    try_http(method, url, headers, body).unwrap_or_else(|e| panic!("curl {method} {url}: {e}"))
}

/// [`http`], or curl's error when no answer came.
pub fn try_http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<Resp, String> {
    let dir = tempfile::tempdir().unwrap();
    let (h, b) = (dir.path().join("h"), dir.path().join("b"));
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-S", "-k", "-H", "Expect:", "-D"])
        .arg(&h)
        .arg("-o")
        .arg(&b);
    if method == "HEAD" {
        cmd.arg("--head");
    } else {
        cmd.args(["-X", method]);
    }
    for (k, v) in headers {
        cmd.arg("-H").arg(format!("{k}: {v}"));
    }
    if let Some(body) = body {
        let f = dir.path().join("in");
        std::fs::write(&f, body).unwrap();
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            cmd.args(["-H", "Content-Type: application/octet-stream"]);
        }
        cmd.arg("--data-binary").arg(format!("@{}", f.display()));
    }
    let out = cmd.arg(url).output().unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let head = std::fs::read_to_string(&h).unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Resp {
        status,
        headers,
        body: std::fs::read(&b).unwrap_or_default(),
    })
}

/// `sha256:<hex>` of `data`.
pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(data)))
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Pseudo-random bytes (a layer nobody else has), from `seed`.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// An image made by hand: config, layers and the manifest naming them.
pub struct Image {
    pub config: Vec<u8>,
    pub layers: Vec<Vec<u8>>,
    pub manifest: Vec<u8>,
}

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

impl Image {
    /// An image whose layers are these tars (or any bytes: the registry does not look).
    pub fn new(layers: Vec<Vec<u8>>) -> Image {
        let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "rootfs": { "type": "layers", "diff_ids": diff_ids },
            "config": {}
        }))
        .unwrap();
        let descs: Vec<_> = layers
            .iter()
            .map(|l| {
                serde_json::json!({
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": sha256(l), "size": l.len()
                })
            })
            .collect();
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": { "mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": sha256(&config), "size": config.len() },
            "layers": descs
        }))
        .unwrap();
        Image {
            config,
            layers,
            manifest,
        }
    }

    /// An image of `n` layers of one tar each, unique to `seed`.
    pub fn random(seed: u64, n: usize, size: usize) -> Image {
        Image::new(
            (0..n)
                .map(|i| tar_of("f", &noise(seed * 1000 + i as u64, size)))
                .collect(),
        )
    }

    pub fn digest(&self) -> String {
        sha256(&self.manifest)
    }

    pub fn blobs(&self) -> Vec<&[u8]> {
        std::iter::once(self.config.as_slice())
            .chain(self.layers.iter().map(|l| l.as_slice()))
            .collect()
    }

    /// Writes it as an OCI layout in `dir`, tagged `tag`.
    pub fn write_layout(&self, dir: &Path, tag: &str) {
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).unwrap();
        for b in self.blobs().into_iter().chain([self.manifest.as_slice()]) {
            std::fs::write(blobs.join(&sha256(b)[7..]), b).unwrap();
        }
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        let index = serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{ "mediaType": OCI_MANIFEST, "digest": self.digest(), "size": self.manifest.len(),
                            "annotations": { "org.opencontainers.image.ref.name": tag } }]
        });
        std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    }
}

/// A tar of one file.
pub fn tar_of(name: &str, content: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_size(content.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, name, content).unwrap();
    b.into_inner().unwrap()
}

/// Pushes a blob: `POST` then `PUT ?digest=` with the whole body. The final response.
pub fn push_blob(r: &Registry, repo: &str, blob: &[u8], auth: &[(&str, &str)]) -> Resp {
    let start = r
        .req("POST", &format!("/v2/{repo}/blobs/uploads/"), auth, None)
        .expect(202);
    let location = start.header("location").unwrap().to_string();
    let url = format!("{location}?digest={}", sha256(blob));
    r.req("PUT", &url, auth, Some(blob))
}

/// Pushes an image by raw HTTP; the manifest `PUT`'s response.
pub fn push_image(r: &Registry, repo: &str, tag: &str, image: &Image) -> Resp {
    for b in image.blobs() {
        if r.req(
            "HEAD",
            &format!("/v2/{repo}/blobs/{}", sha256(b)),
            &[],
            None,
        )
        .status
            != 200
        {
            push_blob(r, repo, b, &[]).expect(201);
        }
    }
    put_manifest(r, repo, tag, &image.manifest, OCI_MANIFEST)
}

pub fn put_manifest(
    r: &Registry,
    repo: &str,
    reference: &str,
    body: &[u8],
    media_type: &str,
) -> Resp {
    r.req(
        "PUT",
        &format!("/v2/{repo}/manifests/{reference}"),
        &[("Content-Type", media_type)],
        Some(body),
    )
}

/// Pulls a manifest and every blob it names, checking each digest; what is missing or wrong.
pub fn pull_problems(r: &Registry, repo: &str, reference: &str) -> Vec<String> {
    let m = r.req(
        "GET",
        &format!("/v2/{repo}/manifests/{reference}"),
        &[],
        None,
    );
    if m.status != 200 {
        return vec![format!("manifest {reference}: {}", m.status)];
    }
    let doc = m.json();
    let mut digests = vec![doc["config"]["digest"].as_str().unwrap().to_string()];
    digests.extend(
        doc["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["digest"].as_str().unwrap().to_string()),
    );
    let mut problems = Vec::new();
    for d in digests {
        let b = r.req("GET", &format!("/v2/{repo}/blobs/{d}"), &[], None);
        if b.status != 200 || sha256(&b.body) != d {
            problems.push(format!("blob {d} of {repo}:{reference}: {}", b.status));
        }
    }
    problems
}
