//! The device flags of `run` and `create` (`--device`, `--device-cgroup-rule`, `--gpus`), read
//! as the docker CLI reads them (`container/opts.go`, `opts/gpus.go`), with its messages. A CDI
//! name given to `--device` and every `--gpus` become device requests, which the daemon
//! refuses by name.

use std::collections::BTreeMap;

use berth_api::container::{DeviceMapping, DeviceRequest};
use berth_runtime::devices::{Access, Rule, RuleError};

use super::net_opts::OptError;

/// The device flags of a container.
#[derive(Debug, Default, clap::Args)]
pub struct DeviceOpts {
    /// Add a host device to the container.
    #[arg(long)]
    device: Vec<String>,
    /// Add a rule to the cgroup allowed devices list.
    #[arg(long)]
    device_cgroup_rule: Vec<String>,
    /// GPU devices to add to the container ('all' to pass all GPUs).
    #[arg(long)]
    gpus: Vec<String>,
}

/// What the flags put in a create request.
#[derive(Debug, Default, PartialEq)]
pub struct Parsed {
    /// `HostConfig.Devices` (always sent, `[]` when empty, as the docker CLI sends it).
    pub devices: Vec<DeviceMapping>,
    /// `HostConfig.DeviceCgroupRules` (null when empty).
    pub rules: Option<Vec<String>>,
    /// `HostConfig.DeviceRequests` (null when empty).
    pub requests: Option<Vec<DeviceRequest>>,
}

impl DeviceOpts {
    /// The request fields, or the docker CLI's error for the first bad value: the flags' own
    /// checks first (pflag runs them while parsing), then the devices'.
    pub fn parse(&self) -> Result<Parsed, OptError> {
        let flag = |value: &str, flag: &'static str, msg: String| OptError::Flag {
            value: value.to_string(),
            flag,
            msg,
        };
        for r in &self.device_cgroup_rule {
            // The CLI checks the form only; the daemon checks the numbers.
            if let Err(RuleError::Format(_)) = r.parse::<Rule>() {
                let msg = format!("invalid device cgroup format '{r}'");
                return Err(flag(r, "--device-cgroup-rule", msg));
            }
        }
        let mut requests = self
            .gpus
            .iter()
            .map(|g| gpu_request(g).map_err(|m| flag(g, "--gpus", m)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut devices = Vec::new();
        let mut cdi = Vec::new();
        for d in &self.device {
            if is_cdi_name(d) {
                cdi.push(d.clone());
                continue;
            }
            let valid = validate(d).map_err(OptError::Invalid)?;
            devices.push(mapping(&valid));
        }
        if !cdi.is_empty() {
            requests.push(DeviceRequest {
                driver: "cdi".into(),
                device_ids: Some(cdi),
                ..Default::default()
            });
        }
        Ok(Parsed {
            devices,
            rules: (!self.device_cgroup_rule.is_empty()).then(|| self.device_cgroup_rule.clone()),
            requests: (!requests.is_empty()).then_some(requests),
        })
    }
}

fn valid_mode(m: &str) -> bool {
    Access::parse_mode(m).is_some()
}

/// Go's `path.Clean`.
fn clean(p: &str) -> String {
    let c = berth_core::path::clean(p);
    match (p.starts_with('/'), c.is_empty()) {
        (true, _) => format!("/{c}"),
        (false, true) => ".".into(),
        (false, false) => c,
    }
}

/// `validateLinuxPath`: `[host:]container[:mode]`, the container path absolute.
fn validate(val: &str) -> Result<String, String> {
    let bad = || format!("bad format for path: {val}");
    if val.matches(':').count() > 2 {
        return Err(bad());
    }
    let split: Vec<&str> = val.splitn(3, ':').collect();
    if split[0].is_empty() {
        return Err(bad());
    }
    let (inside, out) = match split[..] {
        [one] => (one, clean(one)),
        [a, b] if valid_mode(b) => (a, format!("{}:{b}", clean(a))),
        [a, b] => (b, format!("{a}:{}", clean(b))),
        [a, b, c] => {
            if !valid_mode(c) {
                return Err(format!("bad mode specified: {c}"));
            }
            (b, format!("{a}:{b}:{c}"))
        }
        _ => unreachable!("splitn(3) gives one to three parts"),
    };
    if !inside.starts_with('/') {
        return Err(format!("{inside} is not an absolute path"));
    }
    Ok(out)
}

/// `parseLinuxDevice` of a validated value.
fn mapping(device: &str) -> DeviceMapping {
    let arr: Vec<&str> = device.splitn(3, ':').collect();
    let mut permissions = "rwm";
    let mut dst = "";
    if arr.len() == 3 {
        permissions = arr[2];
    }
    if arr.len() >= 2 {
        if valid_mode(arr[1]) {
            permissions = arr[1];
        } else {
            dst = arr[1];
        }
    }
    let src = arr[0];
    DeviceMapping {
        path_on_host: src.into(),
        path_in_container: if dst.is_empty() { src } else { dst }.into(),
        cgroup_permissions: permissions.into(),
    }
}

/// CDI's `IsQualifiedName`: `vendor/class=name`.
fn is_cdi_name(d: &str) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    let vendor_or_class = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.ends_with(alnum)
            && s.chars().all(|c| alnum(c) || "_-.".contains(c))
    };
    let Some((kind, name)) = d.split_once('=') else {
        return false;
    };
    let Some((vendor, class)) = kind.split_once('/') else {
        return false;
    };
    !d.starts_with('/')
        && vendor_or_class(vendor)
        && vendor_or_class(class)
        && name.starts_with(alnum)
        && name.ends_with(alnum)
        && name.chars().all(|c| alnum(c) || "_-.:".contains(c))
}

