//! compose-go's `ResolveEnvironment`, run per project (an included project has its own
//! variables): a service's `environment` entry without a value takes it from the project's
//! variables when set; a secret's `environment` fills `x-#value`, a config's `content`.

use indexmap::IndexMap;

use super::node::{Node, Value};

/// Fills values from `env` in `tree` (a whole project).
pub fn resolve_environment(tree: &mut Node, env: &IndexMap<String, String>) {
    let Some(top) = tree.as_map_mut() else {
        return;
    };
    if let Some(services) = top.get_mut("services").and_then(Node::as_map_mut) {
        for svc in services.values_mut() {
            if let Some(e) = svc.as_map_mut().and_then(|m| m.get_mut("environment")) {
                resolve_service(e, env);
            }
        }
    }
    for (kind, field) in [("secrets", "x-#value"), ("configs", "content")] {
        let Some(items) = top.get_mut(kind).and_then(Node::as_map_mut) else {
            continue;
        };
        for item in items.values_mut() {
            let Some(m) = item.as_map_mut() else {
                continue;
            };
            let found = m
                .get("environment")
                .and_then(Node::as_str)
                .and_then(|v| env.get(v));
            if let Some(value) = found.cloned() {
                m.insert(field.to_string(), Node::string(value));
            }
        }
    }
}

fn resolve_service(environment: &mut Node, env: &IndexMap<String, String>) {
    match &mut environment.value {
        Value::Map(m) => {
            for (k, v) in m.iter_mut() {
                if let (true, Some(found)) = (v.is_null(), env.get(k)) {
                    *v = Node::string(found.clone()).with_pos(v.pos.clone());
                }
            }
        }
        Value::Seq(items) => {
            for item in items.iter_mut() {
                let Some(name) = item.as_str().filter(|s| !s.contains('=')) else {
                    continue;
                };
                if let Some(found) = env.get(name) {
                    let text = format!("{name}={found}");
                    *item = Node::string(text).with_pos(item.pos.clone());
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn fills_unset_values_only() {
        let mut n = super::super::yaml::parse(
            Path::new("/c.yaml"),
            "services:\n  a: {environment: {X: ~, Y: ~, Z: z}}\n  b: {environment: [X, Y, Z=1]}\n\
             secrets: {s: {environment: X}}\nconfigs: {c: {environment: X}}\n",
        )
        .unwrap();
        let env = IndexMap::from([
            ("X".to_string(), "x".to_string()),
            ("Z".into(), "env".into()),
        ]);
        resolve_environment(&mut n, &env);
        let v = n.to_json();
        assert_eq!(
            v["services"]["a"]["environment"],
            serde_json::json!({"X": "x", "Y": null, "Z": "z"})
        );
        assert_eq!(
            v["services"]["b"]["environment"],
            serde_json::json!(["X=x", "Y", "Z=1"])
        );
        assert_eq!(v["secrets"]["s"]["x-#value"], "x");
        assert_eq!(v["configs"]["c"]["content"], "x");
    }
}
