//! What happens to a request field berth has no typed slot for, family by family.
//!
//! Docker decodes bodies into Go structs, so a key no API version defines is dropped without a
//! word, and newer clients keep working against older daemons. berth does the same. A key that
//! Docker defines and gives meaning to, and that berth cannot honour yet, is refused by name
//! when it is set. A key that Docker defines (or that real clients send) but itself ignores is
//! accepted: refusing it would break those clients. The lists are Docker's API definitions
//! (1.43 and 1.47) and moby's handlers.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use Json::*;

/// The JSON type a field's Go type accepts (`null` always decodes, to the zero value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Json {
    /// A string.
    Str,
    /// A whole number.
    Int,
    /// `true` or `false`.
    Bool,
    /// An array.
    Array,
    /// An object.
    Object,
    /// A string or an array of strings (Docker's `StrSlice`).
    StrOrArray,
    /// Anything: a key Docker's struct does not have, so it never fails to decode.
    Any,
}

impl Json {
    fn accepts(self, v: &Value) -> bool {
        match (self, v) {
            (_, Value::Null) | (Any, _) => true,
            (Str, Value::String(_)) | (Bool, Value::Bool(_)) => true,
            (Int, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (Array | StrOrArray, Value::Array(_)) | (StrOrArray, Value::String(_)) => true,
            (Object, Value::Object(_)) => true,
            _ => false,
        }
    }

    /// Go's name for the type, as its decoder's messages say it.
    fn go_name(self) -> &'static str {
        match self {
            Str => "string",
            Int => "int64",
            Bool => "bool",
            Array => "array",
            Object => "object",
            StrOrArray => "strslice.StrSlice",
            Any => "any",
        }
    }
}

/// The JSON name of a value's type, as Go's decoder names it.
fn json_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// One request body's fields.
#[derive(Debug)]
pub struct Family {
    /// The name used in messages (`HostConfig`).
    pub name: &'static str,
    /// Every field Docker's API defines for this body, with the JSON type it takes.
    pub defined: &'static [(&'static str, Json)],
    /// Fields Docker accepts and ignores (deprecated, Windows-only, or sent by old clients).
    pub ignored: &'static [&'static str],
}

impl Family {
    fn kind(&self, key: &str) -> Option<Json> {
        self.defined
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, j)| *j)
    }

    /// Gives the keys of `obj` Docker's spelling where they match a defined field but for
    /// case, as Go's decoder matches them (`"image"` is `Image`); an exact key wins.
    pub fn canonicalize(&self, obj: &mut Map<String, Value>) {
        let keys: Vec<String> = obj.keys().cloned().collect();
        for key in keys {
            let Some((canon, _)) = self
                .defined
                .iter()
                .find(|(k, _)| *k != key && k.eq_ignore_ascii_case(&key))
            else {
                continue;
            };
            if !obj.contains_key(*canon)
                && let Some(v) = obj.remove(&key)
            {
                obj.insert(canon.to_string(), v);
            }
        }
    }

    /// The first defined field of `obj` whose value its Go type cannot take, in Go's words.
    pub fn mistyped(&self, obj: &Map<String, Value>) -> Option<String> {
        obj.iter().find_map(|(k, v)| {
            let kind = self.kind(k)?;
            (!kind.accepts(v)).then(|| {
                format!(
                    "json: cannot unmarshal {} into Go struct field {}.{k} of type {}",
                    json_name(v),
                    self.name,
                    kind.go_name()
                )
            })
        })
    }

    /// Docker's zero value for every defined field `typed` (what berth's struct already
    /// serializes) lacks, as inspect shows a Go struct: `""`, `0`, `false`, else `null`. With
    /// `skip_ignored`, fields Docker only accepts on input are left out.
    pub fn zeros(&self, typed: &Map<String, Value>, skip_ignored: bool) -> BTreeMap<String, Value> {
        self.defined
            .iter()
            .filter(|(k, kind)| {
                !typed.contains_key(*k)
                    && *kind != Any
                    && !(skip_ignored && self.ignored.contains(k))
            })
            .map(|(k, kind)| {
                let zero = match kind {
                    Str => Value::String(String::new()),
                    Int => Value::from(0),
                    Bool => Value::Bool(false),
                    _ => Value::Null,
                };
                (k.to_string(), zero)
            })
            .collect()
    }

    /// The set fields of `rest` (what berth did not type) that must be refused, as
    /// `Name=value`.
    pub fn refused(&self, rest: &BTreeMap<String, Value>) -> Vec<String> {
        rest.iter()
            .filter(|(k, v)| {
                self.kind(k).is_some() && !self.ignored.contains(&k.as_str()) && !crate::is_unset(v)
            })
            .map(|(k, v)| format!("{}.{k}={v}", self.name))
            .collect()
    }
}

