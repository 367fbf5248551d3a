//! The daemon's defaults for containers: dockerd's `default-ulimits`, `default-shm-size`,
//! `default-ipc-mode`, `default-cgroupns-mode` and `init`, with its checks and messages.
//!
//! As in dockerd, the shm size and the IPC and cgroup namespace modes are settled at create
//! (and so is `cgroup-parent`, where dockerd reads it at each start: a running container's
//! cgroup must not move with a later daemon option)
//! (inspect shows them but the parent, and a later daemon default does not change a container), while the
//! ulimits and `init` apply at each start to containers that set none of their own.

use crate::containers::limits::Ulimit;
use crate::containers::namespaces::{CgroupnsMode, IpcMode};

/// Docker's `/dev/shm` size when neither the container nor the daemon sets one.
pub const SHM_SIZE: i64 = 64 * 1024 * 1024;

/// The daemon's defaults for containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerDefaults {
    /// `default-ulimits`: limits of containers that do not set the same name.
    pub ulimits: Vec<Ulimit>,
    /// `default-shm-size`, bytes.
    pub shm_size: i64,
    /// `default-ipc-mode`: `private` or `shareable`.
    pub ipc: IpcMode,
    /// `default-cgroupns-mode`.
    pub cgroupns: CgroupnsMode,
    /// `init`: containers that do not say get berth's init.
    pub init: bool,
    /// `cgroup-parent`: where containers without `--cgroup-parent` get their cgroup; empty:
    /// berth's own.
    pub cgroup_parent: String,
}

impl Default for ContainerDefaults {
    fn default() -> Self {
        ContainerDefaults {
            ulimits: Vec::new(),
            shm_size: SHM_SIZE,
            ipc: IpcMode::Private,
            cgroupns: CgroupnsMode::Default.resolved(),
            init: false,
            cgroup_parent: String::new(),
        }
    }
}

impl ContainerDefaults {
    /// The defaults dockerd's options give, checked with its messages; `shm_size` 0 is
    /// Docker's default.
    pub fn new(
        ulimits: Vec<Ulimit>,
        shm_size: i64,
        ipc: &str,
        cgroupns: &str,
        init: bool,
        cgroup_parent: &str,
    ) -> Result<ContainerDefaults, String> {
        const HINT: &str = r#"use "shareable" or "private""#;
        let ipc = match ipc {
            "" | "private" => IpcMode::Private,
            "shareable" => IpcMode::Shareable,
            "host" | "none" => {
                return Err(format!(
                    r#"IPC mode "{ipc}" is not supported as default value; {HINT}"#
                ));
            }
            m if m.starts_with("container:") => {
                return Err(format!(
                    r#"IPC mode "{m}" is not supported as default value; {HINT}"#
                ));
            }
            m => return Err(format!("default IPC mode setting ({m}) is invalid; {HINT}")),
        };
        let cgroupns = match cgroupns {
            "" => CgroupnsMode::Default.resolved(),
            "host" => CgroupnsMode::Host,
            "private" => CgroupnsMode::Private,
            m => {
                return Err(format!(
                    r#"invalid default cgroup namespace ({m}): use "host" or "private""#
                ));
            }
        };
        if shm_size < 0 {
            return Err(format!("invalid default-shm-size: {shm_size} is negative"));
        }
        // The checks a container's own get at start, once here.
        crate::containers::limits::Limits {
            ulimits: Some(ulimits.clone()),
            ..Default::default()
        }
        .rlimits()
        .map_err(|e| format!("default-ulimits: {}", e.message))?;
        Ok(ContainerDefaults {
            ulimits,
            shm_size: if shm_size == 0 { SHM_SIZE } else { shm_size },
            ipc,
            cgroupns,
            init,
            cgroup_parent: cgroup_parent.to_string(),
        })
    }

    /// A container's ulimits at start: its own, then the daemon's of other names.
    pub fn ulimits(&self, own: Option<&[Ulimit]>) -> Vec<Ulimit> {
        let own = own.unwrap_or_default();
        let mut all = own.to_vec();
        all.extend(
            self.ulimits
                .iter()
                .filter(|d| !own.iter().any(|u| u.name == d.name))
                .cloned(),
        );
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulimit(name: &str, n: i64) -> Ulimit {
        Ulimit {
            name: name.into(),
            soft: n,
            hard: n,
        }
    }

    #[test]
    fn modes_get_dockerds_checks() {
        let new = |ipc: &str, cg: &str| ContainerDefaults::new(vec![], 0, ipc, cg, false, "");
        assert_eq!(new("shareable", "").unwrap().ipc, IpcMode::Shareable);
        assert_eq!(new("", "host").unwrap().cgroupns, CgroupnsMode::Host);
        assert_eq!(
            new("host", "").unwrap_err(),
            r#"IPC mode "host" is not supported as default value; use "shareable" or "private""#
        );
        assert_eq!(
            new("bogus", "").unwrap_err(),
            r#"default IPC mode setting (bogus) is invalid; use "shareable" or "private""#
        );
        assert_eq!(
            new("", "bogus").unwrap_err(),
            r#"invalid default cgroup namespace (bogus): use "host" or "private""#
        );
        assert_eq!(new("", "").unwrap().shm_size, SHM_SIZE);
    }

    #[test]
    fn a_containers_own_ulimit_wins_by_name() {
        let d = ContainerDefaults::new(
            vec![ulimit("nofile", 100), ulimit("nproc", 50)],
            0,
            "",
            "",
            false,
            "",
        )
        .unwrap();
        let own = [ulimit("nofile", 7)];
        assert_eq!(
            d.ulimits(Some(&own)),
            vec![ulimit("nofile", 7), ulimit("nproc", 50)]
        );
        assert_eq!(d.ulimits(None).len(), 2);
        assert!(
            ContainerDefaults::new(vec![ulimit("bogus", 1)], 0, "", "", false, "")
                .unwrap_err()
                .contains("invalid ulimit type: bogus")
        );
    }
}
