//! A sparse set of addresses, kept as runs of consecutive addresses.
//!
//! Docker keeps a bitmap per subnet. A bitmap over a /64 is not an option, and runs make
//! "first free address at or after X" a single lookup, so filling a /16 stays linear.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

/// A set of addresses of one family, stored as disjoint, non-adjacent runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<Run>", into = "Vec<Run>")]
pub struct AddrSet {
    /// First address of a run → last address of it.
    runs: BTreeMap<IpAddr, IpAddr>,
}

/// How a run is stored: readable in the metadata store.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Run {
    first: IpAddr,
    last: IpAddr,
}

impl AddrSet {
    /// Whether `ip` is in the set.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.run_of(ip).is_some()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The addresses in the set, in order.
    pub fn iter(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.runs.iter().flat_map(|(&first, &last)| {
            let (lo, hi) = (to_u128(first), to_u128(last));
            (lo..=hi).map(move |v| from_u128(first, v))
        })
    }

    /// Adds `ip`; false if it was already there.
    pub fn insert(&mut self, ip: IpAddr) -> bool {
        if self.contains(ip) {
            return false;
        }
        let mut first = ip;
        let mut last = ip;
        if let Some((start, _)) = prev(ip).and_then(|p| self.run_of(p)) {
            first = start;
            self.runs.remove(&start);
        }
        if let Some(end) = next(ip).and_then(|n| self.runs.remove(&n)) {
            last = end;
        }
        self.runs.insert(first, last);
        true
    }

    /// Removes `ip`; false if it was not there.
    pub fn remove(&mut self, ip: IpAddr) -> bool {
        let Some((first, last)) = self.run_of(ip) else {
            return false;
        };
        self.runs.remove(&first);
        if let (true, Some(p)) = (first < ip, prev(ip)) {
            self.runs.insert(first, p);
        }
        if let (true, Some(n)) = (ip < last, next(ip)) {
            self.runs.insert(n, last);
        }
        true
    }

    /// The lowest address in `from..=to` that is not in the set.
    pub fn first_free(&self, from: IpAddr, to: IpAddr) -> Option<IpAddr> {
        let candidate = match self.run_of(from) {
            Some((_, last)) => next(last)?,
            None => from,
        };
        (candidate <= to).then_some(candidate)
    }

    /// The run holding `ip`, as (first, last).
    fn run_of(&self, ip: IpAddr) -> Option<(IpAddr, IpAddr)> {
        let (&first, &last) = self.runs.range(..=ip).next_back()?;
        (last >= ip && same_family(first, ip)).then_some((first, last))
    }
}

impl From<Vec<Run>> for AddrSet {
    fn from(runs: Vec<Run>) -> Self {
        // Rebuilt address by address would be slow for big runs; merge runs instead, so a
        // hand-edited or overlapping list still gives a valid set.
        let mut sorted: Vec<Run> = runs.into_iter().filter(|r| r.first <= r.last).collect();
        sorted.sort_by_key(|r| r.first);
        let mut set = AddrSet::default();
        let mut current: Option<Run> = None;
        for run in sorted {
            current = match current {
                Some(c) if touches(&c, &run) => Some(Run {
                    first: c.first,
                    last: c.last.max(run.last),
                }),
                Some(c) => {
                    set.runs.insert(c.first, c.last);
                    Some(run)
                }
                None => Some(run),
            };
        }
        if let Some(c) = current {
            set.runs.insert(c.first, c.last);
        }
        set
    }
}

impl From<AddrSet> for Vec<Run> {
    fn from(set: AddrSet) -> Self {
        set.runs
            .into_iter()
            .map(|(first, last)| Run { first, last })
            .collect()
    }
}

/// Whether `run`, which starts at or after `c`, overlaps `c` or follows it directly.
fn touches(c: &Run, run: &Run) -> bool {
    same_family(c.last, run.first) && (run.first <= c.last || next(c.last) == Some(run.first))
}

fn same_family(a: IpAddr, b: IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

/// The address as a number.
pub(crate) fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u32::from(a).into(),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// The number `v` as an address of the same family as `like`; `v` must fit that family.
pub(crate) fn from_u128(like: IpAddr, v: u128) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(v as u32)),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(v)),
    }
}

/// The address after `ip`, if the family has one.
pub(crate) fn next(ip: IpAddr) -> Option<IpAddr> {
    match ip {
        IpAddr::V4(a) => u32::from(a)
            .checked_add(1)
            .map(|v| Ipv4Addr::from(v).into()),
        IpAddr::V6(a) => u128::from(a)
            .checked_add(1)
            .map(|v| Ipv6Addr::from(v).into()),
    }
}

/// The address before `ip`, if the family has one.
pub(crate) fn prev(ip: IpAddr) -> Option<IpAddr> {
    match ip {
        IpAddr::V4(a) => u32::from(a)
            .checked_sub(1)
            .map(|v| Ipv4Addr::from(v).into()),
        IpAddr::V6(a) => u128::from(a)
            .checked_sub(1)
            .map(|v| Ipv6Addr::from(v).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn insert_merges_neighbours_and_remove_splits() {
        let mut set = AddrSet::default();
        for a in ["10.0.0.1", "10.0.0.3", "10.0.0.2"] {
            assert!(set.insert(ip(a)));
        }
        assert!(!set.insert(ip("10.0.0.2")));
        assert_eq!(set.runs.len(), 1);
        assert!(set.remove(ip("10.0.0.2")));
        assert!(!set.remove(ip("10.0.0.2")));
        assert_eq!(set.runs.len(), 2);
        let left: Vec<_> = set.iter().collect();
        assert_eq!(left, [ip("10.0.0.1"), ip("10.0.0.3")]);
    }

    #[test]
    fn first_free_skips_a_run() {
        let mut set = AddrSet::default();
        for a in ["10.0.0.1", "10.0.0.2", "10.0.0.3"] {
            set.insert(ip(a));
        }
        assert_eq!(
            set.first_free(ip("10.0.0.1"), ip("10.0.0.9")),
            Some(ip("10.0.0.4"))
        );
        assert_eq!(
            set.first_free(ip("10.0.0.0"), ip("10.0.0.9")),
            Some(ip("10.0.0.0"))
        );
        assert_eq!(set.first_free(ip("10.0.0.1"), ip("10.0.0.3")), None);
    }

    #[test]
    fn families_do_not_mix() {
        let mut set = AddrSet::default();
        set.insert(ip("255.255.255.255"));
        assert!(!set.contains(ip("::1")));
        assert!(set.insert(ip("::")));
        assert_eq!(set.runs.len(), 2);
    }

    #[test]
    fn deserializing_merges_overlapping_runs() {
        let json =
            r#"[{"first":"10.0.0.5","last":"10.0.0.9"},{"first":"10.0.0.1","last":"10.0.0.5"}]"#;
        let set: AddrSet = serde_json::from_str(json).unwrap();
        assert_eq!(set.runs.len(), 1);
        assert_eq!(
            set.first_free(ip("10.0.0.1"), ip("10.0.0.20")),
            Some(ip("10.0.0.10"))
        );
    }
}
