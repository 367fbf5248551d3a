//! `/volumes`: create, list (filters `dangling`, `name`, `label`, `driver`), inspect, remove,
//! prune, in Docker's shapes.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use berth_api::ApiVersion;
use serde::Deserialize;
use serde_json::{Value, json};

use super::query::{Query, check_filters, labels_match};
use crate::volumes::Volume;
use crate::{Daemon, Error};

pub fn routes() -> Router<Arc<Daemon>> {
    Router::new()
        .route("/volumes", get(list))
        .route("/volumes/create", post(create))
        .route("/volumes/prune", post(prune))
        .route("/volumes/{name}", get(inspect).delete(remove))
}

/// A volume as Docker's API shows it.
fn shown(v: &Volume) -> Value {
    json!({
        "CreatedAt": v.created_at,
        "Driver": v.driver,
        // Docker shows a volume without labels as null.
        "Labels": if v.labels.is_empty() { Value::Null } else { json!(v.labels) },
        "Mountpoint": v.mountpoint,
        "Name": v.name,
        "Options": if v.options.is_empty() { Value::Null } else { json!(v.options) },
        "Scope": "local",
    })
}

/// The body of `POST /volumes/create`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateBody {
    #[serde(default, deserialize_with = "berth_api::null_default")]
    name: String,
    #[serde(default, deserialize_with = "berth_api::null_default")]
    driver: String,
    #[serde(default, deserialize_with = "berth_api::null_default")]
    driver_opts: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "berth_api::null_default")]
    labels: BTreeMap<String, String>,
}

async fn create(
    State(d): State<Arc<Daemon>>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), Error> {
    let b: CreateBody = if body.iter().all(u8::is_ascii_whitespace) {
        CreateBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| Error::invalid(format!("invalid JSON body: {e}")))?
    };
    let v = crate::blocking::run("creating a volume", move || {
        d.volumes
            .create(&b.name, &b.driver, &b.driver_opts, b.labels)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(shown(&v))))
}

async fn list(State(d): State<Arc<Daemon>>, q: Query) -> Result<Json<Value>, Error> {
    let filters = q.filters()?;
    check_filters(&filters, &["dangling", "name", "label", "driver"])?;
    if let Some(bad) = filters
        .get("dangling")
        .into_iter()
        .flatten()
        .find(|v| !matches!(v.as_str(), "true" | "false" | "1" | "0"))
    {
        return Err(Error::invalid(format!("invalid filter 'dangling={bad}'")));
    }
    let volumes: Vec<Value> = d
        .volumes
        .list()?
        .iter()
        .filter(|v| {
            let dangling = d.volumes.users(&v.name).is_empty();
            filters.iter().all(|(k, vals)| match k.as_str() {
                "dangling" => vals
                    .iter()
                    .all(|x| matches!(x.as_str(), "true" | "1") == dangling),
                "name" => vals.iter().any(|n| v.name.contains(n.as_str())),
                "driver" => vals.contains(&v.driver),
                "label" => labels_match(&v.labels, vals),
                _ => false,
            })
        })
        .map(shown)
        .collect();
    Ok(Json(json!({ "Volumes": volumes, "Warnings": null })))
}

async fn inspect(
    State(d): State<Arc<Daemon>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, Error> {
    Ok(Json(shown(&d.volumes.get(&name)?)))
}

async fn remove(
    State(d): State<Arc<Daemon>>,
    Path(name): Path<String>,
    q: Query,
) -> Result<StatusCode, Error> {
    let force = q.flag("force");
    crate::blocking::run("removing a volume", move || d.volumes.remove(&name, force)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Since API 1.42 only anonymous volumes go unless `all=true`; before, every unused one.
async fn prune(
    State(d): State<Arc<Daemon>>,
    Extension(version): Extension<ApiVersion>,
    q: Query,
) -> Result<Json<Value>, Error> {
    let filters = q.filters()?;
    check_filters(&filters, &["label", "label!", "all"])?;
    let all = version
        < ApiVersion {
            major: 1,
            minor: 42,
        }
        || filters
            .get("all")
            .is_some_and(|v| v.iter().any(|x| matches!(x.as_str(), "true" | "1")));
    let (with, without) = (
        filters.get("label").cloned().unwrap_or_default(),
        filters.get("label!").cloned().unwrap_or_default(),
    );
    let (deleted, reclaimed) = crate::blocking::run("pruning volumes", move || {
        d.volumes.prune(|v| {
            (all || v.anonymous())
                && d.volumes.users(&v.name).is_empty()
                && labels_match(&v.labels, &with)
                && without
                    .iter()
                    .all(|w| !labels_match(&v.labels, std::slice::from_ref(w)))
        })
    })
    .await?;
    Ok(Json(json!({
        "VolumesDeleted": if deleted.is_empty() { Value::Null } else { deleted.into() },
        "SpaceReclaimed": reclaimed,
    })))
}
