//! A container's networks in Docker's shapes: `NetworkSettings` of inspect and list, the
//! `Ports` of list, and the network names of a create resolved to networks.

use serde_json::{Value, json};

use crate::containers::{EndpointSpec, NetworkMode, Record, Spec, Status};
use crate::networks::EndpointRecord;
use crate::{Daemon, Error};

/// Resolves the networks a create names, with Docker's checks of what a network allows.
pub fn resolve(d: &Daemon, spec: &mut Spec) -> Result<(), Error> {
    if spec.network.as_str() == "default" && d.networks.get("bridge").is_err() {
        // A daemon without a default bridge (`--bridge none`): only loopback, as berth had.
        spec.network = NetworkMode::None;
        spec.net.endpoints.clear();
    }
    if let NetworkMode::Container { mode, id } = &mut spec.network {
        // A 400, not a 404: a client takes a 404 from create for a missing image.
        let other = d
            .containers
            .get(id)
            .map_err(|e| Error::invalid(e.message))?;
        *id = other.id.clone();
        *mode = format!("container:{}", other.id);
        // The namespace it joins is the host's when the other runs in the host's.
        if other.record().spec.network == NetworkMode::Host {
            spec.limits.check_sysctls(true)?;
        }
    }
    for ep in &mut spec.net.endpoints {
        check_endpoint(d, ep)?;
    }
    let wants_gateway = spec
        .net
        .extra_hosts
        .iter()
        .any(|h| crate::wire::net::extra_host(h).is_ok_and(|(_, ip)| ip == "host-gateway"));
    let derivable =
        d.networks.get("bridge").is_ok() || matches!(spec.network, NetworkMode::Network { .. });
    if wants_gateway && !derivable {
        return Err(Error::invalid(
            "unable to derive the IP value for host-gateway",
        ));
    }
    for l in &mut spec.net.links {
        let other = d.containers.get(&l.container).map_err(|e| {
            Error::invalid(format!(
                "could not get container for {}: {}",
                l.container, e.message
            ))
        })?;
        let r = other.record();
        l.container = r.id;
        l.name = r.name;
    }
    if let NetworkMode::Network { id, .. } = &mut spec.network
        && let Some(first) = spec.net.endpoints.first()
    {
        *id = first.network.clone();
    }
    // A bound port is an exposed one, as the docker CLI makes it (Docker's daemon would
    // otherwise ignore the binding).
    let exposed = spec.exposed_ports.get_or_insert_with(Vec::new);
    for key in spec.net.ports.keys() {
        if !exposed.contains(key) {
            exposed.push(key.clone());
        }
    }
    if exposed.is_empty() {
        spec.exposed_ports = None;
    }
    Ok(())
}

/// Docker's warnings about a create's networking.
pub fn warnings(spec: &Spec) -> Vec<String> {
    if spec.network == NetworkMode::Host && !spec.net.ports.is_empty() {
        vec!["Published ports are discarded when using host network mode".into()]
    } else {
        Vec::new()
    }
}

/// Resolves `ep`'s network and checks what it asks of it (create and `network connect`).
pub fn check_endpoint(d: &Daemon, ep: &mut EndpointSpec) -> Result<(), Error> {
    // A 400, not the lookup's 404: a client takes a 404 from create for a missing image.
    let n = d
        .networks
        .get(&ep.name)
        .map_err(|e| Error::invalid(e.message))?;
    ep.network = n.id.clone();
    if n.is_default() {
        if !ep.aliases.is_empty() {
            return Err(Error::invalid(
                "network-scoped alias is supported only for containers in user defined networks",
            ));
        }
        if ep.ipv4.is_some() || ep.ipv6.is_some() {
            return Err(Error::invalid(
                "user specified IP address is supported on user defined networks only",
            ));
        }
    }
    Ok(())
}

