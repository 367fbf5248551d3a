//! What exists of a project in the engine: its containers, found by their labels, so that
//! berth compose, docker-compose and Compose v2 see the same project.

use berth_api::container::Summary;
use berth_client::ClientError;
use indexmap::IndexMap;

use super::api::Api;
use super::labels;

/// Which containers of `run` to include.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OneOff {
    /// Only the services' own containers.
    Exclude,
    /// Only containers of `run`.
    Only,
    /// Both.
    Include,
}

/// The service a container runs.
pub fn service(c: &Summary) -> &str {
    c.labels.get(labels::SERVICE).map_or("", String::as_str)
}

/// A container's replica number (0 when unlabelled or one-off).
pub fn number(c: &Summary) -> u32 {
    c.labels
        .get(labels::CONTAINER_NUMBER)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// A container's name without the API's leading `/`.
pub fn name(c: &Summary) -> &str {
    c.names
        .first()
        .map_or(c.id.as_str(), |n| n.trim_start_matches('/'))
}

/// Whether a container is a one-off one (`run`).
pub fn is_oneoff(c: &Summary) -> bool {
    c.labels.get(labels::ONEOFF).is_some_and(|v| v == "True")
}

/// The services a container's service depends on, from its `depends_on` label.
pub fn depends_on(c: &Summary) -> Vec<String> {
    c.labels
        .get(labels::DEPENDS_ON)
        .map(|v| {
            v.split(',')
                .filter_map(|d| d.split(':').next())
                .filter(|d| !d.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The project's containers (of `services` when not empty), sorted by service then number.
pub async fn containers(
    api: &Api,
    project: &str,
    services: &[String],
    oneoff: OneOff,
) -> Result<Vec<Summary>, ClientError> {
    let mut list: Vec<Summary> = api
        .containers(&labels::of_project(project))
        .await?
        .into_iter()
        .filter(|c| services.is_empty() || services.iter().any(|s| s == service(c)))
        .filter(|c| match oneoff {
            OneOff::Exclude => !is_oneoff(c),
            OneOff::Only => is_oneoff(c),
            OneOff::Include => true,
        })
        .collect();
    list.sort_by(|a, b| (service(a), number(a), name(a)).cmp(&(service(b), number(b), name(b))));
    Ok(list)
}

/// The dependencies between the services of `containers`, from their labels.
pub fn dependencies(containers: &[Summary]) -> IndexMap<String, Vec<String>> {
    let mut deps: IndexMap<String, Vec<String>> = IndexMap::new();
    for c in containers {
        let entry = deps.entry(service(c).to_string()).or_default();
        for d in depends_on(c) {
            if !entry.contains(&d) {
                entry.push(d);
            }
        }
    }
    deps
}
