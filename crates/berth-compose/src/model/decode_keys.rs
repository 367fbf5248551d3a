//! The key tables of decoding: what berth refuses, what the loader consumed, and which
//! mappings hold free-form names.

use crate::load::{Node, Value};

/// Service keys of the Compose Specification that berth's engine can't honour: refused rather
/// than silently ignored.
pub(crate) const UNSUPPORTED_SERVICE_KEYS: &[&str] = &[
    "blkio_config",
    "cgroup",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpuset",
    "credential_spec",
    "develop",
    "device_cgroup_rules",
    "gpus",
    "isolation",
    "label_file",
    "log_driver",
    "log_opt",
    "mem_swappiness",
    "models",
    "net",
    "oom_kill_disable",
    "post_start",
    "pre_start",
    "pre_stop",
    "provider",
    "storage_opt",
    "use_api_socket",
    "uts",
    "volume_driver",
    "volumes_from",
];

/// Keys of the specification inside a service's mappings that berth can't honour, by the
/// key holding them (`*` for each entry of a map or list).
const UNSUPPORTED_NESTED: &[(&str, &[&str])] = &[
    (
        "build",
        &[
            "cache_to",
            "entitlements",
            "isolation",
            "no_cache_filter",
            "privileged",
            "provenance",
            "sbom",
            "secrets",
            "ssh",
            "ulimits",
        ],
    ),
    ("deploy", &["endpoint_mode", "placement"]),
    ("deploy.resources.limits", &["devices", "generic_resources"]),
    (
        "deploy.resources.reservations",
        &["devices", "generic_resources"],
    ),
    (
        "networks.*",
        &["driver_opts", "interface_name", "link_local_ips"],
    ),
    ("volumes.*", &["image"]),
    ("volumes.*.bind", &["recursive"]),
    ("volumes.*.volume", &["labels"]),
];

/// The first key of `UNSUPPORTED_NESTED` present in a service, with its node.
pub(crate) fn unsupported_nested<'a>(service: &'a Node, key: &str) -> Option<(String, &'a Node)> {
    UNSUPPORTED_NESTED.iter().find_map(|(path, keys)| {
        let mut found = vec![(key.to_owned(), service)];
        for part in path.split('.') {
            found = found
                .into_iter()
                .flat_map(|(k, n)| children(n, &k, part))
                .collect();
        }
        found.into_iter().find_map(|(k, n)| {
            let m = n.as_map()?;
            let (bad, v) = m.iter().find(|(name, _)| keys.contains(&name.as_str()))?;
            Some((format!("{k}.{bad}"), v))
        })
    })
}

/// `node`'s entry `part`, or all its entries for `*`, with their dotted keys.
fn children<'a>(node: &'a Node, key: &str, part: &str) -> Vec<(String, &'a Node)> {
    match (&node.value, part) {
        (Value::Map(m), "*") => m.iter().map(|(k, v)| (format!("{key}.{k}"), v)).collect(),
        (Value::Seq(s), "*") => s
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{key}.{i}"), v))
            .collect(),
        (Value::Map(m), p) => m
            .get(p)
            .map(|v| vec![(format!("{key}.{p}"), v)])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Keys the loader consumes before decoding; if one is still there it has been dealt with.
pub(crate) const LOADER_KEYS: &[&str] = &["extends"];

/// Keys whose mappings hold free-form names (an environment variable may well be called
/// `image`), skipped when looking for an unknown key.
pub(crate) const FREE_FORM: &[&str] = &[
    "environment",
    "labels",
    "args",
    "annotations",
    "sysctls",
    "driver_opts",
    "options",
    "extra_hosts",
    "additional_contexts",
    "aux_addresses",
    "depends_on",
    "networks",
    "ulimits",
];
