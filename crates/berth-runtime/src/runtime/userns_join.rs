//! What libcontainer 0.7 cannot do for a container in a user namespace whose network namespace
//! the daemon made: it joins that namespace from inside the new user namespace (EPERM: the
//! host's user namespace owns it), and its exec never joins the user namespace at all. So the
//! embedded runtime joins the network namespace itself, before the container is made (the
//! container inherits it), and an exec joins the container's network and then user namespace
//! itself, before libcontainer joins the rest (which the container's user namespace owns).

use std::path::{Path, PathBuf};

use nix::sched::CloneFlags;
use nix::unistd::Pid;
use oci_spec::runtime::{LinuxNamespaceType, Spec};

use super::ProcessError;

/// Takes a network namespace joined by path out of `spec` when the spec has a user namespace;
/// returns its path, which the caller joins before libcontainer runs.
pub(super) fn take_netns(spec: &mut Spec) -> Option<PathBuf> {
    let linux = spec.linux_mut().as_mut()?;
    let namespaces = linux.namespaces_mut().as_mut()?;
    // A user namespace joined by path owns its network namespace: nothing to work around.
    if !namespaces
        .iter()
        .any(|n| n.typ() == LinuxNamespaceType::User && n.path().is_none())
    {
        return None;
    }
    let at = namespaces
        .iter()
        .position(|n| n.typ() == LinuxNamespaceType::Network && n.path().is_some())?;
    namespaces.remove(at).path().clone()
}

/// Whether the container of `spec` has a user namespace of its own.
pub(super) fn has_userns(spec: &Spec) -> bool {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|ns| ns.iter().any(|n| n.typ() == LinuxNamespaceType::User))
}

/// Joins the namespace at `path` of type `kind`.
pub(super) fn join(path: &Path, kind: CloneFlags) -> Result<(), ProcessError> {
    let fail = |e: &dyn std::fmt::Display| {
        ProcessError::runtime(format!("joining the namespace {}: {e}", path.display()))
    };
    let file = std::fs::File::open(path).map_err(|e| fail(&e))?;
    nix::sched::setns(file, kind).map_err(|e| fail(&e))
}

/// For an exec into the container of `spec` whose init is `pid`: joins its user namespace,
/// and first its network namespace when [`take_netns`] took that out of the spec (another user
/// namespace owns it; libcontainer joins the others, which the container's owns). Call it
/// from a single-threaded process (the exec helper).
pub(super) fn join_for_exec(pid: Pid, spec: &Spec) -> Result<(), ProcessError> {
    let ns = |name: &str| PathBuf::from(format!("/proc/{pid}/ns/{name}"));
    let listed = spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|ns| ns.iter().any(|n| n.typ() == LinuxNamespaceType::Network));
    if !listed {
        join(&ns("net"), CloneFlags::CLONE_NEWNET)?;
    }
    join(&ns("user"), CloneFlags::CLONE_NEWUSER)
}
