//! A small client for the Docker Engine API on a unix socket: one HTTP/1.1 connection per
//! request, JSON helpers, streamed bodies, and connection hijacking for attach.
#![deny(missing_docs)]

use std::path::PathBuf;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use tokio::net::UnixStream;

pub use hyper::upgrade::Upgraded;

mod stream;

/// Errors of the client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens on the socket.
    #[error(
        "Cannot connect to the berth daemon at unix://{socket}. Is the berth daemon running? (start it with `berth daemon`)"
    )]
    Connect {
        /// The socket.
        socket: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The daemon answered with an error.
    #[error("Error response from daemon: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The daemon's message.
        message: String,
    },
    /// HTTP-level failure.
    #[error("talking to the daemon")]
    Http(#[from] hyper::Error),
    /// A response that does not parse.
    #[error("unexpected response from the daemon")]
    Decode(#[from] serde_json::Error),
}

/// `resp`, or its error status as [`ClientError::Api`] with the daemon's message.
async fn checked(resp: Response<Incoming>) -> Result<Response<Incoming>, ClientError> {
    if resp.status().is_client_error() || resp.status().is_server_error() {
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await?.to_bytes();
        let message = serde_json::from_slice::<berth_api::ErrorResponse>(&bytes)
            .map(|e| e.message)
            .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).trim().to_string());
        return Err(ClientError::Api { status, message });
    }
    Ok(resp)
}

/// A client for one daemon socket.
#[derive(Debug, Clone)]
pub struct Client {
    socket: PathBuf,
}

impl Client {
    /// A client for the daemon at `socket` (a path or `unix://path`).
    pub fn new(socket: &str) -> Self {
        Client {
            socket: PathBuf::from(socket.strip_prefix("unix://").unwrap_or(socket)),
        }
    }

    async fn send<B>(&self, req: Request<B>) -> Result<Response<Incoming>, ClientError>
    where
        B: hyper::body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let stream =
            UnixStream::connect(&self.socket)
                .await
                .map_err(|source| ClientError::Connect {
                    socket: self.socket.clone(),
                    source,
                })?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.with_upgrades().await;
        });
        Ok(sender.send_request(req).await?)
    }

    fn build(method: Method, path: &str, body: Option<(Bytes, &str)>) -> Request<Full<Bytes>> {
        let uri = format!("/v{}{path}", berth_api::MAX_VERSION);
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header("Host", "berth");
        let body = match body {
            Some((bytes, ctype)) => {
                b = b.header("Content-Type", ctype);
                bytes
            }
            None => Bytes::new(),
        };
        b.body(Full::new(body)).expect("valid request")
    }

    /// Sends a request; error statuses become [`ClientError::Api`].
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<(Bytes, &str)>,
    ) -> Result<Response<Incoming>, ClientError> {
        checked(self.send(Self::build(method, path, body)).await?).await
    }

    /// A request whose whole body is returned.
    pub async fn bytes(
        &self,
        method: Method,
        path: &str,
        body: Option<(Bytes, &str)>,
    ) -> Result<(StatusCode, Bytes), ClientError> {
        let resp = self.request(method, path, body).await?;
        let status = resp.status();
        Ok((status, resp.into_body().collect().await?.to_bytes()))
    }

    /// GET returning JSON.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let (_, b) = self.bytes(Method::GET, path, None).await?;
        Ok(serde_json::from_slice(&b)?)
    }

    /// POST of a JSON body returning JSON.
    pub async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T, ClientError> {
        let body = Bytes::from(serde_json::to_vec(body)?);
        let (_, b) = self
            .bytes(Method::POST, path, Some((body, "application/json")))
            .await?;
        Ok(serde_json::from_slice(&b)?)
    }

    /// Upgrades a POST (with an optional body) to a raw bidirectional stream (attach, exec).
    pub async fn hijack(
        &self,
        path: &str,
        body: Option<(Bytes, &str)>,
    ) -> Result<TokioIo<Upgraded>, ClientError> {
        let mut req = Self::build(Method::POST, path, body);
        req.headers_mut()
            .insert("Connection", "Upgrade".parse().expect("header"));
        req.headers_mut()
            .insert("Upgrade", "tcp".parse().expect("header"));
        let resp = self.send(req).await?;
        if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
            let status = resp.status().as_u16();
            let bytes = resp.into_body().collect().await?.to_bytes();
            let message = serde_json::from_slice::<berth_api::ErrorResponse>(&bytes)
                .map(|e| e.message)
                .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).to_string());
            return Err(ClientError::Api { status, message });
        }
        Ok(TokioIo::new(hyper::upgrade::on(resp).await?))
    }
}
