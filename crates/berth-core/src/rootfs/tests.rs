//! One test per way an image can point the daemon outside itself.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use super::*;

const LIMIT: u64 = 1 << 20;

fn mkfifo(p: &Path) {
    nix::unistd::mkfifo(p, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
}

fn whiteout(p: &Path) {
    nix::sys::stat::mknod(
        p,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::empty(),
        0,
    )
    .unwrap();
}

/// A root with `/etc` and what `f` puts there.
fn root_with(f: impl FnOnce(&Path)) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir(d.path().join("etc")).unwrap();
    f(d.path());
    d
}

fn both(root: &Path) -> [Box<dyn ReadRoot>; 2] {
    [
        Box::new(RootDir::open(root).unwrap()),
        Box::new(Layers::new(vec![root.to_path_buf()])),
    ]
}

#[test]
fn symlink_to_dev_zero_is_the_images_dev_zero() {
    let d = root_with(|r| symlink("/dev/zero", r.join("etc/passwd")).unwrap());
    for r in both(d.path()) {
        assert!(
            r.read_file("/etc/passwd", LIMIT)
                .unwrap_err()
                .is_not_found()
        );
    }
    // An image that has a device node there gets no read of it either.
    fs::create_dir(d.path().join("dev")).unwrap();
    nix::sys::stat::mknod(
        &d.path().join("dev/zero"),
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 5),
    )
    .unwrap();
    for r in both(d.path()) {
        let e = r.read_file("/etc/passwd", LIMIT).unwrap_err();
        assert!(matches!(e, FsError::NotRegular { .. }), "{e}");
    }
}

#[test]
fn symlink_to_a_host_file_reads_the_images_file() {
    let host = tempfile::NamedTempFile::new().unwrap();
    fs::write(host.path(), "host secret").unwrap();
    let d = root_with(|r| {
        symlink(host.path(), r.join("etc/passwd")).unwrap();
        let inside = r.join(host.path().strip_prefix("/").unwrap());
        fs::create_dir_all(inside.parent().unwrap()).unwrap();
        fs::write(inside, "image file").unwrap();
    });
    for r in both(d.path()) {
        assert_eq!(r.read_file("/etc/passwd", LIMIT).unwrap(), b"image file");
    }
}

#[test]
fn fifo_is_refused_without_blocking() {
    let d = root_with(|r| mkfifo(&r.join("etc/passwd")));
    for r in both(d.path()) {
        let e = r.read_file("/etc/passwd", LIMIT).unwrap_err();
        assert!(matches!(e, FsError::NotRegular { .. }), "{e}");
    }
    let d = root_with(|r| {
        mkfifo(&r.join("etc/fifo"));
        symlink("fifo", r.join("etc/passwd")).unwrap();
    });
    for r in both(d.path()) {
        let e = r.read_file("/etc/passwd", LIMIT).unwrap_err();
        assert!(matches!(e, FsError::NotRegular { .. }), "{e}");
    }
}

#[test]
fn dotdot_chains_stop_at_the_root() {
    let d = root_with(|r| {
        fs::write(r.join("etc/real"), "root:x:0:0::/:/bin/sh\n").unwrap();
        symlink("../../../../../../etc/real", r.join("etc/passwd")).unwrap();
        fs::create_dir(r.join("a")).unwrap();
        symlink("../../..", r.join("a/up")).unwrap();
    });
    for r in both(d.path()) {
        assert_eq!(
            r.read_file("/etc/passwd", LIMIT).unwrap(),
            b"root:x:0:0::/:/bin/sh\n"
        );
        assert_eq!(
            r.read_file("/a/up/../etc/real", LIMIT).unwrap(),
            b"root:x:0:0::/:/bin/sh\n"
        );
        assert!(
            r.read_file("../../../../etc/hostname", LIMIT)
                .unwrap_err()
                .is_not_found()
        );
    }
}

#[test]
fn symlink_loops_end() {
    let d = root_with(|r| {
        symlink("b", r.join("etc/a")).unwrap();
        symlink("a", r.join("etc/b")).unwrap();
    });
    for r in both(d.path()) {
        let e = r.read_file("/etc/a", LIMIT).unwrap_err();
        assert!(matches!(e, FsError::Loop { .. }), "{e}");
    }
}

