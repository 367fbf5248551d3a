//! From an OCI filter to the BPF program the kernel runs, with libseccomp, read as runc reads
//! the OCI fields (runc is what Docker's profiles are written for).
//!
//! Compiling a profile the size of Docker's takes 20–30 ms; loading the result takes under half
//! a millisecond. The daemon therefore compiles each distinct filter once ([`Cache`]) and the
//! container's init only loads it ([`super::load`]).

use std::collections::HashMap;
use std::io::{Read, Seek};
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompFilterFlag,
    LinuxSeccompOperator,
};

use super::{Compiled, SeccompError};

/// The kernel's flag bits of `seccomp(SECCOMP_SET_MODE_FILTER)`.
const FLAG_TSYNC: u32 = 1;
const FLAG_LOG: u32 = 2;
const FLAG_SPEC_ALLOW: u32 = 4;
const FLAG_WAIT_KILLABLE_RECV: u32 = 32;

/// Compiles `filter`. Names libseccomp does not know are given by number where berth knows it
/// ([`super::newer`]) and skipped otherwise (they stay refused by the default action), as runc
/// and libcontainer skip them.
pub fn compile(filter: &LinuxSeccomp) -> Result<Compiled, SeccompError> {
    // One context per architecture, merged: a call libseccomp cannot name needs its number
    // on each architecture, which only a single-architecture context takes as given.
    let native = ScmpArch::native();
    let mut arches = vec![native];
    for arch in filter.architectures().iter().flatten() {
        let arch = scmp_arch(*arch);
        if !arches.contains(&arch) && !(arch == ScmpArch::Native) {
            arches.push(arch);
        }
    }
    let mut merged = context(filter, native, native)?;
    for arch in &arches[1..] {
        let ctx = context(filter, *arch, native)?;
        merged
            .merge(ctx)
            .map_err(|e| SeccompError::Compile(format!("merging {arch:?}'s rules: {e}")))?;
    }
    Ok(Compiled {
        flags: flags(filter.flags().as_deref().unwrap_or_default())?,
        bpf: export(&merged)?,
    })
}

/// The filter's rules for one architecture.
fn context(
    filter: &LinuxSeccomp,
    arch: ScmpArch,
    native: ScmpArch,
) -> Result<ScmpFilterContext, SeccompError> {
    let failed = |what: &str, e: libseccomp::error::SeccompError| {
        SeccompError::Compile(format!("{what}: {e}"))
    };
    let default = action(filter.default_action(), filter.default_errno_ret())?;
    let mut ctx = ScmpFilterContext::new(default).map_err(|e| failed("creating the filter", e))?;
    // The init sets no_new_privs itself when asked; loading must not set it behind its back.
    ctx.set_ctl_nnp(false)
        .and_then(|c| c.set_ctl_optimize(2))
        .map_err(|e| failed("setting filter attributes", e))?;
    if arch != native {
        ctx.add_arch(arch)
            .and_then(|c| c.remove_arch(ScmpArch::Native))
            .map_err(|e| failed(&format!("adding architecture {arch:?}"), e))?;
    }
    for call in filter.syscalls().iter().flatten() {
        let errno = call.errno_ret();
        if call.action() == filter.default_action()
            && errno.unwrap_or(1) == filter.default_errno_ret().unwrap_or(1)
        {
            continue;
        }
        let act = action(call.action(), errno)?;
        let conditions = conditions(call.args().as_deref().unwrap_or_default())?;
        for name in call.names() {
            let (nr, exact) = match ScmpSyscall::from_name(name) {
                Ok(nr) => (nr, false),
                Err(_) => match super::newer::number(name, arch).filter(|_| arch == native) {
                    Some(nr) => (ScmpSyscall::from(nr), true),
                    None => {
                        tracing::debug!(
                            name,
                            "seccomp: system call unknown to libseccomp, skipped"
                        );
                        continue;
                    }
                },
            };
            for set in &conditions {
                let added = if exact {
                    ctx.add_rule_conditional_exact(act, nr, set)
                } else {
                    ctx.add_rule_conditional(act, nr, set)
                };
                added.map_err(|e| failed(&format!("adding the rule for {name}"), e))?;
            }
        }
    }
    Ok(ctx)
}

/// The rules' condition sets: all tests together when each argument is tested once; one rule
/// per test when an argument is tested twice (runc's reading: `a == 1 || a == 2`).
fn conditions(args: &[LinuxSeccompArg]) -> Result<Vec<Vec<ScmpArgCompare>>, SeccompError> {
    let tests = args.iter().map(compare).collect::<Result<Vec<_>, _>>()?;
    let mut seen = std::collections::HashSet::new();
    let repeated = args.iter().any(|a| !seen.insert(a.index()));
    Ok(if tests.is_empty() {
        vec![vec![]]
    } else if repeated {
        tests.into_iter().map(|t| vec![t]).collect()
    } else {
        vec![tests]
    })
}

