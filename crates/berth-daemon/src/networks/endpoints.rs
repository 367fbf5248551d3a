//! Containers on bridge networks: the network hook of container start. A start makes a
//! network namespace kept at `<exec-root>/netns/<id>` (a bind mount, so it outlives the daemon
//! and a running container keeps its network across daemon restarts), and for each network of
//! the container takes an address, plugs a veth pair into the bridge with the container's end
//! in that namespace (`eth0`, `eth1`, ...; only the first gets the default route), gives the
//! network's DNS the container's names and records the endpoint. The first endpoint also holds
//! the published ports, which the firewall's maps then send to it. A container on a
//! user-defined network gets the embedded DNS server. When the container has ended, `detach`
//! undoes each step, leaving the veth pairs to the reaper's thread (their deletion waits for
//! the kernel, and nothing needs them any more); `connect` and `disconnect` do one endpoint
//! of a running container.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use berth_network::endpoint::{self, Endpoint as Plug};
use berth_network::link::Netlink;
use berth_network::mac::{MacAddr, random_veth_name};
use berth_network::netns::Netns;
use berth_network::ports::Ports;
use berth_network::reaper::{Chore, Outcome, Reaper};
use berth_runtime::Network as RuntimeNetwork;

use super::dns::Dns;
use super::store::{EndpointRecord, Published};
use super::{Network, Networks, conntrack, publish};
use crate::containers::network::{Attached, Local, NetworkHook};
use crate::containers::{EndpointSpec, NetworkMode, Record};
use crate::error::{Error, Result};

/// Where an endpoint goes inside: its interface name, and whether it is the first one, which
/// gets the default route and the published ports.
struct Slot {
    ifname: String,
    primary: bool,
}

impl Slot {
    fn new(ifname: String, primary: bool) -> Self {
        Slot { ifname, primary }
    }
}

/// The network hook of a daemon with bridge networks.
pub struct BridgeHook {
    networks: Arc<Networks>,
    netns_dir: PathBuf,
    /// `--userns-remap`: the maps of containers' user namespaces, which own their network
    /// namespaces, and the berth binary that makes them.
    userns: Option<(berth_core::idmap::IdMap, PathBuf)>,
    dns: Arc<Dns>,
    ports: Mutex<Ports>,
    reaper: Reaper,
}

impl BridgeHook {
    /// The hook over `networks`, keeping namespaces under `exec_root/netns`.
    pub fn new(networks: Arc<Networks>, exec_root: &Path) -> Result<Self> {
        let reaper = Reaper::start(|outcome| match outcome {
            Outcome::Link { name, error } => {
                tracing::warn!(link = name, error = %error, "deleting a container's veth");
            }
            Outcome::Conntrack(done) => conntrack::report(done),
        })
        .map_err(|e| Error::internal("starting the network reaper", e))?;
        Ok(BridgeHook {
            networks,
            netns_dir: exec_root.join("netns"),
            userns: None,
            dns: Arc::new(Dns::default()),
            ports: Mutex::new(Ports::default()),
            reaper,
        })
    }

    /// The hook whose containers get user namespaces with `map`, made by binary `exe`; `None`:
    /// no remapping.
    pub fn with_userns(mut self, map: Option<berth_core::idmap::IdMap>, exe: &Path) -> Self {
        self.userns = map.map(|m| (m, exe.to_path_buf()));
        self
    }

    fn netns_path(&self, id: &str) -> PathBuf {
        self.netns_dir.join(id)
    }

    fn userns_path(&self, id: &str) -> PathBuf {
        self.netns_dir.join(format!("{id}.user"))
    }

    /// The user namespace container `rec` gets, if the daemon remaps and it did not ask for
    /// the host's.
    fn userns_of(&self, rec: &Record) -> Option<&(berth_core::idmap::IdMap, PathBuf)> {
        self.userns
            .as_ref()
            .filter(|_| rec.spec.security.userns_mode != "host")
    }

    /// Makes a namespace and keeps it at the container's path; for a remapped container, in a
    /// user namespace of its own, kept beside it.
    fn keep_netns(&self, rec: &Record) -> Result<Netns> {
        let id = rec.id.as_str();
        std::fs::create_dir_all(&self.netns_dir)
            .map_err(|e| Error::internal("creating the netns directory", e))?;
        if let Some((map, exe)) = self.userns_of(rec) {
            let path = self.netns_path(id);
            berth_runtime::userns_netns::spawn(exe, map, &self.userns_path(id), &path).map_err(
                |e| Error::internal("creating a network namespace", std::io::Error::other(e)),
            )?;
            return Netns::open(&path)
                .map_err(|e| Error::internal("opening the container's network namespace", e));
        }
        let ns = Netns::new().map_err(|e| Error::internal("creating a network namespace", e))?;
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
        Ok(ns)
    }

