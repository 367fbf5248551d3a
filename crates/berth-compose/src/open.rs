//! From the command line's options to a project ready to act on: loaded ([`crate::load`]),
//! decoded, normalised, profiles applied and validated ([`crate::model`]), and each
//! service's `env_file`s read into its environment, as Compose does before creating.

use std::path::Path;

use indexmap::IndexMap;

use crate::load::{self, LoadError};
use crate::model::{Project, Service};
use crate::ops::converge::ProjectInfo;

/// A project ready for the orchestration, with what to tell the user.
#[derive(Clone, Debug)]
pub struct Opened {
    /// The project and the labels' context.
    pub info: ProjectInfo,
    /// The project's variables (`.env` and the process environment).
    pub environment: IndexMap<String, String>,
    /// Warnings, in order.
    pub warnings: Vec<String>,
}

/// Loads the project `opts` describe.
pub fn open(opts: &load::Options) -> Result<Opened, LoadError> {
    let loaded = load::load(opts)?;
    let decoded = crate::model::project(
        &loaded.name,
        &loaded.tree,
        &loaded.environment,
        &loaded.profiles,
    )?;
    let mut project = decoded.project;
    resolve_env_files(&mut project, &loaded.environment)?;
    let mut warnings = loaded.warnings;
    warnings.extend(decoded.warnings);
    let join = |v: &[std::path::PathBuf]| {
        v.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let env_files: Vec<std::path::PathBuf> =
        opts.env_files.iter().map(|f| opts.cwd.join(f)).collect();
    Ok(Opened {
        info: ProjectInfo {
            project,
            working_dir: loaded.working_dir.display().to_string(),
            config_files: join(&loaded.config_files),
            env_files: join(&env_files),
        },
        environment: loaded.environment,
        warnings,
    })
}

/// Each service's `env_file`s under its `environment` (which wins), as Compose merges them.
fn resolve_env_files(p: &mut Project, env: &IndexMap<String, String>) -> Result<(), LoadError> {
    for s in p.services.values_mut() {
        merge_env_files(s, env)?;
    }
    Ok(())
}

fn merge_env_files(s: &mut Service, env: &IndexMap<String, String>) -> Result<(), LoadError> {
    let mut from_files: IndexMap<String, String> = IndexMap::new();
    for f in &s.env_file {
        let path = Path::new(&f.path);
        if !path.exists() {
            if f.required {
                return Err(LoadError::msg(format!(
                    "env file {} not found: stat {}: no such file or directory",
                    f.path, f.path
                )));
            }
            continue;
        }
        let lookup = |k: &str| env.get(k).cloned();
        from_files.extend(load::dotenv::parse_env_file(path, &lookup)?);
    }
    if from_files.is_empty() {
        return Ok(());
    }
    let mut merged: IndexMap<String, Option<String>> =
        from_files.into_iter().map(|(k, v)| (k, Some(v))).collect();
    for (k, v) in std::mem::take(&mut s.environment) {
        merged.insert(k, v);
    }
    s.environment = merged;
    Ok(())
}
