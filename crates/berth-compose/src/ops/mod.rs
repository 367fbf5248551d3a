//! A project driven through the Engine API: one operation per file, over [`api::Api`].

pub mod api;
pub mod converge;
pub mod convert;
pub mod down;
pub mod error;
pub mod graph;
pub mod images;
pub mod labels;
pub mod lifecycle;
pub mod logs;
mod mounts;
pub mod networks;
pub mod observed;
pub mod parallel;
pub mod progress;
mod resources;
pub mod run;
pub mod secrets;
pub mod start;
pub mod up;
pub mod update;
pub mod volumes;

pub use error::Error;
