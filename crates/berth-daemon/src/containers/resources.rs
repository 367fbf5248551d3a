//! A container's cgroup settings beyond memory, CPU time and tasks ([`super::Resources`]):
//! `--cgroup-parent`, cpusets, the soft memory limit, swappiness, the OOM killer switch and
//! block I/O weights and throttles. Checked as dockerd checks them (its messages); what this
//! host cannot enforce is refused by name, except swappiness and the OOM killer switch, which
//! Docker drops with a warning on a host without them (cgroup v2), and so does berth.

use berth_runtime::tuning::{self, DeviceRate, Tuning};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A block device by path with a weight or a rate, as asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceLimit {
    /// The device node.
    pub path: String,
    /// Weight, or bytes or operations per second.
    pub rate: u64,
}

/// The settings; empty, zero or `None` means none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cgroup {
    /// The cgroup the container's is made under, relative to the hierarchy root; empty:
    /// berth's (`/berth`).
    pub parent: String,
    /// The daemon's `cgroup-parent` when the container was created without one of its own
    /// (not shown by inspect, as in Docker).
    pub daemon_parent: String,
    /// `--cpuset-cpus`.
    pub cpuset_cpus: String,
    /// `--cpuset-mems`.
    pub cpuset_mems: String,
    /// `--memory-reservation`, bytes.
    pub memory_reservation: i64,
    /// `--memory-swappiness`, 0 to 100 (-1, Docker's "unset", is kept as `None`).
    pub memory_swappiness: Option<i64>,
    /// `--oom-kill-disable`, as sent (inspect shows `false` when sent so).
    pub oom_kill_disable: Option<bool>,
    /// `--blkio-weight`, 10 to 1000.
    pub blkio_weight: u16,
    /// `--blkio-weight-device`; `None` when the client sent none (inspect shows null).
    pub weight_devices: Option<Vec<DeviceLimit>>,
    /// `--device-read-bps`.
    pub read_bps: Option<Vec<DeviceLimit>>,
    /// `--device-write-bps`.
    pub write_bps: Option<Vec<DeviceLimit>>,
    /// `--device-read-iops`.
    pub read_iops: Option<Vec<DeviceLimit>>,
    /// `--device-write-iops`.
    pub write_iops: Option<Vec<DeviceLimit>>,
    /// `--cpu-rt-period`, microseconds.
    pub cpu_rt_period: i64,
    /// `--cpu-rt-runtime`, microseconds; the parent cgroup must grant that much (Docker's
    /// daemon options for it are not berth's: a `--cgroup-parent` prepared with a budget).
    pub cpu_rt_runtime: i64,
    /// `--isolation` as given: `default` or empty, the only kind on Linux.
    pub isolation: String,
}

/// Docker's smallest memory reservation.
const MIN_MEMORY: i64 = 6 * 1024 * 1024;

