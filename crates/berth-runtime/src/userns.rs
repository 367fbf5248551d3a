//! `--userns-remap` as dockerd reads it: `default` (the `dockremap` account, created with its
//! ranges when missing), `user`, `user:group`, `uid` or `uid:gid`, resolved against the host's
//! `/etc/passwd`, `/etc/group`, `/etc/subuid` and `/etc/subgid` into an [`IdMap`]. The messages
//! are dockerd's.

use std::path::Path;
use std::process::Command;

use berth_core::idmap::{self, IdMap, SubId};

/// The account `default` stands for.
pub const DEFAULT_USER: &str = "dockremap";

/// Docker's length and lowest start of a range it adds.
const RANGE_LEN: u32 = 65536;
const RANGE_START: u32 = 100000;

/// A resolved remapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remap {
    /// `user:group`, names resolved (what dockerd logs and keeps).
    pub name: String,
    /// The ID maps of containers.
    pub map: IdMap,
}

/// Why the remapping cannot be set up, in dockerd's words.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RemapError(String);

/// The host's account files.
struct Etc {
    passwd: String,
    group: String,
}

impl Etc {
    fn read() -> Etc {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        Etc {
            passwd: read("/etc/passwd"),
            group: read("/etc/group"),
        }
    }
}

/// Resolves `--userns-remap`; `None`: no remapping (`root` maps onto itself, as dockerd warns).
pub fn resolve(spec: &str) -> Result<Option<Remap>, RemapError> {
    let (user, group) = names(spec, &Etc::read())?;
    if user == "root" {
        tracing::warn!(
            "User namespaces: root cannot be remapped with itself; user namespaces are OFF"
        );
        return Ok(None);
    }
    let etc = Etc::read();
    let uid = idmap::by_name(&etc.passwd, &user)
        .map(|a| a.id)
        .ok_or_else(|| {
            RemapError(format!(
                "error creating ID mappings: could not get user for username {user}: no matching entries in passwd file"
            ))
        })?;
    let ranges = |file: &str| -> Result<Vec<SubId>, RemapError> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| RemapError(format!("error creating ID mappings: open {file}: {e}")))?;
        let r = idmap::ranges_of(&idmap::parse_subids(&text), &user, uid);
        if r.is_empty() {
            // dockerd says "subuid" for both files.
            return Err(RemapError(format!(
                "error creating ID mappings: no subuid ranges found for user {user:?}"
            )));
        }
        Ok(r)
    };
    let map = IdMap::from_subids(&ranges("/etc/subuid")?, &ranges("/etc/subgid")?);
    tracing::info!(user = %user, "User namespaces: ID ranges will be mapped to subuid/subgid ranges");
    Ok(Some(Remap {
        name: format!("{user}:{group}"),
        map,
    }))
}

/// The user and group names of `spec` (dockerd's `parseRemappedRoot`).
fn names(spec: &str, etc: &Etc) -> Result<(String, String), RemapError> {
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.len() > 2 {
        return Err(RemapError(format!(
            "Invalid user/group specification in --userns-remap: {spec:?}"
        )));
    }
    let mut group = None;
    let user = if let Ok(uid) = parts[0].parse::<i32>() {
        let uid = uid as u32;
        let user = idmap::by_id(&etc.passwd, uid).ok_or_else(|| {
            RemapError(format!(
                "Uid {uid} has no entry in /etc/passwd: user: unknown userid {uid}"
            ))
        })?;
        if parts.len() == 1 {
            let g = idmap::by_id(&etc.group, uid).ok_or_else(|| {
                RemapError(format!(
                    "Gid {uid} has no entry in /etc/group: group: unknown groupid {uid}"
                ))
            })?;
            group = Some(g.name);
        }
        user.name
    } else {
        let lookup = if parts[0] == "default" {
            DEFAULT_USER
        } else {
            parts[0]
        };
        match idmap::by_name(&etc.passwd, lookup) {
            Some(u) => {
                if parts.len() == 1 {
                    let g = idmap::by_name(&etc.group, lookup).ok_or_else(|| {
                        RemapError(format!(
                            "Error during gid lookup for {lookup:?}: group: unknown group {lookup}"
                        ))
                    })?;
                    group = Some(g.name);
                }
                u.name
            }
            None if parts[0] == "default" => {
                add_default_user().map_err(|e| {
                    RemapError(format!("Error during {DEFAULT_USER:?} user creation: {e}"))
                })?;
                return Ok((DEFAULT_USER.into(), DEFAULT_USER.into()));
            }
            None => {
                return Err(RemapError(format!(
                    "Error during uid lookup for {lookup:?}: user: unknown user {lookup}"
                )));
            }
        }
    };
    if let Some(g) = parts.get(1) {
        group = Some(if let Ok(gid) = g.parse::<i32>() {
            idmap::by_id(&etc.group, gid as u32)
                .ok_or_else(|| {
                    RemapError(format!(
                        "Gid {gid} has no entry in /etc/passwd: group: unknown groupid {gid}"
                    ))
                })?
                .name
        } else {
            idmap::by_name(&etc.group, g).ok_or_else(|| {
                RemapError(format!(
                    "Error during groupname lookup for {g:?}: group: unknown group {g}"
                ))
            })?;
            g.to_string()
        });
    }
    Ok((user, group.unwrap_or_default()))
}

