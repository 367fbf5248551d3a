//! One project's files, each read, interpolated and canonicalised, its `include`s and
//! `extends` applied, then merged over the files before it (compose-go's `loadYamlModel`).

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::environment::resolve_environment;
use super::interpolate::interpolate_tree;
use super::merge::merge;
use super::node::{LoadError, Node, Value, open_error};
use super::paths::resolve_paths;
use super::reset::{Resets, take_resets};
use super::unique::enforce_unicity;
use super::{extends, include, yaml};

/// What a project's files are read with.
pub(crate) struct Project<'a> {
    /// Variables for interpolation.
    pub env: &'a IndexMap<String, String>,
    /// The project directory: relative references (`extends.file`, `include`) and, at
    /// the end, relative paths resolve against it.
    pub working_dir: &'a Path,
}

impl Project<'_> {
    /// The home directory `~` stands for.
    pub fn home(&self) -> Option<PathBuf> {
        self.env.get("HOME").map(PathBuf::from)
    }
}

/// Warnings and unset variables gathered while loading.
#[derive(Default)]
pub(crate) struct State {
    pub warnings: Vec<String>,
    pub unset: Vec<String>,
    /// The text of `-f -`.
    pub stdin: Option<String>,
}

/// The name `-f -` gives the compose file read from standard input.
pub(crate) const STDIN: &str = "-";

/// The text of compose file `path` (`-`: the caller's standard input).
pub(crate) fn file_text(path: &Path, state: &State) -> Result<String, LoadError> {
    if path.as_os_str() == STDIN {
        return state
            .stdin
            .clone()
            .ok_or_else(|| LoadError::msg("-f -: no standard input was given"));
    }
    std::fs::read_to_string(path).map_err(|e| open_error(path, &e))
}

/// Reads one file: YAML, `!reset`/`!override` recorded, interpolation, canonical form.
/// `None` for an empty file.
pub(crate) fn read_file(
    path: &Path,
    env: &IndexMap<String, String>,
    state: &mut State,
) -> Result<Option<(Node, Resets)>, LoadError> {
    let text = file_text(path, state)?;
    let mut tree = yaml::parse(path, &text)?;
    match tree.value {
        Value::Null => return Ok(None),
        Value::Map(_) => {}
        _ => {
            return Err(LoadError::at_pos(
                tree.pos,
                "top-level object must be a mapping",
            ));
        }
    }
    let resets = take_resets(&mut tree);
    let lookup = |k: &str| env.get(k).cloned();
    let mut unset = Vec::new();
    interpolate_tree(&mut tree, &lookup, &mut unset)?;
    for name in unset {
        if !state.unset.contains(&name) {
            state.warnings.push(format!(
                "The {name:?} variable is not set. Defaulting to a blank string."
            ));
            state.unset.push(name);
        }
    }
    let tree = crate::model::canonical::canonicalize(tree)?;
    Ok(Some((tree, resets)))
}

/// compose's warning for a file that still has `version:`.
const VERSION_OBSOLETE: &str = "the attribute `version` is obsolete, it will be ignored, \
                                please remove it to avoid potential confusion";

/// Loads `files` as one project; `included` is the chain of files that included it.
pub(crate) fn load_model(
    files: &[PathBuf],
    project: &Project<'_>,
    included: &[PathBuf],
    state: &mut State,
) -> Result<Node, LoadError> {
    let mut dict = Node::map();
    let mut chain = included.to_vec();
    for file in files {
        let Some((mut cfg, resets)) = read_file(file, project.env, state)? else {
            continue;
        };
        chain.push(file.clone());
        include::apply(&mut cfg, &resets, project, &chain, state)?;
        resets.apply(&mut dict, &[]);
        extends::apply(&mut cfg, file, &resets, project, state)?;
        if let Some(m) = cfg.as_map_mut()
            && m.shift_remove("version").is_some()
        {
            state
                .warnings
                .push(format!("{}: {VERSION_OBSOLETE}", file.display()));
        }
        dict = merge(dict, cfg, &[])?;
        enforce_unicity(&mut dict)?;
    }
    resolve_paths(&mut dict, project.working_dir, project.home().as_deref())?;
    resolve_environment(&mut dict, project.env);
    Ok(dict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_merge_in_order_with_warnings() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("a.yaml"),
            "version: '3'\nservices: {web: {image: a, ports: [{target: '80'}]}}\n",
        )
        .unwrap();
        std::fs::write(
            d.join("b.yaml"),
            "services: {web: {image: \"$B\", ports: !override [{target: '81'}]}}\n",
        )
        .unwrap();
        std::fs::write(d.join("empty.yaml"), "").unwrap();
        let env = IndexMap::new();
        let project = Project {
            env: &env,
            working_dir: d,
        };
        let mut state = State::default();
        let files = [d.join("a.yaml"), d.join("empty.yaml"), d.join("b.yaml")];
        let tree = load_model(&files, &project, &[], &mut state).unwrap();
        assert_eq!(
            tree.to_json(),
            serde_json::json!({"services": {"web": {"image": "", "ports": [{"target": "81"}]}}})
        );
        assert_eq!(state.unset, ["B"]);
        assert_eq!(state.warnings.len(), 2);
        assert!(state.warnings[0].ends_with("the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion"));
    }

    #[test]
    fn top_level_must_be_a_mapping() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.yaml");
        std::fs::write(&f, "- a\n").unwrap();
        let e = read_file(&f, &IndexMap::new(), &mut State::default())
            .map(|_| ())
            .unwrap_err();
        assert_eq!(e.message, "top-level object must be a mapping");
    }
}
