//! Parsers of the short syntaxes of ports, volumes and devices into the long forms' fields,
//! with the rules of docker's `nat.ParsePortSpec` and compose-go's `format.ParseVolume`.

use indexmap::IndexMap;

use crate::load::{Node, Value};

/// The fields of one long-form entry.
pub type Fields = Vec<(&'static str, Node)>;

/// `[[ip:]published:]target[/protocol]`, ranges allowed: one long entry per container port,
/// ordered by `"port/proto"` text as compose-go sorts them.
pub fn port(spec: &str) -> Result<Vec<Fields>, String> {
    let (ip, host, container) = split_port(spec);
    let (proto, container) = match container.split_once('/') {
        Some((p, "")) => ("tcp", p),
        Some((p, proto)) => (proto, p),
        None => ("tcp", container),
    };
    let proto = proto.to_ascii_lowercase();
    let ip = ip
        .strip_prefix('[')
        .and_then(|i| i.strip_suffix(']'))
        .unwrap_or(ip);
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    if container.is_empty() {
        return Err(format!("no port specified: {spec}<empty>"));
    }
    let (start, end) =
        port_range(container).map_err(|_| format!("invalid containerPort: {container}"))?;
    let (hstart, hend) = if host.is_empty() {
        (0, 0)
    } else {
        port_range(host).map_err(|_| format!("invalid hostPort: {host}"))?
    };
    if !host.is_empty() && end - start != hend - hstart && end != start {
        return Err(format!(
            "invalid ranges specified for container and host Ports: {container} and {host}"
        ));
    }
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {proto}"));
    }
    let mut out = Vec::new();
    for i in 0..=(end - start) {
        let target = start + i;
        let published = match host.is_empty() {
            true => None,
            false if start == end && hstart != hend => Some(format!("{hstart}-{hend}")),
            false => Some((hstart + i).to_string()),
        };
        let mut fields = vec![("mode", Node::scalar("ingress"))];
        if !ip.is_empty() {
            fields.push(("host_ip", Node::string(ip)));
        }
        fields.push(("target", Node::scalar(target.to_string())));
        if let Some(p) = published {
            fields.push(("published", Node::string(p)));
        }
        fields.push(("protocol", Node::scalar(proto.clone())));
        out.push((format!("{target}/{proto}"), fields));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out.into_iter().map(|(_, f)| f).collect())
}

/// `ip:host:container`, where the ip may itself hold colons (IPv6).
fn split_port(spec: &str) -> (&str, &str, &str) {
    let parts: Vec<&str> = spec.split(':').collect();
    let n = parts.len();
    let container = parts[n - 1];
    match n {
        1 => ("", "", container),
        2 => ("", parts[0], container),
        _ => {
            let ip_len = parts[..n - 2].iter().map(|p| p.len() + 1).sum::<usize>() - 1;
            (&spec[..ip_len], parts[n - 2], container)
        }
    }
}

/// `80` or `8000-8010`.
fn port_range(s: &str) -> Result<(u32, u32), ()> {
    let parse = |p: &str| p.parse::<u16>().map(u32::from).map_err(|_| ());
    match s.split_once('-') {
        None => parse(s).map(|p| (p, p)),
        Some((a, b)) => {
            let (a, b) = (parse(a)?, parse(b)?);
            if b < a {
                return Err(());
            }
            Ok((a, b))
        }
    }
}

/// `[source:]target[:options]`: a source starting with `.`, `/` or `~` is a bind mount (with
/// `create_host_path: true`, as docker-compose v1 did), anything else a named volume; no source
/// is an anonymous volume. Options: `ro`, `rw`, `nocopy`, propagation and SELinux labels;
/// others are ignored as compose-go does.
pub fn volume(spec: &str) -> Result<Fields, String> {
    if spec.is_empty() {
        return Err("invalid empty volume spec".into());
    }
    let parts = split_volume(spec);
    let invalid = |why: &str| format!("invalid spec: {spec}: {why}");
    if parts.iter().any(|p| p.is_empty()) {
        return Err(invalid("empty section between colons"));
    }
    let (source, target, options) = match parts.as_slice() {
        [t] => (None, t.clone(), None),
        [s, t] => (Some(s.clone()), t.clone(), None),
        [s, t, o] => (Some(s.clone()), t.clone(), Some(o.clone())),
        _ => return Err(invalid("too many colons")),
    };
    let mut read_only = false;
    let mut nocopy = false;
    let mut bind: IndexMap<String, Node> = IndexMap::new();
    for option in options.iter().flat_map(|o| o.split(',')) {
        match option {
            "ro" => read_only = true,
            "rw" => read_only = false,
            "nocopy" => nocopy = true,
            "rprivate" | "private" | "rshared" | "shared" | "rslave" | "slave" => {
                bind.insert("propagation".into(), Node::scalar(option));
            }
            "z" | "Z" => {
                bind.insert("selinux".into(), Node::scalar(option));
            }
            _ => {}
        }
    }
    let is_bind = source.as_deref().is_some_and(is_file_path);
    let mut fields = vec![(
        "type",
        Node::scalar(if is_bind { "bind" } else { "volume" }),
    )];
    if let Some(s) = source {
        fields.push(("source", Node::string(s)));
    }
    fields.push(("target", Node::string(clean_path(&target))));
    if read_only {
        fields.push(("read_only", Node::scalar("true")));
    }
    if is_bind {
        bind.insert("create_host_path".into(), Node::scalar("true"));
        fields.push(("bind", Node::new(Value::Map(bind))));
    } else {
        let mut vol = IndexMap::new();
        if nocopy {
            vol.insert("nocopy".into(), Node::scalar("true"));
        }
        fields.push(("volume", Node::new(Value::Map(vol))));
    }
    Ok(fields)
}