/// Creates the system account `dockremap` and its ranges, with the distribution's tools, as
/// dockerd does.
fn add_default_user() -> Result<(), String> {
    let (tool, args): (&str, &[&str]) = if exists("adduser") {
        (
            "adduser",
            &[
                "--system",
                "--shell",
                "/bin/false",
                "--no-create-home",
                "--disabled-login",
                "--disabled-password",
                "--group",
                DEFAULT_USER,
            ],
        )
    } else if exists("useradd") {
        ("useradd", &["-r", "-s", "/bin/false", DEFAULT_USER])
    } else {
        return Err("cannot add user; no useradd/adduser binary found".into());
    };
    run(tool, args).map_err(|e| format!("error adding user {DEFAULT_USER:?}: {e}"))?;
    for (file, flag) in [("/etc/subuid", "-v"), ("/etc/subgid", "-w")] {
        let entries = idmap::parse_subids(&std::fs::read_to_string(file).unwrap_or_default());
        let uid = idmap::by_name(&Etc::read().passwd, DEFAULT_USER).map(|a| a.id);
        if !idmap::ranges_of(&entries, DEFAULT_USER, uid.unwrap_or(u32::MAX)).is_empty() {
            continue;
        }
        let start = next_range(&entries);
        let range = format!("{start}-{}", start + RANGE_LEN - 1);
        run("usermod", &[flag, &range, DEFAULT_USER]).map_err(|e| {
            format!("couldn't create subordinate ID ranges: unable to add {file} range to user: {DEFAULT_USER:?}: {e}")
        })?;
    }
    Ok(())
}

/// The start of the first free range of Docker's length, from 100000 up.
pub fn next_range(entries: &[SubId]) -> u32 {
    let mut sorted: Vec<&SubId> = entries.iter().collect();
    sorted.sort_by_key(|s| s.start);
    let mut start = RANGE_START as u64;
    for s in sorted {
        let (lo, hi) = (s.start as u64, s.start as u64 + s.count as u64);
        if start < hi && start + RANGE_LEN as u64 > lo {
            start = hi;
        }
    }
    start.min(u32::MAX as u64 - RANGE_LEN as u64) as u32
}

fn exists(tool: &str) -> bool {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(tool).exists())
}

fn run(tool: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(tool)
        .args(args)
        .output()
        .map_err(|e| format!("running {tool}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{tool} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn etc() -> Etc {
        Etc {
            passwd: "root:x:0:0::/root:/bin/sh\nalice:x:1001:1001::/:/bin/sh\nbob:x:1002:50::/:/bin/sh\n".into(),
            group: "root:x:0:\nalice:x:1001:\nstaff:x:50:\n".into(),
        }
    }

    #[test]
    fn remap_values_resolve_as_dockerd_resolves_them() {
        let n = |s: &str| names(s, &etc()).map_err(|e| e.to_string());
        assert_eq!(n("alice").unwrap(), ("alice".into(), "alice".into()));
        assert_eq!(n("1001").unwrap(), ("alice".into(), "alice".into()));
        assert_eq!(n("alice:staff").unwrap(), ("alice".into(), "staff".into()));
        assert_eq!(n("bob:50").unwrap(), ("bob".into(), "staff".into()));
        assert_eq!(n("root").unwrap(), ("root".into(), "root".into()));
        assert_eq!(
            n("a:b:c").unwrap_err(),
            "Invalid user/group specification in --userns-remap: \"a:b:c\""
        );
        assert_eq!(
            n("carol").unwrap_err(),
            "Error during uid lookup for \"carol\": user: unknown user carol"
        );
        assert_eq!(
            n("bob").unwrap_err(),
            "Error during gid lookup for \"bob\": group: unknown group bob"
        );
        assert_eq!(
            n("1005").unwrap_err(),
            "Uid 1005 has no entry in /etc/passwd: user: unknown userid 1005"
        );
        assert_eq!(
            n("alice:nogroup").unwrap_err(),
            "Error during groupname lookup for \"nogroup\": group: unknown group nogroup"
        );
    }

    #[test]
    fn new_ranges_start_past_the_ones_taken() {
        let e = |s: &str| idmap::parse_subids(s);
        assert_eq!(next_range(&[]), 100000);
        assert_eq!(next_range(&e("a:100000:65536\n")), 165536);
        assert_eq!(next_range(&e("b:165536:65536\na:100000:65536\n")), 231072);
        assert_eq!(next_range(&e("a:300000:10\n")), 100000);
        assert_eq!(next_range(&e("a:150000:10\n")), 150010);
    }
}
