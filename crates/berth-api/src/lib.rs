//! The Docker Engine API as data: request and response bodies, the error body, and API version
//! negotiation. No I/O and no logic beyond parsing: the daemon turns these into domain types once,
//! at its edge, and clients build them.
//!
//! Field names and shapes are Docker's (mostly PascalCase); where Docker's JSON carries fields
//! berth does not implement, request types keep them in a `rest` map so the daemon can refuse
//! non-default values by name instead of ignoring them.
#![deny(missing_docs)]

pub mod container;
pub mod exec;
pub mod image;
pub mod system;
mod version;

pub use version::{ApiVersion, MAX_VERSION, MIN_VERSION};

use serde::{Deserialize, Serialize};

/// The body of every error response: `{"message": "..."}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The message, Docker's text where Docker has one.
    pub message: String,
}

/// Whether a JSON value is what Docker's clients send for "not set": null, false, 0, "", and
/// arrays or objects made only of such values.
pub fn is_unset(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.iter().all(is_unset),
        Value::Object(o) => o.values().all(is_unset),
    }
}
