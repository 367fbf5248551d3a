//! The default `bridge` network, Docker's `docker0` (berth's `berth0`): made at daemon start
//! from `--bip` (or the first free pool, 172.17.0.0/16 on most hosts) and `--fixed-cidr`, with
//! Docker's options; made again with the new settings when they changed and no container is
//! on it, and removed with `--bridge none`. It has no embedded DNS.

use std::collections::BTreeMap;
use std::net::IpAddr;

use berth_network::ipam::{IpFamily, Subnet};

use super::{Network, Networks, host};
use crate::config::DefaultBridge;
use crate::error::{Error, Result};

/// Docker's options of its default bridge (`docker network inspect bridge`).
fn options(bridge: &str) -> BTreeMap<String, String> {
    [
        ("com.docker.network.bridge.default_bridge", "true"),
        (super::OPT_ICC, "true"),
        (super::OPT_MASQUERADE, "true"),
        (super::OPT_HOST_IP, "0.0.0.0"),
        (super::OPT_NAME, bridge),
        (super::OPT_MTU, "1500"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

impl Networks {
    /// Makes the stored default bridge what `cfg` asks for. Blocks.
    pub(super) fn ensure_default(&self, cfg: Option<&DefaultBridge>) -> Result<()> {
        let _change = self.change.lock().expect("network change lock");
        let stored = self.list()?.into_iter().find(Network::is_default);
        if stored.is_none() && cfg.is_none() {
            return Ok(());
        }
        if let Some(n) = &stored {
            if cfg.is_some_and(|c| matches(c, n)) {
                return Ok(());
            }
            if !self.endpoints_on(&n.id)?.is_empty() {
                tracing::warn!(
                    bridge = %n.bridge,
                    "the default bridge's settings changed, but containers are on it: keeping it as it is"
                );
                return Ok(());
            }
            self.delete(&n.id)?;
            host::remove_bridge(&n.bridge);
        }
        if let Some(c) = cfg {
            let n = self.default_network(c)?;
            host::make_bridge(&n)?;
            self.put(&n)?;
            tracing::info!(bridge = %n.bridge, subnet = %n.subnets[0].subnet(), "made the default bridge network");
        }
        self.firewall_locked()
    }

    fn default_network(&self, c: &DefaultBridge) -> Result<Network> {
        let others: Vec<Network> = self.list()?;
        let taken: Vec<ipnet::IpNet> = others
            .iter()
            .flat_map(|n| n.subnets.iter().map(Subnet::subnet))
            .collect();
        let (subnet, gateway): (ipnet::IpNet, Option<IpAddr>) = match c.bip {
            Some(bip) => (bip.trunc(), Some(bip.addr())),
            None => {
                let routes = host::routes();
                let net = self
                    .pools
                    .lock()
                    .expect("pools lock")
                    .allocate_subnet(IpFamily::V4, &taken, &routes)
                    .map_err(|e| Error::invalid(e.to_string()))?;
                (net, None)
            }
        };
        let subnet = Subnet::new(subnet, gateway, c.fixed_cidr, BTreeMap::new())
            .map_err(|e| Error::invalid(format!("default bridge: {e}")))?;
        let id = berth_core::id::generate();
        Ok(Network {
            id,
            name: "bridge".into(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            bridge: c.name.clone(),
            subnets: vec![subnet],
            ipv6: false,
            internal: false,
            attachable: false,
            labels: BTreeMap::new(),
            options: options(&c.name),
        })
    }
}

/// Whether stored default network `n` is what `c` asks for.
fn matches(c: &DefaultBridge, n: &Network) -> bool {
    let Some(s) = n.subnets.first() else {
        return false;
    };
    n.bridge == c.name
        && s.ip_range() == c.fixed_cidr
        && c.bip
            .is_none_or(|b| s.subnet() == b.trunc() && s.gateway() == b.addr())
}
