//! `berth registry serve` against the distribution spec (the conformance suite's workflows,
//! statuses and headers, reproduced with raw HTTP) and against real clients: skopeo (copy,
//! inspect, list-tags, delete; with htpasswd, tokens and TLS) and oras (an artifact with a
//! subject, found through the referrers API).

mod common;
mod registry_common;

use registry_common::*;

/// `/v2/` answers with the API version header.
#[test]
fn base_endpoint_says_registry_2() {
    let r = Registry::start(&[]);
    let resp = r.req("GET", "/v2/", &[], None).expect(200);
    assert_eq!(
        resp.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );
}

/// Push workflows: monolithic POST, POST+PUT, chunked PATCHes (out of order: 416),
/// upload status and cancel, sha512 content, cross-repository and anonymous mounts.
#[test]
fn push_workflows_follow_the_spec() {
    let r = Registry::start(&[]);
    // Monolithic: POST ?digest= with the body.
    let blob = noise(1, 5000);
    let resp = r
        .req(
            "POST",
            &format!("/v2/team/app/blobs/uploads/?digest={}", sha256(&blob)),
            &[],
            Some(&blob),
        )
        .expect(201);
    assert_eq!(
        resp.header("location"),
        Some(format!("/v2/team/app/blobs/{}", sha256(&blob)).as_str())
    );
    assert_eq!(
        resp.header("docker-content-digest"),
        Some(sha256(&blob).as_str())
    );

    // POST then PUT.
    let blob2 = noise(2, 3000);
    push_blob(&r, "team/app", &blob2, &[]).expect(201);
    r.req(
        "HEAD",
        &format!("/v2/team/app/blobs/{}", sha256(&blob2)),
        &[],
        None,
    )
    .expect(200);

    // Chunked: PATCH, PATCH, PUT; a chunk out of order is 416 with the upload's Range.
    let blob3 = noise(3, 10_000);
    let start = r
        .req("POST", "/v2/team/app/blobs/uploads/", &[], None)
        .expect(202);
    assert!(start.header("docker-upload-uuid").is_some());
    assert!(start.header("oci-chunk-min-length").is_some());
    let loc = start.header("location").unwrap().to_string();
    let first = r
        .req(
            "PATCH",
            &loc,
            &[("Content-Range", "0-3999"), ("Content-Length", "4000")],
            Some(&blob3[..4000]),
        )
        .expect(202);
    assert_eq!(first.header("range"), Some("0-3999"));
    let loc = first.header("location").unwrap().to_string();
    let wrong = r
        .req(
            "PATCH",
            &loc,
            &[("Content-Range", "5000-5999")],
            Some(&blob3[5000..6000]),
        )
        .expect(416);
    assert_eq!(wrong.header("range"), Some("0-3999"));
    let status = r.req("GET", &loc, &[], None).expect(204);
    assert_eq!(status.header("range"), Some("0-3999"));
    r.req(
        "PATCH",
        &loc,
        &[("Content-Range", "4000-8999")],
        Some(&blob3[4000..9000]),
    )
    .expect(202);
    // A last chunk out of order is refused too; the upload goes on from where it was.
    let final_url = format!("{loc}?digest={}", sha256(&blob3));
    let early = r.req(
        "PUT",
        &final_url,
        &[("Content-Range", "9500-9999")],
        Some(&blob3[9500..]),
    );
    assert_eq!(early.expect(416).header("range"), Some("0-8999"));
    let done = r
        .req(
            "PUT",
            &format!("{loc}?digest={}", sha256(&blob3)),
            &[("Content-Range", "9000-9999")],
            Some(&blob3[9000..]),
        )
        .expect(201);
    assert_eq!(
        done.header("docker-content-digest"),
        Some(sha256(&blob3).as_str())
    );
    let back = r
        .req(
            "GET",
            &format!("/v2/team/app/blobs/{}", sha256(&blob3)),
            &[],
            None,
        )
        .expect(200);
    assert_eq!(back.body, blob3);

    // A wrong digest at the end: DIGEST_INVALID, and the session is gone.
    let start = r
        .req("POST", "/v2/team/app/blobs/uploads/", &[], None)
        .expect(202);
    let loc = start.header("location").unwrap().to_string();
    let bad = r
        .req(
            "PUT",
            &format!("{loc}?digest={}", sha256(b"other")),
            &[],
            Some(b"content"),
        )
        .expect(400);
    assert_eq!(bad.code(), "DIGEST_INVALID");
    assert_eq!(
        r.req("GET", &loc, &[], None).expect(404).code(),
        "BLOB_UPLOAD_UNKNOWN"
    );

    // Cancel.
    let start = r
        .req("POST", "/v2/team/app/blobs/uploads/", &[], None)
        .expect(202);
    let loc = start.header("location").unwrap().to_string();
    r.req("DELETE", &loc, &[], None).expect(204);
    r.req("GET", &loc, &[], None).expect(404);

    // sha512 content.
    let long = {
        use sha2::Digest as _;
        format!("sha512:{}", hex(&sha2::Sha512::digest(&blob2)))
    };
    r.req(
        "POST",
        &format!("/v2/team/app/blobs/uploads/?digest={long}"),
        &[],
        Some(&blob2),
    )
    .expect(201);
    let got = r
        .req("GET", &format!("/v2/team/app/blobs/{long}"), &[], None)
        .expect(200);
    assert_eq!(got.body, blob2);

    // Mounts: from a repository that has it (201), from one that does not (202), and
    // anonymous (the registry has it: 201).
    let d = sha256(&blob);
    r.req("HEAD", &format!("/v2/other/blobs/{d}"), &[], None)
        .expect(404);
    let m = r
        .req(
            "POST",
            &format!("/v2/other/blobs/uploads/?mount={d}&from=team/app"),
            &[],
            None,
        )
        .expect(201);
    assert_eq!(
        m.header("location"),
        Some(format!("/v2/other/blobs/{d}").as_str())
    );
    r.req("HEAD", &format!("/v2/other/blobs/{d}"), &[], None)
        .expect(200);
    let no = r
        .req(
            "POST",
            &format!("/v2/third/blobs/uploads/?mount={d}&from=nowhere"),
            &[],
            None,
        )
        .expect(202);
    assert!(no.header("docker-upload-uuid").is_some());
    r.req(
        "POST",
        &format!("/v2/fourth/blobs/uploads/?mount={d}"),
        &[],
        None,
    )
    .expect(201);
}