/// Why a request body does not decode: Go's words for a wrong type, serde_json's for the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

impl From<serde_json::Error> for DecodeError {
    fn from(e: serde_json::Error) -> Self {
        DecodeError(e.to_string())
    }
}

/// Decodes the body of `POST /containers/create` as Go's decoder would see it: keys matched
/// without regard to case, a value of the wrong type refused with Go's message.
pub fn decode_create(body: &[u8]) -> Result<crate::container::CreateRequest, DecodeError> {
    let mut v: Value = serde_json::from_slice(body)?;
    let Some(top) = v.as_object_mut() else {
        return Err(DecodeError(format!(
            "json: cannot unmarshal {} into Go value of type container.CreateRequest",
            json_name(&v)
        )));
    };
    CONTAINER_CONFIG.canonicalize(top);
    for extra in ["HostConfig", "NetworkingConfig"] {
        let found = top
            .keys()
            .find(|k| *k != extra && k.eq_ignore_ascii_case(extra))
            .cloned();
        if let Some(k) = found.filter(|_| !top.contains_key(extra))
            && let Some(val) = top.remove(&k)
        {
            top.insert(extra.to_string(), val);
        }
    }
    if let Some(m) = CONTAINER_CONFIG.mistyped(top) {
        return Err(DecodeError(m));
    }
    match top.get_mut("HostConfig") {
        Some(Value::Object(h)) => {
            HOST_CONFIG.canonicalize(h);
            if let Some(m) = HOST_CONFIG.mistyped(h) {
                return Err(DecodeError(m));
            }
        }
        Some(Value::Null) | None => {}
        Some(other) => {
            return Err(DecodeError(format!(
                "json: cannot unmarshal {} into Go struct field CreateRequest.HostConfig of type container.HostConfig",
                json_name(other)
            )));
        }
    }
    Ok(serde_json::from_value(v)?)
}

/// Decodes the body of `POST /containers/{id}/exec` the same way.
pub fn decode_exec(body: &[u8]) -> Result<crate::exec::ExecConfig, DecodeError> {
    let mut v: Value = serde_json::from_slice(body)?;
    let Some(top) = v.as_object_mut() else {
        return Err(DecodeError(format!(
            "json: cannot unmarshal {} into Go value of type container.ExecOptions",
            json_name(&v)
        )));
    };
    EXEC_CREATE.canonicalize(top);
    if let Some(m) = EXEC_CREATE.mistyped(top) {
        return Err(DecodeError(m));
    }
    Ok(serde_json::from_value(v)?)
}

