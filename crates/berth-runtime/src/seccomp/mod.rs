//! Seccomp: which system calls a container may make.
//!
//! Lifecycle of a filter:
//! 1. A [`Profile`] in Docker's format: berth's default ([`Profile::default_profile`], equal in
//!    effect to Docker's) or one the client or daemon configuration gave.
//! 2. [`Profile::resolve`] keeps the rules that apply to this host and to the container's
//!    bounding capabilities, giving the OCI `linux.seccomp` written into `config.json` (what an
//!    external runtime such as runc reads).
//! 3. The daemon compiles that to BPF once per distinct filter ([`Cache`]) and writes it into
//!    the bundle ([`Compiled::write`]).
//! 4. For the embedded runtime, berth's executor loads it ([`load`]) in the container's init and
//!    in every exec'd process, right before `execve`: about 0.4 ms instead of a 20–30 ms
//!    compile at every start.

mod compile;
mod load;
mod newer;
mod profile;
mod resolve;

use std::path::Path;

pub use compile::{Cache, compile};
pub use load::{drop_admin, load};
pub use profile::{ArchMap, DEFAULT, Filter, Profile, Rule};
pub use resolve::Host;

/// Why a profile cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeccompError {
    /// The profile is malformed (Docker's words where it has them).
    #[error("{0}")]
    Profile(String),
    /// libseccomp refused the filter, or it uses what berth does not support.
    #[error("compiling the seccomp filter: {0}")]
    Compile(String),
}

/// A filter ready to load: the BPF program and the flags of seccomp(2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    /// `SECCOMP_FILTER_FLAG_*` bits.
    pub flags: u32,
    /// The program, 8 bytes per instruction, in the machine's byte order.
    pub bpf: Vec<u8>,
}

/// Where a bundle keeps its compiled filter.
pub const BUNDLE_FILE: &str = "seccomp.filter";

impl Compiled {
    /// Writes the filter as a file: the flags (4 bytes, little-endian), then the program.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut bytes = self.flags.to_le_bytes().to_vec();
        bytes.extend_from_slice(&self.bpf);
        std::fs::write(path, bytes)
    }

    /// Reads what [`Compiled::write`] wrote.
    pub fn read(path: &Path) -> std::io::Result<Compiled> {
        let bytes = std::fs::read(path)?;
        if bytes.len() < 4 || (bytes.len() - 4) % 8 != 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} is not a compiled seccomp filter", path.display()),
            ));
        }
        Ok(Compiled {
            flags: u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
            bpf: bytes[4..].to_vec(),
        })
    }
}
