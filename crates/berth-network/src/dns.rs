//! The embedded DNS server's answers, as Docker's resolver gives them on user-defined networks:
//! container names, aliases and short IDs of the networks the asking container is on, A and
//! AAAA from their addresses (round-robin when several containers share a name), PTR for their
//! addresses, TTL 600. A name berth knows but without an address of the asked family gets an
//! empty answer rather than going upstream. Everything else goes to the host's upstream
//! servers, all of them at once, first answer wins: a dead first server costs nothing (the
//! serial two-second timeouts of moby#20029).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, PTR};
use hickory_proto::rr::{Name, RData, Record, RecordType};

mod listen;
pub use listen::{Listener, RESOLVER};

/// Docker's TTL for the names it answers.
pub const TTL: u32 = 600;

/// The names of each network: name (lower case) → addresses, and address → name.
#[derive(Debug, Default)]
pub struct Names {
    networks: HashMap<String, Network>,
    /// Rotates the order of several addresses from one answer to the next.
    turn: AtomicUsize,
}

#[derive(Debug, Default, Clone)]
struct Network {
    names: HashMap<String, Vec<IpAddr>>,
    reverse: HashMap<IpAddr, String>,
}

/// What to do with a query.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    /// This answer, ready to send.
    Answer(Vec<u8>),
    /// Not ours: ask upstream.
    Forward,
    /// Not a query berth can read: drop it.
    Drop,
}

impl Names {
    /// Adds an endpoint on `network`: its `names` (name, aliases, short ID) for `addrs`. The
    /// first name is the one PTR answers give.
    pub fn add(&mut self, network: &str, names: &[String], addrs: &[IpAddr]) {
        let n = self.networks.entry(network.to_string()).or_default();
        for name in names {
            let list = n.names.entry(name.to_ascii_lowercase()).or_default();
            list.extend(
                addrs
                    .iter()
                    .filter(|a| !list.contains(a))
                    .copied()
                    .collect::<Vec<_>>(),
            );
        }
        if let Some(first) = names.first() {
            for a in addrs {
                n.reverse.insert(*a, first.clone());
            }
        }
    }

    /// Removes the endpoint with `addrs` from `network`.
    pub fn remove(&mut self, network: &str, addrs: &[IpAddr]) {
        let Some(n) = self.networks.get_mut(network) else {
            return;
        };
        for list in n.names.values_mut() {
            list.retain(|a| !addrs.contains(a));
        }
        n.names.retain(|_, list| !list.is_empty());
        for a in addrs {
            n.reverse.remove(a);
        }
    }

    /// The addresses `name` has on `networks`, in the order to give them (rotated per call).
    pub fn lookup(&self, networks: &[String], name: &str) -> Option<Vec<IpAddr>> {
        let key = name.trim_end_matches('.').to_ascii_lowercase();
        let mut found: Option<Vec<IpAddr>> = None;
        for net in networks {
            let Some(n) = self.networks.get(net) else {
                continue;
            };
            // `name.network` is the same container, as in Docker.
            let short = key.strip_suffix(&format!(".{}", net.to_ascii_lowercase()));
            for k in [Some(key.as_str()), short].into_iter().flatten() {
                if let Some(addrs) = n.names.get(k) {
                    found.get_or_insert_with(Vec::new).extend(addrs);
                }
            }
        }
        let mut addrs = found?;
        if addrs.len() > 1 {
            let turn = self.turn.fetch_add(1, Ordering::Relaxed);
            let len = addrs.len();
            addrs.rotate_left(turn % len);
        }
        Some(addrs)
    }

    /// The name of address `ip` on `networks`.
    pub fn reverse(&self, networks: &[String], ip: IpAddr) -> Option<String> {
        networks
            .iter()
            .find_map(|net| self.networks.get(net)?.reverse.get(&ip).cloned())
    }

    /// The reply to `query` from a container on `networks`.
    pub fn answer(&self, networks: &[String], query: &[u8]) -> Reply {
        self.answer_with_links(networks, &HashMap::new(), query)
    }

