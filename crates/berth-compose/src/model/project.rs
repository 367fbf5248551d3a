//! The project: services and the top-level resources they use.

use indexmap::IndexMap;
use serde::Deserialize;

use super::lenient;
use super::service::Service;
use crate::load::Node;

/// A decoded compose project.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Project {
    /// The project's name (from the loader: `-p`, `COMPOSE_PROJECT_NAME`, `name:`, the dir).
    pub name: String,
    /// `services`, in the files' order; each `Service::name` is its key.
    pub services: IndexMap<String, Service>,
    /// `networks` (a key declared with no value has all defaults).
    pub networks: IndexMap<String, Network>,
    /// `volumes`.
    pub volumes: IndexMap<String, Volume>,
    /// `secrets`.
    pub secrets: IndexMap<String, FileObject>,
    /// `configs`.
    pub configs: IndexMap<String, FileObject>,
    /// Top-level `x-*` keys, as written.
    pub extensions: IndexMap<String, Node>,
    /// Services left out by the active profiles (kept so `--profiles` and enabling a service
    /// by name can see them).
    pub disabled: IndexMap<String, Service>,
}

/// `networks.<name>`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// `name`: the engine's name (default `<project>_<key>`; for external ones, the key).
    #[serde(default)]
    pub name: Option<String>,
    /// `driver` (`bridge`).
    #[serde(default)]
    pub driver: Option<String>,
    /// `driver_opts`.
    #[serde(default, deserialize_with = "lenient::text_map")]
    pub driver_opts: IndexMap<String, String>,
    /// `ipam`.
    #[serde(default)]
    pub ipam: Option<Ipam>,
    /// `external`: made outside compose; never created or removed.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub external: bool,
    /// `internal`: no route out.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub internal: bool,
    /// `attachable`.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub attachable: bool,
    /// `enable_ipv4`.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub enable_ipv4: Option<bool>,
    /// `enable_ipv6`.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub enable_ipv6: Option<bool>,
    /// `labels`.
    #[serde(default, deserialize_with = "lenient::text_map")]
    pub labels: IndexMap<String, String>,
}

/// `networks.*.ipam`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ipam {
    /// `driver`.
    #[serde(default)]
    pub driver: Option<String>,
    /// `config`: the pools.
    #[serde(default)]
    pub config: Vec<IpamPool>,
    /// `options`.
    #[serde(default, deserialize_with = "lenient::text_map")]
    pub options: IndexMap<String, String>,
}

/// `networks.*.ipam.config[]`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpamPool {
    /// `subnet`.
    #[serde(default)]
    pub subnet: Option<String>,
    /// `gateway`.
    #[serde(default)]
    pub gateway: Option<String>,
    /// `ip_range`.
    #[serde(default)]
    pub ip_range: Option<String>,
    /// `aux_addresses`: host name → address kept out of allocation.
    #[serde(default, deserialize_with = "lenient::text_map")]
    pub aux_addresses: IndexMap<String, String>,
}

/// `volumes.<name>`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    /// `name`: the engine's name (default `<project>_<key>`; for external ones, the key).
    #[serde(default)]
    pub name: Option<String>,
    /// `driver` (`local`).
    #[serde(default)]
    pub driver: Option<String>,
    /// `driver_opts`.
    #[serde(default, deserialize_with = "lenient::text_map")]
    pub driver_opts: IndexMap<String, String>,
    /// `external`.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub external: bool,
    /// `labels`.
    #[serde(default, deserialize_with = "lenient::text_map")]
    pub labels: IndexMap<String, String>,
}

/// `secrets.<name>` or `configs.<name>`: where the content comes from (one of `file`,
/// `environment`, `content`, or `external`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileObject {
    /// `name`.
    #[serde(default)]
    pub name: Option<String>,
    /// `file`: a host path (absolute after loading).
    #[serde(default)]
    pub file: Option<String>,
    /// `environment`: the name of a variable holding the content.
    #[serde(default)]
    pub environment: Option<String>,
    /// `content` (configs only in the spec; berth takes it for both).
    #[serde(default)]
    pub content: Option<String>,
    /// `external`.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub external: bool,
    /// `labels`.
    #[serde(default, deserialize_with = "lenient::text_map")]
    pub labels: IndexMap<String, String>,
}
