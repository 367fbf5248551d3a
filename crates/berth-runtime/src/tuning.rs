//! The limits beyond memory, CPU time and tasks: cpusets, the soft memory limit, swappiness,
//! the OOM killer switch and block I/O weights and throttles, as they go into the OCI
//! `linux.resources` (libcontainer's cgroup managers and runc write them at create).

use oci_spec::OciSpecError;
use oci_spec::runtime::{
    LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxResources, LinuxThrottleDevice,
    LinuxThrottleDeviceBuilder, LinuxWeightDeviceBuilder,
};

/// A block device by number, with a weight or a rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceRate {
    /// Major number.
    pub major: i64,
    /// Minor number.
    pub minor: i64,
    /// The weight (10 to 1000) or the rate (bytes or operations per second).
    pub rate: u64,
}

/// Limits beyond [`crate::Resources`]' own; empty or zero means none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tuning {
    /// CPUs the container may run on (`0-3`).
    pub cpuset_cpus: String,
    /// Memory nodes it may allocate from.
    pub cpuset_mems: String,
    /// Soft memory limit in bytes.
    pub memory_reservation: i64,
    /// Real-time scheduling period, microseconds (cgroup v1 only).
    pub cpu_rt_period: u64,
    /// Real-time runtime per period, microseconds (cgroup v1 only).
    pub cpu_rt_runtime: i64,
    /// The kernel's swap tendency, 0 to 100 (cgroup v1 only).
    pub memory_swappiness: Option<u64>,
    /// No OOM kills in its cgroup (cgroup v1 only).
    pub oom_kill_disable: bool,
    /// Block I/O weight, 10 to 1000.
    pub blkio_weight: u16,
    /// Block I/O weight per device.
    pub weight_devices: Vec<DeviceRate>,
    /// Read bytes per second per device.
    pub read_bps: Vec<DeviceRate>,
    /// Write bytes per second per device.
    pub write_bps: Vec<DeviceRate>,
    /// Read operations per second per device.
    pub read_iops: Vec<DeviceRate>,
    /// Write operations per second per device.
    pub write_iops: Vec<DeviceRate>,
}

impl Tuning {
    /// Adds these limits to `r`.
    pub fn apply(&self, r: &mut LinuxResources) -> Result<(), OciSpecError> {
        if !self.cpuset_cpus.is_empty()
            || !self.cpuset_mems.is_empty()
            || self.cpu_rt_period > 0
            || self.cpu_rt_runtime != 0
        {
            let mut cpu: LinuxCpu = r.cpu().clone().unwrap_or_default();
            let set = |s: &str| (!s.is_empty()).then(|| s.to_string());
            cpu.set_cpus(set(&self.cpuset_cpus));
            cpu.set_mems(set(&self.cpuset_mems));
            cpu.set_realtime_period((self.cpu_rt_period > 0).then_some(self.cpu_rt_period));
            cpu.set_realtime_runtime((self.cpu_rt_runtime != 0).then_some(self.cpu_rt_runtime));
            r.set_cpu(Some(cpu));
        }
        if self.memory_reservation > 0 || self.memory_swappiness.is_some() || self.oom_kill_disable
        {
            let mut m: LinuxMemory = r.memory().unwrap_or_default();
            if self.memory_reservation > 0 {
                m.set_reservation(Some(self.memory_reservation));
            }
            m.set_swappiness(self.memory_swappiness);
            if self.oom_kill_disable {
                m.set_disable_oom_killer(Some(true));
            }
            r.set_memory(Some(m));
        }
        if let Some(io) = self.block_io()? {
            r.set_block_io(Some(io));
        }
        Ok(())
    }

