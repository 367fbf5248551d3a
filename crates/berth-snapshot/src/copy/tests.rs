use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use tar::EntryType;

use super::*;

fn tree(dir: &Path) -> Tree {
    Tree::open(dir).unwrap()
}

/// A tar with raw names (hostile ones included): (name, type, data or link target).
fn tar_of(entries: &[(&str, EntryType, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_mode(if *kind == EntryType::Directory {
            0o755
        } else {
            0o644
        });
        h.set_mtime(1_000_000);
        h.set_uid(0);
        h.set_gid(0);
        let linked = matches!(kind, EntryType::Symlink | EntryType::Link);
        if linked {
            h.as_old_mut().linkname[..data.len()].copy_from_slice(data.as_bytes());
        }
        h.set_size(if linked { 0 } else { data.len() as u64 });
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        b.append(&h, if linked { &b""[..] } else { data.as_bytes() })
            .unwrap();
    }
    b.into_inner().unwrap()
}

fn names(tar: &[u8]) -> Vec<String> {
    let mut a = tar::Archive::new(tar);
    a.entries()
        .unwrap()
        .map(|e| String::from_utf8_lossy(&e.unwrap().path_bytes()).into_owned())
        .collect()
}

fn put(t: &Tree, dest: &str, data: &[u8], no_overwrite: bool) -> Result<UnpackStats, CopyError> {
    let opts = UnpackOptions {
        no_overwrite_dir_non_dir: no_overwrite,
        ..UnpackOptions::default()
    };
    unpack(t, &t.locate(dest, true)?, opts, data)
}

fn get(t: &Tree, path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let loc = t.locate(path, asserts_dir(path)).unwrap();
    pack(t, &loc, &base_name(path), &mut out).unwrap();
    out
}

#[test]
fn names_are_dockers() {
    assert_eq!(base_name("/a/b/"), "b");
    assert_eq!(base_name("/a/b/."), ".");
    assert_eq!(base_name("/"), "/");
    assert_eq!(base_name("b"), "b");
    assert!(asserts_dir("/a/") && asserts_dir("/a/.") && !asserts_dir("/a"));
    assert_eq!(clean_abs("a/../b/"), "/b/");
    assert_eq!(clean_abs("/a/b/."), "/a/b/.");
    assert_eq!(clean_abs("/a/.."), "/");
    assert_eq!(clean_abs("/."), "/.");
    assert_eq!(clean_abs("x//y"), "/x/y");
}

#[test]
fn a_directory_is_archived_under_its_name_or_as_dot() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir_all(d.path().join("foo/sub")).unwrap();
    fs::write(d.path().join("foo/sub/f.txt"), "x").unwrap();
    symlink("sub/f.txt", d.path().join("foo/l")).unwrap();
    fs::hard_link(d.path().join("foo/sub/f.txt"), d.path().join("foo/h")).unwrap();
    let t = tree(d.path());
    assert_eq!(
        names(&get(&t, "/foo")),
        ["foo/", "foo/h", "foo/l", "foo/sub/", "foo/sub/f.txt"]
    );
    assert_eq!(
        names(&get(&t, "/foo/.")),
        ["./", "./h", "./l", "./sub/", "./sub/f.txt"]
    );
    assert_eq!(names(&get(&t, "/foo/sub/f.txt")), ["f.txt"]);
    // The second name of a file is a hard link to the first.
    let tar = get(&t, "/foo");
    let mut a = tar::Archive::new(&tar[..]);
    let link = a
        .entries()
        .unwrap()
        .map(|e| e.unwrap())
        .find(|e| e.header().entry_type() == EntryType::Link);
    assert!(link.is_some(), "no hard link entry");
}

#[test]
fn symlinks_resolve_inside_the_tree() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir_all(d.path().join("etc")).unwrap();
    fs::write(d.path().join("etc/passwd"), "inside").unwrap();
    symlink("/", d.path().join("up")).unwrap();
    symlink("../../../../etc", d.path().join("dots")).unwrap();
    let t = tree(d.path());
    assert_eq!(
        t.locate("/up/etc/passwd", false).unwrap().path(),
        "/etc/passwd"
    );
    assert_eq!(
        t.locate("/dots/passwd", false).unwrap().path(),
        "/etc/passwd"
    );
    assert_eq!(t.resolved_path("/dots").unwrap(), "/etc");
    assert_eq!(t.resolved_path("/up/nope/x").unwrap(), "/nope/x");
    assert!(
        t.locate("/nope", false)
            .unwrap_err()
            .to_string()
            .contains("/nope")
    );
    // Not following the last component: the symlink itself.
    assert_eq!(
        t.locate("/up", false).unwrap().stat().unwrap().mode & libc::S_IFMT,
        libc::S_IFLNK
    );
}

