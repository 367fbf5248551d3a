//! OCI runtime spec (`config.json`) for a container, with Docker's defaults: namespaces, mounts,
//! capabilities, masked paths and cgroup limits.

use std::path::{Path, PathBuf};

use oci_spec::OciSpecError;
use oci_spec::runtime::{
    Capabilities, Capability, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxCpuBuilder,
    LinuxMemoryBuilder, LinuxNamespace, LinuxNamespaceBuilder, LinuxNamespaceType,
    LinuxPidsBuilder, LinuxResources, LinuxResourcesBuilder, LinuxSeccomp, Mount, MountBuilder,
    PosixRlimit, Process, ProcessBuilder, RootBuilder, Spec, SpecBuilder, UserBuilder,
};

/// Docker's default capability set.
pub const DEFAULT_CAPS: &[Capability] = &[
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fsetid,
    Capability::Fowner,
    Capability::Mknod,
    Capability::NetRaw,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setfcap,
    Capability::Setpcap,
    Capability::NetBindService,
    Capability::SysChroot,
    Capability::Kill,
    Capability::AuditWrite,
];

const MASKED: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
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

/// Docker's masked paths on this machine: [`MASKED`] and each CPU's `thermal_throttle`.
pub fn default_masked_paths() -> Vec<String> {
    // The CPUs' directories do not change while the daemon runs: looked at once, as Docker does.
    static PATHS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    PATHS.get_or_init(masked_paths_of_this_machine).clone()
}

fn masked_paths_of_this_machine() -> Vec<String> {
    let mut paths: Vec<String> = MASKED.iter().map(|p| p.to_string()).collect();
    let mut throttles: Vec<(u32, String)> = std::fs::read_dir("/sys/devices/system/cpu")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let n: u32 = name.strip_prefix("cpu")?.parse().ok()?;
            let path = e.path().join("thermal_throttle");
            path.exists().then(|| (n, path.display().to_string()))
        })
        .collect();
    throttles.sort();
    paths.extend(throttles.into_iter().map(|(_, p)| p));
    paths
}

/// Whether the kernel enforces AppArmor, so that a profile can be applied.
pub fn host_has_apparmor() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|v| v.trim() == "Y")
}

/// Docker's read-only paths.
pub fn default_readonly_paths() -> Vec<String> {
    READONLY.iter().map(|p| p.to_string()).collect()
}

const READONLY: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The propagation options of a mount.
const PROPAGATIONS: &[&str] = &[
    "private", "rprivate", "shared", "rshared", "slave", "rslave",
];

/// A mount over the image's filesystem: a volume's or a host directory (`bind`), a `tmpfs`.
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
    /// Extra options (`size=...` for tmpfs; `bind` or a propagation replace a bind's defaults,
    /// `rbind` and `rprivate`).
    pub options: Vec<String>,
}

/// Where the container's network comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Network {
    /// A new network namespace with only loopback.
    None,
    /// The host's network namespace.
    Host,
    /// A namespace the daemon prepared (links, addresses, routes), joined by path.
    Join(std::path::PathBuf),
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
    /// Further mounts: volumes, binds, tmpfs, build steps' `RUN --mount`.
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
    /// Propagation of the container's root (`rshared`, `rslave`); `None`: the runtime's.
    pub rootfs_propagation: Option<String>,
    /// Its capabilities: bounding, effective and permitted alike.
    pub capabilities: Vec<Capability>,
    /// Its seccomp filter, resolved for it (see [`crate::seccomp`]); `None`: unconfined.
    pub seccomp: Option<LinuxSeccomp>,
    /// `no_new_privs`: setuid and file capabilities grant nothing.
    pub no_new_privileges: bool,
    /// Its cgroup files may be written (`--security-opt writable-cgroups`).
    pub writable_cgroups: bool,
    /// Paths hidden from it; `None`: Docker's.
    pub masked_paths: Option<Vec<String>>,
    /// Paths it may only read; `None`: Docker's.
    pub readonly_paths: Option<Vec<String>>,
    /// `--privileged`: `/sys` writable, every device allowed.
    pub privileged: bool,
    /// The AppArmor profile its processes run under, on hosts with AppArmor.
    pub apparmor_profile: Option<String>,
    /// Host device nodes made in the container (`--device`).
    pub devices: Vec<crate::devices::Device>,
    /// Device cgroup rules after Docker's defaults: the devices' and `--device-cgroup-rule`s.
    pub device_rules: Vec<crate::devices::Rule>,
    /// Kernel parameters set in its namespaces (`linux.sysctl`).
    pub sysctls: std::collections::BTreeMap<String, String>,
    /// Its processes' rlimits; empty: the monitor's, inherited.
    pub rlimits: Vec<PosixRlimit>,
    /// `oom_score_adj` of its processes; `None`: the monitor's.
    pub oom_score_adj: Option<i32>,
    /// A user namespace with these maps (`--userns-remap`); `None`: the host's.
    pub userns: Option<berth_core::idmap::IdMap>,
    /// The user namespace to join rather than make (one the daemon made with `userns`'s maps,
    /// owning the network namespace, or another container's).
    pub userns_path: Option<PathBuf>,
    /// Its PID, IPC, UTS and cgroup namespaces, and its `/dev/shm`.
    pub shared: crate::namespaces::Shared,
}

