//! veth pairs: creating them, moving one end into a container's namespace, deleting.

use std::os::fd::{AsFd, AsRawFd};

use rtnetlink::{LinkUnspec, LinkVeth};

use super::{LinkError, Netlink, Op, check_ifname};

impl Netlink {
    /// Creates a veth pair `host` ↔ `peer` in this namespace, both ends down, with `mtu`
    /// on both.
    pub fn create_veth(&self, host: &str, peer: &str, mtu: u32) -> Result<(), LinkError> {
        check_ifname(host)?;
        check_ifname(peer)?;
        let msg = LinkVeth::new(host, peer).mtu(mtu).build();
        self.block(self.handle.link().add(msg).execute())
            .map_err(|e| LinkError::netlink(Op::CreateVeth, host, e))?;
        self.set_mtu(peer, mtu)
    }

    /// Moves link `name` into the namespace `netns` (an fd of its `ns/net` file). It keeps
    /// its name there and is down.
    pub fn move_to_netns(&self, name: &str, netns: impl AsFd) -> Result<(), LinkError> {
        let fd = netns.as_fd();
        let msg = LinkUnspec::new_with_index(self.index(name)?)
            .setns_by_fd(fd.as_raw_fd())
            .build();
        self.block(self.handle.link().set(msg).execute())
            .map_err(|e| LinkError::netlink(Op::MoveToNetns, name, e))
    }

    /// Deletes link `name`. Deleting either end of a veth pair deletes both, wherever the
    /// other end is; deleting a bridge releases its ports.
    pub fn delete(&self, name: &str) -> Result<(), LinkError> {
        let index = self.index(name)?;
        self.block(self.handle.link().del(index).execute())
            .map_err(|e| LinkError::netlink(Op::Delete, name, e))
    }
}
