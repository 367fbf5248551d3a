//! Docker's `--device-cgroup-rule` syntax, `^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$`, with
//! the daemon's messages (moby `oci.AppendDevicePermissionsFromCgroupRules`).

use super::{Access, Rule, RuleKind};

/// Why a device cgroup rule is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// It does not have the form at all (the docker CLI checks this much itself).
    #[error("invalid device cgroup rule format: '{0}'")]
    Format(String),
    /// The major number does not fit (a kernel takes 32 bits).
    #[error("invalid major value in device cgroup rule format: '{0}'")]
    Major(String),
    /// The minor number does not fit.
    #[error("invalid minor value in device cgroup rule format: '{0}'")]
    Minor(String),
}

impl std::str::FromStr for Rule {
    type Err = RuleError;

    /// An allow rule, as Docker reads one.
    fn from_str(s: &str) -> Result<Rule, RuleError> {
        let format = || RuleError::Format(s.to_string());
        let (kind, rest) = s.split_once(' ').ok_or_else(format)?;
        let (numbers, access) = rest.split_once(' ').ok_or_else(format)?;
        let (major, minor) = numbers.split_once(':').ok_or_else(format)?;
        let kind = match kind {
            "a" => RuleKind::All,
            "c" => RuleKind::Char,
            "b" => RuleKind::Block,
            _ => return Err(format()),
        };
        let number = |n: &str, err: fn(String) -> RuleError| -> Result<Option<u32>, RuleError> {
            if n == "*" {
                return Ok(None);
            }
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format());
            }
            n.parse().map(Some).map_err(|_| err(s.to_string()))
        };
        // Checked before the numbers are read, as the regular expression is.
        if !(1..=3).contains(&access.len()) || !access.bytes().all(|b| b"rwm".contains(&b)) {
            return Err(format());
        }
        let major = number(major, RuleError::Major)?;
        let minor = number(minor, RuleError::Minor)?;
        let access = access
            .chars()
            .filter_map(Access::from_char)
            .fold(Access::default(), Access::union);
        Ok(Rule {
            allow: true,
            kind,
            major,
            minor,
            access,
        })
    }
}

impl std::fmt::Display for Rule {
    /// The cgroup v1 form, `c 1:3 rwm`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            RuleKind::All => 'a',
            RuleKind::Char => 'c',
            RuleKind::Block => 'b',
        };
        let number = |n: Option<u32>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
        write!(
            f,
            "{kind} {}:{} {}",
            number(self.major),
            number(self.minor),
            self.access
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_as_docker_reads_them() {
        let r: Rule = "c 1:3 mr".parse().unwrap();
        assert_eq!(
            r,
            Rule {
                access: Access::READ.union(Access::MKNOD),
                ..Rule::allow(RuleKind::Char, 1, 3)
            }
        );
        assert_eq!(r.to_string(), "c 1:3 rm");
        for s in ["b *:* rwm", "a *:* m", "c 189:* rw", "c 1:3 rr"] {
            let r: Rule = s.parse().unwrap();
            assert!(r.allow, "{s}");
        }
        assert_eq!("b 8:* w".parse::<Rule>().unwrap().to_string(), "b 8:* w");
        for bad in [
            "",
            "c 1:3",
            "c 1:3 ",
            "x 1:3 r",
            "c 1 r",
            "c -1:3 r",
            "c 1:3 rwmr",
            "c 1:3 x",
            "c  1:3 r",
            "c 1:3 r\n",
            "c ١:3 r",
            "c :3 r",
        ] {
            assert_eq!(
                bad.parse::<Rule>(),
                Err(RuleError::Format(bad.into())),
                "{bad:?}"
            );
        }
        let big = "c 99999999999:3 r";
        assert_eq!(
            big.parse::<Rule>().unwrap_err().to_string(),
            format!("invalid major value in device cgroup rule format: '{big}'")
        );
        let big = "c 1:4294967296 r";
        assert_eq!(big.parse::<Rule>(), Err(RuleError::Minor(big.into())));
    }
}
