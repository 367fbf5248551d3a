//! The default address pools and picking a subnet from them for a new network.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::addrset::{from_u128, to_u128};
use super::{IpFamily, IpamError};

/// One `default-address-pools` entry of daemon.json: split `base` into subnets of `size`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolConfig {
    /// A CIDR, e.g. `172.80.0.0/16`.
    pub base: String,
    /// The prefix length of each subnet, e.g. `24`.
    pub size: u32,
}

/// Docker 20.10's local-scope defaults (libnetwork `ipamutils.localScopeDefaultNetworks`).
const DOCKER_DEFAULTS: [(&str, u8); 7] = [
    ("172.17.0.0/16", 16),
    ("172.18.0.0/16", 16),
    ("172.19.0.0/16", 16),
    ("172.20.0.0/14", 16),
    ("172.24.0.0/14", 16),
    ("172.28.0.0/14", 16),
    ("192.168.0.0/16", 20),
];

/// The ordered list of candidate subnets, kept as (base, size) and never expanded, so an
/// IPv6 base split into /64s costs nothing.
#[derive(Debug, Clone)]
pub struct Pools {
    bases: Vec<(IpNet, u8)>,
    /// Index, over the whole list, where the next search starts (libnetwork's
    /// `predefinedStartIndices`): Docker does not hand out the pool of a just-deleted
    /// network again until it has gone round. In memory only, as in Docker.
    start: u128,
}

impl Default for Pools {
    fn default() -> Self {
        let bases = DOCKER_DEFAULTS
            .iter()
            .map(|&(base, size)| (base.parse().expect("valid default pool"), size))
            .collect();
        Pools { bases, start: 0 }
    }
}

impl Pools {
    /// Pools from `default-address-pools`, which replace Docker's defaults entirely.
    pub fn new(config: &[PoolConfig]) -> Result<Self, IpamError> {
        let bases = config.iter().map(parse_pool).collect::<Result<_, _>>()?;
        Ok(Pools { bases, start: 0 })
    }

    /// All candidate subnets in order. Meant for small lists (tests, `docker info`).
    pub fn subnets(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.bases
            .iter()
            .flat_map(|&(base, size)| (0..count(base, size)).map(move |i| nth(base, size, i)))
    }

    /// Picks the first candidate of `family`, from the start index on and wrapping, that
    /// overlaps neither an `existing` network nor a `host_routes` entry. The daemon passes the
    /// host's link-scope routes and its nameservers as /32 or /128 (libnetwork's
    /// `FindAvailableNetwork`); /0 entries are ignored, as routes without a destination are.
    pub fn allocate_subnet(
        &mut self,
        family: IpFamily,
        existing: &[IpNet],
        host_routes: &[IpNet],
    ) -> Result<IpNet, IpamError> {
        let blockers: Vec<IpNet> = existing
            .iter()
            .chain(host_routes.iter().filter(|r| r.prefix_len() > 0))
            .copied()
            .collect();
        let total = self.total();
        let start = self.start.min(total);
        let found = self
            .search(family, start, total, &blockers)
            .or_else(|| self.search(family, 0, start, &blockers))
            .ok_or(IpamError::NoAvailablePool { family })?;
        self.advance(found, total);
        Ok(self.get(found))
    }

    /// libnetwork adds the chosen position (relative to the rotated list) plus one to the
    /// start index and resets it to 0 when that passes the end, rather than wrapping.
    fn advance(&mut self, found: u128, total: u128) {
        let relative = if found >= self.start {
            found - self.start
        } else {
            total - self.start + found
        };
        let next = self.start.saturating_add(relative).saturating_add(1);
        self.start = if next >= total { 0 } else { next };
    }

    fn total(&self) -> u128 {
        self.bases.iter().fold(0u128, |sum, &(base, size)| {
            sum.saturating_add(count(base, size))
        })
    }

    /// The first usable index in `from..to` (over the whole list).
    fn search(&self, family: IpFamily, from: u128, to: u128, blockers: &[IpNet]) -> Option<u128> {
        let mut offset = 0u128;
        for &(base, size) in &self.bases {
            let n = count(base, size);
            let (lo, hi) = (from.max(offset), to.min(offset.saturating_add(n)));
            if lo < hi
                && IpFamily::of(&base) == family
                && let Some(i) = search_base(base, size, lo - offset, hi - offset, blockers)
            {
                return Some(offset + i);
            }
            offset = offset.saturating_add(n);
        }
        None
    }

    fn get(&self, mut index: u128) -> IpNet {
        for &(base, size) in &self.bases {
            let n = count(base, size);
            if index < n {
                return nth(base, size, index);
            }
            index -= n;
        }
        unreachable!("index comes from search")
    }
}

/// Checks a user-given `--subnet` against existing networks. Docker 20.10 does not check
/// host routes for a given subnet (`requestPoolHelper` returns before its overlap check).
pub fn check_subnet(subnet: IpNet, existing: &[IpNet]) -> Result<(), IpamError> {
    let subnet = subnet.trunc();
    match existing.iter().find(|e| overlaps(&subnet, e)) {
        Some(&existing) => Err(IpamError::PoolOverlap { subnet, existing }),
        None => Ok(()),
    }
}

fn parse_pool(pool: &PoolConfig) -> Result<(IpNet, u8), IpamError> {
    let base: IpNet = pool.base.parse().map_err(|_| IpamError::InvalidBasePool {
        base: pool.base.clone(),
    })?;
    let size = pool.size;
    if size == 0 || size < base.prefix_len().into() || size > base.max_prefix_len().into() {
        return Err(IpamError::InvalidPoolSize { size });
    }
    Ok((base.trunc(), size as u8))
}

/// The first index in `from..to` whose subnet overlaps no blocker. On an overlap it jumps
/// past the end of the blocker, so a big blocker or a huge IPv6 base costs one step.
fn search_base(base: IpNet, size: u8, from: u128, to: u128, blockers: &[IpNet]) -> Option<u128> {
    let mut i = from;
    while i < to {
        let candidate = nth(base, size, i);
        let Some(blocker) = blockers.iter().find(|b| overlaps(&candidate, b)) else {
            return Some(i);
        };
        let end = to_u128(candidate.broadcast()).max(to_u128(blocker.broadcast()));
        let shift = u32::from(base.max_prefix_len() - size);
        i = ((end - to_u128(base.network())) >> shift).checked_add(1)?;
    }
    None
}

/// How many subnets of `size` fit in `base` (saturating for a /0 split into /128s).
fn count(base: IpNet, size: u8) -> u128 {
    1u128
        .checked_shl(u32::from(size - base.prefix_len()))
        .unwrap_or(u128::MAX)
}

fn nth(base: IpNet, size: u8, i: u128) -> IpNet {
    let shift = u32::from(base.max_prefix_len() - size);
    let start = to_u128(base.network()) + (i << shift);
    let addr: IpAddr = from_u128(base.network(), start);
    IpNet::new(addr, size).expect("size is at most the family's maximum")
}

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

#[cfg(test)]
#[path = "pools_tests.rs"]
mod tests;
