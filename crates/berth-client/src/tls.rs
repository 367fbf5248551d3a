//! The client's TLS, as the docker CLI sets it up: the CA given is the only root, a key pair is
//! presented when both its files are there, and without verification any server certificate
//! is taken (`--tls` alone).

use std::path::PathBuf;
use std::sync::Arc;

use berth_core::tls::AnyCertificate;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::ClientError;

/// Where the client's certificates are and whether the daemon's is checked.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Check the daemon's certificate (`--tlsverify`).
    pub verify: bool,
    /// The CA the daemon's certificate must be signed by (read even without `verify`, as the
    /// docker CLI does).
    pub ca: Option<PathBuf>,
    /// The client's certificate; used when `key` is there too.
    pub cert: Option<PathBuf>,
    /// The client's private key.
    pub key: Option<PathBuf>,
}

fn read(what: &str, path: &PathBuf) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path)
        .map_err(|e| ClientError::TlsConfig(format!("could not read {what} {path:?}: {e}")))
}

impl TlsOptions {
    /// The rustls configuration (ring, as the rest of berth).
    pub(crate) fn config(&self) -> Result<Arc<rustls::ClientConfig>, ClientError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let bad = |e: String| ClientError::TlsConfig(e);
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(e.to_string()))?;
        let ca = self
            .ca
            .as_ref()
            .map(|p| read("CA certificate", p))
            .transpose()?;
        let builder = match (self.verify, ca) {
            (false, _) => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider))),
            (true, Some(pem)) => {
                let mut roots = rustls::RootCertStore::empty();
                roots.add_parsable_certificates(CertificateDer::pem_slice_iter(&pem).flatten());
                if roots.is_empty() {
                    return Err(bad(
                        "failed to retrieve context tls info: ca.pem seems invalid".into(),
                    ));
                }
                builder.with_root_certificates(roots)
            }
            (true, None) => {
                return Err(bad(
                    "--tlsverify needs a CA certificate (--tlscacert)".into()
                ));
            }
        };
        let mut config = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                let certs = CertificateDer::pem_slice_iter(&read("certificate", cert)?)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| bad(format!("failed to retrieve context tls info: {e}")))?;
                let key = PrivateKeyDer::from_pem_slice(&read("key", key)?)
                    .map_err(|e| bad(format!("no valid private key found: {e}")))?;
                builder
                    .with_client_auth_cert(certs, key)
                    .map_err(|e| bad(format!("failed to retrieve context tls info: {e}")))?
            }
            _ => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// The name the daemon's certificate must carry: `host` of `host:port`, an IP address for one.
pub(crate) fn server_name(addr: &str) -> Result<ServerName<'static>, ClientError> {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_string())
        .map_err(|e| ClientError::TlsConfig(format!("{host}: not a host name for TLS: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daemons_name_is_its_host() {
        let name = |addr: &str| server_name(addr).unwrap().to_str().into_owned();
        assert_eq!(name("localhost:2376"), "localhost");
        assert!(matches!(
            server_name("[::1]:2376").unwrap(),
            ServerName::IpAddress(_)
        ));
        assert!(matches!(
            server_name("10.0.0.1:2376").unwrap(),
            ServerName::IpAddress(_)
        ));
    }

    #[test]
    fn verifying_needs_a_ca() {
        let opts = TlsOptions {
            verify: true,
            ..Default::default()
        };
        let err = opts.config().expect_err("refused").to_string();
        assert_eq!(err, "--tlsverify needs a CA certificate (--tlscacert)");
        // Without verification any certificate is taken, and no CA is needed.
        TlsOptions::default().config().unwrap();
    }
}
