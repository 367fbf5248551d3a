//! Docker's seccomp profile format: the OCI `LinuxSeccomp` plus an `archMap`, and rules that
//! apply only on some architectures, with some capabilities or from some kernel version on
//! (`includes`/`excludes`). Custom profiles arrive in this format (`--security-opt
//! seccomp=<json>`, the daemon's `--seccomp-profile`), and berth's default is written in it.

use oci_spec::runtime::{Arch, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompFilterFlag};
use serde::{Deserialize, Deserializer};

use super::SeccompError;

/// A profile as written, before it is resolved for a container.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// `None` together with no rules means no filter at all, as in Docker.
    #[serde(default)]
    pub default_action: Option<LinuxSeccompAction>,
    /// The errno of an `SCMP_ACT_ERRNO` default; EPERM when unset.
    #[serde(default)]
    pub default_errno_ret: Option<u32>,
    /// The architectures the filter covers, spelled out (exclusive with `arch_map`).
    #[serde(default)]
    pub architectures: Option<Vec<Arch>>,
    /// Per native architecture, the ones it also runs (x86-64 runs x86 and x32 code).
    #[serde(default)]
    pub arch_map: Option<Vec<ArchMap>>,
    /// Filter flags, passed on.
    #[serde(default)]
    pub flags: Option<Vec<LinuxSeccompFilterFlag>>,
    /// `SCMP_ACT_NOTIFY`'s agent socket, passed on.
    #[serde(default)]
    pub listener_path: Option<std::path::PathBuf>,
    /// Data for the agent, passed on.
    #[serde(default)]
    pub listener_metadata: Option<String>,
    /// The rules, in order.
    #[serde(default)]
    pub syscalls: Option<Vec<Rule>>,
}

/// One `archMap` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ArchMap {
    /// A native architecture.
    pub architecture: Arch,
    /// What it also runs.
    #[serde(default, rename = "subArchitectures")]
    pub sub_architectures: Option<Vec<Arch>>,
}

/// One rule: an action for some system calls, maybe only for some argument values, maybe only
/// under some conditions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// The calls.
    #[serde(default)]
    pub names: Option<Vec<String>>,
    /// One call: the older spelling, exclusive with `names`.
    #[serde(default)]
    pub name: Option<String>,
    /// What happens when one is made.
    pub action: LinuxSeccompAction,
    /// The errno of an `SCMP_ACT_ERRNO` action; EPERM when unset.
    #[serde(default)]
    pub errno_ret: Option<u32>,
    /// Argument tests, all of which must hold.
    #[serde(default)]
    pub args: Option<Vec<LinuxSeccompArg>>,
    /// Only where all of this holds.
    #[serde(default)]
    pub includes: Option<Filter>,
    /// Not where any of this holds.
    #[serde(default)]
    pub excludes: Option<Filter>,
}

/// A rule's condition.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// Capabilities (`CAP_SYS_ADMIN`) of the container's bounding set.
    #[serde(default)]
    pub caps: Option<Vec<String>>,
    /// Native architectures, in libseccomp's words (`amd64`, `arm64`, `s390x`...).
    #[serde(default)]
    pub arches: Option<Vec<String>>,
    /// A kernel version, `major.minor`.
    #[serde(default, deserialize_with = "kernel_version")]
    pub min_kernel: Option<(u8, u8)>,
}

impl Profile {
    /// Parses a profile, with Docker's messages for what its format forbids.
    pub fn parse(json: &str) -> Result<Profile, SeccompError> {
        let profile: Profile = serde_json::from_str(json)
            .map_err(|e| SeccompError::Profile(format!("Decoding seccomp profile failed: {e}")))?;
        if profile
            .architectures
            .as_ref()
            .is_some_and(|a| !a.is_empty())
            && profile.arch_map.as_ref().is_some_and(|a| !a.is_empty())
        {
            return Err(SeccompError::Profile(
                "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'".into(),
            ));
        }
        for rule in profile.syscalls.iter().flatten() {
            if rule.name.as_ref().is_some_and(|n| !n.is_empty())
                && rule.names.as_ref().is_some_and(|n| !n.is_empty())
            {
                return Err(SeccompError::Profile(
                    "both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'".into(),
                ));
            }
        }
        Ok(profile)
    }

    /// berth's default profile, equal in effect to Docker's.
    pub fn default_profile() -> Profile {
        Profile::parse(DEFAULT).expect("the default profile parses")
    }
}

/// berth's default profile, in Docker's format.
pub const DEFAULT: &str = include_str!("default.json");

/// `"5.8"` as `(5, 8)`; an empty string is no version; Docker's words for the rest.
fn kernel_version<'de, D: Deserializer<'de>>(d: D) -> Result<Option<(u8, u8)>, D::Error> {
    let raw = Option::<String>::deserialize(d)?.unwrap_or_default();
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = |why: &str| {
        serde::de::Error::custom(format!(
            "invalid kernel version: \"{raw}\", expected \"<kernel>.<major>\"{why}"
        ))
    };
    let (major, minor) = raw.split_once('.').ok_or_else(|| bad(""))?;
    let (major, minor): (u8, u8) = match (major.parse(), minor.parse()) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return Err(bad("")),
    };
    if (major, minor) == (0, 0) {
        return Err(bad(": version cannot be 0.0"));
    }
    Ok(Some((major, minor)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_profile_parses_whole() {
        let p = Profile::default_profile();
        assert_eq!(p.default_action, Some(LinuxSeccompAction::ScmpActErrno));
        assert_eq!(p.default_errno_ret, Some(1));
        assert_eq!(p.syscalls.as_ref().unwrap().len(), 33);
        let x86_64 = &p.arch_map.as_ref().unwrap()[0];
        assert_eq!(x86_64.architecture, Arch::ScmpArchX86_64);
        assert_eq!(
            x86_64.sub_architectures.as_deref(),
            Some(&[Arch::ScmpArchX86, Arch::ScmpArchX32][..])
        );
    }

    #[test]
    fn what_dockers_format_forbids_is_refused_in_its_words() {
        let both = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"mkdir","names":["rmdir"],"action":"SCMP_ACT_ERRNO"}]}"#;
        assert!(
            Profile::parse(both)
                .unwrap_err()
                .to_string()
                .contains("both 'name' and 'names'")
        );
        let arches = r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}"#;
        assert!(
            Profile::parse(arches)
                .unwrap_err()
                .to_string()
                .contains("both 'architectures' and 'archMap'")
        );
        for (version, why) in [("5", ""), ("a.b", ""), ("0.0", "cannot be 0.0")] {
            let json = format!(
                r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{{"names":["x"],"action":"SCMP_ACT_ERRNO","includes":{{"minKernel":"{version}"}}}}]}}"#
            );
            let e = Profile::parse(&json).unwrap_err().to_string();
            assert!(
                e.starts_with("Decoding seccomp profile failed: invalid kernel version")
                    && e.contains(why),
                "{version}: {e}"
            );
        }
        let e = Profile::parse("{\"defaultAction\":\"SCMP_ACT_NOPE\"}").unwrap_err();
        assert!(e.to_string().contains("SCMP_ACT_NOPE"), "{e}");
    }

    #[test]
    fn a_profile_of_old_spelling_and_unknown_fields_parses() {
        let p = Profile::parse(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","future":1,"syscalls":[{"name":"mkdir","action":"SCMP_ACT_ERRNO","comment":"x"}]}"#,
        )
        .unwrap();
        assert_eq!(p.syscalls.unwrap()[0].name.as_deref(), Some("mkdir"));
    }
}
