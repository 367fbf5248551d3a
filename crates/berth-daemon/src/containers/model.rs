//! berth's own description of a container and of an exec: what the container service and the
//! store work on. Docker's JSON is turned into these once, at the HTTP edge (`crate::wire`), and
//! back for inspect; nothing below the edge sees a Docker request. Records store this form
//! (`record.rs`), so its serde names are berth's and change only with a schema version.

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth_image::RunConfig;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A container as asked for. Before create, the fields an image can default are `None` or
/// empty when the client left them unset; [`Spec::with_image_defaults`] fills them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Spec {
    /// The image as the client named it.
    pub image: String,
    /// The platform asked for (`?platform=`); `None`: the host's, or the image's only one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<berth_image::Platform>,
    /// `None`: the image's. `Some([])`: none (`--entrypoint ""`).
    pub entrypoint: Option<Vec<String>>,
    /// `None` or empty: the image's (unless an entrypoint was given).
    pub cmd: Option<Vec<String>>,
    /// `KEY=value` entries, the image's first.
    pub env: Vec<String>,
    /// Absolute; empty means `/` (or the image's before the merge).
    pub working_dir: String,
    /// `user[:group]`; empty means root (or the image's before the merge).
    pub user: String,
    /// `--group-add`: further groups, names in the container's `/etc/group` or GIDs, as given.
    pub group_add: Option<Vec<String>>,
    /// Empty before the merge: the ID's first 12 digits.
    pub hostname: String,
    /// NIS domain name.
    pub domainname: String,
    /// The image's labels, then the client's.
    pub labels: BTreeMap<String, String>,
    /// Terminal and standard streams.
    pub stdio: Stdio,
    /// Signal `stop` sends first.
    pub stop_signal: Option<String>,
    /// Seconds `stop` waits before SIGKILL.
    pub stop_timeout: Option<i64>,
    /// `80/tcp`-style ports the image or client declared (metadata only for now).
    pub exposed_ports: Option<Vec<String>>,
    /// Paths the image declared as volumes (metadata only until volumes land).
    pub volumes: Option<Vec<String>>,
    /// The image's ONBUILD triggers, shown by inspect.
    pub on_build: Option<Vec<String>>,
    /// The shell for shell-form commands.
    pub shell: Option<Vec<String>>,
    /// Where the container's network comes from.
    pub network: NetworkMode,
    /// Its networks, name servers, hosts and published ports.
    pub net: super::netspec::NetSpec,
    /// What happens when it exits.
    pub restart: RestartPolicy,
    /// Cgroup limits.
    pub resources: Resources,
    /// Mounts over the image's filesystem, in the order Docker gives them precedence.
    pub mounts: Vec<MountSpec>,
    /// `--volumes-from`: containers whose mounts this one gets too (resolved at create).
    pub volumes_from: Vec<VolumesFrom>,
    /// The driver of volumes made for the container (`--volume-driver`); empty is `local`.
    pub volume_driver: String,
    /// Run berth's init as PID 1: `None` is the daemon's default (off).
    pub init: Option<bool>,
    /// Removed once it exits.
    pub auto_remove: bool,
    /// Read-only root filesystem.
    pub readonly_rootfs: bool,
    /// Size of `/dev/shm` in bytes; 0 means Docker's 64 MiB.
    pub shm_size: i64,
    /// `[height, width]` of the terminal at start.
    pub console_size: Option<[u32; 2]>,
    /// The OCI runtime's name; empty means the daemon's default.
    pub runtime: String,
    /// Confinement beyond the namespaces: seccomp, no_new_privs.
    pub security: super::security::Security,
    /// Host devices (`--device`); `None` when the client sent none (inspect shows null).
    pub devices: Option<Vec<super::devices::DeviceMapping>>,
    /// `--device-cgroup-rule`s, checked, as given.
    pub device_cgroup_rules: Option<Vec<String>>,
    /// Kernel parameters, rlimits and OOM score.
    pub limits: super::limits::Limits,
    /// Cgroup settings beyond `resources`: parent, cpusets, block I/O, ...
    pub cgroup: super::resources::Cgroup,
    /// Its healthcheck (the image's merged in at create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<berth_image::config::HealthConfig>,
    /// The PID, IPC, UTS and cgroup namespaces it shares (`namespaces.rs`).
    pub namespaces: super::namespaces::Namespaces,
    /// The log driver and its options.
    pub log: super::logging::LogSpec,
}

/// Terminal and standard streams of a container or an exec.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stdio {
    /// The client attaches to stdin.
    pub attach_stdin: bool,
    /// The client attaches to stdout.
    pub attach_stdout: bool,
    /// The client attaches to stderr.
    pub attach_stderr: bool,
    /// A terminal is allocated.
    pub tty: bool,
    /// Stdin stays open without a client.
    pub open_stdin: bool,
    /// Stdin closes when the first client leaves.
    pub stdin_once: bool,
}

