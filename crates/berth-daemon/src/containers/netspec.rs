//! What a container asks of its networks, in berth's terms: the networks it joins with the
//! address and aliases asked for on each, its name servers and extra hosts, and the ports it
//! publishes. The HTTP edge checks Docker's request into this (`wire::net`); the network
//! service acts on it at start and `network connect` changes it.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

/// The networking part of a [`super::Spec`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetSpec {
    /// The bridge networks joined at start, in order: the first gets `eth0`.
    pub endpoints: Vec<EndpointSpec>,
    /// `--dns`: name servers instead of the host's.
    pub dns: Vec<String>,
    /// `--dns-search`.
    pub dns_search: Vec<String>,
    /// `--dns-option`.
    pub dns_options: Vec<String>,
    /// `--add-host` entries as given (`name:ip`, `name=ip`, `ip` may be `host-gateway`).
    pub extra_hosts: Vec<String>,
    /// Published ports: `80/tcp` → host bindings, as Docker's `PortBindings` holds them.
    pub ports: BTreeMap<String, Vec<HostBinding>>,
    /// `-P`: every exposed port on a port the daemon picks.
    pub publish_all: bool,
    /// `Config.MacAddress` of API < 1.44: the MAC of the first endpoint.
    pub mac_address: String,
    /// `--link`s on the default bridge.
    pub links: Vec<Link>,
}

/// A legacy link to another container on the default bridge: its address in `/etc/hosts`
/// under the alias, and Docker's `<ALIAS>_PORT_…` variables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Link {
    /// The other container's ID (its name as given until create resolves it).
    pub container: String,
    /// Its name when the link was made.
    pub name: String,
    /// The alias (its name when none was given).
    pub alias: String,
}

/// One network a container joins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointSpec {
    /// The network's ID (resolved at create or connect).
    pub network: String,
    /// The network's name as the client gave it.
    pub name: String,
    /// `--network-alias`: further names in the network's DNS.
    pub aliases: Vec<String>,
    /// `--ip`.
    pub ipv4: Option<Ipv4Addr>,
    /// `--ip6`.
    pub ipv6: Option<Ipv6Addr>,
    /// `--mac-address`.
    pub mac: Option<String>,
    /// `--link`s on a user-defined network (`container[:alias]`): names its DNS gives this
    /// container only.
    pub links: Vec<String>,
}

impl EndpointSpec {
    /// The DNS names its links add: alias (lower case) → the linked container's name.
    pub fn link_names(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.links.iter().map(|l| {
            let (target, alias) = l.split_once(':').unwrap_or((l, l));
            (
                alias.to_ascii_lowercase(),
                target.trim_start_matches('/').to_string(),
            )
        })
    }
}

/// Where a container port is published: the host address (empty: all) and port (empty: one
/// the daemon picks; `a-b`: one of that range).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HostBinding {
    /// `HostIp`.
    pub host_ip: String,
    /// `HostPort`.
    pub host_port: String,
}

/// Docker's port key (`80/tcp`; a key without a protocol is TCP) as the port and protocol.
pub fn port_key(key: &str) -> Option<(u16, &str)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    Some((port.parse().ok()?, proto))
}

impl NetSpec {
    /// The endpoint asked for on network `id`.
    pub fn endpoint(&self, id: &str) -> Option<&EndpointSpec> {
        self.endpoints.iter().find(|e| e.network == id)
    }
}
