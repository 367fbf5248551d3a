//! The Docker Engine API over HTTP/1.1 on a unix socket.
//!
//! Every path is accepted with or without a `/vX.Y` prefix; the prefix is checked against the
//! supported range (Docker's messages when it is out of range) and stripped before routing, and
//! the version is available to handlers as an [`ApiVersion`] extension.

mod build;
mod containers;
mod error;
mod exec;
mod images;
mod query;
mod stream;
mod system;
mod top;

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, Uri};
use berth_api::{ApiVersion, MAX_VERSION};
use hyper_util::rt::TokioIo;
use tokio::net::UnixListener;
use tower::ServiceExt;

use crate::Daemon;

pub use error::error_response;

/// The API routes, without version handling: handy for tests that call it directly.
pub fn router(daemon: Arc<Daemon>) -> Router {
    Router::new()
        .merge(system::routes())
        .merge(images::routes())
        .merge(build::routes())
        .merge(containers::routes())
        .merge(exec::routes())
        .merge(top::routes())
        .fallback(|uri: Uri| async move {
            error_response(&crate::Error::not_found(format!(
                "page not found: {}",
                uri.path()
            )))
        })
        .with_state(daemon)
}

/// Strips and checks the `/vX.Y` prefix, then routes.
pub async fn handle(router: Router, mut req: Request<Body>) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_string();
    let mut version = MAX_VERSION;
    if let Some(rest) = path.strip_prefix("/v") {
        let (v, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if let Ok(parsed) = v.parse::<ApiVersion>() {
            if let Some(msg) = parsed.check() {
                return Ok(error_response(&crate::Error::invalid(msg)));
            }
            version = parsed;
            let pq = match req.uri().query() {
                Some(q) => format!("{tail}?{q}"),
                None => tail.to_string(),
            };
            let mut parts = req.uri().clone().into_parts();
            parts.path_and_query = Some(pq.parse().unwrap_or_else(|_| "/".parse().expect("valid")));
            *req.uri_mut() = Uri::from_parts(parts).unwrap_or_default();
        }
    }
    req.extensions_mut().insert(version);
    let mut resp = router.oneshot(req).await.unwrap_or_else(|e| match e {});
    let h = resp.headers_mut();
    h.insert(
        "Api-Version",
        MAX_VERSION.to_string().parse().expect("header value"),
    );
    h.insert(
        "Server",
        format!("berth/{} (linux)", env!("CARGO_PKG_VERSION"))
            .parse()
            .expect("header value"),
    );
    h.insert("Ostype", "linux".parse().expect("header value"));
    if resp.status() == StatusCode::NOT_MODIFIED {
        *resp.body_mut() = Body::empty();
    }
    Ok(resp)
}

/// Serves the API on `listener` until `shutdown` resolves; connections in flight are dropped
/// at shutdown (their containers live on in their monitors).
pub async fn serve(
    listener: UnixListener,
    daemon: Arc<Daemon>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let router = router(daemon);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
        };
        let router = router.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                handle(router.clone(), req.map(Body::new))
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}
