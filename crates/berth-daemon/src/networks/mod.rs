//! The network service: bridge networks recorded in the metadata store, each a Linux bridge
//! (`br-<id12>`, or the name its options give) with Docker's addressing, and berth's firewall
//! table rebuilt from them. `host` and `none` always exist, as in Docker, and are not stored.
//!
//! Lifecycle: `create` allocates the subnets, makes the bridge, records the network and then
//! rebuilds the firewall; a failure on the way removes what was made. `remove` deletes the
//! record first, then the bridge. At open every recorded bridge is made again where it is
//! missing (a host reboot) and the table is rebuilt, so the host matches the store.
//!
//! Everything here acts on the daemon's own network namespace, from the blocking pool.

mod conntrack;
mod default;
mod dns;
mod endpoints;
mod host;
mod proxied;
mod publish;
mod store;

pub use endpoints::BridgeHook;
pub use store::{EndpointRecord, Published};

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use berth_network::ipam::{IpFamily, Pools, Subnet};
use ipnet::IpNet;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, db};
use crate::events::Events;

const NETWORKS: TableDefinition<&str, &[u8]> = TableDefinition::new("networks");

/// A bridge network as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// 64 hex digits.
    pub id: String,
    /// Unique among networks.
    pub name: String,
    /// When it was made (RFC 3339 with nanoseconds, as Docker shows it).
    pub created: String,
    /// The bridge's interface name.
    pub bridge: String,
    /// Its subnets with their allocations.
    pub subnets: Vec<Subnet>,
    /// IPv6 on (`--ipv6`).
    pub ipv6: bool,
    /// No traffic out of the network (`--internal`).
    pub internal: bool,
    /// `--attachable` (kept for inspect).
    pub attachable: bool,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Driver options (`com.docker.network.bridge.*`, `com.docker.network.driver.mtu`).
    pub options: BTreeMap<String, String>,
}

/// The subnet of the default bridge network (Docker's `docker0`, without `--bip`).
pub const DEFAULT_BRIDGE_SUBNET: &str = "172.17.0.0/16";

/// Docker's bridge driver options berth acts on.
pub const OPT_NAME: &str = "com.docker.network.bridge.name";
/// Whether containers on the network may talk to each other.
pub const OPT_ICC: &str = "com.docker.network.bridge.enable_icc";
/// Whether traffic leaving the network is masqueraded.
pub const OPT_MASQUERADE: &str = "com.docker.network.bridge.enable_ip_masquerade";
/// The host address published ports default to.
pub const OPT_HOST_IP: &str = "com.docker.network.bridge.host_binding_ipv4";
/// The MTU of the bridge and its veths.
pub const OPT_MTU: &str = "com.docker.network.driver.mtu";

/// An endpoint's IPv4 address and gateway, and its IPv6 ones on a network with IPv6.
pub type Addresses = ((IpNet, IpAddr), Option<(IpNet, IpAddr)>);

impl Network {
    /// The default bridge network, which has no DNS.
    pub fn is_default(&self) -> bool {
        self.name == "bridge"
    }

    fn flag(&self, key: &str) -> bool {
        self.options.get(key).is_none_or(|v| v != "false")
    }

    /// The MTU its links get.
    pub fn mtu(&self) -> u32 {
        self.options
            .get(OPT_MTU)
            .and_then(|m| m.parse().ok())
            .unwrap_or(1500)
    }
}

/// What `create` is asked for, in berth's terms (the HTTP edge turns Docker's body into it).
#[derive(Debug, Clone, Default)]
pub struct NetworkRequest {
    /// The name.
    pub name: String,
    /// The subnets asked for; empty: one IPv4 subnet from the pools (and one IPv6 with `ipv6`).
    pub subnets: Vec<SubnetRequest>,
    /// `--ipv6`.
    pub ipv6: bool,
    /// `--internal`.
    pub internal: bool,
    /// `--attachable`.
    pub attachable: bool,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Driver options.
    pub options: BTreeMap<String, String>,
}

