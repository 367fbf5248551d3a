//! Which project a command is about.

use anyhow::Result;

use super::Ctx;

/// The project's name: `-p`, then `COMPOSE_PROJECT_NAME`, then the directory's name.
pub fn name(ctx: &Ctx) -> Result<String> {
    let raw = ctx
        .global
        .project_name
        .clone()
        .or_else(|| std::env::var("COMPOSE_PROJECT_NAME").ok())
        .filter(|n| !n.is_empty());
    let raw = match raw {
        Some(n) => n,
        None => {
            let dir = match &ctx.global.project_directory {
                Some(d) => std::path::PathBuf::from(d),
                None => std::env::current_dir()?,
            };
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        }
    };
    Ok(raw.to_lowercase())
}
