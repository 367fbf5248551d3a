//! Serving: a TCP listener, plain HTTP or TLS (rustls, the configured key pair), HTTP/1.1
//! per connection, until the shutdown future resolves. Beside it run the schedule of
//! retention and collection (`gc.interval`) and the writer of buffered pull times.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use super::config::TlsConfig;
use super::registry::{Registry, blocking};

/// How long a client may take to send its request headers (or its TLS handshake).
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How often buffered pull times are written.
const PULL_FLUSH: Duration = Duration::from_secs(10);

/// Why serving could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address.
    #[error("listening on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The TLS files.
    #[error("TLS: {0}")]
    Tls(String),
}

/// A bound listener, ready to serve.
pub struct Server {
    listener: TcpListener,
    admin: tokio::net::UnixListener,
    tls: Option<TlsAcceptor>,
    registry: Arc<Registry>,
}

impl Server {
    /// Binds the configured address and loads the TLS files.
    pub async fn bind(registry: Arc<Registry>) -> Result<Server, ServeError> {
        let addr = registry.config.addr.clone();
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|source| ServeError::Listen { addr, source })?;
        let tls = registry.config.tls.as_ref().map(acceptor).transpose()?;
        let socket = super::admin::socket_path(&registry.config.root);
        let admin =
            super::admin::bind(&registry.config.root).map_err(|source| ServeError::Listen {
                addr: socket.display().to_string(),
                source,
            })?;
        Ok(Server {
            listener,
            admin,
            tls,
            registry,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then writes the buffered pull times.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let reg = self.registry.clone();
        let router = super::http::router(reg.clone());
        let mut background = vec![
            tokio::spawn(flush_pulls(reg.clone())),
            tokio::spawn(admin(self.admin, super::admin::router(reg.clone()))),
        ];
        if let Some(every) = reg.config.gc.interval {
            background.push(tokio::spawn(super::gc::schedule(reg.clone(), every)));
        }
        tokio::pin!(shutdown);
        loop {
            let (tcp, peer) = tokio::select! {
                _ = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                },
            };
            let _ = tcp.set_nodelay(true);
            let (router, tls) = (router.clone(), self.tls.clone());
            tokio::spawn(async move {
                match tls {
                    None => connection(tcp, router).await,
                    Some(tls) => {
                        match tokio::time::timeout(HEADER_TIMEOUT, tls.accept(tcp)).await {
                            Ok(Ok(stream)) => connection(stream, router).await,
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, error = %e, "TLS handshake failed")
                            }
                            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                        }
                    }
                }
            });
        }
        for task in background {
            task.abort();
        }
        let _ = std::fs::remove_file(super::admin::socket_path(&reg.config.root));
        if let Err(e) = blocking(move || reg.flush_pulls()).await {
            tracing::warn!(error = %e, "writing pull times at shutdown");
        }
    }
}

async fn connection<S>(io: S, router: Router)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let router = router.clone();
        async move { router.oneshot(req.map(axum::body::Body::new)).await }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(io), service);
    if let Err(e) = conn.await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

async fn admin(listener: tokio::net::UnixListener, router: Router) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(connection(stream, router.clone()));
            }
            Err(e) => tracing::warn!(error = %e, "admin accept failed"),
        }
    }
}

async fn flush_pulls(reg: Arc<Registry>) {
    let mut tick = tokio::time::interval(PULL_FLUSH);
    loop {
        tick.tick().await;
        let r = reg.clone();
        if let Err(e) = blocking(move || r.flush_pulls()).await {
            tracing::warn!(error = %e, "writing pull times");
        }
    }
}

fn acceptor(files: &TlsConfig) -> Result<TlsAcceptor, ServeError> {
    let bad = |what: &std::path::Path, e: &dyn std::fmt::Display| {
        ServeError::Tls(format!("{}: {e}", what.display()))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| bad(&files.cert, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(&files.cert, &e))?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| bad(&files.key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