/// One `IPAM.Config` entry.
#[derive(Debug, Clone, Default)]
pub struct SubnetRequest {
    /// `--subnet`.
    pub subnet: Option<IpNet>,
    /// `--ip-range`.
    pub ip_range: Option<IpNet>,
    /// `--gateway`.
    pub gateway: Option<IpAddr>,
    /// `--aux-address`es.
    pub aux: BTreeMap<String, IpAddr>,
}

/// The network service.
pub struct Networks {
    db: Arc<Database>,
    events: Arc<Events>,
    pools: Mutex<Pools>,
    /// Serializes changes to the set of networks (allocation, bridge, firewall).
    change: Mutex<()>,
}

impl Networks {
    /// The service over `db`; makes the host match the stored networks and `cfg`. Blocks.
    pub fn open(
        database: Arc<Database>,
        events: Arc<Events>,
        cfg: &crate::config::NetworkConfig,
    ) -> Result<Self> {
        let tx = database.begin_write().map_err(db)?;
        tx.open_table(NETWORKS).map_err(db)?;
        tx.commit().map_err(db)?;
        let this = Networks {
            db: database,
            events,
            pools: Mutex::new(if cfg.pools.is_empty() {
                Pools::default()
            } else {
                Pools::new(&cfg.pools).map_err(|e| Error::invalid(e.to_string()))?
            }),
            change: Mutex::new(()),
        };
        this.drop_old_endpoints()?;
        let all = this.list()?;
        if !all.is_empty() {
            let ports = publish::firewall_ports(&this.all_endpoints()?);
            host::restore(&all, &ports)?;
        }
        this.ensure_default(cfg.bridge.as_ref())?;
        Ok(this)
    }

