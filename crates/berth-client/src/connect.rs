//! Reaching the daemon: a unix socket, or TCP with or without TLS; TLS failures become
//! [`ClientError::Tls`] with Docker's hint when the daemon wants a client certificate.

use std::path::PathBuf;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};

use crate::tls::{self, TlsOptions};
use crate::{Client, ClientError};

/// How the daemon is reached.
#[derive(Clone)]
pub(crate) enum Transport {
    Unix(PathBuf),
    Tcp {
        addr: String,
        tls: Option<(
            tokio_rustls::TlsConnector,
            rustls::pki_types::ServerName<'static>,
        )>,
    },
}

/// What HTTP is spoken over.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

impl Client {
    /// A client for the daemon at `socket` (a path or `unix://path`).
    pub fn new(socket: &str) -> Self {
        let socket = PathBuf::from(socket.strip_prefix("unix://").unwrap_or(socket));
        Client {
            host: format!("unix://{}", socket.display()),
            transport: Transport::Unix(socket),
            base: String::new(),
        }
    }

    /// A client for the daemon at `addr` (`HOST:PORT`) over TCP, with TLS when `tls` is
    /// given; `base` (empty or `/PATH`) prefixes every request path.
    pub fn tcp(addr: &str, base: &str, tls: Option<&TlsOptions>) -> Result<Self, ClientError> {
        let tls = match tls {
            Some(t) => Some((
                tokio_rustls::TlsConnector::from(t.config()?),
                tls::server_name(addr)?,
            )),
            None => None,
        };
        Ok(Client {
            host: format!("tcp://{addr}{base}"),
            transport: Transport::Tcp {
                addr: addr.to_string(),
                tls,
            },
            base: base.to_string(),
        })
    }

    pub(crate) async fn connect(&self) -> Result<Box<dyn Io>, ClientError> {
        let unreachable = |source| ClientError::Connect {
            host: self.host.clone(),
            source,
        };
        match &self.transport {
            Transport::Unix(socket) => Ok(Box::new(
                UnixStream::connect(socket).await.map_err(unreachable)?,
            )),
            Transport::Tcp { addr, tls } => {
                let tcp = TcpStream::connect(addr).await.map_err(unreachable)?;
                // Attached terminals want their keys sent at once.
                let _ = tcp.set_nodelay(true);
                let Some((connector, name)) = tls else {
                    return Ok(Box::new(tcp));
                };
                let stream = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| self.tls_error(&e).unwrap_or_else(|| self.tls_failed(&e)))?;
                Ok(Box::new(stream))
            }
        }
    }

    fn tls_failed(&self, e: &dyn std::error::Error) -> ClientError {
        ClientError::Tls {
            host: self.host.clone(),
            message: e.to_string(),
        }
    }

    /// `e` as [`ClientError::Tls`] when a TLS error caused it. With TLS 1.3 the daemon's
    /// refusal of a certificate arrives after the handshake, with the first response.
    pub(crate) fn tls_error(&self, e: &(dyn std::error::Error + 'static)) -> Option<ClientError> {
        let mut cause = Some(e);
        while let Some(err) = cause {
            let tls = err.downcast_ref::<rustls::Error>().or_else(|| {
                err.downcast_ref::<std::io::Error>()
                    .and_then(|io| io.get_ref())
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            });
            if let Some(tls) = tls {
                use rustls::AlertDescription as Alert;
                let message = match tls {
                    rustls::Error::AlertReceived(
                        Alert::CertificateRequired
                        | Alert::BadCertificate
                        | Alert::UnknownCA
                        | Alert::HandshakeFailure,
                    ) => format!(
                        // Docker's hint.
                        "the server probably has client authentication (--tlsverify) enabled; check your TLS client certification settings: {tls}"
                    ),
                    rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => {
                        format!(
                            "the daemon did not answer in TLS (does it serve plain HTTP?): {tls}"
                        )
                    }
                    _ => tls.to_string(),
                };
                return Some(ClientError::Tls {
                    host: self.host.clone(),
                    message,
                });
            }
            cause = err.source();
        }
        None
    }
}
