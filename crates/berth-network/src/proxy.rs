//! The userland proxy of published ports the kernel cannot DNAT: IPv6 host addresses of a
//! container that has only IPv4 (`[::]:8080` with Docker's default userland proxy), and IPv6
//! loopback (`[::1]`, which has no `route_localnet`). Not a process per port, as Docker's
//! `docker-proxy`, but tasks on the daemon's runtime: one per listening socket, one per TCP
//! connection or UDP flow, all stopped when the [`Proxy`] is dropped.
//!
//! - TCP: each accepted connection gets its own connection to the container, and bytes are
//!   copied both ways, each half closed when its side closes (as `docker-proxy` does).
//! - UDP: a flow per client address, each with a socket connected to the container whose
//!   replies are sent back to the client; a flow with no reply for [`UDP_IDLE`] is forgotten
//!   (`docker-proxy`'s conntrack timeout, `cmd/docker-proxy/udp_proxy.go`).
//! - SCTP is not proxied.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::task::AbortHandle;

mod tcp;
mod udp;

pub use udp::IDLE as UDP_IDLE;

/// How long a drop waits for the proxy's socket to be closed.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// Why a proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The socket could not be made nonblocking or handed to the runtime.
    #[error("registering the proxy's socket: {0}")]
    Register(std::io::Error),
    /// The TCP socket could not listen.
    #[error("listening on {addr}: {err}")]
    Listen {
        /// The address and port.
        addr: SocketAddr,
        /// What the kernel said.
        err: std::io::Error,
    },
    /// berth holds no socket for it.
    #[error("no socket is held for {0}")]
    NotHeld(SocketAddr),
    /// A protocol berth does not proxy.
    #[error("berth does not proxy {0}")]
    Unsupported(&'static str),
}

/// A running proxy. Dropping it stops every task and closes its sockets: the drop waits
/// (at most [`CLOSE_WAIT`]) for the listening socket to be closed, so the port is free once
/// it returns. Drop it from a blocking thread, not from an async worker.
#[derive(Debug)]
pub struct Proxy {
    task: AbortHandle,
    closed: mpsc::Receiver<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
        // The sender lives in the task's future: it is gone when the socket is.
        let _ = self.closed.recv_timeout(CLOSE_WAIT);
    }
}

/// Dropped with the task's future, after its sockets (declared first, dropped first).
struct Closed(#[allow(dead_code)] mpsc::SyncSender<()>);

/// Forwards the connections of `listener` (listening already) to `target`, on `rt`.
pub fn tcp(
    listener: std::net::TcpListener,
    target: SocketAddr,
    rt: &Handle,
) -> Result<Proxy, ProxyError> {
    listener
        .set_nonblocking(true)
        .map_err(ProxyError::Register)?;
    let _guard = rt.enter();
    let listener = tokio::net::TcpListener::from_std(listener).map_err(ProxyError::Register)?;
    Ok(spawn(rt, |closed| tcp::run(listener, target, closed)))
}

/// Forwards the datagrams `socket` (bound) receives to `target` and the replies back, on `rt`.
pub fn udp(
    socket: std::net::UdpSocket,
    target: SocketAddr,
    rt: &Handle,
) -> Result<Proxy, ProxyError> {
    socket.set_nonblocking(true).map_err(ProxyError::Register)?;
    let _guard = rt.enter();
    let socket = tokio::net::UdpSocket::from_std(socket).map_err(ProxyError::Register)?;
    Ok(spawn(rt, |closed| {
        udp::run(socket, target, UDP_IDLE, closed)
    }))
}

fn spawn<F>(rt: &Handle, task: impl FnOnce(Closed) -> F) -> Proxy
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, closed) = mpsc::sync_channel(0);
    let task = rt.spawn(task(Closed(tx))).abort_handle();
    Proxy { task, closed }
}

#[cfg(test)]
mod tests;
