//! `HostConfig.Binds`, `Mounts`, `Tmpfs` and `VolumesFrom` to [`MountSpec`]s, with the rules and
//! messages of Docker's Linux parser. Docker answers a malformed `-v` string with a 500; berth
//! says the same words with a 400, as it does for `--mount`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use berth_api::container::{HostConfig, Mount};

use crate::containers::model::clean;
use crate::containers::{MountKind, MountOrigin, MountSpec, Propagation, VolumesFrom};
use crate::error::{Error, Result};

/// The mounts a create request asks for, in Docker's order of precedence (binds, then
/// `--mount`, then tmpfs), and its `--volumes-from` entries.
pub fn requested(h: &HostConfig) -> Result<(Vec<MountSpec>, Vec<VolumesFrom>)> {
    let mut out: Vec<MountSpec> = Vec::new();
    let mut targets = BTreeSet::new();
    let tmpfs = h.tmpfs.clone().unwrap_or_default();
    let mut claim = |m: &MountSpec| -> Result<()> {
        if !targets.insert(m.target.clone()) || tmpfs.contains_key(&m.target) {
            return Err(Error::invalid(format!(
                "Duplicate mount point: {}",
                m.target
            )));
        }
        Ok(())
    };
    for raw in h.binds.iter().flatten() {
        let m = bind(raw, &h.volume_driver)?;
        claim(&m)?;
        out.push(m);
    }
    for m in h.mounts.iter().flatten() {
        let m = mount(m)?;
        claim(&m)?;
        out.push(m);
    }
    for (target, options) in &tmpfs {
        out.push(tmpfs_mount(target, options)?);
    }
    let from = h
        .volumes_from
        .iter()
        .flatten()
        .map(|s| volumes_from(s))
        .collect::<Result<_>>()?;
    Ok((out, from))
}

const RW: &[&str] = &["rw", "ro"];
const LABEL: &[&str] = &["z", "Z"];
const PROPAGATION: &[&str] = &[
    "private", "rprivate", "shared", "rshared", "slave", "rslave",
];
const COPY: &[&str] = &["nocopy"];
const CONSISTENCY: &[&str] = &["consistent", "cached", "delegated"];

/// Docker's rule: each option known, and at most one of each kind.
fn valid_mode(mode: &str) -> bool {
    if mode.is_empty() {
        return true;
    }
    let kinds = [RW, LABEL, PROPAGATION, COPY, CONSISTENCY];
    let mut counts = [0; 5];
    for o in mode.split(',') {
        match kinds.iter().position(|k| k.contains(&o)) {
            Some(i) => counts[i] += 1,
            None => return false,
        }
    }
    counts.iter().all(|c| *c <= 1)
}

fn has(mode: &str, set: &[&str]) -> Option<String> {
    mode.split(',')
        .find(|o| set.contains(o))
        .map(str::to_string)
}

fn invalid_spec(raw: &str) -> Error {
    Error::invalid(format!("invalid volume specification: '{raw}'"))
}

/// The `invalid mount config` error of a mount of type `kind`.
fn config_error(kind: &str, why: impl std::fmt::Display) -> Error {
    Error::invalid(format!("invalid mount config for type \"{kind}\": {why}"))
}

/// Docker's checks of a target, and its clean form.
fn target(kind: &str, t: &str) -> Result<String> {
    if t.is_empty() {
        return Err(config_error(kind, "field Target must not be empty"));
    }
    let clean = clean(t);
    if clean == "/" {
        return Err(config_error(
            kind,
            "invalid specification: destination can't be '/'",
        ));
    }
    if !t.starts_with('/') {
        return Err(config_error(
            kind,
            format!("invalid mount path: '{t}' mount path must be absolute"),
        ));
    }
    Ok(clean)
}

/// One `-v` string: `name:/path[:mode]`, `/host:/path[:mode]` (a bind), or `/path`.
fn bind(raw: &str, volume_driver: &str) -> Result<MountSpec> {
    let parts: Vec<&str> = raw.splitn(3, ':').collect();
    if raw.matches(':').count() > 2 || parts[0].is_empty() {
        return Err(invalid_spec(raw));
    }
    let (source, dest, mode) = match parts.as_slice() {
        [t] => ("", *t, ""),
        [_, m] if valid_mode(m) => return Err(invalid_spec(raw)),
        [s, t] => (*s, *t, ""),
        [s, t, m] => (*s, *t, *m),
        _ => return Err(invalid_spec(raw)),
    };
    if !valid_mode(mode) {
        return Err(Error::invalid(format!("invalid mode: {mode}")));
    }
    let wrap = |e: Error| Error::invalid(format!("invalid volume specification: '{raw}': {e}"));
    let is_bind = source.starts_with('/');
    let kind_name = if is_bind { "bind" } else { "volume" };
    let target = target(kind_name, dest).map_err(wrap)?;
    let readonly = has(mode, &["ro"]).is_some();
    let propagation = has(mode, PROPAGATION);
    let no_copy = has(mode, COPY).is_some();
    let kind = if is_bind {
        if no_copy {
            return Err(wrap(config_error(
                "bind",
                "field VolumeOptions must not be specified",
            )));
        }
        MountKind::Bind {
            source: PathBuf::from(clean(source)),
            propagation: propagation
                .as_deref()
                .and_then(Propagation::parse)
                .unwrap_or_default(),
            nonrecursive: false,
        }
    } else {
        if propagation.is_some() {
            return Err(wrap(config_error(
                "volume",
                "field BindOptions must not be specified",
            )));
        }
        if source.is_empty() && readonly {
            return Err(wrap(config_error(
                "volume",
                "must not set ReadOnly mode when using anonymous volumes",
            )));
        }
        MountKind::Volume {
            name: source.to_string(),
            anonymous: source.is_empty(),
            no_copy,
        }
    };
    let driver = (!is_bind && !volume_driver.is_empty())
        .then(|| (volume_driver.to_string(), BTreeMap::new()));
    Ok(MountSpec {
        kind,
        target,
        readonly,
        options: Vec::new(),
        origin: if driver.is_some() {
            MountOrigin::Mount {
                labels: BTreeMap::new(),
                driver,
            }
        } else {
            MountOrigin::Bind {
                spec: raw.to_string(),
                mode: mode.to_string(),
            }
        },
    })
}