    fn open_netns(&self, id: &str) -> Result<Netns> {
        Netns::open(self.netns_path(id))
            .map_err(|e| Error::internal("opening the container's network namespace", e))
    }

    fn drop_netns(&self, id: &str) {
        for path in [self.netns_path(id), self.userns_path(id)] {
            let _ = nix::mount::umount2(&path, nix::mount::MntFlags::MNT_DETACH);
            let _ = std::fs::remove_file(&path);
        }
    }

    fn attach_all(&self, rec: &Record) -> Result<Attached> {
        let ns = self.keep_netns(rec)?;
        let made = self.plug_all(rec, &ns);
        match made {
            Ok(attached) => Ok(attached),
            Err(e) => {
                self.detach(&rec.id);
                Err(e)
            }
        }
    }

    fn plug_all(&self, rec: &Record, ns: &Netns) -> Result<Attached> {
        for (i, ep) in rec.spec.net.endpoints.iter().enumerate() {
            self.plug(rec, ep, Slot::new(format!("eth{i}"), i == 0), ns)?;
        }
        let eps = self.networks.endpoints_of(&rec.id)?;
        let embedded_dns = self.start_dns(rec, ns, &eps)?;
        Ok(self.attached(&rec.id, &eps, embedded_dns))
    }

    fn attached(&self, id: &str, eps: &[EndpointRecord], embedded_dns: bool) -> Attached {
        let userns = self.userns_path(id);
        Attached {
            network: RuntimeNetwork::Join(self.netns_path(id)),
            addresses: eps.iter().flat_map(EndpointRecord::addrs).collect(),
            embedded_dns,
            host_gateway: eps.first().map(|e| e.gateway),
            userns: userns.exists().then_some(userns),
        }
    }

    /// One endpoint of `rec` on `ep`'s network in `slot`.
    fn plug(
        &self,
        rec: &Record,
        ep: &EndpointSpec,
        slot: Slot,
        ns: &Netns,
    ) -> Result<EndpointRecord> {
        let n = self.networks.get(&ep.network)?;
        let (address, address6) = self.networks.allocate(&n.id, ep)?;
        let made = self.plug_allocated(rec, ep, &n, &slot, ns, (address, address6));
        if made.is_err() {
            self.networks.release(&n.id, address.0.addr());
            if let Some((a6, _)) = address6 {
                self.networks.release(&n.id, a6.addr());
            }
        }
        made
    }

    fn plug_allocated(
        &self,
        rec: &Record,
        ep: &EndpointSpec,
        n: &Network,
        slot: &Slot,
        ns: &Netns,
        (v4, v6): super::Addresses,
    ) -> Result<EndpointRecord> {
        let (ifname, primary) = (slot.ifname.as_str(), slot.primary);
        let mac = mac_for(rec, ep, primary, v4.0.addr())?;
        let mut gateways = Vec::new();
        if primary && !n.internal {
            gateways.push(v4.1);
            gateways.extend(v6.map(|(_, g)| g));
        }
        let plug = Plug {
            bridge: n.bridge.clone(),
            host_ifname: random_veth_name().map_err(|e| Error::internal("naming a veth", e))?,
            ifname: ifname.to_string(),
            mtu: n.mtu(),
            mac: Some(mac),
            addresses: std::iter::once(v4.0).chain(v6.map(|(a, _)| a)).collect(),
            gateways,
        };
        let nl = Netlink::open().map_err(|e| Error::internal("opening netlink", e))?;
        endpoint::attach(&nl, &plug, ns)
            .map_err(|e| Error::internal(&format!("attaching to network {}", n.name), e))?;
        let mut e = EndpointRecord {
            id: berth_core::id::generate(),
            container: rec.id.clone(),
            network: n.id.clone(),
            ifname: ifname.to_string(),
            address: v4.0,
            gateway: v4.1,
            address6: v6.map(|(a, _)| a),
            gateway6: v6.map(|(_, g)| g),
            mac: mac.to_string(),
            host_ifname: plug.host_ifname.clone(),
            aliases: ep.aliases.clone(),
            names: dns_names(rec, ep),
            ports: Vec::new(),
        };
        let stored = self.publish_ports(rec, primary, &mut e).and_then(|()| {
            self.networks.put_endpoint(&e)?;
            if !e.ports.is_empty() {
                self.networks.refresh_firewall()?;
            }
            Ok(())
        });
        if let Err(err) = stored {
            self.release_ports(&e.ports);
            let _ = self.networks.delete_endpoint(&e);
            let _ = endpoint::detach(&nl, &plug.host_ifname);
            return Err(err);
        }
        if !n.is_default() {
            self.dns.add(&n.name, &e.names, &e.addrs());
        }
        self.reaper
            .give(Chore::ClearConntrack(conntrack::plugged(&e)));
        Ok(e)
    }

