//! compose-go's `EnforceUnicity`: after a merge, sequences whose items have an identity
//! (a port, a mount target, an environment variable) keep one item per identity: the
//! first one's place, the last one's value.

use std::collections::HashMap;

use super::merge::matches;
use super::node::{LoadError, Node, Value};

#[derive(Clone, Copy)]
enum Index {
    KeyValue,
    Volume,
    Device,
    Expose,
    Mount(&'static str),
    Port,
    EnvFile,
}

const UNIQUE: &[(&str, Index)] = &[
    ("networks.*.labels", Index::KeyValue),
    ("networks.*.ipam.options", Index::KeyValue),
    ("services.*.annotations", Index::KeyValue),
    ("services.*.build.args", Index::KeyValue),
    ("services.*.build.additional_contexts", Index::KeyValue),
    ("services.*.build.platform", Index::KeyValue),
    ("services.*.build.tags", Index::KeyValue),
    ("services.*.build.labels", Index::KeyValue),
    ("services.*.cap_add", Index::KeyValue),
    ("services.*.cap_drop", Index::KeyValue),
    ("services.*.configs", Index::Mount("")),
    ("services.*.deploy.labels", Index::KeyValue),
    ("services.*.dns", Index::KeyValue),
    ("services.*.dns_opt", Index::KeyValue),
    ("services.*.dns_search", Index::KeyValue),
    ("services.*.environment", Index::KeyValue),
    ("services.*.env_file", Index::EnvFile),
    ("services.*.expose", Index::Expose),
    ("services.*.labels", Index::KeyValue),
    ("services.*.links", Index::KeyValue),
    ("services.*.networks.*.aliases", Index::KeyValue),
    ("services.*.networks.*.link_local_ips", Index::KeyValue),
    ("services.*.ports", Index::Port),
    ("services.*.profiles", Index::KeyValue),
    ("services.*.secrets", Index::Mount("/run/secrets")),
    ("services.*.sysctls", Index::KeyValue),
    ("services.*.tmpfs", Index::KeyValue),
    ("services.*.volumes", Index::Volume),
    ("services.*.devices", Index::Device),
];

/// Removes redefinitions from the sequences listed above, anywhere in `tree`.
pub fn enforce_unicity(tree: &mut Node) -> Result<(), LoadError> {
    walk(tree, &mut Vec::new())
}

fn walk(node: &mut Node, path: &mut Vec<String>) -> Result<(), LoadError> {
    match &mut node.value {
        Value::Map(m) => {
            for (k, v) in m.iter_mut() {
                path.push(k.clone());
                let r = walk(v, path);
                path.pop();
                r?;
            }
            Ok(())
        }
        Value::Seq(items) => {
            let Some((_, index)) = UNIQUE.iter().find(|(p, _)| matches(path, p)) else {
                return Ok(());
            };
            let mut out: Vec<Node> = Vec::with_capacity(items.len());
            let mut seen: HashMap<String, usize> = HashMap::new();
            for (i, item) in std::mem::take(items).into_iter().enumerate() {
                let key = identity(*index, &item, &format!("{}.[{i}]", path.join(".")))?;
                match seen.get(&key) {
                    Some(&j) => out[j] = item,
                    None => {
                        seen.insert(key, out.len());
                        out.push(item);
                    }
                }
            }
            *items = out;
            Ok(())
        }
        _ => Ok(()),
    }
}

fn text<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    node.get(key).and_then(Node::as_str)
}

fn identity(index: Index, item: &Node, at: &str) -> Result<String, LoadError> {
    let err = |m: String| LoadError::at_pos(item.pos.clone(), m);
    let scalar = item.as_str();
    let is_map = item.as_map().is_some();
    Ok(match index {
        Index::KeyValue => match scalar {
            Some(s) => s.split_once('=').map_or(s, |(k, _)| k).to_string(),
            None => return Err(err(format!("{at}: unexpected type"))),
        },
        Index::Expose => match scalar {
            Some(s) => s.to_string(),
            None => return Err(err(format!("{at}: unsupported expose value"))),
        },
        Index::Volume | Index::Device if is_map => match text(item, "target") {
            Some(t) => t.to_string(),
            None => {
                let what = if matches!(index, Index::Volume) {
                    "volume"
                } else {
                    "device"
                };
                return Err(err(format!(
                    "service {what} {at} is missing a mount target"
                )));
            }
        },
        Index::Volume | Index::Device => {
            let s = scalar.unwrap_or_default();
            let mut parts = s.split(':');
            let first = parts.next().unwrap_or_default();
            parts.next().unwrap_or(first).to_string()
        }
        Index::Mount(dir) if is_map => match text(item, "target") {
            Some(t) => t.to_string(),
            None => format!("{dir}/{}", text(item, "source").unwrap_or_default()),
        },
        Index::Mount(dir) => match scalar {
            Some(s) => format!("{dir}/{s}"),
            None => return Err(err(format!("{at}: unsupported expose value"))),
        },
        Index::Port if is_map => {
            let Some(target) = text(item, "target") else {
                return Err(err(format!("service ports {at} is missing a target port")));
            };
            format!(
                "{}:{}:{target}/{}",
                text(item, "host_ip").unwrap_or("0.0.0.0"),
                text(item, "published").unwrap_or_default(),
                text(item, "protocol").unwrap_or("tcp"),
            )
        }
        Index::Port => scalar.unwrap_or_default().to_string(),
        Index::EnvFile if is_map => match text(item, "path") {
            Some(p) => p.to_string(),
            None => return Err(err(format!("environment path attribute {at} is missing"))),
        },
        Index::EnvFile => scalar.unwrap_or_default().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn unique(text: &str) -> serde_json::Value {
        let mut n = super::super::yaml::parse(Path::new("/c.yaml"), text).unwrap();
        enforce_unicity(&mut n).unwrap();
        n.to_json()["services"]["web"].clone()
    }

    #[test]
    fn last_value_first_place() {
        let web = unique(
            "services: {web: {environment: [A=1, B=2, A=3], cap_add: [X, Y, X], command: [a, a]}}",
        );
        assert_eq!(web["environment"], serde_json::json!(["A=3", "B=2"]));
        assert_eq!(web["cap_add"], serde_json::json!(["X", "Y"]));
        assert_eq!(web["command"], serde_json::json!(["a", "a"]));
    }

    #[test]
    fn ports_volumes_secrets() {
        let web = unique(
            "services: {web: {\
             ports: [{target: '80', published: '8080'}, {target: '80', published: '8081'}, \
                     {target: '80', published: '8080', protocol: tcp, mode: host}], \
             volumes: [{type: bind, source: /a, target: /data}, {type: volume, source: v, target: /data}], \
             secrets: [{source: s}, {source: t, target: /run/secrets/s}]}}",
        );
        assert_eq!(
            web["ports"],
            serde_json::json!([
                {"target": "80", "published": "8080", "protocol": "tcp", "mode": "host"},
                {"target": "80", "published": "8081"}
            ])
        );
        assert_eq!(
            web["volumes"],
            serde_json::json!([{"type": "volume", "source": "v", "target": "/data"}])
        );
        assert_eq!(
            web["secrets"],
            serde_json::json!([{"source": "t", "target": "/run/secrets/s"}])
        );
    }

    #[test]
    fn port_without_target_is_an_error() {
        let mut n = super::super::yaml::parse(
            Path::new("/c.yaml"),
            "services: {web: {ports: [{published: '1'}]}}",
        )
        .unwrap();
        let e = enforce_unicity(&mut n).unwrap_err();
        assert_eq!(
            e.message,
            "service ports services.web.ports.[0] is missing a target port"
        );
    }
}