/// Pull workflow: manifests by tag and digest with their headers, HEAD, blobs with Range.
#[test]
fn pull_workflow_serves_what_was_pushed() {
    let r = Registry::start(&[]);
    let image = Image::random(10, 2, 2000);
    let put = push_image(&r, "lib/img", "v1", &image).expect(201);
    assert_eq!(
        put.header("docker-content-digest"),
        Some(image.digest().as_str())
    );
    assert_eq!(
        put.header("location"),
        Some(format!("/v2/lib/img/manifests/{}", image.digest()).as_str())
    );
    for reference in ["v1".to_string(), image.digest()] {
        let got = r
            .req(
                "GET",
                &format!("/v2/lib/img/manifests/{reference}"),
                &[],
                None,
            )
            .expect(200);
        assert_eq!(got.body, image.manifest);
        assert_eq!(got.header("content-type"), Some(OCI_MANIFEST));
        assert_eq!(
            got.header("docker-content-digest"),
            Some(image.digest().as_str())
        );
        let head = r
            .req(
                "HEAD",
                &format!("/v2/lib/img/manifests/{reference}"),
                &[],
                None,
            )
            .expect(200);
        assert_eq!(
            head.header("content-length"),
            Some(image.manifest.len().to_string().as_str())
        );
    }
    assert!(pull_problems(&r, "lib/img", "v1").is_empty());
    let layer = &image.layers[0];
    let path = format!("/v2/lib/img/blobs/{}", sha256(layer));
    let part = r
        .req("GET", &path, &[("Range", "bytes=10-19")], None)
        .expect(206);
    assert_eq!(part.body, &layer[10..20]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 10-19/{}", layer.len()).as_str())
    );
    let past = r
        .req(
            "GET",
            &path,
            &[("Range", &format!("bytes={}-", layer.len() + 5))],
            None,
        )
        .expect(416);
    assert_eq!(
        past.header("content-range"),
        Some(format!("bytes */{}", layer.len()).as_str())
    );
    let head = r.req("HEAD", &path, &[], None).expect(200);
    assert_eq!(
        head.header("content-length"),
        Some(layer.len().to_string().as_str())
    );
    // Blobs are per repository: another repository does not see it.
    assert_eq!(
        r.req(
            "GET",
            &format!("/v2/other/blobs/{}", sha256(layer)),
            &[],
            None
        )
        .expect(404)
        .code(),
        "BLOB_UNKNOWN"
    );
    // Docker's schema 2 manifests and lists are kept as they came.
    let list = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [{ "mediaType": OCI_MANIFEST, "digest": image.digest(), "size": image.manifest.len(),
                        "platform": { "architecture": "amd64", "os": "linux" } }]
    }))
    .unwrap();
    let list_type = "application/vnd.docker.distribution.manifest.list.v2+json";
    // A PUT by digest may tag it too (`?tag=`), answered with OCI-Tag.
    let by_digest = put_manifest(
        &r,
        "lib/img",
        &format!("{}?tag=t1&tag=t2", sha256(&list)),
        &list,
        list_type,
    )
    .expect(201);
    assert_eq!(by_digest.header("oci-tag"), Some("t1, t2"));
    r.req("GET", "/v2/lib/img/manifests/t2", &[], None)
        .expect(200);
    put_manifest(&r, "lib/img", "multi", &list, list_type).expect(201);
    let got = r
        .req("GET", "/v2/lib/img/manifests/multi", &[], None)
        .expect(200);
    assert_eq!(got.header("content-type"), Some(list_type));
}

