//! User-namespace ID maps: which host IDs a container's IDs are, as `/etc/subuid` and
//! `/etc/subgid` grant them to a user (Docker's `--userns-remap`). Pure: parsing the text of
//! those files and of `/etc/passwd`, and translating IDs both ways. Running the host's tools to
//! add ranges is `berth-runtime`'s (`userns`).

use serde::{Deserialize, Serialize};

/// One contiguous range: container IDs `container..container+size` are host IDs
/// `host..host+size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRange {
    /// First ID inside the container.
    pub container: u32,
    /// The host ID it is.
    pub host: u32,
    /// How many IDs.
    pub size: u32,
}

/// The UID and GID maps of a user namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdMap {
    /// UIDs.
    pub uids: Vec<IdRange>,
    /// GIDs.
    pub gids: Vec<IdRange>,
}

impl IdMap {
    /// Container ranges laid end to end over the subordinate ranges, in file order, as Docker
    /// builds them (`0..n1` is the first range, `n1..n1+n2` the second, ...).
    pub fn from_subids(uids: &[SubId], gids: &[SubId]) -> IdMap {
        let lay = |ids: &[SubId]| {
            let mut next = 0u32;
            ids.iter()
                .map(|s| {
                    let r = IdRange {
                        container: next,
                        host: s.start,
                        size: s.count,
                    };
                    next = next.saturating_add(s.count);
                    r
                })
                .collect()
        };
        IdMap {
            uids: lay(uids),
            gids: lay(gids),
        }
    }

    /// The host UID and GID of the container's root (Docker's `RootPair`); `(0, 0)` when root
    /// is not mapped.
    pub fn root_pair(&self) -> (u32, u32) {
        (
            to_host(&self.uids, 0).unwrap_or(0),
            to_host(&self.gids, 0).unwrap_or(0),
        )
    }

    /// The host UID of container UID `id`; `None`: unmapped.
    pub fn host_uid(&self, id: u32) -> Option<u32> {
        to_host(&self.uids, id)
    }

    /// The host GID of container GID `id`.
    pub fn host_gid(&self, id: u32) -> Option<u32> {
        to_host(&self.gids, id)
    }

    /// The container UID of host UID `id`.
    pub fn container_uid(&self, id: u32) -> Option<u32> {
        to_container(&self.uids, id)
    }

    /// The container GID of host GID `id`.
    pub fn container_gid(&self, id: u32) -> Option<u32> {
        to_container(&self.gids, id)
    }
}

/// What the kernel shows an unmapped ID as inside a user namespace (`overflowuid`).
pub const OVERFLOW_ID: u32 = 65534;

/// A container ID outside the map, in Docker's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Container ID {0} cannot be mapped to a host ID")]
pub struct Unmapped(pub u32);

impl IdMap {
    /// The owner the container sees of a file the host sees owned by `uid`/`gid`: the
    /// overflow ID for one outside the map, as the kernel shows it.
    pub fn container_owner(&self, uid: u32, gid: u32) -> (u32, u32) {
        (
            self.container_uid(uid).unwrap_or(OVERFLOW_ID),
            self.container_gid(gid).unwrap_or(OVERFLOW_ID),
        )
    }

    /// The host owner of a file the container owns as `uid`/`gid`.
    pub fn host_owner(&self, uid: u32, gid: u32) -> Result<(u32, u32), Unmapped> {
        Ok((
            self.host_uid(uid).ok_or(Unmapped(uid))?,
            self.host_gid(gid).ok_or(Unmapped(gid))?,
        ))
    }
}

fn to_host(ranges: &[IdRange], id: u32) -> Option<u32> {
    ranges
        .iter()
        .find(|r| id >= r.container && id - r.container < r.size)
        .map(|r| r.host + (id - r.container))
}

fn to_container(ranges: &[IdRange], id: u32) -> Option<u32> {
    ranges
        .iter()
        .find(|r| id >= r.host && id - r.host < r.size)
        .map(|r| r.container + (id - r.host))
}

