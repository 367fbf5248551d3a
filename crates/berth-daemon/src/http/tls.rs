//! The API's TLS as dockerd configures it: TLS 1.2 or newer, the daemon's key pair, and with
//! client verification a certificate every client must present, checked against the given CA
//! alone (not the system's roots). Errors are dockerd's (go-connections') words.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Where the daemon's certificates are (`--tlscacert`, `--tlscert`, `--tlskey`).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The CA client certificates must be signed by.
    pub ca: PathBuf,
    /// The daemon's certificate (chain).
    pub cert: PathBuf,
    /// The daemon's private key.
    pub key: PathBuf,
}

/// An acceptor for TLS connections; `verify_clients` (`--tlsverify`) requires every client to
/// present a certificate the CA signed.
pub fn acceptor(files: &TlsFiles, verify_clients: bool) -> Result<TlsAcceptor, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = if verify_clients {
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            roots(&files.ca)?,
            provider,
        )
        .build()
        .map_err(|e| format!("{}: {e}", files.ca.display()))?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let (certs, key) = key_pair(&files.cert, &files.key)?;
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| pair_error(files, e))?;
    // The API is HTTP/1.1 (hijacked streams need it).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The certificates of the CA file `path`, as the only roots.
fn roots(path: &Path) -> Result<Arc<rustls::RootCertStore>, String> {
    let pem =
        std::fs::read(path).map_err(|e| format!("could not read CA certificate {path:?}: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem).flatten() {
        roots
            .add(cert)
            .map_err(|e| format!("CA certificate {path:?}: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!(
            "failed to append certificates from PEM file: {path:?}"
        ));
    }
    Ok(Arc::new(roots))
}

fn key_pair(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let unreadable = |e: std::io::Error| {
        format!("could not load X509 key pair (cert: {cert:?}, key: {key:?}): {e}")
    };
    let cert_pem = std::fs::read(cert).map_err(unreadable)?;
    let key_pem = std::fs::read(key).map_err(unreadable)?;
    let bad = |what: &str| {
        format!(
            "error reading X509 key pair - make sure the key is not encrypted (cert: {cert:?}, key: {key:?}): {what}"
        )
    };
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no certificate in the cert file"));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| bad(&e.to_string()))?;
    Ok((certs, key))
}

fn pair_error(files: &TlsFiles, e: rustls::Error) -> String {
    format!(
        "error reading X509 key pair (cert: {:?}, key: {:?}): {e}",
        files.cert, files.key
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(files: &TlsFiles, verify: bool) -> String {
        acceptor(files, verify).err().expect("refused")
    }

    #[test]
    fn unusable_files_are_named_in_dockerds_words() {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        std::fs::write(p("junk.pem"), "not a certificate").unwrap();
        let files = |ca: &str, cert: &str| TlsFiles {
            ca: p(ca),
            cert: p(cert),
            key: p("key.pem"),
        };
        let ca = format!("{:?}", p("ca.pem"));
        assert!(
            message(&files("ca.pem", "c"), true)
                .starts_with(&format!("could not read CA certificate {ca}: "))
        );
        let junk = format!(
            "failed to append certificates from PEM file: {:?}",
            p("junk.pem")
        );
        assert_eq!(message(&files("junk.pem", "c"), true), junk);
        // Without client verification the CA is not read.
        let pair = format!(
            "could not load X509 key pair (cert: {:?}, key: {:?}): ",
            p("c"),
            p("key.pem")
        );
        assert!(message(&files("ca.pem", "c"), false).starts_with(&pair));
        std::fs::write(p("key.pem"), "no key").unwrap();
        let bad = message(&files("ca.pem", "junk.pem"), false);
        assert!(
            bad.starts_with("error reading X509 key pair - make sure the key is not encrypted"),
            "{bad}"
        );
    }
}
