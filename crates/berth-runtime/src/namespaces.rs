//! The namespaces a container may share with the host or with another container (Docker's
//! `--pid`, `--ipc`, `--uts`, `--cgroupns`), and where its `/dev/shm` comes from.

use std::path::PathBuf;

use oci_spec::runtime::LinuxNamespaceType;

/// Where one namespace of the container comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Source {
    /// A new namespace of its own.
    #[default]
    New,
    /// The host's: the namespace is left out of the spec.
    Host,
    /// Another process's, entered by path (`/proc/<pid>/ns/<type>`).
    Join(PathBuf),
}

/// The container's `/dev/shm`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Shm {
    /// A tmpfs of its own, of the spec's `shm_size`.
    #[default]
    Own,
    /// A directory the daemon prepared (a shareable container's tmpfs, a donor's, the host's
    /// `/dev/shm`), bound.
    Bind(PathBuf),
    /// No `/dev/shm` at all (`--ipc none`).
    None,
}

/// The sharable namespaces of a container; the network and user namespaces are the spec's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shared {
    /// PID namespace.
    pub pid: Source,
    /// IPC namespace.
    pub ipc: Source,
    /// UTS namespace (new or the host's: the host's leaves the hostname alone).
    pub uts: Source,
    /// Cgroup namespace (new or the host's).
    pub cgroup: Source,
    /// Its `/dev/shm`.
    pub shm: Shm,
}

impl Default for Shared {
    /// Docker's defaults: a cgroup namespace of its own only on a cgroup v2 host.
    fn default() -> Self {
        Shared {
            pid: Source::New,
            ipc: Source::New,
            uts: Source::New,
            cgroup: if crate::cgroup::is_unified() {
                Source::New
            } else {
                Source::Host
            },
            shm: Shm::Own,
        }
    }
}

impl Shared {
    /// The PID, IPC, UTS and mount namespaces of the spec, with the path of those it joins.
    pub fn entries(&self) -> Vec<(LinuxNamespaceType, Option<PathBuf>)> {
        let mut out = Vec::new();
        for (typ, source) in [
            (LinuxNamespaceType::Pid, &self.pid),
            (LinuxNamespaceType::Ipc, &self.ipc),
            (LinuxNamespaceType::Uts, &self.uts),
        ] {
            match source {
                Source::New => out.push((typ, None)),
                Source::Host => {}
                Source::Join(path) => out.push((typ, Some(path.clone()))),
            }
        }
        out.push((LinuxNamespaceType::Mount, None));
        out
    }

    /// Whether the container sets its own hostname (it has a UTS namespace of its own).
    pub fn own_hostname(&self) -> bool {
        self.uts == Source::New
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_namespaces_are_left_out_and_joined_ones_have_a_path() {
        let shared = Shared {
            pid: Source::Join("/proc/7/ns/pid".into()),
            ipc: Source::Host,
            uts: Source::Host,
            cgroup: Source::New,
            shm: Shm::None,
        };
        assert_eq!(
            shared.entries(),
            vec![
                (LinuxNamespaceType::Pid, Some("/proc/7/ns/pid".into())),
                (LinuxNamespaceType::Mount, None),
            ]
        );
        assert!(!shared.own_hostname());
    }
}
