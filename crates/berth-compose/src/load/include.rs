//! Top-level `include:` as compose-go's `ApplyInclude`: each entry (a path, or
//! `{path, project_directory, env_file}`) is loaded as a project of its own, with its own
//! directory and `.env`, and its resources are added to the including file; a resource the
//! including file also defines is merged, the including file's definition winning.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::discover::absolute;
use super::dotenv::read_env_files;
use super::merge::merge;
use super::node::{LoadError, Node, Value};
use super::project::{Project, State, load_model};
use super::reset::Resets;

const RESOURCES: [&str; 6] = [
    "services", "volumes", "networks", "secrets", "configs", "models",
];

/// Applies and removes `cfg`'s `include`; `chain` is the files loaded so far, this one last.
pub(crate) fn apply(
    cfg: &mut Node,
    resets: &Resets,
    project: &Project<'_>,
    chain: &[PathBuf],
    state: &mut State,
) -> Result<(), LoadError> {
    let Some(include) = cfg.as_map_mut().and_then(|m| m.shift_remove("include")) else {
        return Ok(());
    };
    let items = match include.value {
        Value::Null => return Ok(()),
        Value::Seq(items) => items,
        _ => {
            return Err(LoadError::at_pos(include.pos, "`include` must be a list"));
        }
    };
    for item in items {
        let entry = Entry::parse(&item, project.working_dir)?;
        if let Some(first) = entry.paths.first()
            && chain.contains(first)
        {
            let mut all: Vec<String> = chain.iter().map(|p| p.display().to_string()).collect();
            all.push(first.display().to_string());
            return Err(LoadError::msg(format!(
                "include cycle detected:\n{}\n include {}",
                all[0],
                all[1..].join("\n include ")
            )));
        }
        let env_files = entry.env_files(project.working_dir)?;
        let from_files = read_env_files(&env_files, project.env)?;
        let mut env = project.env.clone();
        for (k, v) in from_files {
            env.entry(k).or_insert(v);
        }
        let sub = Project {
            env: &env,
            working_dir: &entry.project_dir,
        };
        let imported = load_model(&entry.paths, &sub, chain, state)?;
        import(imported, cfg, resets)?;
    }
    Ok(())
}

struct Entry {
    paths: Vec<PathBuf>,
    project_dir: PathBuf,
    env_file: Option<Vec<String>>,
}

fn strings(node: &Node) -> Vec<String> {
    match &node.value {
        Value::Seq(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(String::from))
            .collect(),
        Value::Scalar(s) => vec![s.text.clone()],
        _ => Vec::new(),
    }
}

impl Entry {
    fn parse(item: &Node, working_dir: &Path) -> Result<Entry, LoadError> {
        let (paths, dir, env_file) = match &item.value {
            Value::Scalar(s) => (vec![s.text.clone()], None, None),
            Value::Map(_) => (
                item.get("path").map(strings).unwrap_or_default(),
                item.get("project_directory").and_then(Node::as_str),
                item.get("env_file").map(strings),
            ),
            _ => {
                return Err(LoadError::at_pos(
                    item.pos.clone(),
                    "include entries must be a path or a mapping",
                ));
            }
        };
        if paths.is_empty() {
            return Err(LoadError::at_pos(
                item.pos.clone(),
                "include: path is required",
            ));
        }
        let paths: Vec<PathBuf> = paths
            .iter()
            .map(|p| absolute(working_dir, Path::new(p)))
            .collect();
        let project_dir = match dir {
            Some(d) => absolute(working_dir, Path::new(d)),
            None => paths[0].parent().unwrap_or(Path::new("/")).to_path_buf(),
        };
        Ok(Entry {
            paths,
            project_dir,
            env_file,
        })
    }

