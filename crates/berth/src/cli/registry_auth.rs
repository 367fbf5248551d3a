//! Registry credentials on the client, kept where and as the docker CLI keeps them (berth speaks
//! docker's syntax, so it shares docker's file): `$DOCKER_CONFIG/config.json` (default
//! `~/.docker/config.json`) with `auths` (base64 `user:pass`, `identitytoken`), `credsStore`
//! and `credHelpers` (programs `docker-credential-NAME` spoken to through the credential-helper
//! protocol), and the `X-Registry-Auth` header an image reference's registry gets.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

/// Docker Hub's key in `auths` and in credential stores.
pub const INDEX_SERVER: &str = "https://index.docker.io/v1/";

/// The username a credential helper keeps an identity token under.
const TOKEN_USERNAME: &str = "<token>";

/// A credential as the Engine API and `config.json` spell it (Docker's `AuthConfig`, every
/// field left out when empty).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub password: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub auth: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub serveraddress: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub identitytoken: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub registrytoken: String,
}

impl AuthConfig {
    /// The `X-Registry-Auth` header: base64url of the JSON (`e30=` for none).
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("serializable");
        base64(&json, URL_SAFE)
    }
}

/// The top-level keys of docker's config file in the order docker writes them.
const DOCKER_KEYS: &[&str] = &[
    "auths",
    "HttpHeaders",
    "psFormat",
    "imagesFormat",
    "networksFormat",
    "pluginsFormat",
    "volumesFormat",
    "statsFormat",
    "detachKeys",
    "credsStore",
    "credHelpers",
    "serviceInspectFormat",
    "servicesFormat",
    "tasksFormat",
    "secretFormat",
    "configFormat",
    "nodesFormat",
    "pruneFilters",
    "proxies",
    "currentContext",
    "cliPluginsExtraDirs",
    "plugins",
    "aliases",
    "features",
    "experimental",
];

/// The client's config file. Keys berth does not use are kept as they are.
#[derive(Debug)]
pub struct ConfigFile {
    pub path: PathBuf,
    /// Entries of `auths` with `auth` decoded into username and password, `serveraddress`
    /// set to the key, as docker loads them.
    pub auths: BTreeMap<String, AuthConfig>,
    pub creds_store: String,
    pub cred_helpers: BTreeMap<String, String>,
    other: serde_json::Map<String, serde_json::Value>,
    /// Why the file could not be read: such a file is never written over.
    broken: Option<String>,
    /// The unencrypted-credentials warning was printed.
    warned: bool,
}

/// `$DOCKER_CONFIG`, else `~/.docker`.
pub fn config_dir() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => {
            let home = std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from)
                .or_else(|| {
                    nix::unistd::User::from_uid(nix::unistd::getuid())
                        .ok()
                        .flatten()
                        .map(|u| u.dir)
                })
                .unwrap_or_default();
            home.join(".docker")
        }
    }
}

impl ConfigFile {
    /// The config of this user (a warning on stderr when it does not parse, as docker's).
    pub fn load_default() -> ConfigFile {
        let path = config_dir().join("config.json");
        let mut cfg = ConfigFile::load(path);
        if let Some(e) = &cfg.broken {
            eprintln!("WARNING: Error {e}");
        }
        if cfg.creds_store.is_empty() && cfg.cred_helpers.is_empty() && cfg.auths.is_empty() {
            cfg.creds_store = default_store();
        }
        cfg
    }

