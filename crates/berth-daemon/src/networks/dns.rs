//! The embedded DNS server of user-defined networks. Each container on one gets the daemon's
//! sockets on 127.0.0.11 inside its namespace (`berth_network::dns::Listener`), served by
//! tasks of the daemon's runtime: a query is answered from the names of the networks the
//! container is on now, or sent to its upstream servers from the daemon's own namespace (so a
//! host resolver on loopback, such as systemd-resolved's, works too).
//!
//! The tasks die with the daemon; a restarted daemon binds new sockets in the namespaces of
//! the containers still running and points their redirection at them.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use berth_network::dns::{Listener, Names, Reply, forward, forward_tcp};
use berth_network::netns::Netns;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::AbortHandle;

use crate::error::{Error, Result};

/// How long an upstream answer is waited for.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(5);

/// The resolver state shared by every container's tasks.
#[derive(Default)]
pub struct Dns {
    names: RwLock<Names>,
    served: Mutex<HashMap<String, Served>>,
}

/// What one container's queries are answered with.
struct Served {
    networks: Arc<RwLock<Vec<String>>>,
    links: Arc<RwLock<HashMap<String, String>>>,
    tasks: Vec<AbortHandle>,
}

impl Drop for Served {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Dns {
    /// Adds `names` for `addrs` on network `network` (by name, which `name.network` uses).
    pub fn add(&self, network: &str, names: &[String], addrs: &[IpAddr]) {
        self.names
            .write()
            .expect("dns names lock")
            .add(network, names, addrs);
    }

    /// Removes the names of `addrs` on `network`.
    pub fn remove(&self, network: &str, addrs: &[IpAddr]) {
        self.names
            .write()
            .expect("dns names lock")
            .remove(network, addrs);
    }

    /// Whether container `id` has sockets already.
    pub fn serves(&self, id: &str) -> bool {
        self.served.lock().expect("dns lock").contains_key(id)
    }

    /// Starts answering container `id` (in namespace `ns`) for `networks`, forwarding to
    /// `upstreams`. Blocks (binds inside the namespace); called from the daemon runtime's
    /// blocking pool, whose runtime runs the server.
    pub fn serve(
        self: &Arc<Self>,
        id: &str,
        ns: &Netns,
        networks: Vec<String>,
        links: HashMap<String, String>,
        upstreams: Vec<SocketAddr>,
    ) -> Result<()> {
        let listener = ns
            .run(Listener::bind_here)
            .map_err(|e| Error::internal("entering the container's network namespace", e))?
            .map_err(|e| Error::internal("starting the container's DNS server", e))?;
        let networks = Arc::new(RwLock::new(networks));
        let links = Arc::new(RwLock::new(links));
        let upstreams = Arc::new(upstreams);
        let rt = tokio::runtime::Handle::try_current()
            .map_err(|e| Error::internal("finding the daemon's runtime", e))?;
        let _guard = rt.enter();
        let register = |e| Error::internal("registering a DNS socket", e);
        listener.udp.set_nonblocking(true).map_err(register)?;
        listener.tcp.set_nonblocking(true).map_err(register)?;
        let udp = tokio::net::UdpSocket::from_std(listener.udp).map_err(register)?;
        let tcp = tokio::net::TcpListener::from_std(listener.tcp).map_err(register)?;
        let ctx = Ctx {
            dns: self.clone(),
            networks: networks.clone(),
            links: links.clone(),
            upstreams,
        };
        let tasks = vec![
            rt.spawn(ctx.clone().udp(udp)).abort_handle(),
            rt.spawn(ctx.tcp(tcp)).abort_handle(),
        ];
        self.served.lock().expect("dns lock").insert(
            id.to_string(),
            Served {
                networks,
                links,
                tasks,
            },
        );
        Ok(())
    }

    /// Changes the networks container `id`'s queries are answered for.
    pub fn set_networks(&self, id: &str, networks: Vec<String>) {
        if let Some(s) = self.served.lock().expect("dns lock").get(id) {
            *s.networks.write().expect("dns networks lock") = networks;
        }
    }

    /// Changes the links container `id`'s queries are answered with.
    pub fn set_links(&self, id: &str, links: HashMap<String, String>) {
        if let Some(s) = self.served.lock().expect("dns lock").get(id) {
            *s.links.write().expect("dns links lock") = links;
        }
    }

    /// Stops answering container `id`.
    pub fn stop(&self, id: &str) {
        self.served.lock().expect("dns lock").remove(id);
    }
}

/// One container's view of the resolver, moved into its tasks.
#[derive(Clone)]
struct Ctx {
    dns: Arc<Dns>,
    networks: Arc<RwLock<Vec<String>>>,
    links: Arc<RwLock<HashMap<String, String>>>,
    upstreams: Arc<Vec<SocketAddr>>,
}

impl Ctx {
    fn reply(&self, query: &[u8]) -> Reply {
        let networks = self.networks.read().expect("dns networks lock").clone();
        let links = self.links.read().expect("dns links lock");
        self.dns
            .names
            .read()
            .expect("dns names lock")
            .answer_with_links(&networks, &links, query)
    }

    async fn answer(&self, query: Vec<u8>, tcp: bool) -> Option<Vec<u8>> {
        match self.reply(&query) {
            Reply::Answer(a) => Some(a),
            Reply::Forward if tcp => forward_tcp(&query, &self.upstreams, UPSTREAM_TIMEOUT).await,
            Reply::Forward => forward(&query, &self.upstreams, UPSTREAM_TIMEOUT).await,
            Reply::Drop => None,
        }
    }

    async fn udp(self, socket: tokio::net::UdpSocket) {
        let socket = Arc::new(socket);
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                return;
            };
            let (query, this, socket) = (buf[..n].to_vec(), self.clone(), socket.clone());
            // Forwarded queries wait for upstream: one task each, so none waits for another.
            tokio::spawn(async move {
                if let Some(a) = this.answer(query, false).await {
                    let _ = socket.send_to(&a, from).await;
                }
            });
        }
    }

    async fn tcp(self, listener: tokio::net::TcpListener) {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(self.clone().tcp_conn(conn));
        }
    }

    /// Length-prefixed queries on one connection, answered in order (RFC 7766).
    async fn tcp_conn(self, mut conn: tokio::net::TcpStream) {
        loop {
            let mut len = [0u8; 2];
            let read = tokio::time::timeout(UPSTREAM_TIMEOUT, conn.read_exact(&mut len)).await;
            if !matches!(read, Ok(Ok(_))) {
                return;
            }
            let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
            if conn.read_exact(&mut query).await.is_err() {
                return;
            }
            let Some(a) = self.answer(query, true).await else {
                return;
            };
            let Ok(n) = u16::try_from(a.len()) else {
                return;
            };
            if conn.write_all(&n.to_be_bytes()).await.is_err() || conn.write_all(&a).await.is_err()
            {
                return;
            }
        }
    }
}
