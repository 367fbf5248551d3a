//! The admin socket, `<root>/admin.sock` (mode 0600): how `berth registry gc` asks a
//! registry that is being served (whose database it cannot open) to apply retention and
//! collect now. Whoever may open the socket may read and write the root anyway, so it
//! takes no credentials.
//!
//! One route: `POST /gc?dry_run=1&keep_tags=N&repository=GLOB&grace=DURATION`, answered
//! with the text report (see [`gc::report_text`](super::gc::report_text)).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::net::UnixListener;

use super::config::parse_duration;
use super::query;
use super::registry::{Registry, blocking};
use super::retention::Policy;

/// The socket's path in a root.
pub fn socket_path(root: &Path) -> PathBuf {
    root.join("admin.sock")
}

/// Binds the socket (replacing a stale one: the database lock says no other server has
/// this root).
pub fn bind(root: &Path) -> std::io::Result<UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    let path = socket_path(root);
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// The admin router.
pub fn router(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/gc", axum::routing::post(gc))
        .with_state(registry)
}

async fn gc(State(reg): State<Arc<Registry>>, req: Request) -> Response {
    let q = req.uri().query().map(String::from);
    let grace = match query::get(q.as_deref(), "grace").map(|g| parse_duration(&g)) {
        Some(Ok(g)) => g,
        Some(Err(e)) => return (StatusCode::BAD_REQUEST, format!("grace: {e}\n")).into_response(),
        None => reg.config.gc.grace,
    };
    let run = blocking(move || {
        let q = q.as_deref();
        let dry_run = query::get(q, "dry_run").is_some_and(|v| v == "1" || v == "true");
        let keep = query::get(q, "keep_tags").and_then(|n| n.parse().ok());
        let policies = match (keep, query::get(q, "repository")) {
            (Some(n), Some(p)) => vec![Policy::keep_latest(&p, n)],
            _ => reg.config.retention.clone(),
        };
        let retention = reg.apply_policies(&policies, dry_run)?;
        let collected = if dry_run {
            None
        } else {
            Some(reg.collect_garbage_with(grace)?)
        };
        Ok(super::gc::report_text(&retention, collected.as_ref()))
    })
    .await;
    match run {
        Ok(text) => text.into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}
