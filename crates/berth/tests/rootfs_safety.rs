//! Issue 8: the daemon reads and writes an image's or a container's files only inside it.
//! Each image here points `/etc/passwd` somewhere hostile; the daemon must answer quickly, read
//! the image's own files (or none), and stay healthy.

mod common;

use common::{TestDaemon, context};

fn build(d: &TestDaemon, tag: &str, dockerfile: &str) {
    let ctx = context(&[("Dockerfile", dockerfile)]);
    let out = d.docker_build(&["-q", "-t", tag, ctx.path().to_str().unwrap()]);
    assert_eq!(out.code, 0, "build: {} {}", out.stdout, out.stderr);
}

/// Prints the shell's UID without reading /etc/passwd.
const UID_OF_SH: &str =
    r#"while read k v _; do [ "$k" = Uid: ] && echo $v; done < /proc/self/status; true"#;

/// The daemon still answers, and lists containers.
fn healthy(d: &TestDaemon) {
    d.docker(&["version"]).ok();
    d.docker(&["ps", "-a"]).ok();
}

#[test]
fn issue8_passwd_symlinked_to_dev_zero_is_not_read_from_the_host() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    build(
        &d,
        "zero",
        "FROM busybox\nRUN rm /etc/passwd && ln -s /dev/zero /etc/passwd\n",
    );
    d.docker(&["run", "--rm", "-u", "nobody", "zero", "id"])
        .fails_with(125, "unable to find user nobody");
    // A numeric user needs no passwd entry. (Not `id`: inside the container the link does
    // reach a real /dev/zero, and reading it is the container's own business.)
    assert_eq!(
        d.docker(&["run", "--rm", "-u", "1234", "zero", "sh", "-c", UID_OF_SH])
            .ok()
            .trim(),
        "1234"
    );
    healthy(&d);
}

#[test]
fn issue8_passwd_symlinked_to_a_host_file_reads_the_images_file() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let host = tempfile::Builder::new()
        .prefix("berth-host-passwd")
        .tempfile_in("/tmp")
        .unwrap();
    std::fs::write(host.path(), "hostonly:x:4242:4242::/:/bin/sh\n").unwrap();
    let p = host.path().display();
    build(
        &d,
        "hostlink",
        &format!("FROM busybox\nRUN rm /etc/passwd && ln -s {p} /etc/passwd\n"),
    );
    d.docker(&["run", "--rm", "-u", "hostonly", "hostlink", "id"])
        .fails_with(125, "unable to find user hostonly");
    // `..` chains stop at the image's root and find the image's file.
    build(
        &d,
        "dotdot",
        "FROM busybox\nRUN echo 'imgonly:x:4343:4343::/:/bin/sh' > /etc/real && rm /etc/passwd && ln -s ../../../../../../../etc/real /etc/passwd\n",
    );
    assert_eq!(
        d.docker(&["run", "--rm", "-u", "imgonly", "dotdot", "id", "-u"])
            .ok()
            .trim(),
        "4343"
    );
    healthy(&d);
}

#[test]
fn issue8_a_fifo_passwd_fails_the_start_and_exec_without_hanging() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    build(
        &d,
        "fifo",
        "FROM busybox\nRUN rm /etc/passwd && busybox mkfifo /etc/passwd\n",
    );
    d.docker(&["run", "--rm", "-u", "u1", "fifo", "id"])
        .fails_with(125, "/etc/passwd is not a regular file");
    // The same through a running container's mounted rootfs (exec reads it there).
    let id = d
        .docker(&["run", "-d", "busybox", "sleep", "100"])
        .ok()
        .trim()
        .to_string();
    d.docker(&[
        "exec",
        &id,
        "sh",
        "-c",
        "rm /etc/passwd && busybox mkfifo /etc/passwd",
    ])
    .ok();
    // The error reaches the client on the exec's stream, as Docker's runtime errors do.
    let out = d.docker(&["exec", "-u", "u1", &id, "id"]);
    assert_eq!(out.code, 126);
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(said.contains("/etc/passwd is not a regular file"), "{said}");
    healthy(&d);
}

#[test]
fn issue8_a_whited_out_passwd_is_gone() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    build(&d, "nopasswd", "FROM busybox\nRUN rm /etc/passwd\n");
    d.docker(&["run", "--rm", "-u", "u1", "nopasswd", "id"])
        .fails_with(125, "unable to find user u1");
    assert_eq!(
        d.docker(&["run", "--rm", "-u", "1000", "nopasswd", "id", "-u"])
            .ok()
            .trim(),
        "1000"
    );
    // The lower layer's passwd is still what the base image sees.
    assert_eq!(
        d.docker(&["run", "--rm", "-u", "u1", "busybox", "id", "-u"])
            .ok()
            .trim(),
        "1000"
    );
}

#[test]
fn issue8_copy_never_writes_through_a_symlink_it_copied() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let host = tempfile::Builder::new()
        .prefix("berth-host-dir")
        .tempdir_in("/tmp")
        .unwrap();
    let ctx = context(&[
        ("Dockerfile", "FROM busybox\nCOPY a b /dst/\n"),
        ("b/x/pwned", "written through a symlink"),
    ]);
    std::fs::create_dir(ctx.path().join("a")).unwrap();
    std::os::unix::fs::symlink(host.path(), ctx.path().join("a/x")).unwrap();
    let out = d.docker_build(&["-q", "-t", "copied", ctx.path().to_str().unwrap()]);
    assert!(
        !host.path().join("pwned").exists(),
        "the build wrote on the host: {} {}",
        out.stdout,
        out.stderr
    );
    // Through the link inside the image the file lands in the image, or the step fails.
    if out.code == 0 {
        let inside = format!("{}/pwned", host.path().display());
        d.docker(&["run", "--rm", "copied", "cat", &inside]).ok();
    }
    healthy(&d);
}
