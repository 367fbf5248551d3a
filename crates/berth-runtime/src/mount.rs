//! Mounting a container's rootfs from the snapshotter's [`Mount`]s.
//!
//! Mount data is limited to one page: an overlay with many layers named by absolute paths goes
//! over it. As containerd does, long `lowerdir` lists are rewritten relative to the layers'
//! common parent directory, and the mount is made from there.

use std::path::{Path, PathBuf};

use berth_core::Mount;

use std::io;

use crate::runtime::ProcessError;

/// A mount of the rootfs that failed: what was being done, and why.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct MountError {
    what: String,
    source: io::Error,
}

impl MountError {
    fn new(what: String, source: io::Error) -> Self {
        MountError { what, source }
    }
}

/// What the kernel accepts as mount data (one page, with its NUL).
const MAX_DATA: usize = 4095;

/// Mounts `mounts` under `rootfs`. Changes the working directory while mounting: call it only
/// from a single-threaded process (the monitor).
pub fn mount_all(mounts: &[Mount], rootfs: &Path) -> Result<(), MountError> {
    std::fs::create_dir_all(rootfs)
        .map_err(|e| MountError::new(format!("creating {}", rootfs.display()), e))?;
    for m in mounts {
        let target = rootfs.join(m.target.trim_start_matches('/'));
        let mut data = m.options.join(",");
        let mut cwd = None;
        if data.len() > MAX_DATA
            && let Some((dir, compact)) = compact_lowerdirs(&m.options)
        {
            std::env::set_current_dir(&dir)
                .map_err(|e| MountError::new(format!("entering {}", dir.display()), e))?;
            cwd = Some(dir);
            data = compact;
        }
        let result = nix::mount::mount(
            Some(m.source.as_str()),
            &target,
            Some(m.kind.as_str()),
            nix::mount::MsFlags::empty(),
            Some(data.as_str()),
        );
        if cwd.is_some() {
            let _ = std::env::set_current_dir("/");
        }
        result.map_err(|e| {
            let what = format!("mounting {} rootfs on {}", m.kind, target.display());
            match e {
                nix::errno::Errno::EINVAL if data.len() > MAX_DATA => MountError::new(
                    what,
                    io::Error::other("the image has too many layers for one overlay mount"),
                ),
                e => MountError::new(what, e.into()),
            }
        })?;
    }
    Ok(())
}

/// The options with `lowerdir` entries relative to their common parent, and that parent.
fn compact_lowerdirs(options: &[String]) -> Option<(PathBuf, String)> {
    let lowers: Vec<&str> = options
        .iter()
        .find_map(|o| o.strip_prefix("lowerdir="))?
        .split(':')
        .collect();
    let first = Path::new(lowers.first()?);
    let common = first.ancestors().skip(1).find(|dir| {
        dir.as_os_str().len() > 1 && lowers.iter().all(|l| Path::new(l).starts_with(dir))
    })?;
    let relative: Vec<String> = lowers
        .iter()
        .map(|l| {
            Path::new(l)
                .strip_prefix(common)
                .map(|p| p.display().to_string())
        })
        .collect::<Result<_, _>>()
        .ok()?;
    let rewritten: Vec<String> = options
        .iter()
        .map(|o| {
            if o.starts_with("lowerdir=") {
                format!("lowerdir={}", relative.join(":"))
            } else {
                o.clone()
            }
        })
        .collect();
    Some((common.to_path_buf(), rewritten.join(",")))
}

/// Creates directory `dir` (absolute, in the container's view) under `rootfs` with its missing
/// parents, mode 0755, owned by root, as Docker prepares a working directory. Symlinks on the
/// way resolve inside `rootfs`, never outside it.
pub fn make_dir_in_root(rootfs: &Path, dir: &str, bundle: &Path) -> Result<(), ProcessError> {
    use berth_core::rootfs::{FsError, RootDir};
    let root = RootDir::open(rootfs)
        .map_err(|e| ProcessError::runtime(format!("opening the rootfs: {e}")))?;
    let owner = oci_spec::runtime::Spec::load(bundle.join("config.json"))
        .ok()
        .and_then(|s| crate::userns_spec::root_owner(&s));
    match crate::userns_spec::mkdir_owned(&root, dir, owner) {
        Ok(()) => Ok(()),
        Err(FsError::NotDirectory { .. }) => Err(ProcessError::InvalidWorkdir {
            dir: dir.to_string(),
        }),
        Err(e) => Err(ProcessError::runtime(format!(
            "creating working directory {dir}: {e}"
        ))),
    }
}

/// The mounts every container gets; their targets are the runtime's to check.
const STANDARD: &[&str] = &[
    "/proc",
    "/dev",
    "/dev/pts",
    "/sys",
    "/sys/fs/cgroup",
    "/dev/mqueue",
    "/dev/shm",
];

