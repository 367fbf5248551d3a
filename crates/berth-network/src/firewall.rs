//! berth's firewall: one nftables table, `inet berth`, owned by berth and written as one atomic
//! `nft -f` batch. Published ports are elements of maps, so publishing a port is a map update,
//! never a new rule or a process; bridges and subnets are sets.
//!
//! Rules of the table (from the measurements in `shared/notes/networking.md` §3):
//! - `prerouting` and `output` (nat): traffic to a local address whose port is in a map is
//!   DNATed to the container. Maps keyed by host address come first, then the wildcard ones.
//!   IPv6 loopback is left to the daemon's proxy (IPv6 has no `route_localnet`).
//! - `postrouting` (nat): a network's traffic leaving by another interface is masqueraded
//!   (unless its masquerade is off); loopback sources into a bridge are masqueraded, so
//!   127.0.0.1 works with `route_localnet`; DNATed traffic from a berth subnet back into a
//!   bridge (hairpin) is masqueraded, so replies come back through the host.
//! - `forward` (filter): the administrator's chain `berth-user` first (made if missing, never
//!   flushed, so its rules outlive berth's rebuilds), then isolation between bridges, internal
//!   networks and `icc=false`, then replies and DNATed traffic into bridges accepted.
//!
//! Every chain of berth's but `berth-user` is flushed and refilled in the same batch: a
//! rebuild at daemon start and any later change leave the table exactly as the state says.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::IpAddr;
use std::process::{Command, Stdio};

use ipnet::IpNet;

/// The table's name (family `inet`).
pub const TABLE: &str = "berth";
/// The chain the administrator owns, evaluated first in `forward`.
pub const USER_CHAIN: &str = "berth-user";

/// A bridge network as the firewall sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bridge {
    /// The bridge's interface name.
    pub name: String,
    /// Its subnets (IPv4 and IPv6).
    pub subnets: Vec<IpNet>,
    /// Masquerade what leaves it for other interfaces (`enable_ip_masquerade`).
    pub masquerade: bool,
    /// No traffic in or out but between its own containers (`--internal`).
    pub internal: bool,
    /// Containers on it may talk to each other (`enable_icc`).
    pub icc: bool,
}

/// A transport protocol of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Proto {
    fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Sctp => "sctp",
        }
    }
}

/// A published port: traffic to `host_ip:host_port` (any local address when `None`) goes to
/// `container_ip:container_port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// The protocol.
    pub proto: Proto,
    /// The host address it is published on; `None` for every address of its family.
    pub host_ip: Option<IpAddr>,
    /// The host port.
    pub host_port: u16,
    /// The container's address (its family decides the table's family for it).
    pub container_ip: IpAddr,
    /// The container's port.
    pub container_port: u16,
}

/// Everything the table holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ruleset {
    /// The bridge networks.
    pub bridges: Vec<Bridge>,
    /// The published ports.
    pub ports: Vec<Port>,
}

/// `nft` failed to load a batch.
#[derive(Debug, thiserror::Error)]
#[error("loading berth's nftables table: {0}")]
pub struct FirewallError(pub(crate) String);

const PROTOS: [Proto; 3] = [Proto::Tcp, Proto::Udp, Proto::Sctp];

/// berth's base chains and their hooks (nft 1.0.6 refuses `priority dstnat` on `output`).
const BASE_CHAINS: [(&str, &str); 4] = [
    ("prerouting", "type nat hook prerouting priority dstnat"),
    ("output", "type nat hook output priority -100"),
    ("postrouting", "type nat hook postrouting priority srcnat"),
    ("forward", "type filter hook forward priority filter"),
];

/// The two families a map exists for: (suffix, nft address type, nft address expression).
const FAMILIES: [(&str, &str, &str); 2] = [("4", "ipv4_addr", "ip"), ("6", "ipv6_addr", "ip6")];

impl Ruleset {
    /// The batch that makes the table what this ruleset says, atomically.
    pub fn render(&self) -> String {
        let mut b = String::new();
        let _ = writeln!(b, "add table inet {TABLE}");
        let _ = writeln!(b, "add chain inet {TABLE} {USER_CHAIN}");
        for (chain, hook) in BASE_CHAINS {
            let _ = writeln!(
                b,
                "add chain inet {TABLE} {chain} {{ {hook}; policy accept; }}"
            );
            let _ = writeln!(b, "flush chain inet {TABLE} {chain}");
        }
        self.sets(&mut b);
        self.maps(&mut b);
        let nat = self.nat_rules();
        for (chain, rules) in [
            ("prerouting", &nat),
            ("output", &nat),
            ("postrouting", &self.postrouting()),
            ("forward", &self.forward()),
        ] {
            for rule in rules {
                let _ = writeln!(b, "add rule inet {TABLE} {chain} {rule}");
            }
        }
        b
    }

    fn sets(&self, b: &mut String) {
        let names: Vec<String> = self.bridges.iter().map(|x| quote(&x.name)).collect();
        set(b, "bridges", "ifname", "", &names);
        for (suffix, addr, _) in FAMILIES {
            let nets: Vec<String> = self
                .bridges
                .iter()
                .flat_map(|x| &x.subnets)
                .filter(|n| family(n.addr()) == suffix)
                .map(|n| n.to_string())
                .collect();
            set(
                b,
                &format!("subnets{suffix}"),
                addr,
                "flags interval; ",
                &nets,
            );
        }
    }

