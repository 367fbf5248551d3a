//! A container's kernel parameters and process limits (`--sysctl`, `--ulimit`,
//! `--oom-score-adj`), checked as dockerd and runc check them, and against what this daemon
//! can grant: without CAP_SYS_RESOURCE it cannot raise a hard rlimit above its own.

use std::collections::BTreeMap;

use berth_runtime::rlimit;
use oci_spec::runtime::{Capability, PosixRlimit, PosixRlimitBuilder};
use serde::{Deserialize, Serialize};

use super::model::NetworkMode;
use crate::error::{Error, Result};

/// What a container asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// `--sysctl`, as given.
    pub sysctls: BTreeMap<String, String>,
    /// `--ulimit`s; `None`: the client sent none (inspect shows null).
    pub ulimits: Option<Vec<Ulimit>>,
    /// `--oom-score-adj`.
    pub oom_score_adj: i64,
}

/// One `--ulimit`; -1 is unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    /// go-units' name (`nofile`).
    pub name: String,
    /// The soft limit.
    pub soft: i64,
    /// The hard limit.
    pub hard: i64,
}

/// The sysctls of the IPC namespace (runc's list; `fs.mqueue.*` too).
const IPC_SYSCTLS: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// Docker's sysctls for a container with a network namespace of its own (`oci_linux.go`):
/// ICMP echo sockets and low ports without capabilities.
const PRIVATE_NET_DEFAULTS: &[(&str, &str)] = &[
    ("net.ipv4.ping_group_range", "0 2147483647"),
    ("net.ipv4.ip_unprivileged_port_start", "0"),
];

impl Limits {
    /// Docker's and runc's checks, and the limits this daemon cannot grant.
    pub fn check(&self, network: &NetworkMode) -> Result<()> {
        if !(-1000..=1000).contains(&self.oom_score_adj) {
            return Err(Error::invalid(format!(
                "Invalid value {}, range for oom score adj is [-1000, 1000]",
                self.oom_score_adj
            )));
        }
        self.check_sysctls(matches!(network, NetworkMode::Host))?;
        self.rlimits().map(|_| ())
    }

    /// runc's refusals of sysctls outside the container's namespaces; `host_net`: its network
    /// namespace is the host's.
    pub fn check_sysctls(&self, host_net: bool) -> Result<()> {
        for key in self.sysctls.keys() {
            // berth gives every container its own IPC and UTS namespaces.
            if let Some(msg) = namespace_error(key, host_net, false) {
                return Err(Error::invalid(msg));
            }
        }
        Ok(())
    }

    /// The sysctls to set: Docker's defaults for a private network namespace where the kernel
    /// has them, then the container's own.
    pub fn sysctls(&self, network: &NetworkMode) -> BTreeMap<String, String> {
        let mut all = BTreeMap::new();
        if matches!(network, NetworkMode::None | NetworkMode::Network { .. }) {
            for (key, value) in PRIVATE_NET_DEFAULTS {
                let file = format!("/proc/sys/{}", key.replace('.', "/"));
                if std::path::Path::new(&file).exists() {
                    all.insert(key.to_string(), value.to_string());
                }
            }
        }
        all.extend(self.sysctls.clone());
        all
    }

    /// The OCI rlimits, or why one cannot be set.
    pub fn rlimits(&self) -> Result<Vec<PosixRlimit>> {
        let may_raise = berth_runtime::capabilities::Available::host()
            .all()
            .contains(&Capability::SysResource);
        let mut out = Vec::new();
        for u in self.ulimits.iter().flatten() {
            let kind = rlimit::kind(&u.name)
                .ok_or_else(|| Error::invalid(format!("invalid ulimit type: {}", u.name)))?;
            if let Some(msg) = values_error(u) {
                return Err(Error::invalid(msg));
            }
            let (soft, hard) = (unlimited(u.soft), unlimited(u.hard));
            let own = rlimit::own(kind)
                .map_err(|e| Error::internal("reading an rlimit", e))?
                .1;
            if hard > own && !may_raise {
                return Err(Error::invalid(format!(
                    "cannot set ulimit {}: its hard limit {} is above the daemon's own ({}), and \
                     raising it needs CAP_SYS_RESOURCE, which the daemon does not hold",
                    u.name,
                    shown(hard),
                    shown(own)
                )));
            }
            let r = PosixRlimitBuilder::default()
                .typ(kind)
                .soft(soft)
                .hard(hard)
                .build()
                .map_err(|e| Error::internal("building an rlimit", e))?;
            out.push(r);
        }
        Ok(out)
    }
}

/// runc's refusal of sysctl `key` for a container in the host's network namespace or sharing
/// an IPC namespace, in runc's words; `None`: allowed.
fn namespace_error(key: &str, host_net: bool, shared_ipc: bool) -> Option<String> {
    let s = key.replace('/', ".");
    if IPC_SYSCTLS.contains(&s.as_str()) || s.starts_with("fs.mqueue.") {
        return shared_ipc
            .then(|| format!("sysctl {s:?} is not allowed in the hosts ipc namespace"));
    }
    if s.starts_with("net.") {
        return host_net.then(|| format!("sysctl {s:?} not allowed in host network namespace"));
    }
    match s.as_str() {
        "kernel.domainname" => None,
        "kernel.hostname" => Some(format!(
            "sysctl {s:?} is not allowed as it conflicts with the OCI \"hostname\" field"
        )),
        _ => Some(format!(
            "sysctl {s:?} is not in a separate kernel namespace"
        )),
    }
}

