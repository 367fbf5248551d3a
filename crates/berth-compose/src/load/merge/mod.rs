//! Merging one compose tree over another, by compose-go's `override` rules: mappings merge
//! key by key, sequences append, scalars are replaced, and some keys have rules of their own
//! (`command` is replaced, `environment` merges by variable, `depends_on` by service...).
//! Duplicates left in sequences are removed afterwards by [`crate::load::unique`].

use indexmap::IndexMap;

use super::node::{LoadError, Node, Pos, Value};

mod shapes;

use shapes::{NameDefault, build_map, concat, names_to_map, to_sequence};

#[derive(Clone, Copy)]
enum Rule {
    /// The override replaces the base, even when it is null.
    Replace,
    /// `KEY=value` lists or mappings: by key, override wins.
    KeyValue,
    /// A string or a list: appended.
    Sequence,
    /// Like [`Rule::KeyValue`] for mappings; lists drop exact duplicates.
    ExtraHosts,
    /// `build: ctx` is `{context: ctx}`; then a mapping merge.
    Build,
    /// A list of names is a mapping of names to `default`; then a mapping merge.
    NamesToMap(NameDefault),
    /// Options merge only when both name the same driver (or one names none).
    Logging,
    /// compose-go merges the override with itself: the override wins.
    Ulimit,
    /// Entries matched by `subnet`.
    IpamConfig,
}

const RULES: &[(&str, Rule)] = &[
    ("networks.*.ipam.config", Rule::IpamConfig),
    ("networks.*.labels", Rule::KeyValue),
    ("volumes.*.labels", Rule::KeyValue),
    ("services.*.annotations", Rule::KeyValue),
    ("services.*.build", Rule::Build),
    ("services.*.build.args", Rule::KeyValue),
    ("services.*.build.additional_contexts", Rule::KeyValue),
    ("services.*.build.extra_hosts", Rule::ExtraHosts),
    ("services.*.build.labels", Rule::KeyValue),
    ("services.*.command", Rule::Replace),
    (
        "services.*.depends_on",
        Rule::NamesToMap(NameDefault::DependsOn),
    ),
    ("services.*.deploy.labels", Rule::KeyValue),
    ("services.*.dns", Rule::Sequence),
    ("services.*.dns_opt", Rule::Sequence),
    ("services.*.dns_search", Rule::Sequence),
    ("services.*.entrypoint", Rule::Replace),
    ("services.*.env_file", Rule::Sequence),
    ("services.*.label_file", Rule::Sequence),
    ("services.*.environment", Rule::KeyValue),
    ("services.*.extra_hosts", Rule::ExtraHosts),
    ("services.*.healthcheck.test", Rule::Replace),
    ("services.*.labels", Rule::KeyValue),
    ("services.*.volumes.*.volume.labels", Rule::KeyValue),
    ("services.*.logging", Rule::Logging),
    ("services.*.models", Rule::NamesToMap(NameDefault::Null)),
    ("services.*.networks", Rule::NamesToMap(NameDefault::Null)),
    ("services.*.sysctls", Rule::KeyValue),
    ("services.*.tmpfs", Rule::Sequence),
    ("services.*.ulimits.*", Rule::Ulimit),
];

/// Whether `path` (map keys from the top) matches `pattern` (`services.*.ports`).
pub(crate) fn matches(path: &[String], pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split('.').collect();
    parts.len() == path.len() && parts.iter().zip(path).all(|(p, k)| *p == "*" || p == k)
}

/// `over` merged onto `base` (both whole files, or two services for `extends`, with
/// `path` saying where they are: `[]` for files, `["services", "x"]` for services).
pub fn merge(base: Node, over: Node, path: &[String]) -> Result<Node, LoadError> {
    let mut path = path.to_vec();
    merge_at(base, over, &mut path)
}

fn merge_at(base: Node, over: Node, path: &mut Vec<String>) -> Result<Node, LoadError> {
    if let Some((_, rule)) = RULES.iter().find(|(p, _)| matches(path, p)) {
        return special(*rule, base, over, path);
    }
    if over.is_null() {
        return Ok(base);
    }
    match (base.value, over.value) {
        (Value::Map(b), Value::Map(o)) => Ok(Node {
            value: Value::Map(merge_maps(b, o, path)?),
            pos: over.pos,
            tag: over.tag,
        }),
        (Value::Map(_), _) => Err(cannot_override(over.pos, path)),
        (Value::Seq(mut b), Value::Seq(o)) => {
            b.extend(o);
            Ok(Node {
                value: Value::Seq(b),
                pos: over.pos,
                tag: over.tag,
            })
        }
        (Value::Seq(_), _) => Err(cannot_override(over.pos, path)),
        (_, value) => Ok(Node {
            value,
            pos: over.pos,
            tag: over.tag,
        }),
    }
}

