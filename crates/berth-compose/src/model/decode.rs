//! The canonical tree decoded into a [`Project`]: keys berth can't honour refused by name,
//! unknown keys refused with compose's wording, `x-*` kept aside, then every service and
//! resource decoded on its own so an error names where it is.

use indexmap::IndexMap;
use serde::de::DeserializeOwned;

use super::decode_keys::{FREE_FORM, LOADER_KEYS, UNSUPPORTED_SERVICE_KEYS, unsupported_nested};
use super::project::Project;
use super::service::Service;
use crate::load::{LoadError, Node, Value};

/// The top-level keys of the resources decoded as maps of one type each.
const RESOURCES: &[&str] = &["networks", "volumes", "secrets", "configs"];

/// A decoded project and what the user should be told about it.
#[derive(Clone, Debug, Default)]
pub struct Decoded {
    /// The project ([`decode`] alone: not normalised nor validated; [`super::project()`] does all).
    pub project: Project,
    /// Warnings for the user, to print as compose does (the loader's come first).
    pub warnings: Vec<String>,
}

/// Decodes the canonical, merged tree of project `name`.
pub fn decode(name: &str, tree: &Node) -> Result<Decoded, LoadError> {
    let Some(top) = tree.as_map() else {
        return Err(LoadError::at(
            tree,
            "",
            "Top-level object must be a mapping",
        ));
    };
    let mut out = Decoded::default();
    out.project.name = name.to_owned();
    for (key, value) in top {
        match key.as_str() {
            // `version` is obsolete: the loader warns, per file, as compose does.
            "name" | "include" | "version" => {}
            "services" => out.project.services = services(value)?,
            k if RESOURCES.contains(&k) => resources(&mut out.project, k, value)?,
            k if k.starts_with("x-") => {
                out.project.extensions.insert(key.clone(), value.clone());
            }
            "models" => return Err(LoadError::at(value, key, "unsupported compose key")),
            _ => {
                let msg = format!("additional properties '{key}' not allowed");
                return Err(LoadError::at(tree, "(root)", msg));
            }
        }
    }
    Ok(out)
}

fn services(node: &Node) -> Result<IndexMap<String, Service>, LoadError> {
    let mut out = IndexMap::new();
    let Value::Map(m) = &node.value else {
        if matches!(node.value, Value::Null) {
            return Ok(out);
        }
        return Err(LoadError::at(
            node,
            "services",
            "services must be a mapping",
        ));
    };
    for (name, svc) in m {
        let key = format!("services.{name}");
        let mut service = service(svc, &key)?;
        service.name = name.clone();
        out.insert(name.clone(), service);
    }
    Ok(out)
}

fn service(node: &Node, key: &str) -> Result<Service, LoadError> {
    let mut fields = match &node.value {
        Value::Map(m) => m.clone(),
        Value::Null => IndexMap::new(),
        _ => return Err(LoadError::at(node, key, format!("{key} must be a mapping"))),
    };
    let extensions = take_extensions(&mut fields);
    for (k, v) in &fields {
        if UNSUPPORTED_SERVICE_KEYS.contains(&k.as_str()) {
            return Err(LoadError::at(
                v,
                format!("{key}.{k}"),
                "unsupported compose key",
            ));
        }
    }
    if let Some((k, v)) = unsupported_nested(node, key) {
        return Err(LoadError::at(v, k, "unsupported compose key"));
    }
    fields.retain(|k, _| !LOADER_KEYS.contains(&k.as_str()));
    let stripped = Node {
        value: Value::Map(fields),
        ..node.clone()
    };
    let mut service: Service = decode_at(&stripped, key)?;
    service.extensions = extensions;
    Ok(service)
}

fn resources(project: &mut Project, kind: &str, node: &Node) -> Result<(), LoadError> {
    let Value::Map(m) = &node.value else {
        if matches!(node.value, Value::Null) {
            return Ok(());
        }
        return Err(LoadError::at(
            node,
            kind,
            format!("{kind} must be a mapping"),
        ));
    };
    for (name, res) in m {
        let key = format!("{kind}.{name}");
        let mut res = res.clone();
        if let Value::Map(fields) = &mut res.value {
            // Extensions of resources are accepted and not kept (nothing reads them).
            take_extensions(fields);
        }
        check_external(&res, &key)?;
        let empty = matches!(res.value, Value::Null);
        let name = name.clone();
        match kind {
            "networks" => {
                let v = if empty {
                    Default::default()
                } else {
                    decode_at(&res, &key)?
                };
                project.networks.insert(name, v);
            }
            "volumes" => {
                let v = if empty {
                    Default::default()
                } else {
                    decode_at(&res, &key)?
                };
                project.volumes.insert(name, v);
            }
            "secrets" => {
                let v = if empty {
                    Default::default()
                } else {
                    decode_at(&res, &key)?
                };
                project.secrets.insert(name, v);
            }
            _ => {
                let v = if empty {
                    Default::default()
                } else {
                    decode_at(&res, &key)?
                };
                project.configs.insert(name, v);
            }
        }
    }
    Ok(())
}

/// An external resource is made elsewhere: it may only be named (compose-go's
/// `validation/external.go`).
fn check_external(res: &Node, key: &str) -> Result<(), LoadError> {
    let Some(m) = res.as_map() else {
        return Ok(());
    };
    let external = m.get("external").and_then(Node::as_str);
    if !external
        .and_then(super::lenient::parse_bool)
        .unwrap_or(false)
    {
        return Ok(());
    }
    match m
        .keys()
        .find(|k| !matches!(k.as_str(), "name" | "external"))
    {
        Some(k) => Err(LoadError::at(
            res,
            key,
            format!("conflicting parameters \"external\" and {k:?} specified"),
        )),
        None => Ok(()),
    }
}

