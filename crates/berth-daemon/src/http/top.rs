//! `GET /containers/{id}/top`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::query::Query;
use crate::{Daemon, Error};

pub fn routes() -> Router<Arc<Daemon>> {
    Router::new().route("/containers/{id}/top", get(top))
}

async fn top(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    q: Query,
) -> Result<Json<serde_json::Value>, Error> {
    let c = d.containers.get(&id)?;
    let (titles, processes) = d.containers.top(&c, q.get("ps_args").unwrap_or("")).await?;
    Ok(Json(json!({ "Titles": titles, "Processes": processes })))
}
