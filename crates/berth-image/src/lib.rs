//! Images: references, configs, and the store that names them.
//!
//! An image is what a registry serves: its config blob (in the content store, kept byte for
//! byte; its digest is the image ID), its OCI manifest blob, and the layer blobs it names, plus
//! the layer stack unpacked in the snapshot store (by chain ID). The [`ImageStore`] keeps the
//! records and the names (`docker.io/library/busybox:latest` → ID) in the daemon's metadata
//! database, so a crash never leaves a name pointing at half an image: blobs and layers are
//! committed first (pinned by a [`Lease`] meanwhile), the record last, in one transaction; what
//! no record references is garbage, which the collector in `gc` removes.
//!
//! This crate does not know about containers: whether an image is in use is the daemon's question.
#![deny(missing_docs)]

pub mod archive;
pub mod config;
mod error;
mod gc;
pub mod manifest;
pub mod platform;
pub mod reference;
mod store;

pub use config::{ImageConfig, RunConfig};
pub use error::ImageError;
pub use gc::{GcStats, Lease};
pub use platform::{Platform, PlatformError};
pub use reference::{Reference, ReferenceError};
pub use store::{
    BlobSource, Image, ImageStore, ImportOptions, LayerSource, NewLayer, PulledManifest,
    StagedLayer,
};
