//! The network seam of container start: before the runtime creates a container, the hook
//! prepares its network and says what the runtime should do with it (a fresh namespace, the
//! host's, or a prepared namespace joined by path); after the container ended, it releases what
//! it made. Bridge networks plug in here; today's [`Local`] knows `none` and `host` only.

use berth_runtime::Network;

use super::NetworkMode;
use crate::error::Result;

/// Prepares and releases containers' networks. Called off the async workers.
pub trait NetworkHook: Send + Sync {
    /// The network container `id` starts with, prepared for `mode`.
    fn attach(&self, id: &str, mode: &NetworkMode) -> Result<Network>;
    /// Releases what [`NetworkHook::attach`] made for `id`, once it ended or failed to start.
    fn detach(&self, id: &str);
    /// The address container `id` has on its network while attached, for its `/etc/hosts`.
    fn address(&self, _id: &str) -> Option<std::net::IpAddr> {
        None
    }
}

/// `none`: a namespace with only loopback, which the runtime makes; `host`: the host's.
pub struct Local;

impl NetworkHook for Local {
    fn attach(&self, _id: &str, mode: &NetworkMode) -> Result<Network> {
        match mode {
            NetworkMode::None => Ok(Network::None),
            NetworkMode::Host => Ok(Network::Host),
            NetworkMode::Network { name, .. } => Err(crate::error::Error::new(
                berth_core::ErrorKind::NotImplemented,
                format!("this daemon cannot attach containers to network {name}"),
            )),
        }
    }

    fn detach(&self, _id: &str) {}
}
