//! A container's volumes, as Docker handles them: at create, `--volumes-from` mounts are added,
//! each image or `Config.Volumes` path not otherwise mounted gets an anonymous volume, every
//! volume is made if missing and referenced by the container, and an empty volume is filled
//! with what the image has at its mount point (unless `nocopy`). At remove the references go,
//! and with `rm -v` (or `--rm`) the container's anonymous volumes too.

use std::collections::BTreeMap;

use berth_core::rootfs::FsError;

use super::model::clean;
use super::rootfs::Access;
use super::{Containers, MountKind, MountOrigin, MountSpec, Record, Spec};
use crate::error::{Error, Result};
use crate::volumes::copy;

impl Containers {
    /// Completes `spec.mounts` for container `id` and takes its volume references; on error
    /// none is left taken. Blocks (volume records).
    pub(super) fn resolve_mounts(&self, id: &str, spec: &mut Spec) -> Result<()> {
        let mut mounts = self.inherited_mounts(spec)?;
        for m in std::mem::take(&mut spec.mounts) {
            // The container's own mounts override inherited ones at the same target.
            mounts.retain(|o| o.target != m.target);
            mounts.push(m);
        }
        for path in spec.volumes.iter().flatten() {
            let target = clean(path);
            if target == "/" || mounts.iter().any(|m| m.target == target) {
                continue;
            }
            mounts.push(MountSpec {
                kind: MountKind::Volume {
                    name: String::new(),
                    anonymous: true,
                    no_copy: false,
                },
                target,
                readonly: false,
                options: Vec::new(),
                origin: MountOrigin::Image,
            });
        }
        for i in 0..mounts.len() {
            if let Err(e) = self.acquire(id, &spec.volume_driver, &mut mounts[i]) {
                self.release_mounts(id, &mounts[..i], true);
                return Err(e);
            }
        }
        spec.mounts = mounts;
        Ok(())
    }

    /// The mounts of the `--volumes-from` containers, read-only where asked.
    fn inherited_mounts(&self, spec: &Spec) -> Result<Vec<MountSpec>> {
        let mut out: Vec<MountSpec> = Vec::new();
        for from in &spec.volumes_from {
            let other = self
                .get(&from.container)
                .map_err(|e| Error::invalid(e.message))?
                .record();
            for m in other.spec.mounts {
                if matches!(m.origin, MountOrigin::Build | MountOrigin::Tmpfs(_)) {
                    continue;
                }
                out.retain(|o| o.target != m.target);
                out.push(MountSpec {
                    readonly: m.readonly || from.readonly,
                    origin: MountOrigin::VolumesFrom(other.id.clone()),
                    ..m
                });
            }
        }
        Ok(out)
    }

    fn acquire(&self, id: &str, default_driver: &str, m: &mut MountSpec) -> Result<()> {
        let MountKind::Volume { name, .. } = &mut m.kind else {
            return Ok(());
        };
        let none = BTreeMap::new();
        let (labels, driver, options) = match &m.origin {
            MountOrigin::Mount { labels, driver } => (
                labels.clone(),
                driver.as_ref().map_or(default_driver, |(d, _)| d.as_str()),
                driver.as_ref().map_or(&none, |(_, o)| o),
            ),
            _ => (BTreeMap::new(), default_driver, &none),
        };
        *name = self
            .volumes
            .acquire(name, driver, options, labels, id)?
            .name;
        Ok(())
    }

    /// Drops container `id`'s references to the volumes of `mounts`; with `anonymous`, its
    /// anonymous volumes are removed too (unless another container still uses one). Blocks.
    pub(super) fn release_mounts(&self, id: &str, mounts: &[MountSpec], anonymous: bool) {
        for m in mounts {
            let MountKind::Volume {
                name, anonymous: a, ..
            } = &m.kind
            else {
                continue;
            };
            self.volumes.release(name, id);
            let own = !matches!(m.origin, MountOrigin::VolumesFrom(_));
            if anonymous && *a && own {
                match self.volumes.remove(name, true) {
                    Ok(()) => {}
                    Err(e) if e.kind == berth_core::ErrorKind::Conflict => {}
                    Err(e) => tracing::warn!(volume = %name, error = %e, "removing a volume"),
                }
            }
        }
    }

    /// Notes the volumes of the stored containers as used (at daemon start).
    pub(super) fn register_volumes(&self, records: impl Iterator<Item = Record>) {
        for r in records {
            for m in &r.spec.mounts {
                if let MountKind::Volume { name, .. } = &m.kind {
                    self.volumes.register(name, &r.id);
                }
            }
        }
    }

