use std::path::PathBuf;
use std::process::Command;

use super::*;
use crate::devices::{RuleKind, docker_defaults, libcontainer_defaults, test_rules as rules};

/// Runs `p` on a `bpf_cgroup_dev_ctx`, as the kernel would (only the opcodes `program` uses).
fn run(p: &[Insn], typ: i32, access: i32, major: u32, minor: u32) -> u64 {
    let ctx = [(typ | (access << 16)) as u32, major, minor];
    let mut r = [0u64; 11];
    let mut pc = 0usize;
    loop {
        let i = p[pc];
        let (dst, src) = ((i.regs & 0xf) as usize, (i.regs >> 4) as usize);
        pc += 1;
        match i.code {
            LDX_MEM_W => {
                assert_eq!(src, 1, "loads only from the context");
                r[dst] = u64::from(ctx[i.off as usize / 4]);
            }
            ALU32_AND_K => r[dst] = u64::from(r[dst] as u32 & i.imm as u32),
            ALU32_RSH_K => r[dst] = u64::from((r[dst] as u32) >> i.imm),
            ALU32_MOV_K => r[dst] = u64::from(i.imm as u32),
            ALU32_MOV_X => r[dst] = u64::from(r[src] as u32),
            JNE_K if r[dst] != i.imm as i64 as u64 => pc += i.off as usize,
            JNE_X if r[dst] != r[src] => pc += i.off as usize,
            JNE_K | JNE_X => {}
            EXIT => return r[0],
            other => panic!("unexpected opcode {other:#x}"),
        }
    }
}

#[test]
fn the_program_decides_as_v1_would() {
    let mut container = docker_defaults();
    container.push("b 254:0 r".parse().unwrap());
    container.push("c 116:* rw".parse().unwrap());
    container.extend(libcontainer_defaults());
    let lists = [
        container,
        rules(&["+a *:* rwm", "-b 8:* rw", "-c 1:3 w"]),
        rules(&["-a *:* rwm"]),
        rules(&["-a *:* rwm", "+c 1:* r", "+c 1:3 w", "+b *:0 m"]),
    ];
    for list in lists {
        let p = program(&list).unwrap();
        let devices = Devices::from_rules(&list).unwrap();
        for (kind, typ) in [(Kind::Char, DEV_CHAR), (Kind::Block, DEV_BLOCK)] {
            for (major, minor) in [(1, 3), (1, 5), (1, 7), (5, 2), (8, 0), (8, 1), (10, 229)]
                .into_iter()
                .chain([(116, 3), (136, 9), (254, 0), (254, 1), (4095, 0)])
            {
                for access in 1..8 {
                    let a = [(ACC_READ, Access::READ), (ACC_WRITE, Access::WRITE)]
                        .into_iter()
                        .chain([(ACC_MKNOD, Access::MKNOD)])
                        .filter(|(bit, _)| access & bit != 0)
                        .fold(Access::default(), |a, (_, b)| a.union(b));
                    assert_eq!(
                        run(&p, typ, access, major, minor) == 1,
                        devices.permits(kind, major, minor, a),
                        "{kind:?} {major}:{minor} {a} under {list:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn numbers_no_kernel_has_match_nothing() {
    let list = rules(&["-a *:* rwm", "+c 4096:1 rwm", "+c 1:1048576 rwm"]);
    let p = program(&list).unwrap();
    assert_eq!(p.len(), 8, "the loads and the default only: {p:?}");
    assert_eq!(run(&p, DEV_CHAR, ACC_READ, 4096, 1), 0);
    let rwm: Rule = "c 1:3 rwm".parse().unwrap();
    assert_eq!(rwm.kind, RuleKind::Char);
}

/// Where a cgroup2 hierarchy is mounted: `/sys/fs/cgroup` on a unified host,
/// `/sys/fs/cgroup/unified` on a hybrid one.
fn cgroup2_root() -> PathBuf {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    info.lines()
        .find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let point = left.split_whitespace().nth(4)?;
            (right.split_whitespace().next() == Some("cgroup2")).then(|| PathBuf::from(point))
        })
        .expect("this test needs a cgroup2 mount (hybrid hosts have /sys/fs/cgroup/unified)")
}

/// A cgroup of the test's own, removed at the end (its processes have exited by then).
struct TestCgroup(PathBuf);

impl Drop for TestCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[test]
fn a_real_cgroup_allows_only_what_the_rules_do() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let cg = TestCgroup(cgroup2_root().join(format!("berth-test-{}-{nanos}", std::process::id())));
    std::fs::create_dir(&cg.0).unwrap();
    // Null in full, zero read-only, block nodes made but not opened.
    let list = rules(&["-a *:* rwm", "+c 1:3 rwm", "+c 1:5 r", "+b *:* m"]);
    restrict(&cg.0, &list).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    for (name, major, minor) in [("zero", 1, 5), ("full", 1, 7)] {
        let node = dir.path().join(name);
        nix::sys::stat::mknod(
            &node,
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(0o666),
            nix::sys::stat::makedev(major, minor),
        )
        .unwrap();
    }
    let script = format!(
        "echo $$ > {cg}/cgroup.procs || exit 9
        t() {{ if eval \"$2\" 2>>{d}/err; then echo \"$1 ok\"; else echo \"$1 denied\"; fi; }}
        t read-null 'cat /dev/null'
        t write-null 'echo x > /dev/null'
        t read-zero 'head -c 1 {d}/zero > /dev/null'
        t write-zero 'echo x > {d}/zero'
        t read-full 'head -c 1 {d}/full > /dev/null'
        t mknod-block 'mknod {d}/disk b 7 0'
        t read-block 'head -c 0 {d}/disk'
        t mknod-char 'mknod {d}/mem c 1 1'",
        cg = cg.0.display()
    );
    let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {out:?}");
    assert_eq!(
        stdout,
        "read-null ok\nwrite-null ok\nread-zero ok\nwrite-zero denied\nread-full denied\n\
         mknod-block ok\nread-block denied\nmknod-char denied\n"
    );
    let err = std::fs::read_to_string(dir.path().join("err")).unwrap();
    assert_eq!(
        err.matches("Operation not permitted").count(),
        4,
        "every denial is EPERM: {err}"
    );
    // Outside the cgroup nothing changed.
    std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("zero"))
        .unwrap();
}

#[test]
fn a_bad_program_is_refused_with_the_verifiers_words() {
    // No exit: the verifier rejects it.
    let err = load(&[insn(ALU32_MOV_K, 0, 0, 0, 1)]).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("loading the device filter"), "{text}");
}
