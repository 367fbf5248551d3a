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
    for r in spec.device_cgroup_rules.iter().flatten() {
        rules.push(
            r.parse().map_err(|e: berth_runtime::devices::RuleError| {
                Error::internal_msg(e.to_string())
            })?,
        );
    }
    Ok((devices, rules))
}