impl Cgroup {
    /// Docker's checks, in its order, against a container whose memory limit is `memory`;
    /// drops what Docker drops on this host and returns its warnings.
    pub fn check(&mut self, memory: i64) -> Result<Vec<String>> {
        let host = tuning::support();
        let mut warnings = Vec::new();
        if self.memory_swappiness.is_some() && !host.swappiness {
            warnings.push(
                "Your kernel does not support memory swappiness capabilities or the cgroup is \
                 not mounted. Memory swappiness discarded."
                    .to_string(),
            );
            self.memory_swappiness = None;
        }
        if self.memory_reservation > 0 && self.memory_reservation < MIN_MEMORY {
            return Err(Error::invalid("Minimum memory reservation allowed is 6MB"));
        }
        if memory > 0 && self.memory_reservation > 0 && memory < self.memory_reservation {
            return Err(Error::invalid(
                "Minimum memory limit can not be less than memory reservation limit, see usage",
            ));
        }
        if self.oom_kill_disable.is_some() && !host.oom_kill_disable {
            if self.oom_kill_disable == Some(true) {
                warnings.push(
                    "Your kernel does not support OomKillDisable. OomKillDisable discarded."
                        .to_string(),
                );
            }
            self.oom_kill_disable = None;
        }
        if self.oom_kill_disable == Some(true) && memory == 0 {
            warnings.push(
                "OOM killer is disabled for the container, but no memory limit is set, this can \
                 result in the system running out of resources."
                    .to_string(),
            );
        }
        // Docker 20.10's refusals.
        if self.cpu_rt_period > 0 && !host.realtime {
            return Err(Error::invalid(
                "Your kernel does not support cgroup cpu real-time period",
            ));
        }
        if self.cpu_rt_runtime > 0 && !host.realtime {
            return Err(Error::invalid(
                "Your kernel does not support cgroup cpu real-time runtime",
            ));
        }
        if self.cpu_rt_period != 0
            && self.cpu_rt_runtime != 0
            && self.cpu_rt_runtime > self.cpu_rt_period
        {
            return Err(Error::invalid(
                "cpu real-time runtime cannot be higher than cpu real-time period",
            ));
        }
        // Docker drops what the host lacks before its checks of the values; berth refuses it,
        // after the checks that need no host (a bad weight gets Docker's message anywhere).
        if self.blkio_weight > 0 && !(10..=1000).contains(&self.blkio_weight) {
            return Err(Error::invalid("Range of blkio weight is from 10 to 1000"));
        }
        self.check_host_support(&host)?;
        check_set("cpus", &self.cpuset_cpus, &host.cpus, "CPUs")?;
        check_set("mems", &self.cpuset_mems, &host.mems, "memory nodes")?;
        Ok(warnings)
    }

    /// Refuses what this host's cgroups cannot enforce, naming the flag.
    fn check_host_support(&self, host: &tuning::Support) -> Result<()> {
        let some = |l: &Option<Vec<DeviceLimit>>| l.as_ref().is_some_and(|l| !l.is_empty());
        for (asked, available, flag, what) in [
            (
                !self.cpuset_cpus.is_empty() || !self.cpuset_mems.is_empty(),
                host.cpuset,
                "--cpuset-cpus/--cpuset-mems",
                "cpuset cgroup controller",
            ),
            (
                self.memory_reservation > 0,
                host.reservation,
                "--memory-reservation",
                "soft memory limit",
            ),
            (
                self.blkio_weight > 0,
                host.blkio_weight,
                "--blkio-weight",
                "block I/O weight (blkio.weight)",
            ),
            (
                some(&self.weight_devices),
                host.blkio_weight,
                "--blkio-weight-device",
                "block I/O weight (blkio.weight_device)",
            ),
            (
                [
                    &self.read_bps,
                    &self.write_bps,
                    &self.read_iops,
                    &self.write_iops,
                ]
                .into_iter()
                .any(some),
                host.throttle,
                "--device-read-bps/--device-write-bps/--device-read-iops/--device-write-iops",
                "block I/O throttling",
            ),
        ] {
            if asked && !available {
                return Err(Error::invalid(format!(
                    "berth cannot apply {flag} on this host: it offers no {what}"
                )));
            }
        }
        Ok(())
    }

    /// The runtime's form, device paths resolved to numbers (Docker resolves them at start,
    /// with `stat`'s error).
    pub fn tuning(&self) -> Result<Tuning> {
        let numbers = |list: &Option<Vec<DeviceLimit>>| -> Result<Vec<DeviceRate>> {
            list.iter()
                .flatten()
                .map(|d| {
                    let (major, minor) = tuning::device_numbers(&d.path).map_err(Error::invalid)?;
                    Ok(DeviceRate {
                        major,
                        minor,
                        rate: d.rate,
                    })
                })
                .collect()
        };
        Ok(Tuning {
            cpuset_cpus: self.cpuset_cpus.clone(),
            cpuset_mems: self.cpuset_mems.clone(),
            memory_reservation: self.memory_reservation,
            cpu_rt_period: self.cpu_rt_period.max(0) as u64,
            cpu_rt_runtime: self.cpu_rt_runtime,
            memory_swappiness: self.memory_swappiness.map(|s| s as u64),
            oom_kill_disable: self.oom_kill_disable == Some(true),
            blkio_weight: self.blkio_weight,
            weight_devices: numbers(&self.weight_devices)?,
            read_bps: numbers(&self.read_bps)?,
            write_bps: numbers(&self.write_bps)?,
            read_iops: numbers(&self.read_iops)?,
            write_iops: numbers(&self.write_iops)?,
        })
    }

