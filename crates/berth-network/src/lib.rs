//! Container networking for berth, below the daemon: address management (`ipam`), links over
//! netlink, the firewall table (`firewall`), host ports of published ports (`ports`) and the
//! embedded DNS server's answers (`dns`). Everything here is relative to the network namespace
//! of the calling thread, so tests run it inside namespaces of their own and never touch the
//! host's links, sysctls or ruleset. It knows nothing of Docker's JSON.

#![deny(missing_docs)]

pub mod dns;
pub mod firewall;
pub mod ipam;
pub mod ports;

#[cfg(test)]
mod testns;
