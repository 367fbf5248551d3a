//! systemd socket activation (`-H fd://`), read as dockerd reads it (go-systemd's
//! `activation`): the sockets are descriptors 3 to 3+`LISTEN_FDS`-1, meant for this process when
//! `LISTEN_PID` is its pid. `fd://` serves all of them, `fd://N` descriptor N alone (the others
//! are closed); TCP ones get TLS when the daemon has it.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use anyhow::{Context, Result, bail};
use berth_daemon::http::Listener;
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sys::socket::{AddressFamily, SockaddrLike, SockaddrStorage, getsockname};
use tokio_rustls::TlsAcceptor;

/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
const FIRST: i32 = 3;

/// The sockets systemd passed this process; none when it passed none, or passed them to
/// another process (an inherited environment).
pub fn listeners() -> Result<Vec<Option<OwnedFd>>> {
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<i64>().ok());
    let ours = var("LISTEN_PID") == Some(i64::from(std::process::id()));
    let count = var("LISTEN_FDS")
        .filter(|_| ours)
        .unwrap_or(0)
        .clamp(0, 1024) as i32;
    (FIRST..FIRST + count)
        .map(|fd| {
            // Monitors and exec helpers the daemon spawns must not inherit the API's sockets.
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))
                .with_context(|| format!("failed to listen on systemd activated file: fd {fd}"))?;
            // SAFETY: by the protocol, descriptors 3..3+LISTEN_FDS are this process's
            // sockets, open and owned by nothing else; each is wrapped once, here.
            Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }))
        })
        .collect()
}

/// The listeners of one `fd://` host (`which`: its number, if any), taken out of `passed`.
pub fn take(
    passed: &mut [Option<OwnedFd>],
    which: Option<i32>,
    tls: Option<&TlsAcceptor>,
) -> Result<Vec<Listener>> {
    if passed.is_empty() {
        bail!(
            "no sockets found via socket activation: make sure the service was started by systemd"
        );
    }
    let fds: Vec<OwnedFd> =
        match which {
            None => passed.iter_mut().filter_map(Option::take).collect(),
            Some(n) => {
                let slot = usize::try_from(n - FIRST)
                    .ok()
                    .and_then(|i| passed.get_mut(i))
                    .context("too few socket activated files passed in by systemd")?;
                vec![slot.take().with_context(|| {
                    format!("failed to listen on systemd activated file: fd {n}")
                })?]
            }
        };
    fds.into_iter().map(|fd| listener(fd, tls)).collect()
}

fn listener(fd: OwnedFd, tls: Option<&TlsAcceptor>) -> Result<Listener> {
    let n = fd.as_raw_fd();
    let family = getsockname::<SockaddrStorage>(n)
        .with_context(|| format!("systemd activated file fd {n} is not a socket"))?
        .family();
    let listener = match family {
        Some(AddressFamily::Unix) => {
            let l = std::os::unix::net::UnixListener::from(fd);
            l.set_nonblocking(true)?;
            Listener::Unix(tokio::net::UnixListener::from_std(l)?)
        }
        Some(AddressFamily::Inet | AddressFamily::Inet6) => {
            let l = std::net::TcpListener::from(fd);
            l.set_nonblocking(true)?;
            Listener::Tcp(tokio::net::TcpListener::from_std(l)?, tls.cloned())
        }
        other => bail!("systemd activated file fd {n}: unsupported socket family {other:?}"),
    };
    tracing::info!(host = %format!("fd://{n}"), "API listening");
    Ok(listener)
}
