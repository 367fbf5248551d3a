//! Where a registry is reached, as dockerd decides it.
//!
//! - Docker Hub's names (`docker.io/...`) are served by `registry-1.docker.io`; for pulls the
//!   configured mirrors come first.
//! - A registry is insecure when `insecure-registries` names it (`host[:port]`) or a CIDR there
//!   holds one of its addresses; 127.0.0.0/8 and ::1 always are. An insecure registry is tried
//!   over HTTPS without verifying its certificate, then over plain HTTP.
//! - `<certs.d>/<host[:port]>/` adds CAs (`*.crt`) to the system's roots and client
//!   certificates (`*.cert` with the `*.key` of the same name), `/etc/berth/certs.d` first, then
//!   Docker's `/etc/docker/certs.d`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ipnet::IpNet;
use rustls::ClientConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::ClientError;

/// The host Docker Hub's names live on, and the one that serves them.
pub const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// The registry a login's server address or a config's key names: `https://index.docker.io/v1/`
/// and the other spellings of Docker Hub are `docker.io`; others are their `host[:port]`.
pub fn registry_host(address: &str) -> String {
    let rest = address.split_once("://").map_or(address, |(_, r)| r);
    let host = rest.split('/').next().unwrap_or(rest);
    match host {
        "" | "index.docker.io" | "registry-1.docker.io" | DOCKER_HUB => DOCKER_HUB.into(),
        h => h.to_string(),
    }
}

/// The daemon's registry settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `registry-mirrors`: URLs of mirrors of Docker Hub.
    pub mirrors: Vec<String>,
    /// `insecure-registries`: `host[:port]` names and CIDRs.
    pub insecure: Vec<String>,
    /// Directories of per-registry certificates, searched in order.
    pub cert_dirs: Vec<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mirrors: Vec::new(),
            insecure: Vec::new(),
            cert_dirs: vec!["/etc/berth/certs.d".into(), "/etc/docker/certs.d".into()],
        }
    }
}

/// One way to reach a registry.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `scheme://host[:port]` (a mirror's URL may have a path).
    pub base: reqwest::Url,
    /// A mirror of Docker Hub.
    pub mirror: bool,
    /// The certificate is not verified (an insecure registry over HTTPS).
    pub skip_verify: bool,
}

impl Settings {
    /// Whether `host` (`name[:port]`) is an insecure registry.
    pub async fn is_insecure(&self, host: &str) -> bool {
        if self.insecure.iter().any(|i| i == host) {
            return true;
        }
        let nets: Vec<IpNet> = self
            .insecure
            .iter()
            .filter_map(|i| i.parse().ok())
            .collect();
        let insecure = |ip: IpAddr| ip.is_loopback() || nets.iter().any(|n| n.contains(&ip));
        let name = strip_port(host);
        if let Ok(ip) = name.trim_matches(['[', ']']).parse::<IpAddr>() {
            return insecure(ip);
        }
        match tokio::net::lookup_host((name, 0)).await {
            Ok(addrs) => addrs.map(|a| a.ip()).any(insecure),
            Err(_) => false,
        }
    }

    /// The endpoints to try for `host` (a reference's domain), in order; `push` leaves the
    /// mirrors out.
    pub async fn endpoints(&self, host: &str, push: bool) -> Result<Vec<Endpoint>, ClientError> {
        let mut out = Vec::new();
        if host == DOCKER_HUB {
            if !push {
                for m in &self.mirrors {
                    let base = reqwest::Url::parse(m).map_err(|e| {
                        ClientError::Config(format!("invalid registry mirror {m:?}: {e}"))
                    })?;
                    out.push(Endpoint {
                        base,
                        mirror: true,
                        skip_verify: false,
                    });
                }
            }
            out.push(endpoint("https", DOCKER_HUB_API, false)?);
            return Ok(out);
        }
        let insecure = self.is_insecure(host).await;
        out.push(endpoint("https", host, insecure)?);
        if insecure {
            out.push(endpoint("http", host, false)?);
        }
        Ok(out)
    }