/// One `--mount` entry.
fn mount(m: &Mount) -> Result<MountSpec> {
    let kind_name = m.r#type.as_str();
    if !matches!(kind_name, "bind" | "volume" | "tmpfs") {
        return Err(config_error(kind_name, "mount type unknown"));
    }
    let target = target(kind_name, &m.target)?;
    let extra = |f: &str| config_error(kind_name, format!("field {f} must not be specified"));
    refuse_newer(m)?;
    let mut options = Vec::new();
    let kind = match kind_name {
        "bind" => {
            if m.source.is_empty() {
                return Err(config_error("bind", "field Source must not be empty"));
            }
            if m.volume_options.is_some() {
                return Err(extra("VolumeOptions"));
            }
            let b = m.bind_options.clone().unwrap_or_default();
            let propagation = match b.propagation.as_str() {
                "" => Propagation::default(),
                p => Propagation::parse(p).ok_or_else(|| {
                    config_error("bind", format!("invalid propagation mode: {p}"))
                })?,
            };
            if !m.source.starts_with('/') {
                return Err(config_error(
                    "bind",
                    format!(
                        "invalid mount path: '{}' mount path must be absolute",
                        m.source
                    ),
                ));
            }
            if !std::path::Path::new(&m.source).exists() {
                return Err(config_error(
                    "bind",
                    format!("bind source path does not exist: {}", m.source),
                ));
            }
            MountKind::Bind {
                source: PathBuf::from(clean(&m.source)),
                propagation,
                nonrecursive: b.non_recursive,
            }
        }
        "volume" => {
            if m.bind_options.is_some() {
                return Err(extra("BindOptions"));
            }
            if m.source.is_empty() && m.read_only {
                return Err(config_error(
                    "volume",
                    "must not set ReadOnly mode when using anonymous volumes",
                ));
            }
            MountKind::Volume {
                name: m.source.clone(),
                anonymous: m.source.is_empty(),
                no_copy: m.volume_options.as_ref().is_some_and(|v| v.no_copy),
            }
        }
        _ => {
            if m.bind_options.is_some() {
                return Err(extra("BindOptions"));
            }
            if !m.source.is_empty() {
                return Err(extra("Source"));
            }
            let t = m.tmpfs_options.clone().unwrap_or_default();
            if t.mode != 0 {
                options.push(format!("mode={:o}", t.mode));
            }
            if t.size_bytes != 0 {
                options.push(format!("size={}", t.size_bytes));
            }
            MountKind::Tmpfs
        }
    };
    let v = m.volume_options.clone().unwrap_or_default();
    Ok(MountSpec {
        kind,
        target,
        readonly: m.read_only,
        options,
        origin: MountOrigin::Mount {
            labels: v.labels.unwrap_or_default(),
            driver: v
                .driver_config
                .map(|d| (d.name, d.options.unwrap_or_default())),
        },
    })
}

/// Fields of API versions after the ones berth implements are refused by name, not ignored.
fn refuse_newer(m: &Mount) -> Result<()> {
    let newer = [
        ("BindOptions", m.bind_options.as_ref().map(|b| &b.rest)),
        ("VolumeOptions", m.volume_options.as_ref().map(|v| &v.rest)),
        ("TmpfsOptions", m.tmpfs_options.as_ref().map(|t| &t.rest)),
    ];
    for (family, rest) in newer {
        if let Some((key, _)) = rest
            .into_iter()
            .flatten()
            .find(|(_, v)| !berth_api::is_unset(v))
        {
            return Err(Error::new(
                berth_core::ErrorKind::NotImplemented,
                format!("berth does not support Mounts.{family}.{key} yet"),
            ));
        }
    }
    Ok(())
}

