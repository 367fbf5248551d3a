//! The namespaces a container shares (`--pid`, `--ipc`, `--uts`, `--cgroupns`): berth's form
//! of Docker's modes, the donors a start joins, and a shareable container's `/dev/shm`, a tmpfs
//! the daemon mounts under the container's directory so that others can bind it (Docker's
//! `mounts/shm`).

use std::path::{Path, PathBuf};

use berth_runtime::namespaces::{Shared, Shm, Source};
use serde::{Deserialize, Serialize};

use super::{Containers, Record, Status};
use crate::error::{Error, Result};

/// How a container gets its PID, IPC, UTS and cgroup namespaces (kept apart from the rest of
/// the spec: records before them read as Docker's defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Namespaces {
    /// `--pid`.
    pub pid: PidMode,
    /// `--ipc`.
    pub ipc: IpcMode,
    /// `--uts host`: the host's UTS namespace.
    pub uts_host: bool,
    /// `--cgroupns`.
    pub cgroupns: CgroupnsMode,
}

/// `HostConfig.PidMode`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PidMode {
    /// A namespace of its own (Docker's `""`).
    #[default]
    Private,
    /// The host's.
    Host,
    /// Another container's, by ID once create resolved it.
    Container(String),
}

/// `HostConfig.IpcMode`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpcMode {
    /// A namespace and a `/dev/shm` of its own (the daemon's default, as Docker's).
    #[default]
    Private,
    /// Its own, and a `/dev/shm` others may join.
    Shareable,
    /// Its own namespace and no `/dev/shm`.
    None,
    /// The host's namespace and `/dev/shm`.
    Host,
    /// Another container's namespace and `/dev/shm`.
    Container(String),
}

/// `HostConfig.CgroupnsMode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CgroupnsMode {
    /// Not recorded (a record of an older berth): Docker's default for this host.
    #[default]
    Default,
    /// The host's.
    Host,
    /// One of its own.
    Private,
}

impl CgroupnsMode {
    /// Docker's `default-cgroupns-mode`: private on a cgroup v2 host, the host's on v1.
    pub fn resolved(self) -> CgroupnsMode {
        match self {
            CgroupnsMode::Default if berth_runtime::cgroup::is_unified() => CgroupnsMode::Private,
            CgroupnsMode::Default => CgroupnsMode::Host,
            mode => mode,
        }
    }

    /// Docker's name of the mode.
    pub fn as_str(self) -> &'static str {
        match self.resolved() {
            CgroupnsMode::Private => "private",
            _ => "host",
        }
    }
}

impl PidMode {
    /// Docker's name of the mode.
    pub fn as_docker(&self) -> String {
        match self {
            PidMode::Private => String::new(),
            PidMode::Host => "host".into(),
            PidMode::Container(id) => format!("container:{id}"),
        }
    }
}

impl IpcMode {
    /// Docker's name of the mode.
    pub fn as_docker(&self) -> String {
        match self {
            IpcMode::Private => "private".into(),
            IpcMode::Shareable => "shareable".into(),
            IpcMode::None => "none".into(),
            IpcMode::Host => "host".into(),
            IpcMode::Container(id) => format!("container:{id}"),
        }
    }
}

/// `container:<name>` as `container:<ID>` for a donor that exists now (Docker's
/// `adaptSharedNamespaceContainer`: a rename keeps the sharing); others stay as given and fail
/// at start.
pub fn resolve_donors(containers: &Containers, ns: &mut Namespaces) {
    let id = |name: &mut String| {
        if let Ok(c) = containers.get(name) {
            *name = c.id.clone();
        }
    };
    if let PidMode::Container(name) = &mut ns.pid {
        id(name);
    }
    if let IpcMode::Container(name) = &mut ns.ipc {
        id(name);
    }
}

/// Hops followed from a joiner to the container whose `/dev/shm` it binds.
const MAX_DONOR_CHAIN: usize = 16;

impl Containers {
    /// The runtime's namespaces of a start of `rec`: what it makes, leaves to the host and
    /// joins, with Docker's errors for a donor that is missing or not running.
    pub(super) fn shared_namespaces(&self, rec: &Record) -> Result<Shared> {
        let ns = &rec.spec.namespaces;
        let pid = match &ns.pid {
            PidMode::Private => Source::New,
            PidMode::Host => Source::Host,
            // Docker fails such a start as a system error (500).
            PidMode::Container(id) => {
                let donor = self.running_donor(id).map_err(|e| {
                    Error::internal_msg(format!("failed to join PID namespace: {}", e.message))
                })?;
                Source::Join(format!("/proc/{}/ns/pid", donor.state.pid).into())
            }
        };
        let (ipc, shm) = self.ipc(rec).map_err(|e| Error {
            message: format!("failed to join IPC namespace: {}", e.message),
            ..e
        })?;
        Ok(Shared {
            pid,
            ipc,
            uts: if ns.uts_host {
                Source::Host
            } else {
                Source::New
            },
            cgroup: match ns.cgroupns.resolved() {
                CgroupnsMode::Private => Source::New,
                _ => Source::Host,
            },
            shm,
        })
    }

