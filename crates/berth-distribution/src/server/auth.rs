//! Who may do what: no auth, basic auth against an htpasswd file (bcrypt entries, as
//! `htpasswd -B` writes them), or token auth.
//!
//! Token auth is Docker's flow: a request without a valid Bearer token gets 401 and
//! `WWW-Authenticate: Bearer realm=..,service=..,scope=repository:<name>:<actions>`; the
//! client asks the realm (this registry's own `/token`, with basic auth of an htpasswd
//! user) for a token of that scope and retries with it. Tokens are JWTs signed with the
//! configured Ed25519 key (`alg: EdDSA`), for one service (`aud`), with an expiry and the
//! granted `access` list; the registry verifies the signature, `aud`, `exp` and that the
//! access covers the request.
//!
//! Every htpasswd user may pull, push and delete every repository: the registry is one
//! tenant's. Successful bcrypt checks are cached for a while (bcrypt is slow on purpose,
//! and clients send credentials with every request).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::config::{AuthConfig, TokenConfig};
use super::error::RegistryError;

/// How long a checked password is trusted without bcrypt.
const CACHE_FOR: Duration = Duration::from_secs(300);
/// The realm of basic auth challenges.
const BASIC_REALM: &str = "berth-registry";

/// Why auth cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The htpasswd file.
    #[error("reading htpasswd file {path}: {source}")]
    Htpasswd {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The token key.
    #[error("token key {path}: {reason}")]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Token auth without users to issue tokens to.
    #[error("token auth needs an htpasswd file (its users get tokens)")]
    TokenWithoutUsers,
}

/// What a request wants to do to a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read.
    Pull,
    /// Write.
    Push,
    /// Delete.
    Delete,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Pull => "pull",
            Action::Push => "push",
            Action::Delete => "delete",
        }
    }
}

/// The auth of a registry.
#[derive(Debug)]
pub struct Auth {
    users: Option<Htpasswd>,
    token: Option<Signer>,
}

#[derive(Debug)]
struct Htpasswd {
    entries: HashMap<String, String>,
    checked: Mutex<HashMap<String, Instant>>,
}

struct Signer {
    key: Ed25519KeyPair,
    config: TokenConfig,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("service", &self.config.service)
            .finish()
    }
}

/// A JWT's claims, as Docker's token servers write them.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    exp: u64,
    nbf: u64,
    iat: u64,
    jti: String,
    #[serde(default)]
    access: Vec<Grant>,
}

/// One granted scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Grant {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    actions: Vec<String>,
}

/// The token endpoint's answer.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// The token.
    pub token: String,
    /// The same, for OAuth2 clients.
    pub access_token: String,
    /// Its lifetime in seconds.
    pub expires_in: u64,
    /// When it was issued (RFC 3339).
    pub issued_at: String,
}

impl Auth {
    /// Loads the files `config` names.
    pub fn load(config: &AuthConfig) -> Result<Auth, AuthError> {
        let users = config.htpasswd.as_ref().map(Htpasswd::load).transpose()?;
        let token = match &config.token {
            Some(_) if users.is_none() => return Err(AuthError::TokenWithoutUsers),
            Some(t) => Some(Signer::load(t)?),
            None => None,
        };
        Ok(Auth { users, token })
    }

    /// Whether requests need credentials at all.
    pub fn enabled(&self) -> bool {
        self.users.is_some()
    }