    /// Reads `path`; a missing file is an empty config.
    pub fn load(path: PathBuf) -> ConfigFile {
        let mut cfg = ConfigFile {
            path,
            auths: BTreeMap::new(),
            creds_store: String::new(),
            cred_helpers: BTreeMap::new(),
            other: serde_json::Map::new(),
            broken: None,
            warned: false,
        };
        match std::fs::read(&cfg.path) {
            Ok(bytes) => {
                if let Err(e) = cfg.parse(&bytes) {
                    cfg.broken = Some(format!("parsing config file ({}): {e}", cfg.path.display()));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => cfg.broken = Some(format!("loading config file: {e}")),
        }
        cfg
    }

    fn parse(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let mut map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(bytes)?;
        if let Some(a) = map.remove("auths").filter(|v| !v.is_null()) {
            let auths: BTreeMap<String, AuthConfig> = serde_json::from_value(a)?;
            for (key, mut ac) in auths {
                if !ac.auth.is_empty() {
                    (ac.username, ac.password) = decode_auth(&ac.auth)?;
                }
                ac.auth.clear();
                ac.serveraddress = key.clone();
                self.auths.insert(key, ac);
            }
        }
        if let Some(s) = map.remove("credsStore").filter(|v| !v.is_null()) {
            self.creds_store = serde_json::from_value(s)?;
        }
        if let Some(h) = map.remove("credHelpers").filter(|v| !v.is_null()) {
            self.cred_helpers = serde_json::from_value(h)?;
        }
        self.other = map;
        Ok(())
    }

    /// The file as docker writes it: tab-indented, `auth` encoded, docker's keys in docker's
    /// order and any others after them.
    pub fn to_json(&self) -> Vec<u8> {
        let auths: BTreeMap<&String, AuthConfig> = self
            .auths
            .iter()
            .map(|(k, a)| {
                let saved = AuthConfig {
                    auth: encode_auth(a),
                    username: String::new(),
                    password: String::new(),
                    serveraddress: String::new(),
                    ..a.clone()
                };
                (k, saved)
            })
            .collect();
        let mut all = self.other.clone();
        all.insert("auths".into(), serde_json::to_value(auths).expect("auths"));
        if !self.creds_store.is_empty() {
            all.insert("credsStore".into(), self.creds_store.clone().into());
        }
        if !self.cred_helpers.is_empty() {
            let helpers = serde_json::to_value(&self.cred_helpers).expect("helpers");
            all.insert("credHelpers".into(), helpers);
        }
        let mut keys: Vec<&String> = all.keys().collect();
        let rank = |k: &str| {
            DOCKER_KEYS
                .iter()
                .position(|d| *d == k)
                .unwrap_or(usize::MAX)
        };
        keys.sort_by_key(|k| (rank(k), (*k).clone()));
        let ordered = Ordered(keys.into_iter().map(|k| (k, &all[k])).collect());
        let mut out = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        ordered.serialize(&mut ser).expect("json");
        out
    }

    /// Writes the file whole (a temporary file renamed over it, with the old file's mode, 0600
    /// for a new one).
    pub fn save(&self) -> Result<()> {
        if let Some(e) = &self.broken {
            bail!("{e}");
        }
        let dir = self.path.parent().unwrap_or(std::path::Path::new("."));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        // Through a symlink, the file it points to is replaced, as docker does.
        let target = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        let tmp = dir.join(format!(
            "config.json{}{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        ));
        let written = write_private(&tmp, &self.to_json()).and_then(|f| {
            if let Ok(meta) = std::fs::metadata(&target) {
                use std::os::unix::fs::MetadataExt;
                f.set_permissions(meta.permissions())?;
                if meta.uid() > 0 && meta.gid() > 0 {
                    let _ = std::os::unix::fs::fchown(&f, Some(meta.uid()), Some(meta.gid()));
                }
            }
            std::fs::rename(&tmp, &target)
        });
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written?;
        Ok(())
    }

    /// The store that keeps the credentials of `server`: its `credHelpers` entry, else
    /// `credsStore`, else this file.
    fn helper_for(&self, server: &str) -> Option<String> {
        let h = (!server.is_empty())
            .then(|| self.cred_helpers.get(server))
            .flatten()
            .unwrap_or(&self.creds_store);
        (!h.is_empty()).then(|| h.clone())
    }

    /// The credentials stored for `server` (a key of `auths` or its hostname), empty when
    /// there are none.
    pub fn get(&self, server: &str) -> Result<AuthConfig> {
        let from_file = self.file_get(server);
        let Some(helper) = self.helper_for(server) else {
            return Ok(from_file);
        };
        let mut auth = from_file;
        let creds = helper_get(&helper, server)?;
        auth.username = creds.username;
        auth.password = creds.password;
        auth.identitytoken = creds.identitytoken;
        auth.serveraddress = creds.serveraddress;
        Ok(auth)
    }

    fn file_get(&self, server: &str) -> AuthConfig {
        self.auths
            .get(server)
            .or_else(|| {
                self.auths
                    .iter()
                    .find(|(k, _)| convert_to_hostname(k) == server)
                    .map(|(_, a)| a)
            })
            .cloned()
            .unwrap_or_default()
    }

    /// Stores `auth` under its `serveraddress`: in its credential helper (the file keeps an
    /// entry without secrets), else in the file.
    pub fn store(&mut self, auth: AuthConfig) -> Result<()> {
        if let Some(helper) = self.helper_for(&auth.serveraddress) {
            helper_store(&helper, &auth)?;
            let bare = AuthConfig {
                username: String::new(),
                password: String::new(),
                identitytoken: String::new(),
                ..auth
            };
            return self.file_store(bare);
        }
        self.file_store(auth)
    }

    fn file_store(&mut self, auth: AuthConfig) -> Result<()> {
        if self.auths.get(&auth.serveraddress) == Some(&auth) {
            return Ok(());
        }
        let has_password = !auth.password.is_empty();
        self.auths.insert(auth.serveraddress.clone(), auth);
        self.save()?;
        if has_password && !self.warned {
            eprintln!(
                "\nWARNING! Your credentials are stored unencrypted in '{}'.\n\
                 Configure a credential helper to remove this warning. See\n\
                 https://docs.docker.com/go/credential-store/\n",
                self.path.display()
            );
            self.warned = true;
        }
        Ok(())
    }

    /// Forgets the credentials of `server` (exactly that key).
    pub fn erase(&mut self, server: &str) -> Result<()> {
        if let Some(helper) = self.helper_for(server) {
            helper_run(&helper, "erase", server.as_bytes())
                .map_err(|e| anyhow!("error erasing credentials - {e}"))?;
        }
        if self.auths.remove(server).is_some() {
            self.save()?;
        }
        Ok(())
    }
}

/// A new file of mode 0600 holding `bytes`.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    Ok(f)
}

/// docker's `DetectDefaultStore` on Linux: `pass` when both `pass` and its helper are
/// installed, `secretservice` when its helper is; else none (the file).
fn default_store() -> String {
    let store = if on_path("pass") {
        "pass"
    } else {
        "secretservice"
    };
    if on_path(&format!("docker-credential-{store}")) {
        store.into()
    } else {
        String::new()
    }
}

fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|d| {
            std::fs::metadata(d.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// A map serialized in the order of its entries.
struct Ordered<'a>(Vec<(&'a String, &'a serde_json::Value)>);

impl Serialize for Ordered<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// `host[:port]` of a key that may be a URL (`https://host:5000/v2/` is `host:5000`), else
/// what comes before its first `/`.
pub fn convert_to_hostname(key: &str) -> String {
    if let Some((_, rest)) = key.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit('@').next().unwrap_or("");
        if !authority.is_empty() && !authority.starts_with(':') {
            return authority.to_string();
        }
    }
    key.split('/').next().unwrap_or("").to_string()
}

/// The key of a registry's credentials: Docker Hub's for `docker.io`, else `host[:port]`.
pub fn auth_key(domain: &str) -> &str {
    if domain == "docker.io" || domain == "index.docker.io" {
        INDEX_SERVER
    } else {
        domain
    }
}

/// What the daemon gets for pulling from or pushing to the registry `domain`: its stored
/// credentials; when the helper fails, what the file has (as docker, which goes on without
/// a word).
pub fn for_domain(cfg: &ConfigFile, domain: &str) -> AuthConfig {
    let key = auth_key(domain);
    cfg.get(key).unwrap_or_else(|_| cfg.file_get(key))
}

fn encode_auth(a: &AuthConfig) -> String {
    if a.username.is_empty() && a.password.is_empty() {
        return String::new();
    }
    base64(
        format!("{}:{}", a.username, a.password).as_bytes(),
        STANDARD,
    )
}

fn decode_auth(s: &str) -> Result<(String, String)> {
    let bytes = unbase64(s).ok_or_else(|| anyhow!("illegal base64 data in auth"))?;
    let text = String::from_utf8_lossy(&bytes);
    match text.split_once(':') {
        Some((user, pass)) if !user.is_empty() => {
            Ok((user.to_string(), pass.trim_matches('\0').to_string()))
        }
        _ => bail!("Invalid auth configuration file"),
    }
}

/// A credential helper's view of a credential.
#[derive(Serialize, Deserialize, Default)]
struct HelperCreds {
    #[serde(rename = "ServerURL", default)]
    server_url: String,
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// A credential helper that failed: Go's `err` and the helper's trimmed stdout, which docker's
/// messages show as `err: ERR, out: `OUT``.
struct HelperError {
    err: String,
    out: String,
}

impl std::fmt::Display for HelperError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "err: {}, out: `{}`", self.err, self.out)
    }
}

const NOT_FOUND: &str = "credentials not found in native keychain";

/// Runs `docker-credential-HELPER ACTION` with `input` on stdin (stderr is the user's).
fn helper_run(helper: &str, action: &str, input: &[u8]) -> Result<Vec<u8>, HelperError> {
    let program = format!("docker-credential-{helper}");
    let failed = |err: String| HelperError {
        err,
        out: String::new(),
    };
    let mut child = Command::new(&program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| {
            failed(if e.kind() == std::io::ErrorKind::NotFound {
                format!("exec: \"{program}\": executable file not found in $PATH")
            } else {
                format!("fork/exec {program}: {e}")
            })
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that does not read its input is not an error.
        let _ = stdin.write_all(input);
    }
    let out = child
        .wait_with_output()
        .map_err(|e| failed(e.to_string()))?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let err = match text.as_str() {
        "no credentials server URL" | "no credentials username" => text.clone(),
        _ => match out.status.code() {
            Some(c) => format!("exit status {c}"),
            None => "signal: killed".into(),
        },
    };
    Err(HelperError { err, out: text })
}

fn helper_get(helper: &str, server: &str) -> Result<AuthConfig> {
    let out = match helper_run(helper, "get", server.as_bytes()) {
        Ok(out) => out,
        Err(e) if e.out == NOT_FOUND => return Ok(AuthConfig::default()),
        Err(e) => bail!("error getting credentials - {e}"),
    };
    let creds: HelperCreds = serde_json::from_slice(&out).context("reading the helper's answer")?;
    let mut a = AuthConfig {
        serveraddress: server.to_string(),
        ..Default::default()
    };
    if creds.username == TOKEN_USERNAME {
        a.identitytoken = creds.secret;
    } else {
        a.username = creds.username;
        a.password = creds.secret;
    }
    Ok(a)
}

fn helper_store(helper: &str, auth: &AuthConfig) -> Result<()> {
    let creds = if auth.identitytoken.is_empty() {
        HelperCreds {
            server_url: auth.serveraddress.clone(),
            username: auth.username.clone(),
            secret: auth.password.clone(),
        }
    } else {
        HelperCreds {
            server_url: auth.serveraddress.clone(),
            username: TOKEN_USERNAME.into(),
            secret: auth.identitytoken.clone(),
        }
    };
    let mut json = serde_json::to_vec(&creds)?;
    json.push(b'\n');
    helper_run(helper, "store", &json).map_err(|e| anyhow!("error storing credentials - {e}"))?;
    Ok(())
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 with padding in `alphabet`.
fn base64(data: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 (padded) back to bytes; `None` when it is not.
fn unbase64(s: &str) -> Option<Vec<u8>> {
    let s = s.as_bytes();
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for chunk in s.chunks(4) {
        let mut n = 0u32;
        let mut pad = 0;
        for (i, c) in chunk.iter().enumerate() {
            let v = match c {
                b'=' if i >= 2 => {
                    pad += 1;
                    0
                }
                _ if pad > 0 => return None,
                _ => STANDARD.iter().position(|a| a == c)? as u32,
            };
            n = n << 6 | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_both_ways() {
        assert_eq!(base64(b"user:pass", STANDARD), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a", STANDARD), "YQ==");
        assert_eq!(base64(b"ab", STANDARD), "YWI=");
        assert_eq!(base64(&[0xfb, 0xff], URL_SAFE), "-_8=");
        assert_eq!(AuthConfig::default().encode(), "e30=");
        for s in ["", "a", "ab", "abc", "user:pa:ss"] {
            assert_eq!(
                unbase64(&base64(s.as_bytes(), STANDARD)).unwrap(),
                s.as_bytes()
            );
        }
        assert!(unbase64("abc").is_none());
        assert!(unbase64("a=bc").is_none());
    }

    #[test]
    fn hostnames_of_keys_as_docker_finds_them() {
        assert_eq!(
            convert_to_hostname("https://index.docker.io/v1/"),
            "index.docker.io"
        );
        assert_eq!(
            convert_to_hostname("http://localhost:5000"),
            "localhost:5000"
        );
        assert_eq!(convert_to_hostname("localhost:5000/v2/"), "localhost:5000");
        assert_eq!(
            convert_to_hostname("registry.example.com"),
            "registry.example.com"
        );
        assert_eq!(auth_key("docker.io"), INDEX_SERVER);
        assert_eq!(auth_key("localhost:5000"), "localhost:5000");
    }

    #[test]
    fn the_file_round_trips_as_docker_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"zzz":{"kept":true},"psFormat":"table {{.ID}}","auths":{"http://localhost:5000":{"auth":"dXNlcjpwYXNz","email":"e@x"},"https://index.docker.io/v1/":{}}}"#,
        )
        .unwrap();
        let mut cfg = ConfigFile::load(path.clone());
        let a = cfg.get("localhost:5000").unwrap();
        assert_eq!((a.username.as_str(), a.password.as_str()), ("user", "pass"));
        assert_eq!(a.serveraddress, "http://localhost:5000");
        assert_eq!(a.email, "e@x");
        cfg.store(AuthConfig {
            username: "u2".into(),
            password: "p2".into(),
            serveraddress: "reg.example:443".into(),
            ..Default::default()
        })
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "{\n\t\"auths\": {\n\t\t\"http://localhost:5000\": {\n\t\t\t\"auth\": \"dXNlcjpwYXNz\",\n\t\t\t\"email\": \"e@x\"\n\t\t},\n\t\t\"https://index.docker.io/v1/\": {},\n\t\t\"reg.example:443\": {\n\t\t\t\"auth\": \"dTI6cDI=\"\n\t\t}\n\t},\n\t\"psFormat\": \"table {{.ID}}\",\n\t\"zzz\": {\n\t\t\"kept\": true\n\t}\n}"
        );
        use std::os::unix::fs::PermissionsExt;
        // A file docker made keeps its mode; this one was 0644 from the test's write.
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        cfg.erase("http://localhost:5000").unwrap();
        let again = ConfigFile::load(path);
        assert!(again.auths.contains_key("reg.example:443"));
        assert!(!again.auths.contains_key("http://localhost:5000"));
    }

    #[test]
    fn a_broken_file_is_never_written_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{not json").unwrap();
        let mut cfg = ConfigFile::load(path.clone());
        let e = cfg
            .store(AuthConfig {
                username: "u".into(),
                password: "p".into(),
                serveraddress: "x".into(),
                ..Default::default()
            })
            .unwrap_err();
        assert!(e.to_string().starts_with("parsing config file ("), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{not json");
        // Bad auth: docker's words.
        std::fs::write(&path, r#"{"auths":{"x":{"auth":"Ong="}}}"#).unwrap();
        let cfg = ConfigFile::load(path);
        assert!(
            cfg.broken
                .unwrap()
                .ends_with("Invalid auth configuration file")
        );
    }

    #[test]
    fn a_new_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.json");
        let mut cfg = ConfigFile::load(path.clone());
        cfg.store(AuthConfig {
            identitytoken: "tok".into(),
            serveraddress: "r:5000".into(),
            ..Default::default()
        })
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"identitytoken\": \"tok\""), "{text}");
        assert!(!text.contains("\"auth\""), "{text}");
    }
}
