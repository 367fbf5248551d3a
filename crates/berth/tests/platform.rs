//! Multi-platform images: an OCI index with several platforms loaded whole, the platform a
//! container or a build takes (`--platform`, Docker's errors and warnings), foreign
//! architectures under binfmt_misc emulation, and `import` from a URL or with `--platform`.
//!
//! The arm64 fixture is Debian's `busybox-static` for arm64, which scripts/deps.sh downloads
//! into /var/cache/berth-fixtures.

mod common;

use std::path::Path;
use std::process::Command;

use common::TestDaemon;
use sha2::{Digest, Sha256};

const ARM64_DEBS: &str = "/var/cache/berth-fixtures";
const LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";

fn sha(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

fn host_busybox() -> Vec<u8> {
    std::fs::read("/bin/busybox").expect("busybox-static installed")
}

/// Debian's static busybox for arm64, from the .deb scripts/deps.sh keeps.
fn arm64_busybox() -> Vec<u8> {
    let deb = std::fs::read_dir(ARM64_DEBS)
        .expect("scripts/deps.sh downloads busybox-static:arm64")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("_arm64.deb"))
        .expect("busybox-static arm64 .deb");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "dpkg-deb --fsys-tarfile '{}' | tar -xO ./bin/busybox",
            deb.display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success() && out.stdout.len() > 100_000);
    out.stdout
}

/// A rootfs layer tar: `busybox` and the applets the tests call.
fn rootfs(busybox: &[u8]) -> Vec<u8> {
    let mut t = tar::Builder::new(Vec::new());
    let header = common::tar_header;
    for d in ["bin", "etc", "tmp"] {
        let mut h = header(tar::EntryType::Directory, 0o755, 0);
        t.append_data(&mut h, d, std::io::empty()).unwrap();
    }
    let mut h = header(tar::EntryType::Regular, 0o755, busybox.len() as u64);
    t.append_data(&mut h, "bin/busybox", busybox).unwrap();
    for app in ["sh", "uname", "echo", "cat", "true", "mkdir", "touch", "ls"] {
        let mut h = header(tar::EntryType::Symlink, 0o777, 0);
        t.append_link(&mut h, format!("bin/{app}"), "busybox")
            .unwrap();
    }
    t.into_inner().unwrap()
}

/// One platform of a test image: its blobs (config, manifest, layer) and descriptor.
struct Plat {
    arch: &'static str,
    variant: Option<&'static str>,
    config: Vec<u8>,
    manifest: Vec<u8>,
    layer: Vec<u8>,
}

fn plat(arch: &'static str, variant: Option<&'static str>, layer: Vec<u8>) -> Plat {
    let mut config = serde_json::json!({
        "architecture": arch,
        "os": "linux",
        "config": { "Cmd": ["uname", "-m"], "Env": ["PATH=/bin"] },
        "rootfs": { "type": "layers", "diff_ids": [format!("sha256:{}", sha(&layer))] },
        "history": [{ "created_by": format!("test {arch}") }],
    });
    if let Some(v) = variant {
        config["variant"] = v.into();
    }
    let config = serde_json::to_vec(&config).unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": format!("sha256:{}", sha(&config)), "size": config.len() },
        "layers": [{ "mediaType": LAYER, "digest": format!("sha256:{}", sha(&layer)),
                     "size": layer.len() }],
    }))
    .unwrap();
    Plat {
        arch,
        variant,
        config,
        manifest,
        layer,
    }
}

fn file(t: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    t.append_data(&mut h, name, data).unwrap();
}

/// An OCI layout tar naming `name` for the index of `plats`; the blobs of the platforms in
/// `missing` are left out (but their manifests are there), as in a partial multi-platform
/// image. Returns the tar and the index bytes.
fn layout(name: &str, plats: &[&Plat], missing: &[&Plat]) -> (Vec<u8>, Vec<u8>) {
    layout_with(name, plats, missing, false)
}

