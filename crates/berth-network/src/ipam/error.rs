//! The IPAM error type. Display texts are Docker's own messages, because clients match them.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

/// An address family, for messages that name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpFamily {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl IpFamily {
    /// The family of `net`.
    pub fn of(net: &IpNet) -> Self {
        match net {
            IpNet::V4(_) => IpFamily::V4,
            IpNet::V6(_) => IpFamily::V6,
        }
    }
}

impl fmt::Display for IpFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IpFamily::V4 => "4",
            IpFamily::V6 => "6",
        })
    }
}

/// Everything IPAM can refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpamError {
    /// A `default-address-pools` base is not a CIDR (ipamutils `splitNetworks`).
    #[error("invalid base pool {base:?}: invalid CIDR address: {base}")]
    InvalidBasePool {
        /// The base as configured.
        base: String,
    },
    /// A `default-address-pools` size is 0, shorter than the base's prefix, or too long.
    #[error("invalid pools size: {size}")]
    InvalidPoolSize {
        /// The size as configured.
        size: u32,
    },
    /// Every default pool of this family overlaps a network or a host route.
    #[error(
        "could not find an available, non-overlapping IPv{family} address pool among the defaults to assign to the network"
    )]
    NoAvailablePool {
        /// The family that was asked for.
        family: IpFamily,
    },
    /// A user-given subnet overlaps an existing network's subnet.
    #[error("Pool overlaps with other one on this address space")]
    PoolOverlap {
        /// The subnet asked for.
        subnet: IpNet,
        /// The existing subnet it overlaps.
        existing: IpNet,
    },
    /// `--ip-range` is not inside `--subnet` (docker CLI's text; the 20.10 daemon misbehaves).
    #[error("no matching subnet for range {range}")]
    RangeOutsideSubnet {
        /// The range asked for.
        range: IpNet,
        /// The network's subnet.
        subnet: IpNet,
    },
    /// `--gateway` is not inside the subnet (libnetwork `ipamAllocateVersion`).
    #[error("failed to allocate gateway ({gateway}): Requested address is out of range")]
    GatewayOutOfRange {
        /// The gateway asked for.
        gateway: IpAddr,
    },
    /// `--gateway` is the network or broadcast address.
    #[error("failed to allocate gateway ({gateway}): Address already in use")]
    GatewayInUse {
        /// The gateway asked for.
        gateway: IpAddr,
    },
    /// No address is left for a default gateway.
    #[error("failed to allocate gateway (): No available addresses on this pool")]
    NoGateway {
        /// The network's subnet.
        subnet: IpNet,
    },
    /// An aux address is outside the subnet (libnetwork `ipamAllocateVersion`).
    #[error("auxiliary address: ({name}:{addr}) must belong to the master pool: {subnet}")]
    AuxOutsideSubnet {
        /// The aux address's name.
        name: String,
        /// The address.
        addr: IpAddr,
        /// The network's subnet.
        subnet: IpNet,
    },
    /// An aux address is the network, broadcast or gateway address, or another aux address.
    #[error("failed to allocate secondary ip address ({name}:{addr}): Address already in use")]
    AuxInUse {
        /// The aux address's name.
        name: String,
        /// The address.
        addr: IpAddr,
    },
    /// A wanted or released address is outside the subnet (ipamapi `ErrIPOutOfRange`).
    #[error("Requested address is out of range")]
    OutOfRange {
        /// The address.
        addr: IpAddr,
    },
    /// A wanted address is taken or reserved (ipamapi `ErrIPAlreadyAllocated`).
    #[error("Address already in use")]
    InUse {
        /// The address.
        addr: IpAddr,
    },
    /// No free address is left (ipamapi `ErrNoAvailableIPs`).
    #[error("No available addresses on this pool")]
    Exhausted {
        /// The network's subnet.
        subnet: IpNet,
    },
}