/// One argument test. For `SCMP_CMP_MASKED_EQ`, `value` is the mask and `valueTwo` the datum,
/// as in runc (libcontainer 0.7 swaps them, which turns Docker's clone rule into one that
/// always matches).
fn compare(arg: &LinuxSeccompArg) -> Result<ScmpArgCompare, SeccompError> {
    let index = u32::try_from(arg.index())
        .ok()
        .filter(|i| *i < 6)
        .ok_or_else(|| {
            SeccompError::Compile(format!("argument index {} is not 0-5", arg.index()))
        })?;
    let (op, datum) = match arg.op() {
        LinuxSeccompOperator::ScmpCmpNe => (ScmpCompareOp::NotEqual, arg.value()),
        LinuxSeccompOperator::ScmpCmpLt => (ScmpCompareOp::Less, arg.value()),
        LinuxSeccompOperator::ScmpCmpLe => (ScmpCompareOp::LessOrEqual, arg.value()),
        LinuxSeccompOperator::ScmpCmpEq => (ScmpCompareOp::Equal, arg.value()),
        LinuxSeccompOperator::ScmpCmpGe => (ScmpCompareOp::GreaterEqual, arg.value()),
        LinuxSeccompOperator::ScmpCmpGt => (ScmpCompareOp::Greater, arg.value()),
        LinuxSeccompOperator::ScmpCmpMaskedEq => (
            ScmpCompareOp::MaskedEqual(arg.value()),
            arg.value_two().unwrap_or(0),
        ),
    };
    Ok(ScmpArgCompare::new(index, op, datum))
}

/// libseccomp's action for an OCI one; ERRNO and TRACE default to EPERM, as in runc.
fn action(a: LinuxSeccompAction, errno: Option<u32>) -> Result<ScmpAction, SeccompError> {
    let errno = i32::try_from(errno.unwrap_or(1))
        .map_err(|_| SeccompError::Compile(format!("errnoRet {errno:?} is out of range")))?;
    Ok(match a {
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(errno),
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActTrace => ScmpAction::Trace(errno as u16),
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActNotify => {
            return Err(SeccompError::Compile(
                "berth does not support the seccomp action SCMP_ACT_NOTIFY (it has no seccomp agent)".into(),
            ));
        }
    })
}

fn flags(flags: &[LinuxSeccompFilterFlag]) -> Result<u32, SeccompError> {
    Ok(flags.iter().fold(0, |bits, f| {
        bits | match f {
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => FLAG_LOG,
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => FLAG_TSYNC,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => FLAG_SPEC_ALLOW,
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => FLAG_WAIT_KILLABLE_RECV,
        }
    }))
}

fn scmp_arch(a: Arch) -> ScmpArch {
    match a {
        Arch::ScmpArchNative => ScmpArch::Native,
        Arch::ScmpArchX86 => ScmpArch::X86,
        Arch::ScmpArchX86_64 => ScmpArch::X8664,
        Arch::ScmpArchX32 => ScmpArch::X32,
        Arch::ScmpArchArm => ScmpArch::Arm,
        Arch::ScmpArchAarch64 => ScmpArch::Aarch64,
        Arch::ScmpArchMips => ScmpArch::Mips,
        Arch::ScmpArchMips64 => ScmpArch::Mips64,
        Arch::ScmpArchMips64n32 => ScmpArch::Mips64N32,
        Arch::ScmpArchMipsel => ScmpArch::Mipsel,
        Arch::ScmpArchMipsel64 => ScmpArch::Mipsel64,
        Arch::ScmpArchMipsel64n32 => ScmpArch::Mipsel64N32,
        Arch::ScmpArchPpc => ScmpArch::Ppc,
        Arch::ScmpArchPpc64 => ScmpArch::Ppc64,
        Arch::ScmpArchPpc64le => ScmpArch::Ppc64Le,
        Arch::ScmpArchS390 => ScmpArch::S390,
        Arch::ScmpArchS390x => ScmpArch::S390X,
        Arch::ScmpArchParisc => ScmpArch::Parisc,
        Arch::ScmpArchParisc64 => ScmpArch::Parisc64,
        Arch::ScmpArchRiscv64 => ScmpArch::Riscv64,
        Arch::ScmpArchLoongarch64 => ScmpArch::Loongarch64,
        Arch::ScmpArchM68k => ScmpArch::M68k,
        Arch::ScmpArchSh => ScmpArch::Sh,
        Arch::ScmpArchSheb => ScmpArch::Sheb,
    }
}

