//! Containers on bridge networks: the network hook of container start. For each start the hook
//! takes an address from the network, makes a network namespace kept at
//! `<exec-root>/netns/<id>` (a bind mount, so it outlives the daemon and a running container
//! keeps its network across daemon restarts), plugs a veth pair into the bridge with the
//! container's end in that namespace, and records the endpoint in the store; the runtime joins
//! the namespace by path. When the container has ended, `detach` undoes each step.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use berth_network::endpoint::{self, Endpoint as Plug};
use berth_network::link::Netlink;
use berth_network::mac::{MacAddr, random_veth_name};
use berth_network::netns::Netns;
use berth_runtime::Network as RuntimeNetwork;
use ipnet::IpNet;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::Networks;
use crate::containers::NetworkMode;
use crate::containers::network::{Local, NetworkHook};
use crate::error::{Error, Result, db};

const ENDPOINTS: TableDefinition<&str, &[u8]> = TableDefinition::new("endpoints");

/// A container's place on a network, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointRecord {
    /// The endpoint's ID (Docker's `EndpointID`).
    pub id: String,
    /// The network's ID.
    pub network: String,
    /// The container's address with the subnet's prefix.
    pub address: IpNet,
    /// The network's gateway.
    pub gateway: IpAddr,
    /// The container's MAC address.
    pub mac: String,
    /// The host end of the veth pair.
    pub host_ifname: String,
}

/// The network hook of a daemon with bridge networks.
pub struct BridgeHook {
    networks: Arc<Networks>,
    netns_dir: PathBuf,
}

impl BridgeHook {
    /// The hook over `networks`, keeping namespaces under `exec_root/netns`.
    pub fn new(networks: Arc<Networks>, exec_root: &Path) -> Self {
        BridgeHook {
            networks,
            netns_dir: exec_root.join("netns"),
        }
    }

    fn netns_path(&self, id: &str) -> PathBuf {
        self.netns_dir.join(id)
    }

    /// Makes a namespace and keeps it at the container's path.
    fn keep_netns(&self, id: &str) -> Result<(Netns, PathBuf)> {
        let ns = Netns::new().map_err(|e| Error::internal("creating a network namespace", e))?;
        std::fs::create_dir_all(&self.netns_dir)
            .map_err(|e| Error::internal("creating the netns directory", e))?;
        let path = self.netns_path(id);
        std::fs::write(&path, "").map_err(|e| Error::internal("creating the netns file", e))?;
        nix::mount::mount(
            Some(&ns.path()),
            &path,
            None::<&str>,
            nix::mount::MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| Error::internal("keeping the network namespace", std::io::Error::from(e)))?;
        Ok((ns, path))
    }

    fn drop_netns(&self, id: &str) {
        let path = self.netns_path(id);
        let _ = nix::mount::umount2(&path, nix::mount::MntFlags::MNT_DETACH);
        let _ = std::fs::remove_file(&path);
    }

    fn attach_bridge(&self, container: &str, network: &str) -> Result<RuntimeNetwork> {
        let (n, address, gateway) = self.networks.allocate(network)?;
        let made = self.plug(container, &n, address, gateway);
        if made.is_err() {
            self.networks.release(network, address.addr());
            self.drop_netns(container);
        }
        made
    }

    fn plug(
        &self,
        container: &str,
        n: &super::Network,
        address: IpNet,
        gateway: IpAddr,
    ) -> Result<RuntimeNetwork> {
        let (ns, path) = self.keep_netns(container)?;
        let IpAddr::V4(v4) = address.addr() else {
            return Err(Error::internal_msg("a container's first address is IPv4"));
        };
        let mac = MacAddr::from_ipv4(v4);
        let plug = Plug {
            bridge: n.bridge.clone(),
            host_ifname: random_veth_name().map_err(|e| Error::internal("naming a veth", e))?,
            ifname: "eth0".into(),
            mtu: n.mtu(),
            mac: Some(mac),
            addresses: vec![address],
            gateways: vec![gateway],
        };
        let nl = Netlink::open().map_err(|e| Error::internal("opening netlink", e))?;
        endpoint::attach(&nl, &plug, &ns)
            .map_err(|e| Error::internal(&format!("attaching to network {}", n.name), e))?;
        let rec = EndpointRecord {
            id: berth_core::id::generate(),
            network: n.id.clone(),
            address,
            gateway,
            mac: mac.to_string(),
            host_ifname: plug.host_ifname.clone(),
        };
        if let Err(e) = self.networks.put_endpoint(container, &rec) {
            let _ = endpoint::detach(&nl, &plug.host_ifname);
            return Err(e);
        }
        Ok(RuntimeNetwork::Join(path))
    }
}

impl NetworkHook for BridgeHook {
    fn attach(&self, id: &str, mode: &NetworkMode) -> Result<RuntimeNetwork> {
        match mode {
            NetworkMode::Network { id: network, .. } => self.attach_bridge(id, network),
            other => Local.attach(id, other),
        }
    }

    fn detach(&self, id: &str) {
        let Ok(Some(rec)) = self.networks.endpoint(id) else {
            return;
        };
        if let Ok(nl) = Netlink::open() {
            let _ = endpoint::detach(&nl, &rec.host_ifname);
        }
        self.drop_netns(id);
        self.networks.release(&rec.network, rec.address.addr());
        let _ = self.networks.delete_endpoint(id);
    }

    fn address(&self, id: &str) -> Option<IpAddr> {
        Some(self.networks.endpoint(id).ok()??.address.addr())
    }
}

impl Networks {
    /// The endpoint of container `id`, if it is on a network now.
    pub fn endpoint(&self, id: &str) -> Result<Option<EndpointRecord>> {
        let tx = self.db.begin_read().map_err(db)?;
        let Ok(t) = tx.open_table(ENDPOINTS) else {
            return Ok(None);
        };
        Ok(t.get(id)
            .map_err(db)?
            .and_then(|v| serde_json::from_slice(v.value()).ok()))
    }

    /// The containers with an endpoint on network `network`.
    pub fn endpoints_on(&self, network: &str) -> Result<Vec<(String, EndpointRecord)>> {
        let tx = self.db.begin_read().map_err(db)?;
        let Ok(t) = tx.open_table(ENDPOINTS) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            if let Ok(e) = serde_json::from_slice::<EndpointRecord>(v.value())
                && e.network == network
            {
                out.push((k.value().to_string(), e));
            }
        }
        Ok(out)
    }

    fn put_endpoint(&self, id: &str, e: &EndpointRecord) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        let bytes = serde_json::to_vec(e).expect("endpoint serializes");
        tx.open_table(ENDPOINTS)
            .map_err(db)?
            .insert(id, bytes.as_slice())
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn delete_endpoint(&self, id: &str) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        tx.open_table(ENDPOINTS)
            .map_err(db)?
            .remove(id)
            .map_err(db)?;
        tx.commit().map_err(db)
    }
}
