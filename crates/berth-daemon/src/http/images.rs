//! `/images/...`: import, list, inspect, tag, remove (save and load: `image_archive`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use berth_api::image::{
    DeleteItem, GraphDriver, ImageInspect, ImageSummary, ProgressMessage, RootFs,
};
use berth_image::{Image, ImportOptions, Reference};
use futures_util::TryStreamExt;
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::query::{Query, check_filters, labels_match};
use super::stream;
use crate::images::{Removed, tags};
use crate::{Daemon, Error};

pub fn routes() -> Router<Arc<Daemon>> {
    Router::new()
        .route("/images/json", get(list))
        .route("/images/create", post(create))
        .route(
            "/images/{*rest}",
            get(get_image).post(post_image).delete(delete),
        )
}

fn created_unix(i: &Image) -> i64 {
    i.config
        .created
        .as_deref()
        .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
        .map_or(0, |t| t.timestamp())
}

async fn list(State(d): State<Arc<Daemon>>, q: Query) -> Result<Json<Vec<ImageSummary>>, Error> {
    let filters = q.filters()?;
    check_filters(
        &filters,
        &["dangling", "reference", "label", "before", "since"],
    )?;
    let all = q.flag("all");
    let mut out = Vec::new();
    let images = d.images.store.list()?;
    // Intermediate images of builds (untagged, with children) show only with `all`, as Docker's.
    let parents: std::collections::BTreeSet<_> =
        images.iter().filter_map(|i| i.parent.clone()).collect();
    let order = |name: &str| -> Result<i64, Error> {
        let i = d.images.store.resolve(name)?;
        Ok(created_unix(&i))
    };
    let before = filters
        .get("before")
        .and_then(|v| v.first())
        .map(|n| order(n))
        .transpose()?;
    let since = filters
        .get("since")
        .and_then(|v| v.first())
        .map(|n| order(n))
        .transpose()?;
    for i in images {
        let mut repo_tags = tags(&i);
        if !all && repo_tags.is_empty() && parents.contains(&i.id) {
            continue;
        }
        if let Some(dangling) = filters.get("dangling") {
            let want = match dangling.first().map(String::as_str) {
                Some("true" | "1") => true,
                Some("false" | "0") => false,
                Some(v) => return Err(Error::invalid(format!("Invalid filter 'dangling=[{v}]'"))),
                None => continue,
            };
            if want != repo_tags.is_empty() {
                continue;
            }
        }
        if let Some(patterns) = filters.get("reference") {
            repo_tags.retain(|t| patterns.iter().any(|p| reference_matches(p, t)));
            if repo_tags.is_empty() {
                continue;
            }
        }
        let labels = i.config.config.labels.clone().unwrap_or_default();
        if let Some(wanted) = filters.get("label")
            && !labels_match(&labels, wanted)
        {
            continue;
        }
        let created = created_unix(&i);
        if before.is_some_and(|b| created >= b) || since.is_some_and(|s| created <= s) {
            continue;
        }
        let containers = d.containers.image_users(&i.id).len() as i64;
        out.push(ImageSummary {
            id: i.id.to_string(),
            parent_id: i.parent.as_ref().map(|p| p.to_string()).unwrap_or_default(),
            repo_tags,
            repo_digests: i.repo_digests.clone(),
            created,
            size: i.size as i64,
            shared_size: -1,
            virtual_size: i.size as i64,
            labels: labels.into_iter().collect(),
            containers: if q.flag("shared-size") {
                containers
            } else {
                -1
            },
        });
    }
    out.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
    Ok(Json(out))
}

/// Docker's `reference` filter: a glob on the familiar name, with or without the tag.
fn reference_matches(pattern: &str, tag: &str) -> bool {
    let repo = tag.rsplit_once(':').map_or(tag, |(r, _)| r);
    glob(pattern, tag) || glob(pattern, repo)
}

fn glob(p: &str, s: &str) -> bool {
    fn rec(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => {
                rec(&p[1..], s) || (!s.is_empty() && s[0] != b'/' && rec(p, &s[1..]))
            }
            (Some(b'?'), Some(c)) if *c != b'/' => rec(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => rec(&p[1..], &s[1..]),
            _ => false,
        }
    }
    rec(p.as_bytes(), s.as_bytes())
}

