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
    /// `Localhost DNS (…) may fail in containers.`, printed as a warning after the create.
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
        let warning = dns.iter().find_map(|d| {
            d.parse::<IpAddr>()
                .ok()
                .filter(IpAddr::is_loopback)
                .map(|a| format!("Localhost DNS ({a}) may fail in containers."))
        });
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

/// `-p` in the long form (`published=8080,target=80,protocol=udp`) as `8080:80/udp`.
pub fn standard_notation(publish: &str) -> Result<String, OptError> {
    if !publish.contains('=') {
        return Ok(publish.to_string());
    }
    let mut params = BTreeMap::from([("protocol", "tcp")]);
    for param in publish.split(',') {
        match param.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                params.insert(k, v);
            }
            _ => {
                return Err(invalid(format!(
                    "invalid publish opts format (should be name=value but got '{param}')"
                )));
            }
        }
    }
    let get = |k: &str| params.get(k).copied().unwrap_or_default();
    Ok(format!(
        "{}:{}/{}",
        get("published"),
        get("target"),
        get("protocol")
    ))
}

/// One container port and where it is published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    /// `80/tcp`.
    pub port: String,
    pub binding: PortBinding,
}

/// `nat.ParsePortSpecs`: the exposed ports and the bindings of every `-p`.
pub fn parse_port_specs(specs: &[String]) -> Result<(Set, PortMap), OptError> {
    let mut exposed = Set::new();
    let mut bindings = PortMap::new();
    for s in specs {
        for m in parse_port_spec(s).map_err(OptError::Invalid)? {
            exposed.entry(m.port.clone()).or_insert_with(|| json!({}));
            bindings
                .entry(m.port)
                .or_insert_with(|| Some(Vec::new()))
                .get_or_insert_with(Vec::new)
                .push(m.binding);
        }
    }
    Ok((exposed, bindings))
}

/// `nat.ParsePortSpec`: `[ip:][hostPort[-end]:]containerPort[-end][/proto]`, one mapping per
/// container port of a range.
pub fn parse_port_spec(raw: &str) -> Result<Vec<PortMapping>, String> {
    let (ip, host_port, container) = split_parts(raw);
    let (proto, container) = split_proto_port(container);
    let mut ip = ip.to_string();
    if ip.starts_with('[') {
        ip = bracketed_host(&format!("{ip}:"))
            .map_err(|e| format!("invalid IP address {ip}: address {ip}:: {e}"))?;
    }
    if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    if container.is_empty() {
        return Err(format!("no port specified: {raw}<empty>"));
    }
    let (start, end) =
        parse_port_range(container).map_err(|_| format!("invalid containerPort: {container}"))?;
    let (host_start, host_end) = if host_port.is_empty() {
        (0, 0)
    } else {
        parse_port_range(host_port).map_err(|_| format!("invalid hostPort: {host_port}"))?
    };
    if !host_port.is_empty() && end - start != host_end - host_start && end != start {
        return Err(format!(
            "invalid ranges specified for container and host Ports: {container} and {host_port}"
        ));
    }
    let proto_lower = proto.to_lowercase();
    if !matches!(proto_lower.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {proto}"));
    }
    Ok((0..=u32::from(end - start))
        .map(|i| {
            let mut hp = if host_port.is_empty() {
                String::new()
            } else {
                (u32::from(host_start) + i).to_string()
            };
            // A single container port with a host range: the daemon picks one in the range.
            if start == end && host_start != host_end {
                hp = format!("{hp}-{host_end}");
            }
            PortMapping {
                port: format!("{}/{proto_lower}", u32::from(start) + i),
                binding: PortBinding {
                    host_ip: ip.clone(),
                    host_port: hp,
                },
            }
        })
        .collect())
}

/// `splitParts`: the last part is the container port, the one before it the host port, and
/// all before that (colons and all) the address.
fn split_parts(raw: &str) -> (&str, &str, &str) {
    let parts: Vec<&str> = raw.split(':').collect();
    let n = parts.len();
    match n {
        1 => ("", "", parts[0]),
        2 => ("", parts[0], parts[1]),
        _ => {
            let ip_len = raw.len() - parts[n - 1].len() - parts[n - 2].len() - 2;
            (&raw[..ip_len], parts[n - 2], parts[n - 1])
        }
    }
}

