//! From a profile to the plain OCI filter of one container: the host's architectures, and the
//! rules whose conditions hold for this host and this container's bounding capabilities.
//! Docker resolves the same way (moby/profiles `setupSeccomp`), so a profile means here what it
//! means there.

use oci_spec::runtime::{Arch, LinuxSeccomp, LinuxSyscall};

use super::SeccompError;
use super::profile::{Filter, Profile};

/// What a profile's conditions are tested against, besides the capabilities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The native architecture in libseccomp's words (`amd64`, `arm64`...).
    pub arch: String,
    /// The kernel's `(major, minor)`.
    pub kernel: (u8, u8),
}

impl Host {
    /// This machine.
    pub fn detect() -> Host {
        let release = nix::sys::utsname::uname()
            .map(|u| u.release().to_string_lossy().into_owned())
            .unwrap_or_default();
        Host {
            arch: native_arch().to_string(),
            kernel: kernel_of(&release).unwrap_or((0, 0)),
        }
    }
}

/// The build's architecture in libseccomp's words, as Docker maps Go's.
fn native_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "powerpc" => "ppc",
        "mips" if cfg!(target_endian = "little") => "mipsel",
        "mips64" if cfg!(target_endian = "little") => "mipsel64",
        other => other,
    }
}

/// `(major, minor)` of a kernel release such as `6.18.0-1-amd64` or `3.12-rc5`.
fn kernel_of(release: &str) -> Option<(u8, u8)> {
    let mut parts = release.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The OCI architecture a libseccomp name stands for.
fn oci_arch(name: &str) -> Option<Arch> {
    Some(match name {
        "x86" => Arch::ScmpArchX86,
        "amd64" => Arch::ScmpArchX86_64,
        "arm" => Arch::ScmpArchArm,
        "arm64" => Arch::ScmpArchAarch64,
        "loongarch64" => Arch::ScmpArchLoongarch64,
        "mips64" => Arch::ScmpArchMips64,
        "mips64n32" => Arch::ScmpArchMips64n32,
        "mipsel64" => Arch::ScmpArchMipsel64,
        "mipsel64n32" => Arch::ScmpArchMipsel64n32,
        "mipsel" => Arch::ScmpArchMipsel,
        "ppc" => Arch::ScmpArchPpc,
        "ppc64" => Arch::ScmpArchPpc64,
        "ppc64le" => Arch::ScmpArchPpc64le,
        "riscv64" => Arch::ScmpArchRiscv64,
        "s390" => Arch::ScmpArchS390,
        "s390x" => Arch::ScmpArchS390x,
        _ => return None,
    })
}

impl Profile {
    /// The filter for a container on `host` whose bounding set is `bounding` (`CAP_*` names);
    /// `None` when the profile asks for no filter (no default action and no rules).
    pub fn resolve(
        &self,
        host: &Host,
        bounding: &[String],
    ) -> Result<Option<LinuxSeccomp>, SeccompError> {
        let rules = self.syscalls.as_deref().unwrap_or_default();
        let Some(default_action) = self.default_action else {
            if rules.is_empty() {
                return Ok(None);
            }
            return Err(SeccompError::Profile(
                "the seccomp profile has rules but no defaultAction".into(),
            ));
        };
        let mut architectures = self.architectures.clone().unwrap_or_default();
        let native = oci_arch(&host.arch);
        if let Some(entry) = self
            .arch_map
            .iter()
            .flatten()
            .find(|m| Some(m.architecture) == native)
        {
            architectures.push(entry.architecture);
            architectures.extend(entry.sub_architectures.iter().flatten());
        }
        let mut syscalls = Vec::new();
        for rule in rules {
            let applies = !rule
                .excludes
                .as_ref()
                .is_some_and(|f| any_holds(f, host, bounding))
                && rule
                    .includes
                    .as_ref()
                    .is_none_or(|f| all_hold(f, host, bounding));
            if !applies {
                continue;
            }
            let names = match &rule.name {
                Some(n) if !n.is_empty() => vec![n.clone()],
                _ => rule.names.clone().unwrap_or_default(),
            };
            let mut call = LinuxSyscall::default();
            call.set_names(names);
            call.set_action(rule.action);
            call.set_errno_ret(rule.errno_ret);
            call.set_args(rule.args.clone());
            syscalls.push(call);
        }
        let mut filter = LinuxSeccomp::default();
        filter.set_default_action(default_action);
        filter.set_default_errno_ret(self.default_errno_ret);
        filter.set_architectures((!architectures.is_empty()).then_some(architectures));
        filter.set_flags(self.flags.clone());
        filter.set_listener_path(self.listener_path.clone());
        filter.set_listener_metadata(self.listener_metadata.clone());
        filter.set_syscalls(Some(syscalls));
        Ok(Some(filter))
    }
}

/// An `excludes`: does any of its conditions hold?
fn any_holds(f: &Filter, host: &Host, bounding: &[String]) -> bool {
    f.arches.iter().flatten().any(|a| *a == host.arch)
        || f.caps.iter().flatten().any(|c| bounding.contains(c))
        || f.min_kernel.is_some_and(|k| host.kernel >= k)
}

/// An `includes`: do all of its conditions hold?
fn all_hold(f: &Filter, host: &Host, bounding: &[String]) -> bool {
    f.arches
        .as_ref()
        .is_none_or(|a| a.is_empty() || a.contains(&host.arch))
        && f.caps.iter().flatten().all(|c| bounding.contains(c))
        && f.min_kernel.is_none_or(|k| host.kernel >= k)
}

#[cfg(test)]
mod tests {
    use oci_spec::runtime::{LinuxSeccompAction, LinuxSeccompOperator};

    use super::*;

    fn docker_defaults() -> Vec<String> {
        crate::spec::DEFAULT_CAPS
            .iter()
            .map(|c| format!("CAP_{c}"))
            .collect()
    }

    fn resolve(arch: &str, extra_caps: &[&str]) -> LinuxSeccomp {
        let mut caps = docker_defaults();
        caps.extend(extra_caps.iter().map(|c| c.to_string()));
        let host = Host {
            arch: arch.into(),
            kernel: (6, 18),
        };
        Profile::default_profile()
            .resolve(&host, &caps)
            .unwrap()
            .unwrap()
    }

    fn rules_for<'a>(f: &'a LinuxSeccomp, name: &str) -> Vec<&'a LinuxSyscall> {
        let calls = f.syscalls().as_deref().unwrap_or_default();
        calls
            .iter()
            .filter(|c| c.names().iter().any(|n| n == name))
            .collect()
    }

    fn names(f: &LinuxSeccomp) -> usize {
        let calls = f.syscalls().as_deref().unwrap_or_default();
        calls.iter().map(|c| c.names().len()).sum()
    }

    #[test]
    fn the_default_for_amd64_is_dockers() {
        let f = resolve("amd64", &[]);
        assert_eq!(f.default_action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(f.default_errno_ret(), Some(1));
        assert_eq!(
            f.architectures().as_deref(),
            Some(&[Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32][..])
        );
        assert_eq!(f.syscalls().as_ref().unwrap().len(), 15);
        assert_eq!(names(&f), 377);
        let clone = rules_for(&f, "clone");
        assert_eq!(clone.len(), 1);
        let arg = clone[0].args().as_ref().unwrap()[0];
        assert_eq!(
            (arg.index(), arg.value(), arg.op()),
            (0, 0x7E02_0000, LinuxSeccompOperator::ScmpCmpMaskedEq)
        );
        let clone3 = rules_for(&f, "clone3");
        assert_eq!(
            (clone3[0].action(), clone3[0].errno_ret()),
            (LinuxSeccompAction::ScmpActErrno, Some(38))
        );
        for never in [
            "keyctl",
            "add_key",
            "bpf",
            "mount",
            "unshare",
            "init_module",
            "kcmp",
        ] {
            assert!(rules_for(&f, never).is_empty(), "{never} is allowed");
        }
        assert_eq!(rules_for(&f, "socket").len(), 3);
        assert_eq!(rules_for(&f, "personality").len(), 5);
        assert_eq!(rules_for(&f, "arch_prctl").len(), 1);
        assert!(rules_for(&f, "arm_fadvise64_64").is_empty());
    }

    #[test]
    fn capabilities_open_their_calls() {
        let f = resolve("amd64", &["CAP_SYS_ADMIN"]);
        let clone = rules_for(&f, "clone");
        assert_eq!(clone.len(), 1, "{clone:?}");
        assert!(clone[0].args().is_none(), "clone is unrestricted");
        let clone3 = rules_for(&f, "clone3");
        assert_eq!(clone3[0].action(), LinuxSeccompAction::ScmpActAllow);
        assert_eq!(names(&f), 377 - 2 + 26);
        let f = resolve("amd64", &["CAP_SYS_PTRACE"]);
        for call in ["kcmp", "pidfd_getfd", "ptrace"] {
            assert!(!rules_for(&f, call).is_empty(), "{call}");
        }
    }

    #[test]
    fn other_architectures_get_their_own_rules() {
        let f = resolve("s390x", &[]);
        let clone = rules_for(&f, "clone");
        assert_eq!(
            clone[0].args().as_ref().unwrap()[0].index(),
            1,
            "s390 flags are arg 1"
        );
        assert!(!rules_for(&f, "s390_runtime_instr").is_empty());
        let f = resolve("arm64", &[]);
        assert_eq!(
            f.architectures().as_deref(),
            Some(&[Arch::ScmpArchAarch64, Arch::ScmpArchArm][..])
        );
        assert!(!rules_for(&f, "arm_fadvise64_64").is_empty());
        assert!(rules_for(&f, "arch_prctl").is_empty());
    }

    #[test]
    fn kernel_versions_include_and_exclude() {
        let profile = Profile::parse(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
                {"names":["new"],"action":"SCMP_ACT_ERRNO","includes":{"minKernel":"5.10"}},
                {"names":["old"],"action":"SCMP_ACT_ERRNO","excludes":{"minKernel":"5.10"}}]}"#,
        )
        .unwrap();
        let on = |kernel| {
            let host = Host {
                arch: "amd64".into(),
                kernel,
            };
            let f = profile.resolve(&host, &[]).unwrap().unwrap();
            f.syscalls()
                .as_ref()
                .unwrap()
                .iter()
                .map(|c| c.names()[0].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(on((5, 4)), ["old"]);
        assert_eq!(on((5, 10)), ["new"]);
        assert_eq!(on((6, 1)), ["new"]);
        assert_eq!(kernel_of("6.18.0-1-amd64"), Some((6, 18)));
        assert_eq!(kernel_of("3.12-rc5"), Some((3, 12)));
    }

    #[test]
    fn an_empty_profile_is_no_filter() {
        let host = Host::detect();
        assert_eq!(
            Profile::parse("{}").unwrap().resolve(&host, &[]).unwrap(),
            None
        );
        assert!(host.kernel >= (3, 0), "{host:?}");
    }
}
