//! The networking flags of `run` and `create` (`-p`, `-P`, `--expose`, `--dns*`, `--add-host`,
//! `--link`, `--network*`, `--ip*`, `--mac-address`), turned into the create request's fields as
//! the docker CLI (v25) does, with its checks and its error messages word for word.
//!
//! The port syntax is go-connections' `nat.ParsePortSpecs`; the checks are those of the CLI's
//! `opts` package (`ValidateIPAddress`, `ValidateDNSSearch`, `ValidateExtraHost`, `ValidateLink`,
//! `ValidateMACAddress`) and of `NetworkOpt` for `--network name=...,alias=...`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use berth_api::container::{EndpointIpamConfig, EndpointSettings, PortBinding, PortMap, Set};
use serde_json::json;

mod ports;
mod validate;
pub use ports::*;
pub use validate::*;

/// The networking flags of a container.
#[derive(Debug, Default, clap::Args)]
pub struct NetOpts {
    /// Publish a container's port(s) to the host.
    #[arg(short = 'p', long = "publish")]
    publish: Vec<String>,
    /// Publish all exposed ports to random ports.
    #[arg(short = 'P', long = "publish-all")]
    publish_all: bool,
    /// Expose a port or a range of ports.
    #[arg(long)]
    expose: Vec<String>,
    /// Set custom DNS servers.
    #[arg(long)]
    dns: Vec<String>,
    /// Set custom DNS search domains.
    #[arg(long, allow_hyphen_values = true)]
    dns_search: Vec<String>,
    /// Set DNS options.
    #[arg(long = "dns-option", alias = "dns-opt")]
    dns_option: Vec<String>,
    /// Add a custom host-to-IP mapping (host:ip).
    #[arg(long = "add-host")]
    add_host: Vec<String>,
    /// Add link to another container.
    #[arg(long)]
    link: Vec<String>,
    /// Add network-scoped alias for the container.
    #[arg(long = "network-alias", alias = "net-alias")]
    network_alias: Vec<String>,
    /// IPv4 address (e.g., 172.30.100.104).
    #[arg(long)]
    ip: Option<String>,
    /// IPv6 address (e.g., 2001:db8::33).
    #[arg(long)]
    ip6: Option<String>,
    /// Container IPv4/IPv6 link-local addresses.
    #[arg(long)]
    link_local_ip: Vec<String>,
    /// Container MAC address (e.g., 92:d0:c6:0a:29:33).
    #[arg(long)]
    mac_address: Option<String>,
    /// Connect a container to a network (repeatable; also `name=NET,alias=A,ip=...`).
    #[arg(long, alias = "net")]
    network: Vec<String>,
}

/// A bad value, reported as the docker CLI reports it.
#[derive(Debug, PartialEq, Eq)]
pub enum OptError {
    /// A flag's own check failed (pflag's `invalid argument "V" for "F" flag: E`, with usage).
    Flag {
        value: String,
        flag: &'static str,
        msg: String,
    },
    /// The flags' combination or content is wrong (`docker: E`).
    Invalid(String),
}