#[test]
fn a_mount_covers_its_target_and_its_symlinks_stay_in_the_tree() {
    let root = tempfile::tempdir().unwrap();
    let vol = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("mnt")).unwrap();
    fs::write(root.path().join("mnt/hidden"), "under the mount").unwrap();
    fs::write(vol.path().join("data"), "volume").unwrap();
    symlink("/", vol.path().join("out")).unwrap();
    let mut t = tree(root.path());
    t.mount("/mnt", vol.path(), false).unwrap();
    let loc = t.locate("/mnt/data", false).unwrap();
    assert_eq!((loc.path().as_str(), loc.mount()), ("/mnt/data", Some(0)));
    t.locate("/mnt/hidden", false).unwrap_err();
    // `/mnt/out` -> `/`: the tree's root, not the host's.
    assert_eq!(
        t.locate("/mnt/out/mnt/data", false).unwrap().mount(),
        Some(0)
    );
    assert_eq!(
        names(&get(&t, "/"))
            .iter()
            .filter(|n| n.starts_with("/mnt/"))
            .count(),
        3
    );
    put(
        &t,
        "/mnt",
        &tar_of(&[("new", EntryType::Regular, "n")]),
        true,
    )
    .unwrap();
    assert_eq!(fs::read_to_string(vol.path().join("new")).unwrap(), "n");
    put(
        &t,
        "/",
        &tar_of(&[("mnt/deep/x", EntryType::Regular, "d")]),
        true,
    )
    .unwrap();
    assert!(vol.path().join("deep/x").exists());
    let mut ro = tree(root.path());
    ro.mount("/mnt", vol.path(), true).unwrap();
    let e = put(
        &ro,
        "/",
        &tar_of(&[("mnt/y", EntryType::Regular, "y")]),
        true,
    )
    .unwrap_err();
    assert!(matches!(e, CopyError::ReadOnlyMount), "{e}");
}

#[test]
fn absolute_names_are_contained() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir(d.path().join("dst")).unwrap();
    let t = tree(d.path());
    put(
        &t,
        "/dst",
        &tar_of(&[("/etc/abs", EntryType::Regular, "a")]),
        true,
    )
    .unwrap();
    assert_eq!(
        fs::read_to_string(d.path().join("dst/etc/abs")).unwrap(),
        "a"
    );
}

#[test]
fn dotdot_above_the_destination_is_refused() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir(d.path().join("dst")).unwrap();
    let t = tree(d.path());
    let e = put(
        &t,
        "/dst",
        &tar_of(&[("a/../../evil", EntryType::Regular, "x")]),
        true,
    )
    .unwrap_err();
    assert!(matches!(e, CopyError::Escape { .. }), "{e}");
    assert!(!d.path().join("evil").exists());
}

#[test]
fn a_member_through_a_symlink_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let t = tree(d.path());
    let link = outside.path().to_str().unwrap();
    let tar = tar_of(&[
        ("a", EntryType::Symlink, link),
        ("a/passwd", EntryType::Regular, "x"),
    ]);
    let e = put(&t, "/", &tar, true).unwrap_err();
    assert!(matches!(e, CopyError::ThroughSymlink { .. }), "{e}");
    assert!(!outside.path().join("passwd").exists());
}

#[test]
fn a_hard_link_must_stay_below_the_destination() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir(d.path().join("dst")).unwrap();
    fs::write(d.path().join("secret"), "s").unwrap();
    let t = tree(d.path());
    let e = put(
        &t,
        "/dst",
        &tar_of(&[("l", EntryType::Link, "../secret")]),
        true,
    )
    .unwrap_err();
    assert!(matches!(e, CopyError::BadHardlink { .. }), "{e}");
    let tar = tar_of(&[
        ("s", EntryType::Symlink, "/"),
        ("l", EntryType::Link, "s/secret"),
    ]);
    let e = put(&t, "/dst", &tar, true).unwrap_err();
    assert!(matches!(e, CopyError::BadHardlink { .. }), "{e}");
    put(
        &t,
        "/dst",
        &tar_of(&[("f", EntryType::Regular, "f"), ("g", EntryType::Link, "f")]),
        true,
    )
    .unwrap();
    assert_eq!(fs::read_to_string(d.path().join("dst/g")).unwrap(), "f");
}

#[test]
fn no_overwrite_dir_non_dir_uses_dockers_words() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir_all(d.path().join("dst/dir")).unwrap();
    fs::write(d.path().join("dst/file"), "f").unwrap();
    let t = tree(d.path());
    let e = put(
        &t,
        "/dst",
        &tar_of(&[("dir", EntryType::Regular, "x")]),
        true,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"cannot overwrite directory "/dst/dir" with non-directory "/dst""#
    );
    let e = put(
        &t,
        "/dst",
        &tar_of(&[("file/", EntryType::Directory, "")]),
        true,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"cannot overwrite non-directory "/dst/file" with directory "/dst""#
    );
    put(
        &t,
        "/dst",
        &tar_of(&[("dir", EntryType::Regular, "x")]),
        false,
    )
    .unwrap();
    assert_eq!(fs::read_to_string(d.path().join("dst/dir")).unwrap(), "x");
}