/// A line of `/etc/subuid` or `/etc/subgid`: `name:start:count`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubId {
    /// A user name or a numeric UID.
    pub name: String,
    /// First subordinate ID.
    pub start: u32,
    /// How many.
    pub count: u32,
}

/// The entries of a subordinate-ID file, in order; blank lines and lines that are not
/// `name:start:count` (comments among them) are skipped.
pub fn parse_subids(text: &str) -> Vec<SubId> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.trim().split(':');
            let (name, start, count) = (f.next()?, f.next()?, f.next()?);
            if f.next().is_some() || name.is_empty() || name.starts_with('#') {
                return None;
            }
            Some(SubId {
                name: name.to_string(),
                start: start.parse().ok()?,
                count: count.parse().ok().filter(|c| *c > 0)?,
            })
        })
        .collect()
}

/// The ranges of the user `name` with UID `uid`: listed by name or by UID, as Docker matches.
pub fn ranges_of(entries: &[SubId], name: &str, uid: u32) -> Vec<SubId> {
    let uid = uid.to_string();
    entries
        .iter()
        .filter(|s| s.name == name || s.name == uid)
        .cloned()
        .collect()
}

/// An account of `/etc/passwd` or `/etc/group`: its name and ID (UID, or GID for a group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The name.
    pub name: String,
    /// The UID (passwd) or GID (group).
    pub id: u32,
}

/// The entry of `/etc/passwd` or `/etc/group` text named `name`.
pub fn by_name(text: &str, name: &str) -> Option<Account> {
    entries(text).find(|a| a.name == name)
}

/// The entry with ID `id`.
pub fn by_id(text: &str, id: u32) -> Option<Account> {
    entries(text).find(|a| a.id == id)
}

fn entries(text: &str) -> impl Iterator<Item = Account> + '_ {
    text.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 3 && !f[0].is_empty()).then_some(())?;
        Some(Account {
            name: f[0].to_string(),
            id: f[2].parse().ok()?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subordinate_files_parse_as_docker_reads_them() {
        let text = "# ranges\nalice:100000:65536\n\n  1001:200000:10  \nbad:x:1\nzero:1:0\nbob:300000:65536\nalice:500000:5\n";
        let all = parse_subids(text);
        assert_eq!(all.len(), 4, "{all:?}");
        let alice = ranges_of(&all, "alice", 1001);
        assert_eq!(
            alice.iter().map(|s| (s.start, s.count)).collect::<Vec<_>>(),
            [(100000, 65536), (200000, 10), (500000, 5)],
            "by name and by UID, in file order"
        );
        let map = IdMap::from_subids(&alice, &alice[..1]);
        assert_eq!(
            map.uids,
            [
                IdRange {
                    container: 0,
                    host: 100000,
                    size: 65536
                },
                IdRange {
                    container: 65536,
                    host: 200000,
                    size: 10
                },
                IdRange {
                    container: 65546,
                    host: 500000,
                    size: 5
                },
            ]
        );
        assert_eq!(map.root_pair(), (100000, 100000));
        assert_eq!(map.host_uid(65537), Some(200001));
        assert_eq!(map.host_uid(65551), None);
        assert_eq!(map.container_uid(500004), Some(65550));
        assert_eq!(map.container_uid(0), None);
        assert_eq!(map.host_gid(65536), None);
        assert_eq!(IdMap::default().root_pair(), (0, 0));
        assert_eq!(map.container_owner(100005, 7), (5, OVERFLOW_ID));
        assert_eq!(map.host_owner(1, 2), Ok((100001, 100002)));
        assert_eq!(
            map.host_owner(70000, 0).unwrap_err().to_string(),
            "Container ID 70000 cannot be mapped to a host ID"
        );
    }

    #[test]
    fn accounts_are_found_by_name_or_id() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\nodd:x:nan:1::/:/bin/sh\ndockremap:x:998:998::/:/bin/false\n";
        assert_eq!(by_name(passwd, "dockremap").map(|a| a.id), Some(998));
        assert_eq!(by_id(passwd, 0).map(|a| a.name), Some("root".to_string()));
        assert_eq!(by_name(passwd, "odd"), None);
        assert_eq!(by_name(passwd, "nobody"), None);
    }
}
