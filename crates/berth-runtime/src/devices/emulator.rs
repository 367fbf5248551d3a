//! What a list of device rules means under cgroup v1, which reads them in order: a default
//! (allow or deny everything) and exceptions to it, as runc's `devices` emulator computes it.
//! The cgroup v2 program ([`super::bpf`]) is made from this, so v2 behaves as v1 does.

use std::collections::BTreeMap;

use super::{Access, Rule, RuleKind};

/// The v1 state a list of rules leaves: a default and exceptions keyed by node (`None`
/// numbers are wildcards), each with the accesses that take the other action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Devices {
    /// Allow what no exception names.
    pub default_allow: bool,
    /// Exceptions, each `(kind, major, minor)` with its accesses, in a stable order.
    pub exceptions: BTreeMap<(Kind, Option<u32>, Option<u32>), Access>,
}

/// A node kind an exception can name (`a` rules only reset the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Character devices.
    Char,
    /// Block devices.
    Block,
}

/// A rule v1 refuses: a deny inside a wildcard exception of the allow list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "device rule {rule} is not supported by devices cgroupv1: it punches a hole in wildcard rule {wildcard}"
)]
pub struct EmulateError {
    /// The rule.
    pub rule: String,
    /// The exception it cuts into.
    pub wildcard: String,
}

impl Devices {
    /// The state after `rules`, starting from a cgroup that allows nothing (a container's
    /// list starts with a wildcard rule anyway).
    pub fn from_rules(rules: &[Rule]) -> Result<Devices, EmulateError> {
        let mut d = Devices::default();
        for r in rules {
            d.apply(r)?;
        }
        Ok(d)
    }

    /// Applies one rule as the kernel does.
    pub fn apply(&mut self, r: &Rule) -> Result<(), EmulateError> {
        let kind = match r.kind {
            // Whatever its numbers and access, an `a` rule resets the cgroup.
            RuleKind::All => {
                *self = Devices {
                    default_allow: r.allow,
                    exceptions: BTreeMap::new(),
                };
                return Ok(());
            }
            RuleKind::Char => Kind::Char,
            RuleKind::Block => Kind::Block,
        };
        let key = (kind, r.major, r.minor);
        if r.allow != self.default_allow {
            let old = self.exceptions.get(&key).copied().unwrap_or_default();
            self.exceptions.insert(key, old.union(r.access));
            return Ok(());
        }
        // The rule takes the default action: it removes accesses from its own exception,
        // and may not cut into a wider one.
        for wider in [
            (kind, None, r.minor),
            (kind, r.major, None),
            (kind, None, None),
        ] {
            if wider == key {
                continue;
            }
            if let Some(a) = self.exceptions.get(&wider)
                && a.bits() & r.access.bits() != 0
            {
                let kind = match kind {
                    Kind::Char => RuleKind::Char,
                    Kind::Block => RuleKind::Block,
                };
                let wildcard = Rule {
                    allow: !r.allow,
                    kind,
                    major: wider.1,
                    minor: wider.2,
                    access: *a,
                };
                return Err(EmulateError {
                    rule: r.to_string(),
                    wildcard: wildcard.to_string(),
                });
            }
        }
        if let Some(a) = self.exceptions.get_mut(&key) {
            *a = a.difference(r.access);
            if a.is_empty() {
                self.exceptions.remove(&key);
            }
        }
        Ok(())
    }

    /// Whether a process may do `access` to node `kind` `major:minor`: v1's check, one
    /// exception must hold all of the access.
    pub fn permits(&self, kind: Kind, major: u32, minor: u32, access: Access) -> bool {
        let excepted = self.exceptions.iter().any(|(&(k, ma, mi), a)| {
            k == kind
                && ma.is_none_or(|m| m == major)
                && mi.is_none_or(|m| m == minor)
                && a.contains(access)
        });
        excepted != self.default_allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::test_rules as rules;

    #[test]
    fn rules_are_read_in_order_as_v1_reads_them() {
        let mut list = super::super::docker_defaults();
        list.extend(super::super::libcontainer_defaults());
        let d = Devices::from_rules(&list).unwrap();
        assert!(!d.default_allow);
        let rw = Access::READ.union(Access::WRITE);
        assert!(d.permits(Kind::Char, 1, 3, rw), "null");
        assert!(d.permits(Kind::Char, 136, 7, rw), "a pts");
        assert!(
            d.permits(Kind::Block, 8, 0, Access::MKNOD),
            "any node can be made"
        );
        assert!(
            !d.permits(Kind::Block, 8, 0, Access::READ),
            "but a disk not read"
        );
        assert!(!d.permits(Kind::Char, 10, 229, Access::READ), "fuse");
        assert!(d.permits(Kind::Char, 10, 229, Access::MKNOD));
        assert!(!d.permits(Kind::Char, 1, 1, Access::READ), "/dev/mem");

        // Accesses of one node add up; one exception must hold all of an access.
        let d = Devices::from_rules(&rules(&["-a *:* rwm", "+c 1:* r", "+c 1:3 w"])).unwrap();
        assert!(d.permits(Kind::Char, 1, 3, Access::WRITE));
        assert!(!d.permits(Kind::Char, 1, 3, Access::READ.union(Access::WRITE)));
        let d = Devices::from_rules(&rules(&["-a *:* rwm", "+c 1:3 r", "+c 1:3 w"])).unwrap();
        assert!(d.permits(Kind::Char, 1, 3, Access::READ.union(Access::WRITE)));

        // A deny removes accesses; an `a` rule of any numbers resets everything.
        let d = Devices::from_rules(&rules(&["-a *:* rwm", "+c 1:3 rwm", "-c 1:3 w"])).unwrap();
        assert!(d.permits(Kind::Char, 1, 3, Access::READ));
        assert!(!d.permits(Kind::Char, 1, 3, Access::WRITE));
        let d = Devices::from_rules(&rules(&["-a *:* rwm", "+c 1:3 r", "+a 1:3 r"])).unwrap();
        assert!(d.default_allow && d.exceptions.is_empty());
        let d = Devices::from_rules(&rules(&["+a *:* rwm", "-b 8:* rw"])).unwrap();
        assert!(!d.permits(Kind::Block, 8, 1, Access::READ));
        assert!(d.permits(Kind::Block, 8, 1, Access::MKNOD));
        assert!(d.permits(Kind::Char, 8, 1, Access::READ));

        // A hole in a wildcard exception is refused, as v1 refuses it.
        let err =
            Devices::from_rules(&rules(&["-a *:* rwm", "+c *:* m", "-c 10:229 rwm"])).unwrap_err();
        assert_eq!(
            (err.rule.as_str(), err.wildcard.as_str()),
            ("c 10:229 rwm", "c *:* m")
        );
    }
}
