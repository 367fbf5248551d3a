//! Published ports of a container's first endpoint: the host ports `-p` and `-P` ask for,
//! held by the daemon (`berth_network::ports`) for as long as the container runs. The
//! firewall's maps are rebuilt from the endpoint records that hold them; what the kernel
//! cannot DNAT goes through the in-daemon proxy (`proxied`).

use std::net::{IpAddr, Ipv4Addr};

use berth_network::firewall::Proto;
use berth_network::ports::{Ports, Released};

use super::store::{EndpointRecord, Published};
use super::{Network, OPT_HOST_IP, proxied};
use crate::containers::{HostBinding, Record, port_key};
use crate::error::{Error, Result};

/// The protocol of Docker's name.
pub fn proto(name: &str) -> Proto {
    match name {
        "udp" => Proto::Udp,
        "sctp" => Proto::Sctp,
        _ => Proto::Tcp,
    }
}

/// What `rec` asks to publish: its bindings, and with `-P` every exposed port it did not bind.
fn requested(rec: &Record) -> Vec<(u16, String, HostBinding)> {
    let net = &rec.spec.net;
    let mut out = Vec::new();
    for (key, bindings) in &net.ports {
        let Some((port, p)) = port_key(key) else {
            continue;
        };
        out.extend(bindings.iter().map(|b| (port, p.to_string(), b.clone())));
    }
    if net.publish_all {
        for key in rec.spec.exposed_ports.iter().flatten() {
            let Some((port, p)) = port_key(key) else {
                continue;
            };
            if !net.ports.contains_key(&format!("{port}/{p}")) {
                out.push((port, p.to_string(), HostBinding::default()));
            }
        }
    }
    out
}

/// Holds the host ports `rec` asks for through endpoint `e` on network `n`; all or none. A
/// binding on every address is published on IPv4 and, when the host has IPv6, on IPv6 with
/// the same port (for `-P` another if that one is taken), as Docker lists both; the IPv6
/// ones get their proxies.
pub fn reserve(
    ports: &mut Ports,
    rec: &Record,
    n: &Network,
    e: &EndpointRecord,
) -> Result<Vec<Published>> {
    let default_ip: IpAddr = n
        .options
        .get(OPT_HOST_IP)
        .and_then(|ip| ip.parse().ok())
        .unwrap_or(Ipv4Addr::UNSPECIFIED.into());
    let mut held = Vec::new();
    for (container_port, p, b) in requested(rec) {
        let given = !b.host_ip.is_empty();
        let host_ip = b.host_ip.parse().unwrap_or(default_ip);
        let range = crate::wire::net::port_range(&b.host_port).unwrap_or((0, 0));
        let fail = |ports: &mut Ports, held: &[Published], err: String| {
            drop(release(ports, held));
            Error::internal_msg(format!(
                "driver failed programming external connectivity on endpoint {} ({}): {err}",
                rec.name, e.id
            ))
        };
        let first = held.len();
        if host_ip.is_ipv6()
            && let Err(why) = proxied::check(proto(&p), host_ip, e)
        {
            return Err(fail(ports, &held, why));
        }
        let host_port = match ports.reserve_range(proto(&p), Some(host_ip), range) {
            Ok(port) => port,
            Err(err) => return Err(fail(ports, &held, err.to_string())),
        };
        held.push(Published {
            proto: p.clone(),
            host_ip,
            host_port,
            container_port,
        });
        let also_v6 = !given
            && host_ip == IpAddr::from(Ipv4Addr::UNSPECIFIED)
            && proxied::also_on_ipv6(proto(&p), e);
        if also_v6 {
            let any6: IpAddr = std::net::Ipv6Addr::UNSPECIFIED.into();
            let port6 = match proxied::reserve_any6(ports, proto(&p), host_port, range) {
                Ok(port) => port,
                Err(err) => return Err(fail(ports, &held, err.to_string())),
            };
            held.push(Published {
                proto: p,
                host_ip: any6,
                host_port: port6,
                container_port,
            });
        }
        if let Err(err) = proxied::start(ports, &held[first..], e) {
            return Err(fail(ports, &held, err));
        }
    }
    Ok(held)
}

/// Lets go of `published`: the ports are free once the result is dropped (outside locks).
#[must_use]
pub fn release(ports: &mut Ports, published: &[Published]) -> Vec<Released> {
    published
        .iter()
        .filter_map(|p| ports.release(proto(&p.proto), Some(p.host_ip), p.host_port))
        .collect()
}

/// Holds again the ports of endpoint `e`, whose container outlived the daemon, with their
/// proxies.
pub fn hold_again(ports: &mut Ports, e: &EndpointRecord) -> Result<()> {
    for p in &e.ports {
        ports
            .reserve(proto(&p.proto), Some(p.host_ip), p.host_port)
            .map_err(|e| Error::internal("holding a published port", e))?;
    }
    proxied::start(ports, &e.ports, e).map_err(|err| {
        Error::internal_msg(format!("starting the proxy of a published port: {err}"))
    })
}

/// The firewall's view of the published ports of `eps`.
pub fn firewall_ports(eps: &[EndpointRecord]) -> Vec<berth_network::firewall::Port> {
    eps.iter()
        .flat_map(|e| {
            e.ports.iter().filter_map(|p| {
                if !proxied::dnat(p, e) {
                    return None;
                }
                // An IPv6 host address goes to the container's IPv6 address.
                let container_ip = match p.host_ip {
                    IpAddr::V4(_) => e.address.addr(),
                    IpAddr::V6(_) => e.address6?.addr(),
                };
                Some(berth_network::firewall::Port {
                    proto: proto(&p.proto),
                    host_ip: (!p.host_ip.is_unspecified()).then_some(p.host_ip),
                    host_port: p.host_port,
                    container_ip,
                    container_port: p.container_port,
                })
            })
        })
        .collect()
}
