//! The smaller pieces of a service: ports, networks, dependencies, healthcheck, logging,
//! ulimits, env files, restart policy, and the decoders of `command` and `extra_hosts`.

use std::fmt;
use std::str::FromStr;

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::lenient::{self, Loose};
use super::shellwords;
use super::units::Duration;

pub use super::build::Build;
pub use super::mounts::{
    BindOptions, Device, FileRef, Mount, MountKind, TmpfsOptions, VolumeOptions,
};

/// One published or exposed port, long form (a range in short form is one entry per port).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Port {
    /// `name`.
    #[serde(default)]
    pub name: Option<String>,
    /// `mode`: `ingress` (compose's default) or `host`.
    #[serde(default = "ingress")]
    pub mode: String,
    /// `host_ip`.
    #[serde(default)]
    pub host_ip: Option<String>,
    /// `target`: the container's port.
    #[serde(deserialize_with = "lenient::num")]
    pub target: u16,
    /// `published`: the host's port or range (`"8080"`, `"8000-8010"`); `None` = any free port.
    #[serde(default, deserialize_with = "opt_text")]
    pub published: Option<String>,
    /// `protocol`: `tcp` (default), `udp`, `sctp`.
    #[serde(default = "tcp")]
    pub protocol: String,
    /// `app_protocol` (informative).
    #[serde(default)]
    pub app_protocol: Option<String>,
}

fn ingress() -> String {
    "ingress".into()
}

fn tcp() -> String {
    "tcp".into()
}

/// A scalar of any kind as optional text.
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Loose>::deserialize(d)?.map(|l| l.0))
}

/// A service's attachment to one network (`services.*.networks.<name>`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceNetwork {
    /// `aliases`: more DNS names on this network.
    #[serde(default, deserialize_with = "lenient::text_list")]
    pub aliases: Vec<String>,
    /// `ipv4_address`.
    #[serde(default)]
    pub ipv4_address: Option<String>,
    /// `ipv6_address`.
    #[serde(default)]
    pub ipv6_address: Option<String>,
    /// `mac_address`.
    #[serde(default)]
    pub mac_address: Option<String>,
    /// `priority`: networks are connected in decreasing priority.
    #[serde(default, deserialize_with = "lenient::num")]
    pub priority: i64,
    /// `gw_priority`: the network with the highest one gives the default route.
    #[serde(default, deserialize_with = "lenient::num")]
    pub gw_priority: i64,
}

/// One entry of `depends_on`, long form.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    /// `condition` (default `service_started`).
    #[serde(default)]
    pub condition: Condition,
    /// `restart`: restart this service when the dependency is restarted by compose.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub restart: bool,
    /// `required` (default true): a missing or disabled dependency is an error, else a warning.
    #[serde(default = "yes", deserialize_with = "lenient::bool")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

/// What a dependency must reach before the dependent starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Its containers are started.
    #[default]
    ServiceStarted,
    /// Its containers are healthy.
    ServiceHealthy,
    /// Its containers exited with status 0.
    ServiceCompletedSuccessfully,
}

impl Condition {
    /// The name compose writes.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::ServiceStarted => "service_started",
            Condition::ServiceHealthy => "service_healthy",
            Condition::ServiceCompletedSuccessfully => "service_completed_successfully",
        }
    }
}

/// `healthcheck`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Healthcheck {
    /// `test`: `["CMD", ...]`, `["CMD-SHELL", "..."]` or `["NONE"]`; a string is `CMD-SHELL`.
    #[serde(default, deserialize_with = "health_test")]
    pub test: Option<Vec<String>>,
    /// `interval`.
    #[serde(default)]
    pub interval: Option<Duration>,
    /// `timeout`.
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// `retries`.
    #[serde(default, deserialize_with = "lenient::opt_num")]
    pub retries: Option<u64>,
    /// `start_period`.
    #[serde(default)]
    pub start_period: Option<Duration>,
    /// `start_interval`.
    #[serde(default)]
    pub start_interval: Option<Duration>,
    /// `disable`: turn off the image's healthcheck.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub disable: bool,
}

/// `logging`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logging {
    /// `driver` (`json-file`, `local`, `none`, ...).
    #[serde(default)]
    pub driver: Option<String>,
    /// `options`.
    #[serde(default, deserialize_with = "lenient::text_map")]
    pub options: IndexMap<String, String>,
}

/// One of `ulimits`, long form (`nofile: 1024` is soft = hard = 1024).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ulimit {
    /// `soft`.
    #[serde(deserialize_with = "lenient::num")]
    pub soft: i64,
    /// `hard`.
    #[serde(deserialize_with = "lenient::num")]
    pub hard: i64,
}

