//! Escape attempts a hostile image would make, each of which must fail with berth's defaults
//! (and, where it applies, with the capability it needs added). Elsewhere: `unshare -U`, raw
//! `clone(CLONE_NEWUSER)`, `keyctl` and blocked socket families in `seccomp.rs`; `mount` and
//! host processes under `--cap-add SYS_PTRACE` in `capabilities.rs`; symlinked mount targets,
//! also swapped during start, in `mounts.rs`; device nodes in `devices.rs`.

mod common;

use std::path::Path;
use std::process::Command;

use common::TestDaemon;

fn sha(path: &str) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split(' ')
        .next()
        .unwrap()
        .to_string()
}

/// CVE-2019-5736: the processes berth runs that enter a container (monitor, exec helper, and
/// what libcontainer forks from them) run from a sealed in-memory copy, which even root on the
/// host cannot open for writing; a container watching for them while execs come and go sees
/// only its own programs, and the berth binary is unchanged.
#[test]
fn the_runtime_binary_cannot_be_reached_or_overwritten() {
    let d = TestDaemon::with_busybox(&[]);
    let before = sha(common::BERTH);
    let watch = "while :; do for p in /proc/[0-9]*; do busybox readlink $p/exe >> /tmp/seen; \
                 done; done 2>/dev/null & exec busybox sleep 1000";
    d.docker(&["run", "-d", "--name", "c1", "busybox", "sh", "-c", watch])
        .ok();
    let init: u32 = d.inspect("c1", "{{.State.Pid}}").parse().unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{init}/stat")).unwrap();
    let monitor = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    let exe = std::fs::read_link(format!("/proc/{monitor}/exe")).unwrap();
    assert!(
        exe.display().to_string().starts_with("/memfd:"),
        "monitor runs {}",
        exe.display()
    );
    let write = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/proc/{monitor}/exe"));
    assert!(write.is_err(), "the monitor's binary opened for writing");
    for _ in 0..20 {
        d.docker(&["exec", "c1", "true"]).ok();
    }
    let seen = d
        .docker(&["exec", "c1", "busybox", "sort", "-u", "/tmp/seen"])
        .ok();
    assert!(!seen.is_empty(), "the watcher saw nothing");
    for exe in seen.lines() {
        assert!(exe == "/bin/busybox", "the container reached {exe}");
    }
    assert_eq!(sha(common::BERTH), before);
}

/// CVE-2024-21626: no descriptor of the host reaches the container, so a working directory
/// under `/proc/self/fd` cannot lead out of it, at run or exec.
#[test]
fn no_host_descriptor_leaks_into_the_container() {
    let d = TestDaemon::with_busybox(&[]);
    for fd in 3..9 {
        let wd = format!("/proc/self/fd/{fd}");
        let out = d.docker(&["run", "--rm", "-w", &wd, "busybox", "true"]);
        assert_ne!(out.code, 0, "-w {wd} started: {}", out.stdout);
    }
    d.docker(&["run", "-d", "--name", "c1", "busybox", "sleep", "1000"])
        .ok();
    let fds = d
        .docker(&["exec", "c1", "busybox", "ls", "/proc/1/fd"])
        .ok();
    assert_eq!(fds.split_whitespace().collect::<Vec<_>>(), ["0", "1", "2"]);
    // The listing's own directory takes the lowest free number: 3 when nothing leaked.
    let own = d
        .docker(&["exec", "c1", "busybox", "ls", "/proc/self/fd"])
        .ok();
    let own: Vec<&str> = own.split_whitespace().collect();
    assert_eq!(own, ["0", "1", "2", "3"], "exec's fds");
    for fd in 3..9 {
        let wd = format!("/proc/self/fd/{fd}");
        let out = d.docker(&["exec", "-w", &wd, "c1", "true"]);
        assert_ne!(out.code, 0, "exec -w {wd} started: {}", out.stdout);
    }
}

