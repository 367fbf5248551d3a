//! What Compose adds to a project before acting on it: the `default` network of services
//! that name none, and the dependencies that sharing a namespace or a link implies.

use crate::model::{Condition, Dependency, Network, Project};

/// `p` with implicit networks and dependencies made explicit.
pub fn normalize(mut p: Project) -> Project {
    let mut uses_default = false;
    for s in p.services.values_mut() {
        if s.network_mode.is_none() && s.networks.is_empty() {
            s.networks.insert("default".into(), None);
        }
        uses_default |= s.networks.contains_key("default");
        let mut implied: Vec<String> = Vec::new();
        for mode in [&s.network_mode, &s.ipc, &s.pid].into_iter().flatten() {
            if let Some(dep) = mode.strip_prefix("service:") {
                implied.push(dep.to_string());
            }
        }
        for l in &s.links {
            implied.push(l.split_once(':').map_or(l.as_str(), |(svc, _)| svc).to_string());
        }
        for dep in implied {
            s.depends_on.entry(dep).or_insert(Dependency {
                condition: Condition::ServiceStarted,
                restart: false,
                required: true,
            });
        }
    }
    if uses_default && !p.networks.contains_key("default") {
        p.networks.insert("default".into(), Network::default());
    }
    p
}