/// An image's run config as Docker's API shows it: a whole container config, with the
/// fields images never set present and empty.
fn api_config(c: &berth_image::config::RunConfig) -> serde_json::Value {
    let mut v = serde_json::to_value(c).expect("config serializes");
    let map = v.as_object_mut().expect("an object");
    for (k, empty) in [
        ("Hostname", serde_json::json!("")),
        ("Domainname", serde_json::json!("")),
        ("AttachStdin", serde_json::json!(false)),
        ("AttachStdout", serde_json::json!(false)),
        ("AttachStderr", serde_json::json!(false)),
        ("Tty", serde_json::json!(false)),
        ("OpenStdin", serde_json::json!(false)),
        ("StdinOnce", serde_json::json!(false)),
        ("Image", serde_json::json!("")),
    ] {
        map.entry(k).or_insert(empty);
    }
    v
}

/// `ContainerConfig`: the committing container's config when the image has one, else an
/// empty config carrying the image's volumes, where Docker's classic builder leaves them and
/// docker-compose 1.x looks for them to keep anonymous volumes across a recreate.
fn container_config(i: &Image) -> serde_json::Value {
    if let Some(c) = &i.config.container_config {
        return c.clone();
    }
    let empty = berth_image::config::RunConfig {
        volumes: i.config.config.volumes.clone(),
        ..Default::default()
    };
    api_config(&empty)
}

fn inspect(i: &Image) -> ImageInspect {
    ImageInspect {
        id: i.id.to_string(),
        repo_tags: tags(i),
        repo_digests: i.repo_digests.clone(),
        parent: i.parent.as_ref().map(|p| p.to_string()).unwrap_or_default(),
        comment: i.config.comment.clone().unwrap_or_default(),
        created: i.config.created.clone().unwrap_or_default(),
        docker_version: String::new(),
        author: i.config.author.clone().unwrap_or_default(),
        container: i.config.container.clone().unwrap_or_default(),
        container_config: container_config(i),
        config: api_config(&i.config.config),
        architecture: i.config.architecture.clone(),
        variant: i.config.variant.clone(),
        os: i.config.os.clone(),
        size: i.size as i64,
        virtual_size: i.size as i64,
        graph_driver: GraphDriver {
            name: "overlay2".into(),
            data: BTreeMap::new(),
        },
        root_fs: RootFs {
            kind: "layers".into(),
            layers: i
                .config
                .rootfs
                .diff_ids
                .iter()
                .map(ToString::to_string)
                .collect(),
        },
        metadata: BTreeMap::from([("LastTagTime".into(), crate::containers::ZERO_TIME.into())]),
    }
}

async fn get_image(
    State(d): State<Arc<Daemon>>,
    Path(rest): Path<String>,
    q: Query,
) -> Result<Response<Body>, Error> {
    if let Some(name) = rest.strip_suffix("/history") {
        let (d, name) = (d.clone(), name.to_string());
        let steps = crate::blocking::run("reading image history", move || history(&d, &name));
        return Ok(Json(steps.await?).into_response());
    }
    if let Some(name) = rest.strip_suffix("/get") {
        return super::image_archive::save(d, vec![name.to_string()]).await;
    }
    let Some(name) = rest.strip_suffix("/json") else {
        return Err(Error::not_found(format!("page not found: /images/{rest}")));
    };
    let named = d.images.store.resolve(name)?;
    // The platform asked for (API 1.49), else the one a container would run.
    let wanted = super::containers::platform(&q)?;
    let (i, _) = crate::containers::emulation::pick(&d.images.store, name, named, wanted.as_ref())?;
    Ok(Json(inspect(&i)).into_response())
}

/// `GET /images/{name}/history` in Docker's shape.
fn history(d: &Daemon, name: &str) -> Result<Vec<serde_json::Value>, Error> {
    Ok(d.images
        .history(name)?
        .into_iter()
        .map(|s| {
            serde_json::json!({
                "Id": s.image.as_ref().map_or("<missing>".to_string(), |i| i.id.to_string()),
                "Created": s.created,
                "CreatedBy": s.created_by,
                "Tags": s.image.as_ref().map(tags).filter(|t| !t.is_empty()),
                "Size": s.size,
                "Comment": s.comment,
            })
        })
        .collect())
}

async fn post_image(
    State(d): State<Arc<Daemon>>,
    Path(rest): Path<String>,
    headers: axum::http::HeaderMap,
    q: Query,
) -> Result<Response<Body>, Error> {
    if let Some(name) = rest.strip_suffix("/push") {
        return super::transfer::push(d, name, &q, &headers).await;
    }
    let Some(name) = rest.strip_suffix("/tag") else {
        return Err(Error::not_found(format!("page not found: /images/{rest}")));
    };
    d.images
        .tag(name, q.get("repo").unwrap_or(""), q.get("tag"))?;
    Ok((StatusCode::CREATED, "").into_response())
}