    fn publish_ports(&self, rec: &Record, primary: bool, e: &mut EndpointRecord) -> Result<()> {
        if !primary {
            return Ok(());
        }
        let n = self.networks.get(&e.network)?;
        let mut ports = self.ports.lock().expect("ports lock");
        e.ports = publish::reserve(&mut ports, rec, &n, e)?;
        Ok(())
    }

    fn release_ports(&self, published: &[Published]) {
        let released = publish::release(&mut self.ports.lock().expect("ports lock"), published);
        // Closing stops the proxies, which waits for their tasks: not under the lock.
        drop(released);
    }

    /// Starts the embedded DNS server for `rec` if it is on a user-defined network.
    fn start_dns(&self, rec: &Record, ns: &Netns, eps: &[EndpointRecord]) -> Result<bool> {
        let networks = self.dns_networks(eps);
        if networks.is_empty() {
            return Ok(false);
        }
        self.dns.serve(
            &rec.id,
            ns,
            networks,
            link_names(rec.spec.net.endpoints.iter()),
            upstreams(&rec.spec.net.dns),
        )?;
        Ok(true)
    }

    /// The names of the networks of `eps` that have DNS: all but the default bridge.
    fn dns_networks(&self, eps: &[EndpointRecord]) -> Vec<String> {
        eps.iter()
            .filter_map(|e| self.networks.get(&e.network).ok())
            .filter(|n| !n.is_default())
            .map(|n| n.name)
            .collect()
    }

    /// Undoes one endpoint but its veth pair, which the caller deletes.
    fn unplug(&self, e: &EndpointRecord) {
        if let Ok(n) = self.networks.get(&e.network) {
            self.dns.remove(&n.name, &e.addrs());
        }
        self.release_ports(&e.ports);
        for a in e.addrs() {
            self.networks.release(&e.network, a);
        }
        let _ = self.networks.delete_endpoint(e);
    }

    /// A free interface name inside container `id`.
    fn next_ifname(eps: &[EndpointRecord]) -> String {
        (0..)
            .map(|i| format!("eth{i}"))
            .find(|n| !eps.iter().any(|e| &e.ifname == n))
            .expect("names are endless")
    }
}

impl NetworkHook for BridgeHook {
    fn attach(&self, rec: &Record) -> Result<Attached> {
        match &rec.spec.network {
            NetworkMode::Network { .. } => self.attach_all(rec),
            _ => Local.attach(rec),
        }
    }

    fn detach(&self, id: &str) {
        self.dns.stop(id);
        let eps = self.networks.endpoints_of(id).unwrap_or_default();
        let had_ports = eps.iter().any(|e| !e.ports.is_empty());
        for e in &eps {
            self.unplug(e);
        }
        if had_ports && let Err(e) = self.networks.refresh_firewall() {
            tracing::warn!(container.id = id, error = %e, "updating the firewall");
        }
        self.drop_netns(id);
        // The container has ended: nothing uses the pairs any more, so nobody waits for them.
        for e in &eps {
            self.reaper.give(Chore::DeleteLink(e.host_ifname.clone()));
        }
    }

    fn withdraw(&self, id: &str) {
        for e in self.networks.endpoints_of(id).unwrap_or_default() {
            if let Ok(n) = self.networks.get(&e.network) {
                self.dns.remove(&n.name, &e.addrs());
            }
        }
    }

    fn connect(&self, rec: &Record, ep: &EndpointSpec) -> Result<Attached> {
        let ns = self.open_netns(&rec.id)?;
        let eps = self.networks.endpoints_of(&rec.id)?;
        self.plug(
            rec,
            ep,
            Slot::new(Self::next_ifname(&eps), eps.is_empty()),
            &ns,
        )?;
        let eps = self.networks.endpoints_of(&rec.id)?;
        if self.dns.serves(&rec.id) {
            self.dns.set_networks(&rec.id, self.dns_networks(&eps));
            let all = rec.spec.net.endpoints.iter().chain(std::iter::once(ep));
            self.dns.set_links(&rec.id, link_names(all));
        } else {
            self.start_dns(rec, &ns, &eps)?;
        }
        Ok(self.attached(&rec.id, &eps, self.dns.serves(&rec.id)))
    }

