//! `RUN --mount=...`, typed. The keys each type takes are BuildKit's; an unknown key is refused
//! as BuildKit refuses it. Values that may name build args (`target=$DIR`, `uid=$UID`) stay
//! words until the builder expands them; flags and the sharing mode are typed here.

use crate::error::Invalid;

/// How concurrent builds share a cache mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sharing {
    /// Every build uses the same directory at once.
    #[default]
    Shared,
    /// A writer takes its own instance of the cache.
    Private,
    /// Builds take turns.
    Locked,
}

/// One `RUN --mount`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunMount {
    /// A directory or file of the context, a stage or an image, read-only unless `readwrite`
    /// (whose writes are discarded).
    Bind {
        /// Where it appears.
        target: String,
        /// The path in the source (its root if unset).
        source: Option<String>,
        /// A stage or image (the context if unset).
        from: Option<String>,
        /// Writable, writes thrown away after the step.
        readwrite: bool,
    },
    /// A directory kept between builds.
    Cache {
        /// Where it appears.
        target: String,
        /// Which cache (the target if unset).
        id: Option<String>,
        /// A stage or image that seeds it.
        from: Option<String>,
        /// The path in `from` that seeds it.
        source: Option<String>,
        /// How builds share it.
        sharing: Sharing,
        /// Octal mode of a new cache directory.
        mode: Option<String>,
        /// Owner of a new cache directory.
        uid: Option<String>,
        /// Group of a new cache directory.
        gid: Option<String>,
        /// Mounted read-only.
        readonly: bool,
    },
    /// A fresh tmpfs.
    Tmpfs {
        /// Where it appears.
        target: String,
        /// Its size (`size=` of tmpfs).
        size: Option<String>,
        /// Mounted read-only.
        readonly: bool,
    },
    /// A secret the client sent, as a file (or an environment variable).
    Secret {
        /// Which secret (the target's file name if unset).
        id: Option<String>,
        /// Where the file appears (`/run/secrets/<id>` if unset).
        target: Option<String>,
        /// An environment variable to put it in instead.
        env: Option<String>,
        /// Fail when the client did not send it.
        required: bool,
        /// Octal mode of the file.
        mode: Option<String>,
        /// Owner of the file.
        uid: Option<String>,
        /// Group of the file.
        gid: Option<String>,
    },
    /// An SSH agent socket (which berth does not forward yet).
    Ssh,
}

/// A flag's value: `readonly`, `readonly=true` and `readonly=false`.
fn flag(key: &str, v: Option<&str>) -> Result<bool, Invalid> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None | Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(other) => Err(crate::invalid!("invalid value for {key}: {other:?}")),
    }
}

/// Parses `type=cache,target=/x,id=y` (`bind` when no type is given, as BuildKit does).
pub fn parse(spec: &str) -> Result<RunMount, Invalid> {
    let mut kind = "bind".to_string();
    let mut pairs: Vec<(String, Option<String>)> = Vec::new();
    for part in spec.split(',').filter(|p| !p.is_empty()) {
        let (k, v) = match part.split_once('=') {
            Some((k, v)) => (k, Some(v.trim().trim_matches('"').to_string())),
            None => (part, None),
        };
        let k = k.trim().to_ascii_lowercase();
        if k == "type" {
            kind = v.unwrap_or_default();
        } else {
            pairs.push((k, v));
        }
    }
    let allowed: &[&str] = match kind.as_str() {
        "bind" => &[
            "target",
            "dst",
            "destination",
            "source",
            "src",
            "from",
            "rw",
            "readwrite",
            "ro",
            "readonly",
        ],
        "cache" => &[
            "target",
            "dst",
            "destination",
            "id",
            "from",
            "source",
            "src",
            "sharing",
            "mode",
            "uid",
            "gid",
            "ro",
            "readonly",
        ],
        "tmpfs" => &["target", "dst", "destination", "size", "ro", "readonly"],
        "secret" => &[
            "id",
            "target",
            "dst",
            "destination",
            "env",
            "required",
            "mode",
            "uid",
            "gid",
        ],
        "ssh" => &[
            "id",
            "target",
            "dst",
            "destination",
            "required",
            "mode",
            "uid",
            "gid",
        ],
        other => return Err(crate::invalid!("unsupported mount type \"{other}\"")),
    };
    let mut value = std::collections::BTreeMap::new();
    for (k, v) in pairs {
        if !allowed.contains(&k.as_str()) {
            let shown = v.as_ref().map_or(k.clone(), |v| format!("{k}={v}"));
            return Err(crate::invalid!("unexpected key '{k}' in '{shown}'"));
        }
        let k = match k.as_str() {
            "dst" | "destination" => "target".to_string(),
            "src" => "source".to_string(),
            "ro" => "readonly".to_string(),
            "rw" => "readwrite".to_string(),
            _ => k,
        };
        value.insert(k, v);
    }
    let word = |k: &str| value.get(k).cloned().flatten();
    let is = |k: &str| -> Result<bool, Invalid> {
        value.get(k).map_or(Ok(false), |v| flag(k, v.as_deref()))
    };
    let target = || {
        word("target")
            .ok_or_else(|| crate::invalid!("mount type {kind} requires a target (--mount {spec})"))
    };
    Ok(match kind.as_str() {
        "bind" => {
            let (rw, ro) = (is("readwrite")?, is("readonly")?);
            RunMount::Bind {
                target: target()?,
                source: word("source"),
                from: word("from"),
                readwrite: rw && !ro,
            }
        }
        "cache" => RunMount::Cache {
            target: target()?,
            id: word("id"),
            from: word("from"),
            source: word("source"),
            sharing: match word("sharing").as_deref() {
                None | Some("shared") => Sharing::Shared,
                Some("private") => Sharing::Private,
                Some("locked") => Sharing::Locked,
                Some(other) => {
                    return Err(crate::invalid!("unsupported sharing value \"{other}\""));
                }
            },
            mode: word("mode"),
            uid: word("uid"),
            gid: word("gid"),
            readonly: is("readonly")?,
        },
        "tmpfs" => RunMount::Tmpfs {
            target: target()?,
            size: word("size"),
            readonly: is("readonly")?,
        },
        "secret" => RunMount::Secret {
            id: word("id"),
            target: word("target"),
            env: word("env"),
            required: is("required")?,
            mode: word("mode"),
            uid: word("uid"),
            gid: word("gid"),
        },
        _ => RunMount::Ssh,
    })
}