/// CVE-2022-0492 and friends: the cgroup files and kernel settings a container could use to
/// run code on the host or raise its own limits are read-only, and a cgroup hierarchy of its
/// own cannot be mounted.
#[test]
fn cgroups_and_kernel_settings_cannot_be_written() {
    let d = TestDaemon::with_busybox(&[]);
    let cgroups = "for f in /sys/fs/cgroup/*/notify_on_release /sys/fs/cgroup/*/pids.max \
                   /sys/fs/cgroup/pids.max /sys/fs/cgroup/*/memory.limit_in_bytes; do \
                   [ -e $f ] && { echo 1 > $f && echo WROTE $f; }; done; true";
    let out = d.sh_with(&[], cgroups);
    assert!(!out.stdout.contains("WROTE"), "{}", out.stdout);
    assert!(
        out.stderr.contains("Read-only file system"),
        "{}",
        out.stderr
    );
    // One read-only mount per hierarchy: nothing writable underneath to uncover, even for a
    // container allowed to unmount.
    if std::path::Path::new("/sys/fs/cgroup/pids/cgroup.procs").exists() {
        let count = "busybox grep -c ' /sys/fs/cgroup/pids ' /proc/mounts";
        assert_eq!(d.sh_with(&[], count).ok().trim(), "1");
        let uncover =
            "busybox umount /sys/fs/cgroup/pids; busybox ls /sys/fs/cgroup/pids | busybox wc -l";
        assert_eq!(
            d.sh_with(&["--cap-add", "SYS_ADMIN"], uncover).ok().trim(),
            "0"
        );
        let options = "busybox grep ' /sys/fs/cgroup/pids ' /proc/mounts | busybox cut -d' ' -f4";
        assert_eq!(
            d.sh_with(&[], options).ok().trim(),
            "ro,nosuid,nodev,noexec,relatime,pids"
        );
        let privileged = d.sh_with(&["--privileged"], options).ok();
        assert_eq!(privileged.trim(), "rw,nosuid,nodev,noexec,relatime,pids");
    }
    let mount = "busybox mount -t cgroup -o memory cgroup /tmp";
    d.sh_with(&[], mount).fails_with(1, "permission denied");
    // A namespace of its own would let it mount one: refused too.
    let own = "busybox unshare -U -r -m busybox mount -t cgroup -o memory cgroup /tmp";
    d.sh_with(&[], own).fails_with(1, "Operation not permitted");
    for file in [
        "/proc/sys/kernel/domainname",
        "/sys/class/net/lo/mtu",
        "/proc/sysrq-trigger",
    ] {
        let script = format!("[ ! -e {file} ] || echo 1500 > {file}");
        let out = d.sh_with(&[], &script);
        if out.code != 0 {
            assert!(
                out.stderr.contains("Read-only file system"),
                "{file}: {}",
                out.stderr
            );
        } else {
            assert!(!Path::new(file).exists(), "{file} was written");
        }
    }
    // Masked files read empty.
    let kernel = "busybox cat /proc/interrupts /proc/keys | busybox wc -c";
    assert_eq!(d.sh_with(&[], kernel).ok().trim(), "0");
    // Raising one's own hard limit needs CAP_SYS_RESOURCE, which no container has by default.
    let raise = "ulimit -Hn $(( $(ulimit -Hn) + 1 ))";
    assert_ne!(d.sh_with(&[], raise).code, 0, "raised its hard limit");
}

/// Loading a kernel module: refused by seccomp and capabilities by default; with
/// `--cap-add SYS_MODULE` the kernel itself judges the module, as in Docker.
#[test]
fn kernel_modules_cannot_be_loaded() {
    let d = TestDaemon::with_busybox(&[]);
    let mount = format!("{}:/probe:ro", common::syscall_probe().display());
    let load = |opts: &[&str]| {
        let mut args = vec!["run", "--rm", "-v", mount.as_str()];
        args.extend(opts);
        args.extend(["busybox", "/probe", "finit_module", "/probe"]);
        d.docker(&args).stdout.trim().to_string()
    };
    assert_eq!(load(&[]), "1", "EPERM");
    let judged = load(&["--cap-add", "SYS_MODULE"]);
    assert!(
        judged != "1" && judged != "ok",
        "finit_module answered {judged}"
    );
}
