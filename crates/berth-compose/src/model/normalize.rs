//! The implicit defaults compose-go's loader adds after decoding (`loader/normalize.go`,
//! `transform/defaults.go`): the `default` network, resource names, build defaults, values of
//! `environment`/`args` taken from the environment, and the dependencies implied by `links`
//! and `service:` namespaces.

use indexmap::IndexMap;

use super::parts::{Condition, Dependency};
use super::project::{Network, Project};
use super::service::Service;

/// Applies compose's implicit defaults; `env` is the project's environment (`.env` + process).
pub fn normalize(project: &mut Project, env: &IndexMap<String, String>) {
    let mut uses_default = false;
    for service in project.services.values_mut() {
        normalize_service(service, env);
        if service.network_mode.is_none() {
            if service.networks.is_empty() {
                service.networks.insert("default".into(), None);
            }
            uses_default |= service.networks.contains_key("default");
        }
    }
    if uses_default && !project.networks.contains_key("default") {
        project
            .networks
            .insert("default".into(), Network::default());
    }
    let prefix = &project.name;
    let name = |key: &str, external: bool| match external {
        true => key.to_owned(),
        false => format!("{prefix}_{key}"),
    };
    for (k, n) in project.networks.iter_mut() {
        n.name.get_or_insert_with(|| name(k, n.external));
    }
    for (k, v) in project.volumes.iter_mut() {
        v.name.get_or_insert_with(|| name(k, v.external));
    }
    for (k, s) in project.secrets.iter_mut() {
        s.name.get_or_insert_with(|| name(k, s.external));
    }
    for (k, c) in project.configs.iter_mut() {
        c.name.get_or_insert_with(|| name(k, c.external));
    }
}

fn normalize_service(service: &mut Service, env: &IndexMap<String, String>) {
    if service.pull_policy.as_deref() == Some("if_not_present") {
        service.pull_policy = Some("missing".into());
    }
    if let Some(build) = &mut service.build {
        build.context.get_or_insert_with(|| ".".into());
        if build.dockerfile.is_none() && build.dockerfile_inline.is_none() {
            build.dockerfile = Some("Dockerfile".into());
        }
        // An arg with no value and no variable is dropped, as compose-go's resolve does.
        let args = std::mem::take(&mut build.args);
        build.args = args
            .into_iter()
            .filter_map(|(k, v)| match v {
                Some(v) => Some((k, Some(v))),
                None => env.get(&k).map(|v| (k, Some(v.clone()))),
            })
            .collect();
    }
    for (k, v) in service.environment.iter_mut() {
        if v.is_none() {
            *v = env.get(k).cloned();
        }
    }
    let implied = |restart| Dependency {
        condition: Condition::ServiceStarted,
        restart,
        required: true,
    };
    for link in &service.links {
        let target = link.split(':').next().unwrap_or(link).to_owned();
        service.depends_on.entry(target).or_insert(implied(true));
    }
    let namespaces = [&service.network_mode, &service.ipc, &service.pid];
    let shared: Vec<String> = namespaces
        .into_iter()
        .filter_map(|n| n.as_deref()?.strip_prefix("service:").map(str::to_owned))
        .collect();
    for target in shared {
        service.depends_on.entry(target).or_insert(implied(true));
    }
    for mount in &mut service.volumes {
        mount.target = super::canonical_short::clean_path(&mount.target);
    }
    for secret in &mut service.secrets {
        if secret.target.is_none() {
            secret.target = Some(format!("/run/secrets/{}", secret.source));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::project::Volume;

    #[test]
    fn names_default_network_and_implied_dependencies() {
        let mut p = Project {
            name: "proj".into(),
            ..Project::default()
        };
        let web = Service {
            name: "web".into(),
            links: vec!["db:database".into()],
            pid: Some("service:db".into()),
            pull_policy: Some("if_not_present".into()),
            ..Service::default()
        };
        let host = Service {
            name: "host".into(),
            network_mode: Some("host".into()),
            ..Service::default()
        };
        p.services.insert("web".into(), web);
        p.services.insert("host".into(), host);
        let external = Volume {
            external: true,
            ..Volume::default()
        };
        p.volumes.insert("ext".into(), external);
        p.volumes.insert("own".into(), Volume::default());
        normalize(&mut p, &IndexMap::new());
        let web = &p.services["web"];
        assert!(web.depends_on["db"].restart);
        assert_eq!(web.pull_policy.as_deref(), Some("missing"));
        assert!(web.networks.contains_key("default"));
        assert!(p.services["host"].networks.is_empty());
        assert_eq!(p.networks["default"].name.as_deref(), Some("proj_default"));
        assert_eq!(p.volumes["ext"].name.as_deref(), Some("ext"));
        assert_eq!(p.volumes["own"].name.as_deref(), Some("proj_own"));
    }
}
