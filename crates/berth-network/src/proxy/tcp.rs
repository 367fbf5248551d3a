//! The TCP half of the proxy: accept, connect to the container, copy both ways.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::Closed;

/// A pause after an accept error (out of descriptors...), so a persistent one does not spin.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// What the task owns; fields drop in order, so the listener is closed before `_closed` tells.
struct State {
    listener: TcpListener,
    /// The connections: dropping the set aborts them.
    conns: JoinSet<()>,
    _closed: Closed,
}

pub(super) async fn run(listener: TcpListener, target: SocketAddr, closed: Closed) {
    let mut s = State {
        listener,
        conns: JoinSet::new(),
        _closed: closed,
    };
    loop {
        tokio::select! {
            accepted = s.listener.accept() => match accepted {
                Ok((client, _)) => {
                    s.conns.spawn(forward(client, target));
                }
                Err(_) => tokio::time::sleep(ACCEPT_PAUSE).await,
            },
            // Reap finished connections, so the set holds only live ones.
            Some(_) = s.conns.join_next() => {}
        }
    }
}

/// One connection: a connection to the container that cannot be made closes the client's.
async fn forward(mut client: TcpStream, target: SocketAddr) {
    let Ok(mut backend) = TcpStream::connect(target).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = backend.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut client, &mut backend).await;
}
