//! Credentials and the registry auth flows: none, Basic, and Bearer tokens (the
//! `WWW-Authenticate` challenge's realm, service and scope; a token per scope, cached until it
//! expires; an identity token exchanged through the OAuth2 refresh flow).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;

use super::ClientError;

/// What a client gave for a registry (`X-Registry-Auth`, `POST /auth`), Docker's `AuthConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Credentials {
    /// The user.
    #[serde(default)]
    pub username: String,
    /// The password.
    #[serde(default)]
    pub password: String,
    /// `base64(user:password)`, the config file's form.
    #[serde(default)]
    pub auth: String,
    /// A refresh token of an earlier login.
    #[serde(default, rename = "identitytoken")]
    pub identity_token: String,
    /// A bearer token to send as it is.
    #[serde(default, rename = "registrytoken")]
    pub registry_token: String,
    /// The registry it is for.
    #[serde(default, rename = "serveraddress")]
    pub server_address: String,
}

impl Credentials {
    /// Decodes an `X-Registry-Auth` header: base64url (padded or not; some clients send
    /// standard base64) of the JSON. An empty or undecodable header is anonymous, as dockerd
    /// takes it.
    pub fn from_header(value: &str) -> Credentials {
        decode_header::<Credentials>(value)
            .unwrap_or_default()
            .normalized()
    }

    /// `auth` split into user and password when those are not given.
    pub fn normalized(mut self) -> Credentials {
        if self.username.is_empty() && !self.auth.is_empty() {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(self.auth.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            if let Some((u, p)) = decoded.as_deref().and_then(|s| s.split_once(':')) {
                self.username = u.to_string();
                self.password = p.to_string();
            }
        }
        self
    }

    /// Whether there is nothing to authenticate with.
    pub fn is_anonymous(&self) -> bool {
        self.username.is_empty() && self.identity_token.is_empty() && self.registry_token.is_empty()
    }
}

/// The JSON of a base64 header (`X-Registry-Auth`, `X-Registry-Config`): base64url, padded or
/// not, or the standard alphabet some clients send.
pub fn decode_header<T: serde::de::DeserializeOwned>(value: &str) -> Option<T> {
    let engines = [
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
        base64::engine::general_purpose::STANDARD,
    ];
    engines
        .iter()
        .filter_map(|e| e.decode(value.trim()).ok())
        .find_map(|json| serde_json::from_slice(&json).ok())
}

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `basic` or `bearer`, lower case.
    pub scheme: String,
    /// Its parameters (`realm`, `service`, `scope`, ...), keys lower case.
    pub params: BTreeMap<String, String>,
}

/// Parses the challenges of a `WWW-Authenticate` header value
/// (`Bearer realm="https://auth",service="reg",scope="repository:a:pull"`).
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        let (token, after) = split_token(rest);
        let after = after.trim_start();
        if let Some(value_start) = after.strip_prefix('=') {
            // `key=value` of the current challenge.
            let (value, tail) = parse_value(value_start.trim_start());
            if let Some(c) = out.last_mut() {
                c.params.insert(token.to_ascii_lowercase(), value);
            }
            rest = tail.trim_start().trim_start_matches(',').trim_start();
        } else {
            if !token.is_empty() {
                out.push(Challenge {
                    scheme: token.to_ascii_lowercase(),
                    params: BTreeMap::new(),
                });
            }
            rest = after.trim_start_matches(',').trim_start();
            if token.is_empty() && rest.len() == after.len() {
                break;
            }
        }
    }
    out
}

fn split_token(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| c == '=' || c == ',' || c.is_whitespace())
        .unwrap_or(s.len());
    (&s[..end], &s[end..])
}

fn parse_value(s: &str) -> (String, &str) {
    if let Some(quoted) = s.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        value.push(n);
                    }
                }
                '"' => return (value, &quoted[i + 1..]),
                c => value.push(c),
            }
        }
        (value, "")
    } else {
        let end = s.find(',').unwrap_or(s.len());
        (s[..end].trim().to_string(), &s[end..])
    }
}

