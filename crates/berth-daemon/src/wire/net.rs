//! The networking fields of `POST /containers/create` (and the body of `network connect`):
//! `NetworkingConfig`, `HostConfig.Dns*`, `ExtraHosts`, `PortBindings`, `PublishAllPorts`,
//! checked with Docker's messages into a [`NetSpec`]. Network names are resolved to IDs by
//! the caller, which knows the networks.

use std::net::IpAddr;

use berth_api::container::{CreateRequest, EndpointSettings, PortMap};

use crate::containers::{EndpointSpec, HostBinding, NetSpec, NetworkMode};
use crate::error::{Error, Result};

/// The networking of a create request whose network mode is `mode`.
pub fn spec(req: &CreateRequest, mode: &NetworkMode) -> Result<NetSpec> {
    let h = &req.host_config;
    let list = |v: &Option<Vec<String>>| v.clone().unwrap_or_default();
    let mut given_links = h.links.clone().unwrap_or_default();
    let mut net = NetSpec {
        endpoints: endpoints(req, mode, &mut given_links)?,
        dns: list(&h.dns),
        dns_search: list(&h.dns_search),
        dns_options: list(&h.dns_options),
        extra_hosts: list(&h.extra_hosts),
        ports: ports(h.port_bindings.as_ref())?,
        publish_all: h.publish_all_ports,
        mac_address: req.config.mac_address.clone(),
        links: Vec::new(),
    };
    if matches!(mode, NetworkMode::Container { .. }) {
        shared_namespace_conflicts(req, &net)?;
    }
    if *mode == NetworkMode::Host && !net.mac_address.is_empty() {
        return Err(Error::invalid(
            "conflicting options: mac-address and the network mode",
        ));
    }
    check_names(&net)?;
    place_links(&mut net, mode, given_links)?;
    Ok(net)
}

/// `HostConfig.Links` (`name[:alias]`) of a container on the default bridge.
fn links(given: &[String], mode: &NetworkMode) -> Result<Vec<crate::containers::Link>> {
    if given.is_empty() {
        return Ok(Vec::new());
    }
    match mode {
        NetworkMode::Network { .. } => {}
        _ => {
            return Err(Error::invalid(
                "links are only supported for user-defined networks",
            ));
        }
    }
    given
        .iter()
        .map(|l| {
            let (name, alias) = l.split_once(':').unwrap_or((l, l));
            let name = name.trim_start_matches('/');
            let alias = alias.rsplit('/').next().unwrap_or(alias);
            if name.is_empty() || alias.is_empty() {
                return Err(Error::invalid(format!("invalid link: {l}")));
            }
            Ok(crate::containers::Link {
                container: name.to_string(),
                name: String::new(),
                alias: alias.to_string(),
            })
        })
        .collect()
}

/// Docker's refusals for a container in another container's namespace, whose hostname,
/// files and ports are that container's.
fn shared_namespace_conflicts(req: &CreateRequest, net: &NetSpec) -> Result<()> {
    let conflict = |what: &str| Err(Error::invalid(format!("conflicting options: {what}")));
    if !net.ports.is_empty() || net.publish_all {
        return conflict("port publishing and the container type network mode");
    }
    if req
        .config
        .exposed_ports
        .as_ref()
        .is_some_and(|p| !p.is_empty())
    {
        return conflict("port exposing and the container type network mode");
    }
    if !net.dns.is_empty() {
        return conflict("dns and the network mode");
    }
    if !net.extra_hosts.is_empty() {
        return conflict("custom host-to-IP mapping and the network mode");
    }
    if !req.config.hostname.is_empty() {
        return conflict("hostname and the network mode");
    }
    if !net.mac_address.is_empty() {
        return conflict("mac-address and the network mode");
    }
    Ok(())
}

/// Docker's checks of `--dns`, `--dns-search` and `--add-host`.
fn check_names(net: &NetSpec) -> Result<()> {
    for d in &net.dns {
        if d.parse::<IpAddr>().is_err() {
            return Err(Error::invalid(format!("{d} is not an ip address")));
        }
    }
    for s in &net.dns_search {
        check_search_domain(s)?;
    }
    for e in &net.extra_hosts {
        extra_host(e)?;
    }
    Ok(())
}

