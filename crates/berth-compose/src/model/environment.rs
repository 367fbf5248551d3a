//! Services' final environment, as compose-go's `WithServicesEnvironmentResolved` makes it for
//! `config` and for the containers: `env_file` contents, overridden by `environment`, unset
//! values looked up in the project's environment.

use std::path::Path;

use indexmap::IndexMap;

use super::project::Project;
use crate::load::LoadError;

/// Reads one env file (the loader's `dotenv::parse_env_file`): path and a lookup for the
/// variables its values interpolate.
pub type EnvFileReader<'a> = &'a dyn Fn(
    &Path,
    &dyn Fn(&str) -> Option<String>,
) -> Result<IndexMap<String, String>, LoadError>;

impl Project {
    /// Merges every enabled service's `env_file`s into its `environment` (which wins), looks up
    /// values left unset in `env`, and drops the `env_file` entries when `discard` (as `config`
    /// does). A missing `required` file is an error; a missing optional one is skipped.
    pub fn resolve_environment(
        &mut self,
        env: &IndexMap<String, String>,
        read: EnvFileReader<'_>,
        discard: bool,
    ) -> Result<(), LoadError> {
        for service in self.services.values_mut() {
            for (k, v) in service.environment.iter_mut() {
                if v.is_none() {
                    *v = env.get(k).cloned();
                }
            }
            let mut merged: IndexMap<String, Option<String>> = IndexMap::new();
            for file in &service.env_file {
                let path = Path::new(&file.path);
                if !path.exists() {
                    if file.required {
                        return Err(LoadError::file(
                            path,
                            format!(
                                "env file {} not found: stat {}: no such file or directory",
                                file.path, file.path
                            ),
                        ));
                    }
                    continue;
                }
                // The project's environment first, then the service's own values.
                let own = &service.environment;
                let lookup = |k: &str| env.get(k).cloned().or_else(|| own.get(k).cloned()?);
                for (k, v) in read(path, &lookup)? {
                    merged.insert(k, Some(v));
                }
            }
            for (k, v) in std::mem::take(&mut service.environment) {
                merged.insert(k, v);
            }
            service.environment = merged;
            if discard {
                service.env_file.clear();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_under_environment() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.env");
        std::fs::write(&f, "").unwrap();
        let yaml = format!(
            "services:\n  s:\n    image: x\n    env_file: [{}, {{path: /nope, required: false}}]\n    environment: [B=own, C]\n",
            f.display()
        );
        let tree = crate::model::canonical::canonicalize(json_tree(&yaml)).unwrap();
        let env = IndexMap::from([("C".to_string(), "from-env".to_string())]);
        let mut p = crate::model::project("p", &tree, &env, &[])
            .unwrap()
            .project;
        let read = |_: &Path, lookup: &dyn Fn(&str) -> Option<String>| {
            Ok(IndexMap::from([
                ("A".to_string(), "file".to_string()),
                ("B".to_string(), "file".to_string()),
                ("D".to_string(), lookup("C").unwrap_or_default()),
            ]))
        };
        p.resolve_environment(&env, &read, true).unwrap();
        let s = &p.services["s"];
        let got: Vec<(&str, Option<&str>)> = s
            .environment
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("A", Some("file")),
                ("B", Some("own")),
                ("D", Some("from-env")),
                ("C", Some("from-env"))
            ]
        );
        assert!(s.env_file.is_empty());
    }

    /// A tiny YAML reader for this test: yaml-rust2's document as a tree.
    fn json_tree(text: &str) -> crate::load::Node {
        use crate::load::{Node, Value};
        use yaml_rust2::{Yaml, YamlLoader};
        fn node(y: &Yaml) -> Node {
            match y {
                Yaml::String(s) | Yaml::Real(s) => Node::string(s.clone()),
                Yaml::Integer(i) => Node::scalar(i.to_string()),
                Yaml::Boolean(b) => Node::scalar(b.to_string()),
                Yaml::Array(a) => Node::new(Value::Seq(a.iter().map(node).collect())),
                Yaml::Hash(h) => Node::new(Value::Map(
                    h.iter()
                        .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), node(v))))
                        .collect(),
                )),
                _ => Node::new(Value::Null),
            }
        }
        node(&YamlLoader::load_from_str(text).unwrap()[0])
    }
}
