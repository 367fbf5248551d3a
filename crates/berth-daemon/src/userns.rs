//! `--userns-remap` in the daemon: the data root of a remapping (dockerd's
//! `<root>/<uid>.<gid>`), which containers get a user namespace, and dockerd's refusals of what
//! cannot share the host's namespaces.
//!
//! Layers, container upper directories and volumes under a remapped root hold host IDs (the
//! container's shifted by the map), as in Docker: a layer is shifted while it is unpacked, and
//! every tar berth writes from them (commit, build steps, `export`, `cp`) is shifted back.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use berth_core::idmap::IdMap;

use crate::config::SecurityConfig;
use crate::containers::namespaces::{IpcMode, PidMode};
use crate::containers::{NetworkMode, Spec};
use crate::error::{Error, Result};

/// The user namespace maps of a container: the daemon's, unless it runs with `--userns=host`.
pub fn container_map(cfg: &SecurityConfig, s: &crate::containers::Security) -> Option<IdMap> {
    let remap = cfg.userns_remap.as_ref()?;
    (s.userns_mode != "host").then(|| remap.map.clone())
}

/// The user namespace a remapped container joins rather than makes: the one its network
/// namespace was made in, or that of the container whose network it shares, as Docker joins
/// it (a network namespace can only be entered with the capabilities of its owner).
pub fn userns_to_join(
    cfg: &SecurityConfig,
    rec: &crate::containers::Record,
    attached: Option<&PathBuf>,
    shared: Option<&crate::containers::Record>,
) -> Option<PathBuf> {
    container_map(cfg, &rec.spec.security)?;
    if let Some(path) = attached {
        return Some(path.clone());
    }
    let other = shared?;
    container_map(cfg, &other.spec.security)?;
    Some(format!("/proc/{}/ns/user", other.state.pid).into())
}

/// Takes Docker's `net.ipv4.ping_group_range` default out of a remapped container's sysctls
/// (`asked`: its own), as dockerd leaves it out: the range names GIDs outside the map.
pub fn drop_unmappable_sysctls(
    sysctls: &mut std::collections::BTreeMap<String, String>,
    asked: &std::collections::BTreeMap<String, String>,
) {
    const PING: &str = "net.ipv4.ping_group_range";
    if !asked.contains_key(PING) {
        sysctls.remove(PING);
    }
}

/// `HostConfig.UsernsMode` as given: empty or `host` (what Docker's CLI accepts).
pub fn mode(value: &str) -> Result<String> {
    match value {
        "" | "host" => Ok(value.to_string()),
        v => Err(Error::invalid(format!("invalid user namespace mode: {v}"))),
    }
}

/// dockerd's refusals for a container in the daemon's user namespace.
pub fn check(spec: &Spec, cfg: &SecurityConfig) -> Result<()> {
    if cfg.userns_remap.is_none() || spec.security.userns_mode == "host" {
        return Ok(());
    }
    if spec.security.privileged {
        return Err(Error::invalid(
            "privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode",
        ));
    }
    if spec.network == NetworkMode::Host {
        return Err(Error::invalid(
            "cannot share the host's network namespace when user namespaces are enabled",
        ));
    }
    if spec.namespaces.pid == PidMode::Host {
        return Err(Error::invalid(
            "cannot share the host PID namespace when user namespaces are enabled",
        ));
    }
    // A remapped container's user namespace is its network namespace's owner: one container
    // cannot be in both that and a donor's.
    let joins = |what: &str| {
        Err(Error::new(
            berth_core::ErrorKind::NotImplemented,
            format!(
                "berth cannot join the {what} namespace of another container under --userns-remap yet"
            ),
        ))
    };
    if matches!(spec.namespaces.pid, PidMode::Container(_)) {
        return joins("PID");
    }
    if matches!(spec.namespaces.ipc, IpcMode::Container(_)) {
        return joins("IPC");
    }
    // In a user namespace libcontainer binds a device from the host at its container path.
    for d in spec.devices.iter().flatten() {
        if !d.path_in_container.is_empty() && d.path_in_container != d.path_on_host {
            return Err(Error::new(
                berth_core::ErrorKind::NotImplemented,
                format!(
                    "berth cannot put device {} at another path ({}) in a user namespace (--userns-remap) yet",
                    d.path_on_host, d.path_in_container
                ),
            ));
        }
    }
    Ok(())
}