/// A bearer token and when it stops being good.
#[derive(Debug, Clone)]
pub struct Token {
    /// The token.
    pub token: String,
    /// When to fetch another.
    pub expires: Instant,
    /// A refresh token the server gave (`offline_token=true`): a login's identity token.
    pub refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenReply {
    #[serde(default)]
    token: String,
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    expires_in: u64,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// Asks the challenge's realm for a token for `scopes` (`repository:NAME:pull,push`), with
/// the credentials: an identity token through the OAuth2 refresh flow (POST), a user and
/// password as Basic auth on a GET (what the docker CLI's registries all answer). `offline`
/// asks for a refresh token too (a login).
pub async fn fetch_token(
    http: &reqwest::Client,
    challenge: &Challenge,
    scopes: &[String],
    creds: &Credentials,
    offline: bool,
) -> Result<Token, ClientError> {
    let realm = challenge
        .params
        .get("realm")
        .ok_or_else(|| ClientError::Auth("the registry's bearer challenge has no realm".into()))?;
    let url = reqwest::Url::parse(realm)
        .map_err(|e| ClientError::Auth(format!("invalid token realm {realm:?}: {e}")))?;
    let service = challenge.params.get("service").cloned().unwrap_or_default();
    let request = if !creds.identity_token.is_empty() {
        let mut form = vec![
            ("grant_type", "refresh_token".to_string()),
            ("refresh_token", creds.identity_token.clone()),
            ("service", service),
            ("client_id", "docker".to_string()),
            ("scope", scopes.join(" ")),
        ];
        form.retain(|(_, v)| !v.is_empty());
        http.post(url).form(&form)
    } else {
        let mut query: Vec<(&str, String)> = vec![("service", service)];
        query.extend(scopes.iter().map(|s| ("scope", s.clone())));
        if !creds.username.is_empty() {
            query.push(("account", creds.username.clone()));
        }
        if offline {
            query.push(("offline_token", "true".into()));
            query.push(("client_id", "docker".into()));
        }
        query.retain(|(_, v)| !v.is_empty());
        let mut req = http.get(url).query(&query);
        if !creds.username.is_empty() {
            req = req.basic_auth(&creds.username, Some(&creds.password));
        }
        req
    };
    let response = request.send().await.map_err(ClientError::http("token"))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        return Err(ClientError::from_reply(status.as_u16(), &body));
    }
    let body = response.bytes().await.map_err(ClientError::http("token"))?;
    let reply: TokenReply = serde_json::from_slice(&body)
        .map_err(|e| ClientError::Auth(format!("invalid token reply from {realm}: {e}")))?;
    let token = if reply.token.is_empty() {
        reply.access_token
    } else {
        reply.token
    };
    if token.is_empty() {
        return Err(ClientError::Auth(format!(
            "no token in the reply of {realm}"
        )));
    }
    // 60 s is the spec's default lifetime; keep a margin.
    let life =
        Duration::from_secs(reply.expires_in.max(60)).saturating_sub(Duration::from_secs(10));
    Ok(Token {
        token,
        expires: Instant::now() + life,
        refresh_token: reply.refresh_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_challenge_parses_with_quoted_commas_and_escapes() {
        let c = parse_challenges(
            r#"Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push",error="x\"y""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(c[0].params["realm"], "https://auth.example/token");
        assert_eq!(c[0].params["scope"], "repository:a/b:pull,push");
        assert_eq!(c[0].params["error"], "x\"y");
    }

    #[test]
    fn several_challenges_and_unquoted_values_parse() {
        let c = parse_challenges(r#"Basic realm=Registry, Bearer realm="r",service=s"#);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme, "basic");
        assert_eq!(c[0].params["realm"], "Registry");
        assert_eq!(c[1].params["service"], "s");
        assert!(parse_challenges("").is_empty());
    }

    #[test]
    fn the_header_decodes_in_every_base64_clients_send_and_auth_splits() {
        let json = r#"{"username":"u","password":"p+/?","serveraddress":"r:5000"}"#;
        for engine in [
            base64::engine::general_purpose::URL_SAFE,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
            base64::engine::general_purpose::STANDARD,
        ] {
            let c = Credentials::from_header(&engine.encode(json));
            assert_eq!((c.username.as_str(), c.password.as_str()), ("u", "p+/?"));
        }
        let auth = base64::engine::general_purpose::STANDARD.encode("me:se:cret");
        let c = Credentials::from_header(
            &base64::engine::general_purpose::URL_SAFE.encode(format!(r#"{{"auth":"{auth}"}}"#)),
        );
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("me", "se:cret")
        );
        assert!(Credentials::from_header("not base64 !").is_anonymous());
        assert!(Credentials::from_header("").is_anonymous());
    }
}
