//! `HostConfig.Devices`, `DeviceCgroupRules` and `DeviceRequests` of a create request.
//!
//! Docker checks the rules and the host paths only when it builds the spec at start (a 500);
//! berth checks them here too, with the same words, so a container that cannot start is not
//! made. The host paths are looked at again at each start, as Docker does. Device requests
//! (`--gpus`, CDI names) need drivers berth does not have: they are refused by name.

use berth_api::container::HostConfig;
use berth_core::ErrorKind;
use berth_runtime::devices::{Access, Rule, RuleError};
use berth_runtime::runtime::RuntimeConfig;

use crate::containers::devices::DeviceMapping;
use crate::error::{Error, Result};

/// `Spec.devices` and `Spec.device_cgroup_rules`.
type Requested = (Option<Vec<DeviceMapping>>, Option<Vec<String>>);

/// The devices and rules asked for, checked for a container of `runtime`.
pub fn requested(h: &HostConfig, runtime: &RuntimeConfig) -> Result<Requested> {
    if h.device_requests.as_ref().is_some_and(|r| !r.is_empty()) {
        return Err(Error::new(
            ErrorKind::NotImplemented,
            "berth does not support HostConfig.DeviceRequests (--gpus, CDI devices): it has no GPU or other device drivers",
        ));
    }
    let devices = h
        .devices
        .as_ref()
        .map(|list| list.iter().map(|d| mapping(d, runtime)).collect())
        .transpose()?;
    for r in h.device_cgroup_rules.iter().flatten() {
        r.parse::<Rule>()
            .map_err(|e: RuleError| Error::invalid(e.to_string()))?;
    }
    Ok((devices, h.device_cgroup_rules.clone()))
}

/// One `--device` as the docker CLI would have sent it: the container path defaults to the
/// host's and is absolute, the permissions default to `rwm`.
fn mapping(
    d: &berth_api::container::DeviceMapping,
    runtime: &RuntimeConfig,
) -> Result<DeviceMapping> {
    let inside = match d.path_in_container.as_str() {
        "" => &d.path_on_host,
        p => p,
    };
    if !inside.starts_with('/') {
        return Err(Error::invalid(format!("{inside} is not an absolute path")));
    }
    if inside.contains('\0') {
        return Err(Error::invalid(format!(
            "invalid device path \"{}\": it contains a NUL byte",
            inside.escape_debug()
        )));
    }
    let inside = format!("/{}", berth_core::path::clean(inside));
    let permissions = match d.cgroup_permissions.as_str() {
        "" => "rwm",
        p => p,
    };
    let Some(access) = Access::parse_mode(permissions) else {
        return Err(Error::invalid(format!("bad mode specified: {permissions}")));
    };
    // libcontainer makes nodes under /dev only; runc anywhere.
    if *runtime == RuntimeConfig::Embedded && !inside.starts_with("/dev/") {
        return Err(Error::new(
            ErrorKind::NotImplemented,
            format!(
                "berth's embedded runtime makes device nodes under /dev only, not at {inside}: use --runtime runc"
            ),
        ));
    }
    berth_runtime::devices::from_host(&d.path_on_host, &inside, access)
        .map_err(|e| Error::invalid(e.to_string()))?;
    Ok(DeviceMapping {
        path_on_host: d.path_on_host.clone(),
        path_in_container: inside,
        cgroup_permissions: permissions.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(json: &str) -> HostConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn devices_are_checked_and_completed() {
        let h = host(
            r#"{"Devices":[{"PathOnHost":"/dev/null"},
                {"PathOnHost":"/dev/zero","PathInContainer":"/dev/x/../z","CgroupPermissions":"r"}],
                "DeviceCgroupRules":["c 1:3 rw"]}"#,
        );
        let (devices, rules) = requested(&h, &RuntimeConfig::Embedded).unwrap();
        let devices = devices.unwrap();
        assert_eq!(
            (
                devices[0].path_in_container.as_str(),
                devices[0].cgroup_permissions.as_str()
            ),
            ("/dev/null", "rwm")
        );
        assert_eq!(devices[1].path_in_container, "/dev/z");
        assert_eq!(rules.unwrap(), ["c 1:3 rw"]);
        assert_eq!(
            requested(&host("{}"), &RuntimeConfig::Embedded).unwrap(),
            (None, None),
            "nothing asked, null in inspect"
        );
        assert_eq!(
            requested(&host(r#"{"Devices":[]}"#), &RuntimeConfig::Embedded)
                .unwrap()
                .0,
            Some(vec![])
        );

        let err = |json: &str| requested(&host(json), &RuntimeConfig::Embedded).unwrap_err();
        let e = err(r#"{"DeviceCgroupRules":["c 1:3"]}"#);
        assert_eq!(
            (e.kind, e.message.as_str()),
            (
                ErrorKind::InvalidArgument,
                "invalid device cgroup rule format: 'c 1:3'"
            )
        );
        let e = err(r#"{"Devices":[{"PathOnHost":"/dev/nosuch"}]}"#);
        assert_eq!(
            (e.kind, e.message.as_str()),
            (
                ErrorKind::InvalidArgument,
                "error gathering device information while adding custom device \"/dev/nosuch\": no such file or directory"
            )
        );
        let e = err(r#"{"Devices":[{"PathOnHost":"/dev/null","PathInContainer":"/dev/a\u0000"}]}"#);
        assert!(e.message.contains("NUL byte"), "{}", e.message);
        let e = err(r#"{"Devices":[{"PathOnHost":"/dev/null","PathInContainer":"null"}]}"#);
        assert_eq!(e.message, "null is not an absolute path");
        let e = err(r#"{"Devices":[{"PathOnHost":"/dev/null","CgroupPermissions":"rx"}]}"#);
        assert_eq!(e.message, "bad mode specified: rx");
        let e = err(r#"{"Devices":[{"PathOnHost":"/dev/null","PathInContainer":"/null"}]}"#);
        assert_eq!(e.kind, ErrorKind::NotImplemented);
        assert!(
            e.message.contains("under /dev only, not at /null"),
            "{}",
            e.message
        );
        let external = RuntimeConfig::External {
            path: "/usr/sbin/runc".into(),
        };
        let (devices, _) = requested(
            &host(r#"{"Devices":[{"PathOnHost":"/dev/null","PathInContainer":"/null"}]}"#),
            &external,
        )
        .unwrap();
        assert_eq!(devices.unwrap()[0].path_in_container, "/null");
        let e = err(r#"{"DeviceRequests":[{"Count":-1,"Capabilities":[["gpu"]]}]}"#);
        assert_eq!(e.kind, ErrorKind::NotImplemented);
        assert!(e.message.contains("--gpus"), "{}", e.message);
        requested(&host(r#"{"DeviceRequests":[]}"#), &RuntimeConfig::Embedded).unwrap();
    }
}
