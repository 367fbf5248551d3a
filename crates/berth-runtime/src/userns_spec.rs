//! The parts of a container's OCI spec a user namespace changes: its ID mappings, and `/sys`
//! bound from the host when the container joins a network namespace the daemon made.

use berth_core::idmap::IdRange;
use berth_core::rootfs::{FsError, RootDir};
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

/// The host IDs of the container's root, when `spec` gives it a user namespace.
pub(crate) fn root_owner(spec: &oci_spec::runtime::Spec) -> Option<(u32, u32)> {
    let linux = spec.linux().as_ref()?;
    let host = |maps: &Option<Vec<LinuxIdMapping>>| {
        maps.iter()
            .flatten()
            .find(|m| m.container_id() == 0 && m.size() > 0)
            .map(|m| m.host_id())
    };
    Some((host(linux.uid_mappings())?, host(linux.gid_mappings())?))
}

/// `mkdir -p` of `dir` in `root`; what it makes belongs to `owner` (a user namespace's root,
/// as runc and dockerd make a working directory and mount targets there), else to the caller.
pub(crate) fn mkdir_owned(
    root: &RootDir,
    dir: &str,
    owner: Option<(u32, u32)>,
) -> Result<(), FsError> {
    let Some((uid, gid)) = owner else {
        return root.mkdir_all(dir, 0o755);
    };
    let mut prefix = String::new();
    for c in dir.split('/').filter(|c| !c.is_empty()) {
        prefix.push('/');
        prefix.push_str(c);
        if root.kind(&prefix)?.is_some() {
            continue;
        }
        root.mkdir_all(&prefix, 0o755)?;
        // Made just now, in a rootfs no container runs in yet.
        if let Some(host) = root.host_path_nofollow(&prefix)? {
            std::os::unix::fs::lchown(&host, Some(uid), Some(gid))
                .map_err(|e| FsError::from_io("chown", &prefix, e))?;
        }
    }
    Ok(())
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

    #[test]
    fn directories_made_for_a_user_namespace_belong_to_its_root() {
        use std::os::unix::fs::MetadataExt;
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("x")).unwrap();
        let root = berth_core::rootfs::RootDir::open(tmp.path()).unwrap();
        super::mkdir_owned(&root, "/x/y/z", Some((300000, 300001))).unwrap();
        let owner = |p: &str| {
            let m = std::fs::metadata(tmp.path().join(p)).unwrap();
            (m.uid(), m.gid())
        };
        assert_eq!(owner("x"), (0, 0), "what was there stays as it was");
        assert_eq!(owner("x/y"), (300000, 300001));
        assert_eq!(owner("x/y/z"), (300000, 300001));
        let spec = crate::spec::tests::sample();
        assert_eq!(super::root_owner(&spec.to_spec().unwrap()), None);
    }
}
