//! Layer tar → directory, with Docker's whiteout rules and nothing written outside the directory.
//! The one tar extractor: `ADD` of a local archive uses it too ([`unpack_archive`]), without the
//! whiteout rules.
//!
//! Rules, as in Docker's archive package:
//! - entry names are cleaned; a leading `/` is ignored and a `..` that climbs above the root is an
//!   error (`..` inside the tree is resolved);
//! - no entry is written through a symlink: a parent component that is a symlink is an error, so
//!   `a -> /etc` followed by `a/passwd` cannot touch the host;
//! - hard links must name a file already inside the layer;
//! - `.wh.<name>` becomes an overlay whiteout (a 0/0 character device) and `.wh..wh..opq` marks its
//!   directory opaque (`trusted.overlay.opaque=y`);
//! - other device nodes are skipped and counted: containers get their own `/dev`, and a layer must
//!   not give anyone a handle on a host device.

use berth_core::idmap::IdMap;
use std::ffi::CString;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, lchown, symlink};
use std::path::{Component, Path, PathBuf};

use berth_core::{Digest, ErrorKind, HasKind};
use sha2::{Digest as _, Sha256};
use tar::EntryType;

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

/// Why a layer could not be applied. The layer directory is then incomplete and must be discarded.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The archive could not be read (truncated, not a tar, I/O error).
    #[error("invalid layer archive")]
    Read(#[source] io::Error),
    /// An entry's name climbs out of the layer (`../x`).
    #[error("invalid layer archive: path {0:?} escapes the layer root")]
    Escape(String),
    /// An entry would be written through a symlink.
    #[error("invalid layer archive: path {path:?} goes through symlink {link:?}")]
    ThroughSymlink {
        /// The entry.
        path: String,
        /// The symlink on its way.
        link: String,
    },
    /// A hard link points at something that is not a file in the layer.
    #[error("invalid layer archive: hard link {path:?} to {target:?} outside the layer")]
    BadHardlink {
        /// The link.
        path: String,
        /// Where it points.
        target: String,
    },
    /// Writing an entry failed.
    #[error("failed to extract {path}")]
    Write {
        /// The file on disk.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

impl HasKind for ApplyError {
    fn kind(&self) -> ErrorKind {
        match self {
            ApplyError::Write { .. } => ErrorKind::Internal,
            _ => ErrorKind::InvalidArgument,
        }
    }
}

/// What [`apply`] did.
#[derive(Debug, Clone)]
pub struct ApplyStats {
    /// sha256 of the uncompressed tar stream: the layer's diff ID.
    pub diff_id: Digest,
    /// Bytes of the tar stream.
    pub tar_size: u64,
    /// Bytes of the files it adds as `du --apparent-size` counts them (file sizes and link
    /// target lengths, each file once): the size Docker reports for a layer.
    pub content_size: u64,
    /// Device nodes that were not created.
    pub skipped_devices: u32,
}

struct Hashing<R> {
    inner: R,
    /// `None` when the caller knows the stream's digest already.
    hasher: Option<Sha256>,
    size: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        self.size += n as u64;
        Ok(n)
    }
}

/// Unpacks the (uncompressed) layer tar `reader` into `root`, which must exist.
pub fn apply(root: &Path, reader: impl Read) -> Result<ApplyStats, ApplyError> {
    extract(root, reader, true, None, None)
}

/// [`apply`] for a user namespace `ids`: owners are shifted to the host IDs they are (Docker's
/// remapped layers); an owner outside the map is an error.
pub fn apply_mapped(
    root: &Path,
    reader: impl Read,
    ids: Option<&IdMap>,
) -> Result<ApplyStats, ApplyError> {
    extract(root, reader, true, ids, None)
}

/// [`apply_mapped`] of a stream whose sha256 the caller already has (it hashed the bytes as it
/// stored them): `diff_id` is taken as the diff ID instead of hashing the stream again.
pub fn apply_known(
    root: &Path,
    reader: impl Read,
    ids: Option<&IdMap>,
    diff_id: &Digest,
) -> Result<ApplyStats, ApplyError> {
    extract(root, reader, true, ids, Some(diff_id))
}

/// Unpacks an ordinary (uncompressed) tar archive into `root` (`ADD` of a local archive), with
/// the same rules except that whiteout names are ordinary names: only layers have whiteouts.
pub fn unpack_archive(root: &Path, reader: impl Read) -> Result<ApplyStats, ApplyError> {
    extract(root, reader, false, None, None)
}

/// The one tar extractor: a layer's (`whiteouts`) or an archive's.
fn extract(
    root: &Path,
    reader: impl Read,
    whiteouts: bool,
    ids: Option<&IdMap>,
    known: Option<&Digest>,
) -> Result<ApplyStats, ApplyError> {
    let mut archive = tar::Archive::new(Hashing {
        inner: reader,
        hasher: known.is_none().then(Sha256::new),
        size: 0,
    });
    let mut skipped_devices = 0;
    let mut content_size = 0;
    let mut dir_times = Vec::new();
    for entry in archive.entries().map_err(ApplyError::Read)? {
        let mut entry = entry.map_err(ApplyError::Read)?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(rel) = clean(&raw)? else { continue };
        let name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent = rel.parent().unwrap_or(Path::new(""));
        ensure_parents(root, parent, &raw)?;
        let dest = root.join(&rel);
        let werr = |source| ApplyError::Write {
            path: dest.clone(),
            source,
        };

        if whiteouts && name == OPAQUE {
            set_opaque(&root.join(parent)).map_err(werr)?;
            continue;
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX).filter(|_| whiteouts) {
            let target = root.join(parent).join(hidden);
            remove_any(&target).map_err(|source| ApplyError::Write {
                path: target.clone(),
                source,
            })?;
            mknod_whiteout(&target).map_err(|source| ApplyError::Write {
                path: target.clone(),
                source,
            })?;
            continue;
        }

        let kind = entry.header().entry_type();
        let existing = fs::symlink_metadata(&dest).ok();
        if let Some(meta) = existing
            && !(meta.is_dir() && kind == EntryType::Directory)
        {
            remove_any(&dest).map_err(werr)?;
        }
        let header = entry.header();
        let mode = header.mode().map_err(ApplyError::Read)? & 0o7777;
        let (uid, gid) = (
            header.uid().map_err(ApplyError::Read)?,
            header.gid().map_err(ApplyError::Read)?,
        );
        let mtime = header.mtime().map_err(ApplyError::Read)?;
        match kind {
            EntryType::Regular | EntryType::Continuous => {
                let mut f = File::create_new(&dest).map_err(werr)?;
                content_size += copy_data(&mut entry, &mut f, werr)?;
            }
            EntryType::Directory => {
                if !dest.is_dir() {
                    fs::create_dir(&dest).map_err(werr)?;
                }
                dir_times.push((dest.clone(), mtime));
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(ApplyError::Read)?
                    .unwrap_or_default();
                content_size += target.as_os_str().len() as u64;
                symlink(&target, &dest).map_err(werr)?;
            }
            EntryType::Link => {
                let target_raw = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let bad = || ApplyError::BadHardlink {
                    path: raw.clone(),
                    target: target_raw.clone(),
                };
                let target_rel = clean(&target_raw).map_err(|_| bad())?.ok_or_else(bad)?;
                ensure_parents(
                    root,
                    target_rel.parent().unwrap_or(Path::new("")),
                    &target_raw,
                )
                .map_err(|_| bad())?;
                let target = root.join(&target_rel);
                match fs::symlink_metadata(&target) {
                    Ok(m) if !m.is_dir() => fs::hard_link(&target, &dest).map_err(werr)?,
                    _ => return Err(bad()),
                }
                continue; // a hard link shares its target's metadata
            }
            EntryType::Fifo => mknod(&dest, libc::S_IFIFO, 0).map_err(werr)?,
            EntryType::Char | EntryType::Block => {
                skipped_devices += 1;
                tracing::warn!(path = %raw, "skipping device node in layer");
                continue;
            }
            // Global/extended headers and GNU long names are consumed by the tar crate; anything
            // else (sparse files, volume labels) carries no file we can place safely.
            other => {
                tracing::warn!(path = %raw, kind = ?other, "skipping unsupported tar entry");
                continue;
            }
        }
        let (uid, gid) = match ids {
            Some(ids) => {
                let id = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
                let (u, g) = ids
                    .host_owner(id(uid), id(gid))
                    .map_err(|e| werr(io::Error::new(io::ErrorKind::InvalidData, e)))?;
                (u64::from(u), u64::from(g))
            }
            None => (uid, gid),
        };
        set_metadata(&dest, kind, uid, gid, mode, mtime).map_err(werr)?;
    }
    // Directory times are set last: creating their children changed them.
    for (dir, mtime) in dir_times.into_iter().rev() {
        let t = filetime::FileTime::from_unix_time(mtime as i64, 0);
        filetime::set_symlink_file_times(&dir, t, t)
            .map_err(|source| ApplyError::Write { path: dir, source })?;
    }
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(ApplyError::Read)?;
    Ok(ApplyStats {
        diff_id: match (known, rest.hasher) {
            (Some(d), _) => d.clone(),
            (None, Some(h)) => Digest::from_sha256(&h.finalize()),
            (None, None) => unreachable!("hashing without a known digest"),
        },
        tar_size: rest.size,
        content_size,
        skipped_devices,
    })
}

/// Copies an entry's data, telling a broken archive (a read error: truncated, corrupt
/// compression) from a failed write.
fn copy_data(
    from: &mut impl Read,
    to: &mut File,
    werr: impl Fn(io::Error) -> ApplyError,
) -> Result<u64, ApplyError> {
    crate::data::copy_data(from, to).map_err(|e| match e {
        crate::data::DataError::Read(e) => ApplyError::Read(e),
        crate::data::DataError::Write(e) => werr(e),
    })
}

/// Cleans an entry name into a relative path; `None` for the root itself.
fn clean(raw: &str) -> Result<Option<PathBuf>, ApplyError> {
    let mut out = PathBuf::new();
    for c in Path::new(raw).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::ParentDir => {
                if !out.pop() {
                    return Err(ApplyError::Escape(raw.to_string()));
                }
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

/// Creates missing parent directories, refusing to pass through a symlink.
fn ensure_parents(root: &Path, parent: &Path, raw: &str) -> Result<(), ApplyError> {
    let mut cur = root.to_path_buf();
    for c in parent.components() {
        cur.push(c);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = cur
                    .strip_prefix(root)
                    .unwrap_or(&cur)
                    .to_string_lossy()
                    .into_owned();
                return Err(ApplyError::ThroughSymlink {
                    path: raw.to_string(),
                    link,
                });
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                // A file where a directory is needed: the later entry wins, as in Docker.
                fs::remove_file(&cur).map_err(|source| ApplyError::Write {
                    path: cur.clone(),
                    source,
                })?;
                fs::create_dir(&cur).map_err(|source| ApplyError::Write {
                    path: cur.clone(),
                    source,
                })?;
            }
            Err(_) => {
                fs::create_dir(&cur).map_err(|source| ApplyError::Write {
                    path: cur.clone(),
                    source,
                })?;
                fs::set_permissions(&cur, fs::Permissions::from_mode(0o755)).map_err(|source| {
                    ApplyError::Write {
                        path: cur.clone(),
                        source,
                    }
                })?;
            }
        }
    }
    Ok(())
}

fn remove_any(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

fn set_metadata(
    path: &Path,
    kind: EntryType,
    uid: u64,
    gid: u64,
    mode: u32,
    mtime: u64,
) -> io::Result<()> {
    let id = |v: u64| {
        u32::try_from(v)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "uid/gid out of range"))
    };
    lchown(path, Some(id(uid)?), Some(id(gid)?))?;
    if kind != EntryType::Symlink {
        // After chown, which clears setuid/setgid bits.
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    }
    let t = filetime::FileTime::from_unix_time(mtime as i64, 0);
    filetime::set_symlink_file_times(path, t, t)
}

