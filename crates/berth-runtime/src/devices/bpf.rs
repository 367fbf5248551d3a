//! The cgroup v2 device filter: a `BPF_PROG_TYPE_CGROUP_DEVICE` program made from a
//! container's rules, loaded with `bpf(BPF_PROG_LOAD)` and attached to its cgroup with
//! `bpf(BPF_PROG_ATTACH)`. The program is runc's (`devicefilter.go`): the rules' v1 meaning
//! ([`Devices`]) as one block per exception, first match wins, then the default.
//!
//! berth writes it itself rather than enabling libcontainer's `cgroupsv2_devices`, which
//! would build libbpf (C, libelf) into the static binary for the same few instructions.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use super::emulator::{Devices, Kind};
use super::{Access, Rule};

/// One eBPF instruction (`struct bpf_insn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Insn {
    /// Opcode.
    pub code: u8,
    /// Destination register (low nibble) and source register (high nibble).
    pub regs: u8,
    /// Jump offset, in instructions after this one.
    pub off: i16,
    /// Immediate.
    pub imm: i32,
}

// Opcodes (linux/bpf_common.h, linux/bpf.h).
const LDX_MEM_W: u8 = 0x61;
const ALU32_AND_K: u8 = 0x54;
const ALU32_RSH_K: u8 = 0x74;
const ALU32_MOV_K: u8 = 0xb4;
const ALU32_MOV_X: u8 = 0xbc;
const JNE_K: u8 = 0x55;
const JNE_X: u8 = 0x5d;
const EXIT: u8 = 0x95;

// struct bpf_cgroup_dev_ctx: access_type (type | access << 16), major, minor.
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: dst | (src << 4),
        off,
        imm,
    }
}

/// The program for `rules` (in the order a runtime writes them to v1).
pub fn program(rules: &[Rule]) -> Result<Vec<Insn>, super::emulator::EmulateError> {
    let devices = Devices::from_rules(rules)?;
    // r2 = type, r3 = access, r4 = major, r5 = minor.
    let mut p = vec![
        insn(LDX_MEM_W, 2, 1, 0, 0),
        insn(ALU32_AND_K, 2, 0, 0, 0xffff),
        insn(LDX_MEM_W, 3, 1, 0, 0),
        insn(ALU32_RSH_K, 3, 0, 0, 16),
        insn(LDX_MEM_W, 4, 1, 4, 0),
        insn(LDX_MEM_W, 5, 1, 8, 0),
    ];
    let action = i32::from(!devices.default_allow);
    for (&(kind, major, minor), &access) in &devices.exceptions {
        // A kernel's numbers have 12 (major) and 20 (minor) bits: a larger one matches nothing.
        if major.is_some_and(|m| m > 0xfff) || minor.is_some_and(|m| m > 0xf_ffff) {
            continue;
        }
        p.extend(block(kind, major, minor, access, action));
    }
    p.push(insn(ALU32_MOV_K, 0, 0, 0, i32::from(devices.default_allow)));
    p.push(insn(EXIT, 0, 0, 0, 0));
    Ok(p)
}

/// One exception: each check jumps past the block when it fails.
fn block(kind: Kind, major: Option<u32>, minor: Option<u32>, a: Access, action: i32) -> Vec<Insn> {
    let typ = match kind {
        Kind::Char => DEV_CHAR,
        Kind::Block => DEV_BLOCK,
    };
    let mut bits = 0;
    for (bit, flag) in [
        (Access::READ, ACC_READ),
        (Access::WRITE, ACC_WRITE),
        (Access::MKNOD, ACC_MKNOD),
    ] {
        if a.contains(bit) {
            bits |= flag;
        }
    }
    // Checks, with a placeholder offset patched below.
    let mut b = vec![insn(JNE_K, 2, 0, 0, typ)];
    if a != Access::ALL {
        // The requested access must be within the exception's: (r3 & bits) == r3.
        b.push(insn(ALU32_MOV_X, 1, 3, 0, 0));
        b.push(insn(ALU32_AND_K, 1, 0, 0, bits));
        b.push(insn(JNE_X, 1, 3, 0, 0));
    }
    if let Some(m) = major {
        b.push(insn(JNE_K, 4, 0, 0, m as i32));
    }
    if let Some(m) = minor {
        b.push(insn(JNE_K, 5, 0, 0, m as i32));
    }
    b.push(insn(ALU32_MOV_K, 0, 0, 0, action));
    b.push(insn(EXIT, 0, 0, 0, 0));
    let len = b.len();
    for (i, ins) in b.iter_mut().enumerate() {
        if matches!(ins.code, JNE_K | JNE_X) {
            ins.off = (len - i - 1) as i16;
        }
    }
    b
}

