//! `extends: {service, file}` (or `extends: name` in the same file), recursive, as
//! compose-go's `ApplyExtends`: the base service is loaded (another file's relative paths
//! resolved against that file's directory), the extending file's `!reset`s applied to it,
//! and the extending service merged over it by the usual rules.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::discover::absolute;
use super::merge::merge;
use super::node::{LoadError, Node, Value};
use super::paths::resolve_paths;
use super::project::{Project, State, read_file};
use super::reset::Resets;

/// The chain of (file, service) being extended, to report cycles.
type Chain = Vec<(PathBuf, String)>;

/// Applies every service's `extends` in `cfg`, the tree of `file`.
pub(crate) fn apply(
    cfg: &mut Node,
    file: &Path,
    resets: &Resets,
    project: &Project<'_>,
    state: &mut State,
) -> Result<(), LoadError> {
    let Some(services) = cfg.as_map_mut().and_then(|m| m.get_mut("services")) else {
        return Ok(());
    };
    let pos = services.pos.clone();
    let Value::Map(services) = &mut services.value else {
        if services.is_null() {
            return Ok(());
        }
        return Err(LoadError::at_pos(pos, "services must be a mapping"));
    };
    let names: Vec<String> = services.keys().cloned().collect();
    let ctx = Ctx {
        dir: project.working_dir.to_path_buf(),
        file: file.to_path_buf(),
        resets,
    };
    for name in names {
        if let Some(merged) = service(&name, services, &ctx, &Vec::new(), project, state)? {
            services.insert(name, merged);
        }
    }
    Ok(())
}

/// Where the services being resolved come from.
struct Ctx<'a> {
    /// Relative `extends.file`s resolve against this.
    dir: PathBuf,
    file: PathBuf,
    resets: &'a Resets,
}

fn service(
    name: &str,
    services: &mut IndexMap<String, Node>,
    ctx: &Ctx<'_>,
    chain: &Chain,
    project: &Project<'_>,
    state: &mut State,
) -> Result<Option<Node>, LoadError> {
    let Some(svc) = services.get(name) else {
        return Ok(None);
    };
    if svc.is_null() {
        return Ok(None);
    }
    if svc.as_map().is_none() {
        return Err(LoadError::at_pos(
            svc.pos.clone(),
            format!("services.{name} must be a mapping"),
        ));
    }
    let Some(ext) = svc.get("extends") else {
        return Ok(Some(svc.clone()));
    };
    let (reference, ext_file) = match &ext.value {
        Value::Map(_) => match ext.get("service").and_then(Node::as_str) {
            Some(s) => (s.to_string(), ext.get("file").and_then(Node::as_str)),
            None => {
                return Err(LoadError::at_pos(
                    ext.pos.clone(),
                    format!("extends.{name}.service is required"),
                ));
            }
        },
        _ => (ext.as_str().unwrap_or_default().to_string(), None),
    };
    let base = match ext_file {
        Some(f) => {
            let ref_path = absolute(&ctx.dir, Path::new(f));
            from_file(name, &reference, &ref_path, ctx, chain, project, state)?
        }
        None => {
            if !services.contains_key(&reference) {
                return Err(LoadError::at_pos(
                    ext.pos.clone(),
                    format!(
                        "cannot extend service {name:?} in {}: service {reference:?} not found",
                        ctx.file.display()
                    ),
                ));
            }
            let chain = add(chain, &ctx.file, name)?;
            service(&reference, services, ctx, &chain, project, state)?
        }
    };
    let svc = services.get(name).cloned().unwrap_or_else(Node::map);
    let Some(mut source) = base else {
        return Ok(Some(svc));
    };
    ctx.resets
        .apply(&mut source, &["services".into(), name.into()]);
    let mut merged = merge(source, svc, &["services".into(), "x".into()])?;
    if let Some(m) = merged.as_map_mut() {
        m.shift_remove("extends");
    }
    services.insert(name.to_string(), merged.clone());
    Ok(Some(merged))
}

