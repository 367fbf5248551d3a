//! Container networking for berth, below the daemon: address management, links over netlink,
//! the firewall table and, later, the embedded DNS server. Everything here is relative to the
//! network namespace of the calling thread, so tests run it inside namespaces of their own and
//! never touch the host's links, sysctls or ruleset. It knows nothing of Docker's JSON.

#![deny(missing_docs)]

pub mod ipam;
