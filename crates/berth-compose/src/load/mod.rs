//! Loading compose files into one tree.
//!
//! [`load`] finds the files ([`discover`]), reads `.env` ([`dotenv`]), settles the project
//! name, then per file: YAML with positions ([`yaml`]), `!reset`/`!override` ([`reset`]),
//! interpolation ([`interpolate`]), the model's canonical form, `include`,
//! `extends`, and merges the files ([`merge`], [`unique`]); relative paths are
//! made absolute last ([`paths`]). Profiles are not applied here. The model decodes the tree
//! with [`de`].

pub mod de;
pub mod discover;
pub mod dotenv;
pub mod environment;
mod extends;
mod include;
pub mod interpolate;
pub mod merge;
pub mod node;
pub mod paths;
mod project;
pub mod reset;
pub mod unique;
pub mod yaml;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

pub use node::{LoadError, Node, Pos, Scalar, Value};

use project::{Project, State, load_model};

/// What the CLI says about the project (`-f`, `-p`, `--project-directory`, `--env-file`,
/// `--profile`) and the process environment.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `-f` files, in order (relative to `cwd`); empty: `COMPOSE_FILE` or a search.
    pub files: Vec<PathBuf>,
    /// `--project-directory`.
    pub project_directory: Option<PathBuf>,
    /// `-p`.
    pub project_name: Option<String>,
    /// `--env-file`s (relative to `cwd`); empty: the project directory's `.env`.
    pub env_files: Vec<PathBuf>,
    /// The process environment; it wins over `.env`.
    pub environment: IndexMap<String, String>,
    /// `--profile`s; empty: `COMPOSE_PROFILES`.
    pub profiles: Vec<String>,
    /// The current directory.
    pub cwd: PathBuf,
    /// The text of `-f -` (standard input), read by the caller.
    pub stdin: Option<String>,
}

/// A loaded project, before decoding.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The project name (also `name` in the tree and `COMPOSE_PROJECT_NAME` in `environment`).
    pub name: String,
    /// The project directory.
    pub working_dir: PathBuf,
    /// The compose files read, in order (not those included or extended).
    pub config_files: Vec<PathBuf>,
    /// `.env` files and the process environment (which wins).
    pub environment: IndexMap<String, String>,
    /// The active profiles asked for (`--profile` or `COMPOSE_PROFILES`); not applied.
    pub profiles: Vec<String>,
    /// Merged, interpolated, extended, included, paths resolved.
    pub tree: Node,
    /// For the user, in order (several files found, `version` obsolete, unset variables).
    pub warnings: Vec<String>,
    /// Variables referenced but unset (their warnings are in `warnings` already).
    pub unset_variables: Vec<String>,
}

