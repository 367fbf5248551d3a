//! The typed compose project: short syntaxes normalised ([`canonical`]), decoding into
//! [`Project`], profiles, validation, and the canonical form `config` prints.

pub mod build;
pub mod canonical;
mod canonical_short;
pub mod decode;
mod decode_keys;
pub mod deploy;
pub mod emit;
mod emit_service;
pub mod environment;
pub mod hash;
pub mod lenient;
pub mod mounts;
pub mod normalize;
pub mod out;
pub mod parts;
pub mod profiles;
pub mod project;
pub mod service;
pub mod shellwords;
pub mod units;
pub mod validate;

pub use deploy::{Deploy, Resource, Resources, RestartPolicy, UpdateConfig};
pub use parts::{
    Build, Condition, Dependency, Device, EnvFile, FileRef, Healthcheck, Logging, Mount, MountKind,
    Port, Restart, ServiceNetwork, Ulimit,
};
pub use project::{FileObject, Ipam, IpamPool, Network, Project, Volume};
pub use service::Service;
pub use units::{Bytes, Duration};

use indexmap::IndexMap;

use crate::load::{LoadError, Node};

/// The project named `name` from its canonical, merged tree: decoded, compose's implicit
/// defaults applied (`env` is the project's environment), the `profiles` applied, validated.
pub fn project(
    name: &str,
    tree: &Node,
    env: &IndexMap<String, String>,
    profiles: &[String],
) -> Result<decode::Decoded, LoadError> {
    let mut decoded = decode::decode(name, tree)?;
    normalize::normalize(&mut decoded.project, env);
    let mut project = decoded.project.with_profiles(profiles)?;
    validate::validate(&mut project)?;
    decoded.project = project;
    Ok(decoded)
}