/// Removes and returns the `x-*` keys of a mapping.
fn take_extensions(fields: &mut IndexMap<String, Node>) -> IndexMap<String, Node> {
    let ext: IndexMap<String, Node> = fields
        .iter()
        .filter(|(k, _)| k.starts_with("x-"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    fields.retain(|k, _| !k.starts_with("x-"));
    ext
}

/// Decodes `node` (at dotted `key`) into `T`; on failure, finds the deepest key that is wrong
/// by decoding the mapping's entries one at a time.
pub(crate) fn decode_at<T: DeserializeOwned>(node: &Node, key: &str) -> Result<T, LoadError> {
    match from_tree::<T>(node) {
        Ok(v) => Ok(v),
        Err(e) => Err(locate::<T>(node, key, e)),
    }
}

fn locate<T: DeserializeOwned>(node: &Node, key: &str, err: String) -> LoadError {
    if let Some(field) = unknown_field(&err)
        && let Some((path, at)) = find_key(node, key, &field)
    {
        let msg = format!("additional properties '{field}' not allowed");
        return LoadError::at(at, path, msg);
    }
    if let Value::Map(m) = &node.value {
        for (k, v) in m {
            let one = Node {
                value: Value::Map(IndexMap::from([(k.clone(), v.clone())])),
                ..node.clone()
            };
            if let Err(e) = from_tree::<T>(&one)
                && unknown_field(&e).is_none()
            {
                let key = format!("{key}.{k}");
                let e = missing_property(&e).unwrap_or(e);
                // The value the message quotes, when there is one, is where to point.
                let deeper = quoted(&e).and_then(|text| find_scalar(v, &key, text));
                let (key, at) = deeper.unwrap_or((key, v));
                return LoadError::at(at, key, e);
            }
        }
    }
    LoadError::at(node, key, err)
}

/// serde's "missing field `x`" in compose's words.
fn missing_property(err: &str) -> Option<String> {
    let rest = err.strip_prefix("missing field `")?;
    Some(format!("missing property '{}'", rest.split('`').next()?))
}

/// The last quoted fragment of a message (`... duration "3x"`, `invalid size: 'lots'`).
fn quoted(err: &str) -> Option<&str> {
    let end = err.rfind(['"', '\''])?;
    let q = err[end..].chars().next()?;
    let start = err[..end].rfind(q)?;
    Some(&err[start + 1..end])
}

/// The first scalar under `node` whose text is `text`, with its dotted key.
fn find_scalar<'a>(node: &'a Node, key: &str, text: &str) -> Option<(String, &'a Node)> {
    match &node.value {
        Value::Scalar(s) if s.text == text => Some((key.to_owned(), node)),
        Value::Map(m) => m
            .iter()
            .find_map(|(k, v)| find_scalar(v, &format!("{key}.{k}"), text)),
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_scalar(v, &format!("{key}.{i}"), text)),
        _ => None,
    }
}

/// The name in serde's "unknown field `foo`, expected ..." message.
fn unknown_field(err: &str) -> Option<String> {
    let rest = err.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_owned())
}

/// The dotted path of the mapping holding `field` (compose names the mapping), and the node of
/// that mapping.
fn find_key<'a>(node: &'a Node, key: &str, field: &str) -> Option<(String, &'a Node)> {
    match &node.value {
        Value::Map(m) => {
            // The unknown key's value carries the line (keys keep no position of their own).
            if let Some(v) = m.get(field) {
                return Some((key.to_owned(), if v.pos.is_some() { v } else { node }));
            }
            m.iter()
                .filter(|(k, _)| !FREE_FORM.contains(&k.as_str()))
                .find_map(|(k, v)| find_key(v, &format!("{key}.{k}"), field))
                .or_else(|| {
                    // Under a free-form key, the values may be structs (depends_on.db).
                    m.iter()
                        .filter(|(k, _)| FREE_FORM.contains(&k.as_str()))
                        .filter_map(|(k, v)| Some((k, v.as_map()?)))
                        .flat_map(|(k, inner)| inner.iter().map(move |(n, v)| (k, n, v)))
                        .find_map(|(k, n, v)| find_key(v, &format!("{key}.{k}.{n}"), field))
                })
        }
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_key(v, &format!("{key}.{i}"), field)),
        _ => None,
    }
}

/// The tree's deserializer: today through a JSON value whose scalars are all text (the model's
/// decoders read what a scalar means from the key); the loader's `&Node` deserializer can take
/// its place here without changing the model.
fn from_tree<T: DeserializeOwned>(node: &Node) -> Result<T, String> {
    crate::load::de::from_node::<T>(node).map_err(|e| e.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_read_for_what_they_name() {
        assert_eq!(
            unknown_field("unknown field `foo`, expected one of `a`").as_deref(),
            Some("foo")
        );
        assert_eq!(
            missing_property("missing field `target`").as_deref(),
            Some("missing property 'target'")
        );
        assert_eq!(
            quoted("time: unknown unit \"x\" in duration \"3x\""),
            Some("3x")
        );
        assert_eq!(quoted("invalid size: 'lots'"), Some("lots"));
        assert_eq!(quoted("no quotes"), None);
    }

    #[test]
    fn extensions_are_taken_out() {
        let mut m: IndexMap<String, Node> = [("x-a", "1"), ("image", "x")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Node::scalar(v)))
            .collect();
        let ext = take_extensions(&mut m);
        assert_eq!(ext.keys().collect::<Vec<_>>(), ["x-a"]);
        assert_eq!(m.keys().collect::<Vec<_>>(), ["image"]);
    }

    #[test]
    fn a_null_service_is_an_empty_one() {
        let s = service(&Node::new(Value::Null), "services.a").unwrap();
        assert_eq!(s.image, None);
    }
}
