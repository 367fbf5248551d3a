//! Which capabilities a container gets: Docker's defaults changed by `--cap-add`/`--cap-drop`
//! (names with or without `CAP_`, any case, `ALL`), or every one for `--privileged`, read as
//! dockerd reads them (`TweakCapabilities`), with its messages.
//!
//! A container can only get what the daemon itself holds: the capabilities the kernel knows
//! and the daemon's bounding set contains. On a host where the daemon lacks one (CAP_SYS_RESOURCE
//! on some CI machines), asking for it is an error, and `--privileged` gets the rest.

use std::str::FromStr;

use oci_spec::runtime::Capability;

/// A name that is no capability, or one the daemon cannot give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapabilityError {
    /// No such capability.
    #[error("unknown capability: {0:?}")]
    Unknown(String),
    /// Known, but not the daemon's to give.
    #[error(
        "capability not supported by your kernel or not available in the current environment: {0:?}"
    )]
    Unavailable(String),
}

/// The capabilities this daemon can give, in the kernel's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Available {
    /// Known to the kernel and to berth.
    known: Vec<Capability>,
    /// Of those, in the daemon's bounding set.
    held: Vec<Capability>,
}

impl Available {
    /// What the calling process can give.
    pub fn detect() -> Available {
        let supported = caps::runtime::thread_all_supported();
        let bounding = caps::read(None, caps::CapSet::Bounding).unwrap_or_default();
        let mut known: Vec<caps::Capability> = supported.into_iter().collect();
        known.sort_by_key(|c| c.index());
        let to_oci = |c: &caps::Capability| Capability::from_str(&c.to_string()[4..]).ok();
        Available {
            held: known
                .iter()
                .filter(|c| bounding.contains(c))
                .filter_map(to_oci)
                .collect(),
            known: known.iter().filter_map(to_oci).collect(),
        }
    }

    /// What this process can give, looked at once.
    pub fn host() -> &'static Available {
        static HOST: std::sync::OnceLock<Available> = std::sync::OnceLock::new();
        HOST.get_or_init(Available::detect)
    }

    /// Every capability the daemon holds (`ALL`, `--privileged`).
    pub fn all(&self) -> &[Capability] {
        &self.held
    }

    /// Known capabilities the daemon lacks, as `CAP_*` names: what `--privileged` cannot give.
    pub fn missing(&self) -> Vec<String> {
        self.known
            .iter()
            .filter(|c| !self.held.contains(c))
            .map(|c| format!("CAP_{c}"))
            .collect()
    }

    /// The capabilities of a container: `basics` changed by `adds` and `drops`.
    pub fn tweak(
        &self,
        basics: &[Capability],
        adds: &[String],
        drops: &[String],
    ) -> Result<Vec<Capability>, CapabilityError> {
        let adds = self.normalize(adds)?;
        let drops = self.normalize(drops)?;
        if adds.contains(&None) {
            return Ok(self
                .held
                .iter()
                .filter(|c| !drops.contains(&Some(**c)))
                .copied()
                .collect());
        }
        if drops.contains(&None) {
            return Ok(adds.into_iter().flatten().collect());
        }
        let mut caps: Vec<Capability> = basics
            .iter()
            .filter(|c| !drops.contains(&Some(**c)))
            .copied()
            .collect();
        for c in adds.into_iter().flatten() {
            if !caps.contains(&c) {
                caps.push(c);
            }
        }
        Ok(caps)
    }

    /// Whether every one of `names` (or `ALL`) is a capability the daemon can give.
    pub fn check(&self, names: &[String]) -> Result<(), CapabilityError> {
        self.normalize(names).map(drop)
    }

    /// The capabilities `names` stand for; `None` is `ALL`.
    fn normalize(&self, names: &[String]) -> Result<Vec<Option<Capability>>, CapabilityError> {
        names
            .iter()
            .map(|name| {
                let upper = name.to_uppercase();
                if upper == "ALL" {
                    return Ok(None);
                }
                let full = if upper.starts_with("CAP_") {
                    upper
                } else {
                    format!("CAP_{upper}")
                };
                let cap = Capability::from_str(&full[4..])
                    .ok()
                    .filter(|c| self.known.contains(c))
                    .ok_or_else(|| CapabilityError::Unknown(full.clone()))?;
                if !self.held.contains(&cap) {
                    return Err(CapabilityError::Unavailable(full));
                }
                Ok(Some(cap))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::DEFAULT_CAPS;

    /// A host whose daemon lacks CAP_SYS_RESOURCE, as this CI machine's does.
    fn host() -> Available {
        let known = vec![
            Capability::Chown,
            Capability::DacOverride,
            Capability::Kill,
            Capability::SysAdmin,
            Capability::SysResource,
            Capability::NetRaw,
        ];
        let held = known
            .iter()
            .filter(|c| **c != Capability::SysResource)
            .copied()
            .collect();
        Available { known, held }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn adds_and_drops_change_the_defaults_as_in_docker() {
        let h = host();
        let basics = [Capability::Chown, Capability::Kill, Capability::NetRaw];
        let caps = h
            .tweak(&basics, &names(&["sys_admin"]), &names(&["CAP_CHOWN"]))
            .unwrap();
        assert_eq!(
            caps,
            [Capability::Kill, Capability::NetRaw, Capability::SysAdmin]
        );
        let all = h
            .tweak(&basics, &names(&["ALL"]), &names(&["kill"]))
            .unwrap();
        assert_eq!(
            all,
            [
                Capability::Chown,
                Capability::DacOverride,
                Capability::SysAdmin,
                Capability::NetRaw
            ]
        );
        let only = h
            .tweak(&basics, &names(&["Kill"]), &names(&["all"]))
            .unwrap();
        assert_eq!(only, [Capability::Kill]);
        assert_eq!(h.tweak(&basics, &[], &[]).unwrap(), basics);
    }

    #[test]
    fn names_that_cannot_be_given_get_dockers_messages() {
        let h = host();
        let e = h.tweak(&[], &names(&["NOPE"]), &[]).unwrap_err();
        assert_eq!(e.to_string(), "unknown capability: \"CAP_NOPE\"");
        let e = h.tweak(&[], &[], &names(&["sys_resource"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "capability not supported by your kernel or not available in the current environment: \"CAP_SYS_RESOURCE\""
        );
        assert_eq!(h.missing(), ["CAP_SYS_RESOURCE"]);
    }

    #[test]
    fn this_host_knows_the_defaults() {
        let h = Available::detect();
        for c in DEFAULT_CAPS {
            assert!(h.known.contains(c), "{c}");
        }
        assert!(h.all().len() >= DEFAULT_CAPS.len());
    }
}
