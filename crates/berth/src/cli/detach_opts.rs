//! `--detach-keys` of `attach`, `run`, `start` and `exec` (else `detachKeys` of the docker
//! CLI's `config.json`): checked as the docker CLI checks it, sent to the daemon, and watched
//! on the terminal's input (Docker's CLI watches it too).

use anyhow::{Result, anyhow};

/// The flag's keys, else those the docker CLI's config file sets (`DOCKER_CONFIG`, else
/// `~/.docker`).
pub fn given(flag: Option<&str>) -> Option<String> {
    flag.map(str::to_string).or_else(configured)
}

fn configured() -> Option<String> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let dir = var("DOCKER_CONFIG")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(var("HOME").unwrap_or_else(|| "/root".into())).join(".docker")
        });
    let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
    let config: serde_json::Value = serde_json::from_str(&text).ok()?;
    let keys = config.get("detachKeys")?.as_str()?;
    (!keys.is_empty()).then(|| keys.to_string())
}

/// The keys to watch for: `given`, or Docker's default; the docker CLI's error for a bad list.
pub fn keys(given: Option<&str>) -> Result<Vec<u8>> {
    let given = given.unwrap_or_default();
    berth_api::detach::parse(given).ok_or_else(|| {
        let bad = given
            .split(',')
            .find(|k| berth_api::detach::parse(k).is_none())
            .unwrap_or(given);
        anyhow!("invalid detach keys ({given}): Unknown character: '{bad}'")
    })
}

/// `&detachKeys=...` for an attach URL (nothing without the flag).
pub fn query(given: Option<&str>) -> String {
    given
        .filter(|k| !k.is_empty())
        .map(|k| format!("&detachKeys={}", super::enc(k)))
        .unwrap_or_default()
}

/// What the docker CLI's `attach` and `exec` print when the user detached (and exit 1 with).
pub const DETACHED: &str = "read escape sequence";
