//! `/plugins`: berth has no managed plugins (Docker's `plugin install`), so the list is empty and
//! every named plugin is Docker's 404; installing one is refused.

use std::sync::Arc;

use axum::extract::Path;
use axum::routing::{get, post};
use axum::{Json, Router};
use berth_core::ErrorKind;

use super::query::{Query, check_filters};
use crate::{Daemon, Error};

pub fn routes() -> Router<Arc<Daemon>> {
    Router::new()
        .route("/plugins", get(list))
        .route("/plugins/privileges", get(unsupported))
        .route("/plugins/pull", post(unsupported))
        .route("/plugins/create", post(unsupported))
        // Names may hold slashes (`vieux/sshfs:latest`): the action is the last segment.
        .route("/plugins/{*rest}", get(named).post(named).delete(removed))
}

/// `GET /plugins`: none. The filters are checked as Docker checks them.
async fn list(q: Query) -> Result<Json<Vec<serde_json::Value>>, Error> {
    check_filters(&q.filters()?, &["capability", "enabled"])?;
    Ok(Json(Vec::new()))
}

/// `{name}/json`, `/enable`, `/disable`, `/set`, `/push`, `/upgrade`: no such plugin.
async fn named(Path(rest): Path<String>) -> Error {
    match rest.rsplit_once('/') {
        Some((name, "json" | "enable" | "disable" | "set" | "push" | "upgrade")) => not_found(name),
        _ => Error::not_found(format!("page not found: /plugins/{rest}")),
    }
}

/// `DELETE /plugins/{name}`.
async fn removed(Path(name): Path<String>) -> Error {
    not_found(&name)
}

/// dockerd's `errNotFound`: the name as given, Go-quoted.
fn not_found(name: &str) -> Error {
    Error::not_found(format!("plugin {} not found", serde_json::json!(name)))
}

async fn unsupported() -> Error {
    Error::new(
        ErrorKind::NotImplemented,
        "berth does not support plugins: plugins cannot be installed",
    )
}
