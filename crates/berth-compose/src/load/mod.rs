//! Loading compose files into one tree.

pub mod de;
pub mod dotenv;
pub mod interpolate;
pub mod merge;
pub mod node;
pub mod paths;
pub mod reset;
pub mod unique;
pub mod yaml;

pub use node::{LoadError, Node, Pos, Scalar, Value};
