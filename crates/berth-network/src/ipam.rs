//! IP address management, the way Docker 20.10's built-in (libnetwork) IPAM does it.
//!
//! [`Pools`] picks a subnet for a new network from the default address pools. [`Subnet`] is
//! one network's address space: its gateway, optional `--ip-range`, aux addresses and the
//! addresses handed to containers. It is plain data (serde) so the daemon can store it with
//! the network and reload it after a restart. Nothing here does I/O: the daemon reads the
//! host's routes and nameservers and passes them in.
//!
//! IPv6: Docker 20.10 has no default IPv6 pools, so `--ipv6` without an IPv6 `--subnet`
//! fails with "could not find an available, non-overlapping IPv6 address pool ...". We keep
//! that: an IPv6 subnet is either given, or comes from an IPv6 base that the admin put in
//! `default-address-pools` (Docker 20.10 accepts those too). No ULA is invented for the user.

mod addrset;
mod error;
mod pools;
mod subnet;

pub use addrset::AddrSet;
pub use error::{IpFamily, IpamError};
pub use pools::{PoolConfig, Pools, check_subnet};
pub use subnet::{Order, Subnet};
