//! Online garbage collection and retention of `berth registry`: pushes racing collections
//! lose nothing, uploads in flight survive them, the grace window covers a push between its
//! layers and its manifest; retention's dry run gives a reason for every decision, and
//! applying it deletes what it said (blobs go with the next collection).

mod registry_common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use registry_common::*;

fn metric(r: &Registry, name: &str) -> u64 {
    let text = r.req("GET", "/metrics", &[], None).expect(200).text();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} in {text}"))
}

fn wait_for_runs(r: &Registry, more: u64) {
    let target = metric(r, "berth_registry_gc_runs_total") + more;
    let start = Instant::now();
    while metric(r, "berth_registry_gc_runs_total") < target {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "collections do not run: {}",
            r.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Pushes `image`, a chunked upload for its first layer (a collection may run between
/// its chunks), re-uploading blobs a collection swept before the manifest named them
/// (MANIFEST_BLOB_UNKNOWN: the client is told, nothing half-stored). How many retries.
fn push_racing(r: &Registry, repo: &str, tag: &str, image: &Image) -> usize {
    for attempt in 0..50 {
        for (i, b) in image.blobs().into_iter().enumerate() {
            if r.req(
                "HEAD",
                &format!("/v2/{repo}/blobs/{}", sha256(b)),
                &[],
                None,
            )
            .status
                == 200
            {
                continue;
            }
            if i == 1 {
                let start = r
                    .req("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], None)
                    .expect(202);
                let loc = start.header("location").unwrap().to_string();
                let half = b.len() / 2;
                let range = format!("0-{}", half - 1);
                r.req(
                    "PATCH",
                    &loc,
                    &[("Content-Range", &range)],
                    Some(&b[..half]),
                )
                .expect(202);
                std::thread::sleep(Duration::from_millis(30));
                let rest = format!("{half}-{}", b.len() - 1);
                let put = format!("{loc}?digest={}", sha256(b));
                r.req("PUT", &put, &[("Content-Range", &rest)], Some(&b[half..]))
                    .expect(201);
            } else {
                push_blob(r, repo, b, &[]).expect(201);
            }
        }
        let put = put_manifest(r, repo, tag, &image.manifest, OCI_MANIFEST);
        match put.status {
            201 => return attempt,
            400 if put.code() == "MANIFEST_BLOB_UNKNOWN" => continue,
            _ => panic!("manifest push: {} {}", put.status, put.text()),
        }
    }
    panic!("{repo}:{tag} never got through");
}

/// Four clients push (and delete every other image) while the registry collects every
/// 100 ms with a grace window of 1 s: the deleted images' blobs are swept while the pushes
/// go on, every image whose manifest was accepted pulls back whole, and once the pushes
/// stop exactly the blobs of the kept images are left.
#[test]
fn collections_racing_pushes_lose_nothing() {
    let r = Arc::new(Registry::start(&[
        "--gc-interval",
        "100ms",
        "--gc-grace",
        "1s",
    ]));
    let base = tar_of("base", &noise(999, 30_000));
    let clients: Vec<_> = (0..4u64)
        .map(|c| {
            let (r, base) = (r.clone(), base.clone());
            std::thread::spawn(move || {
                let repo = format!("race/c{c}");
                let mut kept = Vec::new();
                let mut retries = 0;
                for i in 0..12u64 {
                    let image =
                        Image::new(vec![base.clone(), tar_of("f", &noise(c * 100 + i, 20_000))]);
                    let tag = format!("t{i}");
                    retries += push_racing(&r, &repo, &tag, &image);
                    if i % 2 == 1 {
                        let path = format!("/v2/{repo}/manifests/{}", image.digest());
                        r.req("DELETE", &path, &[], None).expect(202);
                    } else {
                        kept.push((repo.clone(), tag, image));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                (kept, retries)
            })
        })
        .collect();
    let mut swept_while_pushing = 0;
    while clients.iter().any(|c| !c.is_finished()) {
        swept_while_pushing = metric(&r, "berth_registry_gc_blobs_swept_total");
        std::thread::sleep(Duration::from_millis(50));
    }
    let results: Vec<_> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let kept: Vec<_> = results.iter().flat_map(|(k, _)| k).collect();
    let retries: usize = results.iter().map(|(_, n)| n).sum();
    for (repo, tag, _) in &kept {
        let problems = pull_problems(&r, repo, tag);
        assert!(problems.is_empty(), "{problems:?}\n{}", r.log());
    }
    assert!(
        swept_while_pushing > 0,
        "collections swept while the pushes went on"
    );
    std::thread::sleep(Duration::from_millis(1200));
    wait_for_runs(&r, 3);
    // The kept images' config, own layer and manifest, and the shared base layer.
    assert_eq!(
        r.blob_files(),
        kept.len() * 3 + 1,
        "only the kept images' blobs are left"
    );
    for (repo, tag, image) in &kept {
        assert!(pull_problems(&r, repo, tag).is_empty());
        let head = r
            .req("HEAD", &format!("/v2/{repo}/manifests/{tag}"), &[], None)
            .expect(200);
        assert_eq!(
            head.header("docker-content-digest"),
            Some(image.digest().as_str())
        );
    }
    let swept = metric(&r, "berth_registry_gc_blobs_swept_total");
    assert!(
        swept >= 24 * 3,
        "the deleted images' blobs were swept ({swept})"
    );
    eprintln!(
        "collections racing pushes: {swept} blobs swept ({swept_while_pushing} during the pushes), {retries} manifest retries"
    );
}

/// With a grace window, a client that uploads its layers and pushes the manifest a while
/// later (collections running in between) gets through at once, and an upload that is
/// paused across collections completes with all its bytes.
#[test]
fn grace_window_and_upload_leases_cover_slow_pushes() {
    let r = Registry::start(&["--gc-interval", "100ms", "--gc-grace", "20s"]);
    let image = Image::random(7, 2, 40_000);
    let layer = &image.layers[0];
    let start = r
        .req("POST", "/v2/slow/app/blobs/uploads/", &[], None)
        .expect(202);
    let loc = start.header("location").unwrap().to_string();
    r.req(
        "PATCH",
        &loc,
        &[("Content-Range", "0-999")],
        Some(&layer[..1000]),
    )
    .expect(202);
    wait_for_runs(&r, 3);
    let put = format!("{loc}?digest={}", sha256(layer));
    r.req(
        "PUT",
        &put,
        &[("Content-Range", &format!("1000-{}", layer.len() - 1))],
        Some(&layer[1000..]),
    )
    .expect(201);
    push_blob(&r, "slow/app", &image.config, &[]).expect(201);
    push_blob(&r, "slow/app", &image.layers[1], &[]).expect(201);
    wait_for_runs(&r, 3);
    put_manifest(&r, "slow/app", "v1", &image.manifest, OCI_MANIFEST).expect(201);
    assert!(pull_problems(&r, "slow/app", "v1").is_empty());
}

fn tags(r: &Registry, repo: &str) -> serde_json::Value {
    r.req("GET", &format!("/v2/{repo}/tags/list"), &[], None)
        .expect(200)
        .json()["tags"]
        .clone()
}

/// The dry run reports every tag and manifest with the reason it is kept or deleted and
/// changes nothing; applying a policy with AND-ed conditions deletes what it reported,
/// keeps the children and referrers of what it keeps, and the collection frees the blobs.
#[test]
fn retention_reports_reasons_then_applies() {
    let mut r = Registry::start(&[]);
    let images: Vec<Image> = (1..=5).map(|i| Image::random(100 + i, 1, 1000)).collect();
    for (i, image) in images.iter().enumerate() {
        push_image(&r, "team/app", &format!("v{}", i + 1), image).expect(201);
        std::thread::sleep(Duration::from_millis(5));
    }
    let untagged = Image::random(200, 1, 1000);
    push_image(&r, "team/app", &untagged.digest(), &untagged).expect(201);
    // A referrer of v5 and one of v1.
    let empty = b"{}";
    push_blob(&r, "team/app", empty, &[]).expect(201);
    let referrer = |subject: &Image| {
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": "application/x-sig",
            "config": { "mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(empty), "size": 2 },
            "layers": [],
            "subject": { "mediaType": OCI_MANIFEST, "digest": subject.digest(), "size": subject.manifest.len() }
        }))
        .unwrap()
    };
    let (sig5, sig1) = (referrer(&images[4]), referrer(&images[0]));
    put_manifest(&r, "team/app", &sha256(&sig5), &sig5, OCI_MANIFEST).expect(201);
    put_manifest(&r, "team/app", &sha256(&sig1), &sig1, OCI_MANIFEST).expect(201);
    push_image(&r, "other/app", "v1", &images[0]).expect(201);
    // Pulls of v4 and v1 (their times are written when the registry stops).
    r.req("GET", "/v2/team/app/manifests/v4", &[], None)
        .expect(200);
    r.req("GET", "/v2/team/app/manifests/v1", &[], None)
        .expect(200);
    // Served: the registry itself answers the dry run, through its admin socket.
    let served = r.gc(&["--dry-run", "--keep-tags", "2", "--repository", "team/*"]);
    assert!(
        served.contains("delete team/app:v3  (no rule keeps it)"),
        "{served}"
    );
    r.stop();
    let files = r.blob_files();

    let dry = r.gc(&["--dry-run", "--keep-tags", "2", "--repository", "team/*"]);
    let d = |i: usize| images[i].digest();
    for line in [
        "keep   team/app:v5  (rule 1: among the 2 most recently pushed)".to_string(),
        "keep   team/app:v4  (rule 1: among the 2 most recently pushed)".to_string(),
        "delete team/app:v3  (no rule keeps it)".to_string(),
        format!("delete team/app@{}  (its tags (v1) are deleted)", d(0)),
        format!("delete team/app@{}  (untagged)", untagged.digest()),
        format!(
            "keep   team/app@{}  (a referrer of kept {})",
            sha256(&sig5),
            d(4)
        ),
        format!(
            "delete team/app@{}  (a referrer of {}, which is deleted)",
            sha256(&sig1),
            d(0)
        ),
        "dry run: nothing deleted".to_string(),
    ] {
        assert!(dry.contains(&line), "{line:?} in\n{dry}");
    }
    assert!(!dry.contains("other/app"), "the pattern is team/*:\n{dry}");
    assert_eq!(r.blob_files(), files, "a dry run deletes nothing");

    // Keep the 3 most recent v* tags, but only those pulled within an hour: v4 (v1 was
    // pulled but is not among the 3; v5 and v3 are, but were not pulled).
    let config = r.dir.path().join("registry.toml");
    std::fs::write(
        &config,
        "[[retention]]\nrepositories = [\"team/**\"]\nkeep = [{ tags = [\"v*\"], latest = 3, pulled_within = \"1h\" }]\n",
    )
    .unwrap();
    let applied = r.gc(&["--config", config.to_str().unwrap(), "--grace", "0s"]);
    assert!(
        applied.contains("deleted 4 tags and 7 manifests"),
        "{applied}"
    );
    r.restart();
    assert_eq!(tags(&r, "team/app"), serde_json::json!(["v4"]));
    assert!(pull_problems(&r, "team/app", "v4").is_empty());
    assert_eq!(tags(&r, "other/app"), serde_json::json!(["v1"]));
    assert!(
        pull_problems(&r, "other/app", "v1").is_empty(),
        "blobs shared with another repository stay"
    );
    r.req(
        "GET",
        &format!("/v2/team/app/manifests/{}", sha256(&sig5)),
        &[],
        None,
    )
    .expect(404);
    // v4's config, layer and manifest; other/app's three (v1's); the empty blob went with
    // the referrers.
    assert_eq!(r.blob_files(), 6, "{applied}");
}

/// Retention configured in the file of `serve` runs on its schedule: the registry keeps
/// the newest tags of the matching repositories while it serves, and frees the rest.
#[test]
fn scheduled_retention_keeps_the_newest_tags() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("registry.toml");
    std::fs::write(
        &config,
        "[gc]\ninterval = \"200ms\"\ngrace = \"2s\"\n\n[[retention]]\nrepositories = [\"keep/*\"]\nkeep = [{ latest = 2 }]\n",
    )
    .unwrap();
    let r = Registry::start_in(dir, &["--config", config.to_str().unwrap()]);
    for i in 0..4 {
        push_image(
            &r,
            "keep/app",
            &format!("v{i}"),
            &Image::random(300 + i, 1, 500),
        )
        .expect(201);
        push_image(
            &r,
            "free/app",
            &format!("v{i}"),
            &Image::random(400 + i, 1, 500),
        )
        .expect(201);
        std::thread::sleep(Duration::from_millis(5));
    }
    let start = Instant::now();
    while tags(&r, "keep/app") != serde_json::json!(["v2", "v3"]) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "retention did not run: {}",
            r.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(tags(&r, "free/app").as_array().unwrap().len(), 4);
    // The blobs go once the grace window (2 s) has passed.
    std::thread::sleep(Duration::from_millis(2100));
    wait_for_runs(&r, 2);
    // keep/app: 2 images, free/app: 4, three blobs each.
    assert_eq!(r.blob_files(), 6 * 3);
    assert_eq!(metric(&r, "berth_registry_retention_tags_deleted_total"), 2);
}

/// One image pushed over raw HTTP to `base` without panicking: Ok(true) when its manifest
/// was accepted, Err when the registry went away.
fn try_push(base: &str, repo: &str, tag: &str, image: &Image) -> Result<bool, String> {
    for b in image.blobs() {
        let start = try_http(
            "POST",
            &format!("{base}/v2/{repo}/blobs/uploads/"),
            &[],
            None,
        )?;
        let loc = start.header("location").ok_or("no location")?.to_string();
        try_http(
            "PUT",
            &format!("{base}{loc}?digest={}", sha256(b)),
            &[],
            Some(b),
        )?;
    }
    let url = format!("{base}/v2/{repo}/manifests/{tag}");
    let put = try_http(
        "PUT",
        &url,
        &[("Content-Type", OCI_MANIFEST)],
        Some(&image.manifest),
    )?;
    Ok(put.status == 201)
}

/// A registry killed with SIGKILL in the middle of pushes comes back consistent: every
/// image it had accepted pulls back whole, and a collection leaves exactly their blobs.
#[test]
fn kill9_during_pushes_leaves_a_consistent_root() {
    let mut r = Registry::start(&[]);
    let base = r.url("");
    let pusher = std::thread::spawn(move || {
        let mut accepted = Vec::new();
        for i in 0..200u64 {
            let image = Image::random(500 + i, 1, 50_000);
            match try_push(&base, "crash/app", &format!("t{i}"), &image) {
                Ok(true) => accepted.push((format!("t{i}"), image)),
                Ok(false) => panic!("a push was refused"),
                Err(_) => break,
            }
        }
        accepted
    });
    std::thread::sleep(Duration::from_millis(700));
    r.kill9_and_restart();
    let accepted = pusher.join().unwrap();
    assert!(
        !accepted.is_empty() && accepted.len() < 200,
        "the kill came mid-way ({})",
        accepted.len()
    );
    for (tag, image) in &accepted {
        assert!(pull_problems(&r, "crash/app", tag).is_empty(), "{tag}");
        let head = r
            .req("HEAD", &format!("/v2/crash/app/manifests/{tag}"), &[], None)
            .expect(200);
        assert_eq!(
            head.header("docker-content-digest"),
            Some(image.digest().as_str())
        );
    }
    assert_eq!(
        std::fs::read_dir(r.root().join("ingest")).unwrap().count(),
        0
    );
    // A manifest committed just before the kill may have lost only its answer: whatever
    // the registry lists is whole too, and those are all it keeps blobs for.
    let listed = tags(&r, "crash/app");
    let listed = listed.as_array().unwrap();
    assert!(listed.len() >= accepted.len() && listed.len() <= accepted.len() + 1);
    for tag in listed {
        let problems = pull_problems(&r, "crash/app", tag.as_str().unwrap());
        assert!(problems.is_empty(), "{problems:?}");
    }
    let report = r.gc(&["--grace", "0s"]);
    assert_eq!(r.blob_files(), listed.len() * 3, "{report}");
}