/// Where `--init` containers find their init, as in Docker.
pub const INIT_PATH: &str = "/sbin/docker-init";

impl RunSpec {
    /// The OCI spec (`config.json`).
    pub fn to_spec(&self) -> Result<Spec, OciSpecError> {
        let (namespaces, readonly) = self.namespaces()?;
        let mut args = self.args.clone();
        if self.init.is_some() {
            args.splice(0..0, [INIT_PATH.to_string(), "--".to_string()]);
        }
        let mut linux = LinuxBuilder::default();
        if let Some(p) = &self.rootfs_propagation {
            linux = linux.rootfs_propagation(p);
        }
        let devices = self
            .devices
            .iter()
            .map(|d| d.to_oci())
            .collect::<Result<Vec<_>, _>>()?;
        if !devices.is_empty() {
            linux = linux.devices(devices);
        }
        let linux = linux
            .namespaces(namespaces)
            .cgroups_path(&self.cgroup_path)
            .resources(self.resources()?)
            .masked_paths(
                self.masked_paths
                    .clone()
                    .unwrap_or_else(default_masked_paths),
            )
            .readonly_paths(readonly)
            .build()?;
        let mut linux = linux;
        linux.set_seccomp(self.seccomp.clone());
        if let Some(map) = &self.userns {
            linux.set_uid_mappings(Some(crate::userns_spec::mappings(&map.uids)?));
            linux.set_gid_mappings(Some(crate::userns_spec::mappings(&map.gids)?));
        }
        if !self.sysctls.is_empty() {
            linux.set_sysctl(Some(self.sysctls.clone().into_iter().collect()));
        }
        let mut spec = SpecBuilder::default()
            .version("1.0.2")
            .process(self.process(args)?)
            .root(
                RootBuilder::default()
                    .path("rootfs")
                    .readonly(self.readonly_rootfs)
                    .build()?,
            )
            .mounts(self.mounts()?)
            .linux(linux)
            .build()?;
        spec.set_annotations(None);
        // Without a UTS namespace of its own the container keeps the host's name.
        spec.set_hostname(self.shared.own_hostname().then(|| self.hostname.clone()));
        Ok(spec)
    }

