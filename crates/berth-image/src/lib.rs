//! Images: references, configs, and the store that names them.
//!
//! An image is its config blob (in the content store; its digest is the image ID) plus the layer
//! stack it points at (unpacked in the snapshot store, by chain ID). The [`ImageStore`] keeps the
//! records and the names (`docker.io/library/busybox:latest` → ID) in the daemon's metadata
//! database, so a crash never leaves a name pointing at half an image: blobs and layers are
//! committed first, the record last, in one transaction.
//!
//! This crate does not know about containers: whether an image is in use is the daemon's question.
#![deny(missing_docs)]

pub mod config;
mod error;
pub mod reference;
mod store;

pub use config::{ImageConfig, RunConfig};
pub use error::ImageError;
pub use reference::{Reference, ReferenceError};
pub use store::{Image, ImageStore, ImportOptions};
