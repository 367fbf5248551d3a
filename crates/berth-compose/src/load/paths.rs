//! Relative paths made absolute against a project (or extended file's) directory, as
//! compose-go's `paths` package does: build contexts (unless remote), env files, bind-mount
//! sources, `extends.file`, secrets' and configs' files, local volumes bound to a device.
//! Paths are cleaned lexically (`a/./b/../c` → `a/c`) and `~` is the home directory.

use std::path::{Component, Path, PathBuf};

use super::merge::matches;
use super::node::{LoadError, Node, Value};

#[derive(Clone, Copy)]
enum Kind {
    Context,
    Plain,
    MaybeUnix,
    Volume,
    LocalVolume,
}

const RESOLVERS: &[(&str, Kind)] = &[
    ("services.*.build.context", Kind::Context),
    ("services.*.build.additional_contexts.*", Kind::Context),
    ("services.*.env_file.*.path", Kind::Plain),
    ("services.*.label_file.*", Kind::Plain),
    ("services.*.extends.file", Kind::Plain),
    ("services.*.develop.watch.*.path", Kind::Plain),
    ("services.*.volumes.*", Kind::Volume),
    ("configs.*.file", Kind::MaybeUnix),
    ("secrets.*.file", Kind::MaybeUnix),
    ("volumes.*", Kind::LocalVolume),
];

/// Resolves the relative paths of `tree` against `base`; `home` replaces a leading `~`.
pub fn resolve_paths(tree: &mut Node, base: &Path, home: Option<&Path>) -> Result<(), LoadError> {
    let r = Resolver { base, home };
    r.walk(tree, &mut Vec::new())
}

struct Resolver<'a> {
    base: &'a Path,
    home: Option<&'a Path>,
}