/// Manifests are checked on PUT: the blobs and child manifests they name must be there.
#[test]
fn manifest_put_checks_what_it_names() {
    let r = Registry::start(&[]);
    let image = Image::random(20, 1, 100);
    let missing = put_manifest(&r, "a", "v1", &image.manifest, OCI_MANIFEST).expect(400);
    assert_eq!(missing.code(), "MANIFEST_BLOB_UNKNOWN");
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{ "mediaType": OCI_MANIFEST, "digest": image.digest(), "size": image.manifest.len() }]
    }))
    .unwrap();
    let child = put_manifest(
        &r,
        "a",
        "idx",
        &index,
        "application/vnd.oci.image.index.v1+json",
    )
    .expect(400);
    assert_eq!(child.code(), "MANIFEST_BLOB_UNKNOWN");
    push_image(&r, "a", "v1", &image).expect(201);
    put_manifest(
        &r,
        "a",
        "idx",
        &index,
        "application/vnd.oci.image.index.v1+json",
    )
    .expect(201);
    let garbage = put_manifest(&r, "a", "v2", b"{not json", OCI_MANIFEST).expect(400);
    assert_eq!(garbage.code(), "MANIFEST_INVALID");
    let mismatch = put_manifest(
        &r,
        "a",
        "v2",
        &image.manifest,
        "application/vnd.oci.image.index.v1+json",
    )
    .expect(400);
    assert_eq!(mismatch.code(), "MANIFEST_INVALID");
    let wrong_digest =
        put_manifest(&r, "a", &sha256(b"x"), &image.manifest, OCI_MANIFEST).expect(400);
    assert_eq!(wrong_digest.code(), "DIGEST_INVALID");
    assert_eq!(
        put_manifest(&r, "a", "bad:tag:", &image.manifest, OCI_MANIFEST).status,
        400
    );
}

