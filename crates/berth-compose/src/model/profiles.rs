//! Profiles: which services a project runs. A service without `profiles` is always enabled;
//! one with profiles only when one of them is active (`*` activates all). A service named on
//! the command line (`up svc`, `run svc`) is enabled with its dependencies.

use std::collections::BTreeSet;

use indexmap::IndexMap;

use super::project::Project;
use super::service::Service;
use crate::load::LoadError;

impl Project {
    /// Every service, enabled or not, in the files' order (enabled ones first).
    pub fn all_services(&self) -> impl Iterator<Item = (&String, &Service)> {
        self.services.iter().chain(self.disabled.iter())
    }

    /// The project with only the services `active` profiles enable; the others move to
    /// `disabled`. A required dependency of an enabled service that is disabled is an error.
    pub fn with_profiles(&self, active: &[String]) -> Result<Project, LoadError> {
        let all_on = active.iter().any(|p| p == "*");
        let enabled = |s: &Service| {
            s.profiles.is_empty() || all_on || s.profiles.iter().any(|p| active.contains(p))
        };
        self.partition(|_, s| enabled(s))
    }

    /// The project with `names` enabled too, and everything they depend on, transitively,
    /// whatever their profiles. An unknown name is an error.
    pub fn with_services_enabled(&self, names: &[String]) -> Result<Project, LoadError> {
        let all: IndexMap<&String, &Service> = self.all_services().collect();
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<String> = names.to_vec();
        while let Some(name) = todo.pop() {
            let Some(service) = all.get(&name) else {
                return Err(no_such_service(&name));
            };
            if wanted.insert(name.clone()) {
                todo.extend(
                    service
                        .depends_on
                        .keys()
                        .filter(|d| all.contains_key(d))
                        .cloned(),
                );
            }
        }
        let enabled = &self.services;
        self.partition(|name, _| enabled.contains_key(name) || wanted.contains(name))
    }

    /// The project restricted to `names` (all when empty) and, with `with_dependencies`, what
    /// they depend on; dependencies on services left out are dropped from those kept, as
    /// compose-go's `WithSelectedServices` does. An unknown or disabled name is an error.
    pub fn with_selected_services(
        &self,
        names: &[String],
        with_dependencies: bool,
    ) -> Result<Project, LoadError> {
        if names.is_empty() {
            return Ok(self.clone());
        }
        let mut keep: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<String> = names.to_vec();
        while let Some(name) = todo.pop() {
            let Some(service) = self.services.get(&name) else {
                return Err(no_such_service(&name));
            };
            if keep.insert(name) && with_dependencies {
                let deps = service.depends_on.keys();
                todo.extend(deps.filter(|d| self.services.contains_key(*d)).cloned());
            }
        }
        let mut out = self.clone();
        let (kept, dropped): (IndexMap<_, _>, IndexMap<_, _>) = std::mem::take(&mut out.services)
            .into_iter()
            .partition(|(n, _)| keep.contains(n));
        out.services = kept;
        for s in out.services.values_mut() {
            s.depends_on.retain(|d, _| keep.contains(d));
        }
        out.disabled.extend(dropped);
        Ok(out)
    }

    /// The project without the networks, volumes, secrets and configs no enabled service
    /// uses (what `up` creates).
    pub fn without_unused_resources(&self) -> Project {
        let mut out = self.clone();
        let services = || self.services.values();
        let nets: BTreeSet<&String> = services().flat_map(|s| s.networks.keys()).collect();
        let vols: BTreeSet<&String> = services()
            .flat_map(|s| &s.volumes)
            .filter(|v| v.kind == super::parts::MountKind::Volume)
            .filter_map(|v| v.source.as_ref())
            .collect();
        let secrets: BTreeSet<&String> = services()
            .flat_map(|s| &s.secrets)
            .map(|r| &r.source)
            .collect();
        let configs: BTreeSet<&String> = services()
            .flat_map(|s| &s.configs)
            .map(|r| &r.source)
            .collect();
        out.networks.retain(|k, _| nets.contains(k));
        out.volumes.retain(|k, _| vols.contains(k));
        out.secrets.retain(|k, _| secrets.contains(k));
        out.configs.retain(|k, _| configs.contains(k));
        out
    }

    /// Every profile named by any service, sorted (`config --profiles`).
    pub fn profiles(&self) -> Vec<String> {
        let set: BTreeSet<&String> = self.all_services().flat_map(|(_, s)| &s.profiles).collect();
        set.into_iter().cloned().collect()
    }

    fn partition(&self, keep: impl Fn(&str, &Service) -> bool) -> Result<Project, LoadError> {
        let mut out = Project {
            services: IndexMap::new(),
            disabled: IndexMap::new(),
            ..self.clone()
        };
        for (name, service) in self.all_services() {
            let target = match keep(name, service) {
                true => &mut out.services,
                false => &mut out.disabled,
            };
            target.insert(name.clone(), service.clone());
        }
        for (name, service) in &out.services {
            for (dep, cfg) in &service.depends_on {
                if let (Some(d), true) = (out.disabled.get(dep), cfg.required) {
                    return Err(LoadError {
                        pos: None,
                        key: None,
                        message: format!(
                            "service {dep:?} is required by {name:?} but is disabled. Can be \
                             enabled by profiles [{}]",
                            d.profiles.join(" ")
                        ),
                    });
                }
            }
        }
        Ok(out)
    }
}

/// `no such service: x`, compose's words.
pub fn no_such_service(name: &str) -> LoadError {
    LoadError {
        pos: None,
        key: None,
        message: format!("no such service: {name}"),
    }
}
