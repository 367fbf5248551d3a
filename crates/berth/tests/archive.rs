//! `save` and `load`: archives berth writes and reads, Docker 20.10-style archives with gzip
//! and zstd layers, the stock docker CLI and docker-py, and hostile archives that must leave
//! the store as it was. Peers (podman, skopeo, umoci) are in archive_peers.rs.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{Out, TestDaemon, busybox_tar};
use sha2::{Digest, Sha256};

fn sha(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

/// A tar entry written with its name as given (the tar crate refuses `..` and absolute names
/// through its path setters, which is what hostile archives need).
fn raw_entry(t: &mut tar::Builder<Vec<u8>>, kind: tar::EntryType, name: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_cksum();
    t.append(&h, data).unwrap();
}

fn file(t: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    raw_entry(t, tar::EntryType::Regular, name, data);
}

fn symlink(t: &mut tar::Builder<Vec<u8>>, name: &str, target: &str) {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mode(0o777);
    t.append_link(&mut h, name, target).unwrap();
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// An image config with `cmd` over layers whose uncompressed tars are `tars`.
fn config(tars: &[&[u8]], cmd: &str) -> Vec<u8> {
    let diffs: Vec<String> = tars.iter().map(|t| format!("sha256:{}", sha(t))).collect();
    serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": { "Cmd": ["sh", "-c", cmd], "Env": ["PATH=/bin"] },
        "rootfs": { "type": "layers", "diff_ids": diffs },
        "history": [{ "created_by": "test" }],
    }))
    .unwrap()
}

