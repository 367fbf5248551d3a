//! Requests whose body is produced while it is sent (a tar of a directory for `cp`), so that
//! nothing has to fit in memory.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming};
use hyper::{Method, Request, Response};
use tokio::sync::mpsc;

use crate::{Client, ClientError, checked};

/// A request body read from a channel; an `Err` item aborts the request.
struct ChannelBody(mpsc::Receiver<io::Result<Bytes>>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|item| item.map(|r| r.map(Frame::data)))
    }
}

impl Client {
    /// Sends a request whose body of type `ctype` is what arrives on `body` until its senders
    /// are gone; error statuses become [`ClientError::Api`].
    pub async fn request_stream(
        &self,
        method: Method,
        path: &str,
        ctype: &str,
        body: mpsc::Receiver<io::Result<Bytes>>,
    ) -> Result<Response<Incoming>, ClientError> {
        let req = Request::builder()
            .method(method)
            .uri(self.uri(path))
            .header("Host", "berth")
            .header("Content-Type", ctype)
            .body(ChannelBody(body))
            .expect("valid request");
        checked(self.send(req).await?).await
    }
}