/// One `--tmpfs` entry: options as `mount -t tmpfs` takes them, checked by the kernel at start.
fn tmpfs_mount(target: &str, options: &str) -> Result<MountSpec> {
    if !target.starts_with('/') {
        return Err(Error::invalid(format!(
            "invalid mount path: '{target}' mount path must be absolute"
        )));
    }
    let clean = clean(target);
    if clean == "/" {
        return Err(Error::invalid(
            "invalid specification: destination can't be '/'",
        ));
    }
    let mut readonly = false;
    let mut rest = Vec::new();
    for o in options.split(',').filter(|o| !o.is_empty()) {
        match o {
            "ro" => readonly = true,
            "rw" => readonly = false,
            o => rest.push(o.to_string()),
        }
    }
    Ok(MountSpec {
        kind: MountKind::Tmpfs,
        target: clean,
        readonly,
        options: rest,
        origin: MountOrigin::Tmpfs(options.to_string()),
    })
}

/// `container[:ro|rw]`: no propagation or copy modes.
fn volumes_from(spec: &str) -> Result<VolumesFrom> {
    if spec.is_empty() {
        return Err(Error::invalid(
            "volumes-from specification cannot be an empty string",
        ));
    }
    let (id, mode) = spec.split_once(':').unwrap_or((spec, "rw"));
    if !valid_mode(mode) || has(mode, PROPAGATION).is_some() || has(mode, COPY).is_some() {
        return Err(Error::invalid(format!("invalid mode: {mode}")));
    }
    Ok(VolumesFrom {
        container: id.to_string(),
        readonly: has(mode, &["ro"]).is_some(),
        spec: spec.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn says(raw: &str) -> String {
        bind(raw, "").unwrap_err().to_string()
    }

    #[test]
    fn binds_parse_as_dockers_linux_parser() {
        let m = bind("/tmp/x/../y:/data/:ro,rshared", "").unwrap();
        assert_eq!(m.target, "/data");
        assert!(m.readonly);
        assert_eq!(
            m.kind,
            MountKind::Bind {
                source: "/tmp/y".into(),
                propagation: Propagation::Rshared,
                nonrecursive: false
            }
        );
        let m = bind("cache:/c:nocopy", "").unwrap();
        assert!(
            matches!(m.kind, MountKind::Volume { ref name, no_copy: true, anonymous: false } if name == "cache")
        );
        let m = bind("/anon", "").unwrap();
        assert!(matches!(
            m.kind,
            MountKind::Volume {
                anonymous: true,
                ..
            }
        ));
    }

    #[test]
    fn malformed_binds_get_dockers_messages() {
        assert_eq!(says("a:b:c:d"), "invalid volume specification: 'a:b:c:d'");
        assert_eq!(says(":/x"), "invalid volume specification: ':/x'");
        assert_eq!(says("/x:ro"), "invalid volume specification: '/x:ro'");
        assert_eq!(says("/tmp:/x:bogus"), "invalid mode: bogus");
        assert_eq!(says("/tmp:/x:ro,rw"), "invalid mode: ro,rw");
        assert_eq!(
            says("/tmp:rel"),
            "invalid volume specification: '/tmp:rel': invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute"
        );
        assert_eq!(
            says("/tmp:/"),
            "invalid volume specification: '/tmp:/': invalid mount config for type \"bind\": invalid specification: destination can't be '/'"
        );
        assert!(says("/tmp:/x:nocopy").ends_with("field VolumeOptions must not be specified"));
        assert!(says("v:/x:rshared").ends_with("field BindOptions must not be specified"));
    }

    #[test]
    fn duplicates_and_mount_entries() {
        let h = |json: &str| -> HostConfig { serde_json::from_str(json).unwrap() };
        let dup = requested(&h(r#"{"Binds": ["/tmp:/x"], "Tmpfs": {"/x": ""}}"#)).unwrap_err();
        assert_eq!(dup.to_string(), "Duplicate mount point: /x");
        let dup = requested(&h(
            r#"{"Binds": ["v:/x/"], "Mounts": [{"Type": "volume", "Target": "/x"}]}"#,
        ))
        .unwrap_err();
        assert_eq!(dup.to_string(), "Duplicate mount point: /x");
        let e = requested(&h(
            r#"{"Mounts": [{"Type": "bind", "Source": "/nonexist", "Target": "/x"}]}"#,
        ))
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid mount config for type \"bind\": bind source path does not exist: /nonexist"
        );
        let e = requested(&h(r#"{"Mounts": [{"Type": "bogus", "Target": "/x"}]}"#)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid mount config for type \"bogus\": mount type unknown"
        );
        let (m, _) = requested(&h(
            r#"{"Mounts": [{"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1048576, "Mode": 448}}]}"#,
        ))
        .unwrap();
        assert_eq!(m[0].options, ["mode=700", "size=1048576"]);
        let e = requested(&h(
            r#"{"Mounts": [{"Type": "volume", "Target": "/v", "VolumeOptions": {"Subpath": "a"}}]}"#,
        ))
        .unwrap_err();
        assert!(e.to_string().contains("VolumeOptions.Subpath"), "{e}");
        let from = volumes_from("c:ro").unwrap();
        assert!(from.container == "c" && from.readonly);
        volumes_from("c:rshared").unwrap_err();
    }
}
