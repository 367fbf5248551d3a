//! The build context: an uploaded tar (plain or compressed) unpacked into a private directory, with
//! `.dockerignore` applied so excluded files never reach the build, and path lookups that never
//! leave the directory, whatever its symlinks say.

use std::fs;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use berth_build::Ignore;
use berth_core::rootfs::{ReadRoot, RootDir};

use crate::error::{Error, Result};

/// An unpacked context.
pub struct Context {
    /// Where it is unpacked.
    pub root: PathBuf,
    /// The Dockerfile's text.
    pub dockerfile: String,
    /// The Dockerfile's name in the context (for messages).
    pub dockerfile_name: String,
    /// The rules that were applied.
    pub ignore: Ignore,
    /// Secrets the client sent along (berth's CLI), by id.
    pub secrets: std::collections::BTreeMap<String, Vec<u8>>,
}

/// Where `berth build --secret` puts secrets in the context it sends; taken out before the
/// build sees the context.
pub const SECRETS_DIR: &str = ".berth-build-secrets";

/// Unpacks `tar` into `root` (created; must not exist), reads `dockerfile` from it and applies
/// `<dockerfile>.dockerignore` or `.dockerignore`. With `take_secrets`, [`SECRETS_DIR`] is
/// moved out of the context into [`Context::secrets`].
pub fn unpack(
    mut tar: impl Read,
    root: &Path,
    dockerfile: &str,
    take_secrets: bool,
) -> Result<Context> {
    let unpacked = unpack_files(&mut tar, root);
    // The client is still sending (tar padding, or all of a context refused early): it must
    // be able to finish, or it sees a broken pipe instead of our answer.
    let _ = io::copy(&mut tar, &mut io::sink());
    unpacked?;
    let mut secrets = std::collections::BTreeMap::new();
    let secrets_dir = root.join(SECRETS_DIR);
    if take_secrets && secrets_dir.is_dir() {
        for e in fs::read_dir(&secrets_dir).into_iter().flatten().flatten() {
            if let Ok(v) = fs::read(e.path()) {
                secrets.insert(e.file_name().to_string_lossy().into_owned(), v);
            }
        }
        fs::remove_dir_all(&secrets_dir).map_err(|e| Error::internal("removing secrets", &e))?;
    }
    let name = if dockerfile.is_empty() {
        "Dockerfile"
    } else {
        dockerfile
    };
    let name = berth_build::ignore::clean(name);
    let ctx = RootDir::open(root).map_err(Error::from_kinded)?;
    let read = |f: &str| {
        ctx.read_file(f, DOCKERFILE_LIMIT)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
    };
    let text = match read(&name) {
        Some(t) => t,
        None => {
            return Err(Error::invalid(format!(
                "Cannot locate specified Dockerfile: {name}"
            )));
        }
    };
    let ignore_text = [format!("{name}.dockerignore"), ".dockerignore".into()]
        .iter()
        .find_map(|f| read(f))
        .unwrap_or_default();
    let ignore = Ignore::parse(&ignore_text).map_err(Error::invalid)?;
    if !ignore.is_empty() {
        prune(root, "", &ignore).map_err(|e| Error::internal("applying .dockerignore", &e))?;
    }
    Ok(Context {
        root: root.to_path_buf(),
        dockerfile: text,
        dockerfile_name: name,
        ignore,
        secrets,
    })
}

/// Writes the files of the (possibly compressed) tar `tar` under `root`.
fn unpack_files(tar: &mut dyn Read, root: &Path) -> Result<()> {
    fs::create_dir_all(root).map_err(|e| Error::internal("creating build context dir", &e))?;
    let reader = crate::compress::decompress(BufReader::new(tar))
        .map_err(|e| Error::invalid(format!("reading build context: {e}")))?;
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_permissions(true);
    archive.set_preserve_mtime(true);
    archive.set_unpack_xattrs(false);
    let entries = archive
        .entries()
        .map_err(|e| Error::invalid(format!("reading build context: {e}")))?;
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            // The docker CLI's `-f -` context ends right after the last file's data, without
            // padding or end blocks: what was there has been read whole.
            Err(e)
                if e.kind() == io::ErrorKind::UnexpectedEof
                    || e.to_string() == "unexpected EOF during skip" =>
            {
                break;
            }
            Err(e) => return Err(Error::invalid(format!("reading build context: {e}"))),
        };
        // Device nodes have no business in a context.
        if matches!(
            entry.header().entry_type(),
            tar::EntryType::Char | tar::EntryType::Block
        ) {
            continue;
        }
        // unpack_in refuses `..`, absolute paths and writes through symlinks.
        entry
            .unpack_in(root)
            .map_err(|e| Error::invalid(format!("unpacking build context: {e}")))?;
    }
    Ok(())
}

/// Removes what `ignore` excludes under `dir` (relative path `rel`).
fn prune(dir: &Path, rel: &str, ignore: &Ignore) -> io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let path = format!("{rel}{name}");
        let is_dir = e.file_type()?.is_dir();
        if ignore.excludes(&path) {
            if is_dir && ignore.may_reinclude_below(&path) {
                prune(&e.path(), &format!("{path}/"), ignore)?;
            } else if is_dir {
                fs::remove_dir_all(e.path())?;
            } else {
                fs::remove_file(e.path())?;
            }
        } else if is_dir {
            prune(&e.path(), &format!("{path}/"), ignore)?;
        }
    }
    Ok(())
}

/// The most of a Dockerfile or .dockerignore berth reads.
const DOCKERFILE_LIMIT: u64 = 16 << 20;

/// The host path of `path` inside `root` with symlinks followed but kept inside `root` (a link
/// to `/etc` means `<root>/etc`), as Docker resolves paths in a context or a container
/// filesystem. `None` if it does not exist. Only for trees nothing else writes to.
pub fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    RootDir::open(root).ok()?.host_path(path).ok()?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(files: &[(&str, &str)], links: &[(&str, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, body) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, body.as_bytes()).unwrap();
        }
        for (name, target) in links {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            h.set_cksum();
            b.append_link(&mut h, name, target).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn ignore_rules_remove_files_and_symlinks_stay_inside() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ctx");
        let tar = tar_of(
            &[
                ("Dockerfile", "FROM scratch\n"),
                (".dockerignore", "*.log\nsecret\n!keep.log\n"),
                ("a.log", "x"),
                ("keep.log", "x"),
                ("secret/key", "x"),
                ("src/main", "x"),
            ],
            &[("out", "/etc"), ("up", "../../..")],
        );
        let ctx = unpack(&tar[..], &root, "", false).unwrap();
        assert_eq!(ctx.dockerfile, "FROM scratch\n");
        assert!(!root.join("a.log").exists());
        assert!(root.join("keep.log").exists());
        assert!(!root.join("secret").exists());
        assert!(root.join("src/main").exists());
        // A link to /etc resolves to <root>/etc, which does not exist: never the host's.
        assert_eq!(resolve(&root, "out/passwd"), None);
        assert_eq!(resolve(&root, "up/src/main"), Some(root.join("src/main")));
        let e = unpack(&tar[..], &dir.path().join("other"), "nope", false)
            .err()
            .unwrap();
        assert!(
            e.message
                .contains("Cannot locate specified Dockerfile: nope")
        );
    }
}
