//! From the command line's options to a project ready to act on: loaded ([`crate::load`]),
//! decoded, normalised, profiles applied and validated ([`crate::model`]), and each
//! service's `env_file`s read into its environment, as Compose does before creating.

use indexmap::IndexMap;

use crate::load::{self, LoadError};
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

/// Loads the project `opts` describe; `for_config` leaves out what `config` does not print
/// (`env_file`s once merged, resources no service uses).
pub fn open(opts: &load::Options, for_config: bool) -> Result<Opened, LoadError> {
    let loaded = load::load(opts)?;
    let decoded = crate::model::project(
        &loaded.name,
        &loaded.tree,
        &loaded.environment,
        &loaded.profiles,
    )?;
    let mut project = decoded.project;
    project.resolve_environment(
        &loaded.environment,
        &load::dotenv::parse_env_file,
        for_config,
    )?;
    if for_config {
        project = project.without_unused_resources();
    } else {
        // A secret from a variable carries its value to the container.
        for obj in project
            .secrets
            .values_mut()
            .chain(project.configs.values_mut())
        {
            if obj.content.is_none()
                && let Some(var) = &obj.environment
            {
                obj.content = loaded.environment.get(var).cloned();
            }
        }
    }
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