/// The top level of `POST /containers/create` (a container's `Config`).
pub const CONTAINER_CONFIG: Family = Family {
    name: "Config",
    defined: &[
        ("Hostname", Str),
        ("Domainname", Str),
        ("User", Str),
        ("AttachStdin", Bool),
        ("AttachStdout", Bool),
        ("AttachStderr", Bool),
        ("ExposedPorts", Object),
        ("Tty", Bool),
        ("OpenStdin", Bool),
        ("StdinOnce", Bool),
        ("Env", Array),
        ("Cmd", StrOrArray),
        ("Healthcheck", Object),
        ("ArgsEscaped", Bool),
        ("Image", Str),
        ("Volumes", Object),
        ("WorkingDir", Str),
        ("Entrypoint", StrOrArray),
        ("NetworkDisabled", Bool),
        ("MacAddress", Str),
        ("OnBuild", Array),
        ("Labels", Object),
        ("StopSignal", Str),
        ("StopTimeout", Int),
        ("Shell", StrOrArray),
        // Sent by docker-py and by pre-1.18 clients at the top level.
        ("Runtime", Any),
        ("Memory", Any),
        ("MemorySwap", Any),
        ("CpuShares", Any),
        ("Cpuset", Any),
        ("VolumeDriver", Any),
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
        ("CpuShares", Int),
        ("Memory", Int),
        ("CgroupParent", Str),
        ("BlkioWeight", Int),
        ("BlkioWeightDevice", Array),
        ("BlkioDeviceReadBps", Array),
        ("BlkioDeviceWriteBps", Array),
        ("BlkioDeviceReadIOps", Array),
        ("BlkioDeviceWriteIOps", Array),
        ("CpuPeriod", Int),
        ("CpuQuota", Int),
        ("CpuRealtimePeriod", Int),
        ("CpuRealtimeRuntime", Int),
        ("CpusetCpus", Str),
        ("CpusetMems", Str),
        ("Devices", Array),
        ("DeviceCgroupRules", Array),
        ("DeviceRequests", Array),
        ("KernelMemory", Int),
        ("KernelMemoryTCP", Int),
        ("MemoryReservation", Int),
        ("MemorySwap", Int),
        ("MemorySwappiness", Int),
        ("NanoCpus", Int),
        ("OomKillDisable", Bool),
        ("Init", Bool),
        ("PidsLimit", Int),
        ("Ulimits", Array),
        ("CpuCount", Int),
        ("CpuPercent", Int),
        ("IOMaximumIOps", Int),
        ("IOMaximumBandwidth", Int),
        ("Binds", Array),
        ("ContainerIDFile", Str),
        ("LogConfig", Object),
        ("NetworkMode", Str),
        ("PortBindings", Object),
        ("RestartPolicy", Object),
        ("AutoRemove", Bool),
        ("VolumeDriver", Str),
        ("VolumesFrom", Array),
        ("Mounts", Array),
        ("ConsoleSize", Array),
        ("Annotations", Object),
        ("CapAdd", StrOrArray),
        ("CapDrop", StrOrArray),
        ("CgroupnsMode", Str),
        ("Dns", Array),
        ("DnsOptions", Array),
        ("DnsSearch", Array),
        ("ExtraHosts", Array),
        ("GroupAdd", Array),
        ("IpcMode", Str),
        ("Cgroup", Str),
        ("Links", Array),
        ("OomScoreAdj", Int),
        ("PidMode", Str),
        ("Privileged", Bool),
        ("PublishAllPorts", Bool),
        ("ReadonlyRootfs", Bool),
        ("SecurityOpt", Array),
        ("StorageOpt", Object),
        ("Tmpfs", Object),
        ("UTSMode", Str),
        ("UsernsMode", Str),
        ("ShmSize", Int),
        ("Sysctls", Object),
        ("Runtime", Str),
        ("Isolation", Str),
        ("MaskedPaths", Array),
        ("ReadonlyPaths", Array),
        ("Capabilities", Array),
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
        ("AttachStdin", Bool),
        ("AttachStdout", Bool),
        ("AttachStderr", Bool),
        ("ConsoleSize", Array),
        ("DetachKeys", Str),
        ("Tty", Bool),
        ("Env", Array),
        ("Cmd", StrOrArray),
        ("Privileged", Bool),
        ("User", Str),
        ("WorkingDir", Str),
        // Sent by docker-py (`Container`) and by the docker CLI (`Detach`).
        ("Container", Any),
        ("Detach", Bool),
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
    fn keys_match_without_case_as_in_go() {
        let req = decode_create(
            br#"{"image": "busybox", "CMD": ["true"], "hostconfig": {"networkmode": "host"}}"#,
        )
        .unwrap();
        assert_eq!(req.config.image, "busybox");
        assert_eq!(req.config.cmd, Some(vec!["true".to_string()]));
        assert_eq!(req.host_config.network_mode, "host");
        // The exact spelling wins over another case of it.
        let req = decode_create(br#"{"image": "a", "Image": "b"}"#).unwrap();
        assert_eq!(req.config.image, "b");
        let exec = decode_exec(br#"{"cmd": ["ls"], "attachstdout": true}"#).unwrap();
        assert_eq!(exec.cmd, Some(vec!["ls".to_string()]));
    }

    #[test]
    fn a_wrong_type_is_gos_message_for_typed_and_untyped_fields() {
        let says = |b: &str| decode_create(b.as_bytes()).unwrap_err().0;
        assert_eq!(
            says(r#"{"Image": "x", "Healthcheck": 5}"#),
            "json: cannot unmarshal number into Go struct field Config.Healthcheck of type object"
        );
        assert_eq!(
            says(r#"{"Image": "x", "HostConfig": {"CapAdd": 1}}"#),
            "json: cannot unmarshal number into Go struct field HostConfig.CapAdd of type strslice.StrSlice"
        );
        assert_eq!(
            says(r#"{"Image": 7}"#),
            "json: cannot unmarshal number into Go struct field Config.Image of type string"
        );
        assert!(says(r#"{"Image": "x", "HostConfig": {"Memory": 1.5}}"#).contains("of type int64"));
        assert!(says(r#"{"Image": "x", "HostConfig": []}"#).contains("CreateRequest.HostConfig"));
        assert!(says("[]").contains("Go value of type"));
        // null is every type's zero value; unknown keys take anything.
        decode_create(br#"{"Image": "x", "Healthcheck": null, "Future": 5, "HostConfig": null}"#)
            .unwrap();
        assert!(
            decode_exec(br#"{"Cmd": ["ls"], "Tty": "yes"}"#)
                .unwrap_err()
                .0
                .contains("ExecConfig.Tty of type bool")
        );
        decode_exec(br#"{"Cmd": "ls", "Container": 5}"#).unwrap();
    }

    #[test]
    fn zeros_fill_what_the_typed_struct_lacks() {
        let typed = serde_json::json!({"NetworkMode": "none"});
        let z = HOST_CONFIG.zeros(typed.as_object().unwrap(), false);
        assert_eq!(z["CapAdd"], Value::Null);
        assert_eq!(z["OomScoreAdj"], 0);
        assert_eq!(z["PublishAllPorts"], false);
        assert_eq!(z["ContainerIDFile"], "");
        assert!(!z.contains_key("NetworkMode"));
        let z = CONTAINER_CONFIG.zeros(&Map::new(), true);
        assert!(z.contains_key("MacAddress") && !z.contains_key("Memory"));
    }

    #[test]
    fn exec_create_accepts_what_docker_py_sends() {
        let r = rest(r#"{"Container": "abc", "Detach": true, "Privileged2": true}"#);
        assert!(EXEC_CREATE.refused(&r).is_empty());
    }

    #[test]
    fn container_config_refuses_defined_fields_and_ignores_unknown_ones() {
        let r = rest(
            r#"{"NetworkDisabled": true, "Runtime": "runc", "ArgsEscaped": true,
                "SomeFieldOfApi9": {"x": 1}}"#,
        );
        assert_eq!(
            CONTAINER_CONFIG.refused(&r),
            vec![r#"Config.NetworkDisabled=true"#]
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