/// Content discovery: tags list and catalog with n/last pagination and Link headers.
#[test]
fn tags_and_catalog_paginate() {
    let r = Registry::start(&[]);
    let image = Image::random(30, 1, 100);
    for tag in ["d", "a", "c", "b", "e"] {
        push_image(&r, "p/q", tag, &image).expect(201);
    }
    let all = r
        .req("GET", "/v2/p/q/tags/list", &[], None)
        .expect(200)
        .json();
    assert_eq!(
        all,
        serde_json::json!({ "name": "p/q", "tags": ["a", "b", "c", "d", "e"] })
    );
    let page = r.req("GET", "/v2/p/q/tags/list?n=2", &[], None).expect(200);
    assert_eq!(page.json()["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(
        page.header("link"),
        Some("</v2/p/q/tags/list?n=2&last=b>; rel=\"next\"")
    );
    let next = r
        .req("GET", "/v2/p/q/tags/list?n=2&last=b", &[], None)
        .expect(200);
    assert_eq!(next.json()["tags"], serde_json::json!(["c", "d"]));
    let last = r
        .req("GET", "/v2/p/q/tags/list?n=2&last=d", &[], None)
        .expect(200);
    assert_eq!(last.json()["tags"], serde_json::json!(["e"]));
    assert!(last.header("link").is_none());
    assert_eq!(
        r.req("GET", "/v2/p/q/tags/list?n=0", &[], None)
            .expect(200)
            .json()["tags"],
        serde_json::json!([])
    );
    assert_eq!(
        r.req("GET", "/v2/nope/tags/list", &[], None)
            .expect(404)
            .code(),
        "NAME_UNKNOWN"
    );
    push_image(&r, "p/r", "x", &image).expect(201);
    let cat = r.req("GET", "/v2/_catalog?n=1", &[], None).expect(200);
    assert_eq!(cat.json()["repositories"], serde_json::json!(["p/q"]));
    assert!(cat.header("link").unwrap().contains("last=p/q"));
}

/// Content management: delete tags, manifests and blobs.
#[test]
fn deletes_remove_tags_manifests_and_blobs() {
    let r = Registry::start(&[]);
    let image = Image::random(40, 1, 100);
    push_image(&r, "d", "v1", &image).expect(201);
    push_image(&r, "d", "v2", &image).expect(201);
    r.req("DELETE", "/v2/d/manifests/v1", &[], None).expect(202);
    r.req("GET", "/v2/d/manifests/v1", &[], None).expect(404);
    r.req("GET", "/v2/d/manifests/v2", &[], None).expect(200);
    r.req(
        "DELETE",
        &format!("/v2/d/manifests/{}", image.digest()),
        &[],
        None,
    )
    .expect(202);
    assert_eq!(
        r.req("GET", "/v2/d/manifests/v2", &[], None)
            .expect(404)
            .code(),
        "MANIFEST_UNKNOWN"
    );
    assert_eq!(
        r.req(
            "DELETE",
            &format!("/v2/d/manifests/{}", image.digest()),
            &[],
            None
        )
        .expect(404)
        .code(),
        "MANIFEST_UNKNOWN"
    );
    let layer = sha256(&image.layers[0]);
    r.req("DELETE", &format!("/v2/d/blobs/{layer}"), &[], None)
        .expect(202);
    r.req("GET", &format!("/v2/d/blobs/{layer}"), &[], None)
        .expect(404);
}

/// The error body has Docker's codes with the spec's statuses.
#[test]
fn errors_carry_the_spec_codes() {
    let r = Registry::start(&[]);
    assert_eq!(
        r.req("GET", "/v2/Bad/tags/list", &[], None)
            .expect(400)
            .code(),
        "NAME_INVALID"
    );
    assert_eq!(
        r.req("GET", "/v2/a/manifests/nothing", &[], None)
            .expect(404)
            .code(),
        "MANIFEST_UNKNOWN"
    );
    assert_eq!(
        r.req("GET", "/v2/a/blobs/sha256:123", &[], None)
            .expect(400)
            .code(),
        "DIGEST_INVALID"
    );
    let d = sha256(b"x");
    assert_eq!(
        r.req("GET", &format!("/v2/a/blobs/{d}"), &[], None)
            .expect(404)
            .code(),
        "BLOB_UNKNOWN"
    );
    assert_eq!(
        r.req("GET", "/v2/a/blobs/uploads/nope", &[], None)
            .expect(404)
            .code(),
        "BLOB_UPLOAD_UNKNOWN"
    );
    assert_eq!(
        r.req("GET", "/v2/a/tags/list?n=x", &[], None)
            .expect(400)
            .code(),
        "PAGINATION_NUMBER_INVALID"
    );
}

/// The referrers API: manifests with a subject (answered with OCI-Subject), listed as an
/// index, filtered by artifactType with OCI-Filters-Applied.
#[test]
fn referrers_list_and_filter() {
    let r = Registry::start(&[]);
    let image = Image::random(50, 1, 100);
    push_image(&r, "ref", "v1", &image).expect(201);
    let empty = b"{}";
    push_blob(&r, "ref", empty, &[]).expect(201);
    let artifact = |kind: &str, n: u32| {
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": kind,
            "config": { "mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(empty), "size": 2 },
            "layers": [{ "mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(empty), "size": 2 }],
            "subject": { "mediaType": OCI_MANIFEST, "digest": image.digest(), "size": image.manifest.len() },
            "annotations": { "n": n.to_string() }
        }))
        .unwrap()
    };
    let sig = artifact("application/vnd.example.sig", 1);
    let sbom = artifact("application/vnd.example.sbom", 2);
    for a in [&sig, &sbom] {
        let put = put_manifest(&r, "ref", &sha256(a), a, OCI_MANIFEST).expect(201);
        assert_eq!(put.header("oci-subject"), Some(image.digest().as_str()));
    }
    let all = r
        .req(
            "GET",
            &format!("/v2/ref/referrers/{}", image.digest()),
            &[],
            None,
        )
        .expect(200);
    assert_eq!(
        all.header("content-type"),
        Some("application/vnd.oci.image.index.v1+json")
    );
    let index = all.json();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);
    let only = r
        .req(
            "GET",
            &format!(
                "/v2/ref/referrers/{}?artifactType=application/vnd.example.sbom",
                image.digest()
            ),
            &[],
            None,
        )
        .expect(200);
    assert_eq!(only.header("oci-filters-applied"), Some("artifactType"));
    let m = &only.json()["manifests"];
    assert_eq!(m.as_array().unwrap().len(), 1);
    assert_eq!(m[0]["digest"], sha256(&sbom));
    assert_eq!(m[0]["artifactType"], "application/vnd.example.sbom");
    assert_eq!(m[0]["annotations"]["n"], "2");
    let none = r
        .req(
            "GET",
            &format!("/v2/ref/referrers/{}", sha256(b"nobody")),
            &[],
            None,
        )
        .expect(200);
    assert_eq!(none.json()["manifests"], serde_json::json!([]));
}

