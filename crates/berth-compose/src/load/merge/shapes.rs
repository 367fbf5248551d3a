//! The shapes compose-go converts values into before merging them: a mapping as a
//! `KEY=value` list, `build: ctx` as `{context: ctx}`, a list of names as a mapping.

use indexmap::IndexMap;

use crate::load::node::{Node, Value};

/// What each name of a list maps to.
#[derive(Clone, Copy)]
pub(super) enum NameDefault {
    Null,
    DependsOn,
}

pub(super) fn concat(base: Node, over: Node) -> Node {
    match (base.value, over.value) {
        (Value::Seq(mut b), Value::Seq(o)) => {
            b.extend(o);
            Node {
                value: Value::Seq(b),
                pos: over.pos.or(base.pos),
                tag: None,
            }
        }
        (Value::Null, o) => Node {
            value: o,
            pos: over.pos,
            tag: None,
        },
        (b, _) => Node {
            value: b,
            pos: base.pos,
            tag: None,
        },
    }
}

/// compose-go's `convertIntoSequence`: a mapping becomes sorted `KEY=value` (`KEY` for
/// null, one entry per item for a list value), a string a one-item list.
pub(super) fn to_sequence(node: Node) -> Node {
    let items = match node.value {
        Value::Seq(_) | Value::Null => return node,
        Value::Scalar(_) => vec![node.clone()],
        Value::Map(m) => {
            let mut out: Vec<Node> = Vec::new();
            for (k, v) in m {
                match &v.value {
                    Value::Null => out.push(Node::string(k).with_pos(v.pos.clone())),
                    Value::Seq(items) => {
                        for i in items {
                            let text = format!("{k}={}", i.as_str().unwrap_or_default());
                            out.push(Node::string(text).with_pos(i.pos.clone()));
                        }
                    }
                    _ => {
                        let text = format!("{k}={}", v.as_str().unwrap_or_default());
                        out.push(Node::string(text).with_pos(v.pos.clone()));
                    }
                }
            }
            out.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            out
        }
    };
    Node {
        value: Value::Seq(items),
        pos: node.pos,
        tag: None,
    }
}

pub(super) fn build_map(node: Node) -> Node {
    match node.value {
        Value::Scalar(_) => {
            let pos = node.pos.clone();
            let mut m = IndexMap::new();
            m.insert("context".to_string(), node);
            Node::new(Value::Map(m)).with_pos(pos)
        }
        _ => node,
    }
}

pub(super) fn names_to_map(node: Node, default: NameDefault) -> Node {
    let Value::Seq(items) = node.value else {
        return node;
    };
    let mut m = IndexMap::new();
    for item in items {
        let Some(name) = item.as_str().map(str::to_string) else {
            continue;
        };
        let value = match default {
            NameDefault::Null => Node::new(Value::Null),
            NameDefault::DependsOn => {
                let mut d = IndexMap::new();
                d.insert("condition".to_string(), Node::scalar("service_started"));
                d.insert("required".to_string(), Node::scalar("true"));
                Node::new(Value::Map(d))
            }
        };
        m.insert(name, value.with_pos(item.pos.clone()));
    }
    Node {
        value: Value::Map(m),
        pos: node.pos,
        tag: None,
    }
}

/// compose-go's extra_hosts merge: every address of both, once (a host may have several).
pub(super) fn union_hosts(
    mut base: IndexMap<String, Node>,
    over: IndexMap<String, Node>,
) -> IndexMap<String, Node> {
    for (host, addrs) in over {
        let Some(existing) = base.get_mut(&host) else {
            base.insert(host, addrs);
            continue;
        };
        let as_list = |n: Node| match n.value {
            Value::Seq(items) => items,
            Value::Null => Vec::new(),
            _ => vec![n],
        };
        let pos = existing.pos.clone();
        let old = std::mem::replace(existing, Node::new(Value::Null));
        let mut all = as_list(old);
        for a in as_list(addrs) {
            if !all.iter().any(|e| e.value == a.value) {
                all.push(a);
            }
        }
        *existing = match all.len() {
            1 => all.remove(0),
            _ => Node::new(Value::Seq(all)).with_pos(pos),
        };
    }
    base
}

/// Two lists appended, leaving out the override's items the base already has.
pub(super) fn union_items(base: Node, over: Node) -> Node {
    let Value::Seq(mut items) = base.value else {
        return over;
    };
    if let Value::Seq(new) = over.value {
        for n in new {
            if !items.iter().any(|e| e.value == n.value) {
                items.push(n);
            }
        }
    }
    Node {
        value: Value::Seq(items),
        pos: base.pos,
        tag: None,
    }
}
