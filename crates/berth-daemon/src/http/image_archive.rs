//! `GET /images/get`, `GET /images/{name}/get` (save) and `POST /images/load`: archives out
//! as a streamed tar, archives in from the streamed request body with Docker's JSON progress
//! stream as the answer.

use std::io;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::Response;
use axum::routing::{get, post};
use berth_api::image::ProgressMessage;
use bytes::Bytes;
use futures_util::TryStreamExt;
use tokio::sync::mpsc;
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::container_files::ChannelWriter;
use super::query::Query;
use super::stream;
use crate::images::LoadOutput;
use crate::{Daemon, Error};

/// Routes that must be matched before the `/images/{*rest}` catch-all (static paths win).
pub fn routes() -> Router<Arc<Daemon>> {
    Router::new()
        .route("/images/get", get(save_many))
        .route("/images/load", post(load))
}

async fn save_many(State(d): State<Arc<Daemon>>, q: Query) -> Result<Response<Body>, Error> {
    save(d, q.all("names").to_vec()).await
}

/// The archive of `names`: every name is resolved first (an unknown one is a 404 before any
/// byte goes out), then the tar streams; a failure midway ends the body with an error.
pub async fn save(d: Arc<Daemon>, names: Vec<String>) -> Result<Response<Body>, Error> {
    let d2 = d.clone();
    let items =
        crate::blocking::run("resolving images", move || d2.images.save_items(&names)).await?;
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(16);
    let out = ChannelWriter::new(tx.clone());
    tokio::task::spawn_blocking(move || {
        if let Err(e) = d.images.save(&items, out) {
            tracing::warn!(error = %e.message, "save failed");
            let _ = tx.blocking_send(Err(io::Error::other(e.message)));
        }
    });
    let body =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) });
    Ok(stream::response(
        "application/x-tar",
        Body::from_stream(body),
    ))
}

fn message(o: LoadOutput) -> ProgressMessage {
    match o {
        LoadOutput::Layer { id, size, done } => {
            let current = if done { size } else { 0 };
            ProgressMessage {
                status: Some("Loading layer".into()),
                id: Some(id),
                progress_detail: Some(serde_json::json!({"current": current, "total": size})),
                ..ProgressMessage::default()
            }
        }
        LoadOutput::Line(text) => ProgressMessage {
            stream: Some(format!("{text}\n")),
            ..ProgressMessage::default()
        },
    }
}

/// Answers with a JSON stream once the archive has been read, and with `quiet` once it is
/// loaded, as Docker does (it answers with its first output): skopeo's `docker-daemon:` stops
/// sending when the answer starts, and returns when it has it;
/// a refused archive is an error message in that stream (status 200), after the rest of the
/// body was read so the client sees it.
async fn load(State(d): State<Arc<Daemon>>, q: Query, body: Body) -> Response<Body> {
    let quiet = q.flag("quiet");
    let stream_in = body.into_data_stream().map_err(io::Error::other);
    let mut reader = SyncIoBridge::new(StreamReader::new(stream_in));
    let (tx, out) = stream::channel();
    let (ready_tx, ready) = tokio::sync::oneshot::channel::<()>();
    tokio::task::spawn_blocking(move || {
        // Fired by the first output (the archive is spooled by then; with `quiet`, the first
        // line comes when the images are in, as with Docker) or the end.
        let mut ready_tx = Some(ready_tx);
        let mut say = |o: LoadOutput| {
            if quiet && matches!(o, LoadOutput::Layer { .. }) {
                return;
            }
            if let Some(r) = ready_tx.take() {
                let _ = r.send(());
            }
            let _ = tx.blocking_send(stream::message_line(&message(o)));
        };
        let result = d.images.load(&mut reader, &mut say);
        if let Err(e) = result {
            let _ = io::copy(&mut reader, &mut io::sink());
            let _ = tx.blocking_send(stream::message_line(&ProgressMessage {
                error: Some(e.message.clone()),
                error_detail: Some(serde_json::json!({ "message": e.message })),
                ..ProgressMessage::default()
            }));
        }
        if let Some(r) = ready_tx.take() {
            let _ = r.send(());
        }
    });
    let _ = ready.await;
    stream::response("application/json", out)
}
