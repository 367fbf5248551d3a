//! Platforms as Docker writes them (`linux/arm64`, `linux/arm/v7`): parsing, the host's, and
//! whether an image's platform is the one asked for (containerd's matcher, reduced to what
//! berth stores: os, architecture, variant).

use std::fmt;

pub use crate::manifest::Platform;

/// Why a platform string was refused (Docker's message).
#[derive(Debug, thiserror::Error)]
#[error("invalid platform {0:?}: expected os[/arch[/variant]]")]
pub struct PlatformError(pub String);

impl Platform {
    /// Parses `os[/arch[/variant]]` (`arch` alone is taken as linux's), normalizing as
    /// containerd does: `aarch64` is `arm64`, `x86_64` is `amd64`, `arm64/v8` is `arm64`.
    pub fn parse(s: &str) -> Result<Platform, PlatformError> {
        let parts: Vec<&str> = s.trim().split('/').collect();
        let bad = || PlatformError(s.to_string());
        if parts.iter().any(|p| p.is_empty()) || parts.len() > 3 {
            return Err(bad());
        }
        let (os, arch, variant) = match parts.as_slice() {
            [one] if *one == "linux" || *one == "windows" => (*one, host_arch(), None),
            [one] => ("linux", *one, None),
            [os, arch] => (*os, *arch, None),
            [os, arch, v] => (*os, *arch, Some(*v)),
            _ => return Err(bad()),
        };
        Ok(Platform {
            os: os.to_ascii_lowercase(),
            architecture: normalize_arch(arch).to_string(),
            variant: variant.map(str::to_ascii_lowercase),
        }
        .normalized())
    }

    fn normalized(mut self) -> Platform {
        self.architecture = normalize_arch(&self.architecture).to_string();
        if self.architecture == "arm64" && self.variant.as_deref() == Some("v8") {
            self.variant = None;
        }
        if self.architecture == "arm" && self.variant.is_none() {
            self.variant = Some("v7".into());
        }
        self
    }

    /// Whether an image of platform `self` is one of `wanted`: same os and architecture, and
    /// the variant asked for (any when none is asked; amd64's `v2`.. `v4` levels run `v1`).
    pub fn satisfies(&self, wanted: &Platform) -> bool {
        let (me, w) = (self.clone().normalized(), wanted.clone().normalized());
        if me.os != w.os || me.architecture != w.architecture {
            return false;
        }
        match (&me.variant, &w.variant) {
            (_, None) => true,
            (mine, Some(v)) if me.architecture == "amd64" => {
                mine.as_deref().unwrap_or("v1") <= v.as_str()
            }
            (mine, Some(v)) => mine.as_deref() == Some(v.as_str()),
        }
    }

    /// The host's platform, with amd64's micro-architecture level as Docker shows it
    /// (`linux/amd64/v3`).
    pub fn host() -> Platform {
        Platform {
            os: "linux".into(),
            architecture: host_arch().into(),
            variant: (host_arch() == "amd64").then(amd64_level).flatten(),
        }
    }

    /// Whether a host of this platform runs images of `self` natively (no emulation).
    pub fn is_native(&self) -> bool {
        self.os == "linux" && normalize_arch(&self.architecture) == host_arch()
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

fn host_arch() -> &'static str {
    crate::config::host_architecture()
}

fn normalize_arch(a: &str) -> &str {
    match a {
        "aarch64" => "arm64",
        "x86_64" | "x86-64" => "amd64",
        "i386" | "i686" => "386",
        "armhf" | "armel" => "arm",
        other => other,
    }
}

/// amd64's level from the CPU's flags (Go's GOAMD64 levels, as containerd detects them).
fn amd64_level() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let flags: Vec<&str> = info
        .lines()
        .find(|l| l.starts_with("flags"))?
        .split_whitespace()
        .collect();
    let all = |want: &[&str]| want.iter().all(|f| flags.contains(f));
    let v2 = all(&["cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"]);
    let v3 = v2 && all(&["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe"]);
    let v4 = v3 && all(&["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"]);
    match (v2, v3, v4) {
        (_, _, true) => Some("v4".into()),
        (_, true, _) => Some("v3".into()),
        (true, ..) => Some("v2".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_and_match_as_containerds() {
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(p.to_string(), "linux/arm64");
        assert_eq!(
            Platform::parse("linux/arm").unwrap().to_string(),
            "linux/arm/v7"
        );
        assert_eq!(Platform::parse("linux/aarch64").unwrap(), p);
        Platform::parse("linux//x").unwrap_err();
        Platform::parse("").unwrap_err();
        let amd64 = Platform::parse("linux/amd64").unwrap();
        assert!(amd64.satisfies(&Platform::parse("linux/amd64/v3").unwrap()));
        assert!(!amd64.satisfies(&p));
        let v7 = Platform::parse("linux/arm/v7").unwrap();
        assert!(!Platform::parse("linux/arm/v6").unwrap().satisfies(&v7));
        assert!(v7.satisfies(&Platform::parse("linux/arm").unwrap()));
    }
}
