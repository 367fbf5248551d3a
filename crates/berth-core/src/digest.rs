//! Content digests (`sha256:<64 hex>`), the address of every blob.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A validated `sha256:<hex>` digest. Only sha256 is accepted: it is what Docker and OCI images use.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

/// Why a string is not a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidDigest(pub String);

impl fmt::Display for InvalidDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid digest {:?}: expected sha256 followed by 64 hex digits",
            self.0
        )
    }
}

impl std::error::Error for InvalidDigest {}

impl Digest {
    /// Builds a digest from the raw 32 bytes of a sha256 sum.
    pub fn from_sha256(sum: &[u8]) -> Self {
        Digest(format!(
            "sha256:{}",
            sum.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ))
    }

    /// The 64 hex digits.
    pub fn hex(&self) -> &str {
        &self.0[7..]
    }

    /// The whole `sha256:<hex>` text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Digest {
    type Err = InvalidDigest;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.strip_prefix("sha256:") {
            Some(hex) if crate::id::is_full_id(hex) => Ok(Digest(s.to_string())),
            _ => Err(InvalidDigest(s.to_string())),
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
