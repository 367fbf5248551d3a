//! The Docker Engine API as data: request and response bodies, the error body, and API version
//! negotiation. No I/O and no logic beyond parsing: the daemon turns these into domain types once,
//! at its edge, and clients build them.
//!
//! Field names and shapes are Docker's (mostly PascalCase); where Docker's JSON carries fields
//! berth does not implement, request types keep them in a `rest` map; [`fields`] says which of
//! those the daemon refuses by name, which it accepts as Docker ignores them, and which it drops
//! as Docker drops keys no API version defines.
#![deny(missing_docs)]

pub mod container;
pub mod detach;
pub mod exec;
pub mod fields;
pub mod image;
pub mod stats;
pub mod system;
pub mod units;
mod version;

pub use version::{ApiVersion, MAX_VERSION, MIN_VERSION};

use serde::{Deserialize, Serialize};

/// The body of every error response: `{"message": "..."}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The message, Docker's text where Docker has one.
    pub message: String,
}

/// A field's value with `null` read as its default, as Go's decoder reads it (docker-py sends
/// `"WorkingDir": null`).
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// Docker's `StrSlice`: a list of strings, or one string standing for a list of one.
pub fn str_slice<'de, D>(d: D) -> Result<Option<Vec<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => None,
        Some(OneOrMany::One(s)) => Some(vec![s]),
        Some(OneOrMany::Many(v)) => Some(v),
    })
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

/// A duration as Docker writes it in the API's status texts and its CLI's tables ("Less than a
/// second", "About a minute", "3 hours", "2 weeks"): go-units' `HumanDuration`.
pub fn human_duration(secs: i64) -> String {
    let hours = (secs as f64 / 3600.0).round() as i64;
    match secs {
        s if s < 1 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        s if s / 60 == 1 => "About a minute".into(),
        s if s < 3600 => format!("{} minutes", s / 60),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 14 => format!("{} days", hours / 24),
        _ if hours < 24 * 60 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        s => format!("{} years", s / 3600 / 24 / 365),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn human_durations_read_as_dockers() {
        use super::human_duration as h;
        assert_eq!(h(0), "Less than a second");
        assert_eq!(h(1), "1 second");
        assert_eq!(h(59), "59 seconds");
        assert_eq!(h(119), "About a minute");
        assert_eq!(h(120), "2 minutes");
        assert_eq!(h(3600), "About an hour");
        assert_eq!(h(3 * 3600), "3 hours");
        assert_eq!(h(3 * 86400), "3 days");
        assert_eq!(h(21 * 86400), "3 weeks");
        assert_eq!(h(90 * 86400), "3 months");
        assert_eq!(h(3 * 365 * 86400), "3 years");
    }
}
