//! Streaming bodies and container output: the channel-backed body, the upgrade answer, and
//! Docker's multiplexed stream frames.

use std::convert::Infallible;

use axum::body::Body;
use berth_runtime::logfile::Stream;
use bytes::Bytes;
use tokio::sync::mpsc;

/// A body fed by a channel; the body ends when the sender is dropped.
pub fn channel() -> (mpsc::Sender<Bytes>, Body) {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let s = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    (tx, Body::from_stream(s))
}

/// Reads a request body to its end and drops it: a client still sending (a build context, an
/// import) must be able to finish, or it sees a broken pipe instead of the answer.
pub async fn drain(body: Body) {
    let mut data = body.into_data_stream();
    while let Some(Ok(_)) = futures_util::StreamExt::next(&mut data).await {}
}

/// One message of a JSON progress stream (pull, push, load), as dockerd ends it.
pub fn message_line(m: &berth_api::image::ProgressMessage) -> Bytes {
    let mut v = serde_json::to_vec(m).expect("message serializes");
    v.extend_from_slice(b"\r\n");
    Bytes::from(v)
}

/// A response whose body is `body`, with content type `ctype`.
pub fn response(ctype: &str, body: Body) -> axum::http::Response<Body> {
    axum::http::Response::builder()
        .header(axum::http::header::CONTENT_TYPE, ctype)
        .body(body)
        .expect("valid response")
}

/// The `101 Switching Protocols` answer to an attach or exec start: the connection becomes a
/// raw stream carrying `ctype`.
pub fn upgraded(ctype: &str) -> axum::http::Response<Body> {
    use axum::http::{StatusCode, header};
    axum::http::Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "tcp")
        .header(header::CONTENT_TYPE, ctype)
        .body(Body::empty())
        .expect("valid response")
}

/// The content type of container output: raw with a terminal, multiplexed frames without.
pub fn output_type(tty: bool) -> &'static str {
    if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    }
}

/// Docker's stream frame: `[stream, 0, 0, 0, len (u32 BE)]` then the payload.
pub fn frame(stream: Stream, payload: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(8 + payload.len());
    out.push(match stream {
        Stream::Stdout => 1,
        Stream::Stderr => 2,
    });
    out.extend_from_slice(&[0, 0, 0]);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    Bytes::from(out)
}
