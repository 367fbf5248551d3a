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
    /// Health state written by the monitor's prober.
    pub health: PathBuf,
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
            health: dir.join("health.json"),
            monitor_config: dir.join("monitor.json"),
            monitor_log: dir.join("monitor.log"),
            hosts: dir.join("hosts"),
            hostname: dir.join("hostname"),
            resolv_conf: dir.join("resolv.conf"),
        }
    }

    /// Writes the files a container sees under /etc, as Docker prepares them.
    pub fn write_etc(&self, etc: &Etc<'_>) -> io::Result<()> {
        self.write_hosts(etc)?;
        fs::write(&self.hostname, format!("{}\n", etc.hostname))?;
        fs::write(&self.resolv_conf, resolv_conf(etc))?;
        Ok(())
    }

    /// Writes `/etc/hosts` (again, after `network connect` changed the addresses): in place,
    /// as the file is bind-mounted into a running container.
    pub fn write_hosts(&self, etc: &Etc<'_>) -> io::Result<()> {
        let mut out = if etc.host_network {
            fs::read_to_string("/etc/hosts").unwrap_or_else(|_| LOCALHOST.to_string())
        } else {
            LOCALHOST.to_string()
        };
        for e in &etc.net.extra_hosts {
            let Ok((name, ip)) = crate::wire::net::extra_host(e) else {
                continue;
            };
            let ip = match (ip, etc.host_gateway) {
                ("host-gateway", Some(gw)) => gw.to_string(),
                // Refused at create where nothing can stand for it; a build step has none.
                ("host-gateway", None) => continue,
                _ => ip.to_string(),
            };
            out.push_str(&format!("{ip}\t{name}\n"));
        }
        for (ip, names) in etc.links {
            out.push_str(&format!("{ip}\t{names}\n"));
        }
        if !etc.host_network {
            let names = if etc.domainname.is_empty() {
                etc.hostname.to_string()
            } else {
                format!("{}.{} {}", etc.hostname, etc.domainname, etc.hostname)
            };
            for a in etc.addresses {
                out.push_str(&format!("{a}\t{names}\n"));
            }
        }
        fs::write(&self.hosts, out)
    }
}

/// What a container's `/etc` files are made of.
pub struct Etc<'a> {
    /// Its host name.
    pub hostname: &'a str,
    /// Its domain name.
    pub domainname: &'a str,
    /// It runs in the host's network namespace.
    pub host_network: bool,
    /// Its addresses, which `/etc/hosts` gives its name.
    pub addresses: &'a [std::net::IpAddr],
    /// Its names are resolved by the embedded DNS server.
    pub embedded_dns: bool,
    /// What `host-gateway` stands for.
    pub host_gateway: Option<std::net::IpAddr>,
    /// `--dns*` and `--add-host`.
    pub net: &'a super::NetSpec,
    /// Hosts lines of `--link`s: the address and the names.
    pub links: &'a [(std::net::IpAddr, String)],
}

const LOCALHOST: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

/// The host's name servers, as the embedded DNS server forwards to them.
pub fn host_nameservers() -> Vec<std::net::IpAddr> {
    let host = fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    entries(&host, "nameserver")
        .iter()
        .filter_map(|a| a.parse().ok())
        .collect()
}

/// The words after `key` on the host file's lines that start with it.
fn entries(text: &str, key: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            (f.next() == Some(key)).then(|| f.map(str::to_string).collect::<Vec<_>>())
        })
        .flatten()
        .collect()
}

/// `/etc/resolv.conf` as Docker writes it: on a user-defined network the embedded server
/// with `ndots:0`; with `--dns*` a file built from them and the host's; else the host's file,
/// without the name servers the container cannot reach (loopback; IPv6, which berth's
/// containers do not route), falling back to Google's.
fn resolv_conf(etc: &Etc<'_>) -> String {
    let host = fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let net = etc.net;
    let or_host = |given: &[String], key: &str| {
        if given.is_empty() {
            entries(&host, key)
        } else {
            given.to_vec()
        }
    };
    if etc.embedded_dns {
        let mut options = or_host(&net.dns_options, "options");
        if !options.iter().any(|o| o.starts_with("ndots:")) {
            options.push("ndots:0".into());
        }
        return build(
            &or_host(&net.dns_search, "search"),
            &["127.0.0.11".into()],
            &options,
        );
    }
    if !net.dns.is_empty() || !net.dns_search.is_empty() || !net.dns_options.is_empty() {
        return build(
            &or_host(&net.dns_search, "search"),
            &or_host(&net.dns, "nameserver"),
            &or_host(&net.dns_options, "options"),
        );
    }
    if etc.host_network {
        return host;
    }
    filtered(&host)
}

/// Docker's `resolvconf.Build`; a search list of `.` is none.
fn build(search: &[String], servers: &[String], options: &[String]) -> String {
    let mut s = String::new();
    if !search.is_empty() && search != ["."] {
        s.push_str(&format!("search {}\n", search.join(" ")));
    }
    for n in servers {
        s.push_str(&format!("nameserver {n}\n"));
    }
    if !options.is_empty() {
        s.push_str(&format!("options {}\n", options.join(" ")));
    }
    s
}

/// The host's file without loopback and IPv6 name servers; Google's when none is left.
fn filtered(host: &str) -> String {
    let mut s = String::new();
    for l in host.lines() {
        let mut f = l.split_whitespace();
        let unreachable = f.next() == Some("nameserver")
            && f.next()
                .is_some_and(|a| a.starts_with("127.") || a.contains(':'));
        if !unreachable {
            s.push_str(l);
            s.push('\n');
        }
    }
    if entries(&s, "nameserver").is_empty() {
        s.push_str("\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_file_loses_what_a_container_cannot_reach() {
        let host = "nameserver 127.0.0.53\nnameserver 10.1.1.1\nnameserver fe80::1%eth0\nsearch a.example b.example\noptions ndots:2\n";
        assert_eq!(
            filtered(host),
            "nameserver 10.1.1.1\nsearch a.example b.example\noptions ndots:2\n"
        );
        let only_local = "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch corp.example\n";
        assert_eq!(
            filtered(only_local),
            "options edns0 trust-ad\nsearch corp.example\n\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
    }

    #[test]
    fn built_files_have_dockers_order() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            build(
                &s(&["x.example"]),
                &s(&["9.9.9.9"]),
                &s(&["ndots:3", "timeout:1"])
            ),
            "search x.example\nnameserver 9.9.9.9\noptions ndots:3 timeout:1\n"
        );
        assert_eq!(
            build(&s(&["."]), &s(&["1.1.1.1"]), &[]),
            "nameserver 1.1.1.1\n"
        );
    }
}
