//! Foreign architectures: a container of another architecture runs when the kernel's
//! binfmt_misc has an enabled handler for its executables (Debian's `qemu-user-static`
//! registers `qemu-aarch64` and friends with the F flag, so the emulator is found inside the
//! container's mount namespace too).

use std::path::Path;

use berth_image::Platform;

use super::{Containers, Spec};
use crate::error::{Error, Result};

impl Containers {
    /// The image a container of `spec` runs: the platform of the named image it asks for,
    /// else the host's (or the image's only one, with Docker's warning), and the warnings.
    pub(super) fn image_for(&self, spec: &Spec) -> Result<(berth_image::Image, Vec<String>)> {
        let named = self.images.resolve(&spec.image)?;
        pick(&self.images, &spec.image, named, spec.platform.as_ref())
    }
}

/// The platform of `image` (named `name`) that `wanted` asks for, with Docker's errors and
/// warnings; the host's by default.
pub fn pick(
    store: &berth_image::ImageStore,
    name: &str,
    image: berth_image::Image,
    wanted: Option<&Platform>,
) -> Result<(berth_image::Image, Vec<String>)> {
    let Some(w) = wanted else {
        let chosen = store.default_platform(&image)?;
        let mut warnings = Vec::new();
        if !chosen.platform.is_native() {
            warnings.push(format!(
                "The requested image's platform ({}) does not match the detected host platform ({}) and no specific platform was requested",
                chosen.platform,
                Platform::host()
            ));
        }
        return Ok((chosen, warnings));
    };
    match store.for_platform(&image, w)? {
        Some(i) => Ok((i, Vec::new())),
        None => Err(Error::not_found(format!(
            "image with reference {name} was found but does not match the specified platform: wanted {w}, actual: {}",
            image.platform
        ))),
    }
}

/// Where the kernel shows binfmt_misc's handlers.
const BINFMT: &str = "/proc/sys/fs/binfmt_misc";

/// The first bytes of an executable of `p` (ELF header up to `e_machine`), for the
/// architectures Docker images come in.
fn elf_header(p: &Platform) -> Option<[u8; 20]> {
    // (64-bit, big-endian, e_machine)
    let (wide, big, machine): (bool, bool, u16) = match p.architecture.as_str() {
        "amd64" => (true, false, 0x3e),
        "386" => (false, false, 0x03),
        "arm64" => (true, false, 0xb7),
        "arm" => (false, false, 0x28),
        "ppc64le" => (true, false, 0x15),
        "s390x" => (true, true, 0x16),
        "riscv64" => (true, false, 0xf3),
        "mips64le" => (true, false, 0x08),
        "loong64" => (true, false, 0x102),
        _ => return None,
    };
    let mut h = [0u8; 20];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = if wide { 2 } else { 1 };
    h[5] = if big { 2 } else { 1 };
    h[6] = 1;
    let (e_type, e_machine) = if big {
        (2u16.to_be_bytes(), machine.to_be_bytes())
    } else {
        (2u16.to_le_bytes(), machine.to_le_bytes())
    };
    h[16..18].copy_from_slice(&e_type);
    h[18..20].copy_from_slice(&e_machine);
    Some(h)
}

fn hex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Whether the handler described by `entry` (a file of binfmt_misc) runs `header`.
fn handles(entry: &str, header: &[u8]) -> bool {
    let mut lines = entry.lines();
    if lines.next() != Some("enabled") {
        return false;
    }
    let (mut offset, mut magic, mut mask) = (0usize, None, None);
    for l in lines {
        match l.split_once(' ') {
            Some(("offset", v)) => offset = v.trim().parse().unwrap_or(usize::MAX),
            Some(("magic", v)) => magic = hex(v.trim()),
            Some(("mask", v)) => mask = hex(v.trim()),
            _ => {}
        }
    }
    let Some(magic) = magic else { return false };
    let mask = mask.unwrap_or_else(|| vec![0xff; magic.len()]);
    magic.iter().enumerate().all(|(i, m)| {
        header
            .get(offset.saturating_add(i))
            .is_some_and(|b| b & mask.get(i).copied().unwrap_or(0xff) == *m)
    })
}

/// The name of the binfmt_misc handler in `dir` that runs executables of `p`, if any.
fn handler_in(dir: &Path, p: &Platform) -> Option<String> {
    let header = elf_header(p)?;
    let entries = std::fs::read_dir(dir).ok()?;
    entries.flatten().find_map(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        if name == "register" || name == "status" {
            return None;
        }
        let text = std::fs::read_to_string(e.path()).ok()?;
        handles(&text, &header).then_some(name)
    })
}

/// Checks that a container of platform `p` can run here: natively, or under an emulator
/// binfmt_misc knows. The error names what is missing.
pub fn check(p: &Platform) -> Result<()> {
    if p.is_native() {
        return Ok(());
    }
    let dir = Path::new(BINFMT);
    if handler_in(dir, p).is_some() {
        return Ok(());
    }
    let why = match dir.join("status").exists() {
        true => String::new(),
        false => format!(" (binfmt_misc is not mounted on {BINFMT})"),
    };
    Err(Error::invalid(format!(
        "no binfmt_misc handler for {p}: install qemu-user-static{why}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debians_qemu_aarch64_entry_handles_arm64_only() {
        let entry = "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POF\noffset 0\nmagic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n";
        let arm64 = Platform::parse("linux/arm64").unwrap();
        let arm = Platform::parse("linux/arm/v7").unwrap();
        assert!(handles(entry, &elf_header(&arm64).unwrap()));
        assert!(!handles(entry, &elf_header(&arm).unwrap()));
        assert!(!handles(
            &entry.replace("enabled", "disabled"),
            &elf_header(&arm64).unwrap()
        ));
    }
}
