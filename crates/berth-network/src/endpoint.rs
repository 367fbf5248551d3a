//! The two things a bridge network does with links, put together from [`Netlink`]'s single
//! operations: set up a bridge, and plug a container into it with a veth pair.
//!
//! Cleanup is part of the operation: if attaching fails after the veth pair exists, the
//! pair is deleted again (one end takes the other with it), and when that fails too both
//! errors are reported.

use std::net::IpAddr;

use ipnet::IpNet;

use std::os::fd::AsFd;

use crate::link::{LinkError, Netlink, Peer};
use crate::mac::MacAddr;
use crate::netns::{Netns, NetnsError};
use crate::sysctl::{self, SysctlError};

/// A bridge and its gateway addresses.
#[derive(Debug, Clone)]
pub struct Bridge {
    /// Interface name, at most 15 bytes (`berth0`, `br-<12 hex>`).
    pub name: String,
    /// MTU of the bridge.
    pub mtu: u32,
    /// Gateway addresses with the subnet's prefix, e.g. `10.99.0.1/24`.
    pub addresses: Vec<IpNet>,
}

/// A container's interface on a bridge.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The bridge to attach to.
    pub bridge: String,
    /// The host end of the veth pair (see [`crate::mac::random_veth_name`]).
    pub host_ifname: String,
    /// The name inside the container: `eth0`, `eth1`, ...
    pub ifname: String,
    /// MTU of both ends.
    pub mtu: u32,
    /// The MAC inside; `None` means Docker's, derived from the first IPv4 address.
    pub mac: Option<MacAddr>,
    /// Addresses inside, with the subnet's prefix.
    pub addresses: Vec<IpNet>,
    /// Default routes inside, one per family at most.
    pub gateways: Vec<IpAddr>,
}

/// Why setting up a bridge or an endpoint failed.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// A link operation in the namespace of the bridge failed.
    #[error("failed to set up the host side")]
    Host(#[source] LinkError),
    /// A link operation inside the container's namespace failed.
    #[error("failed to set up {ifname} inside the container")]
    Container {
        /// The interface inside.
        ifname: String,
        /// The cause.
        #[source]
        source: LinkError,
    },
    /// The container's namespace could not be entered.
    #[error("failed to enter the container's network namespace")]
    Netns(#[source] NetnsError),
    /// A bridge sysctl could not be set.
    #[error("failed to set the sysctls of the bridge")]
    Sysctl(#[source] SysctlError),
    /// Attaching failed, and deleting the half-made veth pair failed too.
    #[error("{error}; deleting the veth pair afterwards failed too: {cleanup}")]
    Cleanup {
        /// The first failure.
        error: Box<EndpointError>,
        /// The failure to clean up.
        cleanup: LinkError,
    },
}

/// Creates `bridge` in the namespace of `nl`, adds its addresses, sets it up and sets its
/// sysctls. Runs on a thread inside that namespace (for the sysctls).
pub fn setup_bridge(nl: &Netlink, bridge: &Bridge) -> Result<(), EndpointError> {
    nl.create_bridge(&bridge.name, bridge.mtu)
        .map_err(EndpointError::Host)?;
    for addr in &bridge.addresses {
        nl.add_address(&bridge.name, *addr)
            .map_err(EndpointError::Host)?;
    }
    let ipv6 = bridge.addresses.iter().any(|a| matches!(a, IpNet::V6(_)));
    sysctl::enable_bridge(&bridge.name, ipv6).map_err(EndpointError::Sysctl)
}

/// Plugs `container` into `ep.bridge`: a veth pair whose host end joins the bridge with
/// hairpin on, and whose other end is made inside as `ep.ifname`, with its MAC, addresses and
/// default routes, next to a `lo` that is up. `nl` is a connection in the bridge's namespace.
pub fn attach(nl: &Netlink, ep: &Endpoint, container: &Netns) -> Result<(), EndpointError> {
    let peer = Peer {
        name: &ep.ifname,
        mac: ep.mac.or_else(|| docker_mac(&ep.addresses)),
        netns: container.as_fd(),
    };
    nl.create_veth_into(&ep.host_ifname, &ep.bridge, ep.mtu, &peer)
        .map_err(EndpointError::Host)?;
    let result = plug(nl, ep, container);
    if let Err(error) = result {
        return match nl.delete(&ep.host_ifname) {
            Ok(()) => Err(error),
            Err(cleanup) => Err(EndpointError::Cleanup {
                error: Box::new(error),
                cleanup,
            }),
        };
    }
    Ok(())
}

/// Removes the endpoint whose host end is `host_ifname`; its peer goes with it.
pub fn detach(nl: &Netlink, host_ifname: &str) -> Result<(), EndpointError> {
    nl.delete(host_ifname).map_err(EndpointError::Host)
}

fn plug(nl: &Netlink, ep: &Endpoint, container: &Netns) -> Result<(), EndpointError> {
    nl.set_hairpin(&ep.host_ifname, true)
        .map_err(EndpointError::Host)?;
    container
        .run(|| configure_inside(ep))
        .map_err(EndpointError::Netns)?
        .map_err(|source| EndpointError::Container {
            ifname: ep.ifname.clone(),
            source,
        })
}

/// The in-container half; runs on a thread inside the container's namespace.
fn configure_inside(ep: &Endpoint) -> Result<(), LinkError> {
    let nl = Netlink::open()?;
    nl.set_up("lo")?;
    for addr in &ep.addresses {
        nl.add_address(&ep.ifname, *addr)?;
    }
    nl.set_up(&ep.ifname)?;
    for gw in &ep.gateways {
        nl.add_default_route(&ep.ifname, *gw)?;
    }
    Ok(())
}

fn docker_mac(addresses: &[IpNet]) -> Option<MacAddr> {
    addresses.iter().find_map(|a| match a {
        IpNet::V4(v4) => Some(MacAddr::from_ipv4(v4.addr())),
        IpNet::V6(_) => None,
    })
}
