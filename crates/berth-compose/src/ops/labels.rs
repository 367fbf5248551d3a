//! The `com.docker.compose.*` labels: how docker-compose, Compose v2 and berth find the
//! containers, networks and volumes of a project, and how each knows whether to recreate.

/// The project a resource belongs to.
pub const PROJECT: &str = "com.docker.compose.project";
/// The service a container runs.
pub const SERVICE: &str = "com.docker.compose.service";
/// A hash of the service's configuration: a container whose hash differs is recreated.
pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
/// The replica's number, from 1.
pub const CONTAINER_NUMBER: &str = "com.docker.compose.container-number";
/// `True` for containers of `run`, `False` otherwise.
pub const ONEOFF: &str = "com.docker.compose.oneoff";
/// The random part of a one-off container's name.
pub const SLUG: &str = "com.docker.compose.slug";
/// The image's ID when the container was made: a rebuilt or re-pulled image recreates.
pub const IMAGE: &str = "com.docker.compose.image";
/// `dep:condition:restart,...`.
pub const DEPENDS_ON: &str = "com.docker.compose.depends_on";
/// The compose tool's version.
pub const VERSION: &str = "com.docker.compose.version";
/// The project's directory.
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
/// The project's files, comma-separated.
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
/// `--env-file`s, comma-separated.
pub const ENVIRONMENT_FILE: &str = "com.docker.compose.project.environment_file";
/// The network's key in the project (`default`).
pub const NETWORK: &str = "com.docker.compose.network";
/// The volume's key in the project.
pub const VOLUME: &str = "com.docker.compose.volume";
/// The container this one replaced, during a recreate.
pub const REPLACE: &str = "com.docker.compose.replace";

/// The Compose version berth's labels claim: that of the Compose v2 behaviour it follows.
pub const COMPOSE_VERSION: &str = "2.29.0";

/// A network's or volume's labels: its own, and compose's (`kind` is [`NETWORK`] or
/// [`VOLUME`], naming `key`).
pub fn of_resource(
    own: &indexmap::IndexMap<String, String>,
    project: &str,
    kind: &str,
    key: &str,
) -> serde_json::Map<String, serde_json::Value> {
    let mut l: serde_json::Map<String, serde_json::Value> = own
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into()))
        .collect();
    l.insert(PROJECT.into(), project.into());
    l.insert(kind.into(), key.into());
    l.insert(VERSION.into(), COMPOSE_VERSION.into());
    l
}

/// `k=v` for a label filter.
pub fn is(key: &str, value: &str) -> String {
    format!("{key}={value}")
}

/// The filter of a project's resources.
pub fn of_project(project: &str) -> Vec<String> {
    vec![is(PROJECT, project)]
}

/// The filter of a service's containers (not one-off ones).
pub fn of_service(project: &str, service: &str) -> Vec<String> {
    vec![
        is(PROJECT, project),
        is(SERVICE, service),
        is(ONEOFF, "False"),
    ]
}
