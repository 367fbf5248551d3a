//! The connections of the remote drivers: stream or datagram, over IP or a unix socket.

use std::io::{self, Write};
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Where a driver sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Address {
    /// `host:port`.
    Tcp(String),
    /// `host:port`.
    Udp(String),
    /// A stream socket.
    Unix(PathBuf),
    /// A datagram socket.
    Unixgram(PathBuf),
    /// `host:port`, TLS over TCP.
    TcpTls(String, super::tls::TlsSettings),
}

impl Address {
    /// Whether one write is one message (no framing needed).
    pub fn is_datagram(&self) -> bool {
        matches!(self, Address::Udp(_) | Address::Unixgram(_))
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Tcp(a) => write!(f, "tcp {a}"),
            Address::Udp(a) => write!(f, "udp {a}"),
            Address::Unix(p) => write!(f, "unix {}", p.display()),
            Address::Unixgram(p) => write!(f, "unixgram {}", p.display()),
            Address::TcpTls(a, _) => write!(f, "tcp {a}"),
        }
    }
}

/// A connected socket.
pub enum Conn {
    Tcp(TcpStream),
    Udp(UdpSocket),
    Unix(UnixStream),
    Unixgram(UnixDatagram),
    TcpTls(Box<super::tls::TlsStream>),
}

/// How long connecting and each write may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A TCP connection to the first address of `a` that answers.
fn tcp(a: &str) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for sa in a.to_socket_addrs()? {
        match TcpStream::connect_timeout(&sa, TIMEOUT) {
            Ok(s) => {
                s.set_write_timeout(Some(TIMEOUT))?;
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

impl Conn {
    /// Connects to `addr`; errors read like Go's `dial` errors, which Docker shows.
    pub fn connect(addr: &Address) -> io::Result<Conn> {
        let dial = |e: io::Error| io::Error::new(e.kind(), format!("dial {addr}: {e}"));
        let conn = match addr {
            Address::Tcp(a) => Conn::Tcp(tcp(a).map_err(dial)?),
            Address::TcpTls(a, tls) => {
                let s = tls.connect(a, tcp(a).map_err(dial)?)?;
                Conn::TcpTls(Box::new(s))
            }
            Address::Udp(a) => {
                let sa = a
                    .to_socket_addrs()
                    .map_err(dial)?
                    .next()
                    .ok_or_else(|| dial(io::ErrorKind::NotFound.into()))?;
                let local = if sa.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
                let s = UdpSocket::bind(local).map_err(dial)?;
                s.connect(sa).map_err(dial)?;
                Conn::Udp(s)
            }
            Address::Unix(p) => {
                let s = UnixStream::connect(p).map_err(dial)?;
                s.set_write_timeout(Some(TIMEOUT))?;
                Conn::Unix(s)
            }
            Address::Unixgram(p) => {
                let s = UnixDatagram::unbound().map_err(dial)?;
                s.connect(p).map_err(dial)?;
                Conn::Unixgram(s)
            }
        };
        Ok(conn)
    }

    /// Sends `b` whole (one datagram on a datagram socket).
    pub fn send(&mut self, b: &[u8]) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.write_all(b),
            Conn::TcpTls(s) => s.write_all(b).and_then(|()| s.flush()),
            Conn::Unix(s) => s.write_all(b),
            Conn::Udp(s) => s.send(b).map(drop),
            Conn::Unixgram(s) => s.send(b).map(drop),
        }
    }

    /// Sets (or, with `None`, clears) the write and read timeouts of a stream.
    pub fn set_timeouts(
        &mut self,
        write: Option<Duration>,
        read: Option<Duration>,
    ) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => {
                s.set_write_timeout(write)?;
                s.set_read_timeout(read)
            }
            Conn::Unix(s) => {
                s.set_write_timeout(write)?;
                s.set_read_timeout(read)
            }
            Conn::TcpTls(s) => {
                s.sock.set_write_timeout(write)?;
                s.sock.set_read_timeout(read)
            }
            _ => Ok(()),
        }
    }

    /// The stream, for reading replies (fluentd's acks).
    pub fn reader(&mut self) -> Option<&mut dyn io::Read> {
        match self {
            Conn::Tcp(s) => Some(s),
            Conn::TcpTls(s) => Some(s.as_mut()),
            Conn::Unix(s) => Some(s),
            _ => None,
        }
    }
}

impl Drop for Conn {
    /// Ends a TLS session with its close_notify, as a server expects it ended.
    fn drop(&mut self) {
        if let Conn::TcpTls(s) = self {
            s.conn.send_close_notify();
            let _ = s.conn.complete_io(&mut s.sock);
        }
    }
}
