//! Host ports of published container ports. There is no proxy process: traffic reaches the
//! container through the firewall's maps. Each mapping still holds a socket bound to its host
//! address and port (TCP: bound, not listening; UDP: bound), so no host program can take the
//! port from under the container, and a port that is taken is an error at start, as in Docker.
//! Where the kernel cannot DNAT (IPv6 to an IPv4 container, `::1`), [`Ports::proxy`] makes the
//! held socket the listener of an in-daemon proxy (`crate::proxy`), which goes with the port.
//! Ports asked for as `0` (`-p 80`, `-P`) are taken from the kernel's local port range in
//! order, after the last one handed out, as Docker's port allocator does.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::OwnedFd;

use tokio::runtime::Handle;

use crate::firewall::Proto;
use crate::proxy::{self, Proxy, ProxyError};

/// The backlog of a proxy's listener (the kernel caps it at `net.core.somaxconn`).
const BACKLOG: i32 = 4096;

/// Why a host port could not be had.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PortError {
    /// berth already gave it to a container.
    #[error("Bind for {addr} failed: port is already allocated")]
    Allocated {
        /// The address and port.
        addr: String,
    },
    /// Something else on the host holds it. Docker's words, whose userland proxy is what
    /// fails to bind there.
    #[error("Error starting userland proxy: listen {proto} {addr}: bind: address already in use")]
    InUse {
        /// `tcp4`, `udp6`, ...
        proto: String,
        /// The address and port.
        addr: String,
    },
    /// Every port of the range is taken.
    #[error("all ports are allocated")]
    Exhausted,
    /// Any other failure to bind.
    #[error("binding {addr}: {reason}")]
    Other {
        /// The address and port.
        addr: String,
        /// What the kernel said.
        reason: String,
    },
}

/// The key of a reservation.
type Key = (Proto, IpAddr, u16);

/// One held port: its socket, and the proxy listening on it if any.
#[derive(Debug)]
struct Held {
    /// First, so a release stops the proxy (whose drop waits for its copy of the socket to
    /// close) before the socket itself is closed.
    proxy: Option<Proxy>,
    fd: OwnedFd,
}

/// A port let go of: the socket (and proxy) close when this is dropped, which may wait a
/// moment for the proxy's tasks; drop it outside of locks.
#[derive(Debug)]
pub struct Released(#[allow(dead_code)] Held);

/// The host ports berth holds, each with its socket.
#[derive(Debug, Default)]
pub struct Ports {
    held: BTreeMap<Key, Held>,
    /// The last port handed out for a `0`, per protocol.
    last: BTreeMap<Proto, u16>,
    range: Option<(u16, u16)>,
}

/// The kernel's local port range (`net.ipv4.ip_local_port_range`), or Docker's fallback.
fn local_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|n| n.parse::<u16>().ok());
            Some((it.next()??, it.next()??))
        })
        .unwrap_or((49153, 65535))
}