/// One CSV record, as Go's `encoding/csv` reads it (quoted fields with `""` escapes).
fn csv_fields(s: &str) -> Result<Vec<String>, String> {
    let mut fields = vec![String::new()];
    let mut chars = s.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match c {
            '"' if at_start => quoted = true,
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            '"' if quoted => quoted = false,
            '"' => {
                return Err("parse error on line 1, column 1: bare \" in non-quoted field".into());
            }
            ',' if !quoted => {
                fields.push(String::new());
                at_start = true;
                continue;
            }
            c => fields.last_mut().unwrap().push(c),
        }
        at_start = false;
    }
    if quoted {
        return Err("extraneous or missing \" in quoted-field".into());
    }
    Ok(fields)
}

/// `GpuOpts.Set`: `all`, a count, or `count=,device=,capabilities=,driver=,options=`.
fn gpu_request(value: &str) -> Result<DeviceRequest, String> {
    let count = |s: &str| -> Result<i64, String> {
        if s == "all" {
            return Ok(-1);
        }
        s.parse::<i64>().map_err(|e| {
            let why = match e.kind() {
                std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                    "value out of range"
                }
                _ => "invalid syntax",
            };
            format!("invalid count ({s}): value must be either \"all\" or an integer: {why}")
        })
    };
    let mut req = DeviceRequest::default();
    let mut seen = std::collections::BTreeSet::new();
    for field in csv_fields(value)? {
        let (key, val) = match field.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (field.clone(), None),
        };
        if !seen.insert(key.clone()) {
            return Err(format!(
                "gpu request key '{key}' can be specified only once"
            ));
        }
        let Some(val) = val else {
            seen.insert("count".into());
            req.count = count(&key)?;
            continue;
        };
        match key.as_str() {
            "driver" => req.driver = val,
            "count" => req.count = count(&val)?,
            "device" => req.device_ids = Some(val.split(',').map(String::from).collect()),
            "capabilities" => {
                let mut caps: Vec<String> = val.split(',').map(String::from).collect();
                caps.push("gpu".into());
                req.capabilities = Some(vec![caps]);
            }
            "options" => {
                let options = csv_fields(&val)
                    .map_err(|e| format!("failed to read gpu options: {e}"))?
                    .into_iter()
                    .map(|kv| match kv.split_once('=') {
                        Some((k, v)) => (k.to_string(), v.to_string()),
                        None => (kv, String::new()),
                    })
                    .collect();
                req.options = Some(options);
            }
            _ => return Err(format!("unexpected key '{key}' in '{field}'")),
        }
    }
    if !seen.contains("count") && req.device_ids.is_none() {
        req.count = 1;
    }
    req.options.get_or_insert_with(BTreeMap::new);
    req.capabilities
        .get_or_insert_with(|| vec![vec!["gpu".to_string()]]);
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(device: &[&str], rules: &[&str], gpus: &[&str]) -> DeviceOpts {
        let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        DeviceOpts {
            device: v(device),
            device_cgroup_rule: v(rules),
            gpus: v(gpus),
        }
    }

    fn map(h: &str, c: &str, p: &str) -> DeviceMapping {
        DeviceMapping {
            path_on_host: h.into(),
            path_in_container: c.into(),
            cgroup_permissions: p.into(),
        }
    }

    #[test]
    fn devices_parse_as_the_docker_cli_parses_them() {
        let p = opts(
            &[
                "/dev/null",
                "/dev/zero:/dev/myzero",
                "/dev/full:r",
                "/dev/sda:/dev/xvda:rw",
                "/dev/snd/",
                "/dev/a:/dev/b/../c",
            ],
            &["c 1:3 rw"],
            &[],
        )
        .parse()
        .unwrap();
        assert_eq!(
            p.devices,
            [
                map("/dev/null", "/dev/null", "rwm"),
                map("/dev/zero", "/dev/myzero", "rwm"),
                map("/dev/full", "/dev/full", "r"),
                map("/dev/sda", "/dev/xvda", "rw"),
                map("/dev/snd", "/dev/snd", "rwm"),
                map("/dev/a", "/dev/c", "rwm"),
            ]
        );
        assert_eq!(p.rules.unwrap(), ["c 1:3 rw"]);
        assert_eq!(p.requests, None);
        assert_eq!(opts(&[], &[], &[]).parse().unwrap(), Parsed::default());

        let invalid = |d: &str| match opts(&[d], &[], &[]).parse().unwrap_err() {
            OptError::Invalid(m) => m,
            e => panic!("{e:?}"),
        };
        assert_eq!(invalid("dev/null"), "dev/null is not an absolute path");
        assert_eq!(invalid("/dev/null:null"), "null is not an absolute path");
        assert_eq!(invalid("/a:/b:/c:r"), "bad format for path: /a:/b:/c:r");
        assert_eq!(invalid(":/dev/x"), "bad format for path: :/dev/x");
        assert_eq!(invalid("/dev/a:/dev/b:rx"), "bad mode specified: rx");
    }

    #[test]
    fn rules_and_gpus_are_checked_by_the_flags() {
        let e = opts(&[], &["c 1:3"], &[]).parse().unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid argument \"c 1:3\" for \"--device-cgroup-rule\" flag: invalid device cgroup format 'c 1:3'"
        );
        // Numbers too large for the daemon pass the CLI's check, as Docker's do.
        opts(&[], &["c 99999999999:1 r"], &[]).parse().unwrap();

        let p = opts(
            &["nvidia.com/gpu=all"],
            &[],
            &["all", "count=2,capabilities=compute"],
        )
        .parse()
        .unwrap();
        assert!(p.devices.is_empty());
        let r = p.requests.unwrap();
        assert_eq!(
            (r[0].count, r[0].capabilities.clone()),
            (-1, Some(vec![vec!["gpu".to_string()]]))
        );
        assert_eq!(
            r[1].capabilities,
            Some(vec![vec!["compute".to_string(), "gpu".to_string()]])
        );
        assert_eq!(r[1].count, 2);
        assert_eq!(
            (r[2].driver.as_str(), r[2].device_ids.clone()),
            ("cdi", Some(vec!["nvidia.com/gpu=all".to_string()]))
        );
        let p = opts(&[], &[], &["\"device=0,1\""]).parse().unwrap();
        let r = &p.requests.unwrap()[0];
        assert_eq!(
            (r.count, r.device_ids.as_deref()),
            (0, Some(&["0".to_string(), "1".to_string()][..]))
        );

        let gpu_err = |g: &str| opts(&[], &[], &[g]).parse().unwrap_err().to_string();
        assert_eq!(
            gpu_err("lots"),
            "invalid argument \"lots\" for \"--gpus\" flag: invalid count (lots): value must be either \"all\" or an integer: invalid syntax"
        );
        assert!(
            gpu_err("all,count=1").ends_with("gpu request key 'count' can be specified only once")
        );
        assert!(gpu_err("color=red").ends_with("unexpected key 'color' in 'color=red'"));
        assert!(!is_cdi_name("/dev/a=b/c"));
        assert!(!is_cdi_name("vendor/class="));
        assert!(is_cdi_name("amd.com/gpu=0"));
    }
}