fn skopeo(args: &[&str]) -> String {
    let out = std::process::Command::new("skopeo")
        .args(args)
        .output()
        .unwrap();
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "skopeo {args:?}: {o}{e}");
    o.into_owned()
}

/// skopeo copies an OCI layout in, inspects it, lists tags, copies it back out (same
/// digests), and deletes it.
#[test]
fn skopeo_copies_inspects_lists_and_deletes() {
    let r = Registry::start(&[]);
    let work = tempfile::tempdir().unwrap();
    let image = Image::random(60, 2, 50_000);
    image.write_layout(&work.path().join("in"), "v1");
    let src = format!("oci:{}:v1", work.path().join("in").display());
    skopeo(&[
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &src,
        &r.image("team/app:v1"),
    ]);
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        "--format",
        "v2s2",
        &src,
        &r.image("team/app:docker"),
    ]);
    let inspect: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--tls-verify=false",
        &r.image("team/app:v1"),
    ]))
    .unwrap();
    assert_eq!(inspect["Digest"], image.digest());
    assert_eq!(inspect["Layers"].as_array().unwrap().len(), 2);
    let tags: serde_json::Value = serde_json::from_str(&skopeo(&[
        "list-tags",
        "--tls-verify=false",
        &r.image("team/app"),
    ]))
    .unwrap();
    assert_eq!(tags["Tags"], serde_json::json!(["docker", "v1"]));
    let out = work.path().join("out");
    let dest = format!("oci:{}:v1", out.display());
    skopeo(&[
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        &r.image("team/app:v1"),
        &dest,
    ]);
    for b in image.blobs() {
        assert!(
            out.join("blobs/sha256").join(&sha256(b)[7..]).exists(),
            "blob {} came back",
            sha256(b)
        );
    }
    assert!(out.join("blobs/sha256").join(&image.digest()[7..]).exists());
    skopeo(&["delete", "--tls-verify=false", &r.image("team/app:docker")]);
    let tags: serde_json::Value = serde_json::from_str(&skopeo(&[
        "list-tags",
        "--tls-verify=false",
        &r.image("team/app"),
    ]))
    .unwrap();
    assert_eq!(tags["Tags"], serde_json::json!(["v1"]));
}

fn htpasswd(dir: &std::path::Path, user: &str, password: &str) -> String {
    let file = dir.join("htpasswd");
    let out = std::process::Command::new("htpasswd")
        .args(["-B", "-b", "-c"])
        .arg(&file)
        .args([user, password])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    file.display().to_string()
}

