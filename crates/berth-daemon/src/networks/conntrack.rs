//! Stale conntrack entries of endpoints, deleted where Docker deletes them (moby
//! `drivers/bridge` `clearConntrackEntries`, called from `ProgramExternalConnectivity`): once
//! an endpoint is plugged and the firewall sends its published ports to it, the entries of its
//! addresses and those to its UDP host ports. That also covers the entries a removed endpoint
//! left: they are cleared when its address or host port is used again. The rules are
//! `berth_network::conntrack`'s; the clearing runs on the reaper's thread, in the daemon's
//! network namespace, where the published ports' flows are tracked. A failure is logged and
//! never fails the start, as in Docker.

use berth_network::conntrack::{Cleared, ConntrackError, Stale};
use berth_network::firewall::Proto;

use super::publish::proto;
use super::store::EndpointRecord;
use crate::error::Error;

/// What to clear after endpoint `e` is plugged and its ports are in the firewall.
pub fn plugged(e: &EndpointRecord) -> Stale {
    let udp_ports = e
        .ports
        .iter()
        .filter(|p| proto(&p.proto) == Proto::Udp)
        .map(|p| (p.host_ip, p.host_port))
        .collect();
    Stale {
        addresses: e.addrs(),
        udp_ports,
    }
}

/// Logs how a clearing went.
pub fn report(done: Result<Cleared, ConntrackError>) {
    match done {
        Ok(done) if done.deleted > 0 || done.undecoded > 0 => tracing::debug!(
            deleted = done.deleted,
            undecoded = done.undecoded,
            "cleared stale conntrack entries"
        ),
        Ok(_) => {}
        Err(e) => {
            let e = Error::internal("ctnetlink", e);
            tracing::warn!(error = %e, "clearing stale conntrack entries");
        }
    }
}