/// Loads the project `opts` describe.
pub fn load(opts: &Options) -> Result<Loaded, LoadError> {
    let mut state = State {
        stdin: opts.stdin.clone(),
        ..State::default()
    };
    let cwd = &opts.cwd;
    let mut files = Vec::new();
    for f in &opts.files {
        if f.as_os_str() == project::STDIN {
            files.push(f.clone());
        } else {
            files.push(discover::absolute(cwd, f));
        }
    }
    let project_dir = opts
        .project_directory
        .as_ref()
        .map(|d| discover::absolute(cwd, d));
    let dir_of = |files: &[PathBuf]| {
        project_dir
            .clone()
            .or_else(|| {
                // `-` (standard input) is not in a directory.
                let first = files.iter().find(|f| f.as_os_str() != project::STDIN);
                first.and_then(|f| f.parent()).map(Path::to_path_buf)
            })
            .unwrap_or_else(|| cwd.clone())
    };

    let mut env = opts.environment.clone();
    let first_dir = dir_of(&files);
    add_env_files(&mut env, opts, &first_dir)?;
    if files.is_empty()
        && let Some(value) = env.get("COMPOSE_FILE")
    {
        let sep = env
            .get("COMPOSE_PATH_SEPARATOR")
            .map_or(":", String::as_str);
        files = discover::from_compose_file(value, sep, cwd)?;
    }
    if files.is_empty() {
        let start = project_dir.clone().unwrap_or_else(|| cwd.clone());
        files = discover::search(&start, &mut state.warnings);
    }
    if files.is_empty() {
        return Err(LoadError::msg("no configuration file provided: not found"));
    }
    let working_dir = dir_of(&files);
    if working_dir != first_dir {
        add_env_files(&mut env, opts, &working_dir)?;
    }

    let name = project_name(opts, &env, &files, &working_dir, &state)?;
    env.insert("COMPOSE_PROJECT_NAME".into(), name.clone());
    let project = Project {
        env: &env,
        working_dir: &working_dir,
    };
    let mut tree = load_model(&files, &project, &[], &mut state)?;
    let map = tree.as_map_mut().filter(|m| !m.is_empty());
    let Some(map) = map else {
        return Err(LoadError::msg("empty compose file"));
    };
    map.shift_insert(0, "name".into(), Node::string(name.clone()));

    let profiles = if opts.profiles.is_empty() {
        env.get("COMPOSE_PROFILES")
            .map(|p| {
                p.split(',')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    } else {
        opts.profiles.clone()
    };
    Ok(Loaded {
        name,
        working_dir,
        config_files: files,
        environment: env,
        profiles,
        tree,
        warnings: state.warnings,
        unset_variables: state.unset,
    })
}

/// Adds the env files' variables to `env` without replacing any (the process wins).
fn add_env_files(
    env: &mut IndexMap<String, String>,
    opts: &Options,
    dir: &Path,
) -> Result<(), LoadError> {
    let files: Vec<PathBuf> = if !opts.env_files.is_empty() {
        opts.env_files
            .iter()
            .map(|f| discover::absolute(&opts.cwd, f))
            .collect()
    } else {
        let disabled = opts
            .environment
            .get("COMPOSE_DISABLE_ENV_FILE")
            .is_some_and(|v| matches!(v.as_str(), "1" | "true" | "TRUE" | "True" | "t" | "T"));
        let f = dir.join(".env");
        if disabled || !f.is_file() {
            return Ok(());
        }
        vec![f]
    };
    for (k, v) in dotenv::read_env_files(&files, env)? {
        env.entry(k).or_insert(v);
    }
    Ok(())
}

/// `-p`, else `COMPOSE_PROJECT_NAME`, else the files' `name:` (interpolated), else the
/// project directory's name; normalised unless given explicitly (then it must be valid).
fn project_name(
    opts: &Options,
    env: &IndexMap<String, String>,
    files: &[PathBuf],
    working_dir: &Path,
    state: &State,
) -> Result<String, LoadError> {
    let explicit = opts
        .project_name
        .clone()
        .filter(|n| !n.is_empty())
        .or_else(|| {
            env.get("COMPOSE_PROJECT_NAME")
                .filter(|n| !n.is_empty())
                .cloned()
        });
    if let Some(name) = explicit {
        discover::check_project_name(&name)?;
        return Ok(name);
    }
    let mut from_files = None;
    for f in files {
        let Ok(text) = project::file_text(f, state) else {
            continue;
        };
        let Ok(tree) = yaml::parse(f, &text) else {
            continue;
        };
        if let Some(n) = tree
            .get("name")
            .filter(|n| n.as_str().is_some_and(|s| !s.is_empty()))
        {
            from_files = Some(n.clone());
        }
    }
    if let Some(mut node) = from_files {
        let mut wrapper = Node::map();
        let lookup = |k: &str| env.get(k).cloned();
        if let Some(m) = wrapper.as_map_mut() {
            m.insert("name".into(), node.clone());
        }
        interpolate::interpolate_tree(&mut wrapper, &lookup, &mut Vec::new())?;
        node = wrapper.get("name").cloned().unwrap_or(node);
        let name = discover::normalize_project_name(node.as_str().unwrap_or_default());
        if !name.is_empty() {
            return Ok(name);
        }
    }
    let base = working_dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = discover::normalize_project_name(&base);
    if name.is_empty() {
        return Err(LoadError::msg("project name must not be empty"));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, text).unwrap();
    }

    fn opts(dir: &Path) -> Options {
        Options {
            cwd: dir.to_path_buf(),
            ..Options::default()
        }
    }

    #[test]
    fn project_name_precedence() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("My Dir");
        write(
            &dir,
            "compose.yaml",
            "name: fromfile\nservices: {a: {image: a}}\n",
        );
        let mut o = opts(&dir);
        assert_eq!(load(&o).unwrap().name, "fromfile");
        o.environment
            .insert("COMPOSE_PROJECT_NAME".into(), "fromenv".into());
        assert_eq!(load(&o).unwrap().name, "fromenv");
        o.project_name = Some("flag".into());
        let loaded = load(&o).unwrap();
        assert_eq!(loaded.name, "flag");
        assert_eq!(loaded.environment["COMPOSE_PROJECT_NAME"], "flag");
        assert_eq!(loaded.tree.get("name").and_then(Node::as_str), Some("flag"));
        o.project_name = None;
        o.environment
            .insert("COMPOSE_PROJECT_NAME".into(), "Bad Name".into());
        load(&o).unwrap_err();
        write(&dir, "compose.yaml", "services: {a: {image: a}}\n");
        assert_eq!(load(&opts(&dir)).unwrap().name, "mydir");
    }

    #[test]
    fn env_files_and_their_switch() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        write(
            dir,
            "compose.yaml",
            "services: {a: {image: \"${IMG:-none}\"}}\n",
        );
        write(dir, ".env", "IMG=dotenv\n");
        let image = |o: &Options| {
            let l = load(o).unwrap();
            l.tree
                .get("services")
                .unwrap()
                .get("a")
                .unwrap()
                .get("image")
                .unwrap()
                .as_str()
                .map(String::from)
        };
        let mut o = opts(dir);
        assert_eq!(image(&o).as_deref(), Some("dotenv"));
        o.environment
            .insert("COMPOSE_DISABLE_ENV_FILE".into(), "true".into());
        assert_eq!(image(&o).as_deref(), Some("none"));
        o.environment.insert("IMG".into(), "process".into());
        assert_eq!(image(&o).as_deref(), Some("process"));
    }

    #[test]
    fn compose_file_from_stdin() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("proj");
        write(&dir, "over.yaml", "services: {a: {user: u}}\n");
        let mut o = opts(&dir);
        o.files = vec!["-".into(), "over.yaml".into()];
        o.stdin = Some("services: {a: {image: a}}\n".into());
        let l = load(&o).unwrap();
        assert_eq!(l.name, "proj");
        assert_eq!(
            l.tree.get("services").unwrap().to_json(),
            serde_json::json!({"a": {"image": "a", "user": "u"}})
        );
        o.stdin = None;
        load(&o).map(|_| ()).unwrap_err();
    }

    #[test]
    fn project_directory_and_missing_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        write(
            dir,
            "files/compose.yaml",
            "services: {a: {build: {context: .}}}\n",
        );
        let mut o = opts(dir);
        o.environment
            .insert("COMPOSE_FILE".into(), "nope.yaml".into());
        let e = load(&o).map(|_| ()).unwrap_err();
        assert!(e.message.contains("nope.yaml: no such file"), "{e}");
        o.files = vec!["files/compose.yaml".into()];
        o.project_directory = Some("proj".into());
        let l = load(&o).unwrap();
        assert_eq!(l.working_dir, dir.join("proj"));
        assert_eq!(l.config_files, [dir.join("files/compose.yaml")]);
        let ctx = l
            .tree
            .get("services")
            .unwrap()
            .get("a")
            .unwrap()
            .get("build")
            .unwrap();
        assert_eq!(
            ctx.get("context").and_then(Node::as_str),
            dir.join("proj").to_str()
        );
    }
}