    /// Every stored network, by name.
    pub fn list(&self) -> Result<Vec<Network>> {
        let tx = self.db.begin_read().map_err(db)?;
        let mut out: Vec<Network> = Vec::new();
        for row in tx.open_table(NETWORKS).map_err(db)?.iter().map_err(db)? {
            let (_, v) = row.map_err(db)?;
            if let Ok(n) = serde_json::from_slice(v.value()) {
                out.push(n);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The network with this name, ID or unique ID prefix, as Docker looks them up.
    pub fn get(&self, key: &str) -> Result<Network> {
        let all = self.list()?;
        if let Some(n) = all.iter().find(|n| n.id == key || n.name == key) {
            return Ok(n.clone());
        }
        let mut prefixed = all.iter().filter(|n| n.id.starts_with(key));
        match (prefixed.next(), prefixed.next()) {
            (Some(n), None) if !key.is_empty() => Ok(n.clone()),
            (Some(_), Some(_)) => Err(Error::invalid(format!(
                "network {key} is ambiguous ({} matches found based on ID prefix)",
                all.iter().filter(|n| n.id.starts_with(key)).count()
            ))),
            _ => Err(Error::not_found(format!("network {key} not found"))),
        }
    }

    /// Whether network `id` is the default bridge.
    pub fn is_default(&self, id: &str) -> bool {
        self.get(id).is_ok_and(|n| n.is_default())
    }

    fn put(&self, n: &Network) -> Result<()> {
        self.put_with(n, redb::Durability::Immediate)
    }

    /// Stores a change of `n`'s addresses that the endpoint record written next makes durable
    /// with it (one fsync, not two). A crash in between loses both, which agree.
    fn put_addresses(&self, n: &Network) -> Result<()> {
        self.put_with(n, redb::Durability::None)
    }

    fn put_with(&self, n: &Network, durability: redb::Durability) -> Result<()> {
        let mut tx = self.db.begin_write().map_err(db)?;
        tx.set_durability(durability).map_err(db)?;
        let bytes = serde_json::to_vec(n).expect("network serializes");
        tx.open_table(NETWORKS)
            .map_err(db)?
            .insert(n.id.as_str(), bytes.as_slice())
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn delete(&self, id: &str) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        tx.open_table(NETWORKS)
            .map_err(db)?
            .remove(id)
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// Docker's `connect` and `disconnect` events of network `n` for container `container`.
    pub fn endpoint_event(&self, action: &str, n: &Network, container: &str) {
        let attrs = BTreeMap::from([
            ("container".to_string(), container.to_string()),
            ("name".to_string(), n.name.clone()),
            ("type".to_string(), "bridge".to_string()),
        ]);
        self.events.publish("network", action, &n.id, attrs);
    }

    fn publish(&self, action: &str, n: &Network) {
        let attrs = BTreeMap::from([
            ("name".to_string(), n.name.clone()),
            ("type".to_string(), "bridge".to_string()),
        ]);
        self.events.publish("network", action, &n.id, attrs);
    }

    /// Creates a bridge network. Blocks.
    pub fn create(&self, req: NetworkRequest) -> Result<Network> {
        let _change = self.change.lock().expect("network change lock");
        if req.name == "bridge" {
            return Err(Error::conflict(
                "bridge is a pre-defined network name, kept for berth's default bridge network",
            ));
        }
        if matches!(req.name.as_str(), "host" | "none") || self.get(&req.name).is_ok() {
            return Err(Error::conflict(format!(
                "network with name {} already exists",
                req.name
            )));
        }
        let existing = self.list()?;
        let subnets = self.subnets(&req, &existing)?;
        let id = berth_core::id::generate();
        let n = Network {
            bridge: req
                .options
                .get(OPT_NAME)
                .cloned()
                .unwrap_or_else(|| format!("br-{}", &id[..12])),
            id,
            name: req.name,
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            subnets,
            ipv6: req.ipv6,
            internal: req.internal,
            attachable: req.attachable,
            labels: req.labels,
            options: req.options,
        };
        if existing.iter().any(|o| o.bridge == n.bridge) {
            return Err(Error::conflict(format!(
                "bridge name {} is already used by another network",
                n.bridge
            )));
        }
        host::make_bridge(&n)?;
        let stored = self.put(&n).and_then(|()| self.firewall_locked());
        if let Err(e) = stored {
            let _ = self.delete(&n.id);
            host::remove_bridge(&n.bridge);
            return Err(e);
        }
        self.publish("create", &n);
        Ok(n)
    }

    /// The subnets of a new network: the ones asked for (checked against the others), or one
    /// of each family from the pools.
    fn subnets(&self, req: &NetworkRequest, existing: &[Network]) -> Result<Vec<Subnet>> {
        let taken: Vec<IpNet> = existing
            .iter()
            .flat_map(|n| n.subnets.iter().map(Subnet::subnet))
            .collect();
        let ipam = |e: berth_network::ipam::IpamError| Error::invalid(e.to_string());
        let mut out = Vec::new();
        for s in &req.subnets {
            let subnet = match s.subnet {
                Some(net) => {
                    berth_network::ipam::check_subnet(net, &taken)
                        .map_err(|e| Error::conflict(e.to_string()))?;
                    net
                }
                None => self.pick(IpFamily::V4, &taken)?,
            };
            out.push(Subnet::new(subnet, s.gateway, s.ip_range, s.aux.clone()).map_err(ipam)?);
        }
        if !out.iter().any(|s| s.subnet().addr().is_ipv4()) {
            let net = self.pick(IpFamily::V4, &taken)?;
            out.push(Subnet::new(net, None, None, BTreeMap::new()).map_err(ipam)?);
        }
        if req.ipv6 && !out.iter().any(|s| s.subnet().addr().is_ipv6()) {
            let net = self.pick(IpFamily::V6, &taken)?;
            out.push(Subnet::new(net, None, None, BTreeMap::new()).map_err(ipam)?);
        }
        Ok(out)
    }

    fn pick(&self, family: IpFamily, taken: &[IpNet]) -> Result<IpNet> {
        let mut routes = host::routes();
        // The default bridge's subnet, as in Docker, whether or not that network exists yet.
        routes.push(DEFAULT_BRIDGE_SUBNET.parse().expect("a subnet"));
        self.pools
            .lock()
            .expect("pools lock")
            .allocate_subnet(family, taken, &routes)
            .map_err(|e| Error::invalid(e.to_string()))
    }

    /// Addresses on network `id` for a new endpoint (the ones `ep` asks for, else the next
    /// free ones), with their gateways; recorded before they are
    /// returned, durably with the endpoint record written next. Blocks.
    pub fn allocate(&self, id: &str, ep: &crate::containers::EndpointSpec) -> Result<Addresses> {
        let _change = self.change.lock().expect("network change lock");
        let mut n = self.get(id)?;
        let mut take = |family_v4: bool,
                        wanted: Option<IpAddr>|
         -> Result<Option<(IpNet, IpAddr)>> {
            if let Some(w) = wanted
                && !n.subnets.iter().any(|s| s.subnet().contains(&w))
            {
                return Err(Error::invalid(format!(
                    "Invalid address {w}: It does not belong to any of this network's subnets"
                )));
            }
            let Some(s) = n
                .subnets
                .iter_mut()
                .find(|s| s.subnet().addr().is_ipv4() == family_v4)
            else {
                return Ok(None);
            };
            let addr = s
                .allocate(wanted)
                .map_err(|e| Error::invalid(e.to_string()))?;
            let net = IpNet::new(addr, s.subnet().prefix_len()).expect("an address of the subnet");
            Ok(Some((net, s.gateway())))
        };
        let v4 = take(true, ep.ipv4.map(IpAddr::V4))?
            .ok_or_else(|| Error::internal_msg(format!("network {} has no IPv4 subnet", n.name)))?;
        let v6 = if n.ipv6 {
            match take(false, ep.ipv6.map(IpAddr::V6)) {
                Ok(v6) => v6,
                Err(e) => {
                    if let Some(s) = n
                        .subnets
                        .iter_mut()
                        .find(|s| s.subnet().contains(&v4.0.addr()))
                    {
                        let _ = s.release(v4.0.addr());
                    }
                    return Err(e);
                }
            }
        } else {
            None
        };
        self.put_addresses(&n)?;
        Ok((v4, v6))
    }

    /// Makes berth's table match the networks and the published ports. Blocks.
    pub fn refresh_firewall(&self) -> Result<()> {
        let _change = self.change.lock().expect("network change lock");
        self.firewall_locked()
    }

    fn firewall_locked(&self) -> Result<()> {
        let ports = publish::firewall_ports(&self.all_endpoints()?);
        host::firewall(&self.list()?, &ports)
    }

    /// Gives `addr` back to network `id`, durably with the endpoint record's removal that
    /// follows ([`Networks::put_addresses`]). Blocks.
    pub fn release(&self, id: &str, addr: IpAddr) {
        let _change = self.change.lock().expect("network change lock");
        let Ok(mut n) = self.get(id) else { return };
        if let Some(s) = n.subnets.iter_mut().find(|s| s.subnet().contains(&addr)) {
            let _ = s.release(addr);
            if let Err(e) = self.put_addresses(&n) {
                tracing::warn!(network = %n.name, error = %e, "releasing an address");
            }
        }
    }

    /// Removes a network: its record, then its bridge. Blocks.
    pub fn remove(&self, key: &str) -> Result<()> {
        let _change = self.change.lock().expect("network change lock");
        if matches!(key, "host" | "none" | "bridge") {
            return Err(Error::new(
                berth_core::ErrorKind::Forbidden,
                format!("{key} is a pre-defined network and cannot be removed"),
            ));
        }
        let n = self.get(key)?;
        if n.is_default() {
            return Err(Error::new(
                berth_core::ErrorKind::Forbidden,
                "bridge is a pre-defined network and cannot be removed",
            ));
        }
        if !self.endpoints_on(&n.id)?.is_empty() {
            return Err(Error::new(
                berth_core::ErrorKind::Forbidden,
                format!(
                    "error while removing network: network {} id {} has active endpoints",
                    n.name, n.id
                ),
            ));
        }
        self.delete(&n.id)?;
        host::remove_bridge(&n.bridge);
        self.firewall_locked()?;
        self.publish("destroy", &n);
        Ok(())
    }

    /// Removes the unused networks `select` picks; returns their names. Blocks.
    pub fn prune(&self, select: impl Fn(&Network) -> bool) -> Result<Vec<String>> {
        let mut gone = Vec::new();
        for n in self
            .list()?
            .into_iter()
            .filter(|n| !n.is_default() && select(n))
        {
            if !self.endpoints_on(&n.id)?.is_empty() {
                continue; // in use
            }
            self.remove(&n.id)?;
            gone.push(n.name);
        }
        Ok(gone)
    }
}
