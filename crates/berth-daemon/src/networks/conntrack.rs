//! Stale conntrack entries of endpoints, deleted at the two points Docker deletes them (moby
//! `drivers/bridge` `clearConntrackEntries`): once an endpoint is plugged and the firewall
//! sends its published ports to it, the entries of its addresses and those to its UDP host
//! ports; once it has gone and the firewall no longer names it, the entries of its addresses.
//! The rules are `berth_network::conntrack`'s. A failure is logged and never fails the start or
//! the removal, as in Docker. Called from the blocking pool, whose threads are in the daemon's
//! network namespace, where the published ports' flows are tracked.

use berth_network::conntrack::{self, Stale};
use berth_network::firewall::Proto;

use super::publish::proto;
use super::store::EndpointRecord;
use crate::error::Error;

/// After endpoint `e` is plugged and its ports are in the firewall.
pub fn plugged(e: &EndpointRecord) {
    let udp_ports = e
        .ports
        .iter()
        .filter(|p| proto(&p.proto) == Proto::Udp)
        .map(|p| (p.host_ip, p.host_port))
        .collect();
    clear(
        &e.container,
        Stale {
            addresses: e.addrs(),
            udp_ports,
        },
    );
}

/// After endpoints `eps` are gone and the firewall no longer names them.
pub fn gone(container: &str, eps: &[EndpointRecord]) {
    let addresses = eps.iter().flat_map(EndpointRecord::addrs).collect();
    clear(
        container,
        Stale {
            addresses,
            udp_ports: Vec::new(),
        },
    );
}

fn clear(container: &str, stale: Stale) {
    match conntrack::clear(&stale) {
        Ok(done) if done.deleted > 0 || done.undecoded > 0 => tracing::debug!(
            container.id = container,
            deleted = done.deleted,
            undecoded = done.undecoded,
            "cleared stale conntrack entries"
        ),
        Ok(_) => {}
        Err(e) => {
            let e = Error::internal("ctnetlink", e);
            tracing::warn!(container.id = container, error = %e, "clearing stale conntrack entries");
        }
    }
}