/// One entry of `NetworkSettings.Networks`: what was asked for, and the endpoint while the
/// container runs (addresses are cleared when it stops, as Docker does).
fn entry(r: &Record, ep: Option<&EndpointSpec>, live: Option<&EndpointRecord>) -> Value {
    let ipam = ep
        .filter(|e| e.ipv4.is_some() || e.ipv6.is_some())
        .map(|e| {
            json!({
                "IPv4Address": e.ipv4.map(|a| a.to_string()).unwrap_or_default(),
                "IPv6Address": e.ipv6.map(|a| a.to_string()).unwrap_or_default(),
            })
        });
    let aliases = ep.filter(|_| r.spec.network != NetworkMode::None).map(|e| {
        // The short ID goes last unless the client named it already (docker-compose 1.x
        // does on connect), as Docker's updateNetworkConfig.
        let mut a = e.aliases.clone();
        let short = &r.id[..12];
        if !a.iter().any(|x| x == short) {
            a.push(short.to_string());
        }
        a
    });
    let links = ep.filter(|e| !e.links.is_empty()).map(|e| e.links.clone());
    let mut v = json!({
        "IPAMConfig": ipam, "Links": links, "Aliases": aliases,
        "NetworkID": ep.map(|e| e.network.clone()).unwrap_or_default(), "EndpointID": "",
        "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
        "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "MacAddress": "", "DriverOpts": null,
    });
    if let Some(e) = live {
        v["EndpointID"] = json!(e.id);
        v["Gateway"] = json!(e.gateway.to_string());
        v["IPAddress"] = json!(e.address.addr().to_string());
        v["IPPrefixLen"] = json!(e.address.prefix_len());
        v["MacAddress"] = json!(e.mac);
        if let (Some(a), Some(g)) = (e.address6, e.gateway6) {
            v["GlobalIPv6Address"] = json!(a.addr().to_string());
            v["GlobalIPv6PrefixLen"] = json!(a.prefix_len());
            v["IPv6Gateway"] = json!(g.to_string());
        }
    }
    v
}

fn live(d: &Daemon, r: &Record) -> Vec<EndpointRecord> {
    if r.state.status == Status::Running {
        d.networks.endpoints_of(&r.id).unwrap_or_default()
    } else {
        Vec::new()
    }
}

/// `NetworkSettings.Networks`.
pub fn networks(d: &Daemon, r: &Record) -> Value {
    let live = live(d, r);
    let mut out = serde_json::Map::new();
    match &r.spec.network {
        NetworkMode::None | NetworkMode::Host => {
            out.insert(r.spec.network.as_str().into(), entry(r, None, None));
        }
        // Its network is the other container's, shown there.
        NetworkMode::Container { .. } => {}
        NetworkMode::Network { .. } => {
            for ep in &r.spec.net.endpoints {
                let l = live.iter().find(|l| l.network == ep.network);
                let mut v = entry(r, Some(ep), l);
                if d.networks.is_default(&ep.network) {
                    v["Aliases"] = Value::Null;
                }
                out.insert(ep.name.clone(), v);
            }
        }
    }
    Value::Object(out)
}

/// `NetworkSettings.Ports` of a running container: each exposed port with where it is
/// published (`null` if nowhere).
fn ports(r: &Record, live: &[EndpointRecord]) -> Value {
    let mut out = serde_json::Map::new();
    if r.state.status != Status::Running {
        return Value::Object(out);
    }
    for key in r.spec.exposed_ports.iter().flatten() {
        out.insert(normalized(key), Value::Null);
    }
    for p in live.iter().flat_map(|e| &e.ports) {
        let key = format!("{}/{}", p.container_port, p.proto);
        let list = out.entry(key).or_insert_with(|| json!([]));
        if !list.is_array() {
            *list = json!([]);
        }
        if let Some(a) = list.as_array_mut() {
            a.push(json!({"HostIp": p.host_ip.to_string(), "HostPort": p.host_port.to_string()}));
        }
    }
    Value::Object(out)
}

fn normalized(key: &str) -> String {
    if key.contains('/') {
        key.to_string()
    } else {
        format!("{key}/tcp")
    }
}

