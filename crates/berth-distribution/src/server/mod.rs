//! `berth registry serve`: an OCI distribution (1.1) registry over a content store of its
//! own, with retention policies and an online garbage collector.
//!
//! - [`storage`]: blobs on berth's content store layout (`blobs/<alg>/<hex>`, `ingest/`),
//!   verified before they are published (digests: `crate::digest`).
//! - [`meta`]: tags, manifests, blob links and referrers per repository, in redb.
//! - [`registry`]: the shared state (uploads and their leases, blob guards, touches).
//! - [`http`] and [`routes`]: the router; one file per operation: [`blobs`], [`uploads`],
//!   [`manifests`], [`tags`] (and the catalog), [`referrers`].
//! - [`gc`]: the online mark and sweep; [`retention`]: the policies.
//! - [`auth`]: htpasswd and token auth; [`config`]: the configuration file;
//!   [`metrics`]: Prometheus counters; [`serve`]: listening, TLS and the schedule;
//!   [`admin`]: the root's socket for on-demand collection while serving.
//! - [`error`]: the one map of errors to the spec's codes and statuses.

pub mod admin;
pub mod auth;
pub mod blobs;
pub mod config;
pub mod error;
pub mod gc;
pub mod http;
pub mod manifests;
pub mod meta;
pub mod metrics;
pub mod names;
pub mod query;
pub mod referrers;
pub mod registry;
pub mod retention;
pub mod routes;
pub mod serve;
pub mod storage;
pub mod tags;
pub mod uploads;

pub use config::Config;
pub use registry::{OpenError, Registry};
pub use serve::{ServeError, Server};
