//! Memory, CPU and pids limits from a service's keys and its `deploy.resources`, the latter
//! winning as in Compose v2. A reservation the engine cannot honour (CPU) is refused.

use berth_api::container::HostConfig;

use super::error::{Error, project as err};
use crate::model::Service;

/// Sets `h`'s limits from `s`.
pub fn resources(s: &Service, h: &mut HostConfig) -> Result<(), Error> {
    let res = s.deploy.as_ref().map(|d| &d.resources);
    let limits = res.and_then(|r| r.limits.as_ref());
    let reservations = res.and_then(|r| r.reservations.as_ref());
    if let Some(m) = limits.and_then(|l| l.memory).or(s.mem_limit) {
        h.memory = m.0;
    }
    if let Some(m) = s.memswap_limit {
        h.memory_swap = m.0;
    }
    if let Some(m) = reservations.and_then(|r| r.memory).or(s.mem_reservation) {
        h.memory_reservation = m.0;
    }
    if let Some(c) = limits.and_then(|l| l.cpus).or(s.cpus) {
        if c < 0.0 {
            return Err(err(format!(
                "services.{}: cpus must not be negative",
                s.name
            )));
        }
        h.nano_cpus = (c * 1e9) as i64;
    }
    if reservations.and_then(|r| r.cpus).is_some() {
        return Err(err(format!(
            "services.{}.deploy.resources.reservations.cpus: CPU reservations are not supported by berth",
            s.name
        )));
    }
    if let Some(n) = limits.and_then(|l| l.pids).or(s.pids_limit) {
        h.pids_limit = Some(n);
    }
    if let Some(n) = s.cpu_shares {
        h.cpu_shares = n;
    }
    Ok(())
}