/// `nat.SplitProtoPort`: `80/udp` → (`udp`, `80`); the protocol defaults to `tcp`.
pub fn split_proto_port(raw: &str) -> (&str, &str) {
    let parts: Vec<&str> = raw.split('/').collect();
    if raw.is_empty() || parts[0].is_empty() {
        return ("", "");
    }
    match parts.get(1) {
        None => ("tcp", raw),
        Some(&"") => ("tcp", parts[0]),
        Some(p) => (p, parts[0]),
    }
}

/// The host of Go's `net.SplitHostPort` for a `[host]:port` input.
fn bracketed_host(hostport: &str) -> Result<String, &'static str> {
    let last_colon = hostport.rfind(':').ok_or("missing port in address")?;
    let end = hostport.find(']').ok_or("missing ']' in address")?;
    if end + 1 == hostport.len() {
        return Err("missing port in address");
    }
    if end + 1 != last_colon {
        return Err(if hostport.as_bytes()[end + 1] == b':' {
            "too many colons in address"
        } else {
            "missing port in address"
        });
    }
    let host = &hostport[1..end];
    if hostport[1..].contains('[') {
        return Err("unexpected '[' in address");
    }
    if hostport[end + 1..].contains(']') {
        return Err("unexpected ']' in address");
    }
    Ok(host.to_string())
}

/// Go's `strconv.ParseUint(s, 10, 16)` error text.
fn parse_u16(s: &str) -> Result<u16, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.ParseUint: parsing {s:?}: invalid syntax"));
    }
    s.parse()
        .map_err(|_| format!("strconv.ParseUint: parsing {s:?}: value out of range"))
}

/// `nat.ParsePortRange`: `8000` or `8000-9000` (text after a second `-` is ignored, as there).
pub fn parse_port_range(ports: &str) -> Result<(u16, u16), String> {
    if ports.is_empty() {
        return Err("empty string specified for ports".into());
    }
    let Some((a, rest)) = ports.split_once('-') else {
        let p = parse_u16(ports)?;
        return Ok((p, p));
    };
    let b = rest.split('-').next().unwrap_or_default();
    let (start, end) = (parse_u16(a)?, parse_u16(b)?);
    if end < start {
        return Err(format!("invalid range specified for port: {ports}"));
    }
    Ok((start, end))
}

/// One `--expose` value as the ports it exposes (`80`, `80/udp`, `8000-8010/tcp`); the
/// protocol is taken as written, as the CLI does.
pub fn expose_ports(e: &str) -> Result<Vec<String>, OptError> {
    if e.contains(':') {
        return Err(invalid(format!("invalid port format for --expose: {e}")));
    }
    let (proto, port) = split_proto_port(e);
    let (start, end) = parse_port_range(port).map_err(|err| {
        invalid(format!(
            "invalid range format for --expose: {e}, error: {err}"
        ))
    })?;
    Ok((start..=end).map(|p| format!("{p}/{proto}")).collect())
}

/// Go's `net.ParseIP(s).String()`: the canonical form, an IPv4-mapped address as IPv4.
fn canonical_ip(s: &str) -> Option<String> {
    Some(match s.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        v4 => v4.to_string(),
    })
}

/// `opts.ValidateIPAddress` (`--dns`): the address in canonical form.
pub fn validate_ip_address(val: &str) -> Result<String, String> {
    canonical_ip(val.trim()).ok_or_else(|| format!("IP address is not correctly formatted: {val}"))
}

/// `opts.ValidateDNSSearch`: `.`, or a domain (returned without a final dot).
pub fn validate_dns_search(val: &str) -> Result<String, String> {
    let val = val.trim_matches(' ');
    if val == "." {
        return Ok(val.to_string());
    }
    let bad = || format!("{val} is not a valid domain");
    if !val.bytes().any(|b| b.is_ascii_alphabetic()) {
        return Err(bad());
    }
    // The CLI's regular expression: labels of letters, digits and inner hyphens joined by dots,
    // then an optional final dot and white space.
    let body = val.trim_end_matches([' ', '\t', '\n', '\r', '\x0c', '\x0b']);
    let body = body.strip_suffix('.').unwrap_or(body);
    if domain_body(body) && body.len() < 255 {
        Ok(body.to_string())
    } else {
        Err(bad())
    }
}

