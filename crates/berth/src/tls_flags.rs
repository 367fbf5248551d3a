//! `--tls`, `--tlsverify`, `--tlscacert`, `--tlscert`, `--tlskey`: one set of flags that the
//! daemon and the CLI read the way dockerd and the docker CLI do, which differ (`--tls` alone
//! verifies clients in dockerd, but not the daemon in the CLI).

use std::path::{Path, PathBuf};

/// Docker's TLS flags. Booleans take `--tls` or `--tls=BOOL`, as Go's flags do.
#[derive(Debug, Clone, Default, clap::Args, serde::Serialize, serde::Deserialize)]
pub struct TlsFlags {
    /// Use TLS; implied by --tlsverify.
    #[arg(long, global = true, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub tls: Option<bool>,
    /// Use TLS and verify the remote.
    #[arg(long, global = true, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub tlsverify: Option<bool>,
    /// Trust certs signed only by this CA [default: DOCKER_CERT_PATH/ca.pem].
    #[arg(long, global = true, value_name = "PATH")]
    pub tlscacert: Option<PathBuf>,
    /// Path to TLS certificate file [default: DOCKER_CERT_PATH/cert.pem].
    #[arg(long, global = true, value_name = "PATH")]
    pub tlscert: Option<PathBuf>,
    /// Path to TLS key file [default: DOCKER_CERT_PATH/key.pem].
    #[arg(long, global = true, value_name = "PATH")]
    pub tlskey: Option<PathBuf>,
}

/// TLS as the flags ask for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    /// Check the peer's certificate against the CA (dockerd: require one from every client).
    pub verify: bool,
    pub ca: PathBuf,
    /// `None`: the default file is missing (the CLI then goes without a certificate).
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

impl TlsFlags {
    /// dockerd's reading: `--tlsverify` with either value turns TLS on, `--tls` alone also
    /// verifies clients. The files default to `ca.pem`, `cert.pem`, `key.pem` in
    /// [`cert_dir`]. dockerd ignores `DOCKER_TLS_VERIFY` (it sets a default its config never
    /// reads), and so does berth.
    pub fn daemon(&self) -> Option<Tls> {
        if self.tlsverify.is_none() && self.tls != Some(true) {
            return None;
        }
        Some(self.files(self.tlsverify.unwrap_or(true), &cert_dir()))
    }

    /// Whether TLS was decided on the command line either way: plain TCP needs `--tls=false`
    /// (or TLS without client verification `--tlsverify=false`) said out loud.
    pub fn explicit(&self) -> bool {
        self.tls.is_some() || self.tlsverify.is_some()
    }

    /// The docker CLI's reading: `DOCKER_TLS` and `DOCKER_TLS_VERIFY` (set to anything) are
    /// the flags' defaults, `--tlsverify` with either value turns TLS on, `--tls` alone does
    /// not verify the daemon's certificate.
    pub fn client(&self) -> Option<Tls> {
        let set = |var: &str| std::env::var_os(var).is_some_and(|v| !v.is_empty());
        let verify = self.tlsverify.unwrap_or_else(|| set("DOCKER_TLS_VERIFY"));
        let tls = self.tls.unwrap_or_else(|| set("DOCKER_TLS")) || self.tlsverify.is_some();
        (tls || verify).then(|| self.files(verify, &cert_dir()))
    }

    fn files(&self, verify: bool, dir: &Path) -> Tls {
        // A default cert or key that does not exist is no cert (Docker's SetDefaultOptions).
        let or_default = |flag: &Option<PathBuf>, name: &str| match flag {
            Some(p) => Some(p.clone()),
            None => Some(dir.join(name)).filter(|p| p.exists()),
        };
        Tls {
            verify,
            ca: self.tlscacert.clone().unwrap_or_else(|| dir.join("ca.pem")),
            cert: or_default(&self.tlscert, "cert.pem"),
            key: or_default(&self.tlskey, "key.pem"),
        }
    }
}

/// `DOCKER_CERT_PATH`, else `DOCKER_CONFIG`, else `~/.docker`, as both dockerd and the CLI look.
pub fn cert_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    var("DOCKER_CERT_PATH")
        .or_else(|| var("DOCKER_CONFIG"))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(var("HOME").unwrap_or_else(|| "/root".into())).join(".docker")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(tls: Option<bool>, tlsverify: Option<bool>) -> TlsFlags {
        TlsFlags {
            tls,
            tlsverify,
            tlscacert: Some("/c/ca.pem".into()),
            tlscert: Some("/c/cert.pem".into()),
            tlskey: Some("/c/key.pem".into()),
        }
    }

    #[test]
    fn the_daemon_verifies_clients_unless_told_not_to() {
        let verify = |f: TlsFlags| f.daemon().map(|t| t.verify);
        assert_eq!(verify(flags(None, None)), None);
        assert_eq!(verify(flags(Some(false), None)), None);
        assert_eq!(verify(flags(Some(true), None)), Some(true));
        assert_eq!(verify(flags(None, Some(true))), Some(true));
        // --tlsverify=false is TLS without client certificates, even with --tls=false.
        assert_eq!(verify(flags(None, Some(false))), Some(false));
        assert_eq!(verify(flags(Some(false), Some(false))), Some(false));
        assert!(!flags(None, None).explicit());
        assert!(flags(Some(false), None).explicit());
    }

    #[test]
    fn the_cli_verifies_the_daemon_only_with_tlsverify() {
        // The environment is the test process's: these cases hold with DOCKER_TLS* unset.
        if std::env::var_os("DOCKER_TLS").is_some()
            || std::env::var_os("DOCKER_TLS_VERIFY").is_some()
        {
            return;
        }
        let verify = |f: TlsFlags| f.client().map(|t| t.verify);
        assert_eq!(verify(flags(None, None)), None);
        assert_eq!(verify(flags(Some(true), None)), Some(false));
        assert_eq!(verify(flags(None, Some(true))), Some(true));
        assert_eq!(verify(flags(None, Some(false))), Some(false));
        assert_eq!(verify(flags(Some(false), Some(true))), Some(true));
    }

    #[test]
    fn missing_default_key_pairs_are_no_key_pair() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cert.pem"), "x").unwrap();
        let t = TlsFlags::default().files(true, dir.path());
        assert_eq!(t.ca, dir.path().join("ca.pem"));
        assert_eq!(t.cert, Some(dir.path().join("cert.pem")));
        assert_eq!(t.key, None);
    }
}
