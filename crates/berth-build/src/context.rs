//! A directory as a build context: a tar of it without what `.dockerignore` (or
//! `<Dockerfile>.dockerignore`) excludes, for every client that builds (the CLI, compose).

use std::io;
use std::path::Path;

use crate::Ignore;

/// Appends `root` to `b`, leaving out what its ignore file excludes. The Dockerfile (`dockerfile`,
/// relative to `root`) and the ignore file always go: the daemon needs them, and removes them
/// itself if they are excluded.
pub fn append_directory(
    b: &mut tar::Builder<Vec<u8>>,
    root: &Path,
    dockerfile: &str,
) -> io::Result<()> {
    let ignore_text = [format!("{dockerfile}.dockerignore"), ".dockerignore".into()]
        .iter()
        .find_map(|f| std::fs::read_to_string(root.join(f)).ok())
        .unwrap_or_default();
    let ignore = Ignore::parse(&ignore_text)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!(".dockerignore: {e}")))?;
    b.follow_symlinks(false);
    add_dir(b, root, "", &ignore, dockerfile)
}

fn add_dir(
    b: &mut tar::Builder<Vec<u8>>,
    dir: &Path,
    rel: &str,
    ignore: &Ignore,
    dockerfile: &str,
) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("reading {}: {e}", dir.display())))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = format!("{rel}{}", e.file_name().to_string_lossy());
        let is_dir = e.file_type()?.is_dir();
        let always = name == dockerfile
            || name == ".dockerignore"
            || name == format!("{dockerfile}.dockerignore");
        if ignore.excludes(&name) && !always {
            if is_dir && ignore.may_reinclude_below(&name) {
                add_dir(b, &e.path(), &format!("{name}/"), ignore, dockerfile)?;
            }
            continue;
        }
        if is_dir {
            b.append_dir(&name, e.path())?;
            add_dir(b, &e.path(), &format!("{name}/"), ignore, dockerfile)?;
        } else {
            b.append_path_with_name(e.path(), &name).map_err(|err| {
                io::Error::new(
                    err.kind(),
                    format!("adding {} to the context: {err}", e.path().display()),
                )
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tar: Vec<u8>) -> Vec<String> {
        let mut a = tar::Archive::new(&tar[..]);
        a.entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn ignored_files_stay_out_but_the_dockerfile_goes() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("Dockerfile"), "FROM x\n").unwrap();
        std::fs::write(d.path().join(".dockerignore"), "secret\nDockerfile\n").unwrap();
        std::fs::write(d.path().join("secret"), "s").unwrap();
        std::fs::create_dir(d.path().join("src")).unwrap();
        std::fs::write(d.path().join("src/a"), "a").unwrap();
        let mut b = tar::Builder::new(Vec::new());
        append_directory(&mut b, d.path(), "Dockerfile").unwrap();
        let got = names(b.into_inner().unwrap());
        assert_eq!(got, [".dockerignore", "Dockerfile", "src", "src/a"]);
    }
}
