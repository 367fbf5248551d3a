//! Daemon settings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use berth_runtime::runtime::RuntimeConfig;

/// Where the daemon keeps things.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// Persistent state (`/var/lib/berth`).
    pub root: PathBuf,
    /// Runtime state: monitor sockets, the OCI runtimes' state (`/run/berth`). Kept short: unix
    /// socket paths are limited to 108 bytes.
    pub exec_root: PathBuf,
    /// The berth binary monitors and exec helpers run as (a sealed copy: see
    /// `berth_runtime::sealed`).
    pub exe: PathBuf,
    /// The berth binary on disk, bind-mounted read-only as the init of `--init` containers.
    pub init_binary: PathBuf,
    /// The OCI runtimes containers can run with.
    pub runtimes: Runtimes,
    /// Networking: the default bridge and the address pools.
    pub network: NetworkConfig,
    /// What `/info` warns of the API's own listeners (TCP without TLS or without client
    /// verification), in dockerd's words.
    pub api_warnings: Vec<String>,
    /// Confinement defaults of containers.
    pub security: SecurityConfig,
    /// The options SIGHUP may change, as the daemon starts with them.
    pub live: crate::reload::Reloadable,
    /// The log driver and options of containers that name none.
    pub logging: LoggingConfig,
    /// The daemon's defaults for containers (`default-ulimits`, `default-shm-size`, ...).
    pub defaults: crate::defaults::ContainerDefaults,
    /// Registry mirrors, insecure registries, transfer concurrency.
    pub registry: crate::images::RegistryConfig,
}

/// dockerd's `--log-driver` and `--log-opt` (daemon.json `log-driver`, `log-opts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggingConfig {
    /// The driver of containers that name none.
    pub driver: String,
    /// Options of that driver, under those a container gives.
    pub opts: BTreeMap<String, String>,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig {
            driver: "json-file".into(),
            opts: BTreeMap::new(),
        }
    }
}

impl LoggingConfig {
    /// `--log-driver` and the `--log-opt KEY=VALUE`s, checked as dockerd checks them.
    pub fn new(driver: &str, opts: &[String]) -> Result<LoggingConfig, crate::Error> {
        let mut map = BTreeMap::new();
        for o in opts {
            let (k, v) = o.split_once('=').ok_or_else(|| {
                crate::Error::invalid(format!("invalid key/value pair format in {o}"))
            })?;
            map.insert(k.to_string(), v.to_string());
        }
        crate::containers::logging::check(driver, &map).map_err(|mut e| {
            e.message = format!("failed to set log opts: {}", e.message);
            e
        })?;
        Ok(LoggingConfig {
            driver: driver.to_string(),
            opts: map,
        })
    }
}

/// The daemon's defaults for confining containers.
#[derive(Debug, Clone, Default)]
pub struct SecurityConfig {
    /// `--seccomp-profile`: the profile of containers that name none.
    pub seccomp: DaemonSeccomp,
    /// `--no-new-privileges`: containers get `no_new_privs` unless they say otherwise.
    pub no_new_privileges: bool,
    /// `--userns-remap`: containers run in a user namespace with these maps, unless they ask
    /// for the host's (`--userns=host`).
    pub userns_remap: Option<berth_runtime::userns::Remap>,
}

/// The daemon's seccomp profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DaemonSeccomp {
    /// berth's default profile.
    #[default]
    Builtin,
    /// No filter.
    Unconfined,
    /// A profile file, read at start.
    Profile {
        /// The file, as given.
        path: PathBuf,
        /// Its content, Docker's format.
        json: String,
    },
}

impl DaemonSeccomp {
    /// `--seccomp-profile` as dockerd reads it: `builtin`, `unconfined` or a file.
    pub fn from_arg(arg: &str) -> Result<DaemonSeccomp, String> {
        Ok(match arg {
            "" | "builtin" => DaemonSeccomp::Builtin,
            "unconfined" => DaemonSeccomp::Unconfined,
            path => {
                let json = std::fs::read_to_string(path)
                    .map_err(|e| format!("opening seccomp profile ({path}) failed: {e}"))?;
                berth_runtime::seccomp::Profile::parse(&json)
                    .map_err(|e| format!("seccomp profile ({path}): {e}"))?;
                DaemonSeccomp::Profile {
                    path: path.into(),
                    json,
                }
            }
        })
    }

    /// What `info` shows as the profile: `builtin`, `unconfined` or the file.
    pub fn name(&self) -> String {
        match self {
            DaemonSeccomp::Builtin => "builtin".into(),
            DaemonSeccomp::Unconfined => "unconfined".into(),
            DaemonSeccomp::Profile { path, .. } => path.display().to_string(),
        }
    }
}