    /// The env files: the listed ones (relative to the including project), or the
    /// included project's `.env` when there is one.
    fn env_files(&self, working_dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
        let Some(listed) = &self.env_file else {
            let f = self.project_dir.join(".env");
            return Ok(if f.is_file() { vec![f] } else { Vec::new() });
        };
        let mut out = Vec::new();
        for f in listed.iter().filter(|f| *f != "/dev/null") {
            let p = absolute(working_dir, Path::new(f));
            if !p.exists() {
                return Err(LoadError::msg(format!(
                    "stat {}: no such file or directory",
                    p.display()
                )));
            }
            if p.is_dir() {
                return Err(LoadError::msg(format!("{} is not a file", p.display())));
            }
            out.push(p);
        }
        Ok(out)
    }
}

/// Adds `imported`'s resources to `target`; on a conflict the target's definition is
/// merged over the imported one (after the target file's `!reset`s).
fn import(imported: Node, target: &mut Node, resets: &Resets) -> Result<(), LoadError> {
    let Value::Map(mut imported) = imported.value else {
        return Ok(());
    };
    let Some(target) = target.as_map_mut() else {
        return Ok(());
    };
    for key in RESOURCES {
        let Some(Node {
            value: Value::Map(from),
            ..
        }) = imported.shift_remove(key)
        else {
            continue;
        };
        let to = target.entry(key.to_string()).or_insert_with(Node::map);
        if to.is_null() {
            *to = Node::map();
        }
        let Some(to) = to.as_map_mut() else {
            return Err(LoadError::at_pos(
                to.pos.clone(),
                format!("{key} must be a mapping"),
            ));
        };
        import_resource(key, from, to, resets)?;
    }
    Ok(())
}

fn import_resource(
    key: &str,
    from: IndexMap<String, Node>,
    to: &mut IndexMap<String, Node>,
    resets: &Resets,
) -> Result<(), LoadError> {
    for (name, mut a) in from {
        let path = [key.to_string(), name.clone()];
        match to.get_mut(&name) {
            None => {
                to.insert(name, a);
            }
            Some(slot) => {
                let local = std::mem::replace(slot, Node::map());
                resets.apply(&mut a, &path);
                *slot = merge(a, local, &path)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::project::read_file;

    fn run(dir: &Path, env: &IndexMap<String, String>) -> Result<serde_json::Value, LoadError> {
        let file = dir.join("compose.yaml");
        let project = Project {
            env,
            working_dir: dir,
        };
        let mut state = State::default();
        let (mut tree, resets) = read_file(&file, env, &mut state)?.unwrap();
        apply(&mut tree, &resets, &project, &[file], &mut state)?;
        Ok(tree.to_json())
    }

    #[test]
    fn included_project_has_its_dir_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("lib")).unwrap();
        std::fs::write(d.join("lib/.env"), "IMG=from-lib-env\n").unwrap();
        std::fs::write(
            d.join("lib/compose.yaml"),
            "services:\n  db: {image: \"${IMG}\", build: {context: .}}\n  web: {image: lib}\n",
        )
        .unwrap();
        std::fs::write(
            d.join("compose.yaml"),
            "include: [lib/compose.yaml]\nservices:\n  web: {image: main}\n",
        )
        .unwrap();
        let v = run(d, &IndexMap::new()).unwrap();
        assert_eq!(v["services"]["db"]["image"], "from-lib-env");
        assert_eq!(
            v["services"]["db"]["build"]["context"],
            d.join("lib").to_str().unwrap()
        );
        assert_eq!(v["services"]["web"]["image"], "main");
        assert!(v.get("include").is_none());
        let env = IndexMap::from([("IMG".to_string(), "process".to_string())]);
        assert_eq!(run(d, &env).unwrap()["services"]["db"]["image"], "process");
    }

    #[test]
    fn missing_env_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("lib.yaml"), "services: {a: {image: a}}\n").unwrap();
        std::fs::write(
            d.join("compose.yaml"),
            "include:\n  - {path: lib.yaml, env_file: nope.env}\n",
        )
        .unwrap();
        let e = run(d, &IndexMap::new()).unwrap_err();
        assert!(
            e.message.contains("nope.env: no such file or directory"),
            "{e}"
        );
    }
}
