//! The daemon's `-H` listeners as dockerd makes them: unix sockets (`root:GROUP`, mode 0660),
//! TCP with TLS from `--tls`/`--tlsverify`, and plain TCP only when asked for by name
//! (`--tls=false`). dockerd warns, then waits 1 to 16 seconds, before serving unauthenticated
//! TCP without that; berth refuses, on loopback addresses too (reachable from every local user
//! and from scripts in a browser).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Context, Result, bail};
use berth_daemon::http::Listener;
use berth_daemon::http::tls::TlsFiles;
use tokio_rustls::TlsAcceptor;

use crate::hosts::{self, Host};
use crate::tls_flags::{TlsFlags, cert_dir};

/// What the daemon will listen on, decided before anything is opened.
pub struct Plan {
    hosts: Vec<Host>,
    /// The acceptor, and whether it verifies clients.
    tls: Option<(TlsAcceptor, bool)>,
}

impl Plan {
    /// `-H` values (none: the default socket, or with TLS `tcp://localhost:2376`) and the
    /// TLS flags, read as dockerd reads them; certificates are loaded here, so bad ones stop
    /// the start.
    pub fn new(values: &[String], flags: &TlsFlags) -> Result<Plan> {
        let tls = flags.daemon();
        let mut values: Vec<&str> = values
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            values.push(if tls.is_some() {
                hosts::DEFAULT_TLS_HOST
            } else {
                hosts::DEFAULT_SOCKET
            });
        }
        let mut hosts = values
            .into_iter()
            .map(hosts::daemon_host)
            .collect::<Result<Vec<_>, _>>()
            .map_err(anyhow::Error::msg)?;
        hosts.sort();
        hosts.dedup();
        if let Some(tcp) = hosts.iter().find(|h| matches!(h, Host::Tcp { .. }))
            && tls.is_none()
            && !flags.explicit()
        {
            bail!(
                "-H {tcp}: binding to an IP address without --tlsverify gives root access on this machine to everyone who has access to your network (https://docs.docker.com/go/api-security/); use --tlsverify with --tlscacert, --tlscert and --tlskey, or override this by explicitly specifying '--tls=false' or '--tlsverify=false'"
            );
        }
        let tls = match tls {
            None => None,
            Some(t) => {
                let dir = cert_dir();
                let files = TlsFiles {
                    ca: t.ca,
                    cert: t.cert.unwrap_or_else(|| dir.join("cert.pem")),
                    key: t.key.unwrap_or_else(|| dir.join("key.pem")),
                };
                let acceptor = berth_daemon::http::tls::acceptor(&files, t.verify)
                    .map_err(|e| anyhow::anyhow!("invalid TLS configuration: {e}"))?;
                Some((acceptor, t.verify))
            }
        };
        Ok(Plan { hosts, tls })
    }

    /// What `/info` warns of: TCP without TLS, or without client verification (dockerd's words).
    pub fn warnings(&self) -> Vec<String> {
        const ROOT: &str = "\n         Access to the remote API is equivalent to root access on the host. Refer\n         to the 'Docker daemon attack surface' section in the documentation for\n         more information: https://docs.docker.com/go/attack-surface/";
        self.tcp()
            .filter_map(|addr| match &self.tls {
                None => Some(format!(
                    "API is accessible on http://{addr} without encryption.{ROOT}"
                )),
                Some((_, false)) => Some(format!(
                    "API is accessible on https://{addr} without TLS client verification.{ROOT}"
                )),
                Some((_, true)) => None,
            })
            .collect()
    }

    fn tcp(&self) -> impl Iterator<Item = &str> {
        self.hosts.iter().filter_map(|h| match h {
            Host::Tcp { addr, .. } => Some(addr.as_str()),
            _ => None,
        })
    }

    /// The unix sockets, to remove at shutdown.
    pub fn sockets(&self) -> impl Iterator<Item = &Path> {
        self.hosts.iter().filter_map(|h| match h {
            Host::Unix(p) => Some(p.as_path()),
            _ => None,
        })
    }

    /// Binds every host, TCP first: the unix socket answering tells that all are ready.
    pub async fn bind(&self, group: &str) -> Result<Vec<Listener>> {
        let mut listeners = Vec::new();
        for addr in self.tcp() {
            if !matches!(self.tls, Some((_, true))) {
                tracing::warn!(host = %format!("tcp://{addr}"), "Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network.");
                tracing::warn!(host = %format!("tcp://{addr}"), "Binding to an IP address, even on localhost, can also give access to scripts run in a browser. Be safe out there!");
            }
            let tcp = bind_tcp(addr)
                .await
                .with_context(|| format!("listening on tcp://{addr}"))?;
            tracing::info!(host = %format!("tcp://{addr}"), tls = self.tls.is_some(), "API listening");
            listeners.push(Listener::Tcp(
                tcp,
                self.tls.as_ref().map(|(a, _)| a.clone()),
            ));
        }
        for socket in self.sockets() {
            listeners.push(Listener::Unix(bind_unix(socket, group)?));
            tracing::info!(socket = %socket.display(), "API listening");
        }
        let fds: Vec<Option<i32>> = self
            .hosts
            .iter()
            .filter_map(|h| match h {
                Host::Fd(n) => Some(*n),
                _ => None,
            })
            .collect();
        if !fds.is_empty() {
            let tls = self.tls.as_ref().map(|(a, _)| a.clone());
            let mut passed = super::activation::listeners()?;
            for n in fds {
                listeners.extend(super::activation::take(&mut passed, n, tls.as_ref())?);
            }
        }
        Ok(listeners)
    }
}

/// `addr` (`host:port`), an IPv4 address first when the name has both (as Go listens).
async fn bind_tcp(addr: &str) -> Result<tokio::net::TcpListener> {
    let mut addrs: Vec<_> = tokio::net::lookup_host(addr)
        .await
        .context("resolving the address")?
        .collect();
    addrs.sort_by_key(|a| !a.is_ipv4());
    let first = addrs.first().context("the name has no address")?;
    Ok(tokio::net::TcpListener::bind(first).await?)
}

fn bind_unix(socket: &Path, group: &str) -> Result<tokio::net::UnixListener> {
    if let Some(dir) = socket.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // The data root is ours (the database lock says so), so a socket left here is stale.
    let _ = std::fs::remove_file(socket);
    let listener = tokio::net::UnixListener::bind(socket)
        .with_context(|| format!("listening on {}", socket.display()))?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o660))
        .with_context(|| format!("setting the mode of {}", socket.display()))?;
    if let Err(e) = give_group(socket, group) {
        // Docker's words; the socket stays root's alone.
        tracing::warn!(
            "could not change group {} to {group}: {e}",
            socket.display()
        );
    }
    Ok(listener)
}

/// Makes `group` (a name or a numeric GID) the group of `socket`.
fn give_group(socket: &Path, group: &str) -> std::result::Result<(), String> {
    let groups = std::fs::read_to_string("/etc/group").unwrap_or_default();
    let gid = berth_core::account::gid_of(&groups, group)
        .or_else(|| group.parse().ok())
        .ok_or_else(|| format!("group {group} not found"))?;
    nix::unistd::chown(socket, None, Some(nix::unistd::Gid::from_raw(gid)))
        .map_err(|e| e.to_string())
}
