//! `POST /images/prune` with Docker's filters `dangling`, `until`, `label` and `label!`.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use berth_api::image::DeleteItem;

use super::query::{Query, check_filters, labels_match, time_value};
use crate::images::Removed;
use crate::{Daemon, Error};

pub fn routes() -> Router<Arc<Daemon>> {
    Router::new().route("/images/prune", post(prune))
}

async fn prune(State(d): State<Arc<Daemon>>, q: Query) -> Result<Json<serde_json::Value>, Error> {
    let filters = q.filters()?;
    check_filters(&filters, &["dangling", "until", "label", "label!"])?;
    let all = match filters
        .get("dangling")
        .and_then(|v| v.first())
        .map(String::as_str)
    {
        None | Some("true" | "1") => false,
        Some("false" | "0") => true,
        Some(v) => return Err(Error::invalid(format!("Invalid filter 'dangling=[{v}]'"))),
    };
    let until = match filters.get("until").and_then(|v| v.first()) {
        Some(t) => Some(time_value(t)?),
        None => None,
    };
    let with = filters.get("label").cloned().unwrap_or_default();
    let without = filters.get("label!").cloned().unwrap_or_default();
    let pruned = crate::blocking::run("pruning images", move || {
        d.images.prune(all, |i| {
            let labels = i.config.config.labels.clone().unwrap_or_default();
            let created = i
                .config
                .created
                .as_deref()
                .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
                .and_then(|t| t.timestamp_nanos_opt())
                .unwrap_or(0);
            until.is_none_or(|u| created < u)
                && labels_match(&labels, &with)
                && without
                    .iter()
                    .all(|w| !labels_match(&labels, std::slice::from_ref(w)))
        })
    })
    .await?;
    let deleted: Vec<DeleteItem> = pruned
        .removed
        .into_iter()
        .map(|r| match r {
            Removed::Untagged(name) => DeleteItem::Untagged(name),
            Removed::Deleted(id) => DeleteItem::Deleted(id.to_string()),
        })
        .collect();
    Ok(Json(serde_json::json!({
        "ImagesDeleted": if deleted.is_empty() { serde_json::Value::Null } else { serde_json::to_value(deleted).expect("serializes") },
        "SpaceReclaimed": pruned.reclaimed,
    })))
}
