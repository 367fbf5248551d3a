//! OCI distribution, both ends of it.
//!
//! - [`spec`]: what client and server share: media types, manifests and indexes as the wire
//!   has them, and the registry's error codes.
//! - [`digest`]: `sha256:`/`sha512:` digests, parsed so that no path comes out of them, and
//!   their hashing.
//! - [`client`]: talking to a registry: endpoints (mirrors, insecure registries, certificates),
//!   the auth flows, manifests and blobs (pull and push). It stores nothing itself: the daemon
//!   hands it sinks for what it downloads.
//! - [`server`]: `berth registry serve`, a registry over a content store of its own, with
//!   retention policies and an online garbage collector.
//!
//! Nothing here knows Docker's Engine API: the daemon turns its requests into calls here.
#![deny(missing_docs)]

pub mod client;
pub mod digest;
pub mod server;
pub mod spec;