fn cannot_override(pos: Option<Pos>, path: &[String]) -> LoadError {
    LoadError::at_pos(pos, format!("cannot override {}", path.join(".")))
}

fn merge_maps(
    mut base: IndexMap<String, Node>,
    over: IndexMap<String, Node>,
    path: &mut Vec<String>,
) -> Result<IndexMap<String, Node>, LoadError> {
    for (k, v) in over {
        match base.get_mut(&k) {
            None => {
                base.insert(k, v);
            }
            Some(slot) => {
                let e = std::mem::replace(slot, Node::new(Value::Null));
                path.push(k);
                let merged = merge_at(e, v, path);
                path.pop();
                *slot = merged?;
            }
        }
    }
    Ok(base)
}

fn special(rule: Rule, base: Node, over: Node, path: &mut Vec<String>) -> Result<Node, LoadError> {
    match rule {
        Rule::Replace | Rule::Ulimit => Ok(over),
        Rule::KeyValue => key_value(base, over),
        Rule::Sequence => Ok(concat(to_sequence(base), to_sequence(over))),
        Rule::ExtraHosts => match (base.value, over.value) {
            (Value::Map(b), Value::Map(o)) => Ok(Node {
                value: Value::Map(shapes::union_hosts(b, o)),
                pos: over.pos,
                tag: None,
            }),
            (b, o) => {
                let base = to_sequence(Node {
                    value: b,
                    pos: base.pos,
                    tag: None,
                });
                let over = to_sequence(Node {
                    value: o,
                    pos: over.pos,
                    tag: None,
                });
                Ok(shapes::union_items(base, over))
            }
        },
        Rule::Build => {
            let base = build_map(base);
            let over = build_map(over);
            map_merge(base, over, path)
        }
        Rule::NamesToMap(d) => map_merge(names_to_map(base, d), names_to_map(over, d), path),
        Rule::Logging => {
            let same = match (base.get("driver"), over.get("driver")) {
                (Some(a), Some(b)) => a.value == b.value,
                _ => true,
            };
            if same {
                map_merge(base, over, path)
            } else {
                Ok(over)
            }
        }
        Rule::IpamConfig => ipam_config(base, over, path),
    }
}

/// A mapping merge of two nodes that may be null.
fn map_merge(base: Node, over: Node, path: &mut Vec<String>) -> Result<Node, LoadError> {
    match (base.value, over.value) {
        (Value::Map(b), Value::Map(o)) => Ok(Node {
            value: Value::Map(merge_maps(b, o, path)?),
            pos: over.pos,
            tag: None,
        }),
        (b, Value::Null) => Ok(Node {
            value: b,
            pos: base.pos,
            tag: None,
        }),
        (_, o) => Ok(Node {
            value: o,
            pos: over.pos,
            tag: None,
        }),
    }
}

/// Mappings merge by key (an override's null replaces too); otherwise both become
/// `KEY=value` lists, appended, and [`crate::load::unique`] keeps the last of each key.
fn key_value(base: Node, over: Node) -> Result<Node, LoadError> {
    match (base.value, over.value) {
        (Value::Map(mut b), Value::Map(o)) => {
            for (k, v) in o {
                b.insert(k, v);
            }
            Ok(Node {
                value: Value::Map(b),
                pos: over.pos,
                tag: None,
            })
        }
        (b, o) => {
            let base = Node {
                value: b,
                pos: base.pos,
                tag: None,
            };
            let over = Node {
                value: o,
                pos: over.pos,
                tag: None,
            };
            Ok(concat(to_sequence(base), to_sequence(over)))
        }
    }
}

