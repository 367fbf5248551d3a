//! Devices of a container: the host nodes `--device` makes in it, and the device cgroup rules
//! that say which nodes it may open or create.
//!
//! The rules are Docker's: deny everything, allow a few standard nodes, deny fuse
//! ([`docker_defaults`]); then an allow rule per `--device` node and per
//! `--device-cgroup-rule`. Where the rules take effect:
//! - cgroup v1: libcontainer writes them, in order, to `devices.deny`/`devices.allow`, and
//!   after them its own defaults ([`libcontainer_defaults`], the list runc appends too).
//! - cgroup v2: libcontainer (built without `cgroupsv2_devices`) applies nothing, so the
//!   embedded runtime attaches berth's own eBPF program ([`bpf`]) to the container's cgroup,
//!   made from the same list, with the same v1 meaning ([`emulator`]).
//!
//! On v1 the defaults written last re-allow what a rule before them denied; the only specific
//! deny (fuse) is not among them (except `c *:* m`, which lets it be created but not opened),
//! so the result is Docker's with runc, on v1 and v2 alike.

pub mod bpf;
pub mod emulator;
mod host;
mod rule;

use oci_spec::OciSpecError;
use oci_spec::runtime::{
    LinuxDevice, LinuxDeviceBuilder, LinuxDeviceCgroup, LinuxDeviceCgroupBuilder, LinuxDeviceType,
};

pub use host::{HostDeviceError, from_host};
pub use rule::RuleError;

/// What a rule lets a process do with a node: read, write, create (`mknod`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Access(u8);

impl Access {
    /// Open for reading.
    pub const READ: Access = Access(1);
    /// Open for writing.
    pub const WRITE: Access = Access(2);
    /// Create with `mknod`.
    pub const MKNOD: Access = Access(4);
    /// All three.
    pub const ALL: Access = Access(7);

    /// Docker's device mode (`validDeviceMode`): one to three of `r`, `w`, `m`, each once.
    pub fn parse_mode(s: &str) -> Option<Access> {
        let mut a = Access(0);
        for c in s.chars() {
            let bit = Access::from_char(c)?;
            if a.contains(bit) {
                return None;
            }
            a = a.union(bit);
        }
        (!a.is_empty()).then_some(a)
    }

    fn from_char(c: char) -> Option<Access> {
        match c {
            'r' => Some(Access::READ),
            'w' => Some(Access::WRITE),
            'm' => Some(Access::MKNOD),
            _ => None,
        }
    }

    /// Both sets.
    pub fn union(self, other: Access) -> Access {
        Access(self.0 | other.0)
    }

    /// This set without `other`.
    pub fn difference(self, other: Access) -> Access {
        Access(self.0 & !other.0)
    }

    /// Whether every access of `other` is in this set.
    pub fn contains(self, other: Access) -> bool {
        self.0 & other.0 == other.0
    }

    /// No access at all.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The bits, `READ` 1, `WRITE` 2, `MKNOD` 4.
    pub fn bits(self) -> u8 {
        self.0
    }
}

impl std::fmt::Display for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (bit, c) in [
            (Access::READ, 'r'),
            (Access::WRITE, 'w'),
            (Access::MKNOD, 'm'),
        ] {
            if self.contains(bit) {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// What a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleKind {
    /// Every node (`a`): on v1 such a rule resets the cgroup whatever its numbers say.
    All,
    /// Character devices (`c`).
    Char,
    /// Block devices (`b`).
    Block,
}

/// A device cgroup rule; `None` numbers match any (`*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rule {
    /// Allow, or deny.
    pub allow: bool,
    /// The kind of node.
    pub kind: RuleKind,
    /// Major number.
    pub major: Option<u32>,
    /// Minor number.
    pub minor: Option<u32>,
    /// What is allowed or denied.
    pub access: Access,
}

impl Rule {
    /// An allow rule for one node.
    pub const fn allow(kind: RuleKind, major: u32, minor: u32) -> Rule {
        Rule {
            allow: true,
            kind,
            major: Some(major),
            minor: Some(minor),
            access: Access::ALL,
        }
    }

    /// The OCI form (`linux.resources.devices[]`).
    pub fn to_oci(&self) -> Result<LinuxDeviceCgroup, OciSpecError> {
        let mut b = LinuxDeviceCgroupBuilder::default()
            .allow(self.allow)
            .access(self.access.to_string());
        b = match self.kind {
            // Docker writes no type for "all"; runtimes read a missing one as `a`.
            RuleKind::All => b,
            RuleKind::Char => b.typ(LinuxDeviceType::C),
            RuleKind::Block => b.typ(LinuxDeviceType::B),
        };
        if let Some(m) = self.major {
            b = b.major(i64::from(m));
        }
        if let Some(m) = self.minor {
            b = b.minor(i64::from(m));
        }
        b.build()
    }

    /// A rule of an OCI spec: `None` for a FIFO's (no cgroup holds those), an error for one
    /// this module cannot read (numbers beyond 32 bits, an unknown access).
    pub fn from_oci(r: &LinuxDeviceCgroup) -> Result<Option<Rule>, String> {
        let bad = || format!("device rule {r} cannot be read");
        let kind = match r.typ().unwrap_or(LinuxDeviceType::A) {
            LinuxDeviceType::A => RuleKind::All,
            LinuxDeviceType::C | LinuxDeviceType::U => RuleKind::Char,
            LinuxDeviceType::B => RuleKind::Block,
            LinuxDeviceType::P => return Ok(None),
        };
        // Runtimes read a negative number (Docker's -1) as a wildcard.
        let number = |n: Option<i64>| match n {
            None => Ok(None),
            Some(n) if n < 0 => Ok(None),
            Some(n) => u32::try_from(n).map(Some).map_err(|_| bad()),
        };
        // As libcontainer writes it on v1: no access string is no access.
        let mut access = Access::default();
        for c in r.access().as_deref().unwrap_or("").chars() {
            access = access.union(Access::from_char(c).ok_or_else(bad)?);
        }
        Ok(Some(Rule {
            allow: r.allow(),
            kind,
            major: number(r.major())?,
            minor: number(r.minor())?,
            access,
        }))
    }
}

