//! `--security-opt`, `--cap-add`, `--cap-drop` and `--privileged` of `run` and `create`, as the
//! docker CLI sends them: a seccomp profile named by its file is read here and sent inline,
//! compacted; `systempaths=unconfined` becomes empty masked and read-only path lists; the
//! daemon checks the rest.

use anyhow::{Result, bail};

/// The confinement flags of a container.
#[derive(Debug, Default, clap::Args)]
pub struct SecurityOpts {
    /// Security Options.
    #[arg(long = "security-opt")]
    security_opt: Vec<String>,
    /// Add Linux capabilities.
    #[arg(long = "cap-add")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities.
    #[arg(long = "cap-drop")]
    pub cap_drop: Vec<String>,
    /// Give extended privileges to this container.
    #[arg(long)]
    pub privileged: bool,
    /// User namespace to use.
    #[arg(long)]
    pub userns: Option<String>,
}

impl SecurityOpts {
    /// `HostConfig.UsernsMode`, or the docker CLI's error.
    pub fn userns_mode(&self) -> Result<String> {
        match self.userns.as_deref().unwrap_or_default() {
            mode @ ("" | "host") => Ok(mode.to_string()),
            _ => bail!("--userns: invalid USER mode"),
        }
    }

    /// `HostConfig.SecurityOpt`, or the docker CLI's error.
    pub fn security_opt(&self) -> Result<Option<Vec<String>>> {
        let mut opts = Vec::new();
        for opt in self.security_opt.iter().filter(|o| *o != SYSTEM_PATHS) {
            let split = opt.split_once('=').or_else(|| {
                (opt != "no-new-privileges")
                    .then(|| opt.split_once(':'))
                    .flatten()
            });
            let value = split.map(|(_, v)| v).unwrap_or_default();
            if value.is_empty() && opt != "no-new-privileges" {
                bail!("invalid --security-opt: {opt:?}");
            }
            match split {
                Some(("seccomp", file)) if !matches!(file, "builtin" | "unconfined") => {
                    opts.push(format!("seccomp={}", inline(file)?));
                }
                _ => opts.push(opt.clone()),
            }
        }
        // Sent empty, not left out, once any was given: as the docker CLI sends it.
        Ok((!self.security_opt.is_empty()).then_some(opts))
    }
}

/// The option that unmasks the system paths, handled here as the docker CLI does.
const SYSTEM_PATHS: &str = "systempaths=unconfined";

impl SecurityOpts {
    /// `HostConfig.MaskedPaths` and `ReadonlyPaths`: empty with `systempaths=unconfined`,
    /// else unset (the daemon's defaults).
    pub fn system_paths(&self) -> Option<Vec<String>> {
        self.security_opt
            .iter()
            .any(|o| o == SYSTEM_PATHS)
            .then(Vec::new)
    }
}

/// The profile in `file`, compacted as Go's `json.Compact` does (key order kept).
fn inline(file: &str) -> Result<String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("opening seccomp profile ({file}) failed: {e}"))?;
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&text) {
        bail!("compacting json for seccomp profile ({file}) failed: {e}");
    }
    Ok(compact(&text))
}

/// `json` without the whitespace between its tokens.
fn compact(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if !c.is_ascii_whitespace() {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(v: &[&str]) -> SecurityOpts {
        SecurityOpts {
            security_opt: v.iter().map(|s| s.to_string()).collect(),
            ..SecurityOpts::default()
        }
    }

    #[test]
    fn a_profile_file_is_sent_inline_and_compact() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.json");
        std::fs::write(
            &file,
            "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"comment\": \"a \\\" b c\"\n}\n",
        )
        .unwrap();
        let sent = opts(&[&format!("seccomp={}", file.display()), "no-new-privileges"])
            .security_opt()
            .unwrap()
            .unwrap();
        assert_eq!(
            sent,
            [
                r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW","comment":"a \" b c"}"#,
                "no-new-privileges"
            ]
        );
        let kept = opts(&["seccomp=unconfined", "label:disable"])
            .security_opt()
            .unwrap();
        assert_eq!(kept.unwrap(), ["seccomp=unconfined", "label:disable"]);
    }

    #[test]
    fn bad_options_get_the_docker_clis_messages() {
        let err = |v: &[&str]| opts(v).security_opt().unwrap_err().to_string();
        assert_eq!(err(&["seccomp"]), "invalid --security-opt: \"seccomp\"");
        assert_eq!(err(&["label="]), "invalid --security-opt: \"label=\"");
        assert!(
            err(&["seccomp=/nonexistent.json"])
                .starts_with("opening seccomp profile (/nonexistent.json) failed")
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.json");
        std::fs::write(&file, "{").unwrap();
        assert!(
            err(&[&format!("seccomp={}", file.display())])
                .starts_with("compacting json for seccomp profile")
        );
        assert_eq!(opts(&[]).security_opt().unwrap(), None);
        let unmasked = opts(&["systempaths=unconfined"]);
        assert_eq!(unmasked.security_opt().unwrap(), Some(vec![]));
        assert_eq!(unmasked.system_paths(), Some(vec![]));
    }
}
