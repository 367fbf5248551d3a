//! `POST /containers/{id}/update`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use berth_api::container::HostConfig;
use serde_json::json;

use crate::{Daemon, Error};

pub fn routes() -> Router<Arc<Daemon>> {
    Router::new().route("/containers/{id}/update", post(update))
}

async fn update(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, Error> {
    let mut obj: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&body)
        .map_err(|e| Error::invalid(format!("invalid JSON body: {e}")))?;
    let family = &berth_api::fields::HOST_CONFIG;
    family.canonicalize(&mut obj);
    if let Some(msg) = family.mistyped(&obj) {
        return Err(Error::invalid(msg));
    }
    let h: HostConfig = serde_json::from_value(serde_json::Value::Object(obj))
        .map_err(|e| Error::invalid(format!("invalid JSON body: {e}")))?;
    let refused = family.refused(&h.rest);
    if !refused.is_empty() {
        return Err(Error::new(
            berth_core::ErrorKind::NotImplemented,
            format!("berth does not support {} yet", refused.join(", ")),
        ));
    }
    let (update, warnings) = crate::wire::resources::update(&h)?;
    let c = d.containers.get(&id)?;
    // A restart policy in the body reaches `Containers::set_restart_policy` (the hook the
    // restart-policy work extends) from inside the update.
    d.containers.update_resources(&c, update).await?;
    Ok(Json(json!({ "Warnings": warnings })))
}