impl std::fmt::Display for OptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptError::Flag { value, flag, msg } => {
                write!(f, "invalid argument \"{value}\" for \"{flag}\" flag: {msg}")
            }
            OptError::Invalid(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for OptError {}

fn invalid(msg: impl Into<String>) -> OptError {
    OptError::Invalid(msg.into())
}

/// What the flags put in a create request.
#[derive(Debug, Default, PartialEq)]
pub struct Parsed {
    /// `Config.ExposedPorts` (null when there are none, as the CLI sends it).
    pub exposed_ports: Option<Set>,
    /// `HostConfig.PortBindings` (always sent, `{}` when empty).
    pub port_bindings: PortMap,
    /// `HostConfig.PublishAllPorts`.
    pub publish_all: bool,
    /// `HostConfig.Dns`, `DnsSearch`, `DnsOptions`: never null.
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    /// `HostConfig.ExtraHosts`, in the `host:ip` form the API takes.
    pub extra_hosts: Option<Vec<String>>,
    /// `HostConfig.Links`.
    pub links: Option<Vec<String>>,
    /// `HostConfig.NetworkMode`: the first `--network`, else `default`.
    pub network_mode: String,
    /// `NetworkingConfig.EndpointsConfig`.
    pub endpoints: BTreeMap<String, Option<EndpointSettings>>,
    /// `Config.MacAddress`: the main network's MAC address, for daemons before API 1.44.
    pub mac_address: String,
    /// `Localhost DNS setting (--dns=…) may fail in containers.`, printed as a warning after the create.
    pub warning: Option<String>,
}

impl NetOpts {
    /// The request fields, or the docker CLI's error for the first bad value.
    pub fn parse(&self) -> Result<Parsed, OptError> {
        // The flags' own checks (pflag runs them while parsing the command line).
        let flag = |value: &str, flag: &'static str, msg: String| OptError::Flag {
            value: value.to_string(),
            flag,
            msg,
        };
        let extra_hosts = self
            .add_host
            .iter()
            .map(|h| validate_extra_host(h).map_err(|m| flag(h, "--add-host", m)))
            .collect::<Result<Vec<_>, _>>()?;
        let dns = self
            .dns
            .iter()
            .map(|d| validate_ip_address(d).map_err(|m| flag(d, "--dns", m)))
            .collect::<Result<Vec<_>, _>>()?;
        let dns_search = self
            .dns_search
            .iter()
            .map(|d| validate_dns_search(d).map_err(|m| flag(d, "--dns-search", m)))
            .collect::<Result<Vec<_>, _>>()?;
        for l in &self.link {
            validate_link(l).map_err(|m| flag(l, "--link", m))?;
        }
        let networks = self
            .network
            .iter()
            .map(|n| parse_network_opt(n).map_err(|m| flag(n, "--network", m)))
            .collect::<Result<Vec<_>, _>>()?;

        // What `parse` in the CLI's container/opts.go checks afterwards, in its order.
        if let Some(mac) = self.mac_address.as_ref().filter(|m| !m.is_empty())
            && !valid_mac(mac.trim())
        {
            return Err(invalid(format!("{mac} is not a valid mac address")));
        }
        let specs = self
            .publish
            .iter()
            .map(|p| standard_notation(p))
            .collect::<Result<Vec<_>, _>>()?;
        let (mut exposed, port_bindings) = parse_port_specs(&specs)?;
        for e in &self.expose {
            for p in expose_ports(e)? {
                exposed.entry(p).or_insert_with(|| json!({}));
            }
        }
        let network_mode = networks
            .first()
            .map_or_else(|| "default".to_string(), |n| n.target.clone());
        let endpoints = self.endpoints(networks)?;
        let mac_address = endpoints
            .get(network_name(&network_mode))
            .and_then(Option::as_ref)
            .map(|e| e.mac_address.clone())
            .unwrap_or_default();
        let warning = dns
            .iter()
            .find(|d| d.parse::<IpAddr>().is_ok_and(|a| a.is_loopback()))
            .map(|d| format!("Localhost DNS setting (--dns={d}) may fail in containers."));
        Ok(Parsed {
            exposed_ports: (!exposed.is_empty()).then_some(exposed),
            port_bindings,
            publish_all: self.publish_all,
            dns,
            dns_search,
            dns_options: self.dns_option.clone(),
            extra_hosts: (!extra_hosts.is_empty()).then_some(extra_hosts),
            links: (!self.link.is_empty()).then(|| self.link.clone()),
            network_mode,
            endpoints,
            mac_address,
            warning,
        })
    }

    /// The CLI's `parseNetworkOpts`: one endpoint per `--network` (the first also gets
    /// `--network-alias`, `--link`, `--ip`, `--ip6`, `--link-local-ip`, `--mac-address`); a
    /// single network with nothing to say about it is left to the daemon, and with no
    /// `--network` at all the endpoint is `default`.
    fn endpoints(
        &self,
        networks: Vec<Attachment>,
    ) -> Result<BTreeMap<String, Option<EndpointSettings>>, OptError> {
        let mut endpoints = BTreeMap::new();
        if networks.is_empty() {
            let mut n = Attachment {
                target: "default".into(),
                ..Attachment::default()
            };
            self.apply_to(&mut n)?;
            endpoints.insert("default".to_string(), Some(endpoint(n)?));
        }
        let (mut user_defined, mut builtin) = (false, false);
        let count = networks.len();
        for (i, mut n) in networks.into_iter().enumerate() {
            if is_user_defined(&n.target) {
                user_defined = true;
            } else {
                builtin = true;
            }
            if i == 0 {
                self.apply_to(&mut n)?;
            }
            let target = n.target.clone();
            let ep = endpoint(n)?;
            if endpoints.contains_key(&target) {
                return Err(invalid(format!(
                    "network \"{target}\" is specified multiple times"
                )));
            }
            if i == 0 && count == 1 && ep == EndpointSettings::default() {
                continue;
            }
            endpoints.insert(target, Some(ep));
        }
        if user_defined && builtin {
            return Err(invalid(
                "conflicting options: cannot attach both user-defined and non-user-defined network-modes",
            ));
        }
        Ok(endpoints)
    }

    /// The CLI's `applyContainerOptions`: the old single-network flags on the first network.
    fn apply_to(&self, n: &mut Attachment) -> Result<(), OptError> {
        let conflict = |what: &str| Err(invalid(format!("conflicting options: {what}")));
        let given = |o: &Option<String>| o.as_ref().is_some_and(|v| !v.is_empty());
        if !n.aliases.is_empty() && !self.network_alias.is_empty() {
            return conflict("cannot specify both --network-alias and per-network alias");
        }
        if n.ipv4.is_some() && given(&self.ip) {
            return conflict("cannot specify both --ip and per-network IPv4 address");
        }
        if n.ipv6.is_some() && given(&self.ip6) {
            return conflict("cannot specify both --ip6 and per-network IPv6 address");
        }
        if n.mac.is_some() && given(&self.mac_address) {
            return conflict("cannot specify both --mac-address and per-network MAC address");
        }
        if !n.link_local_ips.is_empty() && !self.link_local_ip.is_empty() {
            return conflict(
                "cannot specify both --link-local-ip and per-network link-local IP addresses",
            );
        }
        if !self.network_alias.is_empty() {
            n.aliases = self.network_alias.clone();
        }
        // On a user-defined network `--link` is an endpoint option (an alias); on the default
        // bridge it is a legacy link, in HostConfig.Links only.
        if is_user_defined(&n.target) && !self.link.is_empty() {
            n.links = self.link.clone();
        }
        let set = |o: &Option<String>, into: &mut Option<String>| {
            if let Some(v) = o.as_ref().filter(|v| !v.is_empty()) {
                *into = Some(v.clone());
            }
        };
        set(&self.ip, &mut n.ipv4);
        set(&self.ip6, &mut n.ipv6);
        set(&self.mac_address, &mut n.mac);
        if !self.link_local_ip.is_empty() {
            n.link_local_ips = self.link_local_ip.clone();
        }
        Ok(())
    }
}

