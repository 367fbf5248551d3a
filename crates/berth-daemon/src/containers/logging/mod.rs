//! A container's log driver and options (`HostConfig.LogConfig`): Docker's merge with the
//! daemon's defaults and its checks, the files each driver writes, and the settings the
//! monitor gets.
//!
//! berth rotates json-file logs by default where Docker lets them grow: a json-file container
//! that sets neither gets `max-size=20m` and `max-file=5` (the `local` driver's figures),
//! written into its options so inspect shows what is in force. The `local` driver keeps
//! Docker's own defaults (20 MiB, 5 files, compressed), not shown, as Docker does.
//!
//! The remote drivers ([`remote`]) keep a local copy for `logs` and `attach`: Docker's
//! dual-logging cache (`local` format, `cache-*` options), or with `cache-disabled=true` only
//! the small buffer attached clients read from.

mod remote;
mod units;

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth_core::ErrorKind;
use berth_runtime::logdriver::{Format, LogSettings, Mode, journald};
use berth_runtime::logrotate::Rotation;
use serde::{Deserialize, Serialize};

use super::Record;
use super::files::Paths;
use crate::config::LoggingConfig;
use crate::error::{Error, Result};
use units::{atoi, from_human_size, parse_bool, ram_in_bytes};

/// berth's json-file defaults.
pub const DEFAULT_MAX_SIZE: &str = "20m";
/// berth's json-file defaults.
pub const DEFAULT_MAX_FILE: &str = "5";

/// The drivers Docker registers on Linux that berth does not have.
const OTHER_DOCKER_DRIVERS: &[&str] = &["gelf", "awslogs", "splunk", "gcplogs", "logentries"];

/// The drivers berth has, as `info` lists them (Plugins.Log; Docker leaves `none` out).
pub const DRIVERS: &[&str] = &["fluentd", "journald", "json-file", "local", "syslog"];

/// Options of every driver, Docker's `builtInLogOpts`: not passed to the driver's own check.
const BUILTIN_OPTS: &[&str] = &[
    "mode",
    "max-buffer-size",
    "cache-disabled",
    "cache-max-size",
    "cache-max-file",
    "cache-compress",
];

/// Docker's ring buffer size when `max-buffer-size` is not set.
const DEFAULT_MAX_BUFFER: u64 = 1_000_000;

/// What a remote driver without its cache (and `none`) keeps for attached clients.
const ATTACH_BUFFER: Rotation = Rotation {
    max_size: Some(256 * 1024),
    max_file: 2,
    compress: false,
};

/// Options every file driver takes (besides its own).
const ATTR_OPTS: &[&str] = &["labels", "labels-regex", "env", "env-regex", "tag"];

/// A container's log driver and its options, as recorded (merged with the daemon's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogSpec {
    /// `json-file`, `local` or `none`; empty in records of a berth before log drivers
    /// (json-file, without options).
    pub driver: String,
    /// The options in force.
    pub opts: BTreeMap<String, String>,
}

/// A log file and its format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    /// The current file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
}

impl LogSpec {
    /// The driver's name.
    pub fn driver(&self) -> &str {
        if self.driver.is_empty() {
            "json-file"
        } else {
            &self.driver
        }
    }

    /// Whether `logs` can read what this driver keeps.
    pub fn readable(&self) -> bool {
        self.driver() != "none" && !(self.is_remote() && self.cache_disabled())
    }

    /// A driver that sends the log away (and keeps a cache of it).
    pub fn is_remote(&self) -> bool {
        remote::DRIVERS.contains(&self.driver())
    }

    fn cache_disabled(&self) -> bool {
        self.opts
            .get("cache-disabled")
            .filter(|v| !v.is_empty())
            .is_some_and(|v| parse_bool(v).unwrap_or(true))
    }

