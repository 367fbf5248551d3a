//! Which published ports go through the in-daemon proxy (`berth_network::proxy`), as Docker
//! 20.10's userland proxy does for them (`libnetwork/drivers/bridge/port_mapping.go`):
//! - a binding with no host IP is also published on `[::]` when the host can listen on
//!   IPv6 (`IsV6Listenable`), to the container's IPv6 address if it has one, else to its
//!   IPv4 address (moby keeps this "for backward compatibility" with the userland proxy);
//! - an explicit IPv6 host address (`[::1]`, `[2001:db8::1]`) likewise.
//!
//! Every IPv6 host socket listens and forwards. For a container with IPv6 the kernel DNATs
//! all but `::1` before it reaches the socket (IPv6 has no `route_localnet`), so the proxy
//! sees only loopback traffic; for an IPv4-only container there is no IPv6 DNAT at all.
//! SCTP is not proxied: an IPv4-only container publishes it on IPv4 only, and an explicit
//! IPv6 address it needs the proxy for is refused.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use berth_network::firewall::Proto;
use berth_network::ports::{PortError, Ports, ipv6_listenable};
use tokio::runtime::Handle;

use super::publish::proto;
use super::store::{EndpointRecord, Published};

/// Whether a binding with no host IP (on `0.0.0.0`) is also published on `[::]` for `e`.
pub fn also_on_ipv6(p: Proto, e: &EndpointRecord) -> bool {
    (e.address6.is_some() || p != Proto::Sctp) && ipv6_listenable()
}

/// Holds `[::]` for the IPv6 half of a binding on every address: the IPv4 half's `port`,
/// or, for a binding that asked for any port (`range` `(0, 0)`), the next free one if that
/// is taken, as Docker allocates the two halves apart (`-P` can show `0.0.0.0:32770` and
/// `:::32769`).
pub fn reserve_any6(
    ports: &mut Ports,
    p: Proto,
    port: u16,
    range: (u16, u16),
) -> Result<u16, PortError> {
    let any6 = Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    match ports.reserve(p, any6, port) {
        Err(PortError::Allocated { .. } | PortError::InUse { .. }) if range == (0, 0) => {
            ports.reserve(p, any6, 0)
        }
        held => held,
    }
}

/// Why IPv6 host address `ip` cannot be published to `e` for `p`, if it cannot.
pub fn check(p: Proto, ip: IpAddr, e: &EndpointRecord) -> Result<(), String> {
    if p != Proto::Sctp {
        return Ok(());
    }
    if e.address6.is_none() {
        return Err(format!(
            "berth cannot publish sctp on IPv6 address {ip}: the container has no IPv6 address and berth proxies only tcp and udp (networks made with --ipv6 give one)"
        ));
    }
    if ip.is_loopback() {
        return Err(format!(
            "berth cannot publish sctp on {ip}: the kernel does not route IPv6 loopback traffic to a container and berth proxies only tcp and udp"
        ));
    }
    Ok(())
}

/// Where the proxy of `p` sends its traffic, if `p` has one.
pub fn target(p: &Published, e: &EndpointRecord) -> Option<SocketAddr> {
    if p.host_ip.is_ipv4() || proto(&p.proto) == Proto::Sctp {
        return None;
    }
    let ip = e.address6.map_or(e.address.addr(), |a| a.addr());
    Some(SocketAddr::new(ip, p.container_port))
}

/// Starts the proxies of `published` (held in `ports` already) on the current runtime.
pub fn start(ports: &mut Ports, published: &[Published], e: &EndpointRecord) -> Result<(), String> {
    let rt = Handle::try_current().map_err(|e| format!("finding the daemon's runtime: {e}"))?;
    for p in published {
        if let Some(to) = target(p, e) {
            ports
                .proxy(proto(&p.proto), Some(p.host_ip), p.host_port, to, &rt)
                .map_err(|err| err.to_string())?;
        }
    }
    Ok(())
}

/// Whether the kernel's DNAT serves `p`: never IPv6 loopback, never IPv6 to a container
/// without IPv6 (the proxy does).
pub fn dnat(p: &Published, e: &EndpointRecord) -> bool {
    match p.host_ip {
        IpAddr::V4(_) => true,
        IpAddr::V6(ip) => e.address6.is_some() && !ip.is_loopback(),
    }
}
