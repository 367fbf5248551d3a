//! The path rules of `docker cp` (moby's `pkg/archive/copy.go`): what the source and the
//! destination are, where the copy is extracted and under which name.

use std::path::Path;

use anyhow::{Result, bail};
use berth_snapshot::copy::{asserts_dir, base_name};

/// What a copy's destination is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dest {
    /// The path (symlinks to it followed).
    pub path: String,
    /// Something is there.
    pub exists: bool,
    /// It is a directory.
    pub is_dir: bool,
}

/// Where a copy goes: the directory to extract into, and the name its top entry gets there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The directory.
    pub dir: String,
    /// The top entry's name in it.
    pub name: String,
}

/// `path` made absolute against the working directory, keeping a trailing `/` or `/.`.
pub fn absolute(path: &str) -> Result<String> {
    if path.starts_with('/') {
        return Ok(path.into());
    }
    let cwd = std::env::current_dir()?;
    Ok(format!("{}/{path}", cwd.display()))
}

/// Splits `CONTAINER:PATH`; an absolute path, or one whose part before `:` starts with `.`,
/// is local (Docker's rule).
pub fn split_arg(arg: &str) -> (Option<&str>, &str) {
    if arg.starts_with('/') {
        return (None, arg);
    }
    match arg.split_once(':') {
        Some((c, p)) if !c.starts_with('.') => (Some(c), p),
        _ => (None, arg),
    }
}

/// The directory holding `path` (`/` for a top-level name); for `dir/.` it is `dir`, whose
/// entry `.` is (Docker's `SplitPathDirEntry`).
pub fn parent(path: &str) -> String {
    if let Some(dir) = path.strip_suffix("/.") {
        return berth_snapshot::copy::clean_abs(dir.trim_end_matches('/'));
    }
    let cleaned = berth_snapshot::copy::clean_abs(path);
    match cleaned.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) | None => "/".into(),
        Some((p, _)) => p.into(),
    }
}

/// Where a source named `src_name` (a directory or not) goes for destination `dst`.
pub fn place(src_is_dir: bool, src_name: &str, dst: &Dest) -> Result<Placement> {
    let dst_name = base_name(&dst.path);
    Ok(match (dst.exists, dst.is_dir, src_is_dir) {
        (true, true, _) => Placement {
            dir: dst.path.clone(),
            name: src_name.into(),
        },
        (true, false, true) => bail!("cannot copy directory"),
        (false, _, false) if asserts_dir(&dst.path) => bail!("no such directory"),
        _ => Placement {
            dir: parent(&dst.path),
            name: dst_name,
        },
    })
}

/// What local path `path` is, following symlinks to it (at most 10, as Docker), for a
/// destination; a missing one needs an existing parent directory.
pub fn local_dest(path: &str) -> Result<Dest> {
    let mut path = path.to_string();
    for _ in 0..=10 {
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&path)?;
                let target = target.to_string_lossy();
                path = if target.starts_with('/') {
                    target.into_owned()
                } else {
                    format!("{}/{target}", parent(&path))
                };
            }
            Ok(m) => {
                return Ok(Dest {
                    path,
                    exists: true,
                    is_dir: m.is_dir(),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let up = parent(&path);
                match std::fs::metadata(&up) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => bail!("not a directory"),
                    Err(e) => bail!("stat {up}: {}", io_text(&e)),
                }
                return Ok(Dest {
                    path,
                    exists: false,
                    is_dir: false,
                });
            }
            Err(e) => bail!("lstat {path}: {}", io_text(&e)),
        }
    }
    bail!("too many symlinks in {path}")
}

/// An I/O error as Go prints it (`no such file or directory`), without Rust's `(os error 2)`.
pub fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    let s = s.split(" (os error").next().unwrap_or(&s);
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Docker's check of a local output path: its directory must exist.
pub fn check_output(path: &str) -> Result<()> {
    let dir = parent(path);
    if !Path::new(&dir).exists() {
        bail!("invalid output path: directory {dir:?} does not exist");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(path: &str, exists: bool, is_dir: bool) -> Dest {
        Dest {
            path: path.into(),
            exists,
            is_dir,
        }
    }

    #[test]
    fn container_args_split_as_docker_splits_them() {
        assert_eq!(split_arg("web:/tmp"), (Some("web"), "/tmp"));
        assert_eq!(split_arg("/a:b"), (None, "/a:b"));
        assert_eq!(split_arg("./web:x"), (None, "./web:x"));
        assert_eq!(split_arg("file"), (None, "file"));
    }

    #[test]
    fn a_copy_is_placed_and_renamed_as_docker_does() {
        let into = |d: &Dest, dir, name| {
            assert_eq!(
                place(true, "src", d).unwrap(),
                Placement {
                    dir: String::from(dir),
                    name: String::from(name)
                }
            )
        };
        into(&dest("/t", true, true), "/t", "src");
        into(&dest("/t/new", false, false), "/t", "new");
        assert_eq!(
            place(true, "src", &dest("/t/f", true, false))
                .unwrap_err()
                .to_string(),
            "cannot copy directory"
        );
        assert_eq!(
            place(false, "f", &dest("/t/new/", false, false))
                .unwrap_err()
                .to_string(),
            "no such directory"
        );
        assert_eq!(
            place(false, "f", &dest("/t/g", true, false)).unwrap(),
            Placement {
                dir: "/t".into(),
                name: "g".into()
            }
        );
        assert_eq!(place(true, ".", &dest("/t", true, true)).unwrap().name, ".");
        assert_eq!(parent("/a/b/."), "/a/b");
        assert_eq!(parent("/a/b/"), "/a");
        assert_eq!(parent("/a"), "/");
    }
}