#[test]
fn reads_are_bounded_and_directories_refused() {
    let d = root_with(|r| fs::write(r.join("etc/big"), vec![b'x'; 4096]).unwrap());
    for r in both(d.path()) {
        let e = r.read_file("/etc/big", 100).unwrap_err();
        assert!(matches!(e, FsError::TooLarge { limit: 100, .. }), "{e}");
        assert_eq!(r.read_file("/etc/big", 4096).unwrap().len(), 4096);
        let e = r.read_file("/etc", LIMIT).unwrap_err();
        assert!(matches!(e, FsError::NotRegular { .. }), "{e}");
    }
}

#[test]
fn a_whited_out_passwd_is_gone() {
    let lower = root_with(|r| fs::write(r.join("etc/passwd"), "lower\n").unwrap());
    let upper = root_with(|r| whiteout(&r.join("etc/passwd")));
    let l = Layers::new(vec![upper.path().into(), lower.path().into()]);
    assert!(
        l.read_file("/etc/passwd", LIMIT)
            .unwrap_err()
            .is_not_found()
    );
    // Without the whiteout the lower file shows through.
    fs::remove_file(upper.path().join("etc/passwd")).unwrap();
    assert_eq!(l.read_file("/etc/passwd", LIMIT).unwrap(), b"lower\n");
}

#[test]
fn opaque_and_replaced_directories_hide_what_is_below() {
    let lower = root_with(|r| fs::write(r.join("etc/passwd"), "lower\n").unwrap());
    let upper = root_with(|r| {
        fs::write(r.join("etc/group"), "upper\n").unwrap();
    });
    let l = Layers::new(vec![upper.path().into(), lower.path().into()]);
    assert_eq!(l.read_file("/etc/passwd", LIMIT).unwrap(), b"lower\n");
    assert_eq!(l.read_file("/etc/group", LIMIT).unwrap(), b"upper\n");
    xattr_set(&upper.path().join("etc"), "trusted.overlay.opaque", b"y");
    assert!(
        l.read_file("/etc/passwd", LIMIT)
            .unwrap_err()
            .is_not_found()
    );
    // A whiteout of the directory itself hides it and all under it.
    let top = tempfile::tempdir().unwrap();
    whiteout(&top.path().join("etc"));
    let l = Layers::new(vec![top.path().into(), lower.path().into()]);
    assert!(
        l.read_file("/etc/passwd", LIMIT)
            .unwrap_err()
            .is_not_found()
    );
}

#[test]
fn symlinks_resolve_across_layers() {
    // The link is in the upper layer, its target in the lower one, as with `/bin -> usr/bin`.
    let lower = root_with(|r| {
        fs::create_dir(r.join("usr")).unwrap();
        fs::write(r.join("usr/passwd"), "merged\n").unwrap();
    });
    let upper = root_with(|r| symlink("../usr/passwd", r.join("etc/passwd")).unwrap());
    let l = Layers::new(vec![upper.path().into(), lower.path().into()]);
    assert_eq!(l.read_file("/etc/passwd", LIMIT).unwrap(), b"merged\n");
}

#[test]
fn writes_never_go_through_symlinks() {
    let host = tempfile::tempdir().unwrap();
    let d = root_with(|r| {
        symlink(host.path(), r.join("out")).unwrap();
        symlink(host.path().join("f"), r.join("etc/f")).unwrap();
    });
    let r = RootDir::open(d.path()).unwrap();
    // The link dangles inside the root: refused, and nothing lands on the host.
    r.create_file("/out/x", 0o644).unwrap_err();
    assert!(!host.path().join("x").exists());
    let inside = d.path().join(host.path().strip_prefix("/").unwrap());
    fs::create_dir_all(&inside).unwrap();
    r.create_file("/out/x", 0o644).unwrap();
    assert!(!host.path().join("x").exists());
    assert!(inside.join("x").is_file());
    // A file that is a symlink is replaced, not written through.
    r.create_file("/etc/f", 0o600).unwrap();
    assert!(!host.path().join("f").exists());
    assert!(!d.path().join("etc/f").is_symlink());
    r.mkdir_all("/out/deep/er", 0o755).unwrap();
    assert!(!host.path().join("deep").exists());
    assert_eq!(
        r.real_path("/out/new/file").unwrap(),
        format!("{}/new/file", host.path().display())
    );
}

fn xattr_set(p: &Path, name: &str, v: &[u8]) {
    rustix::fs::setxattr(p, name, v, rustix::fs::XattrFlags::empty()).unwrap();
}
