//! `!reset` and `!override`, as compose-go's `ResetProcessor`: a file's tagged keys are
//! recorded (and `!reset` values dropped from that file) as soon as it is parsed; before the
//! file is merged over earlier ones (or a service over the one it extends), the recorded
//! keys are deleted from the base, so `!reset` removes a key and `!override` replaces it
//! wholesale.

use super::node::{Node, Value};

/// The keys (paths from the top) tagged in one file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Resets(Vec<Vec<String>>);

/// Records and strips the tags of `file`; `!reset` values are removed.
pub fn take_resets(file: &mut Node) -> Resets {
    let mut out = Resets::default();
    let mut path = Vec::new();
    walk(file, &mut path, &mut out, false);
    out
}

fn walk(node: &mut Node, path: &mut Vec<String>, out: &mut Resets, in_seq: bool) {
    match &mut node.value {
        Value::Map(m) => {
            m.retain(|k, v| {
                let tag = v.tag.take();
                if tag.as_deref() == Some("reset") {
                    if !in_seq {
                        out.0
                            .push(path.iter().cloned().chain([k.clone()]).collect());
                    }
                    return false;
                }
                if tag.as_deref() == Some("override") && !in_seq {
                    out.0
                        .push(path.iter().cloned().chain([k.clone()]).collect());
                }
                true
            });
            for (k, v) in m.iter_mut() {
                path.push(k.clone());
                walk(v, path, out, in_seq);
                path.pop();
            }
        }
        Value::Seq(items) => {
            // compose-go records these but never matches them (it indexes lists as `[i]`).
            items.retain_mut(|i| i.tag.take().as_deref() != Some("reset"));
            for item in items.iter_mut() {
                walk(item, path, out, true);
            }
        }
        _ => {}
    }
}

impl Resets {
    /// Whether nothing was tagged.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Deletes the recorded keys from `base`, a tree rooted at `prefix` (`[]` for a
    /// file, `["services", "web"]` for the service an `extends` starts from).
    pub fn apply(&self, base: &mut Node, prefix: &[String]) {
        let mut path = prefix.to_vec();
        self.apply_at(base, &mut path);
    }

    fn apply_at(&self, node: &mut Node, path: &mut Vec<String>) {
        let Value::Map(m) = &mut node.value else {
            return;
        };
        m.retain(|k, _| {
            !self.0.iter().any(|p| {
                p.len() == path.len() + 1 && p[..path.len()] == path[..] && &p[path.len()] == k
            })
        });
        for (k, v) in m.iter_mut() {
            path.push(k.clone());
            self.apply_at(v, path);
            path.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn tree(text: &str) -> Node {
        super::super::yaml::parse(Path::new("/c.yaml"), text).unwrap()
    }

    #[test]
    fn reset_removes_and_override_replaces() {
        let mut base =
            tree("services: {web: {image: a, ports: [p1], environment: {A: '1'}, user: u}}");
        let mut over = tree(
            "services:\n  web:\n    ports: !reset []\n    environment: !override {B: '2'}\n    dns: [!reset x, y]\n",
        );
        let resets = take_resets(&mut over);
        resets.apply(&mut base, &[]);
        assert_eq!(
            base.to_json(),
            serde_json::json!({"services": {"web": {"image": "a", "user": "u"}}})
        );
        assert_eq!(
            over.to_json(),
            serde_json::json!({"services": {"web": {"environment": {"B": "2"}, "dns": ["y"]}}})
        );
        assert!(
            over.get("services")
                .unwrap()
                .get("web")
                .unwrap()
                .get("environment")
                .unwrap()
                .tag
                .is_none()
        );
    }

    #[test]
    fn applies_under_a_prefix() {
        let mut over = tree("services: {web: {extends: base, command: !reset null}}");
        let resets = take_resets(&mut over);
        let mut base = tree("{image: a, command: [x]}");
        resets.apply(&mut base, &["services".into(), "web".into()]);
        assert_eq!(base.to_json(), serde_json::json!({"image": "a"}));
    }
}