/// One of `env_file`, long form.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvFile {
    /// `path`.
    pub path: String,
    /// `required` (default true): a missing file is an error, else skipped.
    #[serde(default = "yes", deserialize_with = "lenient::bool")]
    pub required: bool,
    /// `format` (only the default dotenv format is known).
    #[serde(default)]
    pub format: Option<String>,
}

/// `restart`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Restart {
    /// `no`.
    No,
    /// `always`.
    Always,
    /// `on-failure`, with at most this many restarts.
    OnFailure(Option<u32>),
    /// `unless-stopped`.
    UnlessStopped,
}

impl FromStr for Restart {
    type Err = String;

    fn from_str(s: &str) -> Result<Restart, String> {
        match s {
            "no" | "false" => Ok(Restart::No),
            "always" => Ok(Restart::Always),
            "unless-stopped" => Ok(Restart::UnlessStopped),
            "on-failure" => Ok(Restart::OnFailure(None)),
            _ => match s.strip_prefix("on-failure:").map(str::parse) {
                Some(Ok(n)) => Ok(Restart::OnFailure(Some(n))),
                _ => Err(format!("invalid restart policy '{s}'")),
            },
        }
    }
}

impl fmt::Display for Restart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Restart::No => f.write_str("no"),
            Restart::Always => f.write_str("always"),
            Restart::UnlessStopped => f.write_str("unless-stopped"),
            Restart::OnFailure(None) => f.write_str("on-failure"),
            Restart::OnFailure(Some(n)) => write!(f, "on-failure:{n}"),
        }
    }
}

impl<'de> Deserialize<'de> for Restart {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::scalar_text(d)?.parse().map_err(de::Error::custom)
    }
}

/// A string or a list of strings (the list's items may be any scalar, kept as text).
enum StringOrList {
    List(Vec<Loose>),
    One(Loose),
}

impl<'de> Deserialize<'de> for StringOrList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StringOrListVisitor)
    }
}

struct StringOrListVisitor;

impl<'de> de::Visitor<'de> for StringOrListVisitor {
    type Value = StringOrList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a list of strings")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<StringOrList, E> {
        Ok(StringOrList::One(Loose(v.to_owned())))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<StringOrList, E> {
        Ok(StringOrList::One(Loose(v.to_string())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<StringOrList, E> {
        Ok(StringOrList::One(Loose(v.to_string())))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<StringOrList, E> {
        Ok(StringOrList::One(Loose(v.to_string())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<StringOrList, E> {
        Ok(StringOrList::One(Loose(v.to_string())))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<StringOrList, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Loose>()? {
            items.push(item);
        }
        Ok(StringOrList::List(items))
    }
}

/// `command`/`entrypoint`: a list as is, a string split with shell-words rules; `null` = unset.
pub fn command<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    match Option::<StringOrList>::deserialize(d)? {
        None => Ok(None),
        Some(StringOrList::List(l)) => Ok(Some(l.into_iter().map(|l| l.0).collect())),
        Some(StringOrList::One(s)) => shellwords::split(&s.0).map(Some).map_err(de::Error::custom),
    }
}

/// `healthcheck.test`: a list as is, a string is `["CMD-SHELL", string]`.
fn health_test<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    match Option::<StringOrList>::deserialize(d)? {
        None => Ok(None),
        Some(StringOrList::List(l)) => Ok(Some(l.into_iter().map(|l| l.0).collect())),
        Some(StringOrList::One(s)) => Ok(Some(vec!["CMD-SHELL".into(), s.0])),
    }
}

/// `extra_hosts` (long form, a map): host → one address or a list; brackets around IPv6
/// addresses dropped, as compose-go does.
pub fn hosts<'de, D: Deserializer<'de>>(d: D) -> Result<IndexMap<String, Vec<String>>, D::Error> {
    let m = IndexMap::<String, Option<StringOrList>>::deserialize(d)?;
    let mut out = IndexMap::new();
    for (host, ips) in m {
        if host.is_empty() || host.contains([':', '=']) {
            return Err(de::Error::custom(format!("bad host name '{host}'")));
        }
        let ips: Vec<String> = match ips {
            None => vec![String::new()],
            Some(StringOrList::One(ip)) => vec![ip.0],
            Some(StringOrList::List(l)) => l.into_iter().map(|l| l.0).collect(),
        };
        let ips = ips
            .into_iter()
            .map(|ip| unbracket(&ip).to_owned())
            .collect();
        out.insert(host, ips);
    }
    Ok(out)
}

fn unbracket(ip: &str) -> &str {
    match ip.strip_prefix('[').and_then(|i| i.strip_suffix(']')) {
        Some(inner) if !inner.is_empty() => inner,
        _ => ip,
    }
}
