//! One network's address space: gateway, ip-range, aux addresses and container addresses.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::IpamError;
use super::addrset::{AddrSet, next, prev};

/// Which free address [`Subnet::allocate`] hands out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Order {
    /// The lowest free address. Docker 20.10 does this for local networks: libnetwork only
    /// asks bitseq for serial allocation when `com.docker.network.ipam.serial` is set, and
    /// only swarmkit sets it.
    #[default]
    LowestFree,
    /// The next free address after the last one handed out, wrapping at the end (bitseq's
    /// serial mode), so a released address is not reused at once.
    Serial,
}

/// A network's subnet and the addresses taken in it. Serializable, to be stored with the
/// network; it is trusted when loaded back (validation happens in [`Subnet::new`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    subnet: IpNet,
    gateway: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ip_range: Option<IpNet>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    aux: BTreeMap<String, IpAddr>,
    /// Container addresses only; the gateway and aux addresses are reserved by their fields.
    #[serde(default)]
    allocated: AddrSet,
    #[serde(default)]
    order: Order,
    /// The last address handed out, where [`Order::Serial`] continues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last: Option<IpAddr>,
}

impl Subnet {
    /// Checks and reserves a network's `--subnet`, `--gateway`, `--ip-range` and
    /// `--aux-address`es. Host bits in `subnet` and `ip_range` are dropped, as Go's
    /// `net.ParseCIDR` does. Without a gateway, the first free address of the range (or
    /// subnet) becomes the gateway, as libnetwork asks its allocator for one.
    pub fn new(
        subnet: IpNet,
        gateway: Option<IpAddr>,
        ip_range: Option<IpNet>,
        aux: BTreeMap<String, IpAddr>,
    ) -> Result<Self, IpamError> {
        let subnet = subnet.trunc();
        let ip_range = ip_range.map(|r| r.trunc());
        if let Some(range) = ip_range.filter(|r| !subnet.contains(r)) {
            return Err(IpamError::RangeOutsideSubnet { range, subnet });
        }
        let mut s = Subnet {
            subnet,
            gateway: subnet.network(),
            ip_range,
            aux: BTreeMap::new(),
            allocated: AddrSet::default(),
            order: Order::default(),
            last: None,
        };
        s.gateway = s.pick_gateway(gateway)?;
        for (name, addr) in aux {
            s.reserve_aux(name, addr)?;
        }
        Ok(s)
    }

    /// The same subnet with another allocation order.
    pub fn with_order(mut self, order: Order) -> Self {
        self.order = order;
        self
    }

    /// The subnet.
    pub fn subnet(&self) -> IpNet {
        self.subnet
    }

    /// The gateway address.
    pub fn gateway(&self) -> IpAddr {
        self.gateway
    }

    /// The `--ip-range` that automatic addresses come from, if any.
    pub fn ip_range(&self) -> Option<IpNet> {
        self.ip_range
    }

    /// The reserved aux addresses by name.
    pub fn aux(&self) -> &BTreeMap<String, IpAddr> {
        &self.aux
    }

    /// The container addresses handed out.
    pub fn allocated(&self) -> &AddrSet {
        &self.allocated
    }

    /// Hands out `wanted` (`--ip`), or the next free address of the range or subnet.
    /// A wanted address must be in the subnet but may lie outside `--ip-range`, as in Docker.
    pub fn allocate(&mut self, wanted: Option<IpAddr>) -> Result<IpAddr, IpamError> {
        let addr = match wanted {
            Some(addr) => self.check_wanted(addr)?,
            None => {
                let addr = self.next_free().ok_or(IpamError::Exhausted {
                    subnet: self.subnet,
                })?;
                self.last = Some(addr);
                addr
            }
        };
        self.allocated.insert(addr);
        Ok(addr)
    }

    /// Gives `addr` back. Releasing a free address does nothing; the gateway and aux
    /// addresses stay reserved for the network's lifetime.
    pub fn release(&mut self, addr: IpAddr) -> Result<(), IpamError> {
        if !self.subnet.contains(&addr) {
            return Err(IpamError::OutOfRange { addr });
        }
        self.allocated.remove(addr);
        Ok(())
    }

