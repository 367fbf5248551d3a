//! Cgroup v1 hierarchies in a container of the embedded runtime. libcontainer binds each one
//! read-write and without `nosuid,nodev,noexec`, whatever the spec's `cgroup` mount says. A
//! read-only bind on top would leave the writable one underneath, for a container with
//! CAP_SYS_ADMIN to uncover by unmounting the top one; berth's executor remounts each in place
//! instead, with the spec's access, before the seccomp filter closes `mount(2)`.

use std::io;

use nix::mount::{MsFlags, mount};
use oci_spec::runtime::Spec;

/// The hierarchies to remount, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remount {
    /// Mount points in the container (the host's, which libcontainer mirrors).
    points: Vec<String>,
    readonly: bool,
}

/// What the container's hierarchies need: nothing on a unified host or without a `cgroup` mount.
pub fn planned(spec: &Spec) -> Option<Remount> {
    if crate::cgroup::is_unified() {
        return None;
    }
    let cgroup = spec
        .mounts()
        .iter()
        .flatten()
        .find(|m| m.typ().as_deref() == Some("cgroup"))?;
    let readonly = cgroup.options().iter().flatten().any(|o| o == "ro");
    Some(Remount {
        points: crate::cgroup::v1_mount_points(),
        readonly,
    })
}

/// Remounts the hierarchies, in the container's mount namespace (needs CAP_SYS_ADMIN).
pub fn apply(r: &Remount) -> io::Result<()> {
    let mut flags = MsFlags::MS_REMOUNT
        | MsFlags::MS_BIND
        | MsFlags::MS_NOSUID
        | MsFlags::MS_NODEV
        | MsFlags::MS_NOEXEC;
    if r.readonly {
        flags |= MsFlags::MS_RDONLY;
    }
    for point in &r.points {
        // A hierarchy the container does not have (a comount seen under another name) is no
        // mount to change.
        match mount(
            None::<&str>,
            point.as_str(),
            None::<&str>,
            flags,
            None::<&str>,
        ) {
            Ok(()) | Err(nix::errno::Errno::ENOENT) => {}
            Err(e) => {
                return Err(io::Error::other(format!("remounting {point}: {e}")));
            }
        }
    }
    Ok(())
}
