//! The per-network sysctls a bridge needs, written through `/proc/sys`.
//!
//! `/proc/sys/net` shows the network namespace of the thread that opens the file, so call
//! these on a thread inside the namespace (a [`Netns::run`](crate::netns::Netns::run)).

use std::path::PathBuf;

/// A sysctl could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SysctlError {
    /// Writing failed.
    #[error("failed to write {value} to {path}")]
    Write {
        /// The file under `/proc/sys`.
        path: PathBuf,
        /// What was being written.
        value: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Reading failed.
    #[error("failed to read {path}")]
    Read {
        /// The file under `/proc/sys`.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Writes `value` to sysctl `key` (dotted, as `sysctl -w` takes it).
pub fn write(key: &str, value: &str) -> Result<(), SysctlError> {
    let path = PathBuf::from("/proc/sys").join(key.replace('.', "/"));
    std::fs::write(&path, value).map_err(|source| SysctlError::Write {
        path,
        value: value.into(),
        source,
    })
}

/// Reads sysctl `key`, trimmed.
pub fn read(key: &str) -> Result<String, SysctlError> {
    let path = PathBuf::from("/proc/sys").join(key.replace('.', "/"));
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(s.trim().to_owned()),
        Err(source) => Err(SysctlError::Read { path, source }),
    }
}

/// What a bridge network needs from the namespace it lives in: IPv4 forwarding,
/// `route_localnet` on the bridge only (so DNAT of 127.0.0.1 to a container works, notes §3),
/// and IPv6 forwarding when the network has IPv6.
pub fn enable_bridge(bridge: &str, ipv6: bool) -> Result<(), SysctlError> {
    // Interface names have no dots, so the dotted key is unambiguous.
    write(&format!("net.ipv4.conf.{bridge}.route_localnet"), "1")?;
    write("net.ipv4.ip_forward", "1")?;
    if ipv6 {
        write("net.ipv6.conf.all.forwarding", "1")?;
    }
    Ok(())
}
