//! Legacy links on the default bridge (`--link other:alias`), resolved at each start as Docker
//! does: the other container must run on the default bridge; this one gets a hosts line
//! `<ip>\t<alias> <hostname> <name>` and the variables `<ALIAS>_NAME`, `<ALIAS>_PORT`,
//! `<ALIAS>_PORT_<port>_<PROTO>[_ADDR|_PORT|_PROTO]` and `<ALIAS>_ENV_<key>`.

use std::net::IpAddr;

use super::{Containers, Record, Status};
use crate::error::{Error, Result};

/// What a start's links add to the container.
#[derive(Debug, Default)]
pub struct Linked {
    /// `/etc/hosts` lines: the address and the names.
    pub hosts: Vec<(IpAddr, String)>,
    /// Environment variables, which the container's own override.
    pub env: Vec<String>,
}

impl Containers {
    /// Resolves the links of `rec`, which is about to start. Blocks (reads endpoint records).
    pub(super) fn resolve_links(&self, rec: &Record) -> Result<Linked> {
        let mut out = Linked::default();
        for l in &rec.spec.net.links {
            let as_shown = format!("/{} AS /{}/{}", l.name, rec.name, l.alias);
            let other = self
                .get(&l.container)
                .map_err(|_| Error::invalid(format!("could not get container for {as_shown}")))?
                .record();
            if other.state.status != Status::Running {
                return Err(Error::conflict(format!(
                    "Cannot link to a non running container: {as_shown}"
                )));
            }
            let ip = self.network.default_address(&other.id).ok_or_else(|| {
                Error::invalid(format!(
                    "Cannot link to /{}, as it does not belong to the default network",
                    other.name
                ))
            })?;
            let mut names = format!("{} {}", l.alias, other.spec.hostname);
            if l.alias != other.name {
                names = format!("{names} {}", other.name);
            }
            out.hosts.push((ip, names));
            out.env.extend(env(
                &format!("/{}/{}", rec.name, l.alias),
                &l.alias,
                ip,
                &other,
            ));
        }
        Ok(out)
    }
}

impl Linked {
    /// Adds the links' variables to a process's `env`; those `env` sets already win.
    pub fn add_env(&self, env: &mut Vec<String>) {
        for kv in &self.env {
            let key = kv.split('=').next().unwrap_or_default();
            if !env.iter().any(|e| e.split('=').next() == Some(key)) {
                env.push(kv.clone());
            }
        }
    }
}

/// Docker's variables of a link named `name` (`/parent/alias`) to `other` at `ip`.
fn env(name: &str, alias: &str, ip: IpAddr, other: &Record) -> Vec<String> {
    let prefix = alias.to_ascii_uppercase().replace('-', "_");
    let mut ports: Vec<(u16, String)> = other
        .spec
        .exposed_ports
        .iter()
        .flatten()
        .filter_map(|k| super::port_key(k).map(|(p, proto)| (p, proto.to_ascii_lowercase())))
        .collect();
    // Lowest port first, TCP before the others on the same number.
    ports.sort_by(|a, b| a.0.cmp(&b.0).then((a.1 != "tcp").cmp(&(b.1 != "tcp"))));
    let mut env = Vec::new();
    if let Some((p, proto)) = ports.first() {
        env.push(format!("{prefix}_PORT={proto}://{ip}:{p}"));
    }
    for (p, proto) in &ports {
        let key = format!("{prefix}_PORT_{p}_{}", proto.to_ascii_uppercase());
        env.push(format!("{key}={proto}://{ip}:{p}"));
        env.push(format!("{key}_ADDR={ip}"));
        env.push(format!("{key}_PORT={p}"));
        env.push(format!("{key}_PROTO={proto}"));
    }
    env.push(format!("{prefix}_NAME={name}"));
    for kv in &other.spec.env {
        if let Some((k, v)) = kv.split_once('=')
            && k != "HOME"
            && k != "PATH"
        {
            env.push(format!("{prefix}_ENV_{k}={v}"));
        }
    }
    env
}
