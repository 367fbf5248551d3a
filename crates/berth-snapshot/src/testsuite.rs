//! The [`Snapshotter`] contract as tests any implementation can run, as containerd's snapshotter
//! test suite does: `berth_snapshot::testsuite::run(&|root| Box::new(Overlay::open(root, db)?))`
//! (feature `testsuite`). Needs root: it mounts what the snapshotter hands out.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use berth_core::Mount;
use berth_core::rootfs::{Layers, ReadRoot};

use crate::{SnapshotError, Snapshotter};

/// Makes a snapshotter whose state lives under the given directory.
pub type Factory = dyn Fn(&Path) -> Result<Box<dyn Snapshotter>, SnapshotError>;

/// Runs every check against snapshotters from `make`; panics with the check's name on failure.
pub fn run(make: &Factory) {
    for (name, check) in [
        (
            "layers stack with whiteouts and opaque dirs",
            layers_stack as fn(&Factory),
        ),
        (
            "a writable snapshot commits what changed",
            prepare_and_commit,
        ),
        ("owners and modes survive", owners_and_modes),
        (
            "the layer stack reads as the mounted view",
            layers_read_as_mounted,
        ),
        ("walk, usage and removal", walk_and_remove),
    ] {
        eprintln!("snapshotter check: {name}");
        check(make);
    }
}

/// A layer tar of `(path, content, mode, uid)`; a path ending in `/` is a directory.
fn tar_of(entries: &[(&str, &str, u32, u64)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data, mode, uid) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(if path.ends_with('/') {
            tar::EntryType::Directory
        } else {
            tar::EntryType::Regular
        });
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        h.set_uid(*uid);
        h.set_gid(0);
        h.set_mtime(0);
        b.append_data(&mut h, path, data.as_bytes())
            .expect("tar entry");
    }
    b.into_inner().expect("tar")
}

/// A mounted root, unmounted on drop.
struct Mounted(tempfile::TempDir);

impl Mounted {
    fn new(mounts: &[Mount]) -> Mounted {
        use nix::mount::{MsFlags, mount};
        let dir = tempfile::tempdir().expect("mount point");
        for m in mounts {
            let target = dir.path().join(m.target.trim_start_matches('/'));
            let ro = m.options.iter().any(|o| o == "ro");
            let fail = |e| panic!("mounting {m:?}: {e}");
            if m.kind == "bind" {
                // A bind is read-only only once remounted so.
                mount(
                    Some(m.source.as_str()),
                    &target,
                    None::<&str>,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None::<&str>,
                )
                .unwrap_or_else(fail);
                if ro {
                    let f = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
                    mount(None::<&str>, &target, None::<&str>, f, None::<&str>)
                        .unwrap_or_else(fail);
                }
                continue;
            }
            let flags = if ro {
                MsFlags::MS_RDONLY
            } else {
                MsFlags::empty()
            };
            let data = m.options.join(",");
            mount(
                Some(m.source.as_str()),
                &target,
                Some(m.kind.as_str()),
                flags,
                Some(data.as_str()),
            )
            .unwrap_or_else(fail);
        }
        Mounted(dir)
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(self.0.path(), nix::mount::MntFlags::MNT_DETACH);
    }
}

fn layers_stack(make: &Factory) {
    let root = tempfile::tempdir().expect("root");
    let s = make(root.path()).expect("snapshotter");
    let base = tar_of(&[
        ("a", "a", 0o644, 0),
        ("d/", "", 0o755, 0),
        ("d/f", "f", 0o644, 0),
    ]);
    let (_, c1) = s.unpack(None, &mut &base[..]).expect("base layer");
    let top = tar_of(&[
        (".wh.a", "", 0o644, 0),
        ("d/.wh..wh..opq", "", 0o644, 0),
        ("d/g", "g", 0o644, 0),
    ]);
    let (_, c2) = s.unpack(Some(&c1), &mut &top[..]).expect("top layer");
    let v = Mounted::new(&s.view(Some(&c2)).expect("view"));
    assert!(!v.path().join("a").exists(), "whiteout hides a");
    assert!(!v.path().join("d/f").exists(), "opaque dir hides d/f");
    assert_eq!(fs::read_to_string(v.path().join("d/g")).expect("d/g"), "g");
    drop(v);
    let v = Mounted::new(&s.view(Some(&c1)).expect("view of base"));
    assert_eq!(fs::read_to_string(v.path().join("a")).expect("a"), "a");
    drop(v);
    let empty = Mounted::new(&s.view(None).expect("empty view"));
    assert_eq!(fs::read_dir(empty.path()).expect("empty").count(), 0);
}