/// Override entries replace (merged) the base entry with the same subnet; others append.
fn ipam_config(base: Node, over: Node, path: &mut Vec<String>) -> Result<Node, LoadError> {
    let (Value::Seq(b), Value::Seq(o)) = (&base.value, &over.value) else {
        return Err(LoadError::at_pos(
            over.pos.clone(),
            format!("{}: unexpected type", path.join(".")),
        ));
    };
    let mut out = b.clone();
    for entry in o {
        let subnet = entry.get("subnet").map(|s| s.value.clone());
        match out
            .iter()
            .position(|e| e.get("subnet").map(|s| s.value.clone()) == subnet)
        {
            Some(i) => {
                let e = std::mem::replace(&mut out[i], Node::new(Value::Null));
                out[i] = map_merge(e, entry.clone(), path)?;
            }
            None => out.push(entry.clone()),
        }
    }
    Ok(Node {
        value: Value::Seq(out),
        pos: over.pos,
        tag: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn tree(text: &str) -> Node {
        super::super::yaml::parse(Path::new("/c.yaml"), text).unwrap()
    }

    fn merged(a: &str, b: &str) -> serde_json::Value {
        merge(tree(a), tree(b), &[]).unwrap().to_json()
    }

    #[test]
    fn mappings_merge_and_scalars_replace() {
        let v = merged(
            "services: {web: {image: a, user: u}}",
            "services: {web: {image: b}, db: {image: c}}",
        );
        assert_eq!(
            v,
            serde_json::json!({"services": {"web": {"image": "b", "user": "u"}, "db": {"image": "c"}}})
        );
    }

    #[test]
    fn command_is_replaced_sequences_append() {
        let v = merged(
            "services: {web: {command: [a, b], ports: [{target: '80'}], cap_add: [X]}}",
            "services: {web: {command: [c], ports: [{target: '81'}], cap_add: [Y]}}",
        );
        let web = &v["services"]["web"];
        assert_eq!(web["command"], serde_json::json!(["c"]));
        assert_eq!(
            web["ports"],
            serde_json::json!([{"target": "80"}, {"target": "81"}])
        );
        assert_eq!(web["cap_add"], serde_json::json!(["X", "Y"]));
    }

    #[test]
    fn environment_by_key_null_overrides() {
        let v = merged(
            "services: {web: {environment: {A: '1', B: '2'}}}",
            "services: {web: {environment: {B: '3', A: ~}}}",
        );
        assert_eq!(
            v["services"]["web"]["environment"],
            serde_json::json!({"A": null, "B": "3"})
        );
        let v = merged(
            "services: {web: {environment: [A=1]}}",
            "services: {web: {environment: {B: '2'}}}",
        );
        assert_eq!(
            v["services"]["web"]["environment"],
            serde_json::json!(["A=1", "B=2"])
        );
    }

    #[test]
    fn special_shapes() {
        let v = merged(
            "services: {web: {build: ., depends_on: [db], networks: [front]}}",
            "services: {web: {build: {dockerfile: D}, depends_on: {db: {condition: service_healthy}}, networks: {back: {}}}}",
        );
        let web = &v["services"]["web"];
        assert_eq!(
            web["build"],
            serde_json::json!({"context": ".", "dockerfile": "D"})
        );
        assert_eq!(
            web["depends_on"],
            serde_json::json!({"db": {"condition": "service_healthy", "required": "true"}})
        );
        assert_eq!(
            web["networks"],
            serde_json::json!({"front": null, "back": {}})
        );
    }

    // compose-go override/merge_extra_hosts_test.go, in the mapping form.
    #[test]
    fn extra_hosts_keep_every_address() {
        let v = merged(
            "services: {test: {extra_hosts: {example.com: 1.2.3.4}}}",
            "services: {test: {extra_hosts: {localhost: 127.0.0.1, example.com: [1.2.3.4, 4.3.2.1]}}}",
        );
        assert_eq!(
            v["services"]["test"]["extra_hosts"],
            serde_json::json!({"example.com": ["1.2.3.4", "4.3.2.1"], "localhost": "127.0.0.1"})
        );
        let v = merged(
            "services: {test: {extra_hosts: [example.com=1.2.3.4]}}",
            "services: {test: {extra_hosts: [localhost=127.0.0.1, example.com=1.2.3.4, example.com=4.3.2.1]}}",
        );
        assert_eq!(
            v["services"]["test"]["extra_hosts"],
            serde_json::json!([
                "example.com=1.2.3.4",
                "localhost=127.0.0.1",
                "example.com=4.3.2.1"
            ])
        );
    }

    // compose-go override/merge_ulimits_test.go: the override's entry wins whole.
    #[test]
    fn ulimits_are_replaced() {
        let v = merged(
            "services: {test: {ulimits: {nofile: {soft: 20000, hard: 40000}, nproc: 65535}}}",
            "services: {test: {ulimits: {nofile: {soft: 10000}, nproc: {soft: 65535}}}}",
        );
        assert_eq!(
            v["services"]["test"]["ulimits"],
            serde_json::json!({"nofile": {"soft": "10000"}, "nproc": {"soft": "65535"}})
        );
    }

    #[test]
    fn logging_drivers() {
        let v = merged(
            "services: {web: {logging: {driver: json-file, options: {a: '1'}}}}",
            "services: {web: {logging: {driver: syslog}}}",
        );
        assert_eq!(
            v["services"]["web"]["logging"],
            serde_json::json!({"driver": "syslog"})
        );
        let v = merged(
            "services: {web: {logging: {driver: json-file, options: {a: '1'}}}}",
            "services: {web: {logging: {options: {b: '2'}}}}",
        );
        assert_eq!(
            v["services"]["web"]["logging"],
            serde_json::json!({"driver": "json-file", "options": {"a": "1", "b": "2"}})
        );
    }

    #[test]
    fn map_over_scalar_is_an_error() {
        let e = merge(
            tree("services: {web: {healthcheck: {x: 1}}}"),
            tree("services: {web: {healthcheck: []}}"),
            &[],
        )
        .unwrap_err();
        assert_eq!(e.message, "cannot override services.web.healthcheck");
    }
}
