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