    fn maps(&self, b: &mut String) {
        for (suffix, addr, _) in FAMILIES {
            for proto in PROTOS {
                let mine = |p: &&Port| p.proto == proto && family(p.container_ip) == suffix;
                let target = |p: &Port| format!("{} . {}", p.container_ip, p.container_port);
                let by_addr: Vec<String> = self
                    .ports
                    .iter()
                    .filter(mine)
                    .filter_map(|p| {
                        let ip = p.host_ip?;
                        Some(format!("{ip} . {} : {}", p.host_port, target(p)))
                    })
                    .collect();
                let any: Vec<String> = self
                    .ports
                    .iter()
                    .filter(mine)
                    .filter(|p| p.host_ip.is_none())
                    .map(|p| format!("{} : {}", p.host_port, target(p)))
                    .collect();
                let name = format!("{}{suffix}", proto.as_str());
                let kind = format!("{addr} . inet_service : {addr} . inet_service");
                map(b, &name, &kind, &by_addr);
                let kind = format!("inet_service : {addr} . inet_service");
                map(b, &format!("{name}_any"), &kind, &any);
            }
        }
    }

    /// The rules of `prerouting` and `output`: DNAT of traffic to local addresses through the
    /// port maps, those keyed by host address first.
    fn nat_rules(&self) -> Vec<String> {
        let mut rules = Vec::new();
        for (suffix, _, ip) in FAMILIES {
            for proto in PROTOS {
                let (p, name) = (proto.as_str(), format!("{}{suffix}", proto.as_str()));
                let mut local = format!("fib daddr type local meta nfproto {}", nfproto(suffix));
                if suffix == "6" {
                    // A DNATed `::1` packet could not leave loopback: the daemon's proxy
                    // listening on the port serves it.
                    local.push_str(" ip6 daddr != ::1");
                }
                rules.push(format!(
                    "{local} dnat {ip} to {ip} daddr . {p} dport map @{name}"
                ));
                rules.push(format!("{local} dnat {ip} to {p} dport map @{name}_any"));
            }
        }
        rules
    }

    /// The rules of `postrouting`: masquerade out of networks, of loopback sources into
    /// bridges, and of hairpin traffic.
    fn postrouting(&self) -> Vec<String> {
        let mut r = Vec::new();
        for x in self.bridges.iter().filter(|x| x.masquerade && !x.internal) {
            for net in &x.subnets {
                let ip = if family(net.addr()) == "4" {
                    "ip"
                } else {
                    "ip6"
                };
                r.push(format!(
                    "{ip} saddr {net} oifname != {} masquerade",
                    quote(&x.name)
                ));
            }
        }
        r.push("oifname @bridges ip saddr 127.0.0.0/8 masquerade".into());
        r.push("oifname @bridges ct status dnat ip saddr @subnets4 masquerade".into());
        r.push("oifname @bridges ct status dnat ip6 saddr @subnets6 masquerade".into());
        r
    }

    /// The rules of `forward`: the administrator's chain, isolation, then what berth lets
    /// into bridges.
    fn forward(&self) -> Vec<String> {
        let mut r = vec![format!("jump {USER_CHAIN}")];
        for x in &self.bridges {
            let n = quote(&x.name);
            // Docker's isolation: no traffic from one bridge network to another.
            r.push(format!("iifname {n} oifname @bridges oifname != {n} drop"));
            if x.internal {
                r.push(format!("iifname {n} oifname != {n} drop"));
                r.push(format!("oifname {n} iifname != {n} drop"));
            }
            if !x.icc {
                r.push(format!("iifname {n} oifname {n} drop"));
            }
        }
        r.push("oifname @bridges ct state established,related accept".into());
        r.push("oifname @bridges ct status dnat accept".into());
        r.push("iifname @bridges accept".into());
        r
    }

    /// Loads the ruleset into the network namespace of the calling thread (`nft` inherits it).
    pub fn apply(&self) -> Result<(), FirewallError> {
        load(&self.render())
    }
}

/// Runs `nft -f -` with `batch` in the calling thread's network namespace.
pub(crate) fn load(batch: &str) -> Result<(), FirewallError> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| FirewallError(format!("running nft: {e}")))?;
    let written = child
        .stdin
        .take()
        .expect("piped")
        .write_all(batch.as_bytes());
    let out = child
        .wait_with_output()
        .map_err(|e| FirewallError(format!("running nft: {e}")))?;
    if !out.status.success() {
        return Err(FirewallError(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    written.map_err(|e| FirewallError(format!("writing to nft: {e}")))
}

/// Removes berth's table (the administrator's chain goes with it).
pub fn remove() -> Result<(), FirewallError> {
    load(&format!(
        "add table inet {TABLE}\ndelete table inet {TABLE}\n"
    ))
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() { "4" } else { "6" }
}

fn nfproto(suffix: &str) -> &'static str {
    if suffix == "4" { "ipv4" } else { "ipv6" }
}

fn quote(name: &str) -> String {
    format!("\"{name}\"")
}

/// A named set, declared (and emptied) then filled, so a rebuild drops stale elements.
fn set(b: &mut String, name: &str, kind: &str, flags: &str, elements: &[String]) {
    let _ = writeln!(b, "add set inet {TABLE} {name} {{ type {kind}; {flags}}}");
    let _ = writeln!(b, "flush set inet {TABLE} {name}");
    if !elements.is_empty() {
        let _ = writeln!(
            b,
            "add element inet {TABLE} {name} {{ {} }}",
            elements.join(", ")
        );
    }
}

/// A named map, declared (and emptied) then filled.
fn map(b: &mut String, name: &str, kind: &str, elements: &[String]) {
    let _ = writeln!(b, "add map inet {TABLE} {name} {{ type {kind}; }}");
    let _ = writeln!(b, "flush map inet {TABLE} {name}");
    if !elements.is_empty() {
        let _ = writeln!(
            b,
            "add element inet {TABLE} {name} {{ {} }}",
            elements.join(", ")
        );
    }
}

mod compat;
pub use compat::{forward_accepts, remove_forward_accepts};

#[cfg(test)]
mod tests;