/// One `--network` value (`NetworkAttachmentOpts`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Attachment {
    pub target: String,
    pub aliases: Vec<String>,
    pub driver_opts: BTreeMap<String, String>,
    pub links: Vec<String>,
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
    pub link_local_ips: Vec<String>,
    pub mac: Option<String>,
    pub gw_priority: i64,
}

/// `NetworkOpt.Set`: a name, or the CSV form `name=n,alias=a,ip=...` (keys and values are
/// lowercased, as the CLI does).
pub fn parse_network_opt(value: &str) -> Result<Attachment, String> {
    if !long_syntax(value) {
        return Ok(Attachment {
            target: value.to_string(),
            ..Attachment::default()
        });
    }
    let mut n = Attachment::default();
    for field in csv_fields(value)? {
        let lower = field.to_lowercase();
        let Some((key, val)) = lower.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(format!("invalid field {field}"));
        };
        let (key, val) = (key.trim(), val.trim().to_string());
        match key {
            "name" => n.target = val,
            "alias" => n.aliases.push(val),
            "ip" => n.ipv4 = Some(val),
            "ip6" => n.ipv6 = Some(val),
            "mac-address" => n.mac = Some(val),
            "link-local-ip" => n.link_local_ips.push(val),
            "driver-opt" => {
                let Some((k, v)) = val.split_once('=').filter(|(k, _)| !k.is_empty()) else {
                    return Err("invalid key value pair format in driver options".into());
                };
                n.driver_opts
                    .insert(k.trim().to_string(), v.trim().to_string());
            }
            "gw-priority" => {
                n.gw_priority = val.parse().map_err(|e: std::num::ParseIntError| {
                    let why = match e.kind() {
                        std::num::IntErrorKind::PosOverflow
                        | std::num::IntErrorKind::NegOverflow => "value out of range",
                        _ => "invalid syntax",
                    };
                    format!("invalid gw-priority ({val}): {why}")
                })?;
            }
            _ => return Err(format!("invalid field key {key}")),
        }
    }
    // Fields that are empty after the `=` leave nothing (the CLI's `""` is unset).
    n.ipv4 = n.ipv4.filter(|v| !v.is_empty());
    n.ipv6 = n.ipv6.filter(|v| !v.is_empty());
    n.mac = n.mac.filter(|v| !v.is_empty());
    if n.target.is_empty() {
        return Err("network name/id is not specified".into());
    }
    Ok(n)
}

