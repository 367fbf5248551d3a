//! Where a container's DNS queries reach the daemon. As Docker does, the daemon binds a UDP
//! socket and a TCP listener on 127.0.0.11 with ephemeral ports inside the container's network
//! namespace (one pair per namespace, no process), and a small nftables table there sends
//! 127.0.0.11:53 to them and makes the replies come from :53. Port 53 itself stays free for a
//! DNS server the container runs (binding 127.0.0.11:53 would take `0.0.0.0:53` from it).

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};

use crate::firewall::FirewallError;

/// The address containers send their queries to.
pub const RESOLVER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);

/// The table in each container's namespace.
pub const TABLE: &str = "berth-dns";

/// The daemon's sockets in one container's network namespace.
#[derive(Debug)]
pub struct Listener {
    /// Queries over UDP.
    pub udp: UdpSocket,
    /// Queries over TCP.
    pub tcp: TcpListener,
}

impl Listener {
    /// Binds the sockets on 127.0.0.11 in the calling thread's network namespace (whose
    /// loopback must be up) and loads the redirection of port 53 to them.
    pub fn bind_here() -> Result<Listener, FirewallError> {
        let fail = |e: std::io::Error| FirewallError(format!("binding {RESOLVER}: {e}"));
        let udp = UdpSocket::bind(SocketAddr::from((RESOLVER, 0))).map_err(fail)?;
        let tcp = TcpListener::bind(SocketAddr::from((RESOLVER, 0))).map_err(fail)?;
        let l = Listener { udp, tcp };
        crate::firewall::load(&l.rules()?)?;
        Ok(l)
    }

    /// The batch that points 127.0.0.11:53 at this listener's ports.
    fn rules(&self) -> Result<String, FirewallError> {
        let port = |a: std::io::Result<SocketAddr>| {
            a.map(|a| a.port())
                .map_err(|e| FirewallError(format!("reading a DNS socket's port: {e}")))
        };
        let (u, t) = (port(self.udp.local_addr())?, port(self.tcp.local_addr())?);
        Ok(redirect(u, t))
    }
}

/// The table that sends 127.0.0.11:53 to ports `udp` and `tcp` and back.
pub fn redirect(udp: u16, tcp: u16) -> String {
    let r = RESOLVER;
    format!(
        "add table ip {TABLE}\n\
         flush table ip {TABLE}\n\
         add chain ip {TABLE} output {{ type nat hook output priority -100; policy accept; }}\n\
         add chain ip {TABLE} postrouting {{ type nat hook postrouting priority srcnat; policy accept; }}\n\
         add rule ip {TABLE} output ip daddr {r} udp dport 53 dnat to {r}:{udp}\n\
         add rule ip {TABLE} output ip daddr {r} tcp dport 53 dnat to {r}:{tcp}\n\
         add rule ip {TABLE} postrouting ip saddr {r} udp sport {udp} snat to :53\n\
         add rule ip {TABLE} postrouting ip saddr {r} tcp sport {tcp} snat to :53\n"
    )
}
