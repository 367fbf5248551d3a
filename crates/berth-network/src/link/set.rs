//! Link flags, names, MTU and MAC addresses.

use rtnetlink::LinkUnspec;
use rtnetlink::packet_route::link::LinkMessage;

use super::{LinkError, Netlink, Op, check_ifname};
use crate::mac::MacAddr;

impl Netlink {
    /// Sets link `name` up.
    pub fn set_up(&self, name: &str) -> Result<(), LinkError> {
        let msg = LinkUnspec::new_with_index(self.index(name)?).up().build();
        self.set(Op::SetUp, name, msg)
    }

    /// Renames link `from` to `to`; the link must be down.
    pub fn rename(&self, from: &str, to: &str) -> Result<(), LinkError> {
        check_ifname(to)?;
        let msg = LinkUnspec::new_with_index(self.index(from)?)
            .name(to)
            .build();
        self.set(Op::Rename, from, msg)
    }

    /// Sets the MTU of link `name`.
    pub fn set_mtu(&self, name: &str, mtu: u32) -> Result<(), LinkError> {
        let msg = LinkUnspec::new_with_index(self.index(name)?)
            .mtu(mtu)
            .build();
        self.set(Op::SetMtu, name, msg)
    }

    /// Sets the MAC address of link `name`.
    pub fn set_mac(&self, name: &str, mac: MacAddr) -> Result<(), LinkError> {
        let msg = LinkUnspec::new_with_index(self.index(name)?)
            .address(mac.octets().to_vec())
            .build();
        self.set(Op::SetMac, name, msg)
    }

    fn set(&self, op: Op, name: &str, msg: LinkMessage) -> Result<(), LinkError> {
        self.block(self.handle.link().set(msg).execute())
            .map_err(|e| LinkError::netlink(op, name, e))
    }
}