/// Refuses an exec berth may not be able to make: an external runtime (runc 1.1) enters a
/// remapped container's user namespace before its network namespace, and fails when another
/// user namespace owns that (a `container:` network of a container in the host's). The
/// embedded runtime joins them in the right order.
pub fn check_exec(spec: &Spec, cfg: &crate::config::DaemonConfig) -> Result<()> {
    let external = matches!(
        crate::containers::spec::runtime(&spec.runtime, &cfg.runtimes)?,
        berth_runtime::runtime::RuntimeConfig::External { .. }
    );
    if external
        && container_map(&cfg.security, &spec.security).is_some()
        && matches!(spec.network, NetworkMode::Container { .. })
    {
        return Err(Error::new(
            berth_core::ErrorKind::NotImplemented,
            format!(
                "berth cannot exec in a container of runtime {} under --userns-remap yet: the runtime enters its user namespace before the network namespace berth made for it (the embedded runtime can)",
                spec.runtime
            ),
        ));
    }
    Ok(())
}

/// The data root of remapping `map` under `root`, made as dockerd makes it: `root` mode 0711,
/// `<root>/<uid>.<gid>` owned by root and the remapped root's group, mode 0710, and every
/// directory above it searchable by the remapped root.
pub fn data_root(root: &Path, map: &IdMap) -> std::result::Result<PathBuf, String> {
    let (uid, gid) = map.root_pair();
    std::fs::create_dir_all(root).map_err(|e| format!("creating {}: {e}", root.display()))?;
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o711))
        .map_err(|e| format!("setting the mode of {}: {e}", root.display()))?;
    let sub = root.join(format!("{uid}.{gid}"));
    std::fs::create_dir_all(&sub)
        .and_then(|()| std::os::unix::fs::chown(&sub, Some(0), Some(gid)))
        .and_then(|()| std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o710)))
        .map_err(|e| format!("Cannot create daemon root: {}: {e}", sub.display()))?;
    let mut dir = sub.as_path();
    while let Some(parent) = dir.parent() {
        if parent == Path::new("/") || parent.as_os_str().is_empty() {
            break;
        }
        if !searchable(parent, uid, gid) {
            return Err(format!(
                "a subdirectory in your graphroot path ({}) restricts access to the remapped root uid/gid; please fix by allowing 'o+x' permissions on existing directories",
                sub.display()
            ));
        }
        dir = parent;
    }
    Ok(sub)
}

/// Whether `uid`/`gid` may search `dir` (dockerd's rough `canAccess`).
fn searchable(dir: &Path, uid: u32, gid: u32) -> bool {
    let Ok(m) = std::fs::metadata(dir) else {
        return false;
    };
    let mode = m.mode();
    mode & 0o001 != 0
        || (m.uid() == uid && mode & 0o100 != 0)
        || (m.gid() == gid && mode & 0o010 != 0)
}

#[cfg(test)]
mod tests {
    use berth_core::idmap::IdRange;

    use super::*;

    fn map(host: u32) -> IdMap {
        let r = vec![IdRange {
            container: 0,
            host,
            size: 65536,
        }];
        IdMap {
            uids: r.clone(),
            gids: r,
        }
    }

    #[test]
    fn the_remapped_root_is_made_as_dockerd_makes_it() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let root = tmp.path().join("data");
        let sub = data_root(&root, &map(300000)).unwrap();
        assert_eq!(sub, root.join("300000.300000"));
        let m = std::fs::metadata(&sub).unwrap();
        assert_eq!((m.uid(), m.gid(), m.mode() & 0o777), (0, 300000, 0o710));
        assert_eq!(std::fs::metadata(&root).unwrap().mode() & 0o777, 0o711);

        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let err = data_root(&root, &map(300000)).unwrap_err();
        assert!(
            err.contains("restricts access to the remapped root"),
            "{err}"
        );
    }

    #[test]
    fn only_empty_and_host_are_modes() {
        assert_eq!(mode("host").unwrap(), "host");
        assert_eq!(mode("").unwrap(), "");
        assert_eq!(
            mode("private").unwrap_err().message,
            "invalid user namespace mode: private"
        );
    }
}
