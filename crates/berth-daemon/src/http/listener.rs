//! What the API is served on, dockerd's `-H` kinds: unix sockets, TCP, and TLS over TCP. A
//! connection is accepted here and made ready (TLS handshake, keepalive) in its own task, so a
//! slow client never holds up the accept loop.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio_rustls::TlsAcceptor;

/// A listening socket the API is served on.
pub enum Listener {
    /// A unix socket.
    Unix(UnixListener),
    /// TCP, plain or (with an acceptor) TLS.
    Tcp(TcpListener, Option<TlsAcceptor>),
}

/// A connection as accepted, before its TLS handshake.
pub(super) enum Accepted {
    Unix(UnixStream),
    Tcp(TcpStream, std::net::SocketAddr, Option<TlsAcceptor>),
}

/// What HTTP is spoken over.
pub(super) trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// A TLS record starts with its content type; a handshake is 22.
const TLS_HANDSHAKE: u8 = 0x16;

/// What Go's TLS server answers a plain HTTP request with; the docker CLI shows it.
const PLAIN_HTTP_ANSWER: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// Dead peers of idle (attached) TCP connections are found after this, as Go's default.
const KEEPALIVE: u32 = 15;

impl Listener {
    /// The next connection; cancel-safe (tokio's `accept` is).
    pub(super) async fn accept(&self) -> std::io::Result<Accepted> {
        Ok(match self {
            Listener::Unix(l) => Accepted::Unix(l.accept().await?.0),
            Listener::Tcp(l, tls) => {
                let (s, peer) = l.accept().await?;
                Accepted::Tcp(s, peer, tls.clone())
            }
        })
    }
}

impl Accepted {
    /// The stream HTTP is spoken over, after the TLS handshake (which must end within
    /// `timeout`); `None` when the connection ended there.
    pub(super) async fn ready(self, timeout: Duration) -> Option<Box<dyn Io>> {
        let (tcp, peer, tls) = match self {
            Accepted::Unix(s) => return Some(Box::new(s)),
            Accepted::Tcp(s, peer, tls) => (s, peer, tls),
        };
        if let Err(e) = tune(&tcp) {
            tracing::debug!(error = %e, "setting TCP options");
        }
        let Some(tls) = tls else {
            return Some(Box::new(tcp));
        };
        match tokio::time::timeout(timeout, handshake(tcp, tls)).await {
            Ok(Ok(s)) => Some(s),
            Ok(Err(e)) => {
                tracing::info!(%peer, error = %e, "TLS handshake failed");
                None
            }
            Err(_) => {
                tracing::info!(%peer, "TLS handshake timed out");
                None
            }
        }
    }
}

async fn handshake(mut tcp: TcpStream, tls: TlsAcceptor) -> std::io::Result<Box<dyn Io>> {
    let mut first = [0u8; 1];
    if tcp.peek(&mut first).await? == 1 && first[0] != TLS_HANDSHAKE {
        tcp.write_all(PLAIN_HTTP_ANSWER).await?;
        tcp.shutdown().await?;
        return Err(std::io::Error::other("plain HTTP on a TLS listener"));
    }
    Ok(Box::new(tls.accept(tcp).await?))
}

/// No Nagle delay (attached terminals), and keepalive probes.
fn tune(tcp: &TcpStream) -> std::io::Result<()> {
    use nix::sys::socket::{setsockopt, sockopt};
    tcp.set_nodelay(true)?;
    setsockopt(tcp, sockopt::KeepAlive, &true)?;
    setsockopt(tcp, sockopt::TcpKeepIdle, &KEEPALIVE)?;
    Ok(setsockopt(tcp, sockopt::TcpKeepInterval, &KEEPALIVE)?)
}