    fn disconnect(&self, id: &str, network: &str) -> Result<Attached> {
        let eps = self.networks.endpoints_of(id)?;
        if let Some(e) = eps.iter().find(|e| e.network == network) {
            if let Ok(nl) = Netlink::open() {
                let _ = endpoint::detach(&nl, &e.host_ifname);
            }
            self.unplug(e);
            if !e.ports.is_empty() {
                self.networks.refresh_firewall()?;
            }
        }
        let rest = self.networks.endpoints_of(id)?;
        self.dns.set_networks(id, self.dns_networks(&rest));
        Ok(self.attached(id, &rest, self.dns.serves(id)))
    }

    fn network_id(&self, name: &str) -> Option<String> {
        self.networks.get(name).ok().map(|n| n.id)
    }

    fn host_gateway(&self) -> Option<IpAddr> {
        let n = self.networks.get("bridge").ok()?;
        Some(n.subnets.first()?.gateway())
    }

    fn default_address(&self, id: &str) -> Option<IpAddr> {
        self.networks
            .endpoints_of(id)
            .ok()?
            .into_iter()
            .find(|e| self.networks.is_default(&e.network))
            .map(|e| e.address.addr())
    }

    fn rename(&self, rec: &Record, old: &str) {
        let Ok(eps) = self.networks.endpoints_of(&rec.id) else {
            return;
        };
        for mut e in eps {
            for n in e.names.iter_mut().filter(|n| *n == old) {
                n.clone_from(&rec.name);
            }
            if let Err(err) = self.networks.put_endpoint(&e) {
                tracing::warn!(container.id = %rec.id, error = %err, "renaming an endpoint");
            }
            if let Ok(n) = self.networks.get(&e.network)
                && !n.is_default()
            {
                self.dns.remove(&n.name, &e.addrs());
                self.dns.add(&n.name, &e.names, &e.addrs());
            }
        }
    }

    fn restore(&self, rec: &Record) {
        let Ok(eps) = self.networks.endpoints_of(&rec.id) else {
            return;
        };
        for e in &eps {
            if let Ok(n) = self.networks.get(&e.network)
                && !n.is_default()
            {
                self.dns.add(&n.name, &e.names, &e.addrs());
            }
            let mut ports = self.ports.lock().expect("ports lock");
            if let Err(err) = publish::hold_again(&mut ports, e) {
                tracing::warn!(container.id = %rec.id, error = %err, "holding a published port again");
            }
        }
        let started = self
            .open_netns(&rec.id)
            .and_then(|ns| self.start_dns(rec, &ns, &eps));
        if let Err(e) = started {
            tracing::warn!(container.id = %rec.id, error = %e, "restarting the container's DNS server");
        }
    }
}

/// The MAC of an endpoint: the one asked for (on the first endpoint also the old
/// `Config.MacAddress`), else Docker's `02:42:<IPv4>`.
fn mac_for(rec: &Record, ep: &EndpointSpec, primary: bool, v4: IpAddr) -> Result<MacAddr> {
    let legacy = primary
        .then_some(rec.spec.net.mac_address.as_str())
        .filter(|m| !m.is_empty());
    match (ep.mac.as_deref().or(legacy), v4) {
        (Some(m), _) => MacAddr::parse(m).map_err(Error::invalid),
        (None, IpAddr::V4(a)) => Ok(MacAddr::from_ipv4(a)),
        (None, IpAddr::V6(_)) => Err(Error::internal_msg("an endpoint's first address is IPv4")),
    }
}

/// The DNS names the links of `eps` give their container.
fn link_names<'a>(
    eps: impl Iterator<Item = &'a EndpointSpec>,
) -> std::collections::HashMap<String, String> {
    eps.flat_map(EndpointSpec::link_names).collect()
}

/// The names container `rec` has on a network: its name, the aliases asked for, its short
/// ID (Docker's order).
fn dns_names(rec: &Record, ep: &EndpointSpec) -> Vec<String> {
    let mut names = vec![rec.name.clone()];
    let short = rec.id[..12].to_string();
    for n in ep.aliases.iter().chain([&short]) {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    names
}

/// Where the DNS server sends what it does not answer: `--dns`, else the host's name servers
/// (loopback ones too: queries go out from the daemon's namespace), else Google's, as Docker.
fn upstreams(dns: &[String]) -> Vec<SocketAddr> {
    let given: Vec<IpAddr> = dns.iter().filter_map(|d| d.parse().ok()).collect();
    let servers = if given.is_empty() {
        crate::containers::files::host_nameservers()
    } else {
        given
    };
    let servers = if servers.is_empty() {
        vec![[8, 8, 8, 8].into(), [8, 8, 4, 4].into()]
    } else {
        servers
    };
    servers
        .into_iter()
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}
