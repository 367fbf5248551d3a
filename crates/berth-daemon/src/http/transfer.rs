//! Pull and push at the API: `POST /images/create?fromImage=`, `POST /images/{name}/push`,
//! `POST /auth`, `GET /distribution/{name}/json`. The services report [`Progress`]; here it
//! becomes Docker's JSON messages. As dockerd, a transfer that fails before its first message
//! answers with an error status; after it, the error is the stream's last message.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Response};
use axum::routing::post;
use axum::{Json, Router};
use berth_api::image::ProgressMessage;
use berth_distribution::client::Credentials;
use tokio::sync::mpsc;

use super::stream;
use crate::images::Progress;
use crate::{Daemon, Error};

pub fn routes() -> Router<Arc<Daemon>> {
    Router::new()
        .route("/auth", post(auth))
        .route("/distribution/{*rest}", axum::routing::get(distribution))
}

/// `POST /auth`: checks the credentials with the registry, as `docker login` asks.
async fn auth(
    State(d): State<Arc<Daemon>>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, Error> {
    let creds: Credentials = serde_json::from_slice(&body)
        .map_err(|e| Error::invalid(format!("invalid login request: {e}")))?;
    let creds = creds.normalized();
    let host = berth_distribution::client::endpoint::registry_host(&creds.server_address);
    let token = d
        .images
        .registry
        .login(&host, &creds)
        .await
        .map_err(crate::images::registry::login_error)?;
    Ok(Json(serde_json::json!({
        "Status": "Login Succeeded",
        "IdentityToken": token,
    })))
}

/// `GET /distribution/{name}/json`: the registry's descriptor of an image and its platforms.
async fn distribution(
    State(d): State<Arc<Daemon>>,
    axum::extract::Path(rest): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, Error> {
    let Some(name) = rest.strip_suffix("/json") else {
        return Err(Error::not_found(format!(
            "page not found: /distribution/{rest}"
        )));
    };
    let reference = berth_image::Reference::parse(name)?;
    let (descriptor, platforms) = d
        .images
        .distribution_info(reference, credentials(&headers))
        .await?;
    Ok(Json(serde_json::json!({
        "Descriptor": {
            "mediaType": descriptor.media_type,
            "digest": descriptor.digest,
            "size": descriptor.size,
        },
        "Platforms": platforms,
    })))
}

/// The credentials of `X-Registry-Auth` (anonymous without one).
pub fn credentials(headers: &HeaderMap) -> Credentials {
    headers
        .get("x-registry-auth")
        .and_then(|v| v.to_str().ok())
        .map(Credentials::from_header)
        .unwrap_or_default()
}

/// Docker's JSON message for a progress line.
pub fn message(p: &Progress) -> ProgressMessage {
    let detail = match (&p.detail, &p.id) {
        (Some((current, total, _)), _) => {
            Some(serde_json::json!({"current": current, "total": total}))
        }
        (None, Some(_)) => Some(serde_json::json!({})),
        (None, None) => None,
    };
    ProgressMessage {
        status: Some(p.status.clone()),
        id: p.id.clone(),
        progress_detail: detail,
        progress: p
            .detail
            .map(|(current, total, _)| berth_api::units::progress_bar(current, total, None)),
        aux: p.aux.as_ref().map(
            |(tag, digest, size)| serde_json::json!({"Tag": tag, "Digest": digest, "Size": size}),
        ),
        ..ProgressMessage::default()
    }
}

/// Runs `work` (which reports on the sender it is given) and answers with its progress; an
/// error before any progress is the answer's status.
pub async fn respond<F>(
    d: Arc<Daemon>,
    work: impl FnOnce(Arc<Daemon>, mpsc::UnboundedSender<Progress>) -> F,
) -> Result<Response<Body>, Error>
where
    F: std::future::Future<Output = Result<(), Error>> + Send + 'static,
{
    let (say, mut heard) = mpsc::unbounded_channel();
    let mut task = tokio::spawn(work(d, say));
    let joined = |r: Result<Result<(), Error>, tokio::task::JoinError>| {
        r.map_err(|e| Error::internal("transfer task", e))
            .and_then(|r| r)
    };
    let mut finished = None;
    let first = tokio::select! {
        biased;
        m = heard.recv() => m,
        done = &mut task => {
            finished = Some(joined(done));
            heard.try_recv().ok()
        }
    };
    // No output yet: the answer is the task's end, an error status if it failed.
    if first.is_none() {
        let done = match finished.take() {
            Some(r) => r,
            None => joined(task.await),
        };
        done?;
        return Ok(stream::response("application/json", Body::empty()));
    }
    let (tx, body) = stream::channel();
    tokio::spawn(async move {
        if let Some(m) = first
            && tx.send(stream::message_line(&message(&m))).await.is_err()
        {
            task.abort();
            return;
        }
        while let Some(m) = heard.recv().await {
            if tx.send(stream::message_line(&message(&m))).await.is_err() {
                // The client left: dockerd cancels the transfer.
                task.abort();
                return;
            }
        }
        let result = match finished {
            Some(r) => r,
            None => joined(task.await),
        };
        let Err(end) = result else { return };
        let end = end.message;
        let _ = tx
            .send(stream::message_line(&ProgressMessage {
                error: Some(end.clone()),
                error_detail: Some(serde_json::json!({ "message": end })),
                ..ProgressMessage::default()
            }))
            .await;
    });
    Ok(stream::response("application/json", body))
}

/// `POST /images/create?fromImage=NAME[&tag=TAG|DIGEST][&platform=P]`: a pull; without a tag
/// anywhere, of every tag (`docker pull -a`).
pub async fn pull(
    d: Arc<Daemon>,
    q: &super::query::Query,
    headers: &HeaderMap,
) -> Result<Response<Body>, Error> {
    let from = q.get("fromImage").unwrap_or_default();
    let mut reference = berth_image::Reference::parse(from)?;
    if let Some(tag) = q.get("tag").filter(|t| !t.is_empty()) {
        reference = match tag.contains(':') {
            true => berth_image::Reference::parse(&format!("{}@{tag}", reference.repository()))?,
            false => reference.with_tag(tag)?,
        };
    }
    let all_tags = reference.tag().is_none() && reference.digest().is_none();
    let platform = match q.get("platform").filter(|p| !p.is_empty()) {
        Some(p) => {
            Some(berth_image::Platform::parse(p).map_err(|e| Error::invalid(e.to_string()))?)
        }
        None => None,
    };
    let opts = crate::images::PullOptions {
        reference,
        platform,
        creds: credentials(headers),
    };
    respond(d, move |d, say| async move {
        d.images.pull(opts, all_tags, &say).await
    })
    .await
}

/// `POST /images/{name}/push[?tag=T]`: without a tag, every tag of the repository.
pub async fn push(
    d: Arc<Daemon>,
    name: &str,
    q: &super::query::Query,
    headers: &HeaderMap,
) -> Result<Response<Body>, Error> {
    let mut reference = berth_image::Reference::parse(name)?;
    if let Some(tag) = q.get("tag").filter(|t| !t.is_empty()) {
        reference = reference.with_tag(tag)?;
    }
    let creds = credentials(headers);
    respond(d, move |d, say| async move {
        d.images.push(reference, creds, &say).await
    })
    .await
}
