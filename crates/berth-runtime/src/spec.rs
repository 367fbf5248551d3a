//! OCI runtime spec (`config.json`) for a container, with Docker's defaults: namespaces, mounts,
//! capabilities, masked paths and cgroup limits.

use std::path::PathBuf;

use serde_json::{Value, json};

/// Docker's default capability set.
pub const DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

const MASKED: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

const READONLY: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// A mount a build step adds to its container (`RUN --mount`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExtraMount {
    /// `bind` or `tmpfs`.
    pub kind: String,
    /// Host path (bind) or ignored (tmpfs).
    pub source: PathBuf,
    /// Path in the container.
    pub destination: String,
    /// Read-only.
    pub readonly: bool,
    /// Extra options (`size=...` for tmpfs).
    pub options: Vec<String>,
}

/// Where the container's network comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// A new network namespace with only loopback.
    None,
    /// The host's network namespace.
    Host,
}

/// Cgroup limits; zero or `None` means unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    /// Memory limit in bytes.
    pub memory: i64,
    /// Memory + swap limit in bytes; -1 unlimited.
    pub memory_swap: i64,
    /// CFS quota in microseconds per `cpu_period`.
    pub cpu_quota: i64,
    /// CFS period in microseconds.
    pub cpu_period: u64,
    /// Relative CPU weight (v1 shares).
    pub cpu_shares: u64,
    /// Maximum number of tasks.
    pub pids_limit: Option<i64>,
}

/// Everything needed to write a container's `config.json`.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// The process: argv, environment, working directory.
    pub args: Vec<String>,
    /// `KEY=value` pairs.
    pub env: Vec<String>,
    /// Working directory inside the container.
    pub cwd: String,
    /// User and group IDs.
    pub uid: u32,
    /// Primary group.
    pub gid: u32,
    /// Supplementary groups.
    pub additional_gids: Vec<u32>,
    /// The container's hostname.
    pub hostname: String,
    /// Whether the process gets a terminal.
    pub tty: bool,
    /// Read-only rootfs.
    pub readonly_rootfs: bool,
    /// Network mode.
    pub network: Network,
    /// Files bind-mounted over the image's: (host path, container path).
    pub bind_files: Vec<(PathBuf, String)>,
    /// Further mounts (build steps' `RUN --mount`).
    pub mounts: Vec<ExtraMount>,
    /// Size of /dev/shm in bytes.
    pub shm_size: i64,
    /// Cgroup path, relative to the hierarchy root.
    pub cgroup_path: String,
    /// Limits.
    pub resources: Resources,
    /// A host binary to run as PID 1 (`--init`): bind-mounted read-only at [`INIT_PATH`], it
    /// runs `args` as its child.
    pub init: Option<PathBuf>,
}

/// Where `--init` containers find their init, as in Docker.
pub const INIT_PATH: &str = "/sbin/docker-init";