    fn pick_gateway(&self, wanted: Option<IpAddr>) -> Result<IpAddr, IpamError> {
        let Some(gateway) = wanted else {
            let subnet = self.subnet;
            return self.next_free().ok_or(IpamError::NoGateway { subnet });
        };
        if !self.subnet.contains(&gateway) {
            return Err(IpamError::GatewayOutOfRange { gateway });
        }
        if !self.is_host(gateway) {
            return Err(IpamError::GatewayInUse { gateway });
        }
        Ok(gateway)
    }

    fn reserve_aux(&mut self, name: String, addr: IpAddr) -> Result<(), IpamError> {
        if !self.subnet.contains(&addr) {
            let subnet = self.subnet;
            return Err(IpamError::AuxOutsideSubnet { name, addr, subnet });
        }
        if !self.is_host(addr) || self.is_reserved(addr) {
            return Err(IpamError::AuxInUse { name, addr });
        }
        self.aux.insert(name, addr);
        Ok(())
    }

    fn check_wanted(&self, addr: IpAddr) -> Result<IpAddr, IpamError> {
        if !self.subnet.contains(&addr) {
            return Err(IpamError::OutOfRange { addr });
        }
        if !self.is_host(addr) || self.is_reserved(addr) || self.allocated.contains(addr) {
            return Err(IpamError::InUse { addr });
        }
        Ok(addr)
    }

    /// The next address [`Order`] picks, searching to the end of the window and wrapping.
    fn next_free(&self) -> Option<IpAddr> {
        let (lo, hi) = self.window()?;
        let start = match self.order {
            Order::LowestFree => lo,
            Order::Serial => self
                .last
                .and_then(next)
                .filter(|a| (lo..=hi).contains(a))
                .unwrap_or(lo),
        };
        self.free_between(start, hi)
            .or_else(|| self.free_between(lo, prev(start)?))
    }

    /// The lowest address in `from..=to` that is neither handed out nor reserved. Each
    /// round skips one run and one reserved address, so it loops at most aux + 2 times.
    fn free_between(&self, mut from: IpAddr, to: IpAddr) -> Option<IpAddr> {
        while from <= to {
            let candidate = self.allocated.first_free(from, to)?;
            if !self.is_reserved(candidate) {
                return Some(candidate);
            }
            from = next(candidate)?;
        }
        None
    }

    fn is_reserved(&self, addr: IpAddr) -> bool {
        // The gateway starts as the network address while it is being picked, which is
        // never a host anyway.
        addr == self.gateway || self.aux.values().any(|&a| a == addr)
    }

    /// Whether `addr` may be handed out at all: not the network address, and for IPv4 not
    /// the broadcast address (libnetwork sets those bits at pool creation).
    fn is_host(&self, addr: IpAddr) -> bool {
        self.hosts()
            .is_some_and(|(lo, hi)| (lo..=hi).contains(&addr))
    }

    fn hosts(&self) -> Option<(IpAddr, IpAddr)> {
        let lo = next(self.subnet.network())?;
        let hi = match self.subnet {
            IpNet::V4(_) => prev(self.subnet.broadcast())?,
            IpNet::V6(_) => self.subnet.broadcast(),
        };
        (lo <= hi).then_some((lo, hi))
    }

    /// Where automatic addresses come from: the hosts, narrowed to `--ip-range`. The
    /// range's own first and last addresses are usable, as in libnetwork.
    fn window(&self) -> Option<(IpAddr, IpAddr)> {
        let (mut lo, mut hi) = self.hosts()?;
        if let Some(range) = self.ip_range {
            lo = lo.max(range.network());
            hi = hi.min(range.broadcast());
        }
        (lo <= hi).then_some((lo, hi))
    }
}

#[cfg(test)]
#[path = "subnet_tests.rs"]
mod tests;