/// The container's network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkMode {
    /// Its own namespace with only loopback.
    #[default]
    None,
    /// The host's namespace.
    Host,
    /// The network namespace of another container (`container:<id>`).
    Container {
        /// Docker's mode string, `container:<full ID>`.
        mode: String,
        /// The other container's ID (as given until create resolves it).
        id: String,
    },
    /// A bridge network of the network service.
    Network {
        /// The network's ID (resolved at create).
        id: String,
        /// The network as the client named it, which inspect shows.
        name: String,
    },
}

impl NetworkMode {
    /// Docker's name of the mode (`HostConfig.NetworkMode`).
    pub fn as_str(&self) -> &str {
        match self {
            NetworkMode::None => "none",
            NetworkMode::Host => "host",
            NetworkMode::Container { mode, .. } => mode,
            NetworkMode::Network { name, .. } => name,
        }
    }
}

/// Docker's restart policies; only `No` is honoured until restart policies land.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestartPolicy {
    /// Never restarted.
    #[default]
    No,
    /// Restarted after a non-zero exit, at most `max_retries` times (0: no limit).
    OnFailure {
        /// The limit.
        max_retries: u32,
    },
    /// Always restarted.
    Always,
    /// Restarted unless a user stopped it.
    UnlessStopped,
}

/// Cgroup limits; 0 or `None` means no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Resources {
    /// Memory limit in bytes.
    pub memory: i64,
    /// Memory plus swap in bytes; -1 unlimited, 0 twice `memory`.
    pub memory_swap: i64,
    /// CPUs in billionths (`--cpus`).
    pub nano_cpus: i64,
    /// Relative CPU weight.
    pub cpu_shares: i64,
    /// CFS period in microseconds.
    pub cpu_period: i64,
    /// CFS quota in microseconds.
    pub cpu_quota: i64,
    /// Maximum number of tasks.
    pub pids_limit: Option<i64>,
}

/// A mount over the container's filesystem, resolved at create (an anonymous volume has its
/// name by then).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountSpec {
    /// What is mounted.
    pub kind: MountKind,
    /// Absolute path in the container.
    pub target: String,
    /// Mounted read-only.
    pub readonly: bool,
    /// Further options (`size=`, `mode=` for tmpfs).
    pub options: Vec<String>,
    /// How the client asked for it, for inspect.
    #[serde(default)]
    pub origin: MountOrigin,
}

impl From<&berth_runtime::ExtraMount> for MountSpec {
    /// The spec form of a runtime mount (a build step's `RUN --mount`, or a schema-1 record's).
    fn from(m: &berth_runtime::ExtraMount) -> Self {
        MountSpec {
            kind: match m.kind.as_str() {
                "bind" => MountKind::Bind {
                    source: m.source.clone(),
                    propagation: Propagation::default(),
                    nonrecursive: false,
                },
                _ => MountKind::Tmpfs,
            },
            target: m.destination.clone(),
            readonly: m.readonly,
            options: m.options.clone(),
            origin: MountOrigin::Build,
        }
    }
}

/// The source of a [`MountSpec`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MountKind {
    /// A host path.
    Bind {
        /// The host path.
        source: PathBuf,
        /// Propagation of mounts below it.
        #[serde(default)]
        propagation: Propagation,
        /// Only the path itself, not the mounts below it.
        #[serde(default)]
        nonrecursive: bool,
    },
    /// A volume of the volume service.
    Volume {
        /// Its name.
        name: String,
        /// Made for this container (`-v /path`, an image `VOLUME`): removed with `rm -v`.
        #[serde(default)]
        anonymous: bool,
        /// Do not fill a new volume with the image's content at the target.
        #[serde(default)]
        no_copy: bool,
    },
    /// A fresh tmpfs.
    Tmpfs,
}

/// Mount propagation of a bind mount, Docker's names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Propagation {
    /// `rprivate`, Docker's default.
    #[default]
    Rprivate,
    /// `private`.
    Private,
    /// `rshared`.
    Rshared,
    /// `shared`.
    Shared,
    /// `rslave`.
    Rslave,
    /// `slave`.
    Slave,
}

impl Propagation {
    /// Docker's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Propagation::Rprivate => "rprivate",
            Propagation::Private => "private",
            Propagation::Rshared => "rshared",
            Propagation::Shared => "shared",
            Propagation::Rslave => "rslave",
            Propagation::Slave => "slave",
        }
    }

    /// The propagation Docker calls `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "rprivate" => Propagation::Rprivate,
            "private" => Propagation::Private,
            "rshared" => Propagation::Rshared,
            "shared" => Propagation::Shared,
            "rslave" => Propagation::Rslave,
            "slave" => Propagation::Slave,
            _ => return None,
        })
    }
}

