//! `GET /containers/{id}/changes` (`docker diff`) and `GET /containers/{id}/export`.

use std::io::{self, Write};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::Response;
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::stream;
use crate::{Daemon, Error};

pub fn routes() -> Router<Arc<Daemon>> {
    Router::new()
        .route("/containers/{id}/changes", get(changes))
        .route("/containers/{id}/export", get(export))
}

/// `[{"Path", "Kind"}]`, or `null` when nothing changed, as Docker answers.
async fn changes(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    let c = d.containers.get(&id)?;
    let list = d.containers.changes(&c).await?;
    if list.is_empty() {
        return Ok(Json(Value::Null));
    }
    let items: Vec<Value> = list
        .iter()
        .map(|ch| json!({ "Path": ch.path, "Kind": ch.kind as u8 }))
        .collect();
    Ok(Json(Value::Array(items)))
}

/// The tar streams out as it is written; a failure midway ends the body with an error, so the
/// client sees a broken transfer rather than a short tar.
async fn export(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
) -> Result<Response<Body>, Error> {
    let c = d.containers.get(&id)?;
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(16);
    let out = ChannelWriter::new(tx.clone());
    tokio::spawn(async move {
        if let Err(e) = d.containers.export(&c, out).await {
            tracing::warn!(container.id = %c.id, error = %e.message, "export failed");
            let _ = tx.send(Err(io::Error::other(e.message))).await;
        }
    });
    let body =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) });
    Ok(stream::response(
        "application/x-tar",
        Body::from_stream(body),
    ))
}

const CHUNK: usize = 64 * 1024;

/// A blocking writer feeding a response body in chunks.
pub(super) struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    /// A writer sending 64 KiB chunks on `tx`.
    pub(super) fn new(tx: mpsc::Sender<io::Result<Bytes>>) -> Self {
        ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}
