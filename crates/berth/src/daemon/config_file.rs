//! `daemon.json` (`/etc/berth/daemon.json`, `--config-file`), read as dockerd reads its file.
//!
//! The file's keys are the serde names of [`DaemonArgs`]' fields: the flags serialize to a JSON
//! object, the file's keys are laid over it and the result deserializes back. A key berth has
//! is therefore one field of `DaemonArgs` (a flag, or `#[arg(skip)]` for a key without one); a
//! key berth lacks is refused by name, and a key also given as a flag is a conflict, both in
//! dockerd's words.
//!
//! Adding a key is adding its field: `#[arg(long)] pub log_driver: Option<String>` is both
//! `--log-driver` and `"log-driver"`; a key with no flag, or of another shape than its flag
//! (`runtimes`, `default-address-pools`), is an `#[arg(skip)]` field. What a reload changes is
//! listed in `Source::reload`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use berth_daemon::config::Runtimes;
use berth_daemon::reload::Reload;
use serde_json::{Map, Value};

use super::DaemonArgs;

/// Where dockerd's `/etc/docker/daemon.json` is for berth.
pub const DEFAULT_FILE: &str = "/etc/berth/daemon.json";

/// Keys whose flag has another name (dockerd's named options).
const FLAG_OF: &[(&str, &str)] = &[
    ("hosts", "host"),
    ("default-address-pools", "default_address_pool"),
    ("log-opts", "log_opt"),
    ("default-ulimits", "default_ulimit"),
];

/// Keys merged with their flag instead of conflicting with it (dockerd's `skipDuplicates`).
const MERGED: &[&str] = &["runtimes"];

/// How the flags were given: the printed value of the flag of a clap id, when it was set on the
/// command line (or by its environment variable).
pub type Given<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The file and the flags it is checked against, kept for SIGHUP.
#[derive(Debug, Clone)]
pub struct Source {
    path: PathBuf,
    /// `--config-file` was given: a missing file is an error.
    explicit: bool,
    /// The flags set on the command line: clap id -> value as dockerd prints it.
    given: BTreeMap<String, String>,
}

impl Source {
    /// The file `flags` name, and which flags the command line set.
    pub fn new(flags: &DaemonArgs) -> Source {
        let given = given_flags();
        Source {
            path: flags.config_file.clone(),
            explicit: given.contains_key("config_file"),
            given,
        }
    }

    /// The options: `flags` with the file laid over them.
    pub fn load(&self, flags: &DaemonArgs) -> anyhow::Result<DaemonArgs> {
        self.keys()?
            .map_or_else(|| Ok(flags.clone()), |keys| self.merge(flags, &keys))
    }

    /// What a reload changes: the reloadable keys the file sets.
    pub fn reload(&self, flags: &DaemonArgs) -> anyhow::Result<Reload> {
        let keys = self.keys()?.unwrap_or_default();
        let merged = self.merge(flags, &keys)?;
        check_labels(&merged.labels).map_err(|e| self.wrap(e))?;
        let set = |key: &str| keys.contains_key(key);
        let runtimes = if set("runtimes") || set("default-runtime") {
            let r = Runtimes::new(&merged.runtime_args()?, &merged.default_runtime)
                .map_err(|e| self.wrap(e.message))?;
            Some(r)
        } else {
            None
        };
        Ok(Reload {
            debug: set("debug").then_some(merged.debug),
            labels: set("labels").then_some(merged.labels),
            live_restore: set("live-restore").then(|| merged.live_restore.unwrap_or(true)),
            shutdown_timeout: set("shutdown-timeout").then_some(merged.shutdown_timeout),
            runtimes,
        })
    }

    fn keys(&self) -> anyhow::Result<Option<Map<String, Value>>> {
        read(&self.path, self.explicit).map_err(|e| self.wrap(e))
    }

    fn merge(&self, flags: &DaemonArgs, keys: &Map<String, Value>) -> anyhow::Result<DaemonArgs> {
        merge(flags, keys, &|id| self.given.get(id).cloned()).map_err(|e| self.wrap(e))
    }