/// The program as bytes. libseccomp 2.5 exports only to a file descriptor: a memfd.
fn export(ctx: &ScmpFilterContext) -> Result<Vec<u8>, SeccompError> {
    let io = |e: std::io::Error| SeccompError::Compile(format!("exporting the filter: {e}"));
    // SAFETY: memfd_create takes a NUL-terminated name and flags; the fd is owned at once.
    let fd = unsafe { libc::memfd_create(c"berth-seccomp".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io(std::io::Error::last_os_error()));
    }
    // SAFETY: fd was just created and nothing else owns it.
    let mut file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    ctx.export_bpf(&file)
        .map_err(|e| SeccompError::Compile(format!("exporting the filter: {e}")))?;
    let mut bpf = Vec::new();
    file.rewind().map_err(io)?;
    file.read_to_end(&mut bpf).map_err(io)?;
    Ok(bpf)
}

/// Filters compiled so far, by their OCI form, so that each is compiled once per daemon.
#[derive(Debug, Default)]
pub struct Cache {
    compiled: Mutex<HashMap<String, Arc<Compiled>>>,
}

/// More distinct filters than this (custom profiles) and the cache starts again.
const CACHE_LIMIT: usize = 64;

impl Cache {
    /// `filter` compiled, from the cache when it was compiled before.
    pub fn get(&self, filter: &LinuxSeccomp) -> Result<Arc<Compiled>, SeccompError> {
        let key = serde_json::to_string(filter).expect("a filter serializes");
        if let Some(c) = self.compiled.lock().expect("cache lock").get(&key) {
            return Ok(c.clone());
        }
        // Compiled without the lock: a second start of the same filter may compile it too.
        let compiled = Arc::new(compile(filter)?);
        let mut all = self.compiled.lock().expect("cache lock");
        if all.len() >= CACHE_LIMIT {
            all.clear();
        }
        all.insert(key, compiled.clone());
        Ok(compiled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp::{Host, Profile};

    fn default_filter(caps: &[&str]) -> LinuxSeccomp {
        let caps: Vec<String> = caps.iter().map(|c| c.to_string()).collect();
        Profile::default_profile()
            .resolve(&Host::detect(), &caps)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn the_default_profile_compiles_within_the_kernels_limit() {
        let c = compile(&default_filter(&["CAP_CHOWN"])).unwrap();
        let insns = c.bpf.len() / 8;
        assert_eq!(c.bpf.len() % 8, 0);
        assert!(insns > 300 && insns < 4096, "{insns} instructions");
        assert_eq!(c.flags, 0);
    }

    #[test]
    fn the_cache_compiles_each_filter_once() {
        let cache = Cache::default();
        let a = cache.get(&default_filter(&[])).unwrap();
        let b = cache.get(&default_filter(&[])).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let admin = cache.get(&default_filter(&["CAP_SYS_ADMIN"])).unwrap();
        assert!(!Arc::ptr_eq(&a, &admin));
        assert_ne!(a.bpf, admin.bpf);
    }

    #[test]
    fn masked_eq_reads_value_as_the_mask_as_runc_does() {
        let arg: LinuxSeccompArg =
            serde_json::from_str(r#"{"index":0,"value":2114060288,"op":"SCMP_CMP_MASKED_EQ"}"#)
                .unwrap();
        let want = ScmpArgCompare::new(0, ScmpCompareOp::MaskedEqual(0x7E02_0000), 0);
        assert_eq!(compare(&arg).unwrap(), want);
    }

    #[test]
    fn a_twice_tested_argument_is_either_test() {
        let args: Vec<LinuxSeccompArg> = serde_json::from_str(
            r#"[{"index":0,"value":1,"op":"SCMP_CMP_EQ"},{"index":0,"value":2,"op":"SCMP_CMP_EQ"}]"#,
        )
        .unwrap();
        assert_eq!(conditions(&args).unwrap().len(), 2);
        let args: Vec<LinuxSeccompArg> = serde_json::from_str(
            r#"[{"index":0,"value":1,"op":"SCMP_CMP_EQ"},{"index":1,"value":2,"op":"SCMP_CMP_EQ"}]"#,
        )
        .unwrap();
        assert_eq!(conditions(&args).unwrap().len(), 1);
        assert_eq!(conditions(&[]).unwrap(), vec![vec![]]);
    }

    #[test]
    fn notify_is_refused_by_name() {
        let mut f = default_filter(&[]);
        f.set_default_action(LinuxSeccompAction::ScmpActNotify);
        let e = compile(&f).unwrap_err().to_string();
        assert!(e.contains("SCMP_ACT_NOTIFY"), "{e}");
    }
}
