//! `port`: a container's published ports, from inspect's `NetworkSettings.Ports`, printed and
//! sorted as the docker CLI prints them.

use anyhow::{Result, bail};
use berth_client::Client;
use serde_json::Value;

use super::enc;

#[derive(Debug, clap::Args)]
pub struct PortArgs {
    /// The container.
    container: String,
    /// PRIVATE_PORT[/PROTO]: only where this port is published.
    port: Option<String>,
}

pub async fn port(client: &Client, a: PortArgs) -> Result<u8> {
    let info: Value = client
        .get(&format!("/containers/{}/json", enc(&a.container)))
        .await?;
    for line in port_lines(
        &info["NetworkSettings"]["Ports"],
        &a.container,
        a.port.as_deref(),
    )? {
        println!("{line}");
    }
    Ok(0)
}

/// Go's `net.JoinHostPort`: an address with a colon in brackets.
fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The lines `port` prints for a `Ports` map (`{"80/tcp": [{"HostIp": .., "HostPort": ..}]}`):
/// `80/tcp -> 0.0.0.0:8080` for each binding, or with `port` only the bindings of that port
/// (`0.0.0.0:8080`); naturally sorted, as the CLI sorts them.
pub fn port_lines(ports: &Value, container: &str, port: Option<&str>) -> Result<Vec<String>> {
    let frontends = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|b| {
                join_host_port(
                    b["HostIp"].as_str().unwrap_or_default(),
                    b["HostPort"].as_str().unwrap_or_default(),
                )
            })
            .collect()
    };
    let mut out = Vec::new();
    match port {
        Some(p) => {
            let (num, proto) = p.split_once('/').unwrap_or((p, ""));
            let proto = if proto.is_empty() { "tcp" } else { proto };
            if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
                bail!(
                    "Error: invalid port ({num}): strconv.ParseUint: parsing {num:?}: invalid syntax"
                );
            }
            if num.parse::<u16>().is_err() {
                bail!(
                    "Error: invalid port ({num}): strconv.ParseUint: parsing {num:?}: value out of range"
                );
            }
            out = frontends(&ports[format!("{num}/{proto}")]);
            if out.is_empty() {
                bail!("Error: No public port '{p}' published for {container}");
            }
        }
        None => {
            for (from, v) in ports.as_object().into_iter().flatten() {
                out.extend(frontends(v).into_iter().map(|f| format!("{from} -> {f}")));
            }
        }
    }
    out.sort_by(|a, b| natural_cmp(a, b));
    Ok(out)
}

/// `sortorder.NaturalLess` as an ordering: runs of digits compare as numbers (fewer leading
/// zeros first when equal), digits sort before other bytes.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (da, db) = (a[i].is_ascii_digit(), b[j].is_ascii_digit());
        if da != db {
            return if da {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        if !da {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
            continue;
        }
        let (zi, zj) = (i, j);
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let (si, sj) = (i, j);
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let ord = (i - si)
            .cmp(&(j - sj))
            .then_with(|| a[si..i].cmp(&b[sj..j]))
            .then_with(|| (si - zi).cmp(&(sj - zj)));
        if ord != Ordering::Equal {
            return ord;
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ports() -> Value {
        json!({
            "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}],
            "9000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "9000"}],
            "443/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32768"}],
            "53/udp": [{"HostIp": "0.0.0.0", "HostPort": "53"}],
            "81/udp": null,
            "82/tcp": [],
        })
    }

    #[test]
    fn every_binding_naturally_sorted() {
        assert_eq!(
            port_lines(&ports(), "web", None).unwrap(),
            [
                "53/udp -> 0.0.0.0:53",
                "80/tcp -> 0.0.0.0:8080",
                "80/tcp -> [::]:8080",
                "443/tcp -> 0.0.0.0:32768",
                "9000/tcp -> 127.0.0.1:9000",
            ]
        );
        assert!(port_lines(&json!({}), "web", None).unwrap().is_empty());
        assert!(port_lines(&Value::Null, "web", None).unwrap().is_empty());
    }

    #[test]
    fn one_port() {
        assert_eq!(
            port_lines(&ports(), "web", Some("80")).unwrap(),
            ["0.0.0.0:8080", "[::]:8080"]
        );
        assert_eq!(
            port_lines(&ports(), "web", Some("53/udp")).unwrap(),
            ["0.0.0.0:53"]
        );
        let err = |p: &str| {
            port_lines(&ports(), "web", Some(p))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("1234/tcp"),
            "Error: No public port '1234/tcp' published for web"
        );
        assert_eq!(
            err("1234"),
            "Error: No public port '1234' published for web"
        );
        assert_eq!(
            err("81/udp"),
            "Error: No public port '81/udp' published for web"
        );
        assert_eq!(err("53"), "Error: No public port '53' published for web");
        assert_eq!(
            err("abc"),
            "Error: invalid port (abc): strconv.ParseUint: parsing \"abc\": invalid syntax"
        );
        assert_eq!(
            err("70000/tcp"),
            "Error: invalid port (70000): strconv.ParseUint: parsing \"70000\": value out of range"
        );
    }

    #[test]
    fn natural_order() {
        use std::cmp::Ordering::*;
        assert_eq!(natural_cmp("9/tcp", "10/tcp"), Less);
        assert_eq!(natural_cmp("a2", "a10"), Less);
        assert_eq!(natural_cmp("a010", "a10"), Greater);
        assert_eq!(natural_cmp("1a", "a"), Less);
        assert_eq!(natural_cmp("ab", "abc"), Less);
        assert_eq!(natural_cmp("x", "x"), Equal);
    }
}