fn unspecified(ip: Option<IpAddr>) -> IpAddr {
    ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

fn name(proto: Proto, ip: IpAddr) -> String {
    let p = match proto {
        Proto::Tcp => "tcp",
        Proto::Udp => "udp",
        Proto::Sctp => "sctp",
    };
    format!("{p}{}", if ip.is_ipv4() { 4 } else { 6 })
}

impl Ports {
    /// Holds `port` (0: the next free one of the range) of `host_ip` (`None`: every address)
    /// for `proto`; returns the port held.
    pub fn reserve(
        &mut self,
        proto: Proto,
        host_ip: Option<IpAddr>,
        port: u16,
    ) -> Result<u16, PortError> {
        let ip = unspecified(host_ip);
        if port != 0 {
            return self.hold(proto, ip, port).map(|()| port);
        }
        let (lo, hi) = *self.range.get_or_insert_with(local_range);
        let start = self.last.get(&proto).map_or(lo, |p| p.saturating_add(1));
        let candidates = (start..=hi).chain(lo..start.min(hi.saturating_add(1)));
        for p in candidates {
            match self.hold(proto, ip, p) {
                Ok(()) => {
                    self.last.insert(proto, p);
                    return Ok(p);
                }
                Err(PortError::Allocated { .. } | PortError::InUse { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(PortError::Exhausted)
    }

    /// Holds the first free port of `lo..=hi` (`(0, 0)`: any, as [`Ports::reserve`] with 0).
    pub fn reserve_range(
        &mut self,
        proto: Proto,
        host_ip: Option<IpAddr>,
        (lo, hi): (u16, u16),
    ) -> Result<u16, PortError> {
        if lo == hi {
            return self.reserve(proto, host_ip, lo);
        }
        let mut first = None;
        for p in lo..=hi {
            match self.reserve(proto, host_ip, p) {
                Ok(p) => return Ok(p),
                Err(e @ (PortError::Allocated { .. } | PortError::InUse { .. })) => {
                    first.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(first.unwrap_or(PortError::Exhausted))
    }

    fn hold(&mut self, proto: Proto, ip: IpAddr, port: u16) -> Result<(), PortError> {
        let addr = SocketAddr::new(ip, port);
        let shown = addr.to_string();
        let clash = self.held.keys().any(|(p, held_ip, held_port)| {
            *p == proto
                && *held_port == port
                && (*held_ip == ip || held_ip.is_unspecified() || ip.is_unspecified())
                && held_ip.is_ipv4() == ip.is_ipv4()
        });
        if clash {
            // Docker's allocator writes `ip:port`, unbracketed: `Bind for :::8080 failed`.
            return Err(PortError::Allocated {
                addr: format!("{ip}:{port}"),
            });
        }
        let bound: std::io::Result<OwnedFd> = match proto {
            // A listener would accept connections; the socket only needs to own the port.
            Proto::Tcp => bind_tcp(addr),
            Proto::Udp => bind_socket(addr, rustix::net::SocketType::DGRAM),
            // The kernel's SCTP may be absent: the port is then only berth's to track.
            Proto::Sctp => {
                let fd = placeholder()?;
                self.held
                    .insert((proto, ip, port), Held { proxy: None, fd });
                return Ok(());
            }
        };
        match bound {
            Ok(fd) => {
                self.held
                    .insert((proto, ip, port), Held { proxy: None, fd });
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(PortError::InUse {
                proto: name(proto, ip),
                addr: shown,
            }),
            Err(e) => Err(PortError::Other {
                addr: shown,
                reason: e.to_string(),
            }),
        }
    }

    /// Lets go of a port held by [`Ports::reserve`]; it is free once the result is dropped.
    pub fn release(
        &mut self,
        proto: Proto,
        host_ip: Option<IpAddr>,
        port: u16,
    ) -> Option<Released> {
        self.held
            .remove(&(proto, unspecified(host_ip), port))
            .map(Released)
    }

    /// Makes the socket held for `port` of `host_ip` the listener of a proxy to `target`,
    /// running on `rt` until the port is released.
    pub fn proxy(
        &mut self,
        proto: Proto,
        host_ip: Option<IpAddr>,
        port: u16,
        target: SocketAddr,
        rt: &Handle,
    ) -> Result<(), ProxyError> {
        let addr = SocketAddr::new(unspecified(host_ip), port);
        let held = self
            .held
            .get_mut(&(proto, addr.ip(), port))
            .ok_or(ProxyError::NotHeld(addr))?;
        // The proxy's copy is the same socket: the port stays held through either.
        let fd = held.fd.try_clone().map_err(ProxyError::Register)?;
        let running = match proto {
            Proto::Tcp => {
                rustix::net::listen(&fd, BACKLOG).map_err(|e| ProxyError::Listen {
                    addr,
                    err: e.into(),
                })?;
                proxy::tcp(fd.into(), target, rt)?
            }
            Proto::Udp => proxy::udp(fd.into(), target, rt)?,
            Proto::Sctp => return Err(ProxyError::Unsupported("sctp")),
        };
        held.proxy = Some(running);
        Ok(())
    }

    /// How many ports are held.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

/// A TCP socket bound to `addr` and not listening.
fn bind_tcp(addr: SocketAddr) -> std::io::Result<OwnedFd> {
    bind_socket(addr, rustix::net::SocketType::STREAM)
}

/// A socket of `kind` bound to `addr`; an IPv6 one holds only IPv6.
fn bind_socket(addr: SocketAddr, kind: rustix::net::SocketType) -> std::io::Result<OwnedFd> {
    use rustix::net::{AddressFamily, SocketFlags, bind, socket_with};
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let fd = socket_with(family, kind, SocketFlags::CLOEXEC, None)?;
    if addr.is_ipv6() {
        // `[::]` holds only IPv6: `0.0.0.0` is a mapping of its own, as in Docker.
        rustix::net::sockopt::set_ipv6_v6only(&fd, true)?;
        if kind == rustix::net::SocketType::STREAM {
            // IPv6 sockets are the proxy's listeners: the port must bind again past the
            // TIME_WAIT of proxied connections, as Go's listeners (docker-proxy's) do. A
            // listening socket still keeps everyone else off the port.
            rustix::net::sockopt::set_socket_reuseaddr(&fd, true)?;
        }
    }
    bind(&fd, &addr)?;
    Ok(fd)
}

/// Whether this network namespace can listen on IPv6 (Docker's `IsV6Listenable`: a listener
/// on `[::1]:0`); without, a binding on every address is published on IPv4 only.
pub fn ipv6_listenable() -> bool {
    std::net::TcpListener::bind((std::net::Ipv6Addr::LOCALHOST, 0)).is_ok()
}

/// A descriptor standing for a port no socket can hold.
fn placeholder() -> Result<OwnedFd, PortError> {
    std::fs::File::open("/dev/null")
        .map(OwnedFd::from)
        .map_err(|e| PortError::Other {
            addr: String::new(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testns::in_new_netns;

    #[test]
    fn a_port_is_held_once_and_others_cannot_bind_it() {
        in_new_netns(held_once);
    }

    fn held_once() {
        let mut p = Ports::default();
        let port = p
            .reserve(Proto::Tcp, Some("127.0.0.1".parse().unwrap()), 0)
            .unwrap();
        assert!(port > 0);
        let again = p.reserve(Proto::Tcp, None, port).unwrap_err();
        assert_eq!(
            again.to_string(),
            format!("Bind for 0.0.0.0:{port} failed: port is already allocated")
        );
        // Another program cannot take it either.
        std::net::TcpListener::bind(("127.0.0.1", port)).unwrap_err();
        // UDP is another namespace of ports.
        p.reserve(Proto::Udp, Some("127.0.0.1".parse().unwrap()), port)
            .unwrap();
        p.release(Proto::Tcp, Some("127.0.0.1".parse().unwrap()), port);
        std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn a_range_gives_its_first_free_port() {
        in_new_netns(|| {
            let mut p = Ports::default();
            let lo = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
            let base = lo.local_addr().unwrap().port();
            drop(lo);
            p.reserve(Proto::Tcp, None, base).unwrap();
            assert_eq!(
                p.reserve_range(Proto::Tcp, None, (base, base + 1)).unwrap(),
                base + 1
            );
            let e = p
                .reserve_range(Proto::Tcp, None, (base, base + 1))
                .unwrap_err();
            assert!(matches!(e, PortError::Allocated { .. }), "{e}");
        });
    }

    #[test]
    fn a_port_another_program_holds_is_dockers_error() {
        in_new_netns(held_by_another);
    }

    fn held_by_another() {
        let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = other.local_addr().unwrap().port();
        let e = Ports::default()
            .reserve(Proto::Tcp, Some("127.0.0.1".parse().unwrap()), port)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "Error starting userland proxy: listen tcp4 127.0.0.1:{port}: bind: address already in use"
            )
        );
    }

    #[test]
    fn ephemeral_ports_come_in_order_from_the_range_and_wrap() {
        in_new_netns(ephemeral);
    }

    fn ephemeral() {
        let mut p = Ports {
            range: Some((40100, 40102)),
            ..Ports::default()
        };
        let ip = Some("127.0.0.1".parse().unwrap());
        let got: Vec<u16> = (0..3)
            .map(|_| p.reserve(Proto::Udp, ip, 0).unwrap())
            .collect();
        assert_eq!(got, [40100, 40101, 40102]);
        assert_eq!(
            p.reserve(Proto::Udp, ip, 0).unwrap_err(),
            PortError::Exhausted
        );
        p.release(Proto::Udp, ip, 40101);
        assert_eq!(
            p.reserve(Proto::Udp, ip, 0).unwrap(),
            40101,
            "wraps to the freed one"
        );
    }
}