/// The daemon's networking options.
#[derive(Debug, Clone, Default)]
pub struct NetworkConfig {
    /// The default `bridge` network; `None` with `--bridge none`.
    pub bridge: Option<DefaultBridge>,
    /// `--default-address-pool`s, which replace Docker's pools.
    pub pools: Vec<berth_network::ipam::PoolConfig>,
}

/// Docker's `docker0`: berth's `berth0`, the network containers join by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultBridge {
    /// The bridge's interface name (`--bridge`).
    pub name: String,
    /// `--bip`: the bridge's address with the subnet's prefix.
    pub bip: Option<ipnet::IpNet>,
    /// `--fixed-cidr`: where container addresses come from.
    pub fixed_cidr: Option<ipnet::IpNet>,
}

impl DefaultBridge {
    /// The interface name Docker's would have: `docker0`, here `berth0`.
    pub const NAME: &str = "berth0";
}

impl NetworkConfig {
    /// The options of `berth daemon` as Docker's dockerd takes them, with its messages:
    /// `--bridge` (`none` turns the default bridge off), `--bip`, `--fixed-cidr` and
    /// `--default-address-pool base=CIDR,size=N`.
    pub fn from_args(
        bridge: &str,
        bip: Option<&str>,
        fixed_cidr: Option<&str>,
        pools: &[String],
    ) -> Result<Self, String> {
        let cidr = |flag: &str, v: &str| {
            v.parse::<ipnet::IpNet>()
                .map_err(|_| format!("invalid {flag} {v}: invalid CIDR address: {v}"))
        };
        let pools = pools.iter().map(|p| pool(p)).collect::<Result<_, _>>()?;
        if bridge == "none" {
            if bip.is_some() || fixed_cidr.is_some() {
                return Err(
                    "You specified -b & --bip, mutually exclusive options. Please specify only one"
                        .into(),
                );
            }
            return Ok(NetworkConfig {
                bridge: None,
                pools,
            });
        }
        let bip = bip.map(|b| cidr("--bip", b)).transpose()?;
        let fixed_cidr = fixed_cidr.map(|f| cidr("--fixed-cidr", f)).transpose()?;
        if let (Some(b), Some(f)) = (bip, fixed_cidr)
            && !b.trunc().contains(&f)
        {
            return Err(format!(
                "fixed-cidr {f} is not contained in the bridge's subnet {}",
                b.trunc()
            ));
        }
        if bridge.is_empty() || bridge.len() > 15 {
            return Err(format!("invalid bridge name {bridge:?}"));
        }
        Ok(NetworkConfig {
            bridge: Some(DefaultBridge {
                name: bridge.to_string(),
                bip,
                fixed_cidr,
            }),
            pools,
        })
    }
}

/// One `--default-address-pool` value: `base=172.30.0.0/16,size=24`.
fn pool(v: &str) -> Result<berth_network::ipam::PoolConfig, String> {
    let (mut base, mut size) = (None, None);
    for field in v.split(',') {
        match field.split_once('=') {
            Some(("base", b)) => base = Some(b.to_string()),
            Some(("size", n)) => {
                size = Some(
                    n.parse::<u32>()
                        .map_err(|_| format!("invalid size value: {n}"))?,
                )
            }
            _ => return Err(format!("invalid field '{field}' must be a key=value pair")),
        }
    }
    match (base, size) {
        (Some(base), Some(size)) => Ok(berth_network::ipam::PoolConfig { base, size }),
        _ => Err(format!("address pool {v} needs both base= and size=")),
    }
}

/// The OCI runtimes a container can name in `HostConfig.Runtime` (`docker run --runtime`): the
/// embedded one, [`Runtimes::EMBEDDED`], and those added with `--add-runtime NAME=PATH`. Clones
/// share one set, so that a reload ([`Runtimes::replace`]) reaches every service holding one.
#[derive(Debug, Clone, Default)]
pub struct Runtimes(Arc<RwLock<RuntimeSet>>);

#[derive(Debug, Clone)]
struct RuntimeSet {
    default: String,
    external: BTreeMap<String, PathBuf>,
}

impl Default for RuntimeSet {
    fn default() -> Self {
        RuntimeSet {
            default: Runtimes::EMBEDDED.into(),
            external: BTreeMap::new(),
        }
    }
}

impl Runtimes {
    /// The name of the embedded runtime (libcontainer), which needs no binary.
    pub const EMBEDDED: &str = "berth";

