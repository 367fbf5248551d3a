//! The `local` driver's mount options (`--opt type=… device=… o=…`): such a volume's `_data` is
//! a mount of `device`, made when its first user starts and removed when its last user stops,
//! as Docker's local driver does. `o` takes `mount(8)`'s flag words (`bind`, `ro`, `noexec`, …);
//! the rest of it goes to the filesystem as data (`size=64m`, `uid=1000`, `addr=…`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use nix::mount::MsFlags;

use super::Volumes;
use crate::error::{Error, Result};

/// Docker's rule for the local driver's options.
pub fn check_options(options: &BTreeMap<String, String>) -> Result<()> {
    for key in options.keys() {
        if !matches!(key.as_str(), "type" | "device" | "o" | "size") {
            return Err(Error::invalid(format!("invalid option: \"{key}\"")));
        }
    }
    for (key, needs) in [
        ("device", &["type"][..]),
        ("type", &["device"]),
        ("o", &["device", "type"]),
    ] {
        if options.contains_key(key)
            && let Some(missing) = needs.iter().find(|n| !options.contains_key(**n))
        {
            return Err(Error::invalid(format!(
                "missing required option: \"{missing}\""
            )));
        }
    }
    if options.get("size").is_some_and(|s| s != "0") {
        // Docker sets an XFS project quota; berth has no quota support yet.
        return Err(Error::invalid("quota size requested but no quota support"));
    }
    Ok(())
}

/// `mount(8)`'s flag words in `o`, and the rest as filesystem data.
fn flags_and_data(o: &str) -> (MsFlags, String) {
    let mut flags = MsFlags::empty();
    let mut data = Vec::new();
    for opt in o.split(',').filter(|s| !s.is_empty()) {
        let (set, clear) = match opt {
            "defaults" | "rw" => (MsFlags::empty(), MsFlags::MS_RDONLY),
            "ro" => (MsFlags::MS_RDONLY, MsFlags::empty()),
            "suid" => (MsFlags::empty(), MsFlags::MS_NOSUID),
            "nosuid" => (MsFlags::MS_NOSUID, MsFlags::empty()),
            "dev" => (MsFlags::empty(), MsFlags::MS_NODEV),
            "nodev" => (MsFlags::MS_NODEV, MsFlags::empty()),
            "exec" => (MsFlags::empty(), MsFlags::MS_NOEXEC),
            "noexec" => (MsFlags::MS_NOEXEC, MsFlags::empty()),
            "sync" => (MsFlags::MS_SYNCHRONOUS, MsFlags::empty()),
            "async" => (MsFlags::empty(), MsFlags::MS_SYNCHRONOUS),
            "dirsync" => (MsFlags::MS_DIRSYNC, MsFlags::empty()),
            "noatime" => (MsFlags::MS_NOATIME, MsFlags::empty()),
            "atime" => (MsFlags::empty(), MsFlags::MS_NOATIME),
            "nodiratime" => (MsFlags::MS_NODIRATIME, MsFlags::empty()),
            "diratime" => (MsFlags::empty(), MsFlags::MS_NODIRATIME),
            "relatime" => (MsFlags::MS_RELATIME, MsFlags::empty()),
            "norelatime" => (MsFlags::empty(), MsFlags::MS_RELATIME),
            "strictatime" => (MsFlags::MS_STRICTATIME, MsFlags::empty()),
            "bind" => (MsFlags::MS_BIND, MsFlags::empty()),
            "rbind" => (MsFlags::MS_BIND | MsFlags::MS_REC, MsFlags::empty()),
            other => {
                data.push(other);
                continue;
            }
        };
        flags = (flags | set) & !clear;
    }
    (flags, data.join(","))
}

/// Active users of one volume with options, and whether it is mounted.
#[derive(Default)]
pub(super) struct Active {
    count: usize,
}

impl Volumes {
    fn active(&self, name: &str) -> Arc<Mutex<Active>> {
        let mut all = self.active.lock().expect("volume mounts lock");
        all.entry(name.to_string()).or_default().clone()
    }