async fn delete(
    State(d): State<Arc<Daemon>>,
    Path(name): Path<String>,
    q: Query,
) -> Result<Json<Vec<DeleteItem>>, Error> {
    // Removing layers removes trees.
    crate::blocking::run("removing an image", move || delete_blocking(d, name, q)).await
}

fn delete_blocking(d: Arc<Daemon>, name: String, q: Query) -> Result<Json<Vec<DeleteItem>>, Error> {
    let removed = d.images.remove(&name, q.flag("force"))?;
    Ok(Json(
        removed
            .into_iter()
            .map(|r| match r {
                Removed::Untagged(name) => DeleteItem::Untagged(name),
                Removed::Deleted(id) => DeleteItem::Deleted(id.to_string()),
            })
            .collect(),
    ))
}

/// `POST /images/create`: `fromImage` pulls; `fromSrc=-` imports the request body,
/// `fromSrc=URL` what a GET of the URL answers.
async fn create(
    State(d): State<Arc<Daemon>>,
    headers: axum::http::HeaderMap,
    q: Query,
    body: Body,
) -> Result<Response<Body>, Error> {
    if q.get("fromImage").is_some_and(|s| !s.is_empty()) {
        stream::drain(body).await;
        return super::transfer::pull(d, &q, &headers).await;
    }
    let src = q.get("fromSrc").unwrap_or("").to_string();
    match import_options(&q) {
        Ok((target, opts)) if src != "-" => {
            stream::drain(body).await;
            super::image_import::from_url(d, &src, target, opts).await
        }
        Ok((target, opts)) => import(d, body, target, opts, Vec::new()).await,
        Err(e) => {
            stream::drain(body).await;
            Err(e)
        }
    }
}

/// What `POST /images/create` asks for: where the import goes and its config.
fn import_options(q: &Query) -> Result<(Option<Reference>, ImportOptions), Error> {
    let src = q.get("fromSrc").unwrap_or("");
    if src.is_empty() {
        return Err(Error::invalid("fromImage or fromSrc is required"));
    }
    let src = super::image_import::source(src);
    let target = match q.get("repo").filter(|r| !r.is_empty()) {
        Some(repo) => {
            let mut r = Reference::parse(repo)?;
            if let Some(t) = q.get("tag").filter(|t| !t.is_empty()) {
                r = r.with_tag(t)?;
            }
            Some(r.with_default_tag())
        }
        None => None,
    };
    let mut config = berth_image::RunConfig::default();
    for change in q.all("changes") {
        crate::changes::apply(&mut config, change)?;
    }
    let opts = ImportOptions {
        config,
        comment: q
            .get("message")
            .filter(|m| !m.is_empty())
            .map_or_else(|| format!("Imported from {src}"), str::to_string),
        platform: super::containers::platform(q)?,
    };
    Ok((target, opts))
}

/// Imports the tar `body`; `before` are the progress lines to send first.
pub(super) async fn import(
    d: Arc<Daemon>,
    body: Body,
    target: Option<Reference>,
    opts: ImportOptions,
    before: Vec<ProgressMessage>,
) -> Result<Response<Body>, Error> {
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let reader = SyncIoBridge::new(StreamReader::new(stream));
    let images = d.images.store.clone();
    let image = tokio::task::spawn_blocking(move || {
        let mut tar = crate::compress::decompress(std::io::BufReader::new(reader))
            .map_err(|e| Error::invalid(format!("reading import: {e}")))?;
        let imported = images.import(&mut tar, opts).map_err(Error::from);
        // A refused archive is still read to its end, so the client gets the answer.
        let _ = std::io::copy(&mut tar, &mut std::io::sink());
        imported
    })
    .await
    .map_err(|e| Error::internal("import task", e))??;
    if let Some(r) = &target {
        d.images.store.tag(&image.id, r)?;
    }
    d.events
        .publish("image", "import", image.id.as_str(), BTreeMap::new());
    let msg = ProgressMessage {
        status: Some(image.id.to_string()),
        ..ProgressMessage::default()
    };
    let mut out = Vec::new();
    for m in before.iter().chain([&msg]) {
        out.extend(serde_json::to_vec(m).expect("message serializes"));
        out.extend_from_slice(b"\r\n");
    }
    Ok(stream::response("application/json", Body::from(out)))
}
