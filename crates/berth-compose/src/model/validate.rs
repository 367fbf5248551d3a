//! The consistency checks of compose-go's `loader/validate.go` and `graph/cycle.go`, with
//! their messages: references to unknown services, networks, volumes, secrets and configs,
//! dependency cycles, and settings that contradict each other.

use std::collections::BTreeSet;

use super::parts::MountKind;
use super::project::Project;
use super::service::Service;
use crate::load::LoadError;

fn invalid(message: String) -> LoadError {
    LoadError {
        pos: None,
        key: None,
        message,
    }
}

/// Checks the (profile-filtered) project; services in `project.disabled` count as existing
/// for dependencies that are not `required`.
pub fn validate(project: &mut Project) -> Result<(), LoadError> {
    for service in project.services.values_mut() {
        sync_replicas(service)?;
    }
    for service in project.services.values() {
        check_service(project, service)?;
    }
    for (name, secret) in &project.secrets {
        if !secret.external && secret.file.is_none() && secret.environment.is_none() {
            return Err(invalid(format!(
                "secret {name:?} must declare either `file` or `environment`"
            )));
        }
    }
    check_cycles(project)
}

/// `scale` and `deploy.replicas` are one setting: equal when both are given.
fn sync_replicas(s: &mut Service) -> Result<(), LoadError> {
    let name = &s.name;
    if let (Some(scale), Some(deploy)) = (s.scale, s.deploy.as_mut()) {
        if deploy.replicas.is_some_and(|r| r != scale) {
            return Err(invalid(format!(
                "services.{name}: can't set distinct values on 'scale' and 'deploy.replicas'"
            )));
        }
        deploy.replicas = Some(scale);
    }
    Ok(())
}

fn check_service(project: &Project, s: &Service) -> Result<(), LoadError> {
    let name = &s.name;
    if s.build.is_none() && s.image.is_none() {
        return Err(invalid(format!(
            "service {name:?} has neither an image nor a build context specified"
        )));
    }
    if let Some(b) = &s.build
        && b.dockerfile_inline.is_some()
        && b.dockerfile.is_some()
    {
        return Err(invalid(format!(
            "service {name:?} declares mutualy exclusive dockerfile and dockerfile_inline"
        )));
    }
    if s.network_mode.is_some() && !s.networks.is_empty() {
        return Err(invalid(format!(
            "service {name} declares mutually exclusive `network_mode` and `networks`"
        )));
    }
    for network in s.networks.keys() {
        if !project.networks.contains_key(network) {
            return Err(invalid(format!(
                "service {name:?} refers to undefined network {network}"
            )));
        }
    }
    if let Some(first) = s
        .healthcheck
        .as_ref()
        .and_then(|h| h.test.as_ref()?.first())
        && !matches!(first.as_str(), "CMD" | "CMD-SHELL" | "NONE")
    {
        return Err(invalid(
            r#"healthcheck.test must start either by "CMD", "CMD-SHELL" or "NONE""#.into(),
        ));
    }
    for (dep, cfg) in &s.depends_on {
        let disabled_optional = project.disabled.contains_key(dep) && !cfg.required;
        if !project.services.contains_key(dep) && !disabled_optional {
            return Err(invalid(format!(
                "service {name:?} depends on undefined service {dep:?}"
            )));
        }
    }
    if let Some(target) = s
        .network_mode
        .as_deref()
        .and_then(|m| m.strip_prefix("service:"))
        && !project.services.contains_key(target)
    {
        return Err(invalid(format!(
            "service {target:?} not found for network_mode 'service:{target}'"
        )));
    }
    check_references(project, s)?;
    check_limits(s)?;
    check_mount_targets(s)
}

fn check_references(project: &Project, s: &Service) -> Result<(), LoadError> {
    let name = &s.name;
    for v in &s.volumes {
        if let (MountKind::Volume, Some(source)) = (v.kind, &v.source)
            && !project.volumes.contains_key(source)
        {
            return Err(invalid(format!(
                "service {name:?} refers to undefined volume {source}"
            )));
        }
    }
    for c in &s.configs {
        if !project.configs.contains_key(&c.source) {
            let source = &c.source;
            return Err(invalid(format!(
                "service {name:?} refers to undefined config {source}"
            )));
        }
    }
    for secret in &s.secrets {
        if !project.secrets.contains_key(&secret.source) {
            let source = &secret.source;
            return Err(invalid(format!(
                "service {name:?} refers to undefined secret {source}"
            )));
        }
    }
    Ok(())
}

