//! `POST /networks/{id}/connect` and `/disconnect`: thin handlers over the container
//! service's `connect` and `disconnect`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use berth_api::container::EndpointSettings;
use serde::Deserialize;

use crate::{Daemon, Error};

pub fn routes() -> Router<Arc<Daemon>> {
    Router::new()
        .route("/networks/{id}/connect", post(connect))
        .route("/networks/{id}/disconnect", post(disconnect))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConnectBody {
    #[serde(default, deserialize_with = "berth_api::null_default")]
    container: String,
    #[serde(default)]
    endpoint_config: Option<EndpointSettings>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DisconnectBody {
    #[serde(default, deserialize_with = "berth_api::null_default")]
    container: String,
    #[serde(default, deserialize_with = "berth_api::null_default")]
    force: bool,
}

fn body<'a, T: Deserialize<'a>>(b: &'a [u8]) -> Result<T, Error> {
    serde_json::from_slice(b).map_err(|e| Error::invalid(format!("invalid JSON body: {e}")))
}

const HOST: &str =
    "container cannot be disconnected from host network or connected to host network";

async fn connect(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    b: Bytes,
) -> Result<StatusCode, Error> {
    let req: ConnectBody = body(&b)?;
    if id == "host" || id == "none" {
        return Err(Error::new(berth_core::ErrorKind::Forbidden, HOST));
    }
    let n = d.networks.get(&id)?;
    let c = d.containers.get(&req.container)?;
    let mut ep = crate::wire::net::endpoint(&n.name, &req.endpoint_config.unwrap_or_default())?;
    super::container_net::check_endpoint(&d, &mut ep)?;
    d.containers.connect(&c, ep).await?;
    d.networks.endpoint_event("connect", &n, &c.id);
    Ok(StatusCode::OK)
}

async fn disconnect(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    b: Bytes,
) -> Result<StatusCode, Error> {
    let req: DisconnectBody = body(&b)?;
    if id == "host" {
        return Err(Error::new(berth_core::ErrorKind::Forbidden, HOST));
    }
    let n = d.networks.get(&id)?;
    let c = d.containers.get(&req.container)?;
    // `force` lets Docker remove endpoints of a container it no longer knows; a container
    // berth knows is disconnected the same way with or without it.
    let _ = req.force;
    d.containers.disconnect(&c, &n.id, &n.name).await?;
    d.networks.endpoint_event("disconnect", &n, &c.id);
    Ok(StatusCode::OK)
}