/// go-units' checks of a ulimit's values, which an API client may skip; -1 alone is unlimited.
fn values_error(u: &Ulimit) -> Option<String> {
    if u.soft < -1 || u.hard < -1 {
        return Some(format!(
            "invalid ulimit {}: limits are -1 (unlimited) or not negative",
            u.name
        ));
    }
    if u.hard == -1 {
        return None;
    }
    if u.soft == -1 {
        return Some(format!(
            "ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: {}",
            u.hard
        ));
    }
    (u.soft > u.hard).then(|| {
        format!(
            "ulimit soft limit must be less than or equal to hard limit: {} > {}",
            u.soft, u.hard
        )
    })
}

/// -1 is RLIM_INFINITY, as Docker converts it.
fn unlimited(v: i64) -> u64 {
    if v == -1 { u64::MAX } else { v as u64 }
}

fn shown(v: u64) -> String {
    if v == u64::MAX {
        "unlimited".into()
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulimit(name: &str, soft: i64, hard: i64) -> Limits {
        Limits {
            ulimits: Some(vec![Ulimit {
                name: name.into(),
                soft,
                hard,
            }]),
            ..Limits::default()
        }
    }

    #[test]
    fn sysctls_are_refused_in_runcs_words_where_not_namespaced() {
        assert_eq!(namespace_error("net.ipv4.ip_forward", false, false), None);
        assert_eq!(
            namespace_error("net.ipv4.ip_forward", true, false).unwrap(),
            r#"sysctl "net.ipv4.ip_forward" not allowed in host network namespace"#
        );
        assert_eq!(namespace_error("kernel/shmmax", true, false), None);
        assert_eq!(
            namespace_error("fs.mqueue.msg_max", false, true).unwrap(),
            r#"sysctl "fs.mqueue.msg_max" is not allowed in the hosts ipc namespace"#
        );
        assert_eq!(namespace_error("kernel.domainname", false, false), None);
        assert!(
            namespace_error("kernel.hostname", false, false)
                .unwrap()
                .contains("conflicts with the OCI \"hostname\" field")
        );
        assert_eq!(
            namespace_error("vm.swappiness", false, false).unwrap(),
            r#"sysctl "vm.swappiness" is not in a separate kernel namespace"#
        );
    }

    #[test]
    fn dockers_network_defaults_yield_to_the_containers_own() {
        let l = Limits {
            sysctls: [("net.ipv4.ip_unprivileged_port_start".into(), "80".into())].into(),
            ..Limits::default()
        };
        let private = l.sysctls(&NetworkMode::None);
        assert_eq!(private["net.ipv4.ip_unprivileged_port_start"], "80");
        if std::path::Path::new("/proc/sys/net/ipv4/ping_group_range").exists() {
            assert_eq!(private["net.ipv4.ping_group_range"], "0 2147483647");
        }
        let host = l.sysctls(&NetworkMode::Host);
        assert_eq!(
            host.len(),
            1,
            "no defaults in a namespace not its own: {host:?}"
        );
        let joined = NetworkMode::Container {
            mode: "container:x".into(),
            id: "x".into(),
        };
        assert_eq!(Limits::default().sysctls(&joined).len(), 0);
    }

    #[test]
    fn oom_scores_and_ulimits_get_dockers_checks() {
        let oom = |v| Limits {
            oom_score_adj: v,
            ..Limits::default()
        };
        oom(1000).check(&NetworkMode::None).unwrap();
        assert_eq!(
            oom(1001).check(&NetworkMode::None).unwrap_err().to_string(),
            "Invalid value 1001, range for oom score adj is [-1000, 1000]"
        );
        let err = |l: Limits| l.rlimits().unwrap_err().to_string();
        assert_eq!(err(ulimit("as", 1, 1)), "invalid ulimit type: as");
        assert!(err(ulimit("nofile", 10, 5)).ends_with("10 > 5"));
        assert!(err(ulimit("nofile", -1, 5)).contains("soft: -1 (unlimited), hard: 5"));
        assert!(err(ulimit("nofile", -2, -2)).contains("-1 (unlimited)"));
        let r = ulimit("nofile", 1024, 2048).rlimits().unwrap();
        assert_eq!((r[0].soft(), r[0].hard()), (1024, 2048));
        assert!(Limits::default().rlimits().unwrap().is_empty());
    }

    #[test]
    fn a_hard_limit_above_the_daemons_needs_cap_sys_resource() {
        let (_, own) = rlimit::own(oci_spec::runtime::PosixRlimitType::RlimitNofile).unwrap();
        let held = berth_runtime::capabilities::Available::host()
            .all()
            .contains(&Capability::SysResource);
        if own == u64::MAX || held {
            eprintln!("skipped: the daemon may raise nofile here");
            return;
        }
        let above = ulimit("nofile", 1024, own as i64 + 1);
        let msg = above.rlimits().unwrap_err().to_string();
        assert!(
            msg.contains(&format!("above the daemon's own ({own})")),
            "{msg}"
        );
        assert!(msg.contains("CAP_SYS_RESOURCE"), "{msg}");
        ulimit("nofile", 1024, own as i64).rlimits().unwrap();
    }
}