/// [`layout`], with Docker 25's `manifest.json` beside it (naming the first platform only,
/// as Docker's does for the platform it has) when `docker` is set.
fn layout_with(name: &str, plats: &[&Plat], missing: &[&Plat], docker: bool) -> (Vec<u8>, Vec<u8>) {
    let descriptor = |p: &Plat| {
        let mut platform = serde_json::json!({ "architecture": p.arch, "os": "linux" });
        if let Some(v) = p.variant {
            platform["variant"] = v.into();
        }
        serde_json::json!({ "mediaType": MANIFEST, "digest": format!("sha256:{}", sha(&p.manifest)),
                            "size": p.manifest.len(), "platform": platform })
    };
    // BuildKit's attestation for the first platform: a manifest whose layer is no tar.
    let statement = br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#.to_vec();
    let att = plat("unknown", None, statement);
    let mut descriptors: Vec<_> = plats.iter().chain(missing).map(|p| descriptor(p)).collect();
    descriptors.push(serde_json::json!({
        "mediaType": MANIFEST, "digest": format!("sha256:{}", sha(&att.manifest)),
        "size": att.manifest.len(),
        "platform": { "architecture": "unknown", "os": "unknown" },
        "annotations": { "vnd.docker.reference.type": "attestation-manifest",
                         "vnd.docker.reference.digest": format!("sha256:{}", sha(&plats[0].manifest)) },
    }));
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": descriptors,
    }))
    .unwrap();
    let top = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": [{ "mediaType": INDEX, "digest": format!("sha256:{}", sha(&index)),
                        "size": index.len(),
                        "annotations": { "io.containerd.image.name": name,
                                         "org.opencontainers.image.ref.name": "latest" } }],
    }))
    .unwrap();
    let mut t = tar::Builder::new(Vec::new());
    let blob = |t: &mut tar::Builder<Vec<u8>>, data: &[u8]| {
        file(t, &format!("blobs/sha256/{}", sha(data)), data);
    };
    for p in plats {
        blob(&mut t, &p.layer);
        blob(&mut t, &p.config);
        blob(&mut t, &p.manifest);
    }
    for p in missing {
        blob(&mut t, &p.manifest);
    }
    for b in [&att.layer, &att.config, &att.manifest] {
        blob(&mut t, b);
    }
    blob(&mut t, &index);
    if docker {
        let first = plats[0];
        let m = serde_json::json!([{
            "Config": format!("blobs/sha256/{}", sha(&first.config)),
            "RepoTags": [name.trim_start_matches("docker.io/library/")],
            "Layers": [format!("blobs/sha256/{}", sha(&first.layer))],
        }]);
        file(&mut t, "manifest.json", &serde_json::to_vec(&m).unwrap());
    }
    file(&mut t, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    file(&mut t, "index.json", &top);
    (t.into_inner().unwrap(), index)
}

fn amd64() -> Plat {
    plat("amd64", None, rootfs(&host_busybox()))
}

fn arm64() -> Plat {
    plat("arm64", None, rootfs(&arm64_busybox()))
}

fn load(d: &TestDaemon, archive: &[u8]) -> String {
    d.docker_stdin(&["load"], archive).ok()
}

