//! Docker's cgroup settings beyond memory, CPU time and tasks (`CgroupParent`, `Cpuset*`,
//! `MemoryReservation`, `MemorySwappiness`, `OomKillDisable`, `Blkio*`, `Isolation`) to
//! berth's [`Cgroup`] and back for inspect.

use berth_api::container::{HostConfig, ThrottleDevice, WeightDevice};

use crate::containers::resources::{Cgroup, DeviceLimit};
use crate::containers::{Resources, Update};
use crate::error::{Error, Result};

/// The settings a host config asks for (checked by [`Cgroup::check`]).
pub fn cgroup(h: &HostConfig) -> Cgroup {
    let rates = |l: &Option<Vec<ThrottleDevice>>| {
        l.as_ref().map(|l| {
            l.iter()
                .map(|d| DeviceLimit {
                    path: d.path.clone(),
                    rate: d.rate,
                })
                .collect()
        })
    };
    Cgroup {
        parent: h.cgroup_parent.clone(),
        daemon_parent: String::new(),
        cpuset_cpus: h.cpuset_cpus.clone(),
        cpuset_mems: h.cpuset_mems.clone(),
        memory_reservation: h.memory_reservation,
        // -1 is Docker's "unset" (`fixMemorySwappiness`).
        memory_swappiness: h.memory_swappiness.filter(|s| *s != -1),
        oom_kill_disable: h.oom_kill_disable,
        blkio_weight: h.blkio_weight,
        weight_devices: h.blkio_weight_device.as_ref().map(|l| {
            l.iter()
                .map(|d| DeviceLimit {
                    path: d.path.clone(),
                    rate: u64::from(d.weight),
                })
                .collect()
        }),
        read_bps: rates(&h.blkio_device_read_bps),
        write_bps: rates(&h.blkio_device_write_bps),
        read_iops: rates(&h.blkio_device_read_iops),
        write_iops: rates(&h.blkio_device_write_iops),
        cpu_rt_period: h.cpu_realtime_period,
        cpu_rt_runtime: h.cpu_realtime_runtime,
        isolation: h.isolation.clone(),
    }
}

/// The body of `POST /containers/{id}/update` (Docker's `UpdateConfig`: the resource fields
/// and a restart policy), with Docker's checks; `None`: the policy is left as it is. Fields
/// Docker's update ignores are refused by name when set, rather than dropped.
pub fn update(h: &HostConfig) -> Result<(Update, Vec<String>)> {
    super::checks::update_resources(h)?;
    let mut cgroup = cgroup(h);
    let warnings = cgroup.check(h.memory)?;
    let resources = Resources {
        memory: h.memory,
        memory_swap: h.memory_swap,
        nano_cpus: h.nano_cpus,
        cpu_shares: h.cpu_shares,
        cpu_period: h.cpu_period,
        cpu_quota: h.cpu_quota,
        pids_limit: h.pids_limit,
    };
    crate::containers::spec::check_host_support(&resources)?;
    let rates = [
        &cgroup.read_bps,
        &cgroup.write_bps,
        &cgroup.read_iops,
        &cgroup.write_iops,
    ];
    let not_updatable = [
        ("CgroupParent", !cgroup.parent.is_empty()),
        ("MemorySwappiness", cgroup.memory_swappiness.is_some()),
        ("OomKillDisable", cgroup.oom_kill_disable == Some(true)),
        (
            "BlkioWeightDevice",
            cgroup
                .weight_devices
                .as_ref()
                .is_some_and(|l| !l.is_empty()),
        ),
        (
            "BlkioDevice{Read,Write}{Bps,IOps}",
            rates
                .iter()
                .any(|l| l.as_ref().is_some_and(|l| !l.is_empty())),
        ),
        ("Ulimits", h.ulimits.as_ref().is_some_and(|l| !l.is_empty())),
        ("Devices", h.devices.as_ref().is_some_and(|l| !l.is_empty())),
    ];
    if let Some((field, _)) = not_updatable.iter().find(|(_, set)| *set) {
        return Err(Error::invalid(format!(
            "berth cannot update {field} of a container (Docker ignores it)"
        )));
    }
    let restart = (!h.restart_policy.name.is_empty())
        .then(|| super::create::restart_policy(&h.restart_policy))
        .transpose()?;
    Ok((
        Update {
            resources,
            cgroup,
            restart,
        },
        warnings,
    ))
}

