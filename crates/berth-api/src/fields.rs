//! What happens to a request field berth has no typed slot for, family by family.
//!
//! Docker decodes bodies into Go structs, so a key no API version defines is dropped without a
//! word, and newer clients keep working against older daemons. berth does the same. A key that
//! Docker defines and gives meaning to, and that berth cannot honour yet, is refused by name
//! when it is set. A key that Docker defines (or that real clients send) but itself ignores is
//! accepted: refusing it would break those clients. The lists are Docker's API definitions
//! (1.43 and 1.47) and moby's handlers.

use std::collections::BTreeMap;

use serde_json::Value;

/// One request body's fields.
#[derive(Debug)]
pub struct Family {
    /// The name used in messages (`HostConfig`).
    pub name: &'static str,
    /// Every field Docker's API defines for this body.
    pub defined: &'static [&'static str],
    /// Fields Docker accepts and ignores (deprecated, Windows-only, or sent by old clients).
    pub ignored: &'static [&'static str],
}

impl Family {
    /// The set fields of `rest` (what berth did not type) that must be refused, as
    /// `Name=value`.
    pub fn refused(&self, rest: &BTreeMap<String, Value>) -> Vec<String> {
        rest.iter()
            .filter(|(k, v)| {
                self.defined.contains(&k.as_str())
                    && !self.ignored.contains(&k.as_str())
                    && !crate::is_unset(v)
            })
            .map(|(k, v)| format!("{}.{k}={v}", self.name))
            .collect()
    }
}

/// The top level of `POST /containers/create` (a container's `Config`).
pub const CONTAINER_CONFIG: Family = Family {
    name: "Config",
    defined: &[
        "Hostname",
        "Domainname",
        "User",
        "AttachStdin",
        "AttachStdout",
        "AttachStderr",
        "ExposedPorts",
        "Tty",
        "OpenStdin",
        "StdinOnce",
        "Env",
        "Cmd",
        "Healthcheck",
        "ArgsEscaped",
        "Image",
        "Volumes",
        "WorkingDir",
        "Entrypoint",
        "NetworkDisabled",
        "MacAddress",
        "OnBuild",
        "Labels",
        "StopSignal",
        "StopTimeout",
        "Shell",
        // Sent by docker-py and by pre-1.18 clients at the top level.
        "Runtime",
        "Memory",
        "MemorySwap",
        "CpuShares",
        "Cpuset",
        "VolumeDriver",
    ],
    ignored: &[
        // Windows only.
        "ArgsEscaped",
        // docker-py puts `runtime=` here; only HostConfig.Runtime counts.
        "Runtime",
        // Pre-1.18 resource fields, ignored since Docker 27.
        "Memory",
        "MemorySwap",
        "CpuShares",
        "Cpuset",
        "VolumeDriver",
    ],
};

/// `HostConfig` of `POST /containers/create`.
pub const HOST_CONFIG: Family = Family {
    name: "HostConfig",
    defined: &[
        "CpuShares",
        "Memory",
        "CgroupParent",
        "BlkioWeight",
        "BlkioWeightDevice",
        "BlkioDeviceReadBps",
        "BlkioDeviceWriteBps",
        "BlkioDeviceReadIOps",
        "BlkioDeviceWriteIOps",
        "CpuPeriod",
        "CpuQuota",
        "CpuRealtimePeriod",
        "CpuRealtimeRuntime",
        "CpusetCpus",
        "CpusetMems",
        "Devices",
        "DeviceCgroupRules",
        "DeviceRequests",
        "KernelMemory",
        "KernelMemoryTCP",
        "MemoryReservation",
        "MemorySwap",
        "MemorySwappiness",
        "NanoCpus",
        "OomKillDisable",
        "Init",
        "PidsLimit",
        "Ulimits",
        "CpuCount",
        "CpuPercent",
        "IOMaximumIOps",
        "IOMaximumBandwidth",
        "Binds",
        "ContainerIDFile",
        "LogConfig",
        "NetworkMode",
        "PortBindings",
        "RestartPolicy",
        "AutoRemove",
        "VolumeDriver",
        "VolumesFrom",
        "Mounts",
        "ConsoleSize",
        "Annotations",
        "CapAdd",
        "CapDrop",
        "CgroupnsMode",
        "Dns",
        "DnsOptions",
        "DnsSearch",
        "ExtraHosts",
        "GroupAdd",
        "IpcMode",
        "Cgroup",
        "Links",
        "OomScoreAdj",
        "PidMode",
        "Privileged",
        "PublishAllPorts",
        "ReadonlyRootfs",
        "SecurityOpt",
        "StorageOpt",
        "Tmpfs",
        "UTSMode",
        "UsernsMode",
        "ShmSize",
        "Sysctls",
        "Runtime",
        "Isolation",
        "MaskedPaths",
        "ReadonlyPaths",
        "Capabilities",
    ],
    ignored: &[
        // Removed in API 1.42; Docker zeroes it.
        "KernelMemory",
        // Not supported by runc on cgroup v2 or by recent runc; removed in API 1.52.
        "KernelMemoryTCP",
        // The client writes the file; the daemon only stores the value.
        "ContainerIDFile",
        // Windows only.
        "CpuCount",
        "CpuPercent",
        // API 1.40 only; Docker 19.03's CLI sends null.
        "Capabilities",
    ],
};

/// The body of `POST /containers/{id}/exec`.
pub const EXEC_CREATE: Family = Family {
    name: "ExecConfig",
    defined: &[
        "AttachStdin",
        "AttachStdout",
        "AttachStderr",
        "ConsoleSize",
        "DetachKeys",
        "Tty",
        "Env",
        "Cmd",
        "Privileged",
        "User",
        "WorkingDir",
        // Sent by docker-py (`Container`) and by the docker CLI (`Detach`).
        "Container",
        "Detach",
    ],
    ignored: &["Container", "Detach"],
};

#[cfg(test)]
mod tests {
    use super::*;

    fn rest(json: &str) -> BTreeMap<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn exec_create_accepts_what_docker_py_sends() {
        let r = rest(r#"{"Container": "abc", "Detach": true, "Privileged2": true}"#);
        assert!(EXEC_CREATE.refused(&r).is_empty());
    }

    #[test]
    fn container_config_refuses_defined_fields_and_ignores_unknown_ones() {
        let r = rest(
            r#"{"MacAddress": "02:42:ac:11:00:02", "Runtime": "runc", "ArgsEscaped": true,
                "SomeFieldOfApi9": {"x": 1}, "NetworkDisabled": false}"#,
        );
        assert_eq!(
            CONTAINER_CONFIG.refused(&r),
            vec![r#"Config.MacAddress="02:42:ac:11:00:02""#]
        );
    }

    #[test]
    fn host_config_refuses_what_it_cannot_honour_and_accepts_what_docker_ignores() {
        let r = rest(
            r#"{"CapAdd": ["NET_ADMIN"], "KernelMemory": 1024, "ContainerIDFile": "/tmp/cid",
                "CpuPercent": 5, "Capabilities": null, "FutureKnob": 1, "Binds": []}"#,
        );
        assert_eq!(
            HOST_CONFIG.refused(&r),
            vec![r#"HostConfig.CapAdd=["NET_ADMIN"]"#]
        );
    }
}
