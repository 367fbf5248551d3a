//! The network seam of container start: before the runtime creates a container, the hook
//! prepares its network and says what the runtime should do with it (a fresh namespace, the
//! host's, or a prepared namespace joined by path) and what its `/etc` files say; after the
//! container ended, it releases what it made. `network connect` and `disconnect` of a running
//! container go through it too. Bridge networks plug in here; [`Local`] knows `none` and
//! `host` only.

use std::net::IpAddr;

use berth_runtime::Network;

use super::{EndpointSpec, NetworkMode, Record};
use crate::error::{Error, Result};

/// What a container's start got from its networks.
#[derive(Debug)]
pub struct Attached {
    /// How the runtime makes or joins its namespace.
    pub network: Network,
    /// Its addresses on its networks, first network first, for its `/etc/hosts`.
    pub addresses: Vec<IpAddr>,
    /// Names are resolved by the embedded DNS server (a user-defined network).
    pub embedded_dns: bool,
    /// What `host-gateway` in `--add-host` stands for.
    pub host_gateway: Option<IpAddr>,
    /// A user namespace to join, which owns the network namespace (`--userns-remap`).
    pub userns: Option<std::path::PathBuf>,
}

impl Attached {
    /// A start without bridge networks.
    pub fn local(network: Network) -> Self {
        Attached {
            network,
            addresses: Vec::new(),
            embedded_dns: false,
            host_gateway: None,
            userns: None,
        }
    }
}

/// Prepares and releases containers' networks. Called off the async workers.
pub trait NetworkHook: Send + Sync {
    /// The network container `rec` starts with.
    fn attach(&self, rec: &Record) -> Result<Attached>;
    /// Releases what [`NetworkHook::attach`] made for `id`, once it ended or failed to start.
    fn detach(&self, id: &str);
    /// Joins running container `rec` to one more network; returns what it has now.
    fn connect(&self, rec: &Record, _ep: &EndpointSpec) -> Result<Attached> {
        Err(unsupported(rec.spec.network.as_str()))
    }
    /// Takes running container `id` off network `network`; returns what it has now.
    fn disconnect(&self, _id: &str, network: &str) -> Result<Attached> {
        Err(unsupported(network))
    }
    /// The ID of the bridge network named `name`, for build steps.
    fn network_id(&self, _name: &str) -> Option<String> {
        None
    }
    /// What `host-gateway` stands for: the default bridge's gateway, as in Docker.
    fn host_gateway(&self) -> Option<IpAddr> {
        None
    }
    /// The address of running container `id` on the default bridge, for links to it.
    fn default_address(&self, _id: &str) -> Option<IpAddr> {
        None
    }
    /// Takes up again what a container still running after a daemon restart needs from the
    /// daemon (its DNS server, its host ports).
    fn restore(&self, _rec: &Record) {}
    /// Container `rec` was renamed from `old`: its DNS name on its networks follows.
    fn rename(&self, _rec: &Record, _old: &str) {}
    /// Running container `id` is being stopped: its names leave the embedded DNS before the
    /// stop signal, so that no new connection goes to it while it finishes the ones it has.
    fn withdraw(&self, _id: &str) {}
}

fn unsupported(name: &str) -> Error {
    Error::new(
        berth_core::ErrorKind::NotImplemented,
        format!("this daemon cannot attach containers to network {name}"),
    )
}

/// `none`: a namespace with only loopback, which the runtime makes; `host`: the host's.
pub struct Local;

impl NetworkHook for Local {
    fn attach(&self, rec: &Record) -> Result<Attached> {
        match &rec.spec.network {
            NetworkMode::None => Ok(Attached::local(Network::None)),
            NetworkMode::Host => Ok(Attached::local(Network::Host)),
            other => Err(unsupported(other.as_str())),
        }
    }

    fn detach(&self, _id: &str) {}
}