    /// Fills the container's empty volumes with the image's content at their targets, and
    /// refuses an image volume over a file. Blocks.
    pub(super) fn populate_volumes(&self, rec: &Record) -> Result<()> {
        let wanted: Vec<(&str, &MountSpec)> = rec
            .spec
            .mounts
            .iter()
            .filter_map(|m| match &m.kind {
                MountKind::Volume {
                    name,
                    no_copy: false,
                    ..
                } if !matches!(m.origin, MountOrigin::VolumesFrom(_)) => Some((name.as_str(), m)),
                _ => None,
            })
            // A volume with data is never filled: no need to mount the image for it. (One with
            // driver options looks empty until mounted, and is checked again then.)
            .filter(|(name, _)| {
                std::fs::File::open(self.volumes.path(name))
                    .and_then(copy::is_empty)
                    .unwrap_or(true)
            })
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let view = self.mount_view(&rec.id, rec.chain_id.as_ref(), Access::Read)?;
        for (name, m) in wanted {
            let src = match view.root().open_dir(&m.target) {
                Ok(dir) => dir,
                Err(FsError::NotDirectory { .. }) if m.origin == MountOrigin::Image => {
                    return Err(Error::invalid(format!(
                        "cannot mount volume over existing file, file exists {}",
                        m.target
                    )));
                }
                // Nothing to copy; a volume over a file fails at start, as in Docker.
                Err(_) => continue,
            };
            let path = self.volumes.mount(name)?;
            let filled = fill(&path, name, src, &m.target);
            self.volumes.unmount(name);
            filled?;
        }
        Ok(())
    }
}

/// Copies directory `src` into the volume at `path` if the volume is empty.
fn fill(path: &std::path::Path, name: &str, src: std::fs::File, target: &str) -> Result<()> {
    let dst = std::fs::File::open(path)
        .map_err(|e| Error::internal(&format!("opening {}", path.display()), e))?;
    let empty = copy::is_empty(&dst)
        .map_err(|e| Error::internal(&format!("reading {}", path.display()), e))?;
    if empty {
        copy::copy_dir(src.into(), dst.into())
            .map_err(|e| Error::internal(&format!("copying {target} into volume {name}"), e))?;
    }
    Ok(())
}

impl Containers {
    /// Creates the missing host directories of `-v` binds, as Docker does at each start
    /// (`--mount` binds must exist: create refuses them otherwise). Blocks.
    pub(super) fn make_bind_sources(&self, rec: &Record) -> Result<()> {
        for m in &rec.spec.mounts {
            if let (MountKind::Bind { source, .. }, MountOrigin::Bind { .. }) = (&m.kind, &m.origin)
                && !source.exists()
            {
                std::fs::create_dir_all(source).map_err(|e| {
                    Error::internal(
                        &format!(
                            "error while creating mount source path '{}'",
                            source.display()
                        ),
                        e,
                    )
                })?;
            }
        }
        Ok(())
    }

    /// Publishes `volume mount` (at start) or `unmount` (at exit) for each volume mounted.
    pub(super) fn volume_events(&self, rec: &Record, action: &str) {
        for m in &rec.spec.mounts {
            let MountKind::Volume { name, .. } = &m.kind else {
                continue;
            };
            let mut attrs = BTreeMap::from([
                ("driver".to_string(), "local".to_string()),
                ("container".to_string(), rec.id.clone()),
            ]);
            if action == "mount" {
                attrs.insert("destination".into(), m.target.clone());
                attrs.insert("read/write".into(), (!m.readonly).to_string());
                attrs.insert("propagation".into(), String::new());
            }
            self.events.publish("volume", action, name, attrs);
        }
    }

    fn volume_names(rec: &Record) -> impl Iterator<Item = &str> {
        rec.spec.mounts.iter().filter_map(|m| match &m.kind {
            MountKind::Volume { name, .. } => Some(name.as_str()),
            _ => None,
        })
    }

    /// Mounts the container's volumes that have driver options (each once for all its users);
    /// on error none stays mounted for this container. Blocks.
    pub(super) fn mount_volumes(&self, rec: &Record) -> Result<()> {
        let names: Vec<&str> = Self::volume_names(rec).collect();
        for (i, name) in names.iter().enumerate() {
            if let Err(e) = self.volumes.mount(name) {
                names[..i].iter().for_each(|n| self.volumes.unmount(n));
                return Err(e);
            }
        }
        Ok(())
    }

    /// Ends the container's uses of its volumes. Blocks.
    pub(super) fn unmount_volumes(&self, rec: &Record) {
        Self::volume_names(rec).for_each(|n| self.volumes.unmount(n));
    }

    /// Counts the volume uses of a container that kept running without a daemon.
    pub(super) fn restore_volumes(&self, rec: &Record) {
        Self::volume_names(rec).for_each(|n| self.volumes.restore_mount(n));
    }
}

/// The container's volumes mounted for the daemon's own use of them (a copy), until dropped.
pub(super) struct VolumesInUse<'a> {
    containers: &'a Containers,
    rec: &'a Record,
}

impl Containers {
    /// Mounts `rec`'s volumes that need it for as long as the guard lives. Blocks.
    pub(super) fn use_volumes<'a>(&'a self, rec: &'a Record) -> Result<VolumesInUse<'a>> {
        self.mount_volumes(rec)?;
        Ok(VolumesInUse {
            containers: self,
            rec,
        })
    }
}

impl Drop for VolumesInUse<'_> {
    fn drop(&mut self) {
        self.containers.unmount_volumes(self.rec);
    }
}