    fn wrap(&self, e: String) -> anyhow::Error {
        anyhow::anyhow!(
            "unable to configure the berth daemon with file {}: {e}",
            self.path.display()
        )
    }
}

/// The flags of `berth daemon` the command line (or their environment variable) set, each
/// printed as dockerd prints a flag's value: a list as `[a b]`.
fn given_flags() -> BTreeMap<String, String> {
    use clap::CommandFactory;
    use clap::parser::ValueSource;
    let cmd = crate::cli::Cli::command();
    let Ok(all) = cmd.clone().try_get_matches_from(std::env::args_os()) else {
        return BTreeMap::new();
    };
    let (Some(m), Some(daemon)) = (
        all.subcommand_matches("daemon"),
        cmd.find_subcommand("daemon"),
    ) else {
        return BTreeMap::new();
    };
    let mut given = BTreeMap::new();
    for arg in daemon.get_arguments() {
        let id = arg.get_id().as_str();
        if !matches!(
            m.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            continue;
        }
        let values: Vec<String> = m
            .get_raw(id)
            .into_iter()
            .flatten()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let printed = match arg.get_action() {
            clap::ArgAction::Append => format!("[{}]", values.join(" ")),
            _ => values.join(" "),
        };
        given.insert(id.to_string(), printed);
    }
    given
}

/// The file's keys, read from `path`: `None` for a default file that does not exist.
pub fn read(path: &Path, explicit: bool) -> Result<Option<Map<String, Value>>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return Ok(None),
        Err(e) => return Err(format!("open {}: {}", path.display(), io_text(&e))),
    };
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Ok(Some(Map::new()));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(_) => Err("the configuration file must hold a JSON object".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Go's wording of an I/O error (`no such file or directory`).
fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_ascii_lowercase(),
        None => s,
    }
}

/// `flags` with the file's `keys` laid over them, checked as dockerd checks them.
pub fn merge(
    flags: &DaemonArgs,
    keys: &Map<String, Value>,
    given: Given,
) -> Result<DaemonArgs, String> {
    let Value::Object(mut base) = serde_json::to_value(flags).map_err(|e| e.to_string())? else {
        unreachable!("DaemonArgs is a struct");
    };
    let known: BTreeSet<&String> = base.keys().collect();
    let unknown: Vec<&str> = keys
        .keys()
        .filter(|k| !known.contains(k))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "the following directives don't match any configuration option: {}",
            unknown.join(", ")
        ));
    }
    let conflicts: Vec<String> = keys
        .iter()
        .filter(|(k, _)| !MERGED.contains(&k.as_str()))
        .filter_map(|(k, file)| {
            given(&flag_id(k))
                .map(|flag| format!("{k}: (from flag: {flag}, from file: {})", go_value(file)))
        })
        .collect();
    if !conflicts.is_empty() {
        return Err(format!(
            "the following directives are specified both as a flag and in the configuration file: {}",
            conflicts.join(", ")
        ));
    }
    // One key at a time first, so that a value of the wrong type is named by its key.
    for (k, v) in keys {
        let mut one = base.clone();
        one.insert(k.clone(), v.clone());
        serde_json::from_value::<DaemonArgs>(Value::Object(one))
            .map_err(|e| format!("invalid value for {k} in the configuration file: {e}"))?;
    }
    base.extend(keys.clone());
    let mut merged: DaemonArgs =
        serde_json::from_value(Value::Object(base)).map_err(|e| e.to_string())?;
    merged.keep_flag_only(flags);
    Ok(merged)
}

/// The clap id of the flag of file key `key`.
fn flag_id(key: &str) -> String {
    FLAG_OF
        .iter()
        .find(|(k, _)| *k == key)
        .map_or_else(|| key.replace('-', "_"), |(_, id)| id.to_string())
}

/// A JSON value as Go's `%v` prints what encoding/json decoded.
pub fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(go_value).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_value(v)))
                .collect();
            format!("map[{}]", items.join(" "))
        }
    }
}

