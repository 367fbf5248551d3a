//! What pull and push share: the daemon's registry settings, progress as the services report
//! it, and registry errors in dockerd's words.

use std::time::Instant;

use berth_core::ErrorKind;
use berth_distribution::client::{ClientError, Settings};
use berth_distribution::spec::ErrorCode;
use berth_image::Reference;

use crate::error::Error;

/// dockerd's registry options.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// Mirrors, insecure registries, certificate directories.
    pub settings: Settings,
    /// `max-concurrent-downloads` (3).
    pub max_downloads: usize,
    /// `max-concurrent-uploads` (5).
    pub max_uploads: usize,
    /// `max-download-attempts` (5).
    pub max_attempts: u32,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            settings: Settings::default(),
            max_downloads: 3,
            max_uploads: 5,
            max_attempts: 5,
        }
    }
}

/// One line of a pull's or push's progress: a layer's (`id`: its short digest) or the
/// transfer's, with bytes done of all when there is a count.
#[derive(Debug, Clone)]
pub struct Progress {
    /// The layer (12 hex digits) or tag it is about.
    pub id: Option<String>,
    /// `Downloading`, `Pull complete`, `Digest: sha256:...`.
    pub status: String,
    /// Bytes done and in all, and when the transfer started.
    pub detail: Option<(u64, u64, Instant)>,
    /// A push's closing summary (`Tag`, `Digest`, `Size`), the stream's `aux`.
    pub aux: Option<(String, String, u64)>,
}

impl Progress {
    /// A status line.
    pub fn status(id: Option<&str>, status: impl Into<String>) -> Progress {
        Progress {
            id: id.map(str::to_string),
            status: status.into(),
            detail: None,
            aux: None,
        }
    }
}

/// Where the service reports progress; a closed receiver (a client gone) is not an error.
pub type Say = tokio::sync::mpsc::UnboundedSender<Progress>;

/// The 12 hex digits a layer is shown by.
pub fn short(digest: &str) -> String {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    hex.chars().take(12).collect()
}

/// A registry error of a pull of `reference`, as dockerd words it.
pub fn pull_error(e: ClientError, reference: &Reference) -> Error {
    let repo = reference.familiar_repository();
    let message = e.to_string();
    match e.code() {
        Some(ErrorCode::ManifestUnknown) => Error::new(
            ErrorKind::NotFound,
            format!("manifest for {} not found: {message}", reference.familiar()),
        ),
        Some(ErrorCode::NameUnknown) => Error::new(
            ErrorKind::NotFound,
            format!("repository {repo} not found: {message}"),
        ),
        Some(ErrorCode::Denied) | Some(ErrorCode::Unauthorized) => Error::new(
            ErrorKind::NotFound,
            format!(
                "pull access denied for {repo}, repository does not exist or may require 'docker login': {message}"
            ),
        ),
        _ => transfer_error(e),
    }
}

/// Any other registry error of a pull or push. Refused credentials are not a 401 here, as
/// with dockerd: the docker CLI answers a 401 by prompting for a login.
pub fn transfer_error(e: ClientError) -> Error {
    let kind = match &e {
        ClientError::Config(_) | ClientError::Protocol(_) => ErrorKind::InvalidArgument,
        ClientError::Registry { status: 404, .. } => ErrorKind::NotFound,
        _ => ErrorKind::Internal,
    };
    Error::new(kind, chain(&e))
}

/// A registry error of a login: refused credentials are a 401.
pub fn login_error(e: ClientError) -> Error {
    match &e {
        ClientError::Auth(_) | ClientError::Registry { status: 401, .. } => {
            Error::new(ErrorKind::Unauthorized, chain(&e))
        }
        _ => transfer_error(e),
    }
}

/// The error and its causes in one line, each once (reqwest repeats its cause's text).
fn chain(e: &ClientError) -> String {
    let mut text = e.to_string();
    let mut cur = std::error::Error::source(e);
    while let Some(c) = cur {
        let part = c.to_string();
        if !text.contains(&part) {
            text.push_str(&format!(": {part}"));
        }
        cur = c.source();
    }
    text
}
