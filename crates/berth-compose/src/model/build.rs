//! `services.*.build`.

use indexmap::IndexMap;
use serde::Deserialize;

use super::lenient;
use super::units::Bytes;

/// How a service's image is built (`build:`; a string is `{context}`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    /// `context`: a directory (absolute after loading) or a URL; default `.`.
    #[serde(default)]
    pub context: Option<String>,
    /// `dockerfile`, relative to the context.
    #[serde(default)]
    pub dockerfile: Option<String>,
    /// `dockerfile_inline`: the Dockerfile's text.
    #[serde(default)]
    pub dockerfile_inline: Option<String>,
    /// `args`: `None` values come from the environment.
    #[serde(default, deserialize_with = "lenient::opt_text_map")]
    pub args: IndexMap<String, Option<String>>,
    /// `labels`.
    #[serde(default, deserialize_with = "lenient::text_map")]
    pub labels: IndexMap<String, String>,
    /// `cache_from`.
    #[serde(default, deserialize_with = "lenient::text_list")]
    pub cache_from: Vec<String>,
    /// `no_cache`.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub no_cache: bool,
    /// `additional_contexts`: name → directory, URL or `docker-image://`.
    #[serde(default, deserialize_with = "lenient::text_map")]
    pub additional_contexts: IndexMap<String, String>,
    /// `pull`: always pull base images.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub pull: bool,
    /// `extra_hosts` of the build's RUN steps.
    #[serde(default, deserialize_with = "super::parts::hosts")]
    pub extra_hosts: IndexMap<String, Vec<String>>,
    /// `network` of the build's RUN steps.
    #[serde(default)]
    pub network: Option<String>,
    /// `target`: the stage to build.
    #[serde(default)]
    pub target: Option<String>,
    /// `shm_size` of the build's RUN steps.
    #[serde(default)]
    pub shm_size: Option<Bytes>,
    /// `tags`: more names for the built image.
    #[serde(default, deserialize_with = "lenient::text_list")]
    pub tags: Vec<String>,
    /// `platforms`.
    #[serde(default, deserialize_with = "lenient::text_list")]
    pub platforms: Vec<String>,
}