    /// The directory to mount for a user of volume `name`: for a volume with options, its
    /// device is mounted there first if no other user has. Blocks.
    pub fn mount(&self, name: &str) -> Result<PathBuf> {
        let v = self.get(name)?;
        if v.options.is_empty() {
            return Ok(v.mountpoint);
        }
        // Held across the mount: a second user waits for the first user's mount.
        let active = self.active(name);
        let mut a = active.lock().expect("volume mount lock");
        if a.count == 0 && !is_mount_point(&v.mountpoint) {
            let device = v.options.get("device").map_or("", String::as_str);
            let kind = v.options.get("type").map_or("", String::as_str);
            let o = v.options.get("o").map_or("", String::as_str);
            let (flags, data) = flags_and_data(&resolve_addr(kind, o)?);
            nix::mount::mount(
                Some(device),
                &v.mountpoint,
                (kind != "none").then_some(kind),
                flags,
                (!data.is_empty()).then_some(data.as_str()),
            )
            .map_err(|e| {
                Error::internal(
                    &format!("error while mounting volume '{}'", v.mountpoint.display()),
                    std::io::Error::other(format!("failed to mount local volume: {e}")),
                )
            })?;
            // A bind mount ignores `ro` until remounted.
            if flags.contains(MsFlags::MS_BIND | MsFlags::MS_RDONLY) {
                let _ = nix::mount::mount(
                    None::<&str>,
                    &v.mountpoint,
                    None::<&str>,
                    flags | MsFlags::MS_REMOUNT,
                    None::<&str>,
                );
            }
        }
        a.count += 1;
        Ok(v.mountpoint)
    }

    /// Ends a use of volume `name`; the last user's end unmounts a volume with options.
    /// Blocks.
    pub fn unmount(&self, name: &str) {
        let Ok(v) = self.get(name) else { return };
        if v.options.is_empty() {
            return;
        }
        let active = self.active(name);
        let mut a = active.lock().expect("volume mount lock");
        a.count = a.count.saturating_sub(1);
        if a.count == 0
            && let Err(e) = nix::mount::umount2(&v.mountpoint, nix::mount::MntFlags::MNT_DETACH)
        {
            tracing::warn!(volume = %name, error = %e, "unmounting a volume");
        }
    }

    /// Counts a user that kept running while no daemon was up (its volume is still mounted).
    pub fn restore_mount(&self, name: &str) {
        if self.get(name).is_ok_and(|v| !v.options.is_empty()) {
            self.active(name).lock().expect("volume mount lock").count += 1;
        }
    }
}

/// NFS and CIFS take `addr=` as an IP address: a host name there is resolved first, as Docker
/// does.
fn resolve_addr(kind: &str, o: &str) -> Result<String> {
    if !matches!(kind, "nfs" | "nfs4" | "cifs") {
        return Ok(o.to_string());
    }
    let mut out = Vec::new();
    for opt in o.split(',') {
        match opt.strip_prefix("addr=") {
            Some(host) if host.parse::<std::net::IpAddr>().is_err() => {
                use std::net::ToSocketAddrs;
                let ip = (host, 0)
                    .to_socket_addrs()
                    .ok()
                    .and_then(|mut a| a.next())
                    .ok_or_else(|| {
                        Error::invalid(format!(
                            "error resolving passed in network volume address: {host}"
                        ))
                    })?;
                out.push(format!("addr={}", ip.ip()));
            }
            _ => out.push(opt.to_string()),
        }
    }
    Ok(out.join(","))
}

/// Whether `path` is a mount point (its own entry in the mount table).
fn is_mount_point(path: &std::path::Path) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let want = path.to_string_lossy();
    table
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|m| m == want)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked_as_dockers_local_driver_checks_them() {
        let o = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        check_options(&o(&[
            ("type", "tmpfs"),
            ("device", "tmpfs"),
            ("o", "size=1m"),
        ]))
        .unwrap();
        let says = |p: &[(&str, &str)]| check_options(&o(p)).unwrap_err().to_string();
        assert_eq!(says(&[("bogus", "1")]), "invalid option: \"bogus\"");
        assert_eq!(
            says(&[("type", "tmpfs")]),
            "missing required option: \"device\""
        );
        assert_eq!(
            says(&[("device", "/x")]),
            "missing required option: \"type\""
        );
        assert!(says(&[("type", "x"), ("device", "y"), ("size", "1g")]).contains("quota"));
    }

    #[test]
    fn flag_words_become_flags_and_the_rest_data() {
        let (f, d) = flags_and_data("bind,ro,size=64m,uid=1000,noexec");
        assert!(f.contains(MsFlags::MS_BIND | MsFlags::MS_RDONLY | MsFlags::MS_NOEXEC));
        assert_eq!(d, "size=64m,uid=1000");
        let (f, _) = flags_and_data("ro,rw");
        assert!(!f.contains(MsFlags::MS_RDONLY));
        let resolved = resolve_addr("nfs", "addr=localhost,rw").unwrap();
        let ip: std::net::IpAddr = resolved[5..resolved.len() - 3].parse().unwrap();
        assert!(ip.is_loopback() && resolved.ends_with(",rw"), "{resolved}");
        assert_eq!(resolve_addr("ext4", "addr=x").unwrap(), "addr=x");
    }
}
