//! `--detach-keys` of `attach`, `run`, `start` and `exec`: checked as the docker CLI checks it,
//! sent to the daemon, and watched on the terminal's input (Docker's CLI watches it too).

use anyhow::{Result, anyhow};

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
