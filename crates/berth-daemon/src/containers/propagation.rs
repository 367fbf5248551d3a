//! Shared and slave bind mounts, as Docker allows them: the host mount holding the source must
//! itself be shared (or, for slave, shared or slave), and the container's root then gets that
//! propagation too. libcontainer mounts binds through a detached tree that drops propagation,
//! so these need an external runtime (runc); berth says so instead of ignoring the option.

use berth_runtime::runtime::RuntimeConfig;

use super::{MountKind, Propagation, Spec};
use crate::error::{Error, Result};

/// The root propagation the spec's binds need (`None`: the runtime's default), or why the
/// host or the runtime cannot give it. Reads the host's mount table.
pub fn root_propagation(spec: &Spec, runtime: &RuntimeConfig) -> Result<Option<&'static str>> {
    let mut root = None;
    for m in &spec.mounts {
        let MountKind::Bind {
            source,
            propagation,
            ..
        } = &m.kind
        else {
            continue;
        };
        let (shared, slave) = match propagation {
            Propagation::Shared | Propagation::Rshared => (true, false),
            Propagation::Slave | Propagation::Rslave => (false, true),
            _ => continue,
        };
        let (mount_point, optional) = host_mount_of(source);
        let is_shared = optional.split(' ').any(|o| o.starts_with("shared:"));
        let is_slave = optional.split(' ').any(|o| o.starts_with("master:"));
        if shared && !is_shared {
            return Err(Error::invalid(format!(
                "path {} is mounted on {mount_point} but it is not a shared mount",
                source.display()
            )));
        }
        if slave && !(is_shared || is_slave) {
            return Err(Error::invalid(format!(
                "path {} is mounted on {mount_point} but it is not a shared or slave mount",
                source.display()
            )));
        }
        if *runtime == RuntimeConfig::Embedded {
            return Err(Error::new(
                berth_core::ErrorKind::NotImplemented,
                format!(
                    "berth's embedded runtime cannot give {} a {} propagation: use --runtime runc",
                    m.target,
                    propagation.as_str()
                ),
            ));
        }
        root = Some(if shared || root == Some("rshared") {
            "rshared"
        } else {
            "rslave"
        });
    }
    Ok(root)
}

/// The host mount point holding `path` and its optional fields (`shared:N`, `master:N`).
fn host_mount_of(path: &std::path::Path) -> (String, String) {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut best = ("/".to_string(), String::new());
    for line in table.lines() {
        let Some((head, _)) = line.split_once(" - ") else {
            continue;
        };
        let fields: Vec<&str> = head.split(' ').collect();
        let Some(mp) = fields.get(4) else { continue };
        let under = path.starts_with(mp);
        if under && mp.len() >= best.0.len() {
            best = (mp.to_string(), fields[6..].join(" "));
        }
    }
    best
}
