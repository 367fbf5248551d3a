//! The UDP half of the proxy: a flow per client address, each with a socket connected to the
//! container, as `docker-proxy` keeps them (`cmd/docker-proxy/udp_proxy.go`).

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::Closed;

/// How long a flow lives without a reply from the container (`docker-proxy`'s
/// `UDPConnTrackTimeout`).
pub const IDLE: Duration = Duration::from_secs(90);

/// The largest UDP payload over IPv4 (`docker-proxy`'s `UDPBufSize`).
const BUF: usize = 65507;

/// What the task owns. Fields drop in order: `_closed` last, after every holder of the socket.
struct State {
    socket: Arc<UdpSocket>,
    /// Client address → its socket towards the container.
    flows: HashMap<SocketAddr, Arc<UdpSocket>>,
    /// The reply loops, each ending with its client's address. They run inside this task,
    /// not as tasks of their own, so that dropping it closes the socket they share at once.
    replies: FuturesUnordered<BoxFuture<'static, SocketAddr>>,
    _closed: Closed,
}

pub(super) async fn run(socket: UdpSocket, target: SocketAddr, idle: Duration, closed: Closed) {
    let mut s = State {
        socket: Arc::new(socket),
        flows: HashMap::new(),
        replies: FuturesUnordered::new(),
        _closed: closed,
    };
    let mut buf = vec![0u8; BUF];
    loop {
        tokio::select! {
            got = s.socket.recv_from(&mut buf) => {
                // Errors are ICMP news of earlier sends; the socket itself goes on.
                if let Ok((n, client)) = got {
                    s.send(&buf[..n], client, target, idle).await;
                }
            }
            Some(client) = s.replies.next() => {
                s.flows.remove(&client);
            }
        }
    }
}

impl State {
    /// Sends `data` from `client` to the container, through its flow (made if new).
    async fn send(&mut self, data: &[u8], client: SocketAddr, target: SocketAddr, idle: Duration) {
        let flow = match self.flows.get(&client) {
            Some(f) => f.clone(),
            None => {
                let Ok(f) = connect(target).await else {
                    return;
                };
                let f = Arc::new(f);
                self.flows.insert(client, f.clone());
                let replies = reply(f.clone(), self.socket.clone(), client, idle);
                self.replies.push(Box::pin(replies));
                f
            }
        };
        // A datagram the container refuses is lost, as on the wire.
        let _ = flow.send(data).await;
    }
}

/// A socket of `target`'s family, on an ephemeral port, connected to it.
async fn connect(target: SocketAddr) -> std::io::Result<UdpSocket> {
    let any: SocketAddr = if target.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let s = UdpSocket::bind(any).await?;
    s.connect(target).await?;
    Ok(s)
}

/// Relays the container's replies on `flow` to `client` until none comes for `idle`.
async fn reply(
    flow: Arc<UdpSocket>,
    socket: Arc<UdpSocket>,
    client: SocketAddr,
    idle: Duration,
) -> SocketAddr {
    let mut buf = vec![0u8; BUF];
    let mut deadline = Instant::now() + idle;
    loop {
        match tokio::time::timeout_at(deadline, flow.recv(&mut buf)).await {
            Ok(Ok(n)) => {
                if socket.send_to(&buf[..n], client).await.is_err() {
                    break;
                }
                deadline = Instant::now() + idle;
            }
            // Refused: nothing listened in the container for a datagram; the flow waits on.
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
            Ok(Err(_)) | Err(_) => break,
        }
    }
    client
}
