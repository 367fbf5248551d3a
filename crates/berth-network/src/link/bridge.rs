//! Bridges and their ports.

use rtnetlink::{LinkBridge, LinkBridgePort, LinkUnspec};

use super::{LinkError, Netlink, Op, check_ifname};

impl Netlink {
    /// Creates bridge `name` with `mtu`, sets it up, and returns its index.
    ///
    /// Addresses (the gateway) are added with [`Netlink::add_address`].
    pub fn create_bridge(&self, name: &str, mtu: u32) -> Result<u32, LinkError> {
        check_ifname(name)?;
        let msg = LinkBridge::new(name).mtu(mtu).up().build();
        self.block(self.handle.link().add(msg).execute())
            .map_err(|e| LinkError::netlink(Op::CreateBridge, name, e))?;
        self.index(name)
    }

    /// Makes `port` a port of `bridge` (`ip link set PORT master BRIDGE`).
    pub fn set_master(&self, port: &str, bridge: &str) -> Result<(), LinkError> {
        let bridge_index = self.index(bridge)?;
        let msg = LinkUnspec::new_with_index(self.index(port)?)
            .controller(bridge_index)
            .build();
        self.block(self.handle.link().set(msg).execute())
            .map_err(|e| LinkError::netlink(Op::SetMaster, port, e))
    }

    /// Sets hairpin mode on bridge port `port` (`bridge link set dev PORT hairpin on`), so a
    /// container can reach itself through a published port (see the notes, §3).
    pub fn set_hairpin(&self, port: &str, on: bool) -> Result<(), LinkError> {
        let msg = LinkBridgePort::new(self.index(port)?).hairpin(on).build();
        self.block(self.handle.link().set_port(msg).execute())
            .map_err(|e| LinkError::netlink(Op::SetHairpin, port, e))
    }
}