/// What a user can see of the store, and what it keeps on disk: image IDs and names, blobs,
/// ingests and unpacked layers.
fn state(d: &TestDaemon) -> String {
    let (_, _, images) = d.http("GET", "/images/json?all=1", b"");
    let list = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(d.root.join(dir))
            .map(|r| {
                r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        format!("{dir}: {v:?}\n")
    };
    images
        + &list("content/blobs/sha256")
        + &list("content/ingest")
        + &list("snapshots/layers")
        + &list("snapshots/tmp")
}

fn load(d: &TestDaemon, archive: &[u8]) -> Out {
    let mut c = Command::new("timeout")
        .arg("120")
        .arg(common::BERTH)
        .args(["-H", &d.host(), "load"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = c.stdin.take().unwrap();
    // A refused archive may be answered before it is all sent.
    let _ = stdin.write_all(archive);
    drop(stdin);
    c.wait_with_output().unwrap().into()
}

fn save(d: &TestDaemon, names: &[&str]) -> Vec<u8> {
    let mut args = vec!["-H".to_string(), d.host(), "save".into()];
    args.extend(names.iter().map(|n| n.to_string()));
    let out = Command::new(common::BERTH).args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "save: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Tar entry names of `archive`.
fn names(archive: &[u8]) -> Vec<String> {
    tar::Archive::new(archive)
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect()
}

fn entry_text(archive: &[u8], name: &str) -> String {
    let mut a = tar::Archive::new(archive);
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().to_string_lossy() == name {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut e, &mut s).unwrap();
            return s;
        }
    }
    panic!("no {name} in the archive: {:?}", names(archive));
}

#[test]
fn save_and_load_keep_ids_tags_and_shared_layers_once() {
    let src = TestDaemon::start();
    let base = src.import_busybox("busybox");
    src.berth(&["tag", "busybox", "bb:v2"]).ok();
    let ctx = common::context(&[("Dockerfile", "FROM busybox\nRUN echo app > /app.txt\n")]);
    src.docker_build(&["-q", "-t", "app:1", ctx.path().to_str().unwrap()])
        .ok();
    let app = src.inspect("app:1", "{{.Id}}");

    // A tar refused to a terminal, in Docker's words.
    let tty = src.in_terminal(
        &format!("{} -H {} save busybox", common::BERTH, src.host()),
        24,
        80,
    );
    assert!(
        tty.stdout
            .contains("cowardly refusing to save to a terminal. Use the -o flag or redirect"),
        "{:?}",
        tty.stdout
    );

    let archive = save(&src, &["busybox", "bb:v2", "app:1"]);
    let entries = names(&archive);
    for f in ["oci-layout", "index.json", "manifest.json", "repositories"] {
        assert!(entries.contains(&f.to_string()), "{f} in {entries:?}");
    }
    // busybox's layer is in both images and in the archive once; the blobs are 2 configs, 2
    // manifests and 2 layers.
    let blobs: Vec<&String> = entries
        .iter()
        .filter(|e| e.starts_with("blobs/sha256/") && e.len() > 13)
        .collect();
    assert_eq!(blobs.len(), 6, "{entries:?}");
    let index: serde_json::Value =
        serde_json::from_str(&entry_text(&archive, "index.json")).unwrap();
    let annotations: Vec<(String, String)> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let a = &m["annotations"];
            (
                a["io.containerd.image.name"].as_str().unwrap().to_string(),
                a["org.opencontainers.image.ref.name"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert!(
        annotations.contains(&("docker.io/library/bb:v2".into(), "v2".into())),
        "{annotations:?}"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&entry_text(&archive, "manifest.json")).unwrap();
    let m = manifest.as_array().unwrap();
    assert_eq!(m.len(), 2, "{manifest}");
    assert_eq!(
        m[0]["RepoTags"],
        serde_json::json!(["busybox:latest", "bb:v2"])
    );
    assert_eq!(
        m[0]["Config"],
        format!("blobs/sha256/{}", base.trim_start_matches("sha256:"))
    );
    // The same images give the same bytes.
    assert!(
        save(&src, &["busybox", "bb:v2", "app:1"]) == archive,
        "saves differ"
    );

    let dst = TestDaemon::start();
    let out = load(&dst, &archive).ok();
    assert_eq!(
        out,
        "Loaded image: busybox:latest\nLoaded image: bb:v2\nLoaded image: app:1\n"
    );
    assert_eq!(dst.inspect("busybox", "{{.Id}}"), base);
    assert_eq!(dst.inspect("bb:v2", "{{.Id}}"), base);
    assert_eq!(dst.inspect("app:1", "{{.Id}}"), app);
    assert_eq!(
        dst.docker(&["run", "--rm", "app:1", "cat", "/app.txt"])
            .ok(),
        "app\n"
    );
    // Loading again changes nothing; saving from the second daemon gives the same archive.
    load(&dst, &archive).ok();
    assert!(
        save(&dst, &["busybox", "bb:v2", "app:1"]) == archive,
        "a loaded image saves as it came"
    );

    // By ID: no names in the archive, none after the load.
    let by_id = save(&src, &[&app[7..19]]);
    let manifest = entry_text(&by_id, "manifest.json");
    assert!(manifest.contains(r#""RepoTags":null"#), "{manifest}");
    let fresh = TestDaemon::start();
    assert_eq!(
        load(&fresh, &by_id).ok(),
        format!("Loaded image ID: {app}\n")
    );
    assert_eq!(
        fresh.berth(&["images", "-q"]).ok().lines().count(),
        1,
        "one untagged image"
    );
    assert!(
        fresh
            .berth(&["images", "--filter", "dangling=true", "-q"])
            .ok()
            .contains(&app[7..19])
    );

    // The API: /images/{name}/get and an unknown name's 404 before any byte.
    let (status, head, _) = src.http("GET", "/images/bb:v2/get", b"");
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("application/x-tar"), "{head}");
    let (status, _, body) = src.http("GET", "/images/get?names=busybox&names=nope", b"");
    assert_eq!(
        (status, body.contains("No such image: nope:latest")),
        (404, true),
        "{body}"
    );
    src.berth(&["save", "-o", "/nonexistent/x.tar", "busybox"])
        .fails_with(1, "/nonexistent/x.tar");
    src.berth(&["save", "--platform", "linux/s390x", "busybox"])
        .fails_with(1, "--platform linux/s390x: berth saves the host's platform");
}

#[test]
fn docker_20_10_archives_with_gzip_and_zstd_layers_load_and_run() {
    let d = TestDaemon::start();
    let base = busybox_tar();
    let top = common::tar_of("hello.txt", b"hello from zstd\n");
    let cfg = config(&[base, &top], "cat /hello.txt");
    let cfg_hex = sha(&cfg);
    let only_base = config(&[base], "echo base");
    // The same blob twice in one stack (as empty layers are), on two different parents.
    let twice = config(&[base, &top, base], "cat /hello.txt");
    let mut t = tar::Builder::new(Vec::new());
    // Docker 20.10: <v1 id>/layer.tar, <config hex>.json, manifest.json, repositories; a layer
    // shared by two images is a symlink to the first copy.
    file(&mut t, "aaaa/layer.tar", &gzip(base));
    file(&mut t, "aaaa/VERSION", b"1.0");
    file(
        &mut t,
        "bbbb/layer.tar",
        &zstd::encode_all(&top[..], 3).unwrap(),
    );
    symlink(&mut t, "cccc/layer.tar", "../aaaa/layer.tar");
    file(&mut t, &format!("{cfg_hex}.json"), &cfg);
    file(&mut t, &format!("{}.json", sha(&only_base)), &only_base);
    file(&mut t, &format!("{}.json", sha(&twice)), &twice);
    let manifest = serde_json::json!([
        {"Config": format!("{cfg_hex}.json"), "RepoTags": ["hello:zstd"], "Layers": ["aaaa/layer.tar", "bbbb/layer.tar"]},
        {"Config": format!("{}.json", sha(&only_base)), "RepoTags": ["base:1"], "Layers": ["cccc/layer.tar"]},
        {"Config": format!("{}.json", sha(&twice)), "RepoTags": ["twice:1"], "Layers": ["aaaa/layer.tar", "bbbb/layer.tar", "cccc/layer.tar"]},
    ]);
    file(&mut t, "manifest.json", manifest.to_string().as_bytes());
    file(
        &mut t,
        "repositories",
        br#"{"hello":{"zstd":"bbbb"},"base":{"1":"cccc"}}"#,
    );
    let archive = gzip(&t.into_inner().unwrap());
    // The archive itself gzipped, as `docker save | gzip` makes it.
    let out = load(&d, &archive).ok();
    assert_eq!(
        out,
        "Loaded image: hello:zstd\nLoaded image: base:1\nLoaded image: twice:1\n"
    );
    assert_eq!(
        d.inspect("hello:zstd", "{{.Id}}"),
        format!("sha256:{cfg_hex}")
    );
    assert_eq!(
        d.inspect("base:1", "{{.Id}}"),
        format!("sha256:{}", sha(&only_base))
    );
    assert_eq!(
        d.docker(&["run", "--rm", "hello:zstd"]).ok(),
        "hello from zstd\n"
    );
    assert_eq!(d.docker(&["run", "--rm", "base:1"]).ok(), "base\n");
    assert_eq!(
        d.docker(&["run", "--rm", "twice:1"]).ok(),
        "hello from zstd\n"
    );
    // The layer shared by all three was unpacked once as the bottom of their stacks.
    let layers = std::fs::read_dir(d.root.join("snapshots/layers"))
        .unwrap()
        .count();
    assert_eq!(layers, 3, "three distinct stacks");
}

#[test]
fn the_docker_cli_and_docker_py_save_and_load() {
    let a = TestDaemon::start();
    let id = a.import_busybox("busybox");
    let b = TestDaemon::start();
    // docker save | docker load, from one daemon to the other.
    let script = format!(
        "set -o pipefail; docker -H {} save busybox | docker -H {} load",
        a.host(),
        b.host()
    );
    let out: Out = Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap()
        .into();
    assert_eq!(out.ok(), "Loaded image: busybox:latest\n");
    assert_eq!(b.inspect("busybox", "{{.Id}}"), id);
    let file = tempfile::NamedTempFile::new().unwrap();
    a.docker(&["save", "-o", file.path().to_str().unwrap(), "busybox"])
        .ok();
    let c = TestDaemon::start();
    c.docker(&["load", "-q", "-i", file.path().to_str().unwrap()])
        .ok();
    assert_eq!(
        c.docker(&["run", "--rm", "busybox", "echo", "hi"]).ok(),
        "hi\n"
    );

    // docker-py: images.get(x).save() and images.load(data).
    let py = r#"
import sys, docker
a = docker.DockerClient(base_url=sys.argv[1])
b = docker.DockerClient(base_url=sys.argv[2])
data = b"".join(a.images.get("busybox").save(named=True))
loaded = b.images.load(data)
print(loaded[0].id, loaded[0].tags)
"#;
    let d = TestDaemon::start();
    let out: Out = Command::new("python3")
        .args(["-c", py, &a.host(), &d.host()])
        .output()
        .unwrap()
        .into();
    assert_eq!(out.ok(), format!("{id} ['busybox:latest']\n"));
}

/// Loads `archive`, which must be refused saying `text`, and checks the store is as it was.
fn refused(d: &TestDaemon, archive: &[u8], text: &str) {
    let before = state(d);
    let out = load(d, archive);
    assert_eq!(out.code, 1, "{:?} {:?}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(text),
        "stderr should say {text:?}: {:?}",
        out.stderr
    );
    assert_eq!(state(d), before, "the store changed");
}

/// A valid single-image archive around layer blob `layer` (any compression) whose config says
/// the layer's diff ID is that of `tar`.
fn one_image(layer: &[u8], tar: &[u8]) -> tar::Builder<Vec<u8>> {
    let cfg = config(&[tar], "true");
    let mut t = tar::Builder::new(Vec::new());
    file(&mut t, "l/layer.tar", layer);
    file(&mut t, "c.json", &cfg);
    file(
        &mut t,
        "manifest.json",
        br#"[{"Config":"c.json","RepoTags":["x:1"],"Layers":["l/layer.tar"]}]"#,
    );
    t
}

#[test]
fn hostile_archives_are_refused_and_leave_the_store_as_it_was() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let layer = common::tar_of("f", b"data");

    // Entry names outside the archive.
    for name in ["../x", "/etc/x", "a/../../x"] {
        let mut t = one_image(&layer, &layer);
        file(&mut t, name, b"x");
        refused(&d, &t.into_inner().unwrap(), "is outside the archive");
    }

    // A symlinked manifest.json (pointing anywhere, even at a good manifest).
    let mut t = tar::Builder::new(Vec::new());
    file(&mut t, "l/layer.tar", &layer);
    file(&mut t, "c.json", &config(&[&layer], "true"));
    file(
        &mut t,
        "real.json",
        br#"[{"Config":"c.json","RepoTags":["x:1"],"Layers":["l/layer.tar"]}]"#,
    );
    symlink(&mut t, "manifest.json", "real.json");
    refused(&d, &t.into_inner().unwrap(), "manifest.json is a link");

    // A blob whose content does not have the digest its name says.
    let good = save(&d, &["busybox"]);
    let mut t = tar::Builder::new(Vec::new());
    let mut a = tar::Archive::new(&good[..]);
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        if e.header().entry_type().is_dir() {
            continue;
        }
        if name.starts_with("blobs/sha256/") && data.len() > 100_000 {
            data[50_000] ^= 1;
        }
        file(&mut t, &name, &data);
    }
    let fresh = TestDaemon::start();
    refused(
        &fresh,
        &t.into_inner().unwrap(),
        "does not match its digest",
    );

    // A layer whose diff ID is not the config's.
    let other = common::tar_of("g", b"other");
    refused(
        &d,
        &one_image(&layer, &other).into_inner().unwrap(),
        "invalid diffID for layer 0",
    );

    // A gzip bomb: a layer with 512 MiB of zeros, half a megabyte gzipped (by gzip itself:
    // this test binary is not optimized).
    let mut h = tar::Header::new_gnu();
    h.set_path("zeros").unwrap();
    h.set_size(512 << 20);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_cksum();
    let header = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(header.path(), h.as_bytes()).unwrap();
    let bomb = Command::new("sh")
        .arg("-c")
        .arg("{ cat \"$0\"; head -c 536871936 /dev/zero; } | gzip -9")
        .arg(header.path())
        .output()
        .unwrap()
        .stdout;
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    refused(
        &d,
        &one_image(&bomb, &layer).into_inner().unwrap(),
        "refusing a decompression bomb",
    );

    // A truncated stream: the archive cut in the middle of busybox's layer.
    refused(&fresh, &good[..good.len() / 2], "invalid archive: reading");

    // manifest.json naming a file that is not there.
    let mut t = tar::Builder::new(Vec::new());
    file(&mut t, "c.json", &config(&[&layer], "true"));
    file(
        &mut t,
        "manifest.json",
        br#"[{"Config":"c.json","RepoTags":["x:1"],"Layers":["missing/layer.tar"]}]"#,
    );
    refused(
        &d,
        &t.into_inner().unwrap(),
        "\"missing/layer.tar\", which is not in the archive",
    );

    // Neither manifest.json nor index.json; a layer that escapes when unpacked.
    let mut t = tar::Builder::new(Vec::new());
    file(&mut t, "x", b"x");
    refused(
        &d,
        &t.into_inner().unwrap(),
        "does not contain a manifest.json",
    );
    let mut escaping = tar::Builder::new(Vec::new());
    raw_entry(
        &mut escaping,
        tar::EntryType::Regular,
        "../../etc/evil",
        b"x",
    );
    let escaping = escaping.into_inner().unwrap();
    refused(
        &d,
        &one_image(&escaping, &escaping).into_inner().unwrap(),
        "escapes the layer root",
    );
    assert!(!std::path::Path::new("/etc/evil").exists());

    // The store still works.
    assert_eq!(
        d.docker(&["run", "--rm", "busybox", "echo", "ok"]).ok(),
        "ok\n"
    );
}
