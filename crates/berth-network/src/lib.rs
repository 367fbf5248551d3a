//! Container networking for berth, below the daemon: address management, links over netlink,
//! the firewall table and, later, the embedded DNS server. Everything here is relative to the
//! network namespace of the calling thread, so tests run it inside namespaces of their own and
//! never touch the host's links, sysctls or ruleset. It knows nothing of Docker's JSON.
//!
//! - [`netns`]: namespaces as values, and running a closure inside one on its own thread.
//! - [`link`]: single netlink operations (bridges, veth pairs, addresses, routes, hairpin).
//! - [`endpoint`]: a bridge network's two jobs built from them: set up a bridge, plug a
//!   container in.
//! - [`sysctl`], [`mac`]: the per-bridge sysctls; Docker's MACs and veth names.

#![deny(missing_docs)]

pub mod endpoint;
pub mod link;
pub mod mac;
pub mod netns;
pub mod sysctl;