#[test]
fn devices_are_skipped_and_the_destination_must_be_a_directory() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("file"), "f").unwrap();
    let t = tree(d.path());
    let s = put(&t, "/", &tar_of(&[("sda", EntryType::Block, "")]), true).unwrap();
    assert_eq!(s.skipped_devices, 1);
    assert!(!d.path().join("sda").exists());
    let e = put(&t, "/file", &tar_of(&[("x", EntryType::Regular, "")]), true).unwrap_err();
    assert!(matches!(e, CopyError::NotDirectory { .. }), "{e}");
}

#[test]
fn round_trip_keeps_content_modes_and_times() {
    let src = tempfile::tempdir().unwrap();
    fs::create_dir_all(src.path().join("t/a/b")).unwrap();
    fs::write(src.path().join("t/a/b/f"), "content").unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(
        src.path().join("t/a/b/f"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let tar = get(&tree(src.path()), "/t");
    let dst = tempfile::tempdir().unwrap();
    put(&tree(dst.path()), "/", &tar, true).unwrap();
    assert_eq!(
        fs::read_to_string(dst.path().join("t/a/b/f")).unwrap(),
        "content"
    );
    assert_eq!(
        fs::metadata(dst.path().join("t/a/b/f"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let m = |p: &Path| fs::metadata(p).unwrap().modified().unwrap();
    assert_eq!(
        m(&src.path().join("t/a"))
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        m(&dst.path().join("t/a"))
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    );
}

/// CVE-2019-14271's class: while another thread swaps `d` between a directory and a symlink
/// to the host's `/`, no read and no write ever reaches outside the tree.
#[test]
fn a_directory_swapped_for_a_symlink_never_leads_out() {
    let host = tempfile::tempdir().unwrap();
    let marker = host.path().join("host-marker");
    fs::write(&marker, "host").unwrap();
    let d = tempfile::tempdir().unwrap();
    fs::create_dir(d.path().join("d")).unwrap();
    fs::write(d.path().join("d/inside"), "inside").unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (root, host, stop) = (
            d.path().to_path_buf(),
            host.path().to_path_buf(),
            stop.clone(),
        );
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = fs::rename(root.join("d"), root.join("d.tmp"));
                let _ = symlink(&host, root.join("d"));
                let _ = fs::remove_file(root.join("d"));
                let _ = fs::rename(root.join("d.tmp"), root.join("d"));
            }
        })
    };
    let t = tree(d.path());
    let tar = tar_of(&[("written", EntryType::Regular, "w")]);
    for _ in 0..2000 {
        if let Ok(loc) = t.locate("/d/", true) {
            let mut out = Vec::new();
            if pack(&t, &loc, "d", &mut out).is_ok() {
                assert!(!names(&out).iter().any(|n| n.contains("host-marker")));
            }
        }
        if let Ok(loc) = t.locate("/d", true) {
            let _ = unpack(&t, &loc, UnpackOptions::default(), &tar[..]);
        }
        assert!(
            !host.path().join("written").exists(),
            "a write left the tree"
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    swapper.join().unwrap();
}

#[test]
fn file_capabilities_travel_both_ways_as_in_docker() {
    let (src, dst) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ping = src.path().join("ping");
    fs::write(&ping, "binary").unwrap();
    // vfs_cap_data revision 2, effective, permitted = CAP_NET_RAW.
    let mut caps = 0x0200_0001u32.to_le_bytes().to_vec();
    caps.extend((1u32 << 13).to_le_bytes());
    caps.extend([0u8; 12]);
    rustix::fs::setxattr(
        &ping,
        fsx::CARRIED_XATTR,
        &caps,
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    rustix::fs::setxattr(&ping, "user.other", b"x", rustix::fs::XattrFlags::empty()).unwrap();
    let tar = get(&tree(src.path()), "/ping");
    put(&tree(dst.path()), "/", &tar, false).unwrap();
    let mut got = vec![0u8; 64];
    let n = rustix::fs::getxattr(dst.path().join("ping"), fsx::CARRIED_XATTR, &mut got).unwrap();
    assert_eq!(&got[..n], caps.as_slice());
    assert!(
        rustix::fs::getxattr(dst.path().join("ping"), "user.other", &mut got).is_err(),
        "only what Docker carries"
    );
}

#[test]
fn an_archive_sets_no_trusted_xattrs() {
    let dst = tempfile::tempdir().unwrap();
    let mut b = tar::Builder::new(Vec::new());
    b.append_pax_extensions([
        ("SCHILY.xattr.trusted.overlay.opaque", &b"y"[..]),
        ("SCHILY.xattr.user.note", b"n"),
    ])
    .unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(EntryType::Regular);
    h.set_size(1);
    h.set_mode(0o644);
    h.set_path("f").unwrap();
    h.set_cksum();
    b.append(&h, &b"x"[..]).unwrap();
    put(&tree(dst.path()), "/", &b.into_inner().unwrap(), false).unwrap();
    let f = dst.path().join("f");
    let mut v = vec![0u8; 16];
    rustix::fs::getxattr(&f, "trusted.overlay.opaque", &mut v).unwrap_err();
    let n = rustix::fs::getxattr(&f, "user.note", &mut v).unwrap();
    assert_eq!(&v[..n], b"n");
}
