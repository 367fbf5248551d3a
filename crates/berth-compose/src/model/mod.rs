//! The typed compose project: short syntaxes normalised ([`canonical`]), decoding into
//! [`Project`], profiles, validation, and the canonical form `config` prints.

pub mod build;
pub mod canonical;
pub mod deploy;
pub mod lenient;
pub mod mounts;
pub mod parts;
pub mod project;
pub mod service;
mod shellwords;
pub mod units;

pub use deploy::{Deploy, Resource, Resources, RestartPolicy, UpdateConfig};
pub use parts::{
    Build, Condition, Dependency, Device, EnvFile, FileRef, Healthcheck, Logging, Mount, MountKind,
    Port, Restart, ServiceNetwork, Ulimit,
};
pub use project::{FileObject, Ipam, IpamPool, Network, Project, Volume};
pub use service::Service;
pub use units::{Bytes, Duration};
