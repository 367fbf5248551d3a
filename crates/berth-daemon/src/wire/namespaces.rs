//! `HostConfig.PidMode`, `IpcMode`, `UTSMode` and `CgroupnsMode` to berth's
//! [`Namespaces`], with Docker's checks and messages in Docker's order.

use berth_api::container::CreateRequest;

use crate::containers::namespaces::{CgroupnsMode, IpcMode, Namespaces, PidMode};
use crate::defaults::ContainerDefaults;
use crate::error::{Error, Result};

/// The namespaces a create request asks for, the daemon's modes where it names none;
/// `container:` donors stay as named (the caller resolves them).
pub fn spec(req: &CreateRequest, defaults: &ContainerDefaults) -> Result<Namespaces> {
    let h = &req.host_config;
    let ipc = match h.ipc_mode.as_str() {
        "" => defaults.ipc.clone(),
        mode => {
            ipc_mode(mode).ok_or_else(|| Error::invalid(format!("invalid IPC mode: {mode}")))?
        }
    };
    let pid = pid_mode(&h.pid_mode)
        .ok_or_else(|| Error::invalid(format!("invalid PID mode: {}", h.pid_mode)))?;
    let uts_host = match h.uts_mode.as_str() {
        "" => false,
        "host" => true,
        other => return Err(Error::invalid(format!("invalid UTS mode: {other}"))),
    };
    let cgroupns = match h.cgroupns_mode.as_str() {
        // Recorded as the daemon's default, as dockerd records it.
        "" => defaults.cgroupns,
        "host" => CgroupnsMode::Host,
        "private" => CgroupnsMode::Private,
        other => {
            return Err(Error::invalid(format!(
                "invalid cgroup namespace mode: {other}"
            )));
        }
    };
    Ok(Namespaces {
        pid,
        ipc,
        uts_host,
        cgroupns,
    })
}

/// Docker's check at decode, before all others: a hostname needs a UTS namespace of its own.
pub fn check_hostname(req: &CreateRequest) -> Result<()> {
    if req.host_config.uts_mode == "host" && !req.config.hostname.is_empty() {
        return Err(Error::invalid(
            "conflicting options: hostname and the UTS mode",
        ));
    }
    Ok(())
}

fn pid_mode(mode: &str) -> Option<PidMode> {
    match mode {
        "" => Some(PidMode::Private),
        "host" => Some(PidMode::Host),
        _ => match mode.strip_prefix("container:") {
            Some(id) if !id.is_empty() => Some(PidMode::Container(id.into())),
            _ => None,
        },
    }
}

/// Docker's IPC modes; `container:` with no name is valid to Docker too (and fails at start).
fn ipc_mode(mode: &str) -> Option<IpcMode> {
    match mode {
        "private" => Some(IpcMode::Private),
        "shareable" => Some(IpcMode::Shareable),
        "none" => Some(IpcMode::None),
        "host" => Some(IpcMode::Host),
        _ => mode
            .strip_prefix("container:")
            .map(|id| IpcMode::Container(id.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_docker_s() {
        assert_eq!(
            pid_mode("container:a"),
            Some(PidMode::Container("a".into()))
        );
        for bad in ["container:", "shareable", "private", "hostx"] {
            assert_eq!(pid_mode(bad), None, "{bad}");
        }
        assert_eq!(ipc_mode("private"), Some(IpcMode::Private));
        // Empty is the daemon's default, resolved by `spec`, not a mode.
        assert_eq!(ipc_mode(""), None);
        assert_eq!(
            ipc_mode("container:"),
            Some(IpcMode::Container(String::new()))
        );
        assert_eq!(ipc_mode("nope"), None);
    }
}