impl RunMount {
    /// The stage or image it reads from (`from=`), if any.
    pub fn from(&self) -> Option<&str> {
        match self {
            RunMount::Bind { from, .. } | RunMount::Cache { from, .. } => from.as_deref(),
            _ => None,
        }
    }

    /// What a RUN's cache key must know of this mount, in one canonical line: every typed
    /// value, named, in a fixed order.
    pub fn cache_key(&self) -> String {
        let w = |v: &Option<String>| v.as_deref().unwrap_or("").to_string();
        match self {
            RunMount::Bind {
                target,
                source,
                from,
                readwrite,
            } => format!(
                "bind target={target:?} source={:?} from={:?} rw={readwrite}",
                w(source),
                w(from)
            ),
            RunMount::Cache {
                target,
                id,
                from,
                source,
                sharing,
                mode,
                uid,
                gid,
                readonly,
            } => {
                format!(
                    "cache target={target:?} id={:?} from={:?} source={:?} sharing={sharing:?} mode={:?} uid={:?} gid={:?} ro={readonly}",
                    w(id),
                    w(from),
                    w(source),
                    w(mode),
                    w(uid),
                    w(gid)
                )
            }
            RunMount::Tmpfs {
                target,
                size,
                readonly,
            } => {
                format!("tmpfs target={target:?} size={:?} ro={readonly}", w(size))
            }
            RunMount::Secret {
                id,
                target,
                env,
                required,
                mode,
                uid,
                gid,
            } => format!(
                "secret id={:?} target={:?} env={:?} required={required} mode={:?} uid={:?} gid={:?}",
                w(id),
                w(target),
                w(env),
                w(mode),
                w(uid),
                w(gid)
            ),
            RunMount::Ssh => "ssh".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_takes_its_keys() {
        assert_eq!(
            parse("type=cache,target=/c,id=x,sharing=locked,ro").unwrap(),
            RunMount::Cache {
                target: "/c".into(),
                id: Some("x".into()),
                from: None,
                source: None,
                sharing: Sharing::Locked,
                mode: None,
                uid: None,
                gid: None,
                readonly: true,
            }
        );
        assert_eq!(
            parse("target=/src,src=lib,rw").unwrap(),
            RunMount::Bind {
                target: "/src".into(),
                source: Some("lib".into()),
                from: None,
                readwrite: true,
            }
        );
        assert!(matches!(
            parse("type=secret,id=tok,required=false").unwrap(),
            RunMount::Secret {
                required: false,
                ..
            }
        ));
        assert_eq!(parse("type=ssh").unwrap(), RunMount::Ssh);
    }

    #[test]
    fn bad_mounts_are_refused_as_buildkit_refuses_them() {
        let says = |s: &str| parse(s).unwrap_err().0;
        assert_eq!(
            says("type=tmpfs,target=/t,id=x"),
            "unexpected key 'id' in 'id=x'"
        );
        assert_eq!(says("type=nfs,target=/x"), "unsupported mount type \"nfs\"");
        assert!(says("type=cache").contains("requires a target"));
        assert!(says("type=cache,target=/c,sharing=odd").contains("sharing"));
        assert!(says("type=bind,target=/b,ro=maybe").contains("invalid value for readonly"));
    }

    #[test]
    fn the_cache_key_names_every_value() {
        let a = parse("type=cache,target=/c,id=x").unwrap().cache_key();
        let b = parse("type=cache,target=/c,id=y").unwrap().cache_key();
        let c = parse("type=cache,id=x,dst=/c").unwrap().cache_key();
        assert_ne!(a, b);
        assert_eq!(a, c, "spelling and order of keys do not change it");
        assert!(a.starts_with("cache target=\"/c\" id=\"x\""), "{a}");
    }
}