impl RunSpec {
    /// The OCI spec as JSON.
    pub fn to_json(&self) -> Value {
        let caps: Vec<&str> = DEFAULT_CAPS.to_vec();
        let mut namespaces = vec![
            json!({"type": "pid"}),
            json!({"type": "ipc"}),
            json!({"type": "uts"}),
            json!({"type": "mount"}),
        ];
        if self.network == Network::None {
            namespaces.push(json!({"type": "network"}));
        }
        let mut readonly: Vec<String> = READONLY.iter().map(|p| p.to_string()).collect();
        if crate::cgroup::is_unified() {
            namespaces.push(json!({"type": "cgroup"}));
        } else {
            // libcontainer binds each v1 hierarchy read-write whatever the mount says: made
            // read-only here, or a container could raise its own limits.
            readonly.extend(crate::cgroup::v1_mount_points());
        }
        let mut mounts = vec![
            json!({"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]}),
            json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
            json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
            json!({"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}),
            json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid", "noexec", "nodev"]}),
            json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}),
            json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", format!("size={}", self.shm_size)]}),
        ];
        let mut args = self.args.clone();
        if let Some(init) = &self.init {
            mounts.push(json!({"destination": INIT_PATH, "type": "bind", "source": init, "options": ["bind", "ro"]}));
            args.splice(0..0, [INIT_PATH.to_string(), "--".to_string()]);
        }
        for (src, dst) in &self.bind_files {
            mounts.push(json!({"destination": dst, "type": "bind", "source": src, "options": ["rbind", "rprivate"]}));
        }
        for m in &self.mounts {
            let mut options: Vec<String> = if m.kind == "bind" {
                vec!["rbind".into(), "rprivate".into()]
            } else {
                vec!["nosuid".into(), "nodev".into()]
            };
            if m.readonly {
                options.push("ro".into());
            }
            options.extend(m.options.iter().cloned());
            mounts.push(json!({"destination": m.destination, "type": m.kind, "source": if m.kind == "bind" { m.source.display().to_string() } else { "tmpfs".into() }, "options": options}));
        }
        let r = &self.resources;
        let mut resources = json!({"devices": [{"allow": false, "access": "rwm"}]});
        if r.memory > 0 {
            let mut mem = json!({"limit": r.memory});
            if r.memory_swap != 0 && crate::cgroup::controllers().swap {
                mem["swap"] = json!(r.memory_swap);
            }
            resources["memory"] = mem;
        }
        let mut cpu = serde_json::Map::new();
        if r.cpu_shares > 0 {
            cpu.insert("shares".into(), json!(r.cpu_shares));
        }
        if r.cpu_quota > 0 {
            cpu.insert("quota".into(), json!(r.cpu_quota));
            cpu.insert("period".into(), json!(r.cpu_period));
        }
        if !cpu.is_empty() {
            resources["cpu"] = Value::Object(cpu);
        }
        if let Some(p) = r.pids_limit.filter(|p| *p > 0) {
            resources["pids"] = json!({"limit": p});
        }
        json!({
            "ociVersion": "1.0.2",
            "process": {
                "terminal": self.tty,
                "user": {"uid": self.uid, "gid": self.gid, "additionalGids": self.additional_gids},
                "args": args,
                "env": self.env,
                "cwd": self.cwd,
                "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
                "noNewPrivileges": false,
            },
            "root": {"path": "rootfs", "readonly": self.readonly_rootfs},
            "hostname": self.hostname,
            "mounts": mounts,
            "linux": {
                "namespaces": namespaces,
                "cgroupsPath": self.cgroup_path,
                "resources": resources,
                "maskedPaths": MASKED,
                "readonlyPaths": readonly,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_is_valid_oci() {
        let spec = RunSpec {
            args: vec!["sh".into()],
            env: vec!["PATH=/bin".into()],
            cwd: "/".into(),
            uid: 0,
            gid: 0,
            additional_gids: vec![],
            hostname: "abc".into(),
            tty: false,
            readonly_rootfs: false,
            network: Network::None,
            bind_files: vec![("/tmp/hosts".into(), "/etc/hosts".into())],
            mounts: vec![],
            shm_size: 64 << 20,
            cgroup_path: "/berth/x".into(),
            resources: Resources {
                memory: 1 << 20,
                pids_limit: Some(10),
                ..Resources::default()
            },
            init: None,
        };
        let parsed: oci_spec::runtime::Spec = serde_json::from_value(spec.to_json()).unwrap();
        let linux = parsed.linux().as_ref().unwrap();
        assert_eq!(
            linux
                .resources()
                .as_ref()
                .unwrap()
                .pids()
                .as_ref()
                .unwrap()
                .limit(),
            10
        );
        assert!(
            linux
                .namespaces()
                .as_ref()
                .unwrap()
                .iter()
                .any(|n| n.typ() == oci_spec::runtime::LinuxNamespaceType::Network)
        );
    }
}
