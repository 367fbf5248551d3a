//! veth pairs: creating them (also with one end made inside a container's namespace), moving
//! one end there, deleting.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use rtnetlink::packet_route::link::{InfoData, InfoKind, InfoVeth};
use rtnetlink::{LinkMessageBuilder, LinkUnspec, LinkVeth};

use super::{LinkError, Netlink, Op, check_ifname};
use crate::mac::MacAddr;

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

/// The container's end of a veth pair made by [`Netlink::create_veth_into`].
pub struct Peer<'a> {
    /// Its name inside, e.g. `eth0`.
    pub name: &'a str,
    /// Its MAC address; `None` lets the kernel pick one.
    pub mac: Option<MacAddr>,
    /// The namespace it is made in.
    pub netns: BorrowedFd<'a>,
}

impl Netlink {
    /// Creates a veth pair in one request: `host` in this namespace, a port of `bridge` and
    /// up, and its peer made directly inside `peer.netns` under its final name and MAC, down.
    /// Nothing is moved or renamed afterwards: moving a link to another namespace waits for
    /// an RCU grace period, the largest part of plugging a container in otherwise.
    pub fn create_veth_into(
        &self,
        host: &str,
        bridge: &str,
        mtu: u32,
        peer: &Peer<'_>,
    ) -> Result<(), LinkError> {
        check_ifname(host)?;
        check_ifname(peer.name)?;
        let mut peer_msg = LinkMessageBuilder::<LinkUnspec>::new()
            .name(peer.name.to_string())
            .mtu(mtu)
            .setns_by_fd(peer.netns.as_raw_fd());
        if let Some(mac) = peer.mac {
            peer_msg = peer_msg.address(mac.octets().to_vec());
        }
        let msg = LinkMessageBuilder::<LinkVeth>::new_with_info_kind(InfoKind::Veth)
            .name(host.to_string())
            .mtu(mtu)
            .controller(self.index(bridge)?)
            .up()
            .set_info_data(InfoData::Veth(InfoVeth::Peer(peer_msg.build())))
            .build();
        self.block(self.handle.link().add(msg).execute())
            .map_err(|e| LinkError::netlink(Op::CreateVeth, host, e))
    }
}
