//! Golden tests of the compose loader: each directory under `tests/golden/` holds compose
//! files, an optional `.env`, an `args` file (one option a line: `-f a.yaml`, `-p name`,
//! `--project-directory d`, `--env-file f`, `--profile p`, `cwd sub`, `env K=V`) and either
//! `expected.json` (the tree, scalars as strings) or `expected.err` (the error's text), and
//! optionally `expected.warnings`. The case's directory is written `<dir>` in expectations.
//! `UPDATE_GOLDEN=1` rewrites the expectations from what the loader does.

use std::path::{Path, PathBuf};

use berth_compose::load::{Options, load};

fn options(dir: &Path) -> Options {
    let mut opts = Options {
        cwd: dir.to_path_buf(),
        ..Options::default()
    };
    let args = std::fs::read_to_string(dir.join("args")).unwrap_or_default();
    for line in args
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (flag, value) = line.split_once(' ').unwrap_or((line, ""));
        match flag {
            "-f" => opts.files.push(value.into()),
            "-p" => opts.project_name = Some(value.into()),
            "--project-directory" => opts.project_directory = Some(value.into()),
            "--env-file" => opts.env_files.push(value.into()),
            "--profile" => opts.profiles.push(value.into()),
            "cwd" => opts.cwd = dir.join(value),
            "env" => {
                let (k, v) = value.split_once('=').unwrap_or((value, ""));
                opts.environment.insert(k.into(), v.into());
            }
            other => panic!("{}: unknown option {other}", dir.display()),
        }
    }
    opts
}

fn run(dir: &Path) -> Result<(), String> {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let shown = dir.display().to_string();
    let hide = |s: &str| s.replace(&shown, "<dir>");
    let (actual, file, warnings) = match load(&options(dir)) {
        Ok(loaded) => {
            let json = serde_json::to_string_pretty(&loaded.tree.to_json()).unwrap_or_default();
            (
                hide(&json),
                "expected.json",
                Some(hide(&loaded.warnings.join("\n"))),
            )
        }
        Err(e) => (hide(&e.to_string()), "expected.err", None),
    };
    let warn_file = dir.join("expected.warnings");
    if update {
        let _ = std::fs::remove_file(dir.join("expected.json"));
        let _ = std::fs::remove_file(dir.join("expected.err"));
        std::fs::write(dir.join(file), format!("{actual}\n")).map_err(|e| e.to_string())?;
        match &warnings {
            Some(w) if !w.is_empty() => {
                std::fs::write(&warn_file, format!("{w}\n")).map_err(|e| e.to_string())?
            }
            _ => {
                let _ = std::fs::remove_file(&warn_file);
            }
        }
        return Ok(());
    }
    let expected = std::fs::read_to_string(dir.join(file))
        .map_err(|_| format!("{shown}: got {file}:\n{actual}"))?;
    let same = if file == "expected.json" {
        let a: serde_json::Value = serde_json::from_str(&actual).map_err(|e| e.to_string())?;
        let e: serde_json::Value =
            serde_json::from_str(&expected).map_err(|e| format!("{shown}: {e}"))?;
        a == e
    } else {
        actual.trim_end() == expected.trim_end()
    };
    if !same {
        return Err(format!("{shown}: {file} differs; got:\n{actual}"));
    }
    let want_warnings = std::fs::read_to_string(&warn_file).unwrap_or_default();
    let got_warnings = warnings.unwrap_or_default();
    if want_warnings.trim_end() != got_warnings.trim_end() {
        return Err(format!("{shown}: warnings differ; got:\n{got_warnings}"));
    }
    Ok(())
}

#[test]
fn golden() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    cases.sort();
    assert!(!cases.is_empty(), "no cases under {}", root.display());
    let failures: Vec<String> = cases.iter().filter_map(|c| run(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