/// Docker on Linux: `default` (or nothing) only.
pub fn isolation(i: &str) -> Result<()> {
    if i.is_empty() || i.eq_ignore_ascii_case("default") {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "invalid isolation ({i}): linux only supports 'default'"
    )))
}

/// A host config showing these settings, its other fields empty (inspect fills them).
pub fn host_config(c: &Cgroup) -> HostConfig {
    let rates = |l: &Option<Vec<DeviceLimit>>| {
        l.as_ref().map(|l| {
            l.iter()
                .map(|d| ThrottleDevice {
                    path: d.path.clone(),
                    rate: d.rate,
                })
                .collect()
        })
    };
    HostConfig {
        cgroup_parent: c.parent.clone(),
        cpuset_cpus: c.cpuset_cpus.clone(),
        cpuset_mems: c.cpuset_mems.clone(),
        memory_reservation: c.memory_reservation,
        memory_swappiness: c.memory_swappiness,
        // Docker records `false` for a container that did not ask (`adaptContainerSettings`).
        oom_kill_disable: Some(c.oom_kill_disable.unwrap_or(false)),
        blkio_weight: c.blkio_weight,
        blkio_weight_device: c.weight_devices.as_ref().map(|l| {
            l.iter()
                .map(|d| WeightDevice {
                    path: d.path.clone(),
                    weight: d.rate as u16,
                })
                .collect()
        }),
        blkio_device_read_bps: rates(&c.read_bps),
        blkio_device_write_bps: rates(&c.write_bps),
        blkio_device_read_iops: rates(&c.read_iops),
        blkio_device_write_iops: rates(&c.write_iops),
        cpu_realtime_period: c.cpu_rt_period,
        cpu_realtime_runtime: c.cpu_rt_runtime,
        isolation: c.isolation.clone(),
        ..HostConfig::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_go_to_the_model_and_back() {
        let h: HostConfig = serde_json::from_str(
            r#"{"CgroupParent": "mine", "CpusetCpus": "0", "MemoryReservation": 8388608,
                "MemorySwappiness": -1, "OomKillDisable": false, "BlkioWeight": 300,
                "BlkioDeviceReadBps": [{"Path": "/dev/vda", "Rate": 1048576}],
                "BlkioDeviceWriteIOps": [], "Isolation": "default"}"#,
        )
        .unwrap();
        let c = cgroup(&h);
        assert_eq!(c.memory_swappiness, None);
        assert_eq!(c.read_bps.as_ref().unwrap()[0].rate, 1 << 20);
        let back = serde_json::to_value(host_config(&c)).unwrap();
        assert_eq!(back["CgroupParent"], "mine");
        assert_eq!(back["CpusetCpus"], "0");
        assert_eq!(back["MemoryReservation"], 8388608);
        assert_eq!(back["OomKillDisable"], false);
        assert_eq!(back["BlkioWeight"], 300);
        assert_eq!(back["BlkioDeviceReadBps"][0]["Path"], "/dev/vda");
        assert_eq!(back["BlkioDeviceWriteIOps"], serde_json::json!([]));
        assert!(back["BlkioWeightDevice"].is_null());
        assert_eq!(back["Isolation"], "default");
    }

    #[test]
    fn linux_isolation_is_default_only() {
        isolation("").unwrap();
        isolation("default").unwrap();
        assert_eq!(
            isolation("hyperv").unwrap_err().message,
            "invalid isolation (hyperv): linux only supports 'default'"
        );
    }
}
