//! `berth registry serve`'s configuration: a TOML file (`--config`), which flags override.
//!
//! ```toml
//! addr = "127.0.0.1:5000"          # plain HTTP unless [tls] is given
//! root = "/var/lib/berth-registry"
//! delete = true                    # allow DELETE of manifests, tags and blobs
//! chunk_min_length = 1             # advertised as OCI-Chunk-Min-Length
//!
//! [tls]
//! cert = "cert.pem"
//! key = "key.pem"
//!
//! [auth]
//! htpasswd = "htpasswd"            # bcrypt entries (htpasswd -B); basic auth
//! [auth.token]                     # with it, Bearer tokens instead (the registry issues
//! key = "token.key"                #   them at /token for htpasswd users): an Ed25519
//! service = "berth-registry"       #   PKCS#8 key (openssl genpkey -algorithm ed25519)
//! expiry = "5m"
//!
//! [gc]
//! interval = "1h"                  # retention + collection on a schedule (none: on demand)
//! grace = "1h"                     # blobs touched this recently are never swept
//! upload_timeout = "24h"           # an upload idle this long loses its lease
//!
//! [[retention]]                    # see retention.rs
//! repositories = ["team/**"]
//! keep = [{ tags = ["v*"], latest = 3, pushed_within = "100h" }, { tags = ["latest"] }]
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::retention::Policy;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where to listen.
    #[serde(default = "default_addr")]
    pub addr: String,
    /// The storage root.
    #[serde(default = "default_root")]
    pub root: PathBuf,
    /// TLS; plain HTTP without it.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// Who may do what.
    #[serde(default)]
    pub auth: AuthConfig,
    /// Whether DELETE is allowed.
    #[serde(default = "yes")]
    pub delete: bool,
    /// The chunk size advertised to chunked uploads.
    #[serde(default = "one")]
    pub chunk_min_length: u64,
    /// Garbage collection.
    #[serde(default)]
    pub gc: GcConfig,
    /// Retention policies; the first whose pattern matches a repository applies to it.
    #[serde(default)]
    pub retention: Vec<Policy>,
}

/// TLS files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The certificate chain (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
}

/// Authentication: none, basic (htpasswd) or token.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// An htpasswd file of bcrypt entries.
    #[serde(default)]
    pub htpasswd: Option<PathBuf>,
    /// Token auth.
    #[serde(default)]
    pub token: Option<TokenConfig>,
}

/// Token auth: the registry verifies Bearer tokens signed with `key` and issues them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// The Ed25519 private key (PKCS#8 PEM).
    pub key: PathBuf,
    /// The token endpoint clients are sent to; default: `/token` on this registry.
    #[serde(default)]
    pub realm: Option<String>,
    /// The service name tokens are issued for.
    #[serde(default = "default_service")]
    pub service: String,
    /// How long a token lives.
    #[serde(default = "five_minutes", deserialize_with = "duration")]
    pub expiry: Duration,
}

impl TokenConfig {
    /// Token auth with `key` and the defaults.
    pub fn new(key: PathBuf) -> TokenConfig {
        TokenConfig {
            key,
            realm: None,
            service: default_service(),
            expiry: five_minutes(),
        }
    }
}

/// Garbage collection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcConfig {
    /// How often to apply retention and collect; never on its own when absent.
    #[serde(default, deserialize_with = "opt_duration")]
    pub interval: Option<Duration>,
    /// Blobs written, linked or checked this recently are kept even when nothing names them.
    #[serde(default = "one_hour", deserialize_with = "duration")]
    pub grace: Duration,
    /// An upload idle this long is dropped.
    #[serde(default = "one_day", deserialize_with = "duration")]
    pub upload_timeout: Duration,
}

impl Default for GcConfig {
    fn default() -> Self {
        GcConfig {
            interval: None,
            grace: one_hour(),
            upload_timeout: one_day(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        toml::from_str("").expect("the empty configuration is valid")
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file does not parse.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: Box<toml::de::Error>,
    },
}

impl Config {
    /// Reads a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source: Box::new(source),
        })
    }
}

/// Parses `500ms`, `90s`, `30m`, `100h`, `7d`, or a sum of them (`1h30m`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {s:?} (e.g. 90s, 30m, 100h, 7d)");
    let mut total = 0u64;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let millis = match &rest[..unit] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        rest = &rest[unit..];
        total = n
            .checked_mul(millis)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    Ok(Duration::from_millis(total))
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    parse_duration(&s).map_err(serde::de::Error::custom)
}

fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    duration(d).map(Some)
}

pub(crate) fn opt_duration_field<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Duration>, D::Error> {
    opt_duration(d)
}

fn default_addr() -> String {
    "127.0.0.1:5000".into()
}
fn default_root() -> PathBuf {
    "/var/lib/berth-registry".into()
}
fn default_service() -> String {
    "berth-registry".into()
}
fn yes() -> bool {
    true
}
fn one() -> u64 {
    1
}
fn five_minutes() -> Duration {
    Duration::from_secs(300)
}
fn one_hour() -> Duration {
    Duration::from_secs(3600)
}
fn one_day() -> Duration {
    Duration::from_secs(86400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(
            parse_duration("100h").unwrap(),
            Duration::from_secs(360_000)
        );
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        parse_duration("5 parsecs").unwrap_err();
        parse_duration("h").unwrap_err();
    }

    #[test]
    fn the_documented_example_parses() {
        let doc = include_str!("config.rs");
        let example: String = doc
            .lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| format!("{}\n", l.trim_start_matches("//!").trim_start()))
            .collect();
        let c: Config = toml::from_str(&example).unwrap();
        assert_eq!(c.gc.interval, Some(Duration::from_secs(3600)));
        assert_eq!(c.retention[0].keep[0].latest, Some(3));
        assert!(c.auth.token.is_some());
    }
}