    fn block_io(&self) -> Result<Option<LinuxBlockIo>, OciSpecError> {
        let throttles = [
            &self.read_bps,
            &self.write_bps,
            &self.read_iops,
            &self.write_iops,
        ];
        if self.blkio_weight == 0
            && self.weight_devices.is_empty()
            && throttles.iter().all(|t| t.is_empty())
        {
            return Ok(None);
        }
        let mut io = LinuxBlockIo::default();
        if self.blkio_weight > 0 {
            io.set_weight(Some(self.blkio_weight));
        }
        if !self.weight_devices.is_empty() {
            let list = self
                .weight_devices
                .iter()
                .map(|d| {
                    LinuxWeightDeviceBuilder::default()
                        .major(d.major)
                        .minor(d.minor)
                        .weight(d.rate as u16)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            io.set_weight_device(Some(list));
        }
        let oci = |list: &[DeviceRate]| -> Result<Option<Vec<LinuxThrottleDevice>>, OciSpecError> {
            if list.is_empty() {
                return Ok(None);
            }
            list.iter()
                .map(|d| {
                    LinuxThrottleDeviceBuilder::default()
                        .major(d.major)
                        .minor(d.minor)
                        .rate(d.rate)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
        };
        io.set_throttle_read_bps_device(oci(&self.read_bps)?);
        io.set_throttle_write_bps_device(oci(&self.write_bps)?);
        io.set_throttle_read_iops_device(oci(&self.read_iops)?);
        io.set_throttle_write_iops_device(oci(&self.write_iops)?);
        Ok(Some(io))
    }
}

/// Which of these limits the host's cgroups can enforce, and the CPUs and memory nodes
/// its cpusets offer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Support {
    /// Cpusets.
    pub cpuset: bool,
    /// The CPUs of the root cpuset (`0-3`).
    pub cpus: String,
    /// Its memory nodes.
    pub mems: String,
    /// A soft memory limit.
    pub reservation: bool,
    /// Swappiness (v1 only).
    pub swappiness: bool,
    /// The OOM killer switch (v1 only).
    pub oom_kill_disable: bool,
    /// Real-time CPU scheduling of groups (v1 only).
    pub realtime: bool,
    /// A block I/O weight.
    pub blkio_weight: bool,
    /// Block I/O throttles.
    pub throttle: bool,
}

/// What this host offers, from its cgroup files.
pub fn support() -> Support {
    let root = std::path::Path::new("/sys/fs/cgroup");
    let read = |p: std::path::PathBuf| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    if crate::cgroup::is_unified() {
        let list = read(root.join("cgroup.controllers"));
        let has = |c: &str| list.split_whitespace().any(|x| x == c);
        Support {
            cpuset: has("cpuset"),
            cpus: read(root.join("cpuset.cpus.effective")),
            mems: read(root.join("cpuset.mems.effective")),
            reservation: has("memory"),
            swappiness: false,
            oom_kill_disable: false,
            realtime: false,
            blkio_weight: has("io"),
            throttle: has("io"),
        }
    } else {
        let has = |f: &str| root.join(f).exists();
        Support {
            cpuset: has("cpuset/cpuset.cpus"),
            cpus: read(root.join("cpuset/cpuset.cpus")),
            mems: read(root.join("cpuset/cpuset.mems")),
            reservation: has("memory/memory.soft_limit_in_bytes"),
            swappiness: has("memory/memory.swappiness"),
            oom_kill_disable: has("memory/memory.oom_control"),
            realtime: has("cpu/cpu.rt_runtime_us"),
            blkio_weight: has("blkio/blkio.weight") || has("blkio/blkio.bfq.weight"),
            throttle: has("blkio/blkio.throttle.read_bps_device"),
        }
    }
}

/// The major and minor numbers of the device node at `path`, in Docker's words when it is not
/// there (`stat /dev/x: no such file or directory`).
pub fn device_numbers(path: &str) -> Result<(i64, i64), String> {
    let st = nix::sys::stat::stat(path).map_err(|e| format!("stat {path}: {}", go_errno(e)))?;
    let rdev = st.st_rdev;
    Ok((
        i64::from(nix::sys::stat::major(rdev) as u32),
        i64::from(nix::sys::stat::minor(rdev) as u32),
    ))
}

/// Go's lower-case text of an errno.
fn go_errno(e: nix::errno::Errno) -> String {
    let s = e.desc();
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tunings_reach_the_oci_resources() {
        let t = Tuning {
            cpuset_cpus: "0".into(),
            memory_reservation: 16 << 20,
            memory_swappiness: Some(10),
            oom_kill_disable: true,
            blkio_weight: 300,
            read_bps: vec![DeviceRate {
                major: 254,
                minor: 0,
                rate: 1 << 20,
            }],
            ..Tuning::default()
        };
        let mut r = LinuxResources::default();
        t.apply(&mut r).unwrap();
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["cpu"]["cpus"], "0");
        assert!(json["cpu"].get("mems").is_none());
        assert_eq!(json["memory"]["reservation"], 16 << 20);
        assert_eq!(json["memory"]["swappiness"], 10);
        assert_eq!(json["memory"]["disableOOMKiller"], true);
        assert_eq!(json["blockIO"]["weight"], 300);
        assert_eq!(
            json["blockIO"]["throttleReadBpsDevice"][0],
            serde_json::json!({"major": 254, "minor": 0, "rate": 1 << 20})
        );
        let mut empty = LinuxResources::default();
        Tuning::default().apply(&mut empty).unwrap();
        assert_eq!(empty, LinuxResources::default());
    }

    #[test]
    fn device_numbers_are_read_from_the_node() {
        assert_eq!(device_numbers("/dev/null").unwrap(), (1, 3));
        assert_eq!(
            device_numbers("/dev/nosuch").unwrap_err(),
            "stat /dev/nosuch: no such file or directory"
        );
    }
}