    /// The cgroup of container `id`, relative to each hierarchy's root: under its parent,
    /// or under berth's own.
    pub fn path(&self, id: &str) -> String {
        let parent = match self.parent.as_str() {
            "" => &self.daemon_parent,
            own => own,
        };
        match berth_core::path::clean(parent).as_str() {
            "" => super::spec::cgroup_path(id),
            parent => format!("/{parent}/{id}"),
        }
    }
}

/// Docker's checks of a cpuset list (`0-2,4`) against what the host offers.
fn check_set(field: &str, asked: &str, available: &str, what: &str) -> Result<()> {
    if asked.is_empty() {
        return Ok(());
    }
    let want = parse_list(asked)
        .map_err(|e| Error::invalid(format!("Invalid value {asked} for cpuset {field}: {e}")))?;
    let have = parse_list(available).unwrap_or_default();
    if !want.iter().all(|n| have.contains(n)) {
        return Err(Error::invalid(format!(
            "Requested {what} are not available - requested {asked}, available: {available}"
        )));
    }
    Ok(())
}

/// Docker's `parsers.ParseUintList`: numbers and `a-b` ranges, comma-separated.
fn parse_list(s: &str) -> std::result::Result<Vec<u32>, String> {
    let bad = || format!("invalid format: {s}");
    let mut out = Vec::new();
    for part in s.trim().split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) =
                    (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                if b < a {
                    return Err(bad());
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().map_err(|_| bad())?),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpuset_lists_get_dockers_checks() {
        assert_eq!(parse_list("0-2,4").unwrap(), vec![0, 1, 2, 4]);
        assert_eq!(parse_list("2-1").unwrap_err(), "invalid format: 2-1");
        check_set("cpus", "0", "0-1", "CPUs").unwrap();
        assert_eq!(
            check_set("cpus", "0-x", "0-1", "CPUs").unwrap_err().message,
            "Invalid value 0-x for cpuset cpus: invalid format: 0-x"
        );
        assert_eq!(
            check_set("cpus", "5", "0-1", "CPUs").unwrap_err().message,
            "Requested CPUs are not available - requested 5, available: 0-1"
        );
    }

    #[test]
    fn reservations_and_weights_get_dockers_ranges() {
        let says = |c: Cgroup, memory| c.clone().check(memory).unwrap_err().message;
        let reservation = |r| Cgroup {
            memory_reservation: r,
            ..Cgroup::default()
        };
        assert_eq!(
            says(reservation(1 << 20), 0),
            "Minimum memory reservation allowed is 6MB"
        );
        assert!(says(reservation(64 << 20), 32 << 20).starts_with("Minimum memory limit can not"));
        let weight = Cgroup {
            blkio_weight: 5,
            ..Cgroup::default()
        };
        assert_eq!(says(weight, 0), "Range of blkio weight is from 10 to 1000");
    }

    #[test]
    fn a_parent_places_the_cgroup() {
        let c = |p: &str| Cgroup {
            parent: p.into(),
            ..Cgroup::default()
        };
        assert_eq!(c("").path("x"), "/berth/x");
        assert_eq!(c("/mine/").path("x"), "/mine/x");
        assert_eq!(c("a/../b").path("x"), "/b/x");
    }
}