/// Basic auth against htpasswd, over TLS: skopeo with --creds and --cert-dir.
#[test]
fn skopeo_with_htpasswd_over_tls() {
    let pki = common::Pki::new();
    let work = tempfile::tempdir().unwrap();
    let users = htpasswd(work.path(), "alice", "s3cret");
    let (cert, key) = (pki.p("server/cert.pem"), pki.p("server/key.pem"));
    let r = Registry::start(&["--htpasswd", &users, "--tls-cert", &cert, "--tls-key", &key]);
    let anon = r.req("GET", "/v2/", &[], None).expect(401);
    assert_eq!(anon.code(), "UNAUTHORIZED");
    assert!(
        anon.header("www-authenticate")
            .unwrap()
            .starts_with("Basic realm=")
    );
    let certs = work.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    std::fs::copy(pki.p("server/ca.pem"), certs.join("ca.crt")).unwrap();
    let image = Image::random(70, 1, 1000);
    image.write_layout(&work.path().join("in"), "v1");
    let src = format!("oci:{}:v1", work.path().join("in").display());
    let cert_dir = certs.display().to_string();
    let wrong = std::process::Command::new("skopeo")
        .args([
            "copy",
            "--dest-cert-dir",
            &cert_dir,
            "--dest-creds",
            "alice:wrong",
            &src,
            &r.image("sec/app:v1"),
        ])
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    skopeo(&[
        "copy",
        "--preserve-digests",
        "--dest-cert-dir",
        &cert_dir,
        "--dest-creds",
        "alice:s3cret",
        &src,
        &r.image("sec/app:v1"),
    ]);
    let inspect: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--cert-dir",
        &cert_dir,
        "--creds",
        "alice:s3cret",
        &r.image("sec/app:v1"),
    ]))
    .unwrap();
    assert_eq!(inspect["Digest"], image.digest());
    // Without the CA, TLS verification fails; with --tls-verify=false it does not.
    let unverified = std::process::Command::new("skopeo")
        .args(["inspect", "--creds", "alice:s3cret", &r.image("sec/app:v1")])
        .output()
        .unwrap();
    assert!(!unverified.status.success());
    skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--creds",
        "alice:s3cret",
        &r.image("sec/app:v1"),
    ]);
}

/// Token auth: 401 with a Bearer challenge naming the scope, a token from the registry's
/// own endpoint for an htpasswd user, and skopeo going through the whole flow.
#[test]
fn token_auth_issues_and_verifies_bearer_tokens() {
    let work = tempfile::tempdir().unwrap();
    let users = htpasswd(work.path(), "bob", "pw");
    let key = work.path().join("token.key");
    let out = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success());
    let r = Registry::start(&["--htpasswd", &users, "--token-key", key.to_str().unwrap()]);
    let challenge = r.req("GET", "/v2/tok/app/tags/list", &[], None).expect(401);
    let www = challenge.header("www-authenticate").unwrap().to_string();
    assert!(
        www.starts_with(&format!("Bearer realm=\"http://{}/token\"", r.addr)),
        "{www}"
    );
    assert!(
        www.contains("service=\"berth-registry\"")
            && www.contains("scope=\"repository:tok/app:pull\""),
        "{www}"
    );
    r.req(
        "GET",
        "/token?service=berth-registry&scope=repository:tok/app:pull",
        &[],
        None,
    )
    .expect(401);
    let basic = format!("Basic {}", base64("bob:pw"));
    let issued = r
        .req(
            "GET",
            "/token?service=berth-registry&scope=repository:tok/app:pull,push",
            &[("Authorization", &basic)],
            None,
        )
        .expect(200)
        .json();
    let token = issued["token"].as_str().unwrap();
    // containerd's OAuth2 password grant gets one too.
    let form = b"grant_type=password&username=bob&password=pw&service=berth-registry&scope=repository%3Atok%2Fapp%3Apull&client_id=x";
    let oauth = r
        .req(
            "POST",
            "/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(form),
        )
        .expect(200)
        .json();
    assert!(
        oauth["access_token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3)
    );
    let wrong = b"grant_type=password&username=bob&password=nope&service=berth-registry";
    r.req(
        "POST",
        "/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(wrong),
    )
    .expect(401);
    let bearer = format!("Bearer {token}");
    let image = Image::random(80, 1, 100);
    push_blob(&r, "tok/app", &image.config, &[("Authorization", &bearer)]).expect(201);
    // The token is for tok/app only.
    let other = r
        .req(
            "POST",
            "/v2/tok/other/blobs/uploads/",
            &[("Authorization", &bearer)],
            None,
        )
        .expect(401);
    assert!(
        other
            .header("www-authenticate")
            .unwrap()
            .contains("repository:tok/other:push")
    );
    let forged = format!("{}x", &bearer[..bearer.len() - 1]);
    r.req(
        "GET",
        "/v2/tok/app/tags/list",
        &[("Authorization", &forged)],
        None,
    )
    .expect(401);
    // basic credentials are not enough when tokens are configured.
    r.req("GET", "/v2/", &[("Authorization", &basic)], None)
        .expect(401);
    let layout = work.path().join("in");
    image.write_layout(&layout, "v1");
    let src = format!("oci:{}:v1", layout.display());
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        "bob:pw",
        &src,
        &r.image("tok/app:v1"),
    ]);
    skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--creds",
        "bob:pw",
        &r.image("tok/app:v1"),
    ]);
}

