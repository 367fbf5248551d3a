//! Loading a compiled filter: inside the container's init (or an exec's process), after the
//! runtime has dropped its privileges and right before `execve`.

use std::io;

use super::Compiled;

/// `SECCOMP_SET_MODE_FILTER` of seccomp(2).
const SET_MODE_FILTER: libc::c_ulong = 1;

/// Installs `filter` on the calling thread. Needs `no_new_privs` or CAP_SYS_ADMIN.
pub fn load(filter: &Compiled) -> io::Result<()> {
    // The program as the kernel's structs: the bytes carry no alignment of their own.
    let insns: Vec<libc::sock_filter> = filter
        .bpf
        .chunks_exact(8)
        .map(|b| libc::sock_filter {
            code: u16::from_ne_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
        })
        .collect();
    let len = u16::try_from(insns.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "seccomp filter too long"))?;
    let prog = libc::sock_fprog {
        len,
        filter: insns.as_ptr().cast_mut(),
    };
    // SAFETY: seccomp(2) reads `prog` and the instructions it points to, which outlive the
    // call; the kernel copies the program.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SET_MODE_FILTER,
            libc::c_ulong::from(filter.flags),
            &prog as *const libc::sock_fprog,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Drops CAP_SYS_ADMIN from the calling thread's permitted and effective sets: it was granted
/// only so that [`load`] may run without `no_new_privs`.
pub fn drop_admin() -> io::Result<()> {
    use caps::{CapSet, Capability};
    for set in [CapSet::Effective, CapSet::Permitted] {
        caps::drop(None, set, Capability::CAP_SYS_ADMIN)
            .map_err(|e| io::Error::other(format!("dropping CAP_SYS_ADMIN: {e}")))?;
    }
    Ok(())
}