    /// The namespaces, and the read-only paths (which depend on the cgroup layout).
    fn namespaces(&self) -> Result<(Vec<LinuxNamespace>, Vec<String>), OciSpecError> {
        let mut namespaces: Vec<(LinuxNamespaceType, Option<PathBuf>)> = vec![];
        // First, so the others belong to it (a sysfs or mqueue mount needs that).
        if self.userns.is_some() {
            namespaces.push((LinuxNamespaceType::User, self.userns_path.clone()));
        }
        namespaces.extend(self.shared.entries());
        match &self.network {
            Network::None => namespaces.push((LinuxNamespaceType::Network, None)),
            Network::Host => {}
            Network::Join(path) => {
                namespaces.push((LinuxNamespaceType::Network, Some(path.clone())))
            }
        }
        // On v1 the `cgroup` mount's access is the hierarchies' (runc honours it; for
        // libcontainer, which does not, see `runtime::cgroup_remount`).
        if self.shared.cgroup == crate::namespaces::Source::New {
            namespaces.push((LinuxNamespaceType::Cgroup, None));
        }
        let readonly = self
            .readonly_paths
            .clone()
            .unwrap_or_else(default_readonly_paths);
        let namespaces = namespaces
            .into_iter()
            .map(|(typ, path)| {
                let mut ns = LinuxNamespaceBuilder::default().typ(typ);
                if let Some(path) = path {
                    ns = ns.path(path);
                }
                ns.build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((namespaces, readonly))
    }

    /// Docker's standard mounts, then the init, the /etc files and the extra mounts.
    fn mounts(&self) -> Result<Vec<Mount>, OciSpecError> {
        let shm_size = format!("size={}", self.shm_size);
        let cgroup_access = if self.writable_cgroups { "rw" } else { "ro" };
        let sys_access = if self.privileged { "rw" } else { "ro" };
        let mut mounts = vec![
            mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"])?,
            mount(
                "/dev",
                "tmpfs",
                "tmpfs",
                &["nosuid", "strictatime", "mode=755", "size=65536k"],
            )?,
            mount(
                "/dev/pts",
                "devpts",
                "devpts",
                &[
                    "nosuid",
                    "noexec",
                    "newinstance",
                    "ptmxmode=0666",
                    "mode=0620",
                    "gid=5",
                ],
            )?,
            mount(
                "/sys",
                "sysfs",
                "sysfs",
                &["nosuid", "noexec", "nodev", sys_access],
            )?,
            mount(
                "/sys/fs/cgroup",
                "cgroup",
                "cgroup",
                &[cgroup_access, "nosuid", "noexec", "nodev"],
            )?,
            mount(
                "/dev/mqueue",
                "mqueue",
                "mqueue",
                &["nosuid", "noexec", "nodev"],
            )?,
            mount(
                "/dev/shm",
                "tmpfs",
                "shm",
                &["nosuid", "noexec", "nodev", "mode=1777", &shm_size],
            )?,
        ];
        if self.userns.is_some() && self.userns_path.is_none() && self.network != Network::None {
            // A namespace the daemon made belongs to the host's user namespace, and sysfs
            // mounts only for the owner of the network namespace: the host's, bound, as runc
            // falls back to.
            mounts[3] = crate::userns_spec::sysfs_bind()?;
        }
        match &self.shared.shm {
            crate::namespaces::Shm::Own => {}
            crate::namespaces::Shm::Bind(dir) => {
                mounts[6] = mount("/dev/shm", "bind", dir, &["rbind", "rprivate"])?;
            }
            crate::namespaces::Shm::None => {
                mounts.remove(6);
            }
        }
        if let Some(init) = &self.init {
            mounts.push(mount(INIT_PATH, "bind", init, &["bind", "ro"])?);
        }
        for (src, dst) in &self.bind_files {
            mounts.push(mount(dst, "bind", src, &["rbind", "rprivate"])?);
        }
        for m in &self.mounts {
            let bind = m.kind == "bind";
            let named = |set: &[&str]| m.options.iter().any(|o| set.contains(&o.as_str()));
            let mut options: Vec<&str> = if bind {
                // Docker's defaults, unless the mount names its own.
                let mut o = Vec::new();
                if !named(&["bind", "rbind"]) {
                    o.push("rbind");
                }
                if !named(PROPAGATIONS) {
                    o.push("rprivate");
                }
                o
            } else {
                vec!["nosuid", "nodev"]
            };
            if m.readonly {
                options.push("ro");
            }
            options.extend(m.options.iter().map(String::as_str));
            let source = if bind {
                m.source.as_path()
            } else {
                Path::new("tmpfs")
            };
            mounts.push(mount(&m.destination, &m.kind, source, &options)?);
        }
        Ok(mounts)
    }

    /// The process: argv, user, environment, capabilities, rlimits and OOM score.
    fn process(&self, args: Vec<String>) -> Result<Process, OciSpecError> {
        let caps: Capabilities = self.capabilities.iter().copied().collect();
        let mut capabilities = LinuxCapabilitiesBuilder::default()
            .bounding(caps.clone())
            .effective(caps.clone())
            .permitted(caps)
            .build()?;
        // As Docker: no inheritable or ambient capabilities (oci-spec's defaults have some).
        capabilities.set_inheritable(None);
        capabilities.set_ambient(None);
        let mut process = ProcessBuilder::default()
            .terminal(self.tty)
            .user(
                UserBuilder::default()
                    .uid(self.uid)
                    .gid(self.gid)
                    .additional_gids(self.additional_gids.clone())
                    .build()?,
            )
            .args(args)
            .env(self.env.clone())
            .cwd(&self.cwd)
            .capabilities(capabilities)
            .build()?;
        // Unset rather than false, as Docker writes it: libcontainer reads `Some(false)` as
        // "load seccomp after dropping capabilities".
        process.set_no_new_privileges(self.no_new_privileges.then_some(true));
        process.set_apparmor_profile(self.apparmor_profile.clone());
        // Without `--ulimit`, none: the process keeps the monitor's (oci-spec's default would
        // cap open files at 1024).
        process.set_rlimits((!self.rlimits.is_empty()).then(|| self.rlimits.clone()));
        process.set_oom_score_adj(self.oom_score_adj);
        Ok(process)
    }

    fn resources(&self) -> Result<LinuxResources, OciSpecError> {
        let r = &self.resources;
        // Every device for a privileged container; else Docker's defaults, then its own.
        let rules = if self.privileged {
            vec!["a *:* rwm".parse().expect("a valid rule")]
        } else {
            let mut rules = crate::devices::docker_defaults();
            rules.extend(self.device_rules.iter().copied());
            rules
        };
        let rules = rules
            .iter()
            .map(|r| r.to_oci())
            .collect::<Result<Vec<_>, _>>()?;
        let mut resources = LinuxResourcesBuilder::default().devices(rules);
        if r.memory > 0 {
            let mut memory = LinuxMemoryBuilder::default().limit(r.memory);
            if r.memory_swap != 0 && crate::cgroup::controllers().swap {
                memory = memory.swap(r.memory_swap);
            }
            resources = resources.memory(memory.build()?);
        }
        if r.cpu_shares > 0 || r.cpu_quota > 0 {
            let mut cpu = LinuxCpuBuilder::default();
            if r.cpu_shares > 0 {
                cpu = cpu.shares(r.cpu_shares);
            }
            if r.cpu_quota > 0 {
                cpu = cpu.quota(r.cpu_quota).period(r.cpu_period);
            }
            resources = resources.cpu(cpu.build()?);
        }
        if let Some(p) = r.pids_limit.filter(|p| *p > 0) {
            resources = resources.pids(LinuxPidsBuilder::default().limit(p).build()?);
        }
        resources.build()
    }
}

/// One mount of the spec.
pub(crate) fn mount(
    destination: impl AsRef<Path>,
    kind: &str,
    source: impl AsRef<Path>,
    options: &[&str],
) -> Result<Mount, OciSpecError> {
    MountBuilder::default()
        .destination(destination.as_ref())
        .typ(kind)
        .source(source.as_ref())
        .options(options.iter().map(|o| o.to_string()).collect::<Vec<_>>())
        .build()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A container spec with every kind of mount and limit.
    pub(crate) fn sample() -> RunSpec {
        RunSpec {
            args: vec!["sh".into(), "-c".into(), "true".into()],
            env: vec!["PATH=/bin".into()],
            cwd: "/work".into(),
            uid: 1000,
            gid: 1000,
            additional_gids: vec![2000],
            hostname: "abc".into(),
            tty: true,
            readonly_rootfs: true,
            network: Network::None,
            bind_files: vec![("/tmp/hosts".into(), "/etc/hosts".into())],
            mounts: vec![
                ExtraMount {
                    kind: "tmpfs".into(),
                    source: PathBuf::new(),
                    destination: "/cache".into(),
                    readonly: false,
                    options: vec!["size=1m".into()],
                },
                ExtraMount {
                    kind: "bind".into(),
                    source: "/srv/ctx".into(),
                    destination: "/ctx".into(),
                    readonly: true,
                    options: vec![],
                },
            ],
            shm_size: 64 << 20,
            cgroup_path: "/berth/x".into(),
            resources: Resources {
                memory: 1 << 20,
                memory_swap: 2 << 20,
                cpu_quota: 50_000,
                cpu_period: 100_000,
                cpu_shares: 512,
                pids_limit: Some(10),
            },
            init: Some("/usr/bin/berth".into()),
            rootfs_propagation: None,
            capabilities: DEFAULT_CAPS.to_vec(),
            seccomp: None,
            no_new_privileges: false,
            writable_cgroups: false,
            masked_paths: None,
            readonly_paths: None,
            privileged: false,
            apparmor_profile: None,
            devices: vec![crate::devices::Device {
                path: "/dev/mynull".into(),
                kind: crate::devices::NodeKind::Char,
                major: 1,
                minor: 3,
                file_mode: 0o666,
                uid: 0,
                gid: 5,
            }],
            device_rules: vec!["c 1:3 r".parse().unwrap(), "b 8:* rwm".parse().unwrap()],
            sysctls: [("kernel.shmmax".to_string(), "65536".to_string())].into(),
            rlimits: vec![
                oci_spec::runtime::PosixRlimitBuilder::default()
                    .typ(oci_spec::runtime::PosixRlimitType::RlimitNofile)
                    .soft(1024u64)
                    .hard(2048u64)
                    .build()
                    .unwrap(),
            ],
            oom_score_adj: Some(500),
            userns: None,
            userns_path: None,
            shared: Default::default(),
        }
    }

    /// Written as JSON and read back, as a runtime reads `config.json`.
    fn round_trip(spec: &RunSpec) -> Spec {
        let json = serde_json::to_vec(&spec.to_spec().unwrap()).unwrap();
        serde_json::from_slice(&json).unwrap()
    }

    #[test]
    fn the_spec_parses_back_as_oci() {
        let spec = round_trip(&sample());
        assert_eq!(spec.version(), "1.0.2");
        assert_eq!(spec.hostname().as_deref(), Some("abc"));
        let root = spec.root().as_ref().unwrap();
        assert_eq!(
            (root.path().as_path(), root.readonly()),
            (Path::new("rootfs"), Some(true))
        );

        let p = spec.process().as_ref().unwrap();
        assert_eq!(
            p.args().as_deref().unwrap(),
            [INIT_PATH, "--", "sh", "-c", "true"],
            "--init runs the command under the init"
        );
        assert_eq!(p.env().as_deref().unwrap(), ["PATH=/bin"]);
        assert_eq!(p.cwd(), Path::new("/work"));
        assert_eq!(p.terminal(), Some(true));
        assert_eq!(
            (
                p.user().uid(),
                p.user().gid(),
                p.user().additional_gids().as_deref()
            ),
            (1000, 1000, Some(&[2000u32][..]))
        );
        assert_eq!(p.oom_score_adj(), Some(500));
        let rlimits = p.rlimits().as_deref().unwrap();
        assert_eq!(
            (rlimits[0].typ(), rlimits[0].soft(), rlimits[0].hard()),
            (oci_spec::runtime::PosixRlimitType::RlimitNofile, 1024, 2048)
        );
        let caps = p.capabilities().as_ref().unwrap();
        let want: Capabilities = DEFAULT_CAPS.iter().copied().collect();
        for set in [caps.bounding(), caps.effective(), caps.permitted()] {
            assert_eq!(set.as_ref(), Some(&want));
        }

        let mounts: Vec<(String, String, String, Vec<String>)> = spec
            .mounts()
            .iter()
            .flatten()
            .map(|m| {
                (
                    m.destination().display().to_string(),
                    m.typ().clone().unwrap(),
                    m.source().as_ref().unwrap().display().to_string(),
                    m.options().clone().unwrap(),
                )
            })
            .collect();
        let m = |d: &str, t: &str, s: &str, o: &[&str]| {
            (
                d.to_string(),
                t.to_string(),
                s.to_string(),
                o.iter().map(|o| o.to_string()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            mounts,
            [
                m("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
                m(
                    "/dev",
                    "tmpfs",
                    "tmpfs",
                    &["nosuid", "strictatime", "mode=755", "size=65536k"]
                ),
                m(
                    "/dev/pts",
                    "devpts",
                    "devpts",
                    &[
                        "nosuid",
                        "noexec",
                        "newinstance",
                        "ptmxmode=0666",
                        "mode=0620",
                        "gid=5"
                    ]
                ),
                m(
                    "/sys",
                    "sysfs",
                    "sysfs",
                    &["nosuid", "noexec", "nodev", "ro"]
                ),
                m(
                    "/sys/fs/cgroup",
                    "cgroup",
                    "cgroup",
                    &["ro", "nosuid", "noexec", "nodev"]
                ),
                m(
                    "/dev/mqueue",
                    "mqueue",
                    "mqueue",
                    &["nosuid", "noexec", "nodev"]
                ),
                m(
                    "/dev/shm",
                    "tmpfs",
                    "shm",
                    &["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"]
                ),
                m(INIT_PATH, "bind", "/usr/bin/berth", &["bind", "ro"]),
                m("/etc/hosts", "bind", "/tmp/hosts", &["rbind", "rprivate"]),
                m("/cache", "tmpfs", "tmpfs", &["nosuid", "nodev", "size=1m"]),
                m("/ctx", "bind", "/srv/ctx", &["rbind", "rprivate", "ro"]),
            ]
        );

        let linux = spec.linux().as_ref().unwrap();
        assert_eq!(linux.cgroups_path().as_deref(), Some(Path::new("/berth/x")));
        let sysctl = linux.sysctl().as_ref().unwrap();
        assert_eq!(
            sysctl.get("kernel.shmmax").map(String::as_str),
            Some("65536")
        );
        let mut namespaces: Vec<LinuxNamespaceType> = linux
            .namespaces()
            .iter()
            .flatten()
            .map(|n| n.typ())
            .collect();
        let cgroup_ns = namespaces.last() == Some(&LinuxNamespaceType::Cgroup);
        assert_eq!(
            cgroup_ns,
            crate::cgroup::is_unified(),
            "a cgroup namespace on v2 only"
        );
        if cgroup_ns {
            namespaces.pop();
        }
        assert_eq!(
            namespaces,
            [
                LinuxNamespaceType::Pid,
                LinuxNamespaceType::Ipc,
                LinuxNamespaceType::Uts,
                LinuxNamespaceType::Mount,
                LinuxNamespaceType::Network,
            ]
        );
        let masked = linux.masked_paths().as_deref().unwrap();
        assert_eq!(&masked[..MASKED.len()], MASKED);
        assert!(masked.contains(&"/proc/interrupts".to_string()));
        let readonly = linux.readonly_paths().as_deref().unwrap();
        assert_eq!(readonly, READONLY, "no read-only bind over the hierarchies");

        let nodes = serde_json::to_value(linux.devices()).unwrap();
        assert_eq!(
            nodes,
            serde_json::json!([{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3,
                "fileMode": 0o666, "uid": 0, "gid": 5}])
        );
        let r = linux.resources().as_ref().unwrap();
        let rules: Vec<String> = r
            .devices()
            .iter()
            .flatten()
            .map(|d| format!("{}{d}", if d.allow() { "+" } else { "-" }))
            .collect();
        assert_eq!(
            rules,
            [
                "-a *:* rwm",
                "+c 1:5 rwm",
                "+c 1:3 rwm",
                "+c 1:9 rwm",
                "+c 1:8 rwm",
                "+c 5:0 rwm",
                "+c 5:1 rwm",
                "-c 10:229 rwm",
                "+c 1:3 r",
                "+b 8:* rwm",
            ],
            "Docker's defaults, then the container's"
        );
        let memory = r.memory().as_ref().unwrap();
        assert_eq!(memory.limit(), Some(1 << 20));
        let swap = crate::cgroup::controllers().swap.then_some(2 << 20);
        assert_eq!(memory.swap(), swap, "swap only where it is accounted");
        let cpu = r.cpu().as_ref().unwrap();
        assert_eq!(
            (cpu.shares(), cpu.quota(), cpu.period()),
            (Some(512), Some(50_000), Some(100_000))
        );
        assert_eq!(r.pids().as_ref().unwrap().limit(), 10);
    }

    #[test]
    fn oci_specs_defaults_stay_out() {
        let spec = RunSpec {
            init: None,
            rootfs_propagation: None,
            mounts: vec![],
            resources: Resources::default(),
            network: Network::Host,
            devices: vec![],
            device_rules: vec![],
            sysctls: Default::default(),
            rlimits: vec![],
            oom_score_adj: None,
            ..sample()
        };
        let json = serde_json::to_value(spec.to_spec().unwrap()).unwrap();
        let p = &json["process"];
        assert!(p.get("noNewPrivileges").is_none(), "unset, not false: {p}");
        assert!(p.get("rlimits").is_none(), "{p}");
        assert!(p.get("oomScoreAdj").is_none(), "{p}");
        assert!(json["linux"].get("sysctl").is_none(), "{json}");
        assert!(p["capabilities"].get("inheritable").is_none(), "{p}");
        assert!(p["capabilities"].get("ambient").is_none(), "{p}");
        assert!(json.get("annotations").is_none());
        assert_eq!(p["args"], serde_json::json!(["sh", "-c", "true"]));
        let r = json["linux"]["resources"].as_object().unwrap();
        assert_eq!(
            r.keys().collect::<Vec<_>>(),
            ["devices"],
            "no limits asked, none set"
        );
        assert_eq!(r["devices"].as_array().unwrap().len(), 8, "Docker's rules");
        assert!(json["linux"].get("devices").is_none(), "no nodes asked");
        let spec = round_trip(&spec);
        assert!(
            !spec
                .linux()
                .as_ref()
                .unwrap()
                .namespaces()
                .iter()
                .flatten()
                .any(|n| n.typ() == LinuxNamespaceType::Network),
            "the host's network"
        );
    }

    #[test]
    fn a_prepared_network_namespace_is_joined_by_path() {
        let spec = RunSpec {
            network: Network::Join("/run/berth/netns/abc".into()),
            ..sample()
        };
        let spec = round_trip(&spec);
        let ns: Vec<_> = spec
            .linux()
            .as_ref()
            .unwrap()
            .namespaces()
            .iter()
            .flatten()
            .filter(|n| n.typ() == LinuxNamespaceType::Network)
            .collect();
        assert_eq!(ns.len(), 1);
        assert_eq!(
            ns[0].path().as_deref(),
            Some(std::path::Path::new("/run/berth/netns/abc"))
        );
    }

    #[test]
    fn a_privileged_spec_opens_sys_paths_and_devices() {
        let spec = RunSpec {
            privileged: true,
            writable_cgroups: true,
            masked_paths: Some(vec![]),
            readonly_paths: Some(vec![]),
            ..sample()
        };
        let spec = round_trip(&spec);
        let linux = spec.linux().as_ref().unwrap();
        assert_eq!(linux.masked_paths().as_deref(), Some(&[][..]));
        assert_eq!(linux.readonly_paths().as_deref(), Some(&[][..]));
        let devices = linux
            .resources()
            .as_ref()
            .unwrap()
            .devices()
            .as_ref()
            .unwrap();
        assert!(devices[0].allow() && devices[0].typ().is_none());
        for target in ["/sys", "/sys/fs/cgroup"] {
            let m = spec.mounts().as_ref().unwrap();
            let m = m
                .iter()
                .find(|m| m.destination() == Path::new(target))
                .unwrap();
            let options = m.options().as_ref().unwrap();
            assert!(options.contains(&"rw".to_string()), "{target}: {options:?}");
        }
    }
}
