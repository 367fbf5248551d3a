//! Short syntaxes rewritten to the long ones (`"8080:80"` → `{published, target}`), file by
//! file before merging, so that merge rules and decoding see one form. Follows compose-go's
//! `transform` package, plus the list→map forms compose-go makes while decoding (environment,
//! labels, extra_hosts, ...), since berth's merge works on the tree. Keys it does not know are
//! left alone: decoding rejects them.

use indexmap::IndexMap;

use super::canonical_short::{device, port, volume};
use crate::load::{LoadError, Node, Value};

/// `file`'s tree with every short syntax in its long form.
pub fn canonicalize(mut file: Node) -> Result<Node, LoadError> {
    let Value::Map(top) = &mut file.value else {
        return Ok(file);
    };
    if let Some(Value::Map(services)) = top.get_mut("services").map(|n| &mut n.value) {
        for (name, svc) in services.iter_mut() {
            service(svc, &format!("services.{name}"))?;
        }
    }
    for kind in ["networks", "volumes", "secrets", "configs"] {
        if let Some(Value::Map(resources)) = top.get_mut(kind).map(|n| &mut n.value) {
            for (name, res) in resources.iter_mut() {
                external(res, &format!("{kind}.{name}"))?;
            }
        }
    }
    Ok(file)
}

/// One service's keys.
fn service(svc: &mut Node, key: &str) -> Result<(), LoadError> {
    let Value::Map(m) = &mut svc.value else {
        return Ok(());
    };
    for (k, v) in m.iter_mut() {
        let key = format!("{key}.{k}");
        match k.as_str() {
            "build" => build(v, &key)?,
            "ports" => ports(v, &key)?,
            "volumes" => each(v, &key, volume)?,
            "environment" => key_values(v, &key)?,
            "labels" | "annotations" | "sysctls" => key_values(v, &key)?,
            "extra_hosts" => hosts(v, &key)?,
            "depends_on" => depends_on(v, &key)?,
            "networks" => names_to_map(v),
            "secrets" | "configs" => each(v, &key, source)?,
            "env_file" => env_file(v, &key)?,
            "ulimits" => ulimits(v, &key)?,
            "devices" => each(v, &key, device)?,
            "dns" | "dns_search" | "tmpfs" => string_to_list(v),
            "deploy" => deploy(v, &key)?,
            _ => {}
        }
    }
    Ok(())
}

/// `build`: a string is the context.
fn build(v: &mut Node, key: &str) -> Result<(), LoadError> {
    if v.as_str().is_some() {
        let context = std::mem::replace(v, Node::new(Value::Null));
        *v = map_like(&context, vec![("context", untagged(&context))]);
        v.tag = context.tag;
        return Ok(());
    }
    let Value::Map(m) = &mut v.value else {
        return null_or(v, key, "invalid type for build");
    };
    for (k, v) in m.iter_mut() {
        let key = format!("{key}.{k}");
        match k.as_str() {
            "args" | "labels" | "additional_contexts" => key_values(v, &key)?,
            "extra_hosts" => hosts(v, &key)?,
            "cache_from" | "cache_to" | "tags" | "platforms" => string_to_list(v),
            "ulimits" => ulimits(v, &key)?,
            "secrets" => each(v, &key, source)?,
            _ => {}
        }
    }
    Ok(())
}

