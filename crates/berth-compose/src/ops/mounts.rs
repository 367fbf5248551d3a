//! A service's `volumes`, `secrets` and `configs` as the API's `Binds` and `Mounts`: bind
//! mounts that may create their host path go through `Binds` (the engine creates a missing
//! source there, as Docker does), everything else through `Mounts`.

use std::collections::BTreeMap;

use berth_api::container::{BindOptions, Mount, TmpfsOptions, VolumeOptions};

use super::convert::volume_name;
use super::error::{Error, project as err};
use crate::model::{FileObject, FileRef, MountKind, Project, Service};

/// `(binds, mounts)` of `s`; `inherited` are anonymous volumes (by target) of the container
/// this one replaces, kept as Compose keeps them.
pub fn mounts(
    p: &Project,
    s: &Service,
    inherited: &BTreeMap<String, String>,
) -> Result<(Vec<String>, Vec<Mount>), Error> {
    let mut binds = Vec::new();
    let mut mounts = Vec::new();
    for v in &s.volumes {
        let mut source = v.source.clone().unwrap_or_default();
        if source.is_empty() && v.kind == MountKind::Volume {
            source = inherited.get(&v.target).cloned().unwrap_or_default();
        }
        match v.kind {
            MountKind::Bind => {
                let opts = v.bind.clone().unwrap_or_default();
                if opts.create_host_path && opts.selinux.is_none() {
                    let mut mode: Vec<&str> = Vec::new();
                    if v.read_only {
                        mode.push("ro");
                    }
                    if let Some(prop) = &opts.propagation {
                        mode.push(prop);
                    }
                    let mut b = format!("{source}:{}", v.target);
                    if !mode.is_empty() {
                        b = format!("{b}:{}", mode.join(","));
                    }
                    binds.push(b);
                    continue;
                }
                if opts.selinux.is_some() {
                    return Err(err(format!(
                        "services.{}.volumes: bind.selinux is not supported by berth",
                        s.name
                    )));
                }
                mounts.push(Mount {
                    r#type: "bind".into(),
                    source,
                    target: v.target.clone(),
                    read_only: v.read_only,
                    bind_options: Some(BindOptions {
                        propagation: opts.propagation.unwrap_or_default(),
                        ..BindOptions::default()
                    }),
                    ..Mount::default()
                });
            }
            MountKind::Volume => {
                let opts = v.volume.clone().unwrap_or_default();
                if opts.subpath.is_some() {
                    return Err(err(format!(
                        "services.{}.volumes: volume.subpath is not supported by berth",
                        s.name
                    )));
                }
                let name = if source.is_empty() || v.source.is_none() {
                    source.clone()
                } else if p.volumes.contains_key(&source) {
                    volume_name(p, &source)
                } else {
                    return Err(err(format!(
                        "service {:?} refers to undefined volume {source}: invalid compose project",
                        s.name
                    )));
                };
                mounts.push(Mount {
                    r#type: "volume".into(),
                    source: name,
                    target: v.target.clone(),
                    read_only: v.read_only,
                    volume_options: opts.nocopy.then(|| VolumeOptions {
                        no_copy: true,
                        ..VolumeOptions::default()
                    }),
                    ..Mount::default()
                });
            }
            MountKind::Tmpfs => {
                let opts = v.tmpfs.clone().unwrap_or_default();
                mounts.push(Mount {
                    r#type: "tmpfs".into(),
                    target: v.target.clone(),
                    read_only: v.read_only,
                    tmpfs_options: Some(TmpfsOptions {
                        size_bytes: opts.size.map_or(0, |b| b.0),
                        mode: opts.mode.unwrap_or(0),
                        ..TmpfsOptions::default()
                    }),
                    ..Mount::default()
                });
            }
        }
    }
    for (target, name) in inherited {
        if !s.volumes.iter().any(|v| v.target == *target) {
            mounts.push(Mount {
                r#type: "volume".into(),
                source: name.clone(),
                target: target.clone(),
                ..Mount::default()
            });
        }
    }
    for r in &s.secrets {
        let target = match &r.target {
            Some(t) if t.starts_with('/') => t.clone(),
            Some(t) => format!("/run/secrets/{t}"),
            None => format!("/run/secrets/{}", r.source),
        };
        binds.push(file_bind(
            s,
            "secret",
            r,
            p.secrets.get(&r.source),
            &target,
        )?);
    }
    for r in &s.configs {
        let target = r.target.clone().unwrap_or_else(|| format!("/{}", r.source));
        binds.push(file_bind(
            s,
            "config",
            r,
            p.configs.get(&r.source),
            &target,
        )?);
    }
    Ok((binds, mounts))
}

/// A secret or config from a file, bind-mounted read-only.
fn file_bind(
    s: &Service,
    what: &str,
    r: &FileRef,
    obj: Option<&FileObject>,
    target: &str,
) -> Result<String, Error> {
    let obj = obj.ok_or_else(|| {
        err(format!(
            "service {:?} refers to undefined {what} {}: invalid compose project",
            s.name, r.source
        ))
    })?;
    if r.uid.is_some() || r.gid.is_some() || r.mode.is_some() {
        return Err(err(format!(
            "services.{}.{what}s.{}: uid, gid and mode are not supported by berth for {what}s from files",
            s.name, r.source
        )));
    }
    match &obj.file {
        Some(file) => Ok(format!("{file}:{target}:ro")),
        None => Err(err(format!(
            "{what}s.{}: only {what}s from a file are supported by berth so far (environment, content and external are not)",
            r.source
        ))),
    }
}
