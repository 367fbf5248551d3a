//! A container's devices: the host nodes it asked for (`--device`) and its extra cgroup rules
//! (`--device-cgroup-rule`), kept as asked and turned into nodes and rules at each start, when
//! the host is looked at (as Docker does: a node can come and go between create and start).

use berth_runtime::devices::{Access, Device, Rule};
use serde::{Deserialize, Serialize};

use super::Spec;
use crate::error::{Error, Result};

/// One `--device`, checked at create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceMapping {
    /// A node, a symlink to one, or a directory of nodes on the host.
    pub path_on_host: String,
    /// Absolute path in the container.
    pub path_in_container: String,
    /// `r`, `w`, `m` combined, as given.
    pub cgroup_permissions: String,
}

/// The nodes the container gets and the rules that allow them, then its own rules.
pub fn resolve(spec: &Spec) -> Result<(Vec<Device>, Vec<Rule>)> {
    let (mut devices, mut rules) = (Vec::new(), Vec::new());
    for m in spec.devices.iter().flatten() {
        let access = Access::parse_mode(&m.cgroup_permissions).ok_or_else(|| {
            Error::internal_msg(format!("bad mode specified: {}", m.cgroup_permissions))
        })?;
        let (d, r) =
            berth_runtime::devices::from_host(&m.path_on_host, &m.path_in_container, access)
                // A start error, not the request's: a 500, as Docker's.
                .map_err(|e| Error::internal_msg(e.to_string()))?;
        devices.extend(d);
        rules.extend(r);
    }
    if spec.security.privileged {
        devices.extend(host_devices());
    }
    for r in spec.device_cgroup_rules.iter().flatten() {
        rules.push(
            r.parse().map_err(|e: berth_runtime::devices::RuleError| {
                Error::internal_msg(e.to_string())
            })?,
        );
    }
    Ok((devices, rules))
}

/// Every device node under the host's `/dev`, as Docker gives a privileged container; what
/// the runtime mounts there itself, and symlinks, are left out.
fn host_devices() -> Vec<Device> {
    const OWN: &[&str] = &[
        "pts", "shm", "mqueue", "fd", "console", "core", ".lxc", ".udev",
    ];
    let mut devices = Vec::new();
    for entry in std::fs::read_dir("/dev").into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if OWN.contains(&name.as_str()) || entry.file_type().is_ok_and(|t| t.is_symlink()) {
            continue;
        }
        let path = format!("/dev/{name}");
        // What is not a device (a plain file, a socket) is skipped, as Docker skips it.
        if let Ok((found, _)) = berth_runtime::devices::from_host(&path, &path, Access::ALL) {
            devices.extend(found);
        }
    }
    devices
}