fn prepare_and_commit(make: &Factory) {
    let root = tempfile::tempdir().expect("root");
    let s = make(root.path()).expect("snapshotter");
    let base = tar_of(&[("keep", "k", 0o644, 0), ("gone", "g", 0o644, 0)]);
    let (_, c1) = s.unpack(None, &mut &base[..]).expect("base layer");
    let m = Mounted::new(&s.prepare("w1", Some(&c1)).expect("prepare"));
    fs::write(m.path().join("new"), "n").expect("write");
    fs::remove_file(m.path().join("gone")).expect("delete");
    drop(m);
    // The mounts of a prepared snapshot can be had again, and show its changes.
    let again = Mounted::new(&s.mounts("w1", Some(&c1)).expect("mounts"));
    assert!(again.path().join("new").exists());
    drop(again);
    let (stats, c2) = s.commit("w1", Some(&c1)).expect("commit");
    assert!(stats.tar_size > 0);
    let v = Mounted::new(&s.view(Some(&c2)).expect("view"));
    assert_eq!(fs::read_to_string(v.path().join("new")).expect("new"), "n");
    assert_eq!(
        fs::read_to_string(v.path().join("keep")).expect("keep"),
        "k"
    );
    assert!(
        !v.path().join("gone").exists(),
        "a deletion commits as a whiteout"
    );
    drop(v);
    // The same changes commit to the same layer.
    let (_, c3) = s.commit("w1", Some(&c1)).expect("commit again");
    assert_eq!(c2, c3);
    s.remove("w1").expect("remove");
}

fn owners_and_modes(make: &Factory) {
    let root = tempfile::tempdir().expect("root");
    let s = make(root.path()).expect("snapshotter");
    let l = tar_of(&[("bin/", "", 0o755, 0), ("bin/tool", "#!", 0o4755, 1000)]);
    let (_, c) = s.unpack(None, &mut &l[..]).expect("layer");
    let v = Mounted::new(&s.view(Some(&c)).expect("view"));
    let meta = fs::metadata(v.path().join("bin/tool")).expect("tool");
    assert_eq!(meta.uid(), 1000);
    assert_eq!(
        meta.permissions().mode() & 0o7777,
        0o4755,
        "set-user-ID kept"
    );
}

fn layers_read_as_mounted(make: &Factory) {
    let root = tempfile::tempdir().expect("root");
    let s = make(root.path()).expect("snapshotter");
    let base = tar_of(&[("etc/", "", 0o755, 0), ("etc/passwd", "base\n", 0o644, 0)]);
    let (_, c1) = s.unpack(None, &mut &base[..]).expect("base");
    let m = Mounted::new(&s.prepare("w2", Some(&c1)).expect("prepare"));
    fs::remove_file(m.path().join("etc/passwd")).expect("delete");
    fs::write(m.path().join("etc/group"), "upper\n").expect("write");
    drop(m);
    let stack = Layers::new(s.layers(Some("w2"), Some(&c1)).expect("layers"));
    assert!(
        stack
            .read_file("/etc/passwd", 1 << 20)
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(
        stack.read_file("/etc/group", 1 << 20).expect("group"),
        b"upper\n"
    );
    let lower = Layers::new(s.layers(None, Some(&c1)).expect("layers"));
    assert_eq!(
        lower.read_file("/etc/passwd", 1 << 20).expect("passwd"),
        b"base\n"
    );
    s.remove("w2").expect("remove");
}

fn walk_and_remove(make: &Factory) {
    let root = tempfile::tempdir().expect("root");
    let s = make(root.path()).expect("snapshotter");
    let (_, c1) = s
        .unpack(None, &mut &tar_of(&[("a", "12345", 0o644, 0)])[..])
        .expect("base");
    let (_, c2) = s
        .unpack(Some(&c1), &mut &tar_of(&[("b", "1", 0o644, 0)])[..])
        .expect("top");
    let walked = s.walk().expect("walk");
    assert_eq!(walked.len(), 2);
    let top = walked.iter().find(|l| l.chain == c2).expect("top listed");
    assert_eq!(top.parent.as_ref(), Some(&c1));
    assert_eq!(s.usage(&c1), 5);
    assert_eq!(s.parent(&c2).expect("parent"), Some(c1.clone()));
    s.remove("never-prepared")
        .expect("removing a missing snapshot is fine");
    s.remove_layer(&c2).expect("remove top");
    s.remove_layer(&c2)
        .expect("removing a missing layer is fine");
    let walked = s.walk().expect("walk");
    assert_eq!(walked.iter().map(|l| &l.chain).collect::<Vec<_>>(), [&c1]);
}
