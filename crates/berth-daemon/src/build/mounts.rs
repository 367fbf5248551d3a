//! `RUN --mount`: cache directories that persist between builds (by id), binds of the context,
//! a stage or an image (read-only, or writable with the writes thrown away), tmpfs, and secrets.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use berth_build::RunMount;
use berth_build::mount::Sharing;
use berth_runtime::ExtraMount;
use sha2::{Digest as _, Sha256};

use super::context::resolve;
use super::copy::View;
use super::stage::State;
use crate::error::{Error, Result};

/// What keeps the mounts of one RUN valid until it ends.
#[derive(Default)]
pub struct Prepared {
    /// For the container.
    pub mounts: Vec<ExtraMount>,
    /// Environment variables (`type=secret,env=VAR`).
    pub env: Vec<String>,
    views: Vec<View>,
    locks: Vec<tokio::sync::OwnedMutexGuard<()>>,
    overlays: Vec<PathBuf>,
    temps: Vec<PathBuf>,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        for o in &self.overlays {
            let _ = nix::mount::umount2(&o.join("merged"), nix::mount::MntFlags::MNT_DETACH);
            let _ = std::fs::remove_dir_all(o);
        }
        for t in &self.temps {
            let _ = std::fs::remove_dir_all(t);
        }
    }
}

impl Prepared {
    /// Adds a read-only file with `content` at `target` (a heredoc script).
    pub fn add_file(
        &mut self,
        b: &super::Builder,
        target: &str,
        content: &[u8],
        mode: u32,
    ) -> Result<()> {
        let dir = b.workdir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::internal("script dir", e))?;
        self.temps.push(dir.clone());
        let file = dir.join("script");
        std::fs::write(&file, content)
            .and_then(|()| std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)))
            .map_err(|e| Error::internal("writing script", e))?;
        self.mounts.push(bind(file, target.to_string(), true));
        Ok(())
    }
}

/// Locks of `sharing=locked|private` cache mounts, by directory.
#[derive(Default)]
pub struct CacheLocks(Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>);

impl CacheLocks {
    fn get(&self, dir: &Path) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.0.lock().expect("cache locks");
        locks.entry(dir.to_path_buf()).or_default().clone()
    }
}

/// Instance `n` of the cache in `dir` (`sharing=private` makes more than one).
fn instance(dir: &Path, n: usize) -> PathBuf {
    if n == 0 {
        return dir.to_path_buf();
    }
    let mut s = dir.as_os_str().to_owned();
    s.push(format!("-{n}"));
    PathBuf::from(s)
}

/// Creates cache directory `dir`: a copy of `seed`, or empty with `mode` and `owner`; made
/// aside and renamed into place, so that a crash leaves no half-seeded cache.
fn create_cache(
    b: &super::Builder,
    dir: &Path,
    id: &str,
    seed: Option<&Path>,
    mode: u32,
    owner: (u32, u32),
) -> std::io::Result<()> {
    let tmp = b.workdir();
    match seed {
        Some(src) => {
            let ex = berth_build::Ignore::default();
            std::fs::create_dir_all(&tmp)?;
            let root = berth_core::rootfs::RootDir::open(&tmp)?;
            super::copy::copy_tree(src, &root, "/", "", None, None, &ex)?;
        }
        None => {
            std::fs::create_dir_all(&tmp)?;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
            std::os::unix::fs::chown(&tmp, Some(owner.0), Some(owner.1))?;
        }
    }
    std::fs::write(dir.with_extension("id"), id)?;
    if let Err(e) = std::fs::rename(&tmp, dir) {
        let _ = std::fs::remove_dir_all(&tmp);
        // Another build made it first.
        if !dir.is_dir() {
            return Err(e);
        }
    }
    Ok(())
}

/// The image a mount's `from=` names.
fn from_image(st: &State<'_>, from: &str) -> Result<Option<berth_image::Image>> {
    st.source_image(from, || {
        Error::not_found(format!(
            "RUN --mount from={from}: no such stage or image here"
        ))
    })
}

/// What a RUN's cache key must know of its bind mounts' sources: the image a `from=` names,
/// or a checksum of the context files bound. (Cache mounts are not part of the key.)
pub fn sources_key(st: &State<'_>, specs: &[RunMount]) -> Result<String> {
    let mut key = String::new();
    for m in specs {
        let RunMount::Bind { source, from, .. } = m else {
            continue;
        };
        let source = expand(st, source)?.unwrap_or_default();
        match expand(st, from)? {
            Some(from) => {
                let image = from_image(st, &from)?;
                let id = image.map(|i| i.id.to_string()).unwrap_or_default();
                key.push_str(&format!("bind {from} {id} {source}\n"));
            }
            None => {
                let real = st.shared.ctx.resolve(&source).ok_or_else(|| {
                    Error::invalid(format!(
                        "RUN --mount=type=bind: source {source:?} not found"
                    ))
                })?;
                let sum = super::copy::context_checksum(&st.shared.ctx, &real);
                key.push_str(&format!("bind context {source} {sum}\n"));
            }
        }
    }
    Ok(key)
}