/// Rewrites the bundle's mounts so each target is a real path inside `rootfs` (the rootfs
/// mounted): its symlinks followed inside the root, the directory made where a directory is
/// mounted. Docker's daemon does the same before runc runs; the runtime resolves the target in
/// the root once more when it mounts, so a path swapped in between still cannot leave it.
pub fn resolve_targets(bundle: &Path, rootfs: &Path) -> Result<(), ProcessError> {
    use berth_core::rootfs::RootDir;
    let fail = |what: String| ProcessError::runtime(what);
    let path = bundle.join("config.json");
    let mut spec = oci_spec::runtime::Spec::load(&path)
        .map_err(|e| fail(format!("reading {}: {e}", path.display())))?;
    let root = RootDir::open(rootfs).map_err(|e| fail(format!("opening the rootfs: {e}")))?;
    let owner = crate::userns_spec::root_owner(&spec);
    let real_root = std::fs::canonicalize(rootfs)
        .map_err(|e| fail(format!("resolving {}: {e}", rootfs.display())))?;
    let mut mounts = spec.mounts().clone().unwrap_or_default();
    for m in &mut mounts {
        let dest = m.destination().to_string_lossy().into_owned();
        if STANDARD.contains(&dest.as_str()) {
            continue;
        }
        let file_bind =
            m.typ().as_deref() == Some("bind") && m.source().as_ref().is_some_and(|s| !s.is_dir());
        let resolved = if file_bind {
            root.real_path(&dest)
                .map_err(|e| fail(format!("mount target {dest}: {e}")))?
        } else {
            let dest =
                follow(&root, &dest).map_err(|e| fail(format!("mount target {dest}: {e}")))?;
            crate::userns_spec::mkdir_owned(&root, &dest, owner)
                .map_err(|e| fail(format!("creating mount target {dest}: {e}")))?;
            let host = root
                .host_path(&dest)
                .map_err(|e| fail(format!("mount target {dest}: {e}")))?
                .ok_or_else(|| fail(format!("mount target {dest} vanished")))?;
            let inside = host
                .strip_prefix(&real_root)
                .map_err(|_| fail(format!("mount target {dest} resolved outside the rootfs")))?;
            format!("/{}", inside.display())
        };
        m.set_destination(PathBuf::from(resolved));
    }
    spec.set_mounts(Some(mounts));
    spec.save(&path)
        .map_err(|e| fail(format!("writing {}: {e}", path.display())))
}

/// `path` with every symlink followed inside `root`, dangling ones included (a mount target
/// is made where its symlink points, as runc's `MkdirAll` in the root does).
fn follow(root: &berth_core::rootfs::RootDir, path: &str) -> Result<String, String> {
    use berth_core::rootfs::Kind;
    let mut p = path.to_string();
    for _ in 0..40 {
        let real = root.real_path(&p).map_err(|e| e.to_string())?;
        if root.kind_nofollow(&real).map_err(|e| e.to_string())? != Some(Kind::Symlink) {
            return Ok(real);
        }
        let link = root
            .host_path_nofollow(&real)
            .map_err(|e| e.to_string())?
            .ok_or("vanished")?;
        let target = std::fs::read_link(link).map_err(|e| e.to_string())?;
        p = Path::new(&real)
            .parent()
            .unwrap_or(Path::new("/"))
            .join(target)
            .display()
            .to_string();
    }
    Err("too many levels of symbolic links".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_directories_are_made_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir(r.join("outside")).unwrap();
        std::os::unix::fs::symlink("/outside", r.join("link")).unwrap();
        std::os::unix::fs::symlink("../../../../..", r.join("up")).unwrap();
        std::fs::write(r.join("f"), "").unwrap();
        make_dir_in_root(r, "/a/b", Path::new("/nonexistent")).unwrap();
        assert!(r.join("a/b").is_dir());
        make_dir_in_root(r, "/a/b", Path::new("/nonexistent")).unwrap();
        make_dir_in_root(r, "/link/x", Path::new("/nonexistent")).unwrap();
        assert!(
            r.join("outside/x").is_dir(),
            "absolute links resolve in the root"
        );
        make_dir_in_root(r, "/up/escaped", Path::new("/nonexistent")).unwrap();
        assert!(r.join("escaped").is_dir(), "`..` stops at the root");
        assert_eq!(
            make_dir_in_root(r, "/f/x", Path::new("/nonexistent")).unwrap_err(),
            ProcessError::InvalidWorkdir { dir: "/f/x".into() }
        );
    }

    #[test]
    fn lowerdirs_become_relative_to_their_common_parent() {
        let opts = vec![
            "lowerdir=/var/lib/berth/snapshots/layers/aa/fs:/var/lib/berth/snapshots/layers/bb/fs"
                .to_string(),
            "upperdir=/var/lib/berth/snapshots/active/c/upper".to_string(),
        ];
        let (dir, data) = compact_lowerdirs(&opts).unwrap();
        assert_eq!(dir, Path::new("/var/lib/berth/snapshots/layers"));
        assert_eq!(
            data,
            "lowerdir=aa/fs:bb/fs,upperdir=/var/lib/berth/snapshots/active/c/upper"
        );
        // No shared parent other than `/`: nothing to gain.
        let opts = vec!["lowerdir=/a/fs:/b/fs".to_string()];
        assert!(compact_lowerdirs(&opts).is_none());
    }

    #[test]
    fn a_deep_image_mounts() {
        // 120 layers named as the snapshotter's short links: over a page as absolute paths.
        let dir = tempfile::tempdir().unwrap();
        let layers = dir.path().join("snapshots-with-a-long-name/l");
        let mut lowers = Vec::new();
        for i in 0..120 {
            let l = layers.join(format!("{i:016x}"));
            std::fs::create_dir_all(&l).unwrap();
            std::fs::write(l.join(format!("f{i}")), "").unwrap();
            lowers.push(l.display().to_string());
        }
        lowers.reverse();
        let (upper, work, root) = (
            dir.path().join("u"),
            dir.path().join("w"),
            dir.path().join("r"),
        );
        for d in [&upper, &work] {
            std::fs::create_dir_all(d).unwrap();
        }
        let m = Mount {
            kind: "overlay".into(),
            source: "overlay".into(),
            target: "/".into(),
            options: vec![
                format!("lowerdir={}", lowers.join(":")),
                format!("upperdir={}", upper.display()),
                format!("workdir={}", work.display()),
            ],
        };
        assert!(m.options.join(",").len() > MAX_DATA);
        mount_all(std::slice::from_ref(&m), &root).unwrap();
        let seen = std::fs::read_dir(&root).unwrap().count();
        nix::mount::umount(&root).unwrap();
        assert_eq!(seen, 120);
    }
}