/// The base service `reference` from `ref_path`, with its own `extends` applied.
fn from_file(
    name: &str,
    reference: &str,
    ref_path: &Path,
    ctx: &Ctx<'_>,
    chain: &Chain,
    project: &Project<'_>,
    state: &mut State,
) -> Result<Option<Node>, LoadError> {
    let not_found = || {
        LoadError::msg(format!(
            "cannot extend service {name:?} in {}: service {reference:?} not found in {}",
            ctx.file.display(),
            ref_path.display()
        ))
    };
    let (mut tree, resets) = read_file(ref_path, project.env, state)?.ok_or_else(not_found)?;
    let dir = ref_path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let home = project.home();
    resolve_paths(&mut tree, &dir, home.as_deref())?;
    let Some(mut services) = tree.as_map_mut().and_then(|m| m.shift_remove("services")) else {
        return Err(LoadError::msg(format!(
            "cannot extend service {name:?} in {}: no services section",
            ref_path.display()
        )));
    };
    let Some(services) = services.as_map_mut() else {
        return Err(LoadError::msg(format!(
            "cannot extend service {name:?} in {}: services must be a mapping",
            ref_path.display()
        )));
    };
    if !services.contains_key(reference) {
        return Err(not_found());
    }
    let chain = add(chain, ref_path, name)?;
    let inner = Ctx {
        dir,
        file: ref_path.to_path_buf(),
        resets: &resets,
    };
    service(reference, services, &inner, &chain, project, state)
}

/// `chain` plus (file, service), or compose-go's "Circular reference" error.
fn add(chain: &Chain, file: &Path, service: &str) -> Result<Chain, LoadError> {
    let entry = (file.to_path_buf(), service.to_string());
    if chain.contains(&entry) {
        let mut lines = vec!["Circular reference:".to_string()];
        for (i, (f, s)) in chain.iter().chain([&entry]).enumerate() {
            let verb = if i == 0 { "" } else { "extends " };
            lines.push(format!("  {verb}{s} in {}", f.display()));
        }
        return Err(LoadError::msg(lines.join("\n")));
    }
    let mut out = chain.clone();
    out.push(entry);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dir: &Path, main: &str) -> Result<serde_json::Value, LoadError> {
        let file = dir.join("compose.yaml");
        std::fs::write(&file, main).unwrap();
        let env = IndexMap::new();
        let project = Project {
            env: &env,
            working_dir: dir,
        };
        let mut state = State::default();
        let (mut tree, resets) = read_file(&file, &env, &mut state)?.unwrap();
        apply(&mut tree, &file, &resets, &project, &mut state)?;
        Ok(tree.to_json())
    }

    #[test]
    fn same_file_string_form_and_chain() {
        let dir = tempfile::tempdir().unwrap();
        let v = run(
            dir.path(),
            "services:\n  a: {image: a, environment: {X: '1'}}\n  b: {extends: a, environment: {Y: '2'}}\n  c: {extends: {service: b}, image: c}\n",
        )
        .unwrap();
        assert_eq!(
            v["services"]["c"],
            serde_json::json!({"image": "c", "environment": {"X": "1", "Y": "2"}})
        );
    }

    #[test]
    fn other_file_paths_are_its_own() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(
            dir.path().join("sub/base.yaml"),
            "services:\n  base: {build: {context: ./ctx}, extends: {file: more.yaml, service: more}}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("sub/more.yaml"),
            "services:\n  more: {user: u}\n",
        )
        .unwrap();
        let v = run(
            dir.path(),
            "services:\n  web:\n    extends: {file: sub/base.yaml, service: base}\n",
        )
        .unwrap();
        let ctx = dir.path().join("sub/ctx");
        assert_eq!(
            v["services"]["web"],
            serde_json::json!({"build": {"context": ctx.to_str()}, "user": "u"})
        );
    }

    #[test]
    fn missing_and_cycles() {
        let dir = tempfile::tempdir().unwrap();
        let e = run(dir.path(), "services:\n  a: {extends: zz}\n").unwrap_err();
        assert!(e.message.ends_with("service \"zz\" not found"), "{e}");
        let e = run(dir.path(), "services:\n  a: {extends: a}\n").unwrap_err();
        assert!(e.message.starts_with("Circular reference:\n  a in "), "{e}");
    }
}
