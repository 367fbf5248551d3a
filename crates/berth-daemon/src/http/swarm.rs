//! Swarm mode's endpoints, answered as by a Docker engine that is in no swarm
//! (`daemon/cluster`): everything a manager would serve is 503 `errNoManager`, leaving is 503
//! "not part of a swarm". Creating or joining a swarm is refused: berth has no swarm mode.

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use berth_core::ErrorKind;

use crate::{Daemon, Error};

/// dockerd's `errNoManager` for a node with no swarm.
pub const NO_MANAGER: &str = "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.";

/// dockerd's `errNoSwarm`.
pub const NO_SWARM: &str = "This node is not part of a swarm";

pub fn routes() -> Router<Arc<Daemon>> {
    let mut r = Router::new()
        .route("/swarm", get(no_manager))
        .route("/swarm/unlockkey", get(no_manager))
        .route("/swarm/update", post(no_manager))
        .route("/swarm/unlock", post(no_manager))
        .route("/swarm/leave", post(no_swarm))
        .route("/swarm/init", post(no_swarm_mode))
        .route("/swarm/join", post(no_swarm_mode))
        .route("/services/{id}/logs", get(no_manager))
        .route("/tasks/{id}/logs", get(no_manager))
        .route("/tasks", get(no_manager))
        .route("/tasks/{id}", get(no_manager));
    // The objects a manager keeps: list, inspect, update, remove; and create for most.
    for kind in ["services", "nodes", "secrets", "configs"] {
        r = r
            .route(&format!("/{kind}"), get(no_manager))
            .route(
                &format!("/{kind}/{{id}}"),
                get(no_manager).delete(no_manager),
            )
            .route(&format!("/{kind}/{{id}}/update"), post(no_manager));
        if kind != "nodes" {
            r = r.route(&format!("/{kind}/create"), post(no_manager));
        }
    }
    r
}

async fn no_manager() -> Error {
    Error::new(ErrorKind::Unavailable, NO_MANAGER)
}

async fn no_swarm() -> Error {
    Error::new(ErrorKind::Unavailable, NO_SWARM)
}

async fn no_swarm_mode() -> Error {
    Error::new(
        ErrorKind::NotImplemented,
        "berth does not implement swarm mode: this node cannot create or join a swarm",
    )
}