/// dockerd's checks of `--label`s: each `key=value`, no key twice with two values.
pub fn check_labels(labels: &[String]) -> Result<(), String> {
    let mut seen: std::collections::BTreeMap<&str, &str> = Default::default();
    for label in labels {
        let (k, v) = label
            .split_once('=')
            .ok_or_else(|| format!("bad attribute format: {label}"))?;
        if let Some(old) = seen.insert(k, v)
            && old != v
        {
            return Err(format!("conflict labels for {k}={old} and {k}={v}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        args: DaemonArgs,
    }

    fn args(argv: &[&str]) -> DaemonArgs {
        Cmd::parse_from(std::iter::once("daemon").chain(argv.iter().copied())).args
    }

    fn keys(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    const NONE: Given = &|_| None;

    #[test]
    fn file_keys_override_defaults() {
        let m = merge(
            &args(&[]),
            &keys(
                r#"{"data-root":"/d","labels":["a=b"],"debug":true,"hosts":["unix:///x"],
                "default-address-pools":[{"base":"10.9.0.0/16","size":24}],
                "runtimes":{"r":{"path":"/bin/r"}},"tlsverify":true}"#,
            ),
            NONE,
        )
        .unwrap();
        assert_eq!(m.data_root, Path::new("/d"));
        assert_eq!(m.labels, ["a=b"]);
        assert!(m.debug);
        assert_eq!(m.host, ["unix:///x"]);
        assert_eq!(m.tls.tlsverify, Some(true));
        assert_eq!(m.exec_root, Path::new("/run/berth"), "defaults stay");
        assert_eq!(m.runtime_args().unwrap(), ["r=/bin/r"]);
        assert_eq!(m.pool_args(), ["base=10.9.0.0/16,size=24"]);
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let err = merge(&args(&[]), &keys(r#"{"debug":true,"foo":1,"bar":2}"#), NONE);
        assert_eq!(
            err.unwrap_err(),
            "the following directives don't match any configuration option: bar, foo"
        );
        // Flag-only options are no keys.
        let err = merge(&args(&[]), &keys(r#"{"validate":true}"#), NONE);
        assert!(err.unwrap_err().ends_with(": validate"));
    }

    #[test]
    fn a_key_given_as_a_flag_too_is_a_conflict() {
        let given: Given = &|id| match id {
            "data_root" => Some("/flag".into()),
            "default_address_pool" => Some("[base=10.0.0.0/8,size=24]".into()),
            _ => None,
        };
        let err = merge(
            &args(&[]),
            &keys(
                r#"{"data-root":"/file","default-address-pools":[{"base":"10.1.0.0/16","size":24}]}"#,
            ),
            given,
        );
        assert_eq!(
            err.unwrap_err(),
            "the following directives are specified both as a flag and in the configuration file: data-root: (from flag: /flag, from file: /file), default-address-pools: (from flag: [base=10.0.0.0/8,size=24], from file: [map[base:10.1.0.0/16 size:24]])"
        );
        let given: Given = &|id| (id == "runtimes").then(|| "x".into());
        merge(&args(&[]), &keys(r#"{"runtimes":{}}"#), given).expect("runtimes merge");
    }

    #[test]
    fn wrong_types_are_named() {
        let err = merge(&args(&[]), &keys(r#"{"debug":"yes"}"#), NONE).unwrap_err();
        assert!(
            err.starts_with("invalid value for debug in the configuration file: "),
            "{err}"
        );
        let err = merge(
            &args(&[]),
            &keys(r#"{"runtimes":{"r":{"path":"/r","runtimeType":"x"}}}"#),
            NONE,
        )
        .unwrap_err();
        assert!(err.contains("runtimeType"), "{err}");
    }

    #[test]
    fn labels_are_checked() {
        check_labels(&["a=b".into(), "a=b".into()]).unwrap();
        assert_eq!(
            check_labels(&["a".into()]).unwrap_err(),
            "bad attribute format: a"
        );
        assert_eq!(
            check_labels(&["a=b".into(), "a=c".into()]).unwrap_err(),
            "conflict labels for a=b and a=c"
        );
    }
}