/// A failed `bpf(2)` call.
#[derive(Debug, thiserror::Error)]
pub enum BpfError {
    /// The rules cannot be expressed.
    #[error(transparent)]
    Rules(#[from] super::emulator::EmulateError),
    /// The kernel refused the program (with the verifier's log, if any).
    #[error("loading the device filter (bpf BPF_PROG_LOAD): {err}{log}")]
    Load {
        /// Why.
        err: std::io::Error,
        /// The verifier's log, prefixed with `: `, or empty.
        log: String,
    },
    /// The cgroup cannot be opened.
    #[error("opening cgroup {}: {err}", path.display())]
    Open {
        /// The cgroup directory.
        path: std::path::PathBuf,
        /// Why.
        err: std::io::Error,
    },
    /// The kernel refused to attach it.
    #[error("attaching the device filter to cgroup {} (bpf BPF_PROG_ATTACH): {err}", path.display())]
    Attach {
        /// The cgroup directory.
        path: std::path::PathBuf,
        /// Why.
        err: std::io::Error,
    },
}

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
/// Programs of descendant cgroups run too, and all must allow (runc's choice): a nested
/// runtime can narrow the rules, never widen them.
const BPF_F_ALLOW_MULTI: u32 = 2;

/// `union bpf_attr` as `BPF_PROG_LOAD` reads it (up to `expected_attach_type`).
#[repr(C)]
#[derive(Default)]
struct LoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// `union bpf_attr` as `BPF_PROG_ATTACH` reads it.
#[repr(C)]
#[derive(Default)]
struct AttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> std::io::Result<libc::c_long> {
    // SAFETY: `attr` is a live, initialised `bpf_attr` prefix of the size passed; the kernel
    // reads it (and for a load the buffers it points to, which outlive the call).
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T as *mut libc::c_void,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Loads `insns` as a device program; on failure the verifier's log says why.
pub fn load(insns: &[Insn]) -> Result<OwnedFd, BpfError> {
    let license = c"Apache";
    let mut name = [0u8; 16];
    name[..13].copy_from_slice(b"berth_devices");
    let mut attr = LoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        prog_name: name,
        ..Default::default()
    };
    match bpf(BPF_PROG_LOAD, &mut attr) {
        // SAFETY: a successful load returns a new descriptor that nothing else owns.
        Ok(fd) => Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) }),
        Err(err) => {
            let mut buf = vec![0u8; 64 * 1024];
            attr.log_level = 1;
            attr.log_size = buf.len() as u32;
            attr.log_buf = buf.as_mut_ptr() as u64;
            if let Ok(fd) = bpf(BPF_PROG_LOAD, &mut attr) {
                // SAFETY: as above (a load that only failed once, without a log).
                return Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) });
            }
            let text = String::from_utf8_lossy(&buf);
            let text = text.trim_end_matches('\0').trim();
            let log = if text.is_empty() {
                String::new()
            } else {
                format!(": {}", text.replace('\n', "; "))
            };
            Err(BpfError::Load { err, log })
        }
    }
}

/// Restricts the cgroup directory `cgroup` (any cgroup2 directory) to `rules`. The
/// attachment keeps the program alive: it goes with the cgroup.
pub fn restrict(cgroup: &Path, rules: &[Rule]) -> Result<(), BpfError> {
    let prog = load(&program(rules)?)?;
    let dir = std::fs::File::open(cgroup).map_err(|err| BpfError::Open {
        path: cgroup.to_path_buf(),
        err,
    })?;
    let mut attr = AttachAttr {
        target_fd: dir.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        replace_bpf_fd: 0,
    };
    bpf(BPF_PROG_ATTACH, &mut attr).map_err(|err| BpfError::Attach {
        path: cgroup.to_path_buf(),
        err,
    })?;
    Ok(())
}

#[cfg(test)]
#[path = "bpf_tests.rs"]
mod tests;
