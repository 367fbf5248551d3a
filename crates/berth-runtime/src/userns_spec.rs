//! The parts of a container's OCI spec a user namespace changes: its ID mappings, and `/sys`
//! bound from the host when the container joins a network namespace the daemon made.

use berth_core::idmap::IdRange;
use oci_spec::OciSpecError;
use oci_spec::runtime::{LinuxIdMapping, LinuxIdMappingBuilder, Mount};

/// OCI's form of `ranges`.
pub(crate) fn mappings(ranges: &[IdRange]) -> Result<Vec<LinuxIdMapping>, OciSpecError> {
    ranges
        .iter()
        .map(|r| {
            LinuxIdMappingBuilder::default()
                .container_id(r.container)
                .host_id(r.host)
                .size(r.size)
                .build()
        })
        .collect()
}

/// `/sys` as a read-only recursive bind of the host's.
pub(crate) fn sysfs_bind() -> Result<Mount, OciSpecError> {
    crate::spec::mount(
        "/sys",
        "bind",
        "/sys",
        &["rbind", "nosuid", "noexec", "nodev", "ro"],
    )
}

#[cfg(test)]
mod tests {
    use berth_core::idmap::{IdMap, IdRange};
    use oci_spec::runtime::LinuxNamespaceType;

    use crate::spec::tests::sample;
    use crate::{Network, RunSpec};

    #[test]
    fn a_remapped_container_gets_a_user_namespace_and_its_maps() {
        let range = |c, h, s| IdRange {
            container: c,
            host: h,
            size: s,
        };
        let spec = RunSpec {
            userns: Some(IdMap {
                uids: vec![range(0, 100000, 65536)],
                gids: vec![range(0, 200000, 10), range(10, 300000, 5)],
            }),
            network: Network::Join("/run/berth/netns/x".into()),
            ..sample()
        };
        let json = serde_json::to_value(spec.to_spec().unwrap()).unwrap();
        let linux = &json["linux"];
        assert_eq!(
            linux["uidMappings"],
            serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}])
        );
        assert_eq!(linux["gidMappings"][1]["hostID"], 300000);
        let spec = spec.to_spec().unwrap();
        let linux = spec.linux().as_ref().unwrap();
        let first = linux.namespaces().as_ref().unwrap()[0].typ();
        assert_eq!(first, LinuxNamespaceType::User, "created before the others");
        let sys = spec.mounts().as_ref().unwrap()[3].clone();
        assert_eq!(sys.typ().as_deref(), Some("bind"), "{sys:?}");

        let own_netns = RunSpec {
            network: Network::None,
            ..RunSpec {
                userns: Some(IdMap::default()),
                ..sample()
            }
        };
        let spec = own_netns.to_spec().unwrap();
        let sys = spec.mounts().as_ref().unwrap()[3].clone();
        assert_eq!(sys.typ().as_deref(), Some("sysfs"));
        let none = sample().to_spec().unwrap();
        assert!(none.linux().as_ref().unwrap().uid_mappings().is_none());
    }
}