fn cstring(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

fn mknod(path: &Path, kind: libc::mode_t, dev: libc::dev_t) -> io::Result<()> {
    let c = cstring(path)?;
    // SAFETY: `c` is a valid NUL-terminated path that lives across the call.
    if unsafe { libc::mknod(c.as_ptr(), kind | 0o644, dev) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn mknod_whiteout(path: &Path) -> io::Result<()> {
    mknod(path, libc::S_IFCHR, 0)
}

fn set_opaque(dir: &Path) -> io::Result<()> {
    let c = cstring(dir)?;
    let name = c"trusted.overlay.opaque";
    // SAFETY: both strings are NUL-terminated and outlive the call; the value is 1 byte long.
    let rc = unsafe { libc::lsetxattr(c.as_ptr(), name.as_ptr(), b"y".as_ptr().cast(), 1, 0) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, EntryType, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(0);
            h.set_mode(if *kind == EntryType::Directory {
                0o755
            } else {
                0o644
            });
            match kind {
                EntryType::Symlink | EntryType::Link => {
                    h.set_size(0);
                    // set_path/set_link_name validate; write raw names so hostile ones get through.
                    h.as_old_mut().linkname[..data.len()].copy_from_slice(data.as_bytes());
                }
                _ => h.set_size(data.len() as u64),
            }
            h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
            h.set_cksum();
            let content: &[u8] = if matches!(kind, EntryType::Symlink | EntryType::Link) {
                b""
            } else {
                data.as_bytes()
            };
            b.append(&h, content).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn regular_layer_and_diff_id() {
        let dir = tempfile::tempdir().unwrap();
        let data = tar_of(&[
            ("etc/", EntryType::Directory, ""),
            ("etc/x", EntryType::Regular, "hi"),
            ("/abs", EntryType::Regular, "a"),
            ("etc/l", EntryType::Symlink, "x"),
            ("etc/h", EntryType::Link, "etc/x"),
        ]);
        let stats = apply(dir.path(), &data[..]).unwrap();
        assert_eq!(
            stats.content_size, 4,
            "file bytes and link targets, hard links once"
        );
        assert_eq!(fs::read_to_string(dir.path().join("etc/x")).unwrap(), "hi");
        assert_eq!(
            fs::read_to_string(dir.path().join("abs")).unwrap(),
            "a",
            "absolute names are contained"
        );
        assert_eq!(stats.diff_id, Digest::from_sha256(&Sha256::digest(&data)));
        assert_eq!(stats.tar_size, data.len() as u64);
    }

    #[test]
    fn a_truncated_archive_is_invalid_input_not_a_write_failure() {
        let dir = tempfile::tempdir().unwrap();
        let data = tar_of(&[("big", EntryType::Regular, &"x".repeat(100_000))]);
        let err = apply(dir.path(), &data[..20_000]).unwrap_err();
        assert!(matches!(err, ApplyError::Read(_)), "{err}");
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        // Nothing of the host's layout leaks into the message.
        assert!(!err.to_string().contains(dir.path().to_str().unwrap()));
    }

    #[test]
    fn dotdot_escape_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("root");
        fs::create_dir(&inner).unwrap();
        let err = apply(&inner, &tar_of(&[("../evil", EntryType::Regular, "x")])[..]).unwrap_err();
        assert!(matches!(err, ApplyError::Escape(_)), "{err}");
        assert!(!dir.path().join("evil").exists());
    }

    #[test]
    fn writing_through_symlink_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let link = outside.path().to_str().unwrap().to_string();
        let err = apply(
            dir.path(),
            &tar_of(&[
                ("a", EntryType::Symlink, &link),
                ("a/passwd", EntryType::Regular, "x"),
            ])[..],
        )
        .unwrap_err();
        assert!(matches!(err, ApplyError::ThroughSymlink { .. }), "{err:?}");
        assert!(!outside.path().join("passwd").exists());
    }

    #[test]
    fn hardlink_outside_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let err = apply(
            dir.path(),
            &tar_of(&[("l", EntryType::Link, "../../etc/passwd")])[..],
        )
        .unwrap_err();
        assert!(matches!(err, ApplyError::BadHardlink { .. }), "{err}");
        let err = apply(
            dir.path(),
            &tar_of(&[
                ("s", EntryType::Symlink, "/etc"),
                ("l", EntryType::Link, "s/passwd"),
            ])[..],
        )
        .unwrap_err();
        assert!(matches!(err, ApplyError::BadHardlink { .. }), "{err}");
    }

    #[test]
    fn whiteouts_and_devices() {
        let dir = tempfile::tempdir().unwrap();
        let stats = apply(
            dir.path(),
            &tar_of(&[
                ("d/", EntryType::Directory, ""),
                ("d/.wh..wh..opq", EntryType::Regular, ""),
                ("d/.wh.gone", EntryType::Regular, ""),
                ("dev/sda", EntryType::Block, ""),
            ])[..],
        )
        .unwrap();
        use std::os::unix::fs::FileTypeExt;
        let m = fs::symlink_metadata(dir.path().join("d/gone")).unwrap();
        assert!(m.file_type().is_char_device());
        assert_eq!(stats.skipped_devices, 1);
        assert!(!dir.path().join("dev/sda").exists());
    }

    #[test]
    fn an_archive_keeps_whiteout_names_and_the_layer_rules() {
        let dir = tempfile::tempdir().unwrap();
        let stats = unpack_archive(
            dir.path(),
            &tar_of(&[
                ("d/", EntryType::Directory, ""),
                ("d/.wh.kept", EntryType::Regular, "x"),
                ("dev/sda", EntryType::Block, ""),
            ])[..],
        )
        .unwrap();
        assert_eq!(fs::read(dir.path().join("d/.wh.kept")).unwrap(), b"x");
        assert_eq!(stats.skipped_devices, 1);
        let err = unpack_archive(
            dir.path(),
            &tar_of(&[("../../etc/x", EntryType::Regular, "")])[..],
        )
        .unwrap_err();
        assert!(matches!(err, ApplyError::Escape(_)), "{err}");
    }
}