/// `Ports` of `GET /containers/json`: published ports, then exposed ones published nowhere.
pub fn summary_ports(d: &Daemon, r: &Record) -> Vec<Value> {
    let Value::Object(map) = ports(r, &live(d, r)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, bindings) in map {
        let (port, proto) = key.split_once('/').unwrap_or((&key, "tcp"));
        let port: u16 = port.parse().unwrap_or(0);
        match bindings.as_array() {
            Some(list) => out.extend(list.iter().map(|b| {
                json!({"IP": b["HostIp"], "PrivatePort": port,
                       "PublicPort": b["HostPort"].as_str().and_then(|p| p.parse::<u16>().ok()),
                       "Type": proto})
            })),
            None => out.push(json!({"PrivatePort": port, "Type": proto})),
        }
    }
    out
}

/// `NetworkSettings` of inspect; the top-level addresses are the default bridge's.
pub fn network_settings(d: &Daemon, r: &Record) -> Value {
    let live = live(d, r);
    let sandbox = if r.state.status == Status::Running && !live.is_empty() {
        d.config
            .exec_root
            .join("netns")
            .join(&r.id)
            .display()
            .to_string()
    } else {
        String::new()
    };
    let mut v = json!({
        "Bridge": "", "SandboxID": "", "HairpinMode": false, "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0, "Ports": ports(r, &live), "SandboxKey": sandbox,
        "SecondaryIPAddresses": null, "SecondaryIPv6Addresses": null, "EndpointID": "",
        "Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "IPAddress": "",
        "IPPrefixLen": 0, "IPv6Gateway": "", "MacAddress": "", "Networks": networks(d, r),
    });
    let default = live.iter().find(|e| d.networks.is_default(&e.network));
    if let Some(e) = default {
        v["EndpointID"] = json!(e.id);
        v["Gateway"] = json!(e.gateway.to_string());
        v["IPAddress"] = json!(e.address.addr().to_string());
        v["IPPrefixLen"] = json!(e.address.prefix_len());
        v["MacAddress"] = json!(e.mac);
    }
    v
}

/// Whether `r` is on one of the networks `vals` name (a name, an ID or an ID's prefix), for
/// `ps --filter network=`.
pub fn on_network(d: &Daemon, r: &Record, vals: &[String]) -> bool {
    let Value::Object(nets) = networks(d, r) else {
        return false;
    };
    nets.iter().any(|(name, e)| {
        let id = e["NetworkID"].as_str().unwrap_or_default();
        vals.iter()
            .any(|v| v == name || (!v.is_empty() && !id.is_empty() && id.starts_with(v.as_str())))
    })
}

/// The ports of a running `r`'s `NetworkSettings.Ports` (`80/tcp`), for `--filter publish=`.
pub fn port_keys(d: &Daemon, r: &Record) -> Vec<String> {
    match ports(r, &live(d, r)) {
        Value::Object(m) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// `r`'s exposed ports (`80/tcp`), for `--filter expose=`.
pub fn exposed_keys(r: &Record) -> Vec<String> {
    r.spec
        .exposed_ports
        .iter()
        .flatten()
        .map(|k| normalized(k))
        .collect()
}

/// The ports a `publish=`/`expose=` filter value stands for: `80`, `80/udp`, `8000-8010/tcp`.
pub fn port_filter_values(key: &str, v: &str) -> Result<Vec<String>, Error> {
    let (ports, proto) = v.split_once('/').unwrap_or((v, "tcp"));
    let bad = || Error::invalid(format!("invalid filter '{key}={v}'"));
    let (lo, hi) = crate::wire::net::port_range(ports)
        .filter(|r| *r != (0, 0))
        .ok_or_else(bad)?;
    if !matches!(proto, "tcp" | "udp" | "sctp") {
        return Err(bad());
    }
    Ok((lo..=hi).map(|p| format!("{p}/{proto}")).collect())
}