    /// [`Names::answer`] for a container with links on its networks: `links` maps an alias
    /// (lower case) to the name of the container it stands for, for this container only.
    pub fn answer_with_links(
        &self,
        networks: &[String],
        links: &HashMap<String, String>,
        query: &[u8],
    ) -> Reply {
        let Ok(msg) = Message::from_vec(query) else {
            return Reply::Drop;
        };
        let Some(q) = msg
            .queries
            .first()
            .filter(|_| msg.metadata.message_type == MessageType::Query)
        else {
            return Reply::Drop;
        };
        let asked = q.name().to_ascii();
        let key = asked.trim_end_matches('.').to_ascii_lowercase();
        let name = links.get(&key).cloned().unwrap_or(asked);
        let records: Vec<Record> = match q.query_type() {
            RecordType::A | RecordType::AAAA => {
                let Some(addrs) = self.lookup(networks, &name) else {
                    return Reply::Forward;
                };
                let want_v4 = q.query_type() == RecordType::A;
                addrs
                    .into_iter()
                    .filter(|a| a.is_ipv4() == want_v4)
                    .map(|a| {
                        let data = match a {
                            IpAddr::V4(v4) => RData::A(A(v4)),
                            IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
                        };
                        Record::from_rdata(q.name().clone(), TTL, data)
                    })
                    .collect()
            }
            RecordType::PTR => {
                let Some(target) = ptr_address(q.name()).and_then(|ip| self.reverse(networks, ip))
                else {
                    return Reply::Forward;
                };
                let Ok(target) = Name::from_ascii(format!("{target}.")) else {
                    return Reply::Forward;
                };
                vec![Record::from_rdata(
                    q.name().clone(),
                    TTL,
                    RData::PTR(PTR(target)),
                )]
            }
            _ => return Reply::Forward,
        };
        let mut reply = Message::response(msg.metadata.id, OpCode::Query);
        reply.metadata.recursion_desired = msg.metadata.recursion_desired;
        reply.metadata.recursion_available = true;
        reply.metadata.response_code = ResponseCode::NoError;
        reply.add_query(q.clone());
        reply.add_answers(records);
        match reply.to_vec() {
            Ok(bytes) => Reply::Answer(bytes),
            Err(_) => Reply::Drop,
        }
    }
}

/// The address a `…in-addr.arpa.` or `…ip6.arpa.` name stands for.
fn ptr_address(name: &Name) -> Option<IpAddr> {
    let net = name.parse_arpa_name().ok()?;
    let full = if net.addr().is_ipv4() { 32 } else { 128 };
    (net.prefix_len() == full).then(|| net.addr())
}

/// Sends `query` to every server of `upstreams` at once and returns the first answer with the
/// query's ID from one of them, or `None` after `timeout`.
pub async fn forward(query: &[u8], upstreams: &[SocketAddr], timeout: Duration) -> Option<Vec<u8>> {
    let id = query.get(..2)?;
    let local: SocketAddr = if upstreams.iter().all(SocketAddr::is_ipv6) {
        "[::]:0".parse().ok()?
    } else {
        "0.0.0.0:0".parse().ok()?
    };
    let socket = tokio::net::UdpSocket::bind(local).await.ok()?;
    for up in upstreams {
        // A server that cannot be reached is one that does not answer.
        let _ = socket.send_to(query, up).await;
    }
    let wait = async {
        let mut buf = vec![0u8; 65535];
        loop {
            let (n, from) = socket.recv_from(&mut buf).await.ok()?;
            if upstreams.contains(&from) && buf.get(..2) == Some(id) {
                return Some(buf[..n].to_vec());
            }
        }
    };
    tokio::time::timeout(timeout, wait).await.ok().flatten()
}

/// [`forward`] over TCP (a query that came over TCP, whose answer may be larger than UDP
/// carries): every upstream at once, the first whole answer with the query's ID wins.
pub async fn forward_tcp(
    query: &[u8],
    upstreams: &[SocketAddr],
    timeout: Duration,
) -> Option<Vec<u8>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let id: [u8; 2] = query.get(..2)?.try_into().ok()?;
    let len = u16::try_from(query.len()).ok()?.to_be_bytes();
    let mut tries = tokio::task::JoinSet::new();
    for up in upstreams.iter().copied() {
        let q = query.to_vec();
        tries.spawn(async move {
            let mut conn = tokio::net::TcpStream::connect(up).await.ok()?;
            conn.write_all(&len).await.ok()?;
            conn.write_all(&q).await.ok()?;
            let mut n = [0u8; 2];
            conn.read_exact(&mut n).await.ok()?;
            let mut answer = vec![0u8; usize::from(u16::from_be_bytes(n))];
            conn.read_exact(&mut answer).await.ok()?;
            (answer.get(..2) == Some(&id[..])).then_some(answer)
        });
    }
    let first = async {
        while let Some(done) = tries.join_next().await {
            if let Ok(Some(answer)) = done {
                return Some(answer);
            }
        }
        None
    };
    tokio::time::timeout(timeout, first).await.ok().flatten()
}

#[cfg(test)]
mod tests;
