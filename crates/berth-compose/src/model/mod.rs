//! The typed compose project.

pub mod canonical;