/// Puts the links a create gives where they act: on a user-defined network with its
/// endpoint (a DNS name, as Docker keeps it), else as legacy links of the default bridge.
fn place_links(net: &mut NetSpec, mode: &NetworkMode, given_links: Vec<String>) -> Result<()> {
    match (mode, net.endpoints.first_mut()) {
        // On a user-defined network a link is a DNS name, kept with the endpoint as Docker does.
        (NetworkMode::Network { name, .. }, Some(first))
            if name != "default" && name != "bridge" =>
        {
            for l in given_links {
                if !first.links.contains(&l) {
                    first.links.push(l);
                }
            }
        }
        _ => net.links = links(&given_links, mode)?,
    }
    if let Some(ep) = net
        .endpoints
        .iter()
        .find(|e| e.name == "bridge" && !e.links.is_empty())
    {
        return Err(Error::invalid(format!(
            "invalid links on network {}",
            ep.name
        )));
    }
    for l in net.endpoints.iter().flat_map(|e| &e.links) {
        let (target, alias) = l.split_once(':').unwrap_or((l, l));
        if target.trim_start_matches('/').is_empty() || alias.is_empty() {
            return Err(Error::invalid(format!("invalid link: {l}")));
        }
    }
    Ok(())
}

/// The endpoints a create asks for: the network of the mode first, then the others of
/// `NetworkingConfig` in name order. `host`, `none` and `container:` have none.
fn endpoints(
    req: &CreateRequest,
    mode: &NetworkMode,
    links: &mut Vec<String>,
) -> Result<Vec<EndpointSpec>> {
    let mut asked = req
        .networking_config
        .as_ref()
        .map(|n| n.endpoints_config.clone())
        .unwrap_or_default();
    let NetworkMode::Network { name: primary, .. } = mode else {
        // Docker accepts the mode's own entry (the CLI sends it) and nothing more.
        let given = req.host_config.network_mode.as_str();
        for e in [given, mode.as_str()]
            .iter()
            .filter_map(|n| asked.get(*n))
            .flatten()
        {
            if *mode != NetworkMode::None && !e.mac_address.is_empty() {
                return Err(Error::invalid(
                    "conflicting options: mac-address and the network mode",
                ));
            }
            if e.aliases.as_ref().is_some_and(|a| !a.is_empty()) {
                return Err(Error::invalid(
                    "network-scoped alias is supported only for containers in user defined networks",
                ));
            }
        }
        asked.retain(|name, _| name != given && name != mode.as_str());
        if let Some(name) = asked.keys().next() {
            return Err(Error::invalid(format!(
                "container cannot be connected to network {name}: it uses network mode {}",
                mode.as_str()
            )));
        }
        return Ok(Vec::new());
    };
    // `default` is the default bridge; the docker CLI sends an empty entry under that name.
    let primary = if primary == "default" {
        "bridge"
    } else {
        primary.as_str()
    };
    let mut first = [primary, "default"]
        .iter()
        .filter_map(|n| asked.remove(*n).flatten())
        .find(|e| *e != EndpointSettings::default())
        .unwrap_or_default();
    if primary == "bridge" {
        // Links on the default bridge are the legacy ones, wherever the client put them.
        links.extend(first.links.take().unwrap_or_default());
    }
    let mut out = vec![endpoint(primary, &first)?];
    for (name, e) in asked {
        out.push(endpoint(&name, &e.unwrap_or_default())?);
    }
    Ok(out)
}

/// One endpoint as asked for on network `name` (create or `network connect`).
pub fn endpoint(name: &str, e: &EndpointSettings) -> Result<EndpointSpec> {
    let refuse = |what: &str| {
        Err(Error::new(
            berth_core::ErrorKind::NotImplemented,
            format!("berth does not support {what} on network {name} yet"),
        ))
    };
    if e.driver_opts.as_ref().is_some_and(|o| !o.is_empty()) {
        return refuse("endpoint DriverOpts");
    }
    let ipam = e.ipam_config.clone().unwrap_or_default();
    if ipam.link_local_ips.as_ref().is_some_and(|l| !l.is_empty()) {
        return refuse("link-local addresses");
    }
    let addr = |s: &str, v6: bool| -> Result<Option<IpAddr>> {
        if s.is_empty() {
            return Ok(None);
        }
        match s.parse::<IpAddr>() {
            Ok(a) if a.is_ipv6() == v6 => Ok(Some(a)),
            _ => Err(Error::invalid(format!(
                "invalid IPv{} address: {s}",
                if v6 { 6 } else { 4 }
            ))),
        }
    };
    let mac = (!e.mac_address.is_empty()).then(|| e.mac_address.clone());
    if let Some(m) = &mac {
        berth_network::mac::MacAddr::parse(m)
            .map_err(|_| Error::invalid(format!("invalid MAC address: {m}")))?;
    }
    Ok(EndpointSpec {
        network: String::new(),
        name: name.to_string(),
        aliases: e.aliases.clone().unwrap_or_default(),
        ipv4: addr(&ipam.ipv4_address, false)?.map(|a| match a {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(_) => unreachable!("checked above"),
        }),
        ipv6: addr(&ipam.ipv6_address, true)?.map(|a| match a {
            IpAddr::V6(v6) => v6,
            IpAddr::V4(_) => unreachable!("checked above"),
        }),
        mac,
        links: e.links.clone().unwrap_or_default(),
    })
}