/// The directory of cache mount `id` under `root`.
pub fn cache_dir(root: &Path, id: &str) -> PathBuf {
    root.join(format!("{:x}", Sha256::digest(id.as_bytes())))
}

fn unsupported(msg: String) -> Error {
    Error::new(berth_core::ErrorKind::NotImplemented, msg)
}

/// A word of a mount's spec with the build's args expanded.
fn expand(st: &State<'_>, v: &Option<String>) -> Result<Option<String>> {
    v.as_deref().map(|v| st.expand(v)).transpose()
}

/// An expanded target; a relative one is under the working directory.
fn target_path(st: &State<'_>, target: &str) -> Result<String> {
    let t = st.expand(target)?;
    Ok(if t.starts_with('/') {
        t
    } else {
        format!("{}/{t}", st.config.config.working_dir.trim_end_matches('/'))
    })
}

/// The owner a cache or secret gets (root when unset).
/// The host owner of a mount's `uid`/`gid`: the step's container sees them as given (shifted
/// into the daemon's user namespace under `--userns-remap`).
fn owner(st: &State<'_>, uid: &Option<String>, gid: &Option<String>) -> Result<(u32, u32)> {
    let (uid, gid) = (
        num(expand(st, uid)?, "uid")?.unwrap_or(0),
        num(expand(st, gid)?, "gid")?.unwrap_or(0),
    );
    match st.shared.builder.images.snapshots().ids() {
        Some(ids) => ids
            .host_owner(uid, gid)
            .map_err(|e| Error::invalid(e.to_string())),
        None => Ok((uid, gid)),
    }
}

/// Makes ready what the mounts of a RUN need, in order.
pub async fn prepare(st: &State<'_>, specs: &[RunMount]) -> Result<Prepared> {
    let mut p = Prepared::default();
    for m in specs {
        match m {
            RunMount::Cache { .. } => cache(st, m, &mut p).await?,
            RunMount::Bind {
                target,
                source,
                from,
                readwrite,
            } => {
                let target = target_path(st, target)?;
                let source = expand(st, source)?.unwrap_or_default();
                let from = expand(st, from)?;
                bind_source(st, target, &source, from, *readwrite, &mut p).await?;
            }
            RunMount::Tmpfs {
                target,
                size,
                readonly,
            } => p.mounts.push(ExtraMount {
                kind: "tmpfs".into(),
                source: PathBuf::new(),
                destination: target_path(st, target)?,
                readonly: *readonly,
                options: expand(st, size)?
                    .map(|s| format!("size={s}"))
                    .into_iter()
                    .collect(),
            }),
            RunMount::Secret { .. } => secret(st, m, &mut p)?,
            RunMount::Ssh => {
                return Err(unsupported(
                    "RUN --mount=type=ssh is not supported by berth yet".into(),
                ));
            }
        }
    }
    Ok(p)
}

/// `type=cache`: the cache's directory (made on first use, seeded from `from=` if given).
async fn cache(st: &State<'_>, m: &RunMount, p: &mut Prepared) -> Result<()> {
    let RunMount::Cache {
        target,
        id,
        from,
        source,
        sharing,
        mode,
        uid,
        gid,
        readonly,
    } = m
    else {
        unreachable!("called for cache mounts")
    };
    let b = st.shared.builder.clone();
    let target = target_path(st, target)?;
    let id = expand(st, id)?.unwrap_or_else(|| target.clone());
    let base = match expand(st, from)? {
        None => None,
        Some(from) => {
            let image = from_image(st, &from)?;
            Some((image, expand(st, source)?.unwrap_or_default()))
        }
    };
    // A cache seeded from a stage is its own cache: another base, another id.
    let key = match &base {
        None => id.clone(),
        Some((image, source)) => format!(
            "{id}\0{}\0{source}",
            image.as_ref().map(|i| i.id.to_string()).unwrap_or_default()
        ),
    };
    let dir = cache_dir(&b.cache_mounts, &key);
    let dir = match sharing {
        Sharing::Shared => dir,
        Sharing::Locked => {
            p.locks.push(b.cache_locks.get(&dir).lock_owned().await);
            dir
        }
        // Another instance of the cache while this one has a writer.
        Sharing::Private => {
            let mut n = 0;
            loop {
                let d = instance(&dir, n);
                if let Ok(guard) = b.cache_locks.get(&d).try_lock_owned() {
                    p.locks.push(guard);
                    break d;
                }
                n += 1;
            }
        }
    };
    if !dir.exists() {
        let seed = match &base {
            None => None,
            Some((image, source)) => {
                let v = View::mount(&b, image.as_ref())?;
                let path = resolve(v.root(), source).ok_or_else(|| {
                    Error::invalid(format!(
                        "RUN --mount=type=cache: source {source:?} not found"
                    ))
                })?;
                Some((v, path))
            }
        };
        let mode = self::mode(expand(st, mode)?, 0o755)?;
        create_cache(
            &b,
            &dir,
            &id,
            seed.as_ref().map(|(_, p)| p.as_path()),
            mode,
            owner(st, uid, gid)?,
        )
        .map_err(|e| Error::internal("creating cache mount", e))?;
    }
    p.mounts.push(bind(dir, target, *readonly));
    Ok(())
}