fn check_limits(s: &Service) -> Result<(), LoadError> {
    let name = &s.name;
    let limits = s.deploy.as_ref().and_then(|d| d.resources.limits.as_ref());
    let reservations = s
        .deploy
        .as_ref()
        .and_then(|d| d.resources.reservations.as_ref());
    let distinct = |a: &str, b: &str| {
        invalid(format!(
            "services.{name}: can't set distinct values on '{a}' and '{b}'"
        ))
    };
    if let (Some(cpus), Some(l)) = (s.cpus, limits)
        && l.cpus.is_some_and(|c| c != cpus)
    {
        return Err(distinct("cpus", "deploy.resources.limits.cpus"));
    }
    if let (Some(mem), Some(l)) = (s.mem_limit, limits)
        && l.memory.is_some_and(|m| m != mem)
    {
        return Err(distinct("mem_limit", "deploy.resources.limits.memory"));
    }
    if let (Some(mem), Some(r)) = (s.mem_reservation, reservations)
        && r.memory.is_some_and(|m| m != mem)
    {
        return Err(distinct(
            "mem_reservation",
            "deploy.resources.reservations.memory",
        ));
    }
    if let (Some(pids), Some(l)) = (s.pids_limit, limits)
        && l.pids.is_some_and(|p| p != pids)
    {
        return Err(distinct("pids_limit", "deploy.resources.limits.pids"));
    }
    let replicas = s.scale.or(s.deploy.as_ref().and_then(|d| d.replicas));
    if replicas.unwrap_or(1) > 1 && s.container_name.is_some() {
        let attr = if s.scale.is_some() {
            "scale"
        } else {
            "deploy.replicas"
        };
        return Err(invalid(format!(
            "services.{name}: can't set container_name and {attr} as container name must be unique"
        )));
    }
    Ok(())
}

fn check_mount_targets(s: &Service) -> Result<(), LoadError> {
    let name = &s.name;
    let mut mounts: Vec<(String, String)> = Vec::new();
    let tmpfs = s
        .tmpfs
        .iter()
        .map(|t| t.split(':').next().unwrap_or(t).to_owned());
    let volumes = s.volumes.iter().map(|v| v.target.clone());
    let locs = (0..s.tmpfs.len())
        .map(|i| format!("services.{name}.tmpfs[{i}]"))
        .chain((0..s.volumes.len()).map(|i| format!("services.{name}.volumes[{i}]")));
    for (target, loc) in tmpfs.chain(volumes).zip(locs) {
        if let Some((_, first)) = mounts.iter().find(|(t, _)| *t == target) {
            return Err(invalid(format!(
                "{loc}: target {target} already mounted as {first}"
            )));
        }
        mounts.push((target, loc));
    }
    Ok(())
}

/// `dependency cycle detected: a -> b -> a`, searched from services in name order.
fn check_cycles(project: &Project) -> Result<(), LoadError> {
    let names: BTreeSet<&String> = project.services.keys().collect();
    // Services whose dependencies are known to hold no cycle: not searched again.
    let mut clean = BTreeSet::new();
    for name in names {
        search_cycle(project, &mut vec![name.as_str()], &mut clean)?;
    }
    Ok(())
}

fn search_cycle<'a>(
    project: &'a Project,
    path: &mut Vec<&'a str>,
    clean: &mut BTreeSet<&'a str>,
) -> Result<(), LoadError> {
    let Some((&name, current)) = path
        .last()
        .and_then(|n| Some((n, project.services.get(*n)?)))
    else {
        return Ok(());
    };
    if clean.contains(name) {
        return Ok(());
    }
    let children: BTreeSet<&String> = current
        .depends_on
        .keys()
        .filter(|d| project.services.contains_key(*d))
        .collect();
    for child in children {
        if let Some(i) = path.iter().position(|p| p == child) {
            return Err(invalid(format!(
                "dependency cycle detected: {} -> {child}",
                path[i..].join(" -> ")
            )));
        }
        path.push(child);
        search_cycle(project, path, clean)?;
        path.pop();
    }
    clean.insert(name);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parts::Dependency;

    fn with_deps(edges: &[(&str, &[&str])]) -> Project {
        let mut p = Project::default();
        for (name, deps) in edges {
            let mut s = Service {
                name: name.to_string(),
                image: Some("x".into()),
                ..Service::default()
            };
            for d in *deps {
                let dep = Dependency {
                    condition: Default::default(),
                    restart: false,
                    required: true,
                };
                s.depends_on.insert(d.to_string(), dep);
            }
            p.services.insert(name.to_string(), s);
        }
        p
    }

    #[test]
    fn cycles_are_found_from_the_first_name() {
        let mut p = with_deps(&[("c", &["a"]), ("a", &["b"]), ("b", &["c"])]);
        let e = validate(&mut p).unwrap_err();
        assert_eq!(e.message, "dependency cycle detected: a -> b -> c -> a");
        let mut ok = with_deps(&[("a", &["b", "c"]), ("b", &["c"]), ("c", &[])]);
        validate(&mut ok).unwrap();
    }

    #[test]
    fn scale_and_replicas_agree() {
        let mut p = with_deps(&[("a", &[])]);
        let a = &mut p.services["a"];
        a.scale = Some(2);
        a.deploy = Some(Default::default());
        validate(&mut p).unwrap();
        assert_eq!(p.services["a"].deploy.as_ref().unwrap().replicas, Some(2));
        p.services["a"].scale = Some(3);
        let e = validate(&mut p).unwrap_err();
        assert_eq!(
            e.message,
            "services.a: can't set distinct values on 'scale' and 'deploy.replicas'"
        );
    }
}