/// The kind of a device node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A character device.
    Char,
    /// A block device.
    Block,
    /// A named pipe (outside the device cgroup's reach).
    Fifo,
}

/// A node created in the container, as it is on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Absolute path in the container.
    pub path: String,
    /// Its kind.
    pub kind: NodeKind,
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
    /// Permission bits.
    pub file_mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
}

impl Device {
    /// The rule that lets the container use this node with `access` (`None` for a FIFO).
    pub fn rule(&self, access: Access) -> Option<Rule> {
        let kind = match self.kind {
            NodeKind::Char => RuleKind::Char,
            NodeKind::Block => RuleKind::Block,
            NodeKind::Fifo => return None,
        };
        Some(Rule {
            access,
            ..Rule::allow(kind, self.major, self.minor)
        })
    }

    /// The OCI form (`linux.devices[]`).
    pub fn to_oci(&self) -> Result<LinuxDevice, OciSpecError> {
        LinuxDeviceBuilder::default()
            .path(&self.path)
            .typ(match self.kind {
                NodeKind::Char => LinuxDeviceType::C,
                NodeKind::Block => LinuxDeviceType::B,
                NodeKind::Fifo => LinuxDeviceType::P,
            })
            .major(i64::from(self.major))
            .minor(i64::from(self.minor))
            .file_mode(self.file_mode)
            .uid(self.uid)
            .gid(self.gid)
            .build()
    }
}

/// Docker's own device rules (moby `oci/defaults.go`), which every container's list starts
/// with: deny all; allow zero, null, urandom, random, tty, console; deny fuse.
pub fn docker_defaults() -> Vec<Rule> {
    use RuleKind::Char;
    let mut rules = vec![Rule {
        allow: false,
        kind: RuleKind::All,
        major: None,
        minor: None,
        access: Access::ALL,
    }];
    rules.extend(
        [(1, 5), (1, 3), (1, 9), (1, 8), (5, 0), (5, 1)].map(|(a, b)| Rule::allow(Char, a, b)),
    );
    rules.push(Rule {
        allow: false,
        ..Rule::allow(Char, 10, 229)
    });
    rules
}

/// The rules libcontainer writes after a spec's on cgroup v1 (libcgroups `default_devices`
/// and `default_allow_devices`): the v2 program ends with them too, so both mean the same.
pub fn libcontainer_defaults() -> Vec<Rule> {
    use RuleKind::{Block, Char};
    let any = |kind, major: Option<u32>, access| Rule {
        allow: true,
        kind,
        major,
        minor: None,
        access,
    };
    let mut rules: Vec<Rule> = [(1, 3), (1, 5), (1, 7), (5, 0), (1, 9), (1, 8)]
        .map(|(a, b)| Rule::allow(Char, a, b))
        .to_vec();
    rules.extend([
        any(Char, None, Access::MKNOD),
        any(Block, None, Access::MKNOD),
        Rule::allow(Char, 5, 1),
        any(Char, Some(136), Access::ALL),
        Rule::allow(Char, 5, 2),
        Rule::allow(Char, 10, 200),
    ]);
    rules
}

/// Rules written `+c 1:3 rwm` (allow) or `-b 8:* w` (deny), for tests.
#[cfg(test)]
pub(crate) fn test_rules(list: &[&str]) -> Vec<Rule> {
    list.iter()
        .map(|s| {
            let (allow, rule) = s.split_at(1);
            Rule {
                allow: allow == "+",
                ..rule.parse::<Rule>().unwrap()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_dockers() {
        for ok in ["r", "w", "m", "rw", "mr", "rwm", "wmr"] {
            assert!(Access::parse_mode(ok).is_some(), "{ok}");
        }
        for bad in ["", "rr", "x", "rwmr", "/dev/null", "R"] {
            assert_eq!(Access::parse_mode(bad), None, "{bad}");
        }
        assert_eq!(Access::parse_mode("mwr").unwrap().to_string(), "rwm");
    }

    #[test]
    fn rules_go_to_oci_and_back() {
        let mut all = docker_defaults();
        all.extend(libcontainer_defaults());
        for r in all {
            let oci = r.to_oci().unwrap();
            assert_eq!(Rule::from_oci(&oci), Ok(Some(r)), "{oci:?}");
        }
        let json = serde_json::to_value(docker_defaults()[0].to_oci().unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({"allow": false, "access": "rwm"}));
        // Docker writes -1 for a wildcard.
        let oci: LinuxDeviceCgroup =
            serde_json::from_str(r#"{"allow":true,"type":"c","major":-1,"minor":-1,"access":"m"}"#)
                .unwrap();
        assert_eq!(
            Rule::from_oci(&oci).unwrap().map(|r| (r.major, r.minor)),
            Some((None, None))
        );
        let fifo: LinuxDeviceCgroup =
            serde_json::from_str(r#"{"allow":true,"type":"p","major":0,"minor":0}"#).unwrap();
        assert_eq!(Rule::from_oci(&fifo), Ok(None));
        let big: LinuxDeviceCgroup =
            serde_json::from_str(r#"{"allow":false,"type":"b","major":4294967296,"access":"r"}"#)
                .unwrap();
        assert!(Rule::from_oci(&big).is_err(), "a deny is never dropped");
    }
}
