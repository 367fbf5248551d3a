//! Endpoint records: one per container and network, keyed `<container>/<network>`, written
//! when the endpoint exists on the host and deleted when it is gone. Published ports are part
//! of their endpoint, so the firewall's maps are rebuilt from these records.

use std::net::IpAddr;

use ipnet::IpNet;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::Networks;
use crate::error::{Result, db};

const ENDPOINTS: TableDefinition<&str, &[u8]> = TableDefinition::new("endpoints");

/// A container's place on a network, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointRecord {
    /// The endpoint's ID (Docker's `EndpointID`).
    pub id: String,
    /// The container's ID.
    #[serde(default)]
    pub container: String,
    /// The network's ID.
    pub network: String,
    /// The interface inside (`eth0`, `eth1`, ...).
    #[serde(default)]
    pub ifname: String,
    /// The container's IPv4 address with the subnet's prefix.
    pub address: IpNet,
    /// The network's IPv4 gateway.
    pub gateway: IpAddr,
    /// The IPv6 address, on networks with IPv6.
    #[serde(default)]
    pub address6: Option<IpNet>,
    /// The IPv6 gateway.
    #[serde(default)]
    pub gateway6: Option<IpAddr>,
    /// The container's MAC address.
    pub mac: String,
    /// The host end of the veth pair.
    pub host_ifname: String,
    /// The aliases asked for (`--network-alias`), without the short ID.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The names the network's DNS gives the container: its name, aliases and short ID.
    #[serde(default)]
    pub names: Vec<String>,
    /// Ports published through this endpoint.
    #[serde(default)]
    pub ports: Vec<Published>,
}

impl EndpointRecord {
    /// Its addresses without prefixes.
    pub fn addrs(&self) -> Vec<IpAddr> {
        std::iter::once(self.address.addr())
            .chain(self.address6.map(|a| a.addr()))
            .collect()
    }
}

/// A host port held for a container port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// `tcp`, `udp` or `sctp`.
    pub proto: String,
    /// The host address (`0.0.0.0` for all).
    pub host_ip: IpAddr,
    /// The host port.
    pub host_port: u16,
    /// The container port.
    pub container_port: u16,
}

fn key(container: &str, network: &str) -> String {
    format!("{container}/{network}")
}

impl Networks {
    /// Every endpoint record.
    pub fn all_endpoints(&self) -> Result<Vec<EndpointRecord>> {
        let tx = self.db.begin_read().map_err(db)?;
        let Ok(t) = tx.open_table(ENDPOINTS) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.iter().map_err(db)? {
            let (_, v) = row.map_err(db)?;
            if let Ok(e) = serde_json::from_slice::<EndpointRecord>(v.value()) {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// The endpoints of container `id`, first interface first.
    pub fn endpoints_of(&self, id: &str) -> Result<Vec<EndpointRecord>> {
        let mut out: Vec<EndpointRecord> = self
            .all_endpoints()?
            .into_iter()
            .filter(|e| e.container == id)
            .collect();
        out.sort_by_key(|e| {
            e.ifname
                .trim_start_matches("eth")
                .parse::<u32>()
                .unwrap_or(u32::MAX)
        });
        Ok(out)
    }

    /// The endpoints on network `network`.
    pub fn endpoints_on(&self, network: &str) -> Result<Vec<EndpointRecord>> {
        Ok(self
            .all_endpoints()?
            .into_iter()
            .filter(|e| e.network == network)
            .collect())
    }

    pub(super) fn put_endpoint(&self, e: &EndpointRecord) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        let bytes = serde_json::to_vec(e).expect("endpoint serializes");
        tx.open_table(ENDPOINTS)
            .map_err(db)?
            .insert(key(&e.container, &e.network).as_str(), bytes.as_slice())
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    pub(super) fn delete_endpoint(&self, e: &EndpointRecord) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        tx.open_table(ENDPOINTS)
            .map_err(db)?
            .remove(key(&e.container, &e.network).as_str())
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// Drops records of an older layout (keyed by container alone), whose endpoints a restart
    /// of their containers makes again.
    pub(super) fn drop_old_endpoints(&self) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        {
            let mut t = tx.open_table(ENDPOINTS).map_err(db)?;
            let old: Vec<String> = t
                .iter()
                .map_err(db)?
                .filter_map(|r| r.ok())
                .map(|(k, _)| k.value().to_string())
                .filter(|k| !k.contains('/'))
                .collect();
            for k in old {
                t.remove(k.as_str()).map_err(db)?;
            }
        }
        tx.commit().map_err(db)
    }
}
