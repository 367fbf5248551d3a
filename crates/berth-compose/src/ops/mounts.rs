//! A service's `volumes`, `secrets` and `configs` as the API's `Binds` and `Mounts`: bind
//! mounts that may create their host path go through `Binds` (the engine creates a missing
//! source there, as Docker does), everything else through `Mounts`.

use std::collections::BTreeMap;

use berth_api::container::{BindOptions, Mount, TmpfsOptions, VolumeOptions};

use super::convert::volume_name;
use super::error::{Error, project as err};
use crate::model::{MountKind, Project, Service};

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
    for f in super::secrets::of(p, s)? {
        if let super::secrets::Source::File(file) = &f.source {
            binds.push(format!("{file}:{}:ro", f.target));
        }
    }
    Ok((binds, mounts))
}