/// The CLI's test for the long syntax: `\w+=\w+(,\w+=\w+)*` anywhere in the value, that is a
/// word character, `=`, a word character.
fn long_syntax(value: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = value.as_bytes();
    (1..b.len().saturating_sub(1)).any(|i| b[i] == b'=' && word(b[i - 1]) && word(b[i + 1]))
}

/// One CSV record as Go's `encoding/csv` reads it: fields split on `,`, a field that begins
/// with `"` is quoted (`""` is a quote inside it).
fn csv_fields(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err(
                        "parse error on line 1, column 1: extraneous or missing \" in quoted-field"
                            .into(),
                    ),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            match chars.next() {
                None => {
                    out.push(field);
                    return Ok(out);
                }
                Some(',') => {}
                Some(_) => {
                    return Err(
                        "parse error on line 1, column 1: extraneous or missing \" in quoted-field"
                            .into(),
                    );
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        out.push(field);
                        return Ok(out);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
        }
        out.push(field);
    }
}

/// `NetworkMode.IsUserDefined`: anything but default, bridge, host, none and container:ID.
fn is_user_defined(mode: &str) -> bool {
    !matches!(mode, "default" | "bridge" | "host" | "none") && !mode.starts_with("container:")
}

/// `NetworkMode.NetworkName`.
fn network_name(mode: &str) -> &str {
    if mode.starts_with("container:") {
        "container"
    } else {
        mode
    }
}

/// The CLI's `parseNetworkAttachmentOpt`.
fn endpoint(n: Attachment) -> Result<EndpointSettings, OptError> {
    if n.target.trim().is_empty() {
        return Err(invalid("no name set for network"));
    }
    if !is_user_defined(&n.target) {
        if !n.aliases.is_empty() {
            return Err(invalid(
                "network-scoped aliases are only supported for user-defined networks",
            ));
        }
        if !n.links.is_empty() {
            return Err(invalid(
                "links are only supported for user-defined networks",
            ));
        }
    }
    let mut ep = EndpointSettings {
        aliases: (!n.aliases.is_empty()).then_some(n.aliases),
        driver_opts: (!n.driver_opts.is_empty()).then_some(n.driver_opts),
        links: (!n.links.is_empty()).then_some(n.links),
        ..EndpointSettings::default()
    };
    if n.ipv4.is_some() || n.ipv6.is_some() || !n.link_local_ips.is_empty() {
        ep.ipam_config = Some(EndpointIpamConfig {
            ipv4_address: n.ipv4.unwrap_or_default(),
            ipv6_address: n.ipv6.unwrap_or_default(),
            link_local_ips: (!n.link_local_ips.is_empty()).then_some(n.link_local_ips),
        });
    }
    if let Some(mac) = n.mac {
        if !valid_mac(mac.trim()) {
            return Err(invalid(format!("{mac} is not a valid mac address")));
        }
        ep.mac_address = mac;
    }
    if n.gw_priority != 0 {
        ep.rest.insert("GwPriority".into(), json!(n.gw_priority));
    }
    Ok(ep)
}

#[cfg(test)]
mod tests;
