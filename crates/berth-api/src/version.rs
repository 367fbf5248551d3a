//! API versions: `MAJOR.MINOR`, compared numerically (`1.9` < `1.24`).

use std::fmt;
use std::str::FromStr;

/// An API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion {
    /// Always 1 so far.
    pub major: u16,
    /// The minor version.
    pub minor: u16,
}

/// The oldest version berth answers.
pub const MIN_VERSION: ApiVersion = ApiVersion {
    major: 1,
    minor: 24,
};
/// The newest version berth implements; also the version of unversioned paths.
pub const MAX_VERSION: ApiVersion = ApiVersion {
    major: 1,
    minor: 43,
};

impl FromStr for ApiVersion {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let (a, b) = s.split_once('.').ok_or(())?;
        let num = |x: &str| -> Result<u16, ()> {
            if x.is_empty() || !x.bytes().all(|c| c.is_ascii_digit()) {
                return Err(());
            }
            x.parse().map_err(|_| ())
        };
        Ok(ApiVersion {
            major: num(a)?,
            minor: num(b)?,
        })
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl ApiVersion {
    /// Docker's answer to a request for this version, `None` when it is served.
    pub fn check(self) -> Option<String> {
        if self > MAX_VERSION {
            Some(format!(
                "client version {self} is too new. Maximum supported API version is {MAX_VERSION}"
            ))
        } else if self < MIN_VERSION {
            Some(format!(
                "client version {self} is too old. Minimum supported API version is {MIN_VERSION}, please upgrade your client to a newer version"
            ))
        } else {
            None
        }
    }

    /// Whether this version is at least `major.minor`.
    pub fn at_least(self, major: u16, minor: u16) -> bool {
        self >= ApiVersion { major, minor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_and_checks() {
        let v = |s: &str| s.parse::<ApiVersion>().unwrap();
        assert!(v("1.9") < v("1.24"));
        assert!(v("1.43") > v("1.24"));
        assert!(v("1.24").check().is_none());
        assert!(v("1.43").check().is_none());
        assert_eq!(
            v("1.99").check().unwrap(),
            "client version 1.99 is too new. Maximum supported API version is 1.43"
        );
        assert!(v("1.12").check().unwrap().contains("too old"));
        "1.x".parse::<ApiVersion>().unwrap_err();
        "1".parse::<ApiVersion>().unwrap_err();
    }
}
