//! `POST /commit`: a new image from a container.
//!
//! `pause` (true by default) freezes a running container while its changes are read.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::query::Query;
use crate::images::CommitOptions;
use crate::{Daemon, Error};

pub fn routes() -> Router<Arc<Daemon>> {
    Router::new().route("/commit", post(commit))
}

async fn commit(
    State(d): State<Arc<Daemon>>,
    q: Query,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), Error> {
    if let Some(p) = q.get("pause")
        && !matches!(
            p.to_ascii_lowercase().as_str(),
            "" | "0" | "1" | "true" | "false"
        )
    {
        return Err(Error::invalid(format!(
            "strconv.ParseBool: parsing \"{p}\": invalid syntax"
        )));
    }
    let pause = !matches!(
        q.get("pause").map(str::to_ascii_lowercase).as_deref(),
        Some("0" | "false")
    );
    let text = |k: &str| q.get(k).unwrap_or_default().to_string();
    let repo = text("repo");
    let opts = CommitOptions {
        container: text("container"),
        name: (!repo.is_empty()).then(|| (repo, q.get("tag").map(str::to_string))),
        comment: text("comment"),
        author: text("author"),
        config: crate::wire::commit::config(&body)?,
        changes: q.all("changes").to_vec(),
        pause,
    };
    let id = d.images.commit(opts).await?;
    Ok((StatusCode::CREATED, Json(json!({ "Id": id.to_string() }))))
}