/// `ports`: each short entry may become several long ones (ranges).
fn ports(v: &mut Node, key: &str) -> Result<(), LoadError> {
    let Value::Seq(items) = &mut v.value else {
        return null_or(v, key, "invalid type for port");
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.drain(..).enumerate() {
        match &item.value {
            Value::Map(_) => out.push(item),
            Value::Scalar(s) => {
                let parsed =
                    port(&s.text).map_err(|e| LoadError::at(&item, format!("{key}.{i}"), e))?;
                out.extend(parsed.into_iter().map(|fields| map_like(&item, fields)));
            }
            _ => {
                return Err(LoadError::at(
                    &item,
                    format!("{key}.{i}"),
                    "invalid type for port",
                ));
            }
        }
    }
    *items = out;
    Ok(())
}

/// Applies `f` to every scalar entry of a list; maps are already long.
fn each(
    v: &mut Node,
    key: &str,
    f: fn(&str) -> Result<super::canonical_short::Fields, String>,
) -> Result<(), LoadError> {
    let Value::Seq(items) = &mut v.value else {
        return Ok(());
    };
    for (i, item) in items.iter_mut().enumerate() {
        if let Value::Scalar(s) = &item.value {
            let fields = f(&s.text).map_err(|e| LoadError::at(item, format!("{key}.{i}"), e))?;
            *item = map_like(item, fields);
        }
    }
    Ok(())
}

/// A secret or config by name.
fn source(s: &str) -> Result<Vec<(&'static str, Node)>, String> {
    Ok(vec![("source", Node::string(s))])
}

/// `["A=B", "C"]` → `{A: B, C: null}`; a map stays.
fn key_values(v: &mut Node, key: &str) -> Result<(), LoadError> {
    let Value::Seq(items) = &v.value else {
        return Ok(());
    };
    let mut m = IndexMap::new();
    for (i, item) in items.iter().enumerate() {
        let Some(text) = item.as_str() else {
            return Err(LoadError::at(
                item,
                format!("{key}.{i}"),
                "must be a string",
            ));
        };
        let value = match text.split_once('=') {
            Some((k, val)) => (k, Node::string(val).at(item)),
            None => (text, Node::new(Value::Null).at(item)),
        };
        m.insert(value.0.to_owned(), value.1);
    }
    v.value = Value::Map(m);
    Ok(())
}

/// `extra_hosts: ["h:1.2.3.4", "h=::1"]` → `{h: ["1.2.3.4", "::1"]}`; in a map, a single
/// address becomes a list of one.
fn hosts(v: &mut Node, key: &str) -> Result<(), LoadError> {
    match &mut v.value {
        Value::Seq(items) => {
            let mut m: IndexMap<String, Node> = IndexMap::new();
            for (i, item) in items.iter().enumerate() {
                let text = item.as_str().unwrap_or_default();
                let Some((host, ips)) = text.split_once('=').or_else(|| text.split_once(':'))
                else {
                    let msg = format!("invalid additional host, missing IP: {text}");
                    return Err(LoadError::at(item, format!("{key}.{i}"), msg));
                };
                let entry = m
                    .entry(host.to_owned())
                    .or_insert_with(|| Node::new(Value::Seq(Vec::new())).at(item));
                if let Value::Seq(list) = &mut entry.value {
                    list.extend(ips.split(',').map(|ip| Node::string(ip).at(item)));
                }
            }
            v.value = Value::Map(m);
        }
        Value::Map(m) => {
            for ips in m.values_mut() {
                if let Value::Scalar(_) = ips.value {
                    ips.value = Value::Seq(vec![untagged(ips)]);
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// `depends_on: [a]` → `{a: {condition: service_started, required: true}}`; defaults filled
/// in the long form too.
fn depends_on(v: &mut Node, key: &str) -> Result<(), LoadError> {
    if let Value::Seq(items) = &v.value {
        let mut m = IndexMap::new();
        for item in items {
            let Some(name) = item.as_str() else {
                return Err(LoadError::at(item, key, "invalid type for depends_on"));
            };
            m.insert(
                name.to_owned(),
                Node::new(Value::Map(IndexMap::new())).at(item),
            );
        }
        v.value = Value::Map(m);
    }
    let Value::Map(m) = &mut v.value else {
        return null_or(v, key, "invalid type for depends_on");
    };
    for (name, dep) in m.iter_mut() {
        if matches!(dep.value, Value::Null) {
            dep.value = Value::Map(IndexMap::new());
        }
        let pos = dep.clone();
        let Value::Map(d) = &mut dep.value else {
            return Err(LoadError::at(
                dep,
                format!("{key}.{name}"),
                "unsupported value",
            ));
        };
        d.entry("condition".into())
            .or_insert_with(|| Node::scalar("service_started").at(&pos));
        d.entry("required".into())
            .or_insert_with(|| Node::scalar("true").at(&pos));
    }
    Ok(())
}

/// `networks: [a, b]` → `{a: null, b: null}`.
fn names_to_map(v: &mut Node) {
    if let Value::Seq(items) = &v.value {
        let m = items
            .iter()
            .filter_map(|i| Some((i.as_str()?.to_owned(), Node::new(Value::Null).at(i))))
            .collect();
        v.value = Value::Map(m);
    }
}

/// `env_file: a` → `[{path: a, required: true}]`.
fn env_file(v: &mut Node, key: &str) -> Result<(), LoadError> {
    if v.as_str().is_some() {
        v.value = Value::Seq(vec![untagged(v)]);
    }
    let Value::Seq(items) = &mut v.value else {
        return null_or(v, key, "invalid type for env_file");
    };
    for item in items.iter_mut() {
        match &mut item.value {
            Value::Scalar(_) => {
                let fields = vec![("path", untagged(item)), ("required", Node::scalar("true"))];
                *item = map_like(item, fields);
            }
            Value::Map(m) => {
                m.entry("required".into())
                    .or_insert_with(|| Node::scalar("true"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// `ulimits: {nofile: 1024}` → `{nofile: {soft: 1024, hard: 1024}}`.
fn ulimits(v: &mut Node, key: &str) -> Result<(), LoadError> {
    let Value::Map(m) = &mut v.value else {
        return Ok(());
    };
    for (name, limit) in m.iter_mut() {
        match &limit.value {
            Value::Scalar(_) => {
                let fields = vec![("soft", untagged(limit)), ("hard", untagged(limit))];
                *limit = map_like(limit, fields);
            }
            Value::Map(_) => {}
            _ => {
                let msg = "invalid type for ulimit";
                return Err(LoadError::at(limit, format!("{key}.{name}"), msg));
            }
        }
    }
    Ok(())
}

/// `deploy.labels` as a map.
fn deploy(v: &mut Node, key: &str) -> Result<(), LoadError> {
    if let Value::Map(m) = &mut v.value
        && let Some(labels) = m.get_mut("labels")
    {
        key_values(labels, &format!("{key}.labels"))?;
    }
    Ok(())
}

/// A string where a list is allowed: a list of one.
fn string_to_list(v: &mut Node) {
    if let Value::Scalar(_) = v.value {
        v.value = Value::Seq(vec![untagged(v)]);
    }
}

/// `external: {name: x}` (deprecated) → `external: true, name: x`.
fn external(res: &mut Node, key: &str) -> Result<(), LoadError> {
    let Value::Map(m) = &mut res.value else {
        return Ok(());
    };
    let Some(ext) = m.get_mut("external") else {
        return Ok(());
    };
    let Value::Map(e) = &ext.value else {
        return Ok(());
    };
    let ext_name = e.get("name").cloned();
    ext.value = Value::Scalar(crate::load::Scalar {
        text: "true".into(),
        quoted: false,
    });
    if let Some(ext_name) = ext_name {
        match m.get("name") {
            Some(name) if name.as_str() != ext_name.as_str() => {
                let msg = "name and external.name conflict; only use name";
                return Err(LoadError::at(res, key, msg));
            }
            Some(_) => {}
            None => {
                m.insert("name".into(), ext_name);
            }
        }
    }
    Ok(())
}

/// A copy of `n` without its tag: the tag (`!reset`, `!override`) stays on the key's node.
fn untagged(n: &Node) -> Node {
    Node {
        tag: None,
        ..n.clone()
    }
}

/// `null` is left for the loader (`!reset`) and decoding; anything else is the error.
fn null_or(v: &Node, key: &str, message: &str) -> Result<(), LoadError> {
    match v.value {
        Value::Null => Ok(()),
        _ => Err(LoadError::at(v, key, message)),
    }
}

/// A map node with `like`'s position.
fn map_like(like: &Node, fields: Vec<(&str, Node)>) -> Node {
    let m = fields
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.at(like)))
        .collect();
    Node::new(Value::Map(m)).at(like)
}

trait At {
    fn at(self, like: &Node) -> Self;
}

impl At for Node {
    /// The node (and what it holds), positioned where `like` was written unless it has a
    /// position already.
    fn at(mut self, like: &Node) -> Node {
        if self.pos.is_none() {
            self.pos = like.pos.clone();
        }
        match &mut self.value {
            Value::Map(m) => m.values_mut().for_each(|v| place(v, like)),
            Value::Seq(s) => s.iter_mut().for_each(|v| place(v, like)),
            _ => {}
        }
        self
    }
}

fn place(v: &mut Node, like: &Node) {
    let taken = std::mem::replace(v, Node::new(Value::Null));
    *v = taken.at(like);
}