fn base64(s: &str) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// oras (Python) pushes an artifact whose subject is an image; the referrers API finds
/// it, filtered by its artifactType.
#[test]
fn oras_artifact_with_subject_is_a_referrer() {
    let r = Registry::start(&[]);
    let image = Image::random(90, 1, 100);
    push_image(&r, "art/app", "v1", &image).expect(201);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("sbom.json"), r#"{"packages":[]}"#).unwrap();
    std::fs::write(work.path().join("config.json"), "{}").unwrap();
    // This oras has no artifact_type: the config's media type stands for it, as the spec says.
    let script = format!(
        r#"
import oras.client, oras.oci
c = oras.client.OrasClient(hostname="{addr}", insecure=True)
c.push(target="{addr}/art/app:sbom", files=["sbom.json"],
       manifest_config="config.json:application/vnd.example.sbom",
       subject=oras.oci.Subject(mediaType="{mt}", digest="{digest}", size={size}),
       manifest_annotations={{"org.example": "yes"}}, disable_path_validation=True)
"#,
        addr = r.addr,
        mt = OCI_MANIFEST,
        digest = image.digest(),
        size = image.manifest.len(),
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "oras: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let all = r
        .req(
            "GET",
            &format!("/v2/art/app/referrers/{}", image.digest()),
            &[],
            None,
        )
        .expect(200)
        .json();
    let found = all["manifests"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{all}");
    let kind = found[0]["artifactType"].as_str().unwrap().to_string();
    assert_eq!(kind, "application/vnd.example.sbom");
    assert_eq!(found[0]["annotations"]["org.example"], "yes");
    let filtered = r
        .req(
            "GET",
            &format!(
                "/v2/art/app/referrers/{}?artifactType={kind}",
                image.digest()
            ),
            &[],
            None,
        )
        .expect(200)
        .json();
    assert_eq!(filtered["manifests"].as_array().unwrap().len(), 1);
    let other = r
        .req(
            "GET",
            &format!(
                "/v2/art/app/referrers/{}?artifactType=application/x-none",
                image.digest()
            ),
            &[],
            None,
        )
        .expect(200)
        .json();
    assert_eq!(other["manifests"], serde_json::json!([]));
}

/// /metrics counts requests in Prometheus' text format; the access log names them.
#[test]
fn metrics_and_access_log() {
    let r = Registry::start(&[]);
    r.req("GET", "/v2/", &[], None).expect(200);
    r.req("GET", "/v2/a/manifests/x", &[], None).expect(404);
    let text = r.req("GET", "/metrics", &[], None).expect(200).text();
    assert!(
        text.contains(
            "berth_registry_http_requests_total{route=\"base\",method=\"GET\",code=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "berth_registry_http_requests_total{route=\"manifests\",method=\"GET\",code=\"404\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("# TYPE berth_registry_gc_runs_total counter"));
    let log = r.log();
    assert!(
        log.contains("berth_distribution::access")
            && log.contains("path=\"/v2/a/manifests/x\"")
            && log.contains("status=404"),
        "{log}"
    );
}
