//! The HTTP front: one router for `/v2/...` (parsed into a [`Route`] and dispatched by
//! method), the token endpoint, `/metrics`, and a layer that logs every request
//! (`berth_distribution::access`) and counts it.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use super::auth::Action;
use super::error::RegistryError;
use super::registry::Registry;
use super::routes::Route;
use super::{blobs, manifests, query, referrers, tags, uploads};

/// The user a request was authenticated as, for the access log.
#[derive(Debug, Clone)]
struct User(String);

/// The registry's router.
pub fn router(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/token", axum::routing::get(token).post(token))
        .route("/metrics", axum::routing::get(metrics))
        .fallback(dispatch)
        .layer(middleware::from_fn_with_state(registry.clone(), access_log))
        .with_state(registry)
}

/// A response with `status`, `headers` and no body.
pub fn empty(status: StatusCode, headers: &[(HeaderName, String)]) -> Response {
    let mut resp = (status, Body::empty()).into_response();
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            resp.headers_mut().insert(name.clone(), v);
        }
    }
    if !resp.headers().contains_key(header::CONTENT_LENGTH) {
        resp.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
    resp
}

/// `Docker-Content-Digest`.
pub const DIGEST_HEADER: HeaderName = HeaderName::from_static("docker-content-digest");

async fn access_log(State(reg): State<Arc<Registry>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let label = match path.as_str() {
        "/token" => "token",
        "/metrics" => "metrics",
        p => Route::parse(p).map(|r| r.label()).unwrap_or("other"),
    };
    let mut resp = next.run(req).await;
    let took = start.elapsed();
    let status = resp.status().as_u16();
    let user = resp.extensions_mut().remove::<User>().map(|u| u.0);
    reg.metrics.request(label, method.as_str(), status, took);
    tracing::info!(
        target: "berth_distribution::access",
        method = %method,
        path,
        status,
        user = user.as_deref().unwrap_or("-"),
        micros = took.as_micros() as u64,
        "request"
    );
    resp
}

/// What a request does to its repository.
fn actions(method: &Method, route: &Route, query: Option<&str>) -> Vec<Action> {
    match *method {
        Method::GET | Method::HEAD => vec![Action::Pull],
        Method::DELETE => vec![Action::Delete],
        _ if matches!(route, Route::Uploads(_)) && query::get(query, "mount").is_some() => {
            vec![Action::Pull, Action::Push]
        }
        _ => vec![Action::Push],
    }
}

/// This registry's token endpoint as the client reached it.
fn realm(reg: &Registry, headers: &HeaderMap) -> String {
    let scheme = if reg.config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("{scheme}://{host}/token")
}

async fn dispatch(State(reg): State<Arc<Registry>>, req: Request) -> Response {
    let mut resp = route(reg, req).await.unwrap_or_else(|e| e.into_response());
    resp.headers_mut().insert(
        HeaderName::from_static("docker-distribution-api-version"),
        HeaderValue::from_static("registry/2.0"),
    );
    resp
}

async fn route(reg: Arc<Registry>, req: Request) -> Result<Response, RegistryError> {
    let (parts, body) = req.into_parts();
    let route = Route::parse(parts.uri.path())?;
    let q = parts.uri.query();
    let realm = realm(&reg, &parts.headers);
    let acts = actions(&parts.method, &route, q);
    let user = if reg.auth.enabled() {
        let reg = reg.clone();
        let headers = parts.headers.clone();
        let repo = route.repository().map(String::from);
        // bcrypt is slow on purpose: off the async workers.
        super::registry::blocking(move || reg.auth.check(&headers, repo.as_deref(), &acts, &realm))
            .await?
    } else {
        None
    };
    let m = &parts.method;
    let h = &parts.headers;
    let mut resp = match route {
        Route::Base if m == Method::GET || m == Method::HEAD => Ok(empty(StatusCode::OK, &[])),
        Route::Catalog if m == Method::GET => tags::catalog(reg, q).await,
        Route::Tags(name) if m == Method::GET => tags::list(reg, name, q).await,
        Route::Manifest(name, r) => match *m {
            Method::GET => manifests::get(reg, name, r, false).await,
            Method::HEAD => manifests::get(reg, name, r, true).await,
            Method::PUT => manifests::put(reg, name, r, q, h, body).await,
            Method::DELETE => manifests::delete(reg, name, r).await,
            _ => Err(RegistryError::Unsupported),
        },
        Route::Blob(name, d) => match *m {
            Method::GET => blobs::get(reg, name, d, h, false).await,
            Method::HEAD => blobs::get(reg, name, d, h, true).await,
            Method::DELETE => blobs::delete(reg, name, d).await,
            _ => Err(RegistryError::Unsupported),
        },
        Route::Uploads(name) if m == Method::POST => uploads::post(reg, name, q, h, body).await,
        Route::Upload(name, id) => match *m {
            Method::PATCH => uploads::patch(reg, name, id, h, body).await,
            Method::PUT => uploads::put(reg, name, id, q, h, body).await,
            Method::GET => uploads::status(reg, name, id).await,
            Method::DELETE => uploads::cancel(reg, name, id).await,
            _ => Err(RegistryError::Unsupported),
        },
        Route::Referrers(name, d) if m == Method::GET => referrers::list(reg, name, d, q).await,
        _ => Err(RegistryError::Unsupported),
    }
    .unwrap_or_else(|e| e.into_response());
    if let Some(u) = user {
        resp.extensions_mut().insert(User(u));
    }
    Ok(resp)
}

/// `GET /token?service=&scope=` with basic credentials (Docker's token flow), or `POST
/// /token` with an OAuth2 password grant in the form body (containerd's, when it has
/// credentials); scopes are repeated or space-separated.
async fn token(State(reg): State<Arc<Registry>>, req: Request) -> Response {
    let post = req.method() == Method::POST;
    let mut params = query::pairs(req.uri().query());
    let mut credentials = super::auth::credentials(req.headers());
    if post {
        let Ok(body) = axum::body::to_bytes(req.into_body(), 64 * 1024).await else {
            return RegistryError::Body("token request too large".into()).into_response();
        };
        params = query::pairs(Some(&String::from_utf8_lossy(&body)));
        let field = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        credentials = field("username").zip(field("password"));
    }
    let issued = super::registry::blocking(move || {
        let scopes: Vec<String> = params
            .iter()
            .filter(|(k, _)| k == "scope")
            .flat_map(|(_, v)| v.split(' ').map(String::from))
            .collect();
        let service = params
            .iter()
            .find(|(k, _)| k == "service")
            .map(|(_, v)| v.as_str());
        reg.auth.issue(credentials, service, &scopes)
    })
    .await;
    match issued {
        Ok(t) => axum::Json(t).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn metrics(State(reg): State<Arc<Registry>>) -> Response {
    let text = reg.metrics.render(reg.uploads_in_progress());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
