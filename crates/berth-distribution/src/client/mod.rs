//! The registry client: endpoints ([`endpoint`]), auth ([`auth`]), and a repository's
//! manifests and blobs ([`Repository`]). It keeps nothing on disk: a pull's bytes go to the
//! sink its caller gives ([`Repository::download`]), a push's come from the caller's reader.

pub mod auth;
pub mod endpoint;
mod repository;
mod upload;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

pub use auth::Credentials;
pub use endpoint::{Endpoint, Settings};
pub use repository::{Manifest, Repository};
pub use reqwest::Url;
pub use upload::Started;

use crate::spec::{ErrorBody, ErrorCode, ErrorInfo};

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The registry answered with an error status (and, usually, an error body).
    #[error("{}", registry_message(*status, errors))]
    Registry {
        /// The HTTP status.
        status: u16,
        /// The errors of the body.
        errors: Vec<ErrorInfo>,
    },
    /// The registry could not be reached or the exchange broke.
    #[error("{what}: {source}")]
    Http {
        /// What was being done.
        what: String,
        /// The cause.
        source: reqwest::Error,
    },
    /// Content did not have its digest.
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        /// What was fetched.
        what: String,
        /// The digest asked for.
        expected: String,
        /// The digest of what came.
        actual: String,
    },
    /// The auth flow failed.
    #[error("{0}")]
    Auth(String),
    /// The registry sent something berth cannot use.
    #[error("{0}")]
    Protocol(String),
    /// The settings are wrong (a mirror URL, a certificate file).
    #[error("{0}")]
    Config(String),
}

fn registry_message(status: u16, errors: &[ErrorInfo]) -> String {
    match errors.first() {
        Some(e) => format!("{}: {}", code_text(e.code, status), e.message),
        None => match status {
            401 => "unauthorized: authentication required".into(),
            404 => "not found".into(),
            s => format!("unexpected status from the registry: {s}"),
        },
    }
}

/// A code as distribution's `errcode` prints it (`manifest unknown`).
pub fn code_text(code: ErrorCode, status: u16) -> String {
    let text = serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .filter(|_| code != ErrorCode::Unknown)
        .unwrap_or_else(|| format!("status {status}"));
    text.to_ascii_lowercase().replace('_', " ")
}

impl ClientError {
    fn http(what: impl Into<String>) -> impl FnOnce(reqwest::Error) -> ClientError {
        let what = what.into();
        move |source| ClientError::Http { what, source }
    }

    /// An error status with the body the registry sent.
    pub fn from_reply(status: u16, body: &str) -> ClientError {
        let errors = serde_json::from_str::<ErrorBody>(body)
            .map(|b| b.errors)
            .unwrap_or_default();
        ClientError::Registry { status, errors }
    }

    /// The first error code of a registry's answer.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Registry { errors, .. } => errors.first().map(|e| e.code),
            _ => None,
        }
    }

    /// The HTTP status of a registry's answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Registry { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether another endpoint (a mirror's fallback, plain HTTP after HTTPS) may do better:
    /// the registry was not reached, or a mirror does not have it.
    pub fn falls_back(&self) -> bool {
        matches!(self, ClientError::Http { source, .. } if source.is_connect() || source.is_request())
    }
}

/// The client of every registry, shared by the daemon: its settings, one HTTP client per
/// endpoint (their TLS differs), and the bearer tokens it holds.
#[derive(Clone)]
pub struct Client {
    settings: Arc<Settings>,
    clients: Arc<Mutex<BTreeMap<(String, bool), reqwest::Client>>>,
    tokens: Arc<Mutex<BTreeMap<String, auth::Token>>>,
}

impl Client {
    /// A client with the daemon's registry settings.
    pub fn new(settings: Settings) -> Client {
        Client {
            settings: Arc::new(settings),
            clients: Arc::default(),
            tokens: Arc::default(),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The HTTP client for `endpoint`.
    pub fn http(&self, endpoint: &Endpoint) -> Result<reqwest::Client, ClientError> {
        let key = (endpoint.base.authority().to_string(), endpoint.skip_verify);
        if let Some(c) = self.clients.lock().expect("clients lock").get(&key) {
            return Ok(c.clone());
        }
        let tls = self.settings.tls(endpoint)?;
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(rustls::ClientConfig::clone(&tls))
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(15))
            .build()
            .map_err(|e| ClientError::Config(format!("HTTP client: {e}")))?;
        self.clients
            .lock()
            .expect("clients lock")
            .insert(key, client.clone());
        Ok(client)
    }

    /// `repository` (`library/busybox`) at `endpoint`, with `creds`, for `actions`
    /// (`pull`, `pull,push`).
    pub fn repository(
        &self,
        endpoint: &Endpoint,
        repository: &str,
        creds: &Credentials,
        actions: &'static str,
    ) -> Result<Repository, ClientError> {
        Ok(Repository::new(
            self.clone(),
            self.http(endpoint)?,
            endpoint.clone(),
            repository.to_string(),
            creds.clone(),
            actions,
        ))
    }

    /// Logs in to the registry at `host`: checks the credentials as the registry's `/v2/`
    /// challenge asks (Basic, or a token from its realm), trying its endpoints in turn. Returns
    /// the identity token the token server gave, if any.
    pub async fn login(&self, host: &str, creds: &Credentials) -> Result<String, ClientError> {
        let mut last = None;
        for endpoint in self.settings.endpoints(host, true).await? {
            let repo = self.repository(&endpoint, "", creds, "")?;
            match repo.login().await {
                Ok(token) => return Ok(token),
                Err(e) if e.falls_back() => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| ClientError::Config(format!("no endpoint for {host}"))))
    }

    fn cached_token(&self, key: &str) -> Option<String> {
        let tokens = self.tokens.lock().expect("tokens lock");
        tokens
            .get(key)
            .filter(|t| t.expires > std::time::Instant::now())
            .map(|t| t.token.clone())
    }

    fn cache_token(&self, key: String, token: auth::Token) {
        let mut tokens = self.tokens.lock().expect("tokens lock");
        let now = std::time::Instant::now();
        tokens.retain(|_, t| t.expires > now);
        tokens.insert(key, token);
    }
}
