//! `-H` values, read as dockerd and the docker CLI read them: `unix://PATH`, `tcp://HOST:PORT`
//! (host `localhost` and port 2375 when left out), a bare `HOST:PORT` as TCP. berth also takes a
//! bare path (anything with a `/`) as a unix socket, as it always has. A daemon also takes
//! `fd://` (systemd's sockets).

use std::path::PathBuf;

/// The daemon's default socket (Docker's is /var/run/docker.sock).
pub const DEFAULT_SOCKET: &str = "/run/berth/berth.sock";
/// Where a TLS daemon listens, and a TLS client connects, when no host is given.
pub const DEFAULT_TLS_HOST: &str = "tcp://localhost:2376";
const DEFAULT_TCP_HOST: &str = "localhost";
const DEFAULT_TCP_PORT: &str = "2375";

/// Where the API is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Host {
    Unix(PathBuf),
    /// `host:port` (an IPv6 host in brackets), and for a client a base path (empty or `/...`).
    Tcp {
        addr: String,
        path: String,
    },
    /// systemd's socket activation (a daemon's `fd://`): every socket passed (`None`), or
    /// the one with this descriptor number.
    Fd(Option<i32>),
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Host::Unix(p) => write!(f, "unix://{}", p.display()),
            Host::Tcp { addr, path } => write!(f, "tcp://{addr}{path}"),
            Host::Fd(None) => write!(f, "fd://"),
            Host::Fd(Some(n)) => write!(f, "fd://{n}"),
        }
    }
}

/// A daemon's `-H` (dockerd's ParseDaemonHost): a TCP address takes no path.
pub fn daemon_host(value: &str) -> Result<Host, String> {
    let bad = |why: &str| format!("invalid bind address ({value}): {why}");
    match split(value) {
        ("unix", path) => Ok(unix(path)),
        ("tcp", addr) => match tcp(addr).ok_or_else(|| bad("invalid port"))? {
            Host::Tcp { path, .. } if !path.is_empty() => {
                Err(bad("should not contain a path element"))
            }
            host => Ok(host),
        },
        ("fd", "" | "*") => Ok(Host::Fd(None)),
        ("fd", n) => n
            .parse()
            .map(|n| Host::Fd(Some(n)))
            .map_err(|_| format!("failed to parse systemd fd address: should be a number: {n}")),
        (proto, _) => Err(bad(&format!("unsupported proto '{proto}'"))),
    }
}

/// A client's `-H` or `DOCKER_HOST` (the docker CLI's ParseHost).
pub fn client_host(value: &str) -> Result<Host, String> {
    let bad = || format!("invalid bind address format: {value}");
    match split(value.trim()) {
        ("unix", path) => Ok(unix(path)),
        ("tcp", addr) => tcp(addr).ok_or_else(bad),
        (proto @ ("ssh" | "fd" | "npipe"), _) => Err(format!(
            "-H {value}: berth cannot connect over {proto}:// (use unix:// or tcp://)"
        )),
        _ => Err(bad()),
    }
}

/// (protocol, the rest); a bare value is a path when it has a `/`, else TCP.
fn split(value: &str) -> (&str, &str) {
    match value.split_once("://") {
        Some(parts) => parts,
        None if value.contains('/') => ("unix", value),
        None => ("tcp", value),
    }
}

fn unix(path: &str) -> Host {
    Host::Unix(PathBuf::from(if path.is_empty() {
        DEFAULT_SOCKET
    } else {
        path
    }))
}

/// `[host][:port][/path]` with Docker's defaults; `None` for a port that is not a number.
fn tcp(addr: &str) -> Option<Host> {
    let (hostport, path) = addr.find('/').map_or((addr, ""), |i| addr.split_at(i));
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let (h, tail) = rest.split_once(']')?;
        (format!("[{h}]"), tail.strip_prefix(':').unwrap_or(tail))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p),
            None => (hostport.to_string(), ""),
        }
    };
    let host = if host.is_empty() {
        DEFAULT_TCP_HOST.into()
    } else {
        host
    };
    let port = if port.is_empty() {
        DEFAULT_TCP_PORT
    } else {
        port
    };
    port.parse::<u16>().ok().filter(|p| *p != 0)?;
    Some(Host::Tcp {
        addr: format!("{host}:{port}"),
        path: path.trim_end_matches('/').to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(addr: &str) -> Host {
        Host::Tcp {
            addr: addr.into(),
            path: String::new(),
        }
    }

    #[test]
    fn hosts_take_dockers_defaults() {
        assert_eq!(daemon_host("tcp://").unwrap(), tcp("localhost:2375"));
        assert_eq!(daemon_host("tcp://0.0.0.0").unwrap(), tcp("0.0.0.0:2375"));
        assert_eq!(daemon_host(":2376").unwrap(), tcp("localhost:2376"));
        assert_eq!(daemon_host("tcp://[::1]:2376").unwrap(), tcp("[::1]:2376"));
        assert_eq!(daemon_host("tcp://[::1]").unwrap(), tcp("[::1]:2375"));
        assert_eq!(
            daemon_host("unix://").unwrap(),
            Host::Unix(DEFAULT_SOCKET.into())
        );
        assert_eq!(
            daemon_host("/tmp/x.sock").unwrap(),
            Host::Unix("/tmp/x.sock".into())
        );
        assert_eq!(client_host("10.0.0.1:2376").unwrap(), tcp("10.0.0.1:2376"));
        assert_eq!(
            client_host("tcp://h:1/base/").unwrap(),
            Host::Tcp {
                addr: "h:1".into(),
                path: "/base".into()
            }
        );
        assert_eq!(
            client_host("tcp://h:1/base").unwrap().to_string(),
            "tcp://h:1/base"
        );
    }

    #[test]
    fn bad_hosts_are_refused_in_dockers_words() {
        assert_eq!(
            daemon_host("tcp://h:1/x").unwrap_err(),
            "invalid bind address (tcp://h:1/x): should not contain a path element"
        );
        assert_eq!(
            daemon_host("tcp://h:port").unwrap_err(),
            "invalid bind address (tcp://h:port): invalid port"
        );
        assert_eq!(
            daemon_host("udp://h:1").unwrap_err(),
            "invalid bind address (udp://h:1): unsupported proto 'udp'"
        );
        assert_eq!(
            client_host("tcp://h:0").unwrap_err(),
            "invalid bind address format: tcp://h:0"
        );
        assert!(
            client_host("ssh://me@h")
                .unwrap_err()
                .contains("cannot connect over ssh://")
        );
        assert_eq!(daemon_host("fd://").unwrap(), Host::Fd(None));
        assert_eq!(daemon_host("fd://4").unwrap(), Host::Fd(Some(4)));
        assert_eq!(
            daemon_host("fd://x").unwrap_err(),
            "failed to parse systemd fd address: should be a number: x"
        );
    }
}