    /// The runtimes of `--add-runtime` (each `NAME=PATH`) and `--default-runtime`, checked as
    /// Docker checks them.
    pub fn new(added: &[String], default: &str) -> Result<Runtimes, crate::Error> {
        let mut external = BTreeMap::new();
        for arg in added {
            let (name, path) = arg
                .split_once('=')
                .map(|(n, p)| (n.trim(), p.trim()))
                .filter(|(n, p)| !n.is_empty() && !p.is_empty())
                .ok_or_else(|| crate::Error::invalid(format!("invalid runtime argument: {arg}")))?;
            if name == Runtimes::EMBEDDED {
                return Err(crate::Error::invalid(format!(
                    "runtime name '{name}' is reserved"
                )));
            }
            // The name becomes a directory (its state root): berth, unlike Docker, keeps it to
            // the characters of a container name.
            let mut chars = name.chars();
            let ok = |c: char| c.is_ascii_alphanumeric() || "_.-".contains(c);
            if !chars.next().is_some_and(|c| c.is_ascii_alphanumeric()) || !chars.all(ok) {
                return Err(crate::Error::invalid(format!(
                    "invalid runtime name {name}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                )));
            }
            if external
                .insert(name.to_string(), PathBuf::from(path))
                .is_some()
            {
                return Err(crate::Error::invalid(format!(
                    "runtime '{name}' was already defined"
                )));
            }
        }
        if default != Runtimes::EMBEDDED && !external.contains_key(default) {
            return Err(crate::Error::invalid(format!(
                "specified default runtime '{default}' does not exist"
            )));
        }
        Ok(Runtimes(Arc::new(RwLock::new(RuntimeSet {
            default: default.to_string(),
            external,
        }))))
    }

    fn set(&self) -> std::sync::RwLockReadGuard<'_, RuntimeSet> {
        self.0.read().expect("runtimes lock")
    }

    /// Makes `new`'s runtimes and default this set's, for every clone (SIGHUP).
    pub fn replace(&self, new: &Runtimes) {
        let new = new.set().clone();
        *self.0.write().expect("runtimes lock") = new;
    }

    /// The runtime used when a container names none.
    pub fn default_name(&self) -> String {
        self.set().default.clone()
    }

    /// The runtime called `name` (the default for `""`), if there is one.
    pub fn get(&self, name: &str) -> Option<RuntimeConfig> {
        let set = self.set();
        let name = if name.is_empty() { &set.default } else { name };
        if name == Runtimes::EMBEDDED {
            return Some(RuntimeConfig::Embedded);
        }
        set.external
            .get(name)
            .map(|path| RuntimeConfig::External { path: path.clone() })
    }

    /// Every runtime's name and binary, as `/info` lists them.
    pub fn list(&self) -> BTreeMap<String, String> {
        let mut all = BTreeMap::from([(Runtimes::EMBEDDED.to_string(), "berth".to_string())]);
        for (name, path) in &self.set().external {
            all.insert(name.clone(), path.display().to_string());
        }
        all
    }

    /// Where runtime `name` keeps its containers' state, under the daemon's `exec_root`: one
    /// directory per runtime, as each has its own state format.
    pub fn state_root(&self, exec_root: &Path, name: &str) -> PathBuf {
        let default = self.default_name();
        let name = if name.is_empty() { &default } else { name };
        if name == Runtimes::EMBEDDED {
            exec_root.join("runtime")
        } else {
            exec_root.join(format!("runtime-{name}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes_are_checked_as_docker_checks_them() {
        let r = Runtimes::new(&["runc=/usr/sbin/runc".into()], "runc").unwrap();
        assert_eq!(r.default_name(), "runc");
        assert_eq!(
            r.get(""),
            Some(RuntimeConfig::External {
                path: "/usr/sbin/runc".into()
            })
        );
        assert_eq!(r.get("berth"), Some(RuntimeConfig::Embedded));
        assert_eq!(r.get("crun"), None);
        assert_eq!(
            r.state_root(Path::new("/run/berth"), ""),
            Path::new("/run/berth/runtime-runc")
        );
        assert_eq!(
            r.state_root(Path::new("/run/berth"), "berth"),
            Path::new("/run/berth/runtime"),
            "the embedded runtime's state stays where it was"
        );
        let err = |added: &[&str], default: &str| {
            let added: Vec<String> = added.iter().map(|s| s.to_string()).collect();
            Runtimes::new(&added, default).unwrap_err().message
        };
        assert_eq!(err(&["runc"], "berth"), "invalid runtime argument: runc");
        assert_eq!(err(&["=x"], "berth"), "invalid runtime argument: =x");
        assert_eq!(
            err(&["../up=/x"], "berth"),
            "invalid runtime name ../up: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        );
        Runtimes::new(&["io.containerd.runc.v2=runc".into()], "berth").unwrap();
        assert_eq!(
            err(&["berth=/bin/true"], "berth"),
            "runtime name 'berth' is reserved"
        );
        assert_eq!(
            err(&["a=/x", "a=/y"], "berth"),
            "runtime 'a' was already defined"
        );
        assert_eq!(
            err(&[], "runc"),
            "specified default runtime 'runc' does not exist"
        );
        assert_eq!(
            Runtimes::default().list(),
            BTreeMap::from([("berth".to_string(), "berth".to_string())])
        );
    }
}
