//! The Compose Specification for berth.
//!
//! - [`load`] turns compose files into one tree: discovery, `.env`, interpolation, `include`,
//!   `extends`, merging of several files; every node keeps its file and line for errors.
//! - [`model`] is the typed project decoded from that tree (short syntaxes normalised to long
//!   ones), profiles, and the canonical form `config` prints.
//! - [`open`] joins the two: the command line's options to a project ready to act on.
//! - [`ops`] drives a project through the Engine API ([`berth_client`]) only: up, down, run,
//!   logs, rolling updates and the lifecycle commands, one operation per file.

pub mod load;
pub mod model;
pub mod open;
pub mod ops;
