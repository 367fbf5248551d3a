//! A small client for the Docker Engine API on a unix socket or over TCP (plain or TLS): one
//! HTTP/1.1 connection per request, JSON helpers, streamed bodies, and connection hijacking
//! for attach.
#![deny(missing_docs)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;

pub use hyper::upgrade::Upgraded;
pub use tls::TlsOptions;

mod connect;
mod stream;
mod tls;

/// Errors of the client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens there.
    #[error(
        "Cannot connect to the berth daemon at {host}. Is the berth daemon running? (start it with `berth daemon`)"
    )]
    Connect {
        /// `unix://PATH` or `tcp://HOST:PORT`.
        host: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The TLS settings cannot be used (a file missing or not PEM).
    #[error("{0}")]
    TlsConfig(String),
    /// The TLS handshake failed, or the daemon turned the client's certificate down.
    #[error("error during connect: {host}: {message}")]
    Tls {
        /// `tcp://HOST:PORT`.
        host: String,
        /// What went wrong, with Docker's hint when the daemon wants a client certificate.
        message: String,
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

/// `s` percent-encoded for a request path segment or a query value (RFC 3986's unreserved
/// characters kept).
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
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

/// A client for one daemon.
#[derive(Clone)]
pub struct Client {
    transport: connect::Transport,
    /// As the user would write it, for messages.
    host: String,
    /// Prefix of every request path (`tcp://HOST:PORT/PATH`).
    base: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("host", &self.host).finish()
    }
}

impl Client {
    async fn send<B>(&self, mut req: Request<B>) -> Result<Response<Incoming>, ClientError>
    where
        B: hyper::body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if let connect::Transport::Tcp { addr, .. } = &self.transport
            && let Ok(host) = hyper::header::HeaderValue::from_str(addr)
        {
            req.headers_mut().insert(hyper::header::HOST, host);
        }
        let stream = self.connect().await?;
        let tls_error = |e: hyper::Error| self.tls_error(&e).unwrap_or(ClientError::Http(e));
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(tls_error)?;
        tokio::spawn(async move {
            let _ = conn.with_upgrades().await;
        });
        sender.send_request(req).await.map_err(tls_error)
    }

    /// The request path of API `path`.
    fn uri(&self, path: &str) -> String {
        format!("{}/v{}{path}", self.base, berth_api::MAX_VERSION)
    }

    fn build(
        &self,
        method: Method,
        path: &str,
        body: Option<(Bytes, &str)>,
    ) -> Request<Full<Bytes>> {
        let uri = self.uri(path);
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
        checked(self.send(self.build(method, path, body)).await?).await
    }

    /// [`Client::request`] with extra headers (`X-Registry-Auth`).
    ///
    /// # Panics
    /// When a name or value is not valid header text (callers pass constants and base64).
    pub async fn request_with_headers(
        &self,
        method: Method,
        path: &str,
        body: Option<(Bytes, &str)>,
        headers: &[(&str, &str)],
    ) -> Result<Response<Incoming>, ClientError> {
        let mut req = self.build(method, path, body);
        for (name, value) in headers {
            let name = hyper::header::HeaderName::from_bytes(name.as_bytes()).expect("header");
            let value = hyper::header::HeaderValue::from_str(value).expect("header value");
            req.headers_mut().insert(name, value);
        }
        checked(self.send(req).await?).await
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
        let mut req = self.build(Method::POST, path, body);
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