    /// The IPC namespace and `/dev/shm` of a start of `rec`.
    fn ipc(&self, rec: &Record) -> Result<(Source, Shm)> {
        Ok(match &rec.spec.namespaces.ipc {
            IpcMode::Private => (Source::New, Shm::Own),
            IpcMode::None => (Source::New, Shm::None),
            IpcMode::Shareable => (Source::New, Shm::Bind(self.shm_dir(&rec.id))),
            IpcMode::Host => {
                if !Path::new("/dev/shm").exists() {
                    return Err(Error::internal_msg(
                        "/dev/shm is not mounted, but must be for --ipc=host",
                    ));
                }
                (Source::Host, Shm::Bind("/dev/shm".into()))
            }
            IpcMode::Container(id) => {
                let donor = self.running_donor(id)?;
                let shm = self.shm_of(&donor).ok_or_else(|| {
                    Error::invalid(format!(
                        "container {id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)"
                    ))
                })?;
                let path = format!("/proc/{}/ns/ipc", donor.state.pid);
                (Source::Join(path.into()), Shm::Bind(shm))
            }
        })
    }

    /// The record of donor `id`, which must run and not be restarting (Docker's
    /// `getPIDContainer`).
    fn running_donor(&self, id: &str) -> Result<Record> {
        let donor = self
            .get(id)
            .map_err(|e| Error::invalid(e.message))?
            .record();
        match donor.state.status {
            Status::Running => {}
            // Docker counts a restarting container as running, and says so.
            Status::Restarting => {
                return Err(Error::conflict(format!(
                    "Container {id} is restarting, wait until the container is running"
                )));
            }
            _ => return Err(Error::conflict(format!("container {id} is not running"))),
        }
        Ok(donor)
    }

    /// The `/dev/shm` others may bind from `donor` (Docker's `ShmPath`): a shareable one's,
    /// the host's, or that of the container it joined.
    fn shm_of(&self, donor: &Record) -> Option<PathBuf> {
        let mut rec = donor.clone();
        for _ in 0..MAX_DONOR_CHAIN {
            match &rec.spec.namespaces.ipc {
                IpcMode::Shareable => return Some(self.shm_dir(&rec.id)),
                IpcMode::Host => return Some("/dev/shm".into()),
                IpcMode::Container(id) => rec = self.get(id).ok()?.record(),
                IpcMode::Private | IpcMode::None => return None,
            }
        }
        None
    }

    /// Where a shareable container's `/dev/shm` is mounted on the host.
    fn shm_dir(&self, id: &str) -> PathBuf {
        self.paths(id).dir.join("mounts").join("shm")
    }

    /// Mounts a shareable container's `/dev/shm` before it starts (nothing for other modes).
    /// Blocks.
    pub(super) fn mount_shm(&self, rec: &Record) -> Result<()> {
        if rec.spec.namespaces.ipc != IpcMode::Shareable {
            return Ok(());
        }
        let dir = self.shm_dir(&rec.id);
        let failed = |what: &str, e: std::io::Error| {
            Error::internal(&format!("{what} {}", dir.display()), e)
        };
        std::fs::create_dir_all(&dir).map_err(|e| failed("creating", e))?;
        // A mount left by a run whose end the daemon did not see goes first.
        let _ = nix::mount::umount2(&dir, nix::mount::MntFlags::MNT_DETACH);
        let size = if rec.spec.shm_size > 0 {
            rec.spec.shm_size
        } else {
            self.cfg.defaults.shm_size
        };
        use nix::mount::MsFlags;
        nix::mount::mount(
            Some("shm"),
            &dir,
            Some("tmpfs"),
            MsFlags::MS_NOEXEC | MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some(format!("mode=1777,size={size}").as_str()),
        )
        .map_err(|e| failed("mounting shm tmpfs on", e.into()))?;
        // The container's root owns it, as in Docker (the remapped one under --userns-remap).
        if let Some(map) = crate::userns::container_map(&self.cfg.security, &rec.spec.security) {
            let (uid, gid) = map.root_pair();
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| failed("changing the owner of", e))?;
        }
        Ok(())
    }

    /// Unmounts a shareable container's `/dev/shm` once it ended (containers that joined it
    /// keep their own binds of it). Blocks.
    pub(super) fn unmount_shm(&self, rec: &Record) {
        if rec.spec.namespaces.ipc != IpcMode::Shareable {
            return;
        }
        let dir = self.shm_dir(&rec.id);
        if let Err(e) = nix::mount::umount2(&dir, nix::mount::MntFlags::MNT_DETACH)
            && e != nix::errno::Errno::EINVAL
            && e != nix::errno::Errno::ENOENT
        {
            tracing::warn!(container.id = %rec.id, error = %e, "unmounting /dev/shm");
        }
    }
}