/// Splits at colons outside `${...}` (a spec may still hold a variable when interpolation is
/// off).
fn split_volume(spec: &str) -> Vec<String> {
    if spec.len() <= 2 {
        return vec![spec.to_owned()];
    }
    let mut parts = vec![String::new()];
    let mut depth = 0;
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' if chars.peek() == Some(&'{') => depth += 1,
            '}' if depth > 0 => depth -= 1,
            ':' if depth == 0 => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

fn is_file_path(source: &str) -> bool {
    source.starts_with(['.', '/', '~'])
}

/// Go's `path.Clean` for the container path.
pub(crate) fn clean_path(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            _ => out.push(part),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// `source[:target[:permissions]]`.
pub fn device(spec: &str) -> Result<Fields, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, target, perms) = match parts.as_slice() {
        [s] => (*s, *s, "rwm"),
        [s, t] => (*s, *t, "rwm"),
        [s, t, p] => (*s, *t, *p),
        _ => {
            return Err(format!(
                "confusing device mapping, please use long syntax: {spec}"
            ));
        }
    };
    let target = if target.is_empty() { source } else { target };
    Ok(vec![
        ("source", Node::string(source)),
        ("target", Node::string(target)),
        ("permissions", Node::string(perms)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(fields: &Fields) -> String {
        let parts: Vec<String> = fields
            .iter()
            .map(|(k, v)| match &v.value {
                Value::Map(m) => format!(
                    "{k}={{{}}}",
                    m.keys().cloned().collect::<Vec<_>>().join(",")
                ),
                _ => format!("{k}={}", v.as_str().unwrap_or("?")),
            })
            .collect();
        parts.join(" ")
    }

    fn ports(spec: &str) -> Vec<String> {
        port(spec).unwrap().iter().map(text).collect()
    }

    #[test]
    fn port_short_forms() {
        assert_eq!(ports("80"), ["mode=ingress target=80 protocol=tcp"]);
        assert_eq!(
            ports("8080:80"),
            ["mode=ingress target=80 published=8080 protocol=tcp"]
        );
        assert_eq!(
            ports("127.0.0.1:8080:80/udp"),
            ["mode=ingress host_ip=127.0.0.1 target=80 published=8080 protocol=udp"]
        );
        assert_eq!(
            ports("[::1]::80"),
            ["mode=ingress host_ip=::1 target=80 protocol=tcp"]
        );
        assert_eq!(
            ports("8000-8001:80-81"),
            [
                "mode=ingress target=80 published=8000 protocol=tcp",
                "mode=ingress target=81 published=8001 protocol=tcp"
            ]
        );
        assert_eq!(
            ports("8000-8010:80"),
            ["mode=ingress target=80 published=8000-8010 protocol=tcp"]
        );
        assert_eq!(
            port("8000-8002:80-81").unwrap_err(),
            "invalid ranges specified for container and host Ports: 80-81 and 8000-8002"
        );
        assert_eq!(port("80/xtp").unwrap_err(), "invalid proto: xtp");
        assert_eq!(port("a:80").unwrap_err(), "invalid hostPort: a");
        assert_eq!(
            port("1.2.3:80:80").unwrap_err(),
            "invalid IP address: 1.2.3"
        );
    }

    #[test]
    fn volume_short_forms() {
        let v = |s| text(&volume(s).unwrap());
        assert_eq!(
            v("./a:/b:ro"),
            "type=bind source=./a target=/b read_only=true bind={create_host_path}"
        );
        assert_eq!(v("vol:/b/"), "type=volume source=vol target=/b volume={}");
        assert_eq!(v("/b"), "type=volume target=/b volume={}");
        assert_eq!(
            v("vol:/b:nocopy"),
            "type=volume source=vol target=/b volume={nocopy}"
        );
        assert_eq!(
            v("/h:/c:rshared,z"),
            "type=bind source=/h target=/c bind={propagation,selinux,create_host_path}"
        );
        assert_eq!(
            v("${X:-a}:/c"),
            "type=volume source=${X:-a} target=/c volume={}"
        );
        assert_eq!(
            volume("a:b:c:d").unwrap_err(),
            "invalid spec: a:b:c:d: too many colons"
        );
        assert_eq!(
            volume("a::b").unwrap_err(),
            "invalid spec: a::b: empty section between colons"
        );
    }

    #[test]
    fn device_short_forms() {
        let d = |s| text(&device(s).unwrap());
        assert_eq!(d("/dev/x"), "source=/dev/x target=/dev/x permissions=rwm");
        assert_eq!(
            d("/dev/x:/dev/y:r"),
            "source=/dev/x target=/dev/y permissions=r"
        );
    }
}
