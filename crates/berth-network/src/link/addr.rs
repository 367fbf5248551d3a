//! Addresses and default routes.

use std::net::IpAddr;

use ipnet::IpNet;
use rtnetlink::RouteMessageBuilder;

use super::{LinkError, Netlink, Op};

impl Netlink {
    /// Adds `addr` (address and prefix, e.g. `10.99.0.1/24`) to link `name`.
    pub fn add_address(&self, name: &str, addr: IpNet) -> Result<(), LinkError> {
        let index = self.index(name)?;
        let req = self
            .handle
            .address()
            .add(index, addr.addr(), addr.prefix_len());
        self.block(req.execute())
            .map_err(|e| LinkError::netlink(Op::AddAddress, name, e))
    }

    /// Adds a default route via `gateway` out of link `name`, for the gateway's family.
    pub fn add_default_route(&self, name: &str, gateway: IpAddr) -> Result<(), LinkError> {
        let index = self.index(name)?;
        let msg = match gateway {
            IpAddr::V4(gw) => RouteMessageBuilder::<std::net::Ipv4Addr>::new()
                .output_interface(index)
                .gateway(gw)
                .build(),
            IpAddr::V6(gw) => RouteMessageBuilder::<std::net::Ipv6Addr>::new()
                .output_interface(index)
                .gateway(gw)
                .build(),
        };
        self.block(self.handle.route().add(msg).execute())
            .map_err(|e| LinkError::netlink(Op::AddDefaultRoute, gateway, e))
    }
}
