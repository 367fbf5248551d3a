//! Loading compose files into one tree.

pub mod node;

pub use node::{LoadError, Node, Pos, Scalar, Value};
