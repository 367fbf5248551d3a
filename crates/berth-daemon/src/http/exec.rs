//! `/containers/{id}/exec` and `/exec/...`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use berth_api::exec::{ExecConfig, ExecCreateResponse, ExecInspect, ExecStartConfig};
use berth_runtime::logfile::Stream;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::query::Query;
use super::stream;
use crate::{Daemon, Error};

pub fn routes() -> Router<Arc<Daemon>> {
    Router::new()
        .route("/containers/{id}/exec", post(create))
        .route("/exec/{id}/start", post(start))
        .route("/exec/{id}/resize", post(resize))
        .route("/exec/{id}/json", get(inspect))
}

fn parse<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| Error::invalid(format!("invalid JSON body: {e}")))
}

async fn create(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<ExecCreateResponse>), Error> {
    let c = d.containers.get(&id)?;
    let config: ExecConfig = if body.iter().all(u8::is_ascii_whitespace) {
        ExecConfig::default()
    } else {
        berth_api::fields::decode_exec(&body)
            .map_err(|e| Error::invalid(format!("invalid JSON body: {e}")))?
    };
    let spec = crate::wire::exec::spec(config)?;
    super::detach::exec_keys(&spec.detach_keys)?;
    let id = d.containers.create_exec(&c, spec)?;
    Ok((StatusCode::CREATED, Json(ExecCreateResponse { id })))
}

async fn inspect(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
) -> Result<Json<ExecInspect>, Error> {
    let e = d.containers.get_exec(&id)?;
    Ok(Json(crate::wire::exec::inspect(&e)))
}

async fn resize(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    q: Query,
) -> Result<StatusCode, Error> {
    let e = d.containers.get_exec(&id)?;
    let h = q.int("h")?.unwrap_or(0);
    let w = q.int("w")?.unwrap_or(0);
    d.containers.resize_exec(&e, h as u16, w as u16)?;
    Ok(StatusCode::OK)
}

/// `POST /exec/{id}/start`: detached, answers once the process runs; attached, hijacks the
/// connection and streams the process's output (and stdin) until it ended. A process that cannot
/// start is reported in the stream, as Docker does, and its exit code set to 126 or 127.
async fn start(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    mut req: Request,
) -> Result<Response<Body>, Error> {
    let e = d.containers.get_exec(&id)?;
    let req_upgrade = req.headers().contains_key(axum::http::header::UPGRADE);
    let upgrade = hyper::upgrade::on(&mut req);
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .map_err(|e| Error::invalid(format!("reading body: {e}")))?;
    let opts: ExecStartConfig = parse(&body)?;
    if opts.detach {
        d.containers.start_exec(&e, false, None).await?;
        return Ok(StatusCode::OK.into_response());
    }
    let tty = e.spec.stdio.tty;
    // Refused before anything runs (already started, container stopped): a plain error.
    d.containers.claim_exec(&e)?;
    if !req_upgrade {
        // A plain request gets the output as the response body (no stdin), as Docker does.
        let (wr, rd) = tokio::io::duplex(64 * 1024);
        tokio::spawn(run_attached(d, e, opts, tokio::io::empty(), wr));
        let body = Body::from_stream(tokio_util::io::ReaderStream::new(rd));
        return Ok(stream::response(stream::output_type(tty), body));
    }
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let (rd, wr) = tokio::io::split(TokioIo::new(upgraded));
        run_attached(d, e, opts, rd, wr).await;
    });
    Ok(stream::upgraded(stream::output_type(tty)))
}

/// Copies one output of the process into the stream until EOF (or EIO from a terminal whose
/// process is gone).
async fn pump(
    mut pipe: impl AsyncRead + Unpin,
    s: Stream,
    tx: mpsc::Sender<Bytes>,
    encode: impl Fn(Stream, &[u8]) -> Bytes,
) {
    let mut buf = vec![0u8; 32 * 1024];
    while let Ok(n) = pipe.read(&mut buf).await {
        if n == 0 || tx.send(encode(s, &buf[..n])).await.is_err() {
            break;
        }
    }
}

/// Runs a claimed exec with its stdio on `rd`/`wr` until its output ends.
async fn run_attached(
    d: Arc<Daemon>,
    e: Arc<crate::containers::Exec>,
    opts: ExecStartConfig,
    rd: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    mut wr: impl tokio::io::AsyncWrite + Unpin,
) {
    let tty = e.spec.stdio.tty;

    // The process starts once the client has the 101: output sent along with the answer
    // can be lost by clients that read the answer buffered (docker-py), and Docker too
    // starts the process only after the upgrade.
    let started = d
        .containers
        .run_exec(&e, true, opts.console_size.as_deref())
        .await;
    let encode = move |s: Stream, b: &[u8]| {
        if tty {
            Bytes::copy_from_slice(b)
        } else {
            stream::frame(s, b)
        }
    };
    let io = match started {
        Ok(io) => io,
        Err(err) => {
            let msg = format!("{}\r\n", err.message);
            let _ = wr.write_all(&encode(Stream::Stdout, msg.as_bytes())).await;
            let _ = wr.shutdown().await;
            return;
        }
    };
    let (detached, mut on_detach) = tokio::sync::oneshot::channel::<()>();
    if let Some(mut input) = io.stdin {
        // Docker watches a terminal's input only; checked at create.
        let escape = tty
            .then(|| super::detach::exec_keys(&e.spec.detach_keys).ok())
            .flatten()
            .map(berth_api::detach::Escape::new);
        tokio::spawn(async move {
            if super::detach::copy_input(rd, &mut input, escape).await {
                let _ = detached.send(());
            }
        });
    }
    let (tx, mut rx) = mpsc::channel::<Bytes>(16);
    for (pipe, s) in [(io.stdout, Stream::Stdout), (io.stderr, Stream::Stderr)] {
        if let Some(pipe) = pipe {
            tokio::spawn(pump(pipe, s, tx.clone(), encode));
        }
    }
    drop(tx);
    // Output ends when every writer closed it; processes left in the background may hold
    // it open, so once the exec's process is gone, a quiet second ends the stream too.
    let exited = e.wait();
    tokio::pin!(exited);
    let mut done = false;
    // A oneshot must not be polled once it has answered: its input may end without a detach.
    let mut detach_open = true;
    loop {
        tokio::select! {
            chunk = rx.recv() => match chunk {
                Some(b) if wr.write_all(&b).await.is_ok() => {}
                _ => break,
            },
            _ = &mut exited, if !done => done = true,
            r = &mut on_detach, if detach_open => {
                detach_open = false;
                if r.is_err() {
                    continue;
                }
                // The client detached: its stream ends, the process runs on.
                let attrs = [("execID", e.id.clone())];
                d.containers.event("exec_detach", &e.container.record(), &attrs);
                let _ = wr.shutdown().await;
                return;
            }
            () = tokio::time::sleep(Duration::from_secs(1)), if done => break,
        }
    }
    // The client asks for the exit code as soon as the stream ends: record it first.
    e.wait().await;
    let _ = wr.shutdown().await;
}
