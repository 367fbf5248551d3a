//! Loading compose files into one tree.

pub mod de;
pub mod dotenv;
pub mod interpolate;
pub mod node;
pub mod yaml;

pub use node::{LoadError, Node, Pos, Scalar, Value};