impl Resolver<'_> {
    fn walk(&self, node: &mut Node, path: &mut Vec<String>) -> Result<(), LoadError> {
        if let Some((_, kind)) = RESOLVERS.iter().find(|(p, _)| matches(path, p)) {
            return self.resolve(*kind, node);
        }
        match &mut node.value {
            Value::Map(m) => {
                for (k, v) in m.iter_mut() {
                    path.push(k.clone());
                    let r = self.walk(v, path);
                    path.pop();
                    r?;
                }
            }
            Value::Seq(items) => {
                for (i, v) in items.iter_mut().enumerate() {
                    path.push(i.to_string());
                    let r = self.walk(v, path);
                    path.pop();
                    r?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn resolve(&self, kind: Kind, node: &mut Node) -> Result<(), LoadError> {
        match kind {
            Kind::Context => {
                if let Some(s) = node.as_str()
                    && !is_remote_context(s)
                {
                    self.set(node, |p| self.abs(p));
                }
            }
            Kind::Plain | Kind::MaybeUnix => self.set(node, |p| self.abs(p)),
            Kind::Volume => {
                let is_bind = node.get("type").and_then(Node::as_str) == Some("bind");
                if !is_bind {
                    return Ok(());
                }
                let pos = node.pos.clone();
                let Some(source) = node.as_map_mut().and_then(|m| m.get_mut("source")) else {
                    return Err(LoadError::at_pos(
                        pos,
                        "invalid mount config for type \"bind\": field Source must not be empty",
                    ));
                };
                self.set(source, |p| self.abs(p));
            }
            Kind::LocalVolume => {
                if node.get("driver").and_then(Node::as_str) != Some("local") {
                    return Ok(());
                }
                let Some(opts) = node.as_map_mut().and_then(|m| m.get_mut("driver_opts")) else {
                    return Ok(());
                };
                if opts.get("o").and_then(Node::as_str) != Some("bind") {
                    return Ok(());
                }
                if let Some(dev) = opts.as_map_mut().and_then(|m| m.get_mut("device")) {
                    self.set(dev, |p| self.abs(p));
                }
            }
        }
        Ok(())
    }

    fn set(&self, node: &mut Node, f: impl Fn(&str) -> String) {
        if let Value::Scalar(s) = &mut node.value {
            s.text = f(&s.text);
        }
    }

    fn abs(&self, p: &str) -> String {
        let p = expand_user(p, self.home);
        if p.is_empty() || Path::new(&p).is_absolute() {
            return p;
        }
        clean(&self.base.join(p)).to_string_lossy().into_owned()
    }
}

/// `~` or `~/x` with the home directory.
pub fn expand_user(p: &str, home: Option<&Path>) -> String {
    match (p.strip_prefix('~'), home) {
        (Some(rest), Some(home)) => clean(&home.join(rest.trim_start_matches('/')))
            .to_string_lossy()
            .into_owned(),
        _ => p.to_string(),
    }
}

/// A build context that is not a local directory: a URL, git reference, `service:` or any
/// `scheme://`.
pub fn is_remote_context(s: &str) -> bool {
    s.contains("://")
        || s.starts_with("service:")
        || [
            "https://",
            "http://",
            "git://",
            "ssh://",
            "github.com/",
            "git@",
        ]
        .iter()
        .any(|p| s.starts_with(p))
}

/// Lexical cleaning, as Go's `filepath.Clean`.
pub fn clean(p: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            c => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(text: &str) -> serde_json::Value {
        let mut n = super::super::yaml::parse(Path::new("/p/c.yaml"), text).unwrap();
        resolve_paths(&mut n, Path::new("/p/dir"), Some(Path::new("/home/u"))).unwrap();
        n.to_json()
    }

    #[test]
    fn services_paths() {
        let v = resolved(
            "services:\n  web:\n    build: {context: ../ctx, additional_contexts: {a: ./a, b: 'docker-image://x'}}\n\
             \x20   env_file: [{path: ./e.env, required: true}]\n\
             \x20   extends: {file: ../base.yaml, service: b}\n\
             \x20   volumes: [{type: bind, source: ./data, target: /d}, {type: volume, source: v, target: /v}, \
             {type: bind, source: ~/x, target: /x}]\n\
             \x20 git:\n    build: {context: 'https://github.com/a/b.git'}\n",
        );
        let web = &v["services"]["web"];
        assert_eq!(web["build"]["context"], "/p/ctx");
        assert_eq!(web["build"]["additional_contexts"]["a"], "/p/dir/a");
        assert_eq!(web["build"]["additional_contexts"]["b"], "docker-image://x");
        assert_eq!(web["env_file"][0]["path"], "/p/dir/e.env");
        assert_eq!(web["extends"]["file"], "/p/base.yaml");
        assert_eq!(web["volumes"][0]["source"], "/p/dir/data");
        assert_eq!(web["volumes"][1]["source"], "v");
        assert_eq!(web["volumes"][2]["source"], "/home/u/x");
        assert_eq!(
            v["services"]["git"]["build"]["context"],
            "https://github.com/a/b.git"
        );
    }

    #[test]
    fn top_level_paths() {
        let v = resolved(
            "secrets: {s: {file: ./s.txt}, e: {environment: X}}\nconfigs: {c: {file: /abs}}\n\
             volumes: {l: {driver: local, driver_opts: {o: bind, type: none, device: ./dev}}, n: ~}\n",
        );
        assert_eq!(v["secrets"]["s"]["file"], "/p/dir/s.txt");
        assert_eq!(v["configs"]["c"]["file"], "/abs");
        assert_eq!(v["volumes"]["l"]["driver_opts"]["device"], "/p/dir/dev");
    }

    #[test]
    fn bind_without_source_is_an_error() {
        let mut n = super::super::yaml::parse(
            Path::new("/p/c.yaml"),
            "services: {web: {volumes: [{type: bind, target: /d}]}}",
        )
        .unwrap();
        let e = resolve_paths(&mut n, Path::new("/p"), None).unwrap_err();
        assert!(e.message.contains("field Source must not be empty"));
    }

    #[test]
    fn cleaning() {
        assert_eq!(clean(Path::new("/a/./b/../c/")), PathBuf::from("/a/c"));
        assert_eq!(clean(Path::new("/../a")), PathBuf::from("/a"));
    }
}
