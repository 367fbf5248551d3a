//! Reading links and addresses back.

use futures_util::TryStreamExt;
use ipnet::IpNet;
use rtnetlink::packet_route::address::AddressAttribute;
use rtnetlink::packet_route::link::{
    InfoBridgePort, InfoPortData, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};

use super::{LinkError, Netlink, Op};
use crate::mac::MacAddr;

/// What the kernel says about one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The interface index.
    pub index: u32,
    /// The interface name.
    pub name: String,
    /// The kind (`bridge`, `veth`, ...); `None` for `lo` and other kindless links.
    pub kind: Option<String>,
    /// The MAC address, if the link has a 6-byte one.
    pub mac: Option<MacAddr>,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// The MTU.
    pub mtu: Option<u32>,
    /// The index of the bridge this link is a port of.
    pub master: Option<u32>,
    /// Hairpin mode, for bridge ports.
    pub hairpin: Option<bool>,
}

impl Netlink {
    /// Lists every link in this namespace.
    pub fn list_links(&self) -> Result<Vec<Link>, LinkError> {
        let msgs: Vec<LinkMessage> = self
            .block(self.handle.link().get().execute().try_collect())
            .map_err(|e| LinkError::netlink(Op::ListLinks, "in this namespace", e))?;
        Ok(msgs.iter().map(Link::from_message).collect())
    }

    /// The link called `name`.
    pub fn link(&self, name: &str) -> Result<Link, LinkError> {
        let index = self.index(name)?;
        self.list_links()?
            .into_iter()
            .find(|l| l.index == index)
            .ok_or_else(|| LinkError::NotFound(name.into()))
    }

    /// The addresses on link `name`, with their prefix lengths.
    pub fn addresses(&self, name: &str) -> Result<Vec<IpNet>, LinkError> {
        let index = self.index(name)?;
        let req = self.handle.address().get().set_link_index_filter(index);
        let msgs: Vec<_> = self
            .block(req.execute().try_collect())
            .map_err(|e| LinkError::netlink(Op::ListAddresses, name, e))?;
        let nets = msgs.iter().filter_map(|m| {
            m.attributes.iter().find_map(|a| match a {
                AddressAttribute::Address(ip) => IpNet::new(*ip, m.header.prefix_len).ok(),
                _ => None,
            })
        });
        Ok(nets.collect())
    }
}

impl Link {
    fn from_message(msg: &LinkMessage) -> Self {
        let mut link = Link {
            index: msg.header.index,
            name: String::new(),
            kind: None,
            mac: None,
            up: msg.header.flags.contains(LinkFlags::Up),
            mtu: None,
            master: None,
            hairpin: None,
        };
        for attr in &msg.attributes {
            match attr {
                LinkAttribute::IfName(n) => link.name.clone_from(n),
                LinkAttribute::Address(a) => link.mac = MacAddr::from_slice(a),
                LinkAttribute::Mtu(m) => link.mtu = Some(*m),
                LinkAttribute::Controller(c) => link.master = Some(*c),
                LinkAttribute::LinkInfo(infos) => link.read_info(infos),
                _ => {}
            }
        }
        link
    }

    fn read_info(&mut self, infos: &[LinkInfo]) {
        for info in infos {
            match info {
                LinkInfo::Kind(kind) => self.kind = Some(kind.to_string()),
                LinkInfo::PortData(InfoPortData::BridgePort(port)) => {
                    self.hairpin = port.iter().find_map(|p| match p {
                        InfoBridgePort::HairpinMode(on) => Some(*on),
                        _ => None,
                    });
                }
                _ => {}
            }
        }
    }
}