    /// Checks a request to `repo` (None: the registry itself, `/v2/` and the catalog) for
    /// `actions`; the user it is from, if auth is on. `realm` is this registry's token
    /// endpoint as the client reached it.
    pub fn check(
        &self,
        headers: &HeaderMap,
        repo: Option<&str>,
        actions: &[Action],
        realm: &str,
    ) -> Result<Option<String>, RegistryError> {
        let Some(users) = &self.users else {
            return Ok(None);
        };
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        match &self.token {
            None => match authorization.and_then(basic_credentials) {
                Some((user, password)) if users.verify(&user, &password) => Ok(Some(user)),
                _ => Err(RegistryError::Unauthorized {
                    challenge: format!("Basic realm=\"{BASIC_REALM}\""),
                }),
            },
            Some(signer) => {
                let token = authorization.and_then(|a| a.strip_prefix("Bearer "));
                let challenge = || signer.challenge(realm, repo, actions);
                let claims = token.and_then(|t| signer.verify(t)).ok_or_else(|| {
                    RegistryError::Unauthorized {
                        challenge: challenge(),
                    }
                })?;
                if let Some(repo) = repo
                    && !covers(&claims.access, repo, actions)
                {
                    // A valid token of another scope: the client asks for this one next.
                    return Err(RegistryError::Unauthorized {
                        challenge: challenge(),
                    });
                }
                Ok(Some(claims.sub))
            }
        }
    }

    /// The token endpoint: a token for `scopes` for the user of `credentials` (the basic
    /// credentials of a `GET`, or the `username`/`password` of an OAuth2 password grant).
    pub fn issue(
        &self,
        credentials: Option<(String, String)>,
        service: Option<&str>,
        scopes: &[String],
    ) -> Result<TokenResponse, RegistryError> {
        let (Some(users), Some(signer)) = (&self.users, &self.token) else {
            return Err(RegistryError::Unsupported);
        };
        let unauthorized = || RegistryError::Unauthorized {
            challenge: format!("Basic realm=\"{BASIC_REALM}\""),
        };
        let (user, password) = credentials.ok_or_else(unauthorized)?;
        if !users.verify(&user, &password) {
            return Err(unauthorized());
        }
        if service.is_some_and(|s| s != signer.config.service) {
            return Err(RegistryError::Denied);
        }
        Ok(signer.sign(&user, scopes.iter().filter_map(|s| grant(s)).collect()))
    }
}

/// The basic credentials of a request.
pub fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let authorization = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    basic_credentials(authorization)
}

