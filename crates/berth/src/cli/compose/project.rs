//! Which project a command is about: loaded from its files, or only named (`-p`) for the
//! commands that work on what exists in the engine.

use std::path::PathBuf;

use anyhow::Result;
use berth_compose::load::Options;
use berth_compose::open::Opened;

use super::Ctx;

fn options(ctx: &Ctx) -> Result<Options> {
    let g = &ctx.global;
    let stdin = if g.file.iter().any(|f| f == "-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
        Some(text)
    } else {
        None
    };
    Ok(Options {
        stdin,
        files: g.file.iter().map(PathBuf::from).collect(),
        project_directory: g.project_directory.as_ref().map(PathBuf::from),
        project_name: g.project_name.clone(),
        env_files: g.env_file.iter().map(PathBuf::from).collect(),
        environment: std::env::vars().collect(),
        profiles: g.profile.clone(),
        cwd: std::env::current_dir()?,
    })
}

/// The project, from its files; warnings go to stderr as Compose prints them.
pub fn open_for(ctx: &Ctx, for_config: bool) -> Result<Opened> {
    let opened = berth_compose::open::open(&options(ctx)?, for_config)?;
    for w in &opened.warnings {
        eprintln!("WARN[0000] {w}");
    }
    Ok(opened)
}

/// The project's name, and the project when its files could be read: with `-p` (or
/// `COMPOSE_PROJECT_NAME`) and no file, commands on existing containers still work.
pub fn target(ctx: &Ctx) -> Result<(String, Option<Opened>)> {
    match open(ctx) {
        Ok(o) => Ok((o.info.project.name.clone(), Some(o))),
        Err(e) if !e.to_string().starts_with("no configuration file provided") => Err(e),
        Err(e) => {
            let named = ctx
                .global
                .project_name
                .clone()
                .or_else(|| std::env::var("COMPOSE_PROJECT_NAME").ok())
                .filter(|n| !n.is_empty());
            match named {
                Some(n) if ctx.global.file.is_empty() => {
                    berth_compose::load::discover::check_project_name(&n)?;
                    Ok((n, None))
                }
                _ => Err(e),
            }
        }
    }
}

/// The project's name (see [`target`]).
pub fn name(ctx: &Ctx) -> Result<String> {
    target(ctx).map(|(n, _)| n)
}

/// The project, from its files, to act on.
pub fn open(ctx: &Ctx) -> Result<Opened> {
    open_for(ctx, false)
}
