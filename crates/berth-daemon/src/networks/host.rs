//! What a network is on the host: its Linux bridge and its part of berth's firewall table.
//! All of it acts on the calling thread's network namespace, the daemon's.

use berth_network::endpoint::{self, Bridge};
use berth_network::firewall::{self, Ruleset};
use berth_network::link::Netlink;
use ipnet::IpNet;

use super::{Network, OPT_ICC, OPT_MASQUERADE};
use crate::error::{Error, Result};

fn netlink() -> Result<Netlink> {
    Netlink::open().map_err(|e| Error::internal("opening netlink", e))
}

/// The bridge of `n` with its gateways, made and up.
pub fn make_bridge(n: &Network) -> Result<()> {
    let nl = netlink()?;
    let bridge = Bridge {
        name: n.bridge.clone(),
        mtu: n.mtu(),
        addresses: n
            .subnets
            .iter()
            .map(|s| {
                IpNet::new(s.gateway(), s.subnet().prefix_len()).expect("a gateway in its subnet")
            })
            .collect(),
    };
    endpoint::setup_bridge(&nl, &bridge)
        .map_err(|e| Error::internal(&format!("creating bridge {}", n.bridge), e))
}

/// Deletes bridge `name`; one already gone is fine.
pub fn remove_bridge(name: &str) {
    if let Ok(nl) = netlink()
        && let Err(e) = nl.delete(name)
    {
        tracing::warn!(bridge = name, error = %e, "removing a bridge");
    }
}

/// Makes berth's table what `all` and `ports` say, and the iptables accepts where FORWARD
/// drops.
pub fn firewall(all: &[Network], ports: &[firewall::Port]) -> Result<()> {
    let rules = Ruleset {
        bridges: all
            .iter()
            .map(|n| firewall::Bridge {
                name: n.bridge.clone(),
                subnets: n.subnets.iter().map(|s| s.subnet()).collect(),
                masquerade: n.flag(OPT_MASQUERADE),
                internal: n.internal,
                icc: n.flag(OPT_ICC),
            })
            .collect(),
        ports: ports.to_vec(),
    };
    rules
        .apply()
        .map_err(|e| Error::internal("updating berth's firewall", e))?;
    let names: Vec<String> = all.iter().map(|n| n.bridge.clone()).collect();
    firewall::forward_accepts(&names).map_err(|e| Error::internal("updating iptables FORWARD", e))
}

/// Makes the stored networks' bridges where they are missing, and the table.
pub fn restore(all: &[Network], ports: &[firewall::Port]) -> Result<()> {
    let nl = netlink()?;
    for n in all {
        if nl.link(&n.bridge).is_err() {
            make_bridge(n)?;
        }
    }
    firewall(all, ports)
}

/// The host's IPv4 routes with a destination, which new subnets must not overlap.
pub fn routes() -> Vec<IpNet> {
    let table = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dest = u32::from_str_radix(f.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(f.get(7)?, 16).ok()?;
            let addr = std::net::Ipv4Addr::from(dest.to_le_bytes());
            let prefix = mask.count_ones() as u8;
            (prefix > 0).then(|| IpNet::new(addr.into(), prefix).ok())?
        })
        .collect()
}