/// The captured part of the CLI's domain expression. Its groups are written `(:?` (a typo for
/// `(?:`), which lets a colon precede each label (two before the first) and each dot.
fn domain_body(s: &str) -> bool {
    let label = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
    };
    let pieces: Vec<&str> = s.split('.').collect();
    let last = pieces.len() - 1;
    pieces.iter().enumerate().all(|(i, p)| {
        let mut p = *p;
        if i < last {
            p = p.strip_suffix(':').unwrap_or(p);
        }
        p = p.strip_prefix(':').unwrap_or(p);
        if i == 0 {
            p = p.strip_prefix(':').unwrap_or(p);
        }
        label(p)
    })
}

/// `opts.ValidateExtraHost`: `host:ip`, `host=ip`, `host=[v6]` or `host:host-gateway`, as the
/// `host:ip` the API takes.
pub fn validate_extra_host(val: &str) -> Result<String, String> {
    let split = val.split_once('=').or_else(|| val.split_once(':'));
    let Some((k, v)) = split.filter(|(k, _)| !k.is_empty() && !k.contains(':')) else {
        return Err(format!("bad format for add-host: {val:?}"));
    };
    let mut v = v;
    if v != "host-gateway" {
        if v.len() > 2 && v.starts_with('[') && v.ends_with(']') {
            v = &v[1..v.len() - 1];
        }
        if validate_ip_address(v).is_err() {
            return Err(format!("invalid IP address in add-host: {v:?}"));
        }
    }
    Ok(format!("{k}:{v}"))
}

/// `opts.ValidateLink`: `name` or `name:alias`.
pub fn validate_link(val: &str) -> Result<(), String> {
    if val.is_empty() {
        return Err("empty string specified for links".into());
    }
    if val.splitn(3, ':').count() > 2 {
        return Err(format!("bad format for links: {val}"));
    }
    Ok(())
}

