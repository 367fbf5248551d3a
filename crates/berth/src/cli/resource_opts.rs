//! The cgroup flags of `run` and `create` beyond `-m`, `--cpus`, `-c` and `--pids-limit`:
//! cpusets, CFS period and quota, reservation, swappiness, the OOM switch, block I/O weights
//! and throttles, `--cgroup-parent` and `--isolation`, read as the docker CLI reads them
//! (`opts.ValidateWeightDevice`, `ValidateThrottleBpsDevice`, `ValidateThrottleIOpsDevice`)
//! with its messages. The daemon checks ranges and what the host offers.

use berth_api::container::{HostConfig, ThrottleDevice, WeightDevice};

use super::net_opts::OptError;

/// The flags.
#[derive(Debug, Default, clap::Args)]
pub struct ResourceOpts {
    /// Optional parent cgroup for the container.
    #[arg(long)]
    cgroup_parent: Option<String>,
    /// CPUs in which to allow execution (0-3, 0,1).
    #[arg(long)]
    cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1).
    #[arg(long)]
    cpuset_mems: Option<String>,
    /// Limit CPU CFS (Completely Fair Scheduler) period.
    #[arg(long)]
    cpu_period: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota.
    #[arg(long, allow_negative_numbers = true)]
    cpu_quota: Option<i64>,
    /// Limit CPU real-time period in microseconds.
    #[arg(long)]
    cpu_rt_period: Option<i64>,
    /// Limit CPU real-time runtime in microseconds.
    #[arg(long)]
    cpu_rt_runtime: Option<i64>,
    /// Memory soft limit.
    #[arg(long)]
    memory_reservation: Option<String>,
    /// Tune container memory swappiness (0 to 100).
    #[arg(long, allow_negative_numbers = true)]
    memory_swappiness: Option<i64>,
    /// Disable OOM Killer.
    #[arg(long)]
    oom_kill_disable: bool,
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable.
    #[arg(long)]
    blkio_weight: Option<u16>,
    /// Block IO weight (relative device weight).
    #[arg(long)]
    blkio_weight_device: Vec<String>,
    /// Limit read rate (bytes per second) from a device.
    #[arg(long)]
    device_read_bps: Vec<String>,
    /// Limit write rate (bytes per second) to a device.
    #[arg(long)]
    device_write_bps: Vec<String>,
    /// Limit read rate (IO per second) from a device.
    #[arg(long)]
    device_read_iops: Vec<String>,
    /// Limit write rate (IO per second) to a device.
    #[arg(long)]
    device_write_iops: Vec<String>,
    /// Container isolation technology.
    #[arg(long)]
    isolation: Option<String>,
}

impl ResourceOpts {
    /// A host config with these fields set (the device lists always sent, as the docker CLI
    /// does), or the docker CLI's error for the first bad value.
    pub fn parse(&self) -> Result<HostConfig, OptError> {
        let flag = |value: &str, flag: &'static str, msg: String| OptError::Flag {
            value: value.to_string(),
            flag,
            msg,
        };
        let weights = self
            .blkio_weight_device
            .iter()
            .map(|v| weight_device(v).map_err(|m| flag(v, "--blkio-weight-device", m)))
            .collect::<Result<Vec<_>, _>>()?;
        let rates = |list: &[String], name: &'static str, bps: bool| {
            list.iter()
                .map(|v| throttle_device(v, bps).map_err(|m| flag(v, name, m)))
                .collect::<Result<Vec<_>, _>>()
        };
        let reservation = match &self.memory_reservation {
            Some(v) => super::run::bytes_arg(v)
                .map_err(|e| flag(v, "--memory-reservation", e.to_string()))?,
            None => 0,
        };
        let h = HostConfig {
            cgroup_parent: self.cgroup_parent.clone().unwrap_or_default(),
            cpuset_cpus: self.cpuset_cpus.clone().unwrap_or_default(),
            cpuset_mems: self.cpuset_mems.clone().unwrap_or_default(),
            cpu_period: self.cpu_period.unwrap_or(0),
            cpu_quota: self.cpu_quota.unwrap_or(0),
            memory_reservation: reservation,
            // The docker CLI's default is -1, "unset".
            memory_swappiness: Some(self.memory_swappiness.unwrap_or(-1)),
            oom_kill_disable: Some(self.oom_kill_disable),
            blkio_weight: self.blkio_weight.unwrap_or(0),
            blkio_weight_device: Some(weights),
            blkio_device_read_bps: Some(rates(&self.device_read_bps, "--device-read-bps", true)?),
            blkio_device_write_bps: Some(rates(
                &self.device_write_bps,
                "--device-write-bps",
                true,
            )?),
            blkio_device_read_iops: Some(rates(
                &self.device_read_iops,
                "--device-read-iops",
                false,
            )?),
            blkio_device_write_iops: Some(rates(
                &self.device_write_iops,
                "--device-write-iops",
                false,
            )?),
            cpu_realtime_period: self.cpu_rt_period.unwrap_or(0),
            cpu_realtime_runtime: self.cpu_rt_runtime.unwrap_or(0),
            isolation: self.isolation.clone().unwrap_or_default(),
            ..HostConfig::default()
        };
        Ok(h)
    }
}

