//! `--pid`, `--ipc`, `--uts` and `--cgroupns` of `run` and `create`, checked as the docker CLI
//! checks them (the IPC mode only by the daemon, as there).

use anyhow::{Result, bail};

/// The namespace flags of a container.
#[derive(Debug, Default, clap::Args)]
pub struct NamespaceOpts {
    /// PID namespace to use.
    #[arg(long)]
    pid: Option<String>,
    /// IPC mode to use.
    #[arg(long)]
    ipc: Option<String>,
    /// UTS namespace to use.
    #[arg(long)]
    uts: Option<String>,
    /// Cgroup namespace to use (host|private).
    #[arg(long)]
    cgroupns: Option<String>,
}

/// `HostConfig`'s `PidMode`, `IpcMode`, `UTSMode` and `CgroupnsMode`.
pub struct Modes {
    pub pid: String,
    pub ipc: String,
    pub uts: String,
    pub cgroupns: String,
}

impl NamespaceOpts {
    /// The modes, or the docker CLI's error for a bad one.
    pub fn modes(&self) -> Result<Modes> {
        let get = |o: &Option<String>| o.clone().unwrap_or_default();
        let pid = get(&self.pid);
        let valid_pid = match pid.split_once(':') {
            Some(("container", id)) => !id.is_empty(),
            _ => matches!(pid.as_str(), "" | "host"),
        };
        if !valid_pid {
            bail!("--pid: invalid PID mode");
        }
        let uts = get(&self.uts);
        if !matches!(uts.as_str(), "" | "host") {
            bail!("--uts: invalid UTS mode");
        }
        let cgroupns = get(&self.cgroupns);
        if !matches!(cgroupns.as_str(), "" | "host" | "private") {
            bail!("--cgroupns: invalid CGROUP mode");
        }
        Ok(Modes {
            pid,
            ipc: get(&self.ipc),
            uts,
            cgroupns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pid: &str, uts: &str, cgroupns: &str) -> NamespaceOpts {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        NamespaceOpts {
            pid: some(pid),
            ipc: None,
            uts: some(uts),
            cgroupns: some(cgroupns),
        }
    }

    #[test]
    fn bad_modes_get_the_docker_cli_s_errors() {
        let err = |o: NamespaceOpts| o.modes().err().map(|e| e.to_string());
        assert_eq!(err(opts("container:a", "host", "private")), None);
        assert_eq!(
            err(opts("container:", "", "")).as_deref(),
            Some("--pid: invalid PID mode")
        );
        assert_eq!(
            err(opts("", "private", "")).as_deref(),
            Some("--uts: invalid UTS mode")
        );
        assert_eq!(
            err(opts("", "", "shareable")).as_deref(),
            Some("--cgroupns: invalid CGROUP mode")
        );
    }
}