/// `user`, `password` of a `Basic` authorization.
fn basic_credentials(authorization: &str) -> Option<(String, String)> {
    let encoded = authorization.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// What a requested scope grants an authenticated user: all it asks of a repository
/// among pull, push and delete (`*` is all three), and the catalog.
fn grant(scope: &str) -> Option<Grant> {
    let (kind, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    let allowed = match kind {
        "repository" => &["pull", "push", "delete", "*"][..],
        "registry" if name == "catalog" => &["*"][..],
        _ => return None,
    };
    let actions = actions
        .split(',')
        .filter(|a| allowed.contains(a))
        .map(String::from)
        .collect();
    Some(Grant {
        kind: kind.into(),
        name: name.into(),
        actions,
    })
}

/// Whether `access` grants every one of `actions` on `repo`.
fn covers(access: &[Grant], repo: &str, actions: &[Action]) -> bool {
    actions.iter().all(|a| {
        access.iter().any(|g| {
            g.kind == "repository"
                && g.name == repo
                && g.actions.iter().any(|x| x == a.name() || x == "*")
        })
    })
}

impl Htpasswd {
    fn load(path: &PathBuf) -> Result<Htpasswd, AuthError> {
        let text = std::fs::read_to_string(path).map_err(|source| AuthError::Htpasswd {
            path: path.clone(),
            source,
        })?;
        let entries = text
            .lines()
            .filter_map(|l| l.trim().split_once(':'))
            .map(|(u, h)| (u.to_string(), h.to_string()))
            .collect();
        Ok(Htpasswd {
            entries,
            checked: Mutex::new(HashMap::new()),
        })
    }

    fn verify(&self, user: &str, password: &str) -> bool {
        let Some(hash) = self.entries.get(user) else {
            return false;
        };
        let key = format!("{user}\0{}", hex::encode(sha2::Sha256::digest(password)));
        {
            let mut checked = self.checked.lock().unwrap_or_else(|e| e.into_inner());
            checked.retain(|_, at| at.elapsed() < CACHE_FOR);
            if checked.contains_key(&key) {
                return true;
            }
        }
        // Only bcrypt entries: htpasswd's MD5 and SHA1 ones are not safe to accept.
        let ok = bcrypt::verify(password, hash).unwrap_or(false);
        if ok {
            let mut checked = self.checked.lock().unwrap_or_else(|e| e.into_inner());
            checked.insert(key, Instant::now());
        }
        ok
    }
}

impl Signer {
    fn load(config: &TokenConfig) -> Result<Signer, AuthError> {
        use rustls::pki_types::PrivateKeyDer;
        use rustls::pki_types::pem::PemObject;
        let bad = |reason: String| AuthError::Key {
            path: config.key.clone(),
            reason,
        };
        let der = PrivateKeyDer::from_pem_file(&config.key).map_err(|e| bad(e.to_string()))?;
        let PrivateKeyDer::Pkcs8(pkcs8) = der else {
            return Err(bad(
                "not a PKCS#8 key (openssl genpkey -algorithm ed25519)".into()
            ));
        };
        let key = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8.secret_pkcs8_der())
            .map_err(|e| bad(format!("not an Ed25519 key: {e}")))?;
        Ok(Signer {
            key,
            config: config.clone(),
        })
    }

    fn challenge(&self, realm: &str, repo: Option<&str>, actions: &[Action]) -> String {
        let realm = self.config.realm.as_deref().unwrap_or(realm);
        let service = &self.config.service;
        match repo {
            Some(repo) => {
                let actions: Vec<&str> = actions.iter().map(|a| a.name()).collect();
                let scope = format!("repository:{repo}:{}", actions.join(","));
                format!("Bearer realm=\"{realm}\",service=\"{service}\",scope=\"{scope}\"")
            }
            None => format!("Bearer realm=\"{realm}\",service=\"{service}\""),
        }
    }

    fn sign(&self, user: &str, access: Vec<Grant>) -> TokenResponse {
        let now = super::registry::now_ms() / 1000;
        let expires_in = self.config.expiry.as_secs().max(60);
        let claims = Claims {
            iss: self.config.service.clone(),
            sub: user.to_string(),
            aud: self.config.service.clone(),
            exp: now + expires_in,
            nbf: now.saturating_sub(10),
            iat: now,
            jti: berth_core::id::generate()[..32].to_string(),
            access,
        };
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims serialize"));
        let signed = format!("{header}.{body}");
        let sig = URL_SAFE_NO_PAD.encode(self.key.sign(signed.as_bytes()).as_ref());
        let token = format!("{signed}.{sig}");
        TokenResponse {
            access_token: token.clone(),
            token,
            expires_in,
            issued_at: rfc3339(now),
        }
    }

    /// The claims of a token this key signed, for this service, not expired.
    fn verify(&self, token: &str) -> Option<Claims> {
        let (signed, sig) = token.rsplit_once('.')?;
        let (header, body) = signed.split_once('.')?;
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        if header["alg"] != "EdDSA" {
            return None;
        }
        let public = UnparsedPublicKey::new(&ED25519, self.key.public_key().as_ref());
        public
            .verify(signed.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).ok()?)
            .ok()?;
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()?;
        let now = super::registry::now_ms() / 1000;
        let valid = claims.aud == self.config.service && claims.exp > now && claims.nbf <= now;
        valid.then_some(claims)
    }
}

/// Unix seconds as RFC 3339 (UTC).
fn rfc3339(secs: u64) -> String {
    let days = secs / 86400;
    let rem = secs % 86400;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_grant_what_they_ask_within_the_allowed() {
        let g = grant("repository:team/app:pull,push,frob").unwrap();
        assert_eq!(g.actions, ["pull", "push"]);
        assert!(covers(
            std::slice::from_ref(&g),
            "team/app",
            &[Action::Pull, Action::Push]
        ));
        assert!(!covers(&[g], "team/app", &[Action::Delete]));
        assert!(grant("nonsense").is_none());
    }

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