/// `PortBindings` checked as Docker's daemon checks them.
fn ports(map: Option<&PortMap>) -> Result<std::collections::BTreeMap<String, Vec<HostBinding>>> {
    let mut out = std::collections::BTreeMap::new();
    for (key, bindings) in map.into_iter().flatten() {
        let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
        if port.parse::<u16>().is_err() {
            return Err(Error::invalid(format!(
                "invalid port specification: \"{port}\""
            )));
        }
        let proto = proto.to_ascii_lowercase();
        if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
            return Err(Error::invalid(format!("invalid proto: {proto}")));
        }
        let mut list = Vec::new();
        for b in bindings.iter().flatten() {
            if port_range(&b.host_port).is_none() {
                return Err(Error::invalid(format!(
                    "invalid port specification: \"{}\"",
                    b.host_port
                )));
            }
            if !b.host_ip.is_empty() && b.host_ip.parse::<IpAddr>().is_err() {
                return Err(Error::invalid(format!("invalid host IP: {}", b.host_ip)));
            }
            list.push(HostBinding {
                host_ip: b.host_ip.clone(),
                host_port: b.host_port.clone(),
            });
        }
        out.insert(format!("{port}/{proto}"), list);
    }
    Ok(out)
}

/// A host port as Docker writes it: empty (any), `p`, or `a-b`; the range it stands for, with
/// `(0, 0)` for any.
pub fn port_range(s: &str) -> Option<(u16, u16)> {
    if s.is_empty() {
        return Some((0, 0));
    }
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let (a, b) = (a.parse::<u16>().ok()?, b.parse::<u16>().ok()?);
    (a <= b).then_some((a, b))
}

/// An `--add-host` entry: the name and the address (`host-gateway` as given).
pub fn extra_host(e: &str) -> Result<(&str, &str)> {
    // `name=ip` from API 1.44 clients; `name:ip` before, where the address may be IPv6.
    let (name, ip) = e
        .split_once('=')
        .or_else(|| e.split_once(':'))
        .ok_or_else(|| Error::invalid(format!("bad format for add-host: \"{e}\"")))?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    if name.is_empty() || (ip != "host-gateway" && ip.parse::<IpAddr>().is_err()) {
        return Err(Error::invalid(format!(
            "invalid IP address in add-host: \"{ip}\""
        )));
    }
    Ok((name, ip))
}

/// Docker's check of a `--dns-search` domain.
fn check_search_domain(s: &str) -> Result<()> {
    let d = s.strip_suffix('.').unwrap_or(s);
    let ok = s == "."
        || (!d.is_empty()
            && d.len() <= 255
            && d.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            }));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!("{s} is not a valid domain")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_ports_are_a_port_a_range_or_empty() {
        assert_eq!(port_range(""), Some((0, 0)));
        assert_eq!(port_range("8080"), Some((8080, 8080)));
        assert_eq!(port_range("8000-8010"), Some((8000, 8010)));
        assert_eq!(port_range("70000"), None);
        assert_eq!(port_range("9-3"), None);
        assert_eq!(port_range("abc"), None);
    }

    #[test]
    fn extra_hosts_take_both_separators_and_ipv6() {
        assert_eq!(extra_host("a:1.2.3.4").unwrap(), ("a", "1.2.3.4"));
        assert_eq!(extra_host("a=::1").unwrap(), ("a", "::1"));
        assert_eq!(extra_host("v6:::1").unwrap(), ("v6", "::1"));
        assert_eq!(
            extra_host("gw:host-gateway").unwrap(),
            ("gw", "host-gateway")
        );
        extra_host("nohost").unwrap_err();
        extra_host("a:notanip").unwrap_err();
    }

    #[test]
    fn search_domains_are_checked() {
        check_search_domain("example.com").unwrap();
        check_search_domain(".").unwrap();
        check_search_domain("-bad.com").unwrap_err();
        check_search_domain("a..b").unwrap_err();
    }
}