/// `path:rest` with a `/dev/` path, or the docker CLI's message.
fn device_part(val: &str) -> Result<(&str, &str), String> {
    let (k, v) = val
        .split_once(':')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("bad format: {val}"))?;
    if !k.starts_with("/dev/") {
        return Err(format!("bad format for device path: {val}"));
    }
    Ok((k, v))
}

/// `opts.ValidateWeightDevice`: `/dev/x:weight`, the weight 0 or 10 to 1000.
fn weight_device(val: &str) -> Result<WeightDevice, String> {
    let (path, v) = device_part(val)?;
    let bad = || format!("invalid weight for device: {val}");
    let weight: u16 = v.parse().map_err(|_| bad())?;
    if weight > 0 && !(10..=1000).contains(&weight) {
        return Err(bad());
    }
    Ok(WeightDevice {
        path: path.into(),
        weight,
    })
}

/// `opts.ValidateThrottle{Bps,IOps}Device`: `/dev/x:rate`, a size for bytes per second.
fn throttle_device(val: &str, bps: bool) -> Result<ThrottleDevice, String> {
    let (path, v) = device_part(val)?;
    let rate = if bps {
        super::run::bytes_arg(v)
            .ok()
            .filter(|r| *r >= 0)
            .map(|r| r as u64)
            .ok_or_else(|| {
                format!(
                    "invalid rate for device: {val}. The correct format is \
                     <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is \
                     optional and can be kb, mb, or gb"
                )
            })?
    } else {
        v.parse::<u64>().map_err(|_| {
            format!(
                "invalid rate for device: {val}. The correct format is <device-path>:<number>. \
                 Number must be a positive integer"
            )
        })?
    };
    Ok(ThrottleDevice {
        path: path.into(),
        rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_values_get_the_docker_clis_checks() {
        assert_eq!(weight_device("/dev/sda:300").unwrap().weight, 300);
        assert_eq!(
            weight_device("sda:300").unwrap_err(),
            "bad format for device path: sda:300"
        );
        assert_eq!(
            weight_device("/dev/sda").unwrap_err(),
            "bad format: /dev/sda"
        );
        assert_eq!(
            weight_device("/dev/sda:5").unwrap_err(),
            "invalid weight for device: /dev/sda:5"
        );
        assert_eq!(throttle_device("/dev/sda:1mb", true).unwrap().rate, 1 << 20);
        assert!(
            throttle_device("/dev/sda:x", true)
                .unwrap_err()
                .starts_with("invalid rate for device: /dev/sda:x. The correct format")
        );
        assert_eq!(throttle_device("/dev/sda:100", false).unwrap().rate, 100);
        throttle_device("/dev/sda:1mb", false).unwrap_err();
    }

    #[test]
    fn the_flags_fill_the_host_config_as_the_docker_cli_does() {
        let o = ResourceOpts {
            cpuset_cpus: Some("0".into()),
            memory_reservation: Some("16m".into()),
            device_read_bps: vec!["/dev/vda:1mb".into()],
            cpu_rt_runtime: Some(1000),
            ..ResourceOpts::default()
        };
        let h = o.parse().unwrap();
        assert_eq!(h.cpuset_cpus, "0");
        assert_eq!(h.memory_reservation, 16 << 20);
        assert_eq!(h.memory_swappiness, Some(-1));
        assert_eq!(h.oom_kill_disable, Some(false));
        assert_eq!(h.blkio_device_read_bps.unwrap()[0].rate, 1 << 20);
        assert_eq!(h.blkio_weight_device, Some(vec![]));
        assert_eq!(h.cpu_realtime_runtime, 1000);
    }
}
