//! Which compose files, which project directory, which name: `-f`, `COMPOSE_FILE`, or
//! the first `compose.yaml` (and its override file) found from the working directory up;
//! names normalised as compose-go does.

use std::path::{Path, PathBuf};

use super::node::LoadError;
use super::paths::clean;

/// The file names looked for, in order of preference.
pub const DEFAULT_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// The override files looked for next to the chosen file, in order of preference.
pub const OVERRIDE_FILES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// `p` absolute against `cwd`, cleaned.
pub fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    clean(&cwd.join(p))
}

/// The files named by `COMPOSE_FILE`, split by `sep`, each of which must exist.
pub fn from_compose_file(value: &str, sep: &str, cwd: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let sep = if sep.is_empty() { ":" } else { sep };
    value
        .split(sep)
        .map(|f| {
            let p = absolute(cwd, Path::new(f));
            if p.exists() {
                Ok(p)
            } else {
                Err(LoadError::msg(format!(
                    "stat {}: no such file or directory",
                    p.display()
                )))
            }
        })
        .collect()
}

/// Searches `start` and its parents for a compose file; with warnings when a directory
/// holds several candidates. Empty when there is none anywhere.
pub fn search(start: &Path, warnings: &mut Vec<String>) -> Vec<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let found = existing(d, &DEFAULT_FILES);
        if let Some(winner) = found.first() {
            let mut files = vec![winner.clone()];
            warn_several("config files", &found, warnings);
            let overrides = existing(d, &OVERRIDE_FILES);
            warn_several("override files", &overrides, warnings);
            files.extend(overrides.first().cloned());
            return files;
        }
        dir = d.parent();
    }
    Vec::new()
}

fn existing(dir: &Path, names: &[&str]) -> Vec<PathBuf> {
    names
        .iter()
        .map(|n| dir.join(n))
        .filter(|p| p.exists())
        .collect()
}

fn warn_several(what: &str, found: &[PathBuf], warnings: &mut Vec<String>) {
    if found.len() < 2 {
        return;
    }
    let names: Vec<String> = found.iter().map(|p| p.display().to_string()).collect();
    warnings.push(format!(
        "Found multiple {what} with supported names: {}",
        names.join(", ")
    ));
    warnings.push(format!("Using {}", names[0]));
}

/// compose-go's `NormalizeProjectName`: lowercase, only `[a-z0-9_-]`, no leading `_`/`-`.
pub fn normalize_project_name(s: &str) -> String {
    let kept: String = s
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    kept.trim_start_matches(['_', '-']).to_string()
}

/// A name given with `-p` (or `COMPOSE_PROJECT_NAME`) must already be normalised.
pub fn check_project_name(name: &str) -> Result<(), LoadError> {
    if normalize_project_name(name) == name {
        return Ok(());
    }
    Err(LoadError::msg(format!(
        "invalid project name {name:?}: must consist only of lowercase alphanumeric characters, \
         hyphens, and underscores as well as start with a letter or number"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(normalize_project_name("My Project.v2"), "myprojectv2");
        assert_eq!(normalize_project_name("__-x_Y"), "x_y");
        assert_eq!(
            normalize_project_name("UNNORMALIZED PATH"),
            "unnormalizedpath"
        );
        check_project_name("ok-1_x").unwrap();
        let e = check_project_name("Bad").unwrap_err();
        assert!(
            e.message
                .starts_with("invalid project name \"Bad\": must consist only")
        );
        assert!(check_project_name("-x").is_err());
    }

    #[test]
    fn search_goes_up_and_finds_override() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("compose.yaml"), "").unwrap();
        std::fs::write(root.join("docker-compose.yml"), "").unwrap();
        std::fs::write(root.join("compose.override.yaml"), "").unwrap();
        let sub = root.join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        let mut warnings = Vec::new();
        let files = search(&sub, &mut warnings);
        assert_eq!(
            files,
            [
                root.join("compose.yaml"),
                root.join("compose.override.yaml")
            ]
        );
        assert_eq!(warnings.len(), 2);
        assert!(warnings[0].starts_with("Found multiple config files with supported names: "));
    }

    #[test]
    fn compose_file_variable() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), "").unwrap();
        std::fs::write(dir.path().join("b.yaml"), "").unwrap();
        let files = from_compose_file("a.yaml;b.yaml", ";", dir.path()).unwrap();
        assert_eq!(
            files,
            [dir.path().join("a.yaml"), dir.path().join("b.yaml")]
        );
        from_compose_file("a.yaml:nope.yaml", "", dir.path()).unwrap_err();
    }
}
