//! TLS to a log server, as Docker's `tlsconfig.Client` sets it up: the CA given (else the
//! host's, `SSL_CERT_FILE` or the system bundle, as Go finds them) checks the server unless
//! verification is skipped; a key pair is presented when both its files are given.

use std::io;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use berth_core::tls::AnyCertificate;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use serde::{Deserialize, Serialize};

/// A driver's TLS options (`syslog-tls-*`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsSettings {
    /// The CA the server's certificate must be signed by.
    pub ca: Option<PathBuf>,
    /// The client's certificate.
    pub cert: Option<PathBuf>,
    /// The client's key.
    pub key: Option<PathBuf>,
    /// Take any server certificate.
    pub skip_verify: bool,
}

/// A TLS stream over TCP.
pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;

fn read(what: &str, path: &Path) -> io::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("could not read {what} {}: {e}", path.display()),
        )
    })
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
}

impl TlsSettings {
    /// The rustls configuration (ring, as the rest of berth).
    pub fn config(&self) -> io::Result<Arc<ClientConfig>> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(invalid)?;
        let builder = if self.skip_verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        } else {
            let mut roots = rustls::RootCertStore::empty();
            match &self.ca {
                Some(ca) => {
                    let pem = read("CA certificate", ca)?;
                    roots.add_parsable_certificates(CertificateDer::pem_slice_iter(&pem).flatten());
                    if roots.is_empty() {
                        return Err(invalid(format!("no certificate in {}", ca.display())));
                    }
                }
                None => {
                    let found = rustls_native_certs::load_native_certs();
                    roots.add_parsable_certificates(found.certs);
                }
            }
            builder.with_root_certificates(roots)
        };
        let config = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                let certs = CertificateDer::pem_slice_iter(&read("certificate", cert)?)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(invalid)?;
                let key = PrivateKeyDer::from_pem_slice(&read("key", key)?)
                    .map_err(|e| invalid(format!("no valid private key found: {e}")))?;
                builder.with_client_auth_cert(certs, key).map_err(invalid)?
            }
            _ => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }

    /// Connects `tcp` (to `addr`, `host:port`) and completes the handshake, so that a server
    /// that refuses us fails the container's start.
    pub fn connect(&self, addr: &str, tcp: TcpStream) -> io::Result<TlsStream> {
        let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(host.to_string()).map_err(invalid)?;
        let conn = ClientConnection::new(self.config()?, name).map_err(invalid)?;
        let mut s = StreamOwned::new(conn, tcp);
        while s.conn.is_handshaking() {
            s.conn
                .complete_io(&mut s.sock)
                .map_err(|e| io::Error::new(e.kind(), format!("tls: {e}")))?;
        }
        Ok(s)
    }
}
