//! Test helpers of the model's tests: YAML text to a `Node` tree (until the loader's parser is
//! there, through yaml-rust2's loader: plain strings come out as quoted ones, which the model
//! reads the same), and the whole pipeline canonicalize → decode → normalise → validate.
#![allow(dead_code)]

use berth_compose::load::{LoadError, Node, Value};
use berth_compose::model::{self, Project, canonical::canonicalize};
use indexmap::IndexMap;
use yaml_rust2::{Yaml, YamlLoader};

/// The tree of one YAML document.
pub fn tree(text: &str) -> Node {
    let docs = YamlLoader::load_from_str(text).expect("test YAML parses");
    node(&docs[0])
}

fn node(y: &Yaml) -> Node {
    match y {
        Yaml::Null | Yaml::BadValue | Yaml::Alias(_) => Node::new(Value::Null),
        Yaml::String(s) => Node::string(s.clone()),
        Yaml::Real(r) => Node::scalar(r.clone()),
        Yaml::Integer(i) => Node::scalar(i.to_string()),
        Yaml::Boolean(b) => Node::scalar(b.to_string()),
        Yaml::Array(a) => Node::new(Value::Seq(a.iter().map(node).collect())),
        Yaml::Hash(h) => {
            let m = h
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) | Yaml::Real(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::Boolean(b) => b.to_string(),
                        _ => String::new(),
                    };
                    (key, node(v))
                })
                .collect();
            Node::new(Value::Map(m))
        }
    }
}

/// Project `p` from YAML text, with `env` as its environment and these profiles active.
pub fn load_with(
    text: &str,
    env: &[(&str, &str)],
    profiles: &[&str],
) -> Result<Project, LoadError> {
    let tree = canonicalize(tree(text))?;
    let env: IndexMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let profiles: Vec<String> = profiles.iter().map(|p| p.to_string()).collect();
    Ok(model::project("p", &tree, &env, &profiles)?.project)
}

/// Project `p` from YAML text, no environment, no profiles.
pub fn load(text: &str) -> Result<Project, LoadError> {
    load_with(text, &[], &[])
}

/// The error's text without its position (`key: message`), for a project that must not load.
pub fn error(text: &str) -> String {
    match load(text) {
        Ok(_) => panic!("expected an error loading:\n{text}"),
        Err(e) => LoadError { pos: None, ..e }.to_string(),
    }
}

/// A tree as JSON with every scalar as its text (quoting forgotten), to compare trees.
pub fn plain(n: &Node) -> serde_json::Value {
    match &n.value {
        Value::Null => serde_json::Value::Null,
        Value::Scalar(s) => serde_json::Value::String(s.text.clone()),
        Value::Seq(items) => items.iter().map(plain).collect(),
        Value::Map(m) => m.iter().map(|(k, v)| (k.clone(), plain(v))).collect(),
    }
}

/// The canonical form of a service written in YAML, as plain JSON.
pub fn canonical_service(service_yaml: &str) -> serde_json::Value {
    let text = format!("services:\n  s:\n{}", indent(service_yaml, 4));
    let tree = canonicalize(tree(&text)).expect("canonicalizes");
    plain(&tree)["services"]["s"].clone()
}

fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}
