//! Container networking for berth, below the daemon. Everything here is relative to the
//! network namespace of the calling thread, so tests run it inside namespaces of their own and
//! never touch the host's links, sysctls or ruleset. It knows nothing of Docker's JSON.
//!
//! - [`ipam`]: Docker's address pools, subnets and addresses.
//! - [`netns`]: namespaces as values, and running a closure inside one on its own thread.
//! - [`link`]: single netlink operations (bridges, veth pairs, addresses, routes, hairpin).
//! - [`endpoint`]: a bridge network's two jobs built from them: set up a bridge, plug a
//!   container in.
//! - [`sysctl`], [`mac`]: the per-bridge sysctls; Docker's MACs and veth names.
//! - [`firewall`]: one nftables table; published ports in maps, bridges in sets.
//! - [`ports`]: host ports of published ports, each held by a bound socket.
//! - [`proxy`]: the in-daemon proxy for what the kernel cannot DNAT (IPv6 to an IPv4
//!   container, `::1`): tasks on the daemon's runtime, no process.
//! - [`reaper`]: links deleted on a thread of their own, off the path of a container's end.
//! - [`conntrack`]: stale connection-tracking entries deleted over ctnetlink, as Docker does.
//! - [`dns`]: the embedded DNS server's answers, its sockets in containers, forwarding.

#![deny(missing_docs)]

pub mod conntrack;
pub mod dns;
pub mod endpoint;
pub mod firewall;
pub mod ipam;
pub mod link;
pub mod mac;
pub mod netns;
pub mod ports;
pub mod proxy;
pub mod reaper;
pub mod sysctl;

#[cfg(test)]
mod testns;
