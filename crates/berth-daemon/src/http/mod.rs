//! The Docker Engine API over HTTP/1.1 on unix sockets, TCP and TLS ([`Listener`]).
//!
//! Every path is accepted with or without a `/vX.Y` prefix; the prefix is checked against the
//! supported range (Docker's messages when it is out of range) and stripped before routing, and
//! the version is available to handlers as an [`ApiVersion`] extension.

mod archive;
mod build;
mod commit;
mod container_files;
mod container_net;
mod containers;
mod detach;
mod error;
mod exec;
mod image_archive;
mod image_import;
mod image_prune;
mod images;
mod listener;
mod network_connect;
mod networks;
mod plugins;
mod query;
mod stats;
mod stream;
mod swarm;
mod system;
pub mod tls;
mod top;
mod transfer;
mod update;
mod volumes;

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, Uri};
use berth_api::{ApiVersion, MAX_VERSION};
use hyper_util::rt::TokioIo;
use tower::ServiceExt;

use crate::Daemon;

pub use error::error_response;
pub use listener::Listener;

/// The API routes, without version handling: handy for tests that call it directly.
pub fn router(daemon: Arc<Daemon>) -> Router {
    Router::new()
        .merge(system::routes())
        .merge(image_archive::routes())
        .merge(image_prune::routes())
        .merge(images::routes())
        .merge(transfer::routes())
        .merge(build::routes())
        .merge(containers::routes())
        .merge(container_files::routes())
        .merge(commit::routes())
        .merge(exec::routes())
        .merge(top::routes())
        .merge(stats::routes())
        .merge(update::routes())
        .merge(archive::routes())
        .merge(volumes::routes())
        .merge(networks::routes())
        .merge(network_connect::routes())
        .merge(swarm::routes())
        .merge(plugins::routes())
        .fallback(|uri: Uri| async move {
            error_response(&crate::Error::not_found(format!(
                "page not found: {}",
                uri.path()
            )))
        })
        .with_state(daemon)
}

/// skopeo's `docker-daemon:` transport (containers/image) asks for API 1.22 whatever the
/// daemon offers; the image archive endpoints it uses are the same in 1.22, so they answer it.
fn archive_for_skopeo(v: ApiVersion, tail: &str) -> bool {
    let archive = tail == "/images/load"
        || tail == "/images/get"
        || (tail.starts_with("/images/") && tail.ends_with("/get"));
    archive && v.at_least(1, 22) && v < berth_api::MIN_VERSION
}

/// Strips and checks the `/vX.Y` prefix, then routes.
pub async fn handle(router: Router, mut req: Request<Body>) -> Result<Response<Body>, Infallible> {
    let has_body = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .is_some_and(|l| l != "0")
        || req
            .headers()
            .contains_key(axum::http::header::TRANSFER_ENCODING);
    let path = req.uri().path().to_string();
    let mut version = MAX_VERSION;
    if let Some(rest) = path.strip_prefix("/v") {
        let (v, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if let Ok(parsed) = v.parse::<ApiVersion>() {
            if let Some(msg) = parsed.check()
                && !archive_for_skopeo(parsed, tail)
            {
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
    let unrouted = matches!(
        resp.status(),
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
    );
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
    // A body nobody routed was not read: the connection cannot carry another request.
    if has_body && unrouted {
        h.insert(
            axum::http::header::CONNECTION,
            "close".parse().expect("header value"),
        );
    }
    if resp.status() == StatusCode::NOT_MODIFIED {
        *resp.body_mut() = Body::empty();
    }
    Ok(resp)
}

/// A request body that stops arriving for this long (`read_timeout` times this) fails, so a
/// client that sends half a request cannot hold a worker forever.
const BODY_IDLE_FACTOR: u32 = 4;

/// Serves the API on every one of `listeners` until `shutdown` resolves; connections in flight
/// are dropped at shutdown (their containers live on in their monitors). A request's headers,
/// and a TLS handshake, must arrive within `read_timeout`.
pub async fn serve(
    listeners: Vec<Listener>,
    daemon: Arc<Daemon>,
    read_timeout: std::time::Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let router = router(daemon);
    tokio::pin!(shutdown);
    loop {
        let accepts = listeners.iter().map(|l| Box::pin(l.accept()));
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            (accepted, _, _) = futures_util::future::select_all(accepts) => match accepted {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
        };
        let router = router.clone();
        tokio::spawn(async move {
            if let Some(io) = accepted.ready(read_timeout).await {
                serve_connection(io, router, read_timeout).await;
            }
        });
    }
}

/// HTTP/1.1 on one connection, upgrades (attach, exec) included.
async fn serve_connection(
    io: Box<dyn listener::Io>,
    router: Router,
    read_timeout: std::time::Duration,
) {
    let idle = read_timeout * BODY_IDLE_FACTOR;
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        handle(router.clone(), req.map(|b| idle_timeout(b, idle)))
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(read_timeout)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    if let Err(e) = conn.await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// `body`, failing once no data has arrived for `idle`.
fn idle_timeout(body: hyper::body::Incoming, idle: std::time::Duration) -> Body {
    use futures_util::StreamExt;
    let frames = http_body_util::BodyStream::new(body);
    let data = futures_util::stream::unfold(Some(frames), move |frames| async move {
        let mut frames = frames?;
        loop {
            return match tokio::time::timeout(idle, frames.next()).await {
                Ok(None) => None,
                Ok(Some(Ok(frame))) => match frame.into_data() {
                    Ok(d) => Some((Ok(d), Some(frames))),
                    Err(_) => continue, // trailers
                },
                Ok(Some(Err(e))) => Some((Err(std::io::Error::other(e)), None)),
                Err(_) => Some((
                    Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the request body stopped arriving",
                    )),
                    None,
                )),
            };
        }
    });
    Body::from_stream(data)
}