/// `type=bind`: a path of the context (written out only now), a stage or an image.
async fn bind_source(
    st: &State<'_>,
    target: String,
    source: &str,
    from: Option<String>,
    readwrite: bool,
    p: &mut Prepared,
) -> Result<()> {
    let b = st.shared.builder.clone();
    let not_found = || {
        Error::invalid(format!(
            "RUN --mount=type=bind: source {source:?} not found"
        ))
    };
    let path = match from {
        // The context's files are on disk only once a step needs them.
        None => {
            let real = st.shared.ctx.resolve(source).ok_or_else(not_found)?;
            let ctx = st.shared.ctx.clone();
            crate::blocking::run("writing a bind mount's sources", move || {
                ctx.materialise(&real)
                    .map_err(|e| Error::internal("writing a bind mount's sources", e))
            })
            .await?
        }
        Some(from) => {
            let image = from_image(st, &from)?;
            let v = View::mount(&b, image.as_ref())?;
            let path = resolve(v.root(), source).ok_or_else(not_found)?;
            p.views.push(v);
            path
        }
    };
    if readwrite {
        // Writes go to a throwaway upper layer.
        let dir = writable(&b, &path, p)?;
        p.mounts.push(bind(dir, target, false));
    } else {
        p.mounts.push(bind(path, target, true));
    }
    Ok(())
}

/// `type=secret`: a file holding the secret the client sent, or an environment variable.
fn secret(st: &State<'_>, m: &RunMount, p: &mut Prepared) -> Result<()> {
    let RunMount::Secret {
        id,
        target,
        env,
        required,
        mode,
        uid,
        gid,
    } = m
    else {
        unreachable!("called for secret mounts")
    };
    let target = target.as_deref().map(|t| target_path(st, t)).transpose()?;
    let id = match (expand(st, id)?, &target) {
        (Some(id), _) => id,
        (None, Some(t)) => Path::new(t)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        (None, None) => {
            return Err(Error::invalid(
                "RUN --mount=type=secret needs an id or a target",
            ));
        }
    };
    let Some(value) = st.shared.secrets.get(&id) else {
        if *required {
            return Err(Error::invalid(format!(
                "secret {id}: not provided (berth build --secret id={id},src=FILE)"
            )));
        }
        return Ok(());
    };
    if let Some(var) = expand(st, env)? {
        p.env
            .push(format!("{var}={}", String::from_utf8_lossy(value)));
        if target.is_none() {
            return Ok(());
        }
    }
    let b = &st.shared.builder;
    let dir = b.workdir();
    std::fs::create_dir_all(&dir).map_err(|e| Error::internal("secret dir", e))?;
    p.temps.push(dir.clone());
    let file = dir.join("secret");
    let mode = self::mode(expand(st, mode)?, 0o400)?;
    let (uid, gid) = owner(st, uid, gid)?;
    std::fs::write(&file, value)
        .and_then(|()| std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)))
        .and_then(|()| std::os::unix::fs::chown(&file, Some(uid), Some(gid)))
        .map_err(|e| Error::internal("writing secret", e))?;
    p.mounts.push(bind(
        file,
        target.unwrap_or_else(|| format!("/run/secrets/{id}")),
        true,
    ));
    Ok(())
}

fn bind(source: PathBuf, destination: String, readonly: bool) -> ExtraMount {
    ExtraMount {
        kind: "bind".into(),
        source,
        destination,
        readonly,
        options: vec![],
    }
}

fn num(v: Option<String>, what: &str) -> Result<Option<u32>> {
    v.map(|s| {
        s.parse()
            .map_err(|_| Error::invalid(format!("invalid {what} {s:?}")))
    })
    .transpose()
}

fn mode(v: Option<String>, default: u32) -> Result<u32> {
    match v {
        None => Ok(default),
        Some(s) => {
            u32::from_str_radix(&s, 8).map_err(|_| Error::invalid(format!("invalid mode {s:?}")))
        }
    }
}

/// A writable copy-on-write view of `path` whose writes are discarded afterwards.
fn writable(b: &super::Builder, path: &Path, p: &mut Prepared) -> Result<PathBuf> {
    let dir = b.workdir();
    let (upper, work, merged) = (dir.join("upper"), dir.join("work"), dir.join("merged"));
    for d in [&upper, &work, &merged] {
        std::fs::create_dir_all(d).map_err(|e| Error::internal("rw bind dirs", e))?;
    }
    p.overlays.push(dir.clone());
    if !path.is_dir() {
        let copy = dir.join("file");
        std::fs::copy(path, &copy).map_err(|e| Error::internal("rw bind copy", e))?;
        return Ok(copy);
    }
    let options = format!(
        "lowerdir={},upperdir={},workdir={}",
        path.display(),
        upper.display(),
        work.display()
    );
    nix::mount::mount(
        Some("overlay"),
        &merged,
        Some("overlay"),
        nix::mount::MsFlags::empty(),
        Some(options.as_str()),
    )
    .map_err(|e| Error::internal("mounting a writable bind", e))?;
    Ok(merged)
}