    /// The TLS configuration for `endpoint`: the system's roots plus `certs.d`'s CAs, and a
    /// client certificate if `certs.d` has one.
    pub fn tls(&self, endpoint: &Endpoint) -> Result<Arc<ClientConfig>, ClientError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| ClientError::Config(e.to_string()))?;
        let files = self.cert_files(&host_of(&endpoint.base));
        let builder = if endpoint.skip_verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(berth_core::tls::AnyCertificate(
                    provider,
                )))
        } else {
            let mut roots = rustls::RootCertStore::empty();
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            for ca in &files.cas {
                let pem = read(ca)?;
                roots.add_parsable_certificates(CertificateDer::pem_slice_iter(&pem).flatten());
            }
            builder.with_root_certificates(roots)
        };
        let config = match files.client {
            Some((cert, key)) => {
                let certs = CertificateDer::pem_slice_iter(&read(&cert)?)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| bad_file(&cert, e))?;
                let key =
                    PrivateKeyDer::from_pem_slice(&read(&key)?).map_err(|e| bad_file(&key, e))?;
                builder
                    .with_client_auth_cert(certs, key)
                    .map_err(|e| ClientError::Config(e.to_string()))?
            }
            None => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }

    fn cert_files(&self, host: &str) -> CertFiles {
        let mut files = CertFiles::default();
        for dir in &self.cert_dirs {
            let Ok(entries) = std::fs::read_dir(dir.join(host)) else {
                continue;
            };
            let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            names.sort();
            for p in names {
                match p.extension().and_then(|e| e.to_str()) {
                    Some("crt") => files.cas.push(p),
                    Some("cert") if files.client.is_none() => {
                        let key = p.with_extension("key");
                        if key.exists() {
                            files.client = Some((p, key));
                        }
                    }
                    _ => {}
                }
            }
        }
        files
    }
}

#[derive(Default)]
struct CertFiles {
    cas: Vec<PathBuf>,
    client: Option<(PathBuf, PathBuf)>,
}

fn endpoint(scheme: &str, host: &str, skip_verify: bool) -> Result<Endpoint, ClientError> {
    let base = reqwest::Url::parse(&format!("{scheme}://{host}"))
        .map_err(|e| ClientError::Config(format!("invalid registry host {host:?}: {e}")))?;
    Ok(Endpoint {
        base,
        mirror: false,
        skip_verify,
    })
}

/// `host[:port]` of a URL, as `certs.d` names its directories.
fn host_of(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => h,
        _ => host,
    }
}

fn read(p: &PathBuf) -> Result<Vec<u8>, ClientError> {
    std::fs::read(p).map_err(|e| bad_file(p, e))
}

fn bad_file(p: &std::path::Path, e: impl std::fmt::Display) -> ClientError {
    ClientError::Config(format!("{}: {e}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(insecure: &[&str]) -> Settings {
        Settings {
            insecure: insecure.iter().map(|s| s.to_string()).collect(),
            ..Settings::default()
        }
    }

    #[test]
    fn server_addresses_name_their_registry() {
        assert_eq!(registry_host("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(registry_host(""), "docker.io");
        assert_eq!(registry_host("http://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
        assert_eq!(registry_host("reg.example:5000"), "reg.example:5000");
    }

    #[tokio::test]
    async fn loopback_and_configured_registries_are_insecure_others_not() {
        let s = settings(&["reg.example:5000", "10.1.0.0/16"]);
        assert!(s.is_insecure("127.0.0.1:5000").await);
        assert!(s.is_insecure("[::1]:5000").await);
        assert!(s.is_insecure("localhost:5000").await);
        assert!(s.is_insecure("reg.example:5000").await);
        assert!(s.is_insecure("10.1.2.3").await);
        assert!(!s.is_insecure("10.2.0.1:5000").await);
        assert!(!s.is_insecure("reg.example").await);
    }

    #[tokio::test]
    async fn docker_hub_pulls_try_the_mirrors_first_and_pushes_skip_them() {
        let s = Settings {
            mirrors: vec!["https://mirror.example/".into()],
            ..Settings::default()
        };
        let pull = s.endpoints(DOCKER_HUB, false).await.unwrap();
        let urls: Vec<_> = pull.iter().map(|e| e.base.as_str()).collect();
        assert_eq!(
            urls,
            ["https://mirror.example/", "https://registry-1.docker.io/"]
        );
        assert_eq!(s.endpoints(DOCKER_HUB, true).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn an_insecure_registry_is_tried_over_https_then_http() {
        let s = settings(&[]);
        let e = s.endpoints("127.0.0.1:5000", false).await.unwrap();
        assert_eq!(e[0].base.as_str(), "https://127.0.0.1:5000/");
        assert!(e[0].skip_verify);
        assert_eq!(e[1].base.as_str(), "http://127.0.0.1:5000/");
    }

    #[test]
    fn certs_d_gives_cas_and_a_client_pair_by_host_and_port() {
        let dir = tempfile::tempdir().unwrap();
        let host = dir.path().join("reg.example:5000");
        std::fs::create_dir_all(&host).unwrap();
        for f in ["ca.crt", "client.cert", "client.key", "other.cert"] {
            std::fs::write(host.join(f), "").unwrap();
        }
        let s = Settings {
            cert_dirs: vec![dir.path().into()],
            ..Settings::default()
        };
        let files = s.cert_files("reg.example:5000");
        assert_eq!(files.cas, [host.join("ca.crt")]);
        assert_eq!(
            files.client,
            Some((host.join("client.cert"), host.join("client.key")))
        );
        assert!(s.cert_files("reg.example").cas.is_empty());
    }
}