/// Go's `net.ParseMAC`: 6, 8 or 20 bytes as `xx:xx:..`, `xx-xx-..` or `xxxx.xxxx.xxxx`.
pub fn valid_mac(s: &str) -> bool {
    let b = s.as_bytes();
    let hex = |g: &[u8]| g.iter().all(u8::is_ascii_hexdigit);
    let n_ok = |n: usize| matches!(n, 6 | 8 | 20);
    if b.len() < 14 {
        return false;
    }
    if b[2] == b':' || b[2] == b'-' {
        if !(b.len() + 1).is_multiple_of(3) || !n_ok((b.len() + 1) / 3) {
            return false;
        }
        b.chunks(3)
            .all(|c| hex(&c[..2]) && (c.len() == 2 || c[2] == b[2]))
    } else if b[4] == b'.' {
        if !(b.len() + 1).is_multiple_of(5) || !n_ok(2 * (b.len() + 1) / 5) {
            return false;
        }
        b.chunks(5)
            .all(|c| hex(&c[..4]) && (c.len() == 4 || c[4] == b'.'))
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(ip: &str, port: &str) -> PortBinding {
        PortBinding {
            host_ip: ip.into(),
            host_port: port.into(),
        }
    }

    fn spec(s: &str) -> Vec<(String, PortBinding)> {
        parse_port_spec(s)
            .unwrap()
            .into_iter()
            .map(|m| (m.port, m.binding))
            .collect()
    }

    #[test]
    fn port_specs_as_nat_parses_them() {
        assert_eq!(spec("80"), [("80/tcp".into(), b("", ""))]);
        assert_eq!(spec("8080:80"), [("80/tcp".into(), b("", "8080"))]);
        assert_eq!(
            spec("127.0.0.1::81/udp"),
            [("81/udp".into(), b("127.0.0.1", ""))]
        );
        assert_eq!(
            spec("1.2.3.4:53:53/UDP"),
            [("53/udp".into(), b("1.2.3.4", "53"))]
        );
        assert_eq!(spec("[::1]:80:80"), [("80/tcp".into(), b("::1", "80"))]);
        assert_eq!(spec("::1:80:80"), [("80/tcp".into(), b("::1", "80"))]);
        assert_eq!(spec("80/sctp"), [("80/sctp".into(), b("", ""))]);
        assert_eq!(spec("80/"), [("80/tcp".into(), b("", ""))]);
        assert_eq!(
            spec("[::]:9000-9001:9000-9001"),
            [
                ("9000/tcp".into(), b("::", "9000")),
                ("9001/tcp".into(), b("::", "9001"))
            ]
        );
        assert_eq!(
            spec("7000-7001:80-81/udp"),
            [
                ("80/udp".into(), b("", "7000")),
                ("81/udp".into(), b("", "7001"))
            ]
        );
        // A host range for one container port: the daemon picks a port in it.
        assert_eq!(
            spec("7000-7005:82"),
            [("82/tcp".into(), b("", "7000-7005"))]
        );
        assert_eq!(
            spec("0.0.0.0::80-81"),
            [
                ("80/tcp".into(), b("0.0.0.0", "")),
                ("81/tcp".into(), b("0.0.0.0", ""))
            ]
        );
    }

    #[test]
    fn port_spec_errors_are_nats() {
        let err = |s: &str| parse_port_spec(s).unwrap_err();
        assert_eq!(err("80:abc"), "invalid containerPort: abc");
        assert_eq!(err("abc:80"), "invalid hostPort: abc");
        assert_eq!(err("1.2.3:80:80"), "invalid IP address: 1.2.3");
        assert_eq!(err("80:"), "no port specified: 80:<empty>");
        assert_eq!(err(""), "no port specified: <empty>");
        assert_eq!(err("/tcp"), "no port specified: /tcp<empty>");
        assert_eq!(err("80/icmp"), "invalid proto: icmp");
        assert_eq!(err("80/ICMP"), "invalid proto: ICMP");
        assert_eq!(err("70000"), "invalid containerPort: 70000");
        assert_eq!(err("90-80"), "invalid containerPort: 90-80");
        assert_eq!(
            err("1000-1001:80-82"),
            "invalid ranges specified for container and host Ports: 80-82 and 1000-1001"
        );
        assert_eq!(
            err("[::1:80:80"),
            "invalid IP address [::1: address [::1:: missing ']' in address"
        );
        assert_eq!(
            err("[::1]x:80:80"),
            "invalid IP address [::1]x: address [::1]x:: missing port in address"
        );
    }

    #[test]
    fn specs_merge_into_exposed_ports_and_bindings() {
        let specs: Vec<String> = ["80", "8080:80", "127.0.0.1:53:53/udp"]
            .map(String::from)
            .to_vec();
        let (exposed, bindings) = parse_port_specs(&specs).unwrap();
        assert_eq!(
            serde_json::to_value(&exposed).unwrap(),
            json!({"80/tcp": {}, "53/udp": {}})
        );
        assert_eq!(
            serde_json::to_value(&bindings).unwrap(),
            json!({
                "80/tcp": [{"HostIp": "", "HostPort": ""}, {"HostIp": "", "HostPort": "8080"}],
                "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "53"}],
            })
        );
    }

    #[test]
    fn long_publish_syntax() {
        assert_eq!(
            standard_notation("published=8080,target=80").unwrap(),
            "8080:80/tcp"
        );
        assert_eq!(
            standard_notation("target=53,protocol=udp,mode=host").unwrap(),
            ":53/udp"
        );
        assert_eq!(
            standard_notation("target=80,x").unwrap_err().to_string(),
            "invalid publish opts format (should be name=value but got 'x')"
        );
    }

    #[test]
    fn expose_takes_ports_and_ranges() {
        assert_eq!(expose_ports("80").unwrap(), ["80/tcp"]);
        assert_eq!(
            expose_ports("100-102/udp").unwrap(),
            ["100/udp", "101/udp", "102/udp"]
        );
        assert_eq!(expose_ports("80/TCP").unwrap(), ["80/TCP"]);
        assert_eq!(
            expose_ports("80:81").unwrap_err().to_string(),
            "invalid port format for --expose: 80:81"
        );
        assert_eq!(
            expose_ports("abc").unwrap_err().to_string(),
            "invalid range format for --expose: abc, error: strconv.ParseUint: parsing \"abc\": invalid syntax"
        );
        assert_eq!(
            expose_ports("9-8").unwrap_err().to_string(),
            "invalid range format for --expose: 9-8, error: invalid range specified for port: 9-8"
        );
        assert_eq!(
            expose_ports("").unwrap_err().to_string(),
            "invalid range format for --expose: , error: empty string specified for ports"
        );
        assert_eq!(
            expose_ports("99999").unwrap_err().to_string(),
            "invalid range format for --expose: 99999, error: strconv.ParseUint: parsing \"99999\": value out of range"
        );
    }

    #[test]
    fn add_host_as_the_cli_checks_it() {
        assert_eq!(validate_extra_host("a:1.2.3.4").unwrap(), "a:1.2.3.4");
        assert_eq!(validate_extra_host("a=1.2.3.4").unwrap(), "a:1.2.3.4");
        assert_eq!(validate_extra_host("a:::1").unwrap(), "a:::1");
        assert_eq!(validate_extra_host("a=[::1]").unwrap(), "a:::1");
        assert_eq!(validate_extra_host("a=0:0::1").unwrap(), "a:0:0::1");
        assert_eq!(
            validate_extra_host("gw:host-gateway").unwrap(),
            "gw:host-gateway"
        );
        assert_eq!(
            validate_extra_host("foo").unwrap_err(),
            "bad format for add-host: \"foo\""
        );
        assert_eq!(
            validate_extra_host(":1.2.3.4").unwrap_err(),
            "bad format for add-host: \":1.2.3.4\""
        );
        assert_eq!(
            validate_extra_host("a:b=1.2.3.4").unwrap_err(),
            "bad format for add-host: \"a:b=1.2.3.4\""
        );
        assert_eq!(
            validate_extra_host("a:nope").unwrap_err(),
            "invalid IP address in add-host: \"nope\""
        );
    }

    #[test]
    fn dns_flags_as_the_cli_checks_them() {
        assert_eq!(validate_ip_address("8.8.8.8").unwrap(), "8.8.8.8");
        assert_eq!(validate_ip_address(" 0:0::1 ").unwrap(), "::1");
        assert_eq!(validate_ip_address("::ffff:1.2.3.4").unwrap(), "1.2.3.4");
        assert_eq!(
            validate_ip_address("1.2.3").unwrap_err(),
            "IP address is not correctly formatted: 1.2.3"
        );
        assert_eq!(validate_dns_search("example.com.").unwrap(), "example.com");
        assert_eq!(validate_dns_search(".").unwrap(), ".");
        assert_eq!(validate_dns_search("a-b.c1").unwrap(), "a-b.c1");
        assert_eq!(
            validate_dns_search("-a").unwrap_err(),
            "-a is not a valid domain"
        );
        assert_eq!(
            validate_dns_search("123").unwrap_err(),
            "123 is not a valid domain"
        );
        assert_eq!(
            validate_dns_search("a..b").unwrap_err(),
            "a..b is not a valid domain"
        );
        let long = format!("{}.com", "a".repeat(252));
        validate_dns_search(&long).unwrap_err();
    }

    #[test]
    fn links_and_macs() {
        validate_link("c1").unwrap();
        validate_link("c1:alias").unwrap();
        assert_eq!(
            validate_link("a:b:c").unwrap_err(),
            "bad format for links: a:b:c"
        );
        assert_eq!(
            validate_link("").unwrap_err(),
            "empty string specified for links"
        );
        assert!(valid_mac("92:d0:c6:0a:29:33"));
        assert!(valid_mac("92-D0-C6-0A-29-33"));
        assert!(valid_mac("92d0.c60a.2933"));
        assert!(!valid_mac("92:d0:c6:0a:29"));
        assert!(!valid_mac("92:d0:c6:0a:29:3g"));
        assert!(!valid_mac("zz"));
    }

    #[test]
    fn network_long_syntax() {
        let n = parse_network_opt("name=N1,alias=A,alias=b,ip=10.0.0.2,driver-opt=K=V").unwrap();
        assert_eq!(n.target, "n1");
        assert_eq!(n.aliases, ["a", "b"]);
        assert_eq!(n.ipv4.as_deref(), Some("10.0.0.2"));
        assert_eq!(n.driver_opts, BTreeMap::from([("k".into(), "v".into())]));
        assert_eq!(parse_network_opt("my-net").unwrap().target, "my-net");
        assert_eq!(
            parse_network_opt("name=n,foo=bar").unwrap_err(),
            "invalid field key foo"
        );
        assert_eq!(
            parse_network_opt("alias=a").unwrap_err(),
            "network name/id is not specified"
        );
        assert_eq!(
            parse_network_opt("name=n,x").unwrap_err(),
            "invalid field x"
        );
        assert_eq!(
            parse_network_opt("name=n,driver-opt=x").unwrap_err(),
            "invalid key value pair format in driver options"
        );
        assert_eq!(
            parse_network_opt("name=n,gw-priority=x").unwrap_err(),
            "invalid gw-priority (x): invalid syntax"
        );
        assert_eq!(
            parse_network_opt("\"name=a,b\",alias=x").unwrap().target,
            "a,b"
        );
    }

    fn opts(args: &[&str]) -> NetOpts {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct T {
            #[command(flatten)]
            o: NetOpts,
        }
        let mut v = vec!["t"];
        v.extend_from_slice(args);
        T::try_parse_from(v).unwrap().o
    }

    #[test]
    fn no_flags_send_what_the_cli_sends() {
        let p = opts(&[]).parse().unwrap();
        assert_eq!(p.network_mode, "default");
        assert_eq!(p.exposed_ports, None);
        assert!(p.port_bindings.is_empty());
        assert_eq!(p.extra_hosts, None);
        assert_eq!(
            p.endpoints,
            BTreeMap::from([("default".into(), Some(EndpointSettings::default()))])
        );
    }

    #[test]
    fn first_network_takes_the_endpoint_flags() {
        let p = opts(&[
            "--network",
            "n1",
            "--network-alias",
            "a1",
            "--ip",
            "10.0.0.2",
            "--ip6",
            "fd00::2",
            "--link",
            "c1:x",
            "--mac-address",
            "92:d0:c6:0a:29:33",
            "--network",
            "name=n2,alias=b",
        ])
        .parse()
        .unwrap();
        assert_eq!(p.network_mode, "n1");
        assert_eq!(p.links, Some(vec!["c1:x".into()]));
        assert_eq!(p.mac_address, "92:d0:c6:0a:29:33");
        let n1 = p.endpoints["n1"].clone().unwrap();
        assert_eq!(n1.aliases, Some(vec!["a1".into()]));
        assert_eq!(n1.links, Some(vec!["c1:x".into()]));
        assert_eq!(n1.mac_address, "92:d0:c6:0a:29:33");
        assert_eq!(
            n1.ipam_config,
            Some(EndpointIpamConfig {
                ipv4_address: "10.0.0.2".into(),
                ipv6_address: "fd00::2".into(),
                link_local_ips: None,
            })
        );
        let n2 = p.endpoints["n2"].clone().unwrap();
        assert_eq!(n2.aliases, Some(vec!["b".into()]));
        assert_eq!(n2.ipam_config, None);
        // One network and nothing to say about it: no endpoint.
        assert!(
            opts(&["--network", "n1"])
                .parse()
                .unwrap()
                .endpoints
                .is_empty()
        );
        assert!(
            opts(&["--network", "host"])
                .parse()
                .unwrap()
                .endpoints
                .is_empty()
        );
        // A legacy link on the default bridge is only a HostConfig link.
        let p = opts(&["--link", "c1"]).parse().unwrap();
        assert_eq!(p.links, Some(vec!["c1".into()]));
        assert_eq!(p.endpoints["default"], Some(EndpointSettings::default()));
    }

    #[test]
    fn network_errors_as_the_cli_words_them() {
        let err = |a: &[&str]| opts(a).parse().unwrap_err().to_string();
        assert_eq!(
            err(&["--network-alias", "a"]),
            "network-scoped aliases are only supported for user-defined networks"
        );
        assert_eq!(
            err(&["--network", "n1", "--network", "n1"]),
            "network \"n1\" is specified multiple times"
        );
        assert_eq!(
            err(&["--network", "n1", "--network", "host"]),
            "conflicting options: cannot attach both user-defined and non-user-defined network-modes"
        );
        assert_eq!(
            err(&["--network", "name=n1,alias=x", "--network-alias", "y"]),
            "conflicting options: cannot specify both --network-alias and per-network alias"
        );
        assert_eq!(
            err(&["--network", "name=n1,ip=10.0.0.3", "--ip", "10.0.0.2"]),
            "conflicting options: cannot specify both --ip and per-network IPv4 address"
        );
        assert_eq!(
            err(&["--mac-address", "zz"]),
            "zz is not a valid mac address"
        );
        assert_eq!(
            err(&["--network", "name=n1,mac-address=zz"]),
            "zz is not a valid mac address"
        );
        assert_eq!(
            err(&["--network", "name=n1,bad=1"]),
            "invalid argument \"name=n1,bad=1\" for \"--network\" flag: invalid field key bad"
        );
        assert_eq!(
            err(&["--add-host", "foo"]),
            "invalid argument \"foo\" for \"--add-host\" flag: bad format for add-host: \"foo\""
        );
        assert_eq!(
            err(&["--dns", "1.2.3"]),
            "invalid argument \"1.2.3\" for \"--dns\" flag: IP address is not correctly formatted: 1.2.3"
        );
        assert_eq!(
            err(&["--dns-search", "-a"]),
            "invalid argument \"-a\" for \"--dns-search\" flag: -a is not a valid domain"
        );
        assert_eq!(err(&["-p", "80:abc"]), "invalid containerPort: abc");
    }

    #[test]
    fn everything_at_once() {
        let p = opts(&[
            "-p",
            "80",
            "-p",
            "8080:80",
            "-p",
            "127.0.0.1::81/udp",
            "-p",
            "[::1]:9000-9001:9000-9001",
            "--expose",
            "100-101/udp",
            "--expose",
            "80",
            "-P",
            "--dns",
            "8.8.8.8",
            "--dns",
            "0:0::1",
            "--dns-search",
            "example.com.",
            "--dns-opt",
            "ndots:2",
            "--dns-option",
            "rotate",
            "--add-host",
            "a=1.2.3.4",
            "--add-host",
            "b:host-gateway",
            "--add-host",
            "c=[::1]",
        ])
        .parse()
        .unwrap();
        assert_eq!(
            serde_json::to_value(&p.exposed_ports).unwrap(),
            json!({"100/udp": {}, "101/udp": {}, "80/tcp": {}, "81/udp": {}, "9000/tcp": {}, "9001/tcp": {}})
        );
        assert_eq!(
            serde_json::to_value(&p.port_bindings).unwrap(),
            json!({
                "80/tcp": [{"HostIp": "", "HostPort": ""}, {"HostIp": "", "HostPort": "8080"}],
                "81/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
                "9000/tcp": [{"HostIp": "::1", "HostPort": "9000"}],
                "9001/tcp": [{"HostIp": "::1", "HostPort": "9001"}],
            })
        );
        assert!(p.publish_all);
        assert_eq!(p.dns, ["8.8.8.8", "::1"]);
        assert_eq!(p.dns_search, ["example.com"]);
        assert_eq!(p.dns_options, ["ndots:2", "rotate"]);
        assert_eq!(
            p.extra_hosts,
            Some(vec![
                "a:1.2.3.4".into(),
                "b:host-gateway".into(),
                "c:::1".into()
            ])
        );
        assert_eq!(
            p.warning.as_deref(),
            Some("Localhost DNS (::1) may fail in containers.")
        );
    }
}
