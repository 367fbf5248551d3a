//! A container's confinement beyond its namespaces, as asked for (`--security-opt`) and as
//! resolved at each start: its seccomp filter and `no_new_privs`.

use std::sync::Arc;

use berth_runtime::seccomp::{Cache, Compiled, Host, Profile};
use oci_spec::runtime::{Capability, LinuxSeccomp};
use serde::{Deserialize, Serialize};

use crate::config::{DaemonSeccomp, SecurityConfig};
use crate::error::{Error, Result};

/// What a container asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Security {
    /// The `--security-opt` values as given (`None`: not sent), which inspect shows.
    pub options: Option<Vec<String>>,
    /// Its seccomp profile.
    pub seccomp: Seccomp,
    /// `no-new-privileges`; `None`: the daemon's default.
    pub no_new_privileges: Option<bool>,
    /// `writable-cgroups`: its cgroup files may be written; `None`: read-only.
    pub writable_cgroups: Option<bool>,
    /// `--cap-add`, as given.
    pub cap_add: Vec<String>,
    /// `--cap-drop`, as given.
    pub cap_drop: Vec<String>,
    /// `--privileged`: every capability the daemon holds, every device, no masked or
    /// read-only paths, writable `/sys` and cgroups, and no seccomp unless one is named.
    pub privileged: bool,
    /// `HostConfig.MaskedPaths` as given; `None`: Docker's.
    pub masked_paths: Option<Vec<String>>,
    /// `HostConfig.ReadonlyPaths` as given; `None`: Docker's.
    pub readonly_paths: Option<Vec<String>>,
    /// An AppArmor profile the host has loaded (`apparmor=NAME`); `None`: none.
    pub apparmor: Option<String>,
    /// `HostConfig.UsernsMode`: `host` keeps it in the host's user namespace under
    /// `--userns-remap`; empty: the daemon's.
    pub userns_mode: String,
}

impl Security {
    /// The container's capabilities: Docker's defaults with its adds and drops, from what the
    /// daemon holds.
    pub fn capabilities(&self) -> Result<Vec<Capability>> {
        let available = berth_runtime::capabilities::Available::host();
        let invalid = |field: &'static str| {
            move |e: berth_runtime::capabilities::CapabilityError| {
                Error::invalid(format!("invalid {field}: {e}"))
            }
        };
        // Checked one list at a time, for dockerd's message naming the field.
        available.check(&self.cap_add).map_err(invalid("CapAdd"))?;
        available
            .check(&self.cap_drop)
            .map_err(invalid("CapDrop"))?;
        if self.privileged {
            return Ok(available.all().to_vec());
        }
        available
            .tweak(
                berth_runtime::spec::DEFAULT_CAPS,
                &self.cap_add,
                &self.cap_drop,
            )
            .map_err(|e| Error::invalid(e.to_string()))
    }
}

/// A container's choice of seccomp profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seccomp {
    /// The daemon's (`--seccomp-profile`, else berth's default).
    #[default]
    Daemon,
    /// berth's default (`seccomp=builtin`).
    Builtin,
    /// No filter (`seccomp=unconfined`).
    Unconfined,
    /// Its own profile, in Docker's JSON (checked at create).
    Profile(String),
}

/// The filters of the daemon's containers: profiles resolved for this host, compiled once.
pub struct Filters {
    host: Host,
    builtin: Profile,
    daemon: Option<Profile>,
    cache: Cache,
}

impl Filters {
    /// The filters under the daemon's configuration.
    pub fn new(cfg: &SecurityConfig) -> Result<Filters> {
        let daemon = match &cfg.seccomp {
            DaemonSeccomp::Builtin => Some(Profile::default_profile()),
            DaemonSeccomp::Unconfined => None,
            DaemonSeccomp::Profile { json, .. } => {
                Some(Profile::parse(json).map_err(|e| Error::invalid(e.to_string()))?)
            }
        };
        Ok(Filters {
            host: Host::detect(),
            builtin: Profile::default_profile(),
            daemon,
            cache: Cache::default(),
        })
    }

    /// The OCI filter of a container with capabilities `caps`, and its program; `None`:
    /// unconfined.
    pub fn filter(
        &self,
        security: &Security,
        caps: &[Capability],
    ) -> Result<Option<(LinuxSeccomp, Arc<Compiled>)>> {
        let own;
        let profile = match &security.seccomp {
            Seccomp::Unconfined => return Ok(None),
            // A privileged container gets a filter only when it names one, as in Docker.
            Seccomp::Daemon if security.privileged => return Ok(None),
            Seccomp::Builtin => &self.builtin,
            Seccomp::Daemon => match &self.daemon {
                Some(p) => p,
                None => return Ok(None),
            },
            Seccomp::Profile(json) => {
                own = Profile::parse(json).map_err(|e| Error::invalid(e.to_string()))?;
                &own
            }
        };
        let bounding: Vec<String> = caps.iter().map(|c| format!("CAP_{c}")).collect();
        let bad = |e: berth_runtime::seccomp::SeccompError| Error::invalid(e.to_string());
        let Some(oci) = profile.resolve(&self.host, &bounding).map_err(bad)? else {
            return Ok(None);
        };
        let compiled = self.cache.get(&oci).map_err(bad)?;
        Ok(Some((oci, compiled)))
    }
}
