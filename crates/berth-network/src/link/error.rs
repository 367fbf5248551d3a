//! The one error type of the link layer: which operation, on which interface, and why.

use std::fmt;

use rtnetlink::packet_core::ErrorMessage;

/// An operation of the link layer, for error messages and for callers that match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Finding a link by name.
    Lookup,
    /// Creating a bridge.
    CreateBridge,
    /// Creating a veth pair.
    CreateVeth,
    /// Deleting a link.
    Delete,
    /// Setting a link up.
    SetUp,
    /// Attaching a port to a bridge.
    SetMaster,
    /// Setting hairpin mode on a bridge port.
    SetHairpin,
    /// Moving a link into another namespace.
    MoveToNetns,
    /// Renaming a link.
    Rename,
    /// Setting a MAC address.
    SetMac,
    /// Setting the MTU.
    SetMtu,
    /// Adding an address.
    AddAddress,
    /// Adding a default route.
    AddDefaultRoute,
    /// Listing links.
    ListLinks,
    /// Listing addresses.
    ListAddresses,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Lookup => "look up link",
            Op::CreateBridge => "create bridge",
            Op::CreateVeth => "create veth",
            Op::Delete => "delete link",
            Op::SetUp => "set up link",
            Op::SetMaster => "attach to bridge the link",
            Op::SetHairpin => "set hairpin mode on",
            Op::MoveToNetns => "move to another namespace the link",
            Op::Rename => "rename link",
            Op::SetMac => "set the mac address of",
            Op::SetMtu => "set the mtu of",
            Op::AddAddress => "add an address to",
            Op::AddDefaultRoute => "add a default route via",
            Op::ListLinks => "list links",
            Op::ListAddresses => "list addresses of",
        })
    }
}

/// Why a link operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The runtime or the netlink socket could not be set up.
    #[error("failed to open a netlink connection")]
    Connect(#[source] std::io::Error),
    /// The kernel refused a request.
    #[error("failed to {op} {ifname}")]
    Netlink {
        /// What was being done.
        op: Op,
        /// The interface it was done to (or a gateway, for routes).
        ifname: String,
        /// The kernel's or the codec's answer (boxed: it carries the whole request header).
        #[source]
        source: Box<rtnetlink::Error>,
    },
    /// There is no link of that name in this namespace.
    #[error("no link named {0}")]
    NotFound(String),
    /// The name is empty, longer than 15 bytes, or has `/`, `:` or spaces.
    #[error("invalid interface name {0:?}")]
    InvalidName(String),
}

impl LinkError {
    pub(super) fn netlink(op: Op, ifname: impl fmt::Display, source: rtnetlink::Error) -> Self {
        LinkError::Netlink {
            op,
            ifname: ifname.to_string(),
            source: Box::new(source),
        }
    }
}

/// Whether the kernel answered `ENODEV` ("no such device").
pub(super) fn is_no_device(e: &rtnetlink::Error) -> bool {
    matches!(e, rtnetlink::Error::NetlinkError(m) if is_errno(m, nix::libc::ENODEV))
}

fn is_errno(m: &ErrorMessage, errno: i32) -> bool {
    m.raw_code() == -errno
}
