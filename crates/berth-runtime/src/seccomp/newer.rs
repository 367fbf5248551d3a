//! System calls newer than the libseccomp berth links (Debian's 2.5.4), by number. Docker's
//! profile allows them by name and a newer libseccomp resolves them; without these numbers
//! they would fall to the default action, so a program that uses them would be refused
//! where Docker lets it run.
//!
//! Since Linux 5.1 (`pidfd_send_signal`, 424) new calls have one number on every
//! architecture; `uretprobe` is x86-64's alone. libseccomp 2.5 takes a number it does not know
//! only for the native architecture, so on the compatibility ABIs (x86 and x32 code on an
//! x86-64 host) these calls stay refused.

use libseccomp::ScmpArch;

/// `(name, number on the unified table)`.
const UNIFIED: &[(&str, i32)] = &[
    ("statmount", 457),
    ("listmount", 458),
    ("mseal", 462),
    ("setxattrat", 463),
    ("getxattrat", 464),
    ("listxattrat", 465),
    ("removexattrat", 466),
];

/// The number of `name` on native architecture `arch`, when libseccomp cannot tell it.
pub fn number(name: &str, arch: ScmpArch) -> Option<i32> {
    if name == "uretprobe" {
        return (arch == ScmpArch::X8664).then_some(335);
    }
    let (_, nr) = UNIFIED.iter().find(|(n, _)| *n == name)?;
    // MIPS numbers its tables with offsets of its own.
    let unified = !matches!(
        arch,
        ScmpArch::Mips
            | ScmpArch::Mips64
            | ScmpArch::Mips64N32
            | ScmpArch::Mipsel
            | ScmpArch::Mipsel64
            | ScmpArch::Mipsel64N32
    );
    unified.then_some(*nr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_the_kernels() {
        assert_eq!(
            number("mseal", ScmpArch::X8664),
            Some(libc::SYS_mseal as i32)
        );
        assert_eq!(number("uretprobe", ScmpArch::X8664), Some(335));
        assert_eq!(number("uretprobe", ScmpArch::X86), None);
        assert_eq!(number("listmount", ScmpArch::Mips64), None);
        assert_eq!(number("open", ScmpArch::X8664), None);
    }
}
