//! The API socket: `root:GROUP`, mode 0660 (`--group`, default `berth` when that group exists,
//! else root's alone with Docker's warning). TCP listeners are in api_tcp.rs.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use common::TestDaemon;

#[test]
fn the_socket_is_root_and_its_group_mode_0660() {
    let d = TestDaemon::start_with_args(&["--group", "1"]);
    // Served once the socket has its owner and mode (the socket file exists a moment before).
    d.docker(&["version", "--format", "{{.Server.Os}}"]).ok();
    let m = std::fs::metadata(&d.socket).unwrap();
    assert_eq!(m.permissions().mode() & 0o777, 0o660);
    assert_eq!((m.uid(), m.gid()), (0, 1));
}

#[test]
fn without_the_default_group_the_socket_stays_roots_with_dockers_warning() {
    let d = TestDaemon::start();
    d.docker(&["version", "--format", "{{.Server.Os}}"]).ok();
    let m = std::fs::metadata(&d.socket).unwrap();
    assert_eq!(m.permissions().mode() & 0o777, 0o660);
    // Not getgrnam: a static binary cannot use glibc's NSS.
    let groups = std::fs::read_to_string("/etc/group").unwrap_or_default();
    match berth_core::account::gid_of(&groups, "berth") {
        Some(gid) => assert_eq!(m.gid(), gid),
        None => {
            assert_eq!(m.gid(), 0);
            let log = d.log();
            assert!(
                log.contains("could not change group") && log.contains("group berth not found"),
                "{log}"
            );
        }
    }
}
