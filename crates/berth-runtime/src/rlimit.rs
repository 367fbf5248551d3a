//! Process rlimits by the names `--ulimit` takes (docker's go-units), and the caller's own.

use oci_spec::runtime::PosixRlimitType as T;

/// go-units' names; `as` is left out there too (Docker's init cannot live with it).
const NAMES: &[(&str, T)] = &[
    ("core", T::RlimitCore),
    ("cpu", T::RlimitCpu),
    ("data", T::RlimitData),
    ("fsize", T::RlimitFsize),
    ("locks", T::RlimitLocks),
    ("memlock", T::RlimitMemlock),
    ("msgqueue", T::RlimitMsgqueue),
    ("nice", T::RlimitNice),
    ("nofile", T::RlimitNofile),
    ("nproc", T::RlimitNproc),
    ("rss", T::RlimitRss),
    ("rtprio", T::RlimitRtprio),
    ("rttime", T::RlimitRttime),
    ("sigpending", T::RlimitSigpending),
    ("stack", T::RlimitStack),
];

/// The rlimit `--ulimit NAME=…` sets.
pub fn kind(name: &str) -> Option<T> {
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The calling process's `(soft, hard)` limit; unlimited is `u64::MAX`.
pub fn own(kind: T) -> std::io::Result<(u64, u64)> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // oci-spec's variants are in the kernel's order, as libcontainer relies on too.
    // SAFETY: getrlimit writes one rlimit struct that lives across the call.
    if unsafe { libc::getrlimit(kind as _, &mut r) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((r.rlim_cur, r.rlim_max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_the_kernels_resources() {
        assert_eq!(kind("nofile"), Some(T::RlimitNofile));
        assert_eq!(T::RlimitNofile as i64, libc::RLIMIT_NOFILE as i64);
        assert_eq!(T::RlimitRttime as i64, libc::RLIMIT_RTTIME as i64);
        assert_eq!(kind("as"), None);
        assert_eq!(kind("NOFILE"), None);
        let (soft, hard) = own(T::RlimitNofile).unwrap();
        assert!(soft <= hard);
    }
}
