//! `-p`, `-P` and `--expose`: go-connections' `nat.ParsePortSpecs`, word for word in its errors.

use super::*;

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