fn blobs(d: &TestDaemon) -> Vec<String> {
    let dir = d.root.join("content/blobs/sha256");
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn an_index_with_several_platforms_is_stored_whole() {
    let d = TestDaemon::start();
    let (a, b) = (amd64(), arm64());
    let v7 = plat("arm", Some("v7"), rootfs(b"not a binary"));
    let ppc = plat("ppc64le", None, rootfs(b"not here"));
    let (archive, index) = layout("docker.io/library/multi:latest", &[&a, &b, &v7], &[&ppc]);
    let out = load(&d, &archive);
    assert!(out.contains("Loaded image: multi:latest"), "{out}");
    // One image to the user, of the host's platform.
    let images = d
        .docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
        .ok();
    assert_eq!(images.trim(), "multi:latest");
    // Docker leaves `Variant` out when there is none.
    let fmt = "{{.Os}}/{{.Architecture}}/{{index . \"Variant\"}} {{.Id}}";
    let host = d.docker(&["image", "inspect", "-f", fmt, "multi"]).ok();
    assert_eq!(
        host.trim(),
        format!("linux/amd64/<no value> sha256:{}", sha(&a.config))
    );
    // Another platform, as API 1.49's inspect asks (berth answers 1.43, so the docker CLI
    // does not send it): Docker's fields, the names of the image.
    let inspect = |p: &str| {
        let (code, _, body) = d.http("GET", &format!("/images/multi/json?platform={p}"), b"");
        assert_eq!(code, 200, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    };
    let v = inspect("linux/arm64");
    assert_eq!(
        (&v["Os"], &v["Architecture"]),
        (&"linux".into(), &"arm64".into())
    );
    assert_eq!(v.get("Variant"), None);
    assert_eq!(v["Id"], format!("sha256:{}", sha(&b.config)));
    assert_eq!(v["RepoTags"][0], "multi:latest");
    let arch = d
        .berth(&[
            "inspect",
            "--platform",
            "linux/arm64",
            "-f",
            "{{.Architecture}}",
            "multi",
        ])
        .ok();
    assert_eq!(arch.trim(), "arm64");
    let v = inspect("linux/arm/v7");
    assert_eq!(
        (&v["Architecture"], &v["Variant"]),
        (&"arm".into(), &"v7".into())
    );
    assert_eq!(v["Id"], format!("sha256:{}", sha(&v7.config)));
    // Every blob that came is kept, the index byte for byte.
    let kept = blobs(&d);
    for p in [&a, &b, &v7] {
        for blob in [&p.config, &p.manifest, &p.layer] {
            assert!(kept.contains(&sha(blob)), "{} blob kept", p.arch);
        }
    }
    assert!(kept.contains(&sha(&index)), "the index is kept as it came");
    // `system df` counts the layers of every platform (the arm64 busybox is larger than the
    // two small ones together).
    let (_, _, df) = d.http("GET", "/system/df", b"");
    let df: serde_json::Value = serde_json::from_str(&df).unwrap();
    let layers = df["LayersSize"].as_u64().unwrap();
    let host_only = df["Images"][0]["Size"].as_u64().unwrap();
    assert!(layers > host_only, "{layers} > {host_only}: {df}");
    // A platform whose blobs did not come is not there to pick.
    let (code, _, body) = d.http("GET", "/images/multi/json?platform=linux/ppc64le", b"");
    assert_eq!(code, 404, "{body}");
    assert!(
        body.contains("image with reference multi was found but does not match the specified platform: wanted linux/ppc64le, actual: linux/amd64"),
        "{body}"
    );
    // The host's platform runs by default.
    let m = d.docker(&["run", "--rm", "multi"]).ok();
    assert_eq!(m.trim(), "x86_64");
    // Removing the image removes every platform, and every blob.
    d.docker(&["rmi", "multi"]).ok();
    assert_eq!(blobs(&d), Vec::<String>::new());
    assert_eq!(d.docker(&["images", "-aq"]).ok().trim(), "");
}

/// Docker 25's archive of a multi-platform image: its `manifest.json` names one platform, its
/// `index.json` all of them; every platform is loaded.
#[test]
fn a_docker_archive_with_a_multi_platform_index_loads_every_platform() {
    let d = TestDaemon::start();
    let (a, b) = (amd64(), arm64());
    let (archive, _) = layout_with("docker.io/library/both:1", &[&a, &b], &[], true);
    let out = load(&d, &archive);
    assert!(out.contains("Loaded image: both:1"), "{out}");
    let (code, _, body) = d.http("GET", "/images/both:1/json?platform=linux/arm64", b"");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains(&sha(&b.config)), "{body}");
    let images = d
        .docker(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"])
        .ok();
    assert_eq!(images.trim(), format!("both:1 {}", &sha(&a.config)[..12]));
}

#[test]
fn platform_choice_and_dockers_messages() {
    let d = TestDaemon::start();
    let a = amd64();
    let (archive, _) = layout("docker.io/library/only:latest", &[&a], &[]);
    load(&d, &archive);
    // A platform the image does not have: Docker's message, a 404.
    let (code, _, body) = d.http(
        "POST",
        "/containers/create?platform=linux/arm64",
        br#"{"Image":"only"}"#,
    );
    assert_eq!(code, 404, "{body}");
    assert!(
        body.contains("image with reference only was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64"),
        "{body}"
    );
    d.berth(&["run", "--rm", "--platform", "linux/arm64", "only"])
        .fails_with(
            125,
            "does not match the specified platform: wanted linux/arm64",
        );
    let (code, _, body) = d.http(
        "POST",
        "/containers/create?platform=linux//x",
        br#"{"Image":"only"}"#,
    );
    assert_eq!(code, 400, "{body}");
    // The host's platform, asked for explicitly, runs.
    let m = d
        .docker(&["run", "--rm", "--platform", "linux/amd64", "only"])
        .ok();
    assert_eq!(m.trim(), "x86_64");

    // A single-platform image of another architecture, run without --platform: Docker's
    // warning, then the run (or the emulation error).
    let b = arm64();
    let (archive, _) = layout("docker.io/library/arm:latest", &[&b], &[]);
    load(&d, &archive);
    let arch = d
        .docker(&["image", "inspect", "-f", "{{.Architecture}}", "arm"])
        .ok();
    assert_eq!(arch.trim(), "arm64");
    let (code, _, body) = d.http("POST", "/containers/create", br#"{"Image":"arm"}"#);
    let host = host_platform();
    let warning = format!(
        "The requested image's platform (linux/arm64) does not match the detected host platform ({host}) and no specific platform was requested"
    );
    match handler_registered() {
        true => {
            assert_eq!(code, 201, "{body}");
            assert!(body.contains(&warning), "{body}");
        }
        false => {
            assert_eq!(code, 400, "{body}");
            assert!(
                body.contains("no binfmt_misc handler for linux/arm64: install qemu-user-static"),
                "{body}"
            );
        }
    }
}

/// The host platform as Docker shows it (`linux/amd64/v3`).
fn host_platform() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap();
    let flags = info.lines().find(|l| l.starts_with("flags")).unwrap();
    let has = |f: &str| flags.split_whitespace().any(|x| x == f);
    let v2 = ["cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"]
        .iter()
        .all(|f| has(f));
    let v3 = v2
        && ["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe"]
            .iter()
            .all(|f| has(f));
    let v4 = v3
        && ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"]
            .iter()
            .all(|f| has(f));
    let level = [(v4, "/v4"), (v3, "/v3"), (v2, "/v2")]
        .iter()
        .find(|(on, _)| *on)
        .map_or("", |(_, l)| l);
    format!("linux/amd64{level}")
}

const BINFMT: &str = "/proc/sys/fs/binfmt_misc";
/// Debian's qemu-user-static registration (/usr/lib/binfmt.d/qemu-aarch64.conf).
const QEMU_AARCH64: &str = "/usr/lib/binfmt.d/qemu-aarch64.conf";

/// Whether an enabled binfmt_misc handler runs aarch64 executables now.
fn handler_registered() -> bool {
    std::fs::read_to_string(Path::new(BINFMT).join("qemu-aarch64"))
        .is_ok_and(|s| s.starts_with("enabled"))
}

/// A binfmt_misc registration of qemu-aarch64 for the test only: what it mounted and
/// registered goes when it drops, what was there before stays.
struct Emulation {
    mounted: bool,
    registered: bool,
}

impl Emulation {
    fn register() -> Emulation {
        let mut e = Emulation {
            mounted: false,
            registered: false,
        };
        if !Path::new(BINFMT).join("register").exists() {
            let ok = Command::new("mount")
                .args(["-t", "binfmt_misc", "binfmt_misc", BINFMT])
                .status()
                .unwrap()
                .success();
            assert!(ok, "mount binfmt_misc");
            e.mounted = true;
        }
        if !handler_registered() {
            let line = std::fs::read_to_string(QEMU_AARCH64).expect("qemu-user-static");
            std::fs::write(Path::new(BINFMT).join("register"), line.trim()).unwrap();
            e.registered = true;
        }
        e
    }
}

impl Drop for Emulation {
    fn drop(&mut self) {
        if self.registered {
            let _ = std::fs::write(Path::new(BINFMT).join("qemu-aarch64"), "-1");
        }
        if self.mounted {
            let _ = Command::new("umount").arg(BINFMT).status();
        }
    }
}

/// Everything that needs binfmt_misc in one test: the error without a handler, then with
/// Debian's handler registered for the test, an emulated run and an emulated build.
#[test]
fn foreign_architectures_run_under_emulation() {
    let d = TestDaemon::start();
    let (a, b) = (amd64(), arm64());
    let (archive, _) = layout("docker.io/library/multi:latest", &[&a, &b], &[]);
    load(&d, &archive);
    if !handler_registered() {
        d.docker(&[
            "run",
            "--rm",
            "--platform",
            "linux/arm64",
            "multi",
            "uname",
            "-m",
        ])
        .fails_with(
            125,
            "no binfmt_misc handler for linux/arm64: install qemu-user-static",
        );
    }
    let _emulation = Emulation::register();
    let m = d
        .docker(&[
            "run",
            "--rm",
            "--platform",
            "linux/arm64",
            "multi",
            "uname",
            "-m",
        ])
        .ok();
    assert_eq!(m.trim(), "aarch64");
    let m = d.docker(&["run", "--rm", "multi", "uname", "-m"]).ok();
    assert_eq!(m.trim(), "x86_64");
    // A container of the arm64 platform uses the image as much as one of the host's.
    let c = d
        .docker(&["create", "--platform", "linux/arm64", "multi"])
        .ok();
    d.docker(&["rmi", "multi"])
        .fails_with(1, "(must force) - container");
    // ... and an `image prune -a` leaves it, as it leaves any image in use.
    d.docker(&["image", "prune", "-af"]).ok();
    d.docker(&["image", "inspect", "multi"]).ok();
    d.docker(&["rm", c.trim()]).ok();

    // A build for arm64: FROM takes the arm64 platform, RUN runs emulated.
    let ctx = common::context(&[(
        "Dockerfile",
        "FROM multi\nARG TARGETPLATFORM\nRUN uname -m > /tmp/arch && echo \"$TARGETPLATFORM\" >> /tmp/arch\nCMD [\"cat\", \"/tmp/arch\"]\n",
    )]);
    let ctx = ctx.path().to_str().unwrap().to_string();
    d.docker_build(&["--platform", "linux/arm64", "-t", "built", &ctx])
        .ok();
    let arch = d
        .docker(&[
            "image",
            "inspect",
            "-f",
            "{{.Os}}/{{.Architecture}}",
            "built",
        ])
        .ok();
    assert_eq!(arch.trim(), "linux/arm64");
    let out = d.docker(&["run", "--rm", "built"]).ok();
    assert_eq!(out, "aarch64\nlinux/arm64\n");
}

/// A python http.server serving `dir` on 127.0.0.1 of the daemon's network namespace; the
/// port it took is read from its first line. Killed when dropped.
struct Server {
    child: std::process::Child,
    port: u16,
}

impl Server {
    fn start(d: &TestDaemon, dir: &Path) -> Server {
        use std::io::BufRead;
        let ns = d.netns.as_ref().unwrap();
        let mut child = Command::new("nsenter")
            .arg(format!("--net={}", ns.display()))
            .args([
                "python3",
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
            ])
            .arg("--directory")
            .arg(dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // "Serving HTTP on 127.0.0.1 port 43121 (http://127.0.0.1:43121/) ..." once it listens.
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split(" port ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("http.server said {line:?}"));
        Server { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn import_from_a_url_and_with_a_platform() {
    let d = TestDaemon::start_in_netns();
    let files = tempfile::tempdir().unwrap();
    let tar = common::busybox_tar();
    std::fs::write(files.path().join("x.tar"), tar).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, tar).unwrap();
    std::fs::write(files.path().join("x.tar.gz"), gz.finish().unwrap()).unwrap();
    let server = Server::start(&d, files.path());
    let url = format!("http://127.0.0.1:{}/x.tar", server.port);

    // As Docker's: the download announced, then the ID.
    let out = d.docker(&["import", &url, "fromurl"]).ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("Downloading from {url}"), "{out}");
    assert!(lines[lines.len() - 1].starts_with("sha256:"), "{out}");
    assert_eq!(
        d.docker(&["run", "--rm", "fromurl", "echo", "hi"]).ok(),
        "hi\n"
    );
    let comment = d
        .docker(&[
            "history",
            "--no-trunc",
            "--format",
            "{{.Comment}}",
            "fromurl",
        ])
        .ok();
    assert_eq!(comment.trim(), format!("Imported from {url}"));
    let (code, _, body) = d.http(
        "POST",
        &format!("/images/create?fromSrc={url}&repo=streamed"),
        b"",
    );
    assert_eq!(code, 200, "{body}");
    assert!(
        body.contains(&format!("\"status\":\"Downloading from {url}\"")),
        "{body}"
    );
    // Compressed, through berth, and without a scheme (Docker adds http://).
    let bare = format!("127.0.0.1:{}/x.tar.gz", server.port);
    let (code, _, body) = d.http(
        "POST",
        &format!("/images/create?fromSrc={bare}&repo=bare"),
        b"",
    );
    assert_eq!(code, 200, "{body}");
    d.berth(&["import", &format!("http://{bare}"), "gz"]).ok();
    assert_eq!(d.docker(&["run", "--rm", "gz", "echo", "gz"]).ok(), "gz\n");
    // A URL that answers 404: an error, nothing imported.
    let before = d.docker(&["images", "-q"]).ok();
    let missing = format!("http://127.0.0.1:{}/missing.tar", server.port);
    let out = d.docker(&["import", &missing, "nothing"]);
    assert_ne!(out.code, 0);
    let said = format!("failed to GET {missing} with status 404 Not Found: ");
    assert!(out.stderr.contains(&said), "{}", out.stderr);
    assert_eq!(d.docker(&["images", "-q"]).ok(), before);

    // --platform sets the config's os, architecture and variant.
    d.docker_stdin(&["import", "--platform", "linux/arm64", "-", "armimg"], tar)
        .ok();
    let p = d
        .docker(&[
            "image",
            "inspect",
            "-f",
            "{{.Os}}/{{.Architecture}}",
            "armimg",
        ])
        .ok();
    assert_eq!(p.trim(), "linux/arm64");
    let file = files.path().join("x.tar");
    d.berth(&[
        "import",
        "--platform",
        "linux/arm/v7",
        file.to_str().unwrap(),
        "v7img",
    ])
    .ok();
    let (_, _, body) = d.http("GET", "/images/v7img/json", b"");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (&v["Architecture"], &v["Variant"]),
        (&"arm".into(), &"v7".into())
    );
}
