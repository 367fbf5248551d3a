//! A container's files on disk: `containers/<id>/` holds its bundle, log, exit record and the
//! `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf` it gets.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Paths of one container's files.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The container directory.
    pub dir: PathBuf,
    /// OCI bundle.
    pub bundle: PathBuf,
    /// json-file log.
    pub log: PathBuf,
    /// Exit record written by the monitor.
    pub exit: PathBuf,
    /// The monitor's config.
    pub monitor_config: PathBuf,
    /// The monitor's own stderr.
    pub monitor_log: PathBuf,
    /// /etc/hosts.
    pub hosts: PathBuf,
    /// /etc/hostname.
    pub hostname: PathBuf,
    /// /etc/resolv.conf.
    pub resolv_conf: PathBuf,
}

impl Paths {
    /// Paths under `dir`.
    pub fn new(dir: &Path) -> Self {
        let id = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Paths {
            dir: dir.to_path_buf(),
            bundle: dir.join("bundle"),
            log: dir.join(format!("{id}-json.log")),
            exit: dir.join("exit.json"),
            monitor_config: dir.join("monitor.json"),
            monitor_log: dir.join("monitor.log"),
            hosts: dir.join("hosts"),
            hostname: dir.join("hostname"),
            resolv_conf: dir.join("resolv.conf"),
        }
    }

    /// Writes the files a container sees under /etc, as Docker prepares them; `address` is
    /// the container's on its network, which `/etc/hosts` gives its hostname.
    pub fn write_etc(
        &self,
        hostname: &str,
        host_network: bool,
        address: Option<std::net::IpAddr>,
    ) -> io::Result<()> {
        if host_network {
            fs::copy("/etc/hosts", &self.hosts)
                .or_else(|_| fs::write(&self.hosts, LOCALHOST).map(|()| 0))?;
        } else {
            let mine = address
                .map(|a| format!("{a}\t{hostname}\n"))
                .unwrap_or_default();
            fs::write(&self.hosts, format!("{LOCALHOST}{mine}"))?;
        }
        fs::write(&self.hostname, format!("{hostname}\n"))?;
        fs::write(&self.resolv_conf, resolv_conf(host_network))?;
        Ok(())
    }
}

const LOCALHOST: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

/// The host's resolv.conf; without the host's network, loopback resolvers are unreachable and
/// dropped, as Docker does (falling back to public resolvers when none is left).
fn resolv_conf(host_network: bool) -> String {
    let host = fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    if host_network {
        return host;
    }
    let mut out: Vec<&str> = host
        .lines()
        .filter(|l| {
            let mut f = l.split_whitespace();
            !(f.next() == Some("nameserver")
                && f.next()
                    .is_some_and(|a| a.starts_with("127.") || a == "::1"))
        })
        .collect();
    let mut s = String::new();
    if !out.iter().any(|l| l.starts_with("nameserver")) {
        out.push("nameserver 8.8.8.8");
        out.push("nameserver 8.8.4.4");
    }
    for l in out {
        s.push_str(l);
        s.push('\n');
    }
    s
}
