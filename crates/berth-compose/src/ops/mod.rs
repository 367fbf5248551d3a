//! A project driven through the Engine API: one operation per file, over [`api::Api`].

pub mod api;
pub mod graph;
pub mod labels;
pub mod lifecycle;
pub mod logs;
pub mod observed;
pub mod progress;