/// How a mount was asked for; inspect shows `HostConfig.Binds`, `Mounts` and `Tmpfs` from it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MountOrigin {
    /// A build step's `RUN --mount`.
    #[default]
    Build,
    /// A `-v` string (`HostConfig.Binds`), kept as given; `mode` is its options part.
    Bind {
        /// The string.
        spec: String,
        /// What follows the target (`ro,z`), Docker's `Mode`.
        mode: String,
    },
    /// An entry of `HostConfig.Mounts`, with the volume options that are not part of the kind.
    Mount {
        /// `VolumeOptions.Labels`.
        labels: BTreeMap<String, String>,
        /// `VolumeOptions.DriverConfig`: the driver and its options.
        driver: Option<(String, BTreeMap<String, String>)>,
    },
    /// An entry of `HostConfig.Tmpfs`: its options string.
    Tmpfs(String),
    /// Inherited with `--volumes-from` from the container named.
    VolumesFrom(String),
    /// An image's `VOLUME`, or a `Config.Volumes` path.
    Image,
}

/// Go's `path.Clean` of a path inside a container: absolute, no `.`, `..` or doubled `/`.
pub fn clean(p: &str) -> String {
    format!("/{}", berth_core::path::clean(p))
}

/// A `--volumes-from` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumesFrom {
    /// The container, as named.
    pub container: String,
    /// `:ro`: its mounts are read-only here.
    pub readonly: bool,
    /// The entry as given, for inspect.
    pub spec: String,
}

/// A process to start in a running container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecSpec {
    /// The command; never empty.
    pub cmd: Vec<String>,
    /// `KEY=value` entries added to the container's.
    pub env: Vec<String>,
    /// `user[:group]`; empty means the container's.
    pub user: String,
    /// Empty means the container's.
    pub working_dir: String,
    /// Terminal and streams (`open_stdin` is `attach_stdin` for an exec).
    pub stdio: Stdio,
    /// Keys that detach a client (kept for inspect).
    pub detach_keys: String,
    /// Every capability the daemon holds, whatever the container's.
    pub privileged: bool,
    /// `(height, width)` of the terminal at start.
    pub console_size: Option<(u16, u16)>,
}

impl Spec {
    /// Fills what the client left unset from the image, as Docker does, and returns the
    /// effective spec with the command split into path and args.
    pub fn with_image_defaults(
        mut self,
        id: &str,
        image: &RunConfig,
    ) -> Result<(Spec, String, Vec<String>)> {
        let mut env = image.env.clone().unwrap_or_default();
        berth_image::config::merge_env(&mut env, &self.env);
        self.env = env;
        // An entrypoint given at create time discards the image's cmd as well.
        let (entrypoint, cmd) = match self.entrypoint.take() {
            Some(ep) => (ep, self.cmd.take().unwrap_or_default()),
            None => {
                let cmd = match self.cmd.take() {
                    Some(cmd) if !cmd.is_empty() => cmd,
                    _ => image.cmd.clone().unwrap_or_default(),
                };
                (image.entrypoint.clone().unwrap_or_default(), cmd)
            }
        };
        let argv: Vec<String> = entrypoint.iter().chain(&cmd).cloned().collect();
        let Some((path, args)) = argv.split_first() else {
            return Err(Error::invalid("No command specified"));
        };
        let (path, args) = (path.clone(), args.to_vec());
        self.entrypoint = (!entrypoint.is_empty()).then_some(entrypoint);
        self.cmd = (!cmd.is_empty()).then_some(cmd);
        if self.working_dir.is_empty() {
            self.working_dir = image.working_dir.clone();
        }
        if !self.working_dir.is_empty() && !self.working_dir.starts_with('/') {
            return Err(Error::invalid(format!(
                "the working directory '{}' is invalid, it needs to be an absolute path",
                self.working_dir
            )));
        }
        if self.user.is_empty() {
            self.user = image.user.clone();
        }
        self.healthcheck = berth_image::config::HealthConfig::merged(
            self.healthcheck.as_ref(),
            image.healthcheck.as_ref(),
        );
        let mut labels = image.labels.clone().unwrap_or_default();
        labels.append(&mut self.labels);
        self.labels = labels;
        if self.stop_signal.is_none() {
            self.stop_signal = image.stop_signal.clone();
        }
        if self.hostname.is_empty() {
            // On the host's network the host's name, in inspect and `$HOSTNAME` too (Docker's).
            self.hostname = match self.network {
                NetworkMode::Host => super::spec::host_name(),
                _ => id[..12].to_string(),
            };
        }
        let keys =
            |m: &Option<BTreeMap<String, _>>| m.as_ref().map(|m| m.keys().cloned().collect());
        if self.exposed_ports.is_none() {
            self.exposed_ports = keys(&image.exposed_ports);
        }
        // The client's volumes and the image's together, as Docker merges them.
        self.volumes = match (self.volumes.take(), keys(&image.volumes)) {
            (Some(mut own), Some(image)) => {
                for v in image {
                    if !own.contains(&v) {
                        own.push(v);
                    }
                }
                Some(own)
            }
            (own, image) => own.or(image),
        };
        if self.on_build.is_none() {
            self.on_build = image.on_build.clone();
        }
        Ok((self, path, args))
    }
}
