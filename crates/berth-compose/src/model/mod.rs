//! The typed compose project.