    /// The spec of a create request's `LogConfig`, merged with the daemon's defaults as
    /// Docker merges them and checked with Docker's messages.
    pub fn merged(
        kind: &str,
        opts: Option<&BTreeMap<String, String>>,
        daemon: &LoggingConfig,
    ) -> Result<LogSpec> {
        let driver = if kind.is_empty() {
            daemon.driver.clone()
        } else {
            kind.to_string()
        };
        let mut opts = opts.cloned().unwrap_or_default();
        if driver == daemon.driver {
            for (k, v) in &daemon.opts {
                opts.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        if driver == "json-file" {
            opts.entry("max-size".into())
                .or_insert_with(|| DEFAULT_MAX_SIZE.into());
            opts.entry("max-file".into())
                .or_insert_with(|| DEFAULT_MAX_FILE.into());
        }
        check(&driver, &opts)?;
        Ok(LogSpec { driver, opts })
    }

    /// Where this driver writes (for `none`, the small buffer attached clients read from).
    pub fn file(&self, paths: &Paths) -> LogFile {
        match self.driver() {
            "local" => LogFile {
                path: paths.dir.join("local-logs").join("container.log"),
                format: Format::Local,
            },
            "none" => LogFile {
                path: paths.dir.join("attach-json.log"),
                format: Format::JsonFile,
            },
            _ if self.is_remote() && self.cache_disabled() => LogFile {
                path: paths.dir.join("attach-json.log"),
                format: Format::JsonFile,
            },
            _ if self.is_remote() => LogFile {
                path: paths.dir.join("container-cached.log"),
                format: Format::Local,
            },
            _ => LogFile {
                path: paths.log.clone(),
                format: Format::JsonFile,
            },
        }
    }
}

/// The log file of the container whose json-file log would be `json` (`Paths::log`): the
/// readers of `attach` and build steps know only that path.
pub fn file_for(json: &std::path::Path, spec: &LogSpec) -> LogFile {
    let dir = json.parent().unwrap_or(json);
    spec.file(&Paths::new(dir))
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::invalid(msg.into())
}

/// Docker's checks of a driver and its options (`logger.ValidateLogOpts` and the driver's
/// own), plus berth's refusals of what it lacks.
pub fn check(driver: &str, opts: &BTreeMap<String, String>) -> Result<()> {
    if driver == "none" {
        return Ok(());
    }
    let mode = opts.get("mode").map_or("", String::as_str);
    if !matches!(mode, "" | "blocking" | "non-blocking") {
        return Err(invalid(format!(
            "logger: logging mode not supported: {mode}"
        )));
    }
    if let Some(v) = opts.get("max-buffer-size") {
        if mode != "non-blocking" {
            return Err(invalid(
                "logger: max-buffer-size option is only supported with 'mode=non-blocking'",
            ));
        }
        ram_in_bytes(v)
            .map_err(|e| invalid(format!("error parsing option max-buffer-size: {e}")))?;
    }
    if let Some(v) = opts.get("cache-disabled").filter(|v| !v.is_empty()) {
        parse_bool(v)
            .map_err(|_| invalid(format!("invalid value for option cache-disabled: {v}")))?;
    }
    if OTHER_DOCKER_DRIVERS.contains(&driver) {
        return Err(Error::new(
            ErrorKind::NotImplemented,
            format!("berth does not support the {driver} logging driver yet"),
        ));
    }
    let own: BTreeMap<String, String> = opts
        .iter()
        .filter(|(k, _)| !BUILTIN_OPTS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if remote::DRIVERS.contains(&driver) {
        remote::check(driver, &own)?;
        cache_rotation(opts)?;
    } else if driver != "json-file" && driver != "local" {
        return Err(invalid(format!(
            "logger: no log driver named '{driver}' is registered"
        )));
    }
    for key in own.keys().filter(|_| !remote::DRIVERS.contains(&driver)) {
        let known = ["max-size", "max-file", "compress"].contains(&key.as_str());
        if !known && !ATTR_OPTS.contains(&key.as_str()) {
            return Err(invalid(if driver == "json-file" {
                format!("unknown log opt '{key}' for json-file log driver")
            } else {
                format!("unknown log opt '{key}' for log driver local")
            }));
        }
    }
    if !remote::DRIVERS.contains(&driver) {
        rotation(driver, opts).map_err(invalid)?;
    }
    for key in ["labels-regex", "env-regex"] {
        if let Some(re) = opts.get(key) {
            regex::Regex::new(re).map_err(|e| invalid(format!("error parsing regexp: {e}")))?;
        }
    }
    if let Some(tag) = opts.get("tag") {
        tag_template(tag, &TagInfo::default())?;
    }
    Ok(())
}

/// The rotation of a remote driver's cache: the `local` driver's, from the `cache-` options.
fn cache_rotation(opts: &BTreeMap<String, String>) -> Result<Rotation> {
    let local: BTreeMap<String, String> = ["max-size", "max-file", "compress"]
        .iter()
        .filter_map(|k| Some((k.to_string(), opts.get(&format!("cache-{k}"))?.clone())))
        .collect();
    rotation("local", &local)
        .map_err(|e| invalid(format!("error setting up local container log cache: {e}")))
}

/// `mode` and `max-buffer-size`.
fn mode(opts: &BTreeMap<String, String>) -> Mode {
    match opts.get("mode").map(String::as_str) {
        Some("non-blocking") => Mode::NonBlocking {
            max_buffer: opts
                .get("max-buffer-size")
                .and_then(|v| ram_in_bytes(v).ok())
                .map_or(DEFAULT_MAX_BUFFER, |n| n.max(0) as u64),
        },
        _ => Mode::Blocking,
    }
}

/// The rotation `opts` ask of `driver`, with the driver's messages.
fn rotation(
    driver: &str,
    opts: &BTreeMap<String, String>,
) -> std::result::Result<Rotation, String> {
    if driver == "local" {
        let max_size = match opts.get("max-size") {
            Some(v) => {
                from_human_size(v).map_err(|e| format!("invalid value for max-size: {v}: {e}"))?
            }
            None => 20 * 1024 * 1024,
        };
        let max_file = match opts.get("max-file") {
            Some(v) => atoi(v).map_err(|e| format!("invalid value for max-file: {v}: {e}"))?,
            None => 5,
        };
        let compress = match opts.get("compress") {
            Some(v) => {
                parse_bool(v).map_err(|e| format!("invalid boolean value for compress: {e}"))?
            }
            None => true,
        };
        if max_size < 0 {
            return Err("max-size must not be negative".into());
        }
        if max_file < 0 {
            return Err("max-file must not be negative".into());
        }
        if compress && max_file <= 1 {
            return Err("compression cannot be enabled when max file count is 1".into());
        }
        return Ok(Rotation {
            max_size: Some(max_size as u64),
            max_file: max_file.clamp(1, i64::from(u32::MAX)) as u32,
            compress,
        });
    }
    let max_size = match opts.get("max-size") {
        Some(v) => {
            let n = from_human_size(v)?;
            if n <= 0 {
                return Err("max-size must be a positive number".into());
            }
            Some(n as u64)
        }
        None => None,
    };
    let max_file = match opts.get("max-file") {
        Some(v) => {
            let n = atoi(v)?;
            if n < 1 {
                return Err("max-file cannot be less than 1".into());
            }
            n.min(i64::from(u32::MAX)) as u32
        }
        None => 1,
    };
    let compress = match opts.get("compress") {
        Some(v) => parse_bool(v)?,
        None => false,
    };
    if compress && (max_file == 1 || max_size.is_none()) {
        return Err(
            "compress cannot be true when max-file is less than 2 or max-size is not set".into(),
        );
    }
    Ok(Rotation {
        max_size,
        max_file,
        compress,
    })
}

/// What a `tag` template can name.
#[derive(Debug, Default)]
struct TagInfo<'a> {
    id: &'a str,
    name: &'a str,
    image_id: &'a str,
    image_name: &'a str,
}

/// Docker's `tag` option: a Go template over the container; berth knows the fields, not
/// the rest of the template language, and refuses what it cannot render.
fn tag_template(tag: &str, info: &TagInfo<'_>) -> Result<String> {
    let short = |s: &str| s.chars().take(12).collect::<String>();
    let mut out = String::new();
    let mut rest = tag;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| invalid(format!("template: log-tag:1: unclosed action in {tag:?}")))?;
        let value = match after[..end].trim() {
            ".ID" => short(info.id),
            ".FullID" => info.id.to_string(),
            ".Name" => info.name.trim_start_matches('/').to_string(),
            ".ImageID" => short(info.image_id),
            ".ImageFullID" => info.image_id.to_string(),
            ".ImageName" => info.image_name.to_string(),
            ".DaemonName" => "berth".to_string(),
            other => {
                return Err(Error::new(
                    ErrorKind::NotImplemented,
                    format!("berth does not support {{{{{other}}}}} in the log tag template"),
                ));
            }
        };
        out.push_str(&value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The attributes written with each entry of a file: [`extra_attrs`] and `tag`.
fn attrs(spec: &LogSpec, rec: &Record) -> Result<BTreeMap<String, String>> {
    let mut out = extra_attrs(spec, rec)?;
    if let Some(tag) = spec.opts.get("tag").filter(|t| !t.is_empty()) {
        out.insert("tag".into(), render_tag(tag, rec)?);
    }
    Ok(out)
}

/// The `tag` template rendered for `rec`.
fn render_tag(tag: &str, rec: &Record) -> Result<String> {
    let image_id = rec.image_id.to_string();
    let info = TagInfo {
        id: &rec.id,
        name: &rec.name,
        image_id: image_id.strip_prefix("sha256:").unwrap_or(&image_id),
        image_name: &rec.spec.image,
    };
    tag_template(tag, &info)
}

/// Docker's `ExtraAttributes`: the `labels`/`env` options' (and their regexes') labels and
/// variables.
fn extra_attrs(spec: &LogSpec, rec: &Record) -> Result<BTreeMap<String, String>> {
    let opts = &spec.opts;
    let mut out = BTreeMap::new();
    let labels = &rec.spec.labels;
    let list = |key: &str| -> Vec<String> {
        opts.get(key)
            .filter(|v| !v.is_empty())
            .map(|v| v.split(',').map(str::to_string).collect())
            .unwrap_or_default()
    };
    let regex = |key: &str| -> Result<Option<regex::Regex>> {
        match opts.get(key).filter(|v| !v.is_empty()) {
            Some(re) => regex::Regex::new(re)
                .map(Some)
                .map_err(|e| invalid(format!("error parsing regexp: {e}"))),
            None => Ok(None),
        }
    };
    for l in list("labels") {
        if let Some(v) = labels.get(&l) {
            out.insert(l, v.clone());
        }
    }
    if let Some(re) = regex("labels-regex")? {
        for (k, v) in labels.iter().filter(|(k, _)| re.is_match(k)) {
            out.insert(k.clone(), v.clone());
        }
    }
    let env: BTreeMap<&str, &str> = rec
        .spec
        .env
        .iter()
        .filter_map(|e| e.split_once('='))
        .collect();
    for k in list("env") {
        if let Some(v) = env.get(k.as_str()) {
            out.insert(k, v.to_string());
        }
    }
    if let Some(re) = regex("env-regex")? {
        for (k, v) in env.iter().filter(|(k, _)| re.is_match(k)) {
            out.insert(k.to_string(), v.to_string());
        }
    }
    Ok(out)
}

/// The log of a run of `rec`: its file, created before the container runs so followers can
/// watch it from the start, and what the monitor is told.
pub fn prepare(paths: &Paths, rec: &Record) -> Result<(PathBuf, LogSettings)> {
    let spec = &rec.spec.log;
    let file = spec.file(paths);
    let attach_only = spec.driver() == "none" || (spec.is_remote() && spec.cache_disabled());
    let (rotation, attrs) = match spec.driver() {
        _ if attach_only => (ATTACH_BUFFER, BTreeMap::new()),
        _ if spec.is_remote() => (cache_rotation(&spec.opts)?, attrs(spec, rec)?),
        driver => (
            rotation(driver, &spec.opts).map_err(invalid)?,
            attrs(spec, rec)?,
        ),
    };
    let remote = match spec.is_remote() {
        true => Some(remote::resolve(
            spec.driver(),
            &spec.opts,
            remote_common(spec, rec)?,
        )?),
        false => None,
    };
    if let Some(dir) = file.path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::internal("creating the log directory", e))?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file.path)
        .map_err(|e| Error::internal("creating the log file", e))?;
    let mode = match spec.driver() {
        "none" => Mode::Blocking,
        _ => mode(&spec.opts),
    };
    Ok((
        file.path,
        LogSettings {
            format: Some(file.format),
            rotation,
            attrs,
            remote,
            mode,
        },
    ))
}

/// The tag and the fields a remote driver sends with every line (Docker's per driver).
fn remote_common(spec: &LogSpec, rec: &Record) -> Result<remote::Common> {
    let tag = match spec.opts.get("tag").filter(|t| !t.is_empty()) {
        Some(t) => render_tag(t, rec)?,
        None => render_tag("{{.ID}}", rec)?,
    };
    let extra = extra_attrs(spec, rec)?;
    let name = rec.name.trim_start_matches('/');
    let record: BTreeMap<String, String> = match spec.driver() {
        "fluentd" => [
            ("container_id".to_string(), rec.id.clone()),
            ("container_name".to_string(), format!("/{name}")),
        ]
        .into_iter()
        .chain(extra)
        .collect(),
        "journald" => [
            ("CONTAINER_ID", rec.id.chars().take(12).collect::<String>()),
            ("CONTAINER_ID_FULL", rec.id.clone()),
            ("CONTAINER_NAME", name.to_string()),
            ("CONTAINER_TAG", tag.clone()),
            ("IMAGE_NAME", rec.spec.image.clone()),
            ("SYSLOG_IDENTIFIER", tag.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .chain(
            extra
                .into_iter()
                .map(|(k, v)| (journald::field_name(&k), v)),
        )
        .collect(),
        _ => BTreeMap::new(),
    };
    Ok(remote::Common { tag, record })
}

/// Bytes of every log file of a container (all drivers' files, rotated ones included).
pub fn disk_usage(paths: &Paths) -> u64 {
    [
        paths.log.clone(),
        paths.dir.join("local-logs").join("container.log"),
        paths.dir.join("attach-json.log"),
        paths.dir.join("container-cached.log"),
    ]
    .iter()
    .flat_map(|p| {
        let rotated = berth_runtime::logread::rotated(p)
            .into_iter()
            .map(|r| r.path);
        std::iter::once(p.clone()).chain(rotated)
    })
    .filter_map(|p| std::fs::metadata(p).ok())
    .map(|m| m.len())
    .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn err(driver: &str, kv: &[(&str, &str)]) -> String {
        check(driver, &opts(kv)).unwrap_err().message
    }

    #[test]
    fn options_are_checked_with_dockers_messages() {
        assert_eq!(
            err("json-file", &[("max-size", "-1")]),
            "invalid size: '-1'"
        );
        assert_eq!(
            err("json-file", &[("max-size", "0")]),
            "max-size must be a positive number"
        );
        assert_eq!(
            err("json-file", &[("max-size", "1x")]),
            "invalid suffix: 'x'"
        );
        assert_eq!(
            err("json-file", &[("max-file", "0")]),
            "max-file cannot be less than 1"
        );
        assert_eq!(
            err("json-file", &[("max-file", "2"), ("compress", "true")]),
            "compress cannot be true when max-file is less than 2 or max-size is not set"
        );
        assert_eq!(
            err("json-file", &[("bogus", "1")]),
            "unknown log opt 'bogus' for json-file log driver"
        );
        assert_eq!(
            err("local", &[("bogus", "1")]),
            "unknown log opt 'bogus' for log driver local"
        );
        assert_eq!(
            err("local", &[("max-file", "1")]),
            "compression cannot be enabled when max file count is 1"
        );
        assert_eq!(
            err("nope", &[]),
            "logger: no log driver named 'nope' is registered"
        );
        assert_eq!(
            err("json-file", &[("mode", "x")]),
            "logger: logging mode not supported: x"
        );
        check("none", &opts(&[("anything", "1")])).unwrap();
        assert_eq!(from_human_size("1m"), Ok(1_000_000));
        assert_eq!(from_human_size("1.5KiB"), Ok(1500));
        assert_eq!(from_human_size("10 MB"), Ok(10_000_000));
        assert_eq!(
            rotation(
                "json-file",
                &opts(&[("max-size", "1m"), ("max-file", "3"), ("compress", "1")])
            ),
            Ok(Rotation {
                max_size: Some(1_000_000),
                max_file: 3,
                compress: true
            })
        );
    }

    #[test]
    fn daemon_defaults_and_berths_are_merged_as_docker_merges() {
        let daemon = LoggingConfig::default();
        let s = LogSpec::merged("", None, &daemon).unwrap();
        assert_eq!(s.driver, "json-file");
        assert_eq!(s.opts, opts(&[("max-file", "5"), ("max-size", "20m")]));
        let s = LogSpec::merged("json-file", Some(&opts(&[("max-size", "1m")])), &daemon).unwrap();
        assert_eq!(s.opts, opts(&[("max-file", "5"), ("max-size", "1m")]));
        let daemon = LoggingConfig {
            driver: "local".into(),
            opts: opts(&[("max-file", "3")]),
        };
        assert_eq!(
            LogSpec::merged("", None, &daemon).unwrap().opts,
            opts(&[("max-file", "3")])
        );
        // The daemon's options are of its driver only.
        let s = LogSpec::merged("json-file", None, &daemon).unwrap();
        assert_eq!(s.opts["max-file"], "5");
        let info = TagInfo {
            id: "0123456789abcdef",
            name: "/web",
            image_id: "",
            image_name: "busybox",
        };
        assert_eq!(
            tag_template("{{.Name}}/{{.ID}} x", &info).unwrap(),
            "web/0123456789ab x"
        );
    }
}
