//! Cgroup settings beyond memory, CPU time and tasks (`--cpuset-cpus`, `--memory-reservation`,
//! `--memory-swappiness`, `--oom-kill-disable`, `--device-read-bps`, `--cgroup-parent`, ...)
//! and `docker update`, seen where the kernel keeps them: the container's cgroup files.

mod common;

use common::TestDaemon;

/// A cgroup v1 file of container `id` under `parent` (`berth` unless `--cgroup-parent`).
fn v1(controller: &str, parent: &str, id: &str, file: &str) -> String {
    let path = format!("/sys/fs/cgroup/{controller}/{parent}/{id}/{file}");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim()
        .to_string()
}

/// `docker run -d ARGS busybox sleep 1000`, its full ID.
fn sleeper(d: &TestDaemon, args: &[&str]) -> String {
    let mut all = vec!["run", "-d"];
    all.extend_from_slice(args);
    all.extend(["busybox", "sleep", "1000"]);
    d.docker(&all).ok().trim().to_string()
}

/// Removes the cgroup directories a `--cgroup-parent` left in every hierarchy.
struct Parent(&'static str);

impl Drop for Parent {
    fn drop(&mut self) {
        if let Ok(all) = std::fs::read_dir("/sys/fs/cgroup") {
            for h in all.flatten() {
                let _ = std::fs::remove_dir(h.path().join(self.0));
            }
        }
    }
}

#[test]
fn resource_flags_reach_the_cgroup_v1_files_and_inspect() {
    let d = TestDaemon::with_busybox(&[]);
    let dev = "/dev/vda";
    let (major_minor, bps) = if std::path::Path::new(dev).exists() {
        let out = std::process::Command::new("stat")
            .args(["-c", "%t:%T", dev])
            .output()
            .unwrap();
        let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let (ma, mi) = s.split_once(':').unwrap();
        let n = |h: &str| u64::from_str_radix(h, 16).unwrap();
        (format!("{}:{}", n(ma), n(mi)), true)
    } else {
        (String::new(), false)
    };
    let mut args = vec![
        "-m",
        "64m",
        "--cpuset-cpus",
        "0",
        "--cpuset-mems",
        "0",
        "--memory-reservation",
        "16m",
        "--memory-swappiness",
        "10",
        "--oom-kill-disable",
        "--isolation",
        "default",
    ];
    if bps {
        args.extend([
            "--device-read-bps",
            "/dev/vda:1mb",
            "--device-write-iops",
            "/dev/vda:100",
        ]);
    }
    let id = sleeper(&d, &args);
    assert_eq!(v1("cpuset", "berth", &id, "cpuset.cpus"), "0");
    assert_eq!(v1("cpuset", "berth", &id, "cpuset.mems"), "0");
    assert_eq!(
        v1("memory", "berth", &id, "memory.soft_limit_in_bytes"),
        (16 << 20).to_string()
    );
    assert_eq!(v1("memory", "berth", &id, "memory.swappiness"), "10");
    assert!(
        v1("memory", "berth", &id, "memory.oom_control").contains("oom_kill_disable 1"),
        "oom killer still on"
    );
    if bps {
        assert_eq!(
            v1("blkio", "berth", &id, "blkio.throttle.read_bps_device"),
            format!("{major_minor} 1048576")
        );
        assert_eq!(
            v1("blkio", "berth", &id, "blkio.throttle.write_iops_device"),
            format!("{major_minor} 100")
        );
    }
    let shown = d.inspect(
        &id,
        "{{.HostConfig.CpusetCpus}} {{.HostConfig.CpusetMems}} {{.HostConfig.MemoryReservation}} \
         {{.HostConfig.MemorySwappiness}} {{.HostConfig.OomKillDisable}} {{.HostConfig.Isolation}}",
    );
    assert_eq!(shown, "0 0 16777216 10 true default");
    if bps {
        assert_eq!(
            d.inspect(&id, "{{json .HostConfig.BlkioDeviceReadBps}}"),
            r#"[{"Path":"/dev/vda","Rate":1048576}]"#
        );
    }
    d.docker(&["rm", "-f", &id]).ok();
}

#[test]
fn a_cgroup_parent_places_the_containers_cgroup() {
    let _clean = Parent("berth-test-parent");
    let d = TestDaemon::with_busybox(&[]);
    let id = sleeper(&d, &["--cgroup-parent", "berth-test-parent", "-m", "32m"]);
    assert_eq!(
        v1("memory", "berth-test-parent", &id, "memory.limit_in_bytes"),
        (32 << 20).to_string()
    );
    assert_eq!(
        d.inspect(&id, "{{.HostConfig.CgroupParent}}"),
        "berth-test-parent"
    );
    // top finds its processes there.
    let top = d.docker(&["top", &id]).ok();
    assert!(top.contains("sleep 1000"), "{top}");
    d.docker(&["rm", "-f", &id]).ok();
}

#[test]
fn the_daemons_cgroup_parent_places_containers_that_set_none() {
    let _clean = Parent("berth-test-daemon-parent");
    let _own = Parent("berth-test-own-parent");
    let d = TestDaemon::with_busybox(&["--cgroup-parent", "berth-test-daemon-parent"]);
    let id = sleeper(&d, &["-m", "16m"]);
    assert_eq!(
        v1(
            "memory",
            "berth-test-daemon-parent",
            &id,
            "memory.limit_in_bytes"
        ),
        (16 << 20).to_string()
    );
    // Not shown as the container's own, as in Docker; its own still wins.
    assert_eq!(d.inspect(&id, "{{.HostConfig.CgroupParent}}"), "");
    let own = sleeper(
        &d,
        &["--cgroup-parent", "berth-test-own-parent", "-m", "8m"],
    );
    assert_eq!(
        v1(
            "memory",
            "berth-test-own-parent",
            &own,
            "memory.limit_in_bytes"
        ),
        (8 << 20).to_string()
    );
    let stats = d
        .docker(&["stats", "--no-stream", "--format", "{{.MemUsage}}", &id])
        .ok();
    assert!(
        stats.contains("16MiB"),
        "stats reads the cgroup there: {stats}"
    );
    d.docker(&["rm", "-f", &id, &own]).ok();
}

#[test]
fn bad_resource_values_get_dockers_messages() {
    let d = TestDaemon::with_busybox(&[]);
    let ncpu = std::thread::available_parallelism().unwrap().get();
    let avail = std::fs::read_to_string("/sys/fs/cgroup/cpuset/cpuset.cpus").unwrap();
    for (flags, says) in [
        (
            vec!["--blkio-weight", "5"],
            "Range of blkio weight is from 10 to 1000".to_string(),
        ),
        (
            vec!["--isolation", "hyperv"],
            "invalid isolation (hyperv): linux only supports 'default'".into(),
        ),
        (
            vec!["--cpuset-cpus", "64"],
            format!(
                "Requested CPUs are not available - requested 64, available: {}",
                avail.trim()
            ),
        ),
        (
            vec!["--cpuset-cpus", "0-x"],
            "Invalid value 0-x for cpuset cpus: invalid format: 0-x".into(),
        ),
        (
            vec!["--memory-reservation", "1m"],
            "Minimum memory reservation allowed is 6MB".into(),
        ),
        (
            vec!["-m", "16m", "--memory-reservation", "32m"],
            "Minimum memory limit can not be less than memory reservation limit".into(),
        ),
    ] {
        let mut args = vec!["create"];
        args.extend(&flags);
        args.push("busybox");
        d.docker(&args).fails_with(1, &says);
    }
    assert!(ncpu >= 1);
    // A device that is not there: Docker's stat error, at start (the docker CLI exits 127 for
    // a "no such file or directory", as it does with Docker).
    let out = d.docker(&[
        "run",
        "--rm",
        "--device-read-bps",
        "/dev/berth-nosuch:1mb",
        "busybox",
        "true",
    ]);
    out.fails_with(127, "stat /dev/berth-nosuch: no such file or directory");
    // This host's blkio controller has no weight: refused by name, not dropped.
    let blkio = std::path::Path::new("/sys/fs/cgroup/blkio");
    if !blkio.join("blkio.weight").exists() && !blkio.join("blkio.bfq.weight").exists() {
        d.docker(&["create", "--blkio-weight", "300", "busybox", "true"])
            .fails_with(1, "berth cannot apply --blkio-weight on this host");
    }
}

#[test]
fn swappiness_and_the_oom_switch_are_dropped_with_dockers_warnings_on_cgroup_v2() {
    let d = TestDaemon::start_cgroup2();
    d.import_busybox("busybox");
    let out = d.docker(&[
        "create",
        "--memory-swappiness",
        "10",
        "--oom-kill-disable",
        "busybox",
        "true",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("Your kernel does not support memory swappiness capabilities"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("Your kernel does not support OomKillDisable. OomKillDisable discarded."),
        "{}",
        out.stderr
    );
    let id = out.stdout.trim();
    assert_eq!(
        d.inspect(
            id,
            "{{.HostConfig.MemorySwappiness}} {{.HostConfig.OomKillDisable}}"
        ),
        "<nil> false"
    );
    // No real-time group scheduling on v2: Docker 20.10's refusal.
    d.docker(&["create", "--cpu-rt-runtime", "1000", "busybox", "true"])
        .fails_with(
            1,
            "Your kernel does not support cgroup cpu real-time runtime",
        );
    // Here the cpuset controller is bound to a v1 hierarchy: refused by name.
    let controllers =
        std::fs::read_to_string("/sys/fs/cgroup/unified/cgroup.controllers").unwrap_or_default();
    if !controllers.contains("cpuset") {
        d.docker(&["create", "--cpuset-cpus", "0", "busybox", "true"])
            .fails_with(
                1,
                "berth cannot apply --cpuset-cpus/--cpuset-mems on this host",
            );
    }
}

#[test]
fn update_writes_a_running_containers_cgroup_and_inspect() {
    let d = TestDaemon::with_busybox(&[]);
    let id = sleeper(
        &d,
        &["-m", "16m", "--memory-swap", "32m", "--pids-limit", "20"],
    );
    let out = d
        .docker(&["update", "-m", "32m", "--memory-swap", "64m", &id[..12]])
        .ok();
    assert_eq!(out.trim(), &id[..12], "the container as given");
    assert_eq!(
        v1("memory", "berth", &id, "memory.limit_in_bytes"),
        (32 << 20).to_string()
    );
    assert_eq!(
        v1("memory", "berth", &id, "memory.memsw.limit_in_bytes"),
        (64 << 20).to_string()
    );
    assert_eq!(
        d.inspect(&id, "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}"),
        "33554432 67108864"
    );
    // Shrinking both again: memory first.
    d.docker(&["update", "-m", "24m", "--memory-swap", "24m", &id])
        .ok();
    assert_eq!(
        v1("memory", "berth", &id, "memory.memsw.limit_in_bytes"),
        (24 << 20).to_string()
    );
    d.docker(&[
        "update",
        "--cpuset-cpus",
        "0",
        "--pids-limit",
        "50",
        "--cpu-shares",
        "512",
        &id,
    ])
    .ok();
    assert_eq!(v1("cpuset", "berth", &id, "cpuset.cpus"), "0");
    assert_eq!(v1("pids", "berth", &id, "pids.max"), "50");
    assert_eq!(v1("cpu", "berth", &id, "cpu.shares"), "512");
    assert_eq!(
        d.inspect(
            &id,
            "{{.HostConfig.CpusetCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.CpuShares}}"
        ),
        "0 50 512"
    );
    // Limits lifted again: -1, recorded as Docker records it.
    d.docker(&["update", "--pids-limit", "-1", "--cpu-quota", "50000", &id])
        .ok();
    assert_eq!(v1("cpu", "berth", &id, "cpu.cfs_quota_us"), "50000");
    d.docker(&["update", "--pids-limit", "-1", "--cpu-quota", "-1", &id])
        .ok();
    assert_eq!(v1("pids", "berth", &id, "pids.max"), "max");
    assert_eq!(v1("cpu", "berth", &id, "cpu.cfs_quota_us"), "-1");
    assert_eq!(d.inspect(&id, "{{.HostConfig.PidsLimit}}"), "-1");
    // A restart policy is recorded.
    d.docker(&["update", "--restart", "on-failure:3", &id]).ok();
    assert_eq!(
        d.inspect(
            &id,
            "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}"
        ),
        "on-failure 3"
    );
    // A paused container is updated live, as Docker does.
    d.docker(&["pause", &id]).ok();
    d.docker(&["update", "--pids-limit", "60", &id]).ok();
    assert_eq!(v1("pids", "berth", &id, "pids.max"), "60");
    d.docker(&["unpause", &id]).ok();
    // The bundle records it too.
    let bundle = d
        .root
        .join("containers")
        .join(&id)
        .join("bundle/config.json");
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    assert_eq!(spec["linux"]["resources"]["memory"]["limit"], 24 << 20);
    assert!(
        spec["linux"]["resources"]["devices"].is_array(),
        "rules kept"
    );
    let events = d.events(&format!("container={id}"), "{{.Action}}");
    assert!(events.lines().any(|l| l == "update"), "{events}");
    d.docker(&["rm", "-f", &id]).ok();
}

#[test]
fn shrinking_memory_below_its_use_fails_as_the_kernel_says() {
    let d = TestDaemon::with_busybox(&[]);
    let out = d.docker(&[
        "run",
        "-d",
        "-m",
        "64m",
        "--memory-swap",
        "64m",
        "busybox",
        "sh",
        "-c",
        "busybox dd if=/dev/zero of=/dev/shm/fill bs=1M count=40 && echo filled && busybox sleep 1000",
    ]);
    let id = out.ok().trim().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !d.docker(&["logs", &id]).ok().contains("filled") {
        assert!(std::time::Instant::now() < deadline, "never filled");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = d.docker(&["update", "-m", "8m", "--memory-swap", "8m", &id]);
    assert!(out.stderr.contains("busy"), "{}", out.stderr);
    out.fails_with(1, &format!("Cannot update container {id}: "));
    // Nothing was recorded.
    assert_eq!(d.inspect(&id, "{{.HostConfig.Memory}}"), "67108864");
    d.docker(&["rm", "-f", &id]).ok();
}

#[test]
fn a_stopped_container_gets_its_update_at_the_next_start() {
    let d = TestDaemon::with_busybox(&[]);
    let id = d
        .docker(&["create", "-m", "32m", "busybox", "sleep", "1000"])
        .ok()
        .trim()
        .to_string();
    d.docker(&[
        "update",
        "-m",
        "48m",
        "--memory-swap",
        "96m",
        "--pids-limit",
        "30",
        &id,
    ])
    .ok();
    d.docker(&["start", &id]).ok();
    assert_eq!(
        v1("memory", "berth", &id, "memory.limit_in_bytes"),
        (48 << 20).to_string()
    );
    assert_eq!(
        v1("memory", "berth", &id, "memory.memsw.limit_in_bytes"),
        (96 << 20).to_string()
    );
    assert_eq!(v1("pids", "berth", &id, "pids.max"), "30");
    d.docker(&["rm", "-f", &id]).ok();
}

#[test]
fn update_conflicts_get_dockers_messages() {
    let d = TestDaemon::with_busybox(&[]);
    let id = d
        .docker(&["create", "--cpus", "0.5", "-m", "32m", "busybox", "true"])
        .ok()
        .trim()
        .to_string();
    d.docker(&["update", "--cpu-period", "50000", &id]).fails_with(
        1,
        &format!(
            "Cannot update container {id}: Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set"
        ),
    );
    d.docker(&["update", "--cpu-quota", "50000", &id])
        .fails_with(
            1,
            "CPU Quota cannot be updated as NanoCPUs has already been set",
        );
    d.docker(&["update", "-m", "128m", &id]).fails_with(
        1,
        "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time",
    );
    let quota = d
        .docker(&["create", "--cpu-quota", "50000", "busybox", "true"])
        .ok()
        .trim()
        .to_string();
    d.docker(&["update", "--cpus", "1", &quota]).fails_with(
        1,
        "Nano CPUs cannot be updated as CPU Quota has already been set",
    );
    // Docker's range checks apply to an update too.
    d.docker(&["update", "-m", "1m", &id])
        .fails_with(1, "Minimum memory limit allowed is 6MB");
    d.docker(&["update", "--memory-reservation", "1m", &id])
        .fails_with(1, "Minimum memory reservation allowed is 6MB");
    // berth's own CLI: the same request, and docker's flag checks.
    d.berth(&["update", &id]).fails_with(
        1,
        "you must provide one or more flags when using this command",
    );
    let out = d.berth(&["update", "--cpu-shares", "256", &id]).ok();
    assert_eq!(out.trim(), id);
    assert_eq!(d.inspect(&id, "{{.HostConfig.CpuShares}}"), "256");
    let rm = d
        .docker(&["create", "--rm", "busybox", "true"])
        .ok()
        .trim()
        .to_string();
    d.docker(&["update", "--restart", "always", &rm]).fails_with(
        1,
        &format!(
            "Cannot update container {rm}: Restart policy cannot be updated because AutoRemove is enabled for the container"
        ),
    );
    d.docker(&["update", "-m", "64m", "nosuch"])
        .fails_with(1, "No such container: nosuch");
}

#[test]
fn runc_containers_are_updated_through_runc_update() {
    const RUNC: &str = "/usr/sbin/runc";
    assert!(
        std::path::Path::new(RUNC).exists(),
        "this test needs runc at {RUNC} (apt-get install runc)"
    );
    let add = format!("runc={RUNC}");
    let d = TestDaemon::with_busybox(&["--add-runtime", &add]);
    let id = sleeper(
        &d,
        &["--runtime", "runc", "-m", "32m", "--memory-swap", "64m"],
    );
    d.docker(&[
        "update",
        "-m",
        "48m",
        "--memory-swap",
        "96m",
        "--pids-limit",
        "40",
        &id,
    ])
    .ok();
    assert_eq!(
        v1("memory", "berth", &id, "memory.limit_in_bytes"),
        (48 << 20).to_string()
    );
    assert_eq!(v1("pids", "berth", &id, "pids.max"), "40");
    // runc's own state agrees (what a later runc update starts from).
    let state = d
        .exec_root
        .join("runtime-runc")
        .join(&id)
        .join("state.json");
    let text = std::fs::read_to_string(&state).unwrap_or_default();
    assert!(
        text.contains(&(48u64 << 20).to_string()),
        "{}",
        state.display()
    );
    d.docker(&["rm", "-f", &id]).ok();
}

#[test]
fn docker_py_updates_the_memory_limit() {
    let d = TestDaemon::with_busybox(&[]);
    let id = sleeper(&d, &["-m", "32m", "--memory-swap", "128m"]);
    let script = format!(
        "import docker\nc = docker.DockerClient(base_url='unix://{}')\nct = c.containers.get('{id}')\nprint(ct.update(mem_limit='64m'))\nct.reload()\nprint(ct.attrs['HostConfig']['Memory'])\n",
        d.socket.display()
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3");
    let out = common::Out::from(out).ok();
    assert_eq!(out, "{'Warnings': []}\n67108864\n");
    assert_eq!(
        v1("memory", "berth", &id, "memory.limit_in_bytes"),
        (64 << 20).to_string()
    );
    d.docker(&["rm", "-f", &id]).ok();
}

#[test]
fn build_steps_get_the_shm_size_asked_for() {
    let d = TestDaemon::with_busybox(&[]);
    let ctx = common::context(&[(
        "Dockerfile",
        "FROM busybox\nRUN busybox df -k /dev/shm | busybox tail -n 1 > /shm\n",
    )]);
    let dir = ctx.path().to_str().unwrap();
    d.docker_build(&["--shm-size", "32m", "-t", "shm32", dir])
        .ok();
    let out = d.docker(&["run", "--rm", "shm32", "cat", "/shm"]).ok();
    let kb: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(kb.get(1), Some(&"32768"), "{out}");
    let out = d.berth(&[
        "build",
        "--shm-size",
        "16m",
        "--no-cache",
        "-t",
        "shm16",
        dir,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = d.docker(&["run", "--rm", "shm16", "cat", "/shm"]).ok();
    assert_eq!(out.split_whitespace().nth(1), Some("16384"), "{out}");
}

#[test]
fn update_on_a_cgroup_v2_host_writes_the_unified_files_or_names_the_missing_controller() {
    let d = TestDaemon::start_cgroup2();
    d.import_busybox("busybox");
    let id = d
        .docker(&["run", "-d", "busybox", "sleep", "1000"])
        .ok()
        .trim()
        .to_string();
    let memory = d.docker(&["info", "--format", "{{.MemoryLimit}}"]).ok();
    let out = d.docker(&["update", "-m", "32m", "--memory-swap", "64m", &id]);
    let dir = std::path::Path::new("/sys/fs/cgroup/unified/berth").join(&id);
    if memory.trim() == "true" {
        out.ok();
        let max = std::fs::read_to_string(dir.join("memory.max")).unwrap();
        assert_eq!(max.trim(), (32 << 20).to_string());
        let swap = std::fs::read_to_string(dir.join("memory.swap.max")).unwrap();
        assert_eq!(
            swap.trim(),
            (32 << 20).to_string(),
            "swap apart from memory"
        );
    } else {
        // Here the memory controller is still bound to a v1 hierarchy of the host.
        out.fails_with(1, "berth cannot apply --memory on this host");
        assert_eq!(d.inspect(&id, "{{.HostConfig.Memory}}"), "0");
    }
    d.docker(&["rm", "-f", &id]).ok();
}

#[test]
fn berths_own_cli_sends_the_resource_flags_and_checks_them_as_docker_does() {
    let d = TestDaemon::with_busybox(&[]);
    let out = d.berth(&[
        "run",
        "-d",
        "--cpuset-cpus",
        "0",
        "--memory-reservation",
        "16m",
        "--cpu-period",
        "50000",
        "--cpu-quota",
        "25000",
        "busybox",
        "sleep",
        "1000",
    ]);
    let id = out.ok().trim().to_string();
    assert_eq!(v1("cpuset", "berth", &id, "cpuset.cpus"), "0");
    assert_eq!(
        v1("memory", "berth", &id, "memory.soft_limit_in_bytes"),
        (16 << 20).to_string()
    );
    assert_eq!(v1("cpu", "berth", &id, "cpu.cfs_quota_us"), "25000");
    assert_eq!(v1("cpu", "berth", &id, "cpu.cfs_period_us"), "50000");
    // As the docker CLI sends them: empty device lists, swappiness -1 ("unset").
    assert_eq!(
        d.inspect(
            &id,
            "{{json .HostConfig.BlkioWeightDevice}} {{.HostConfig.MemorySwappiness}}"
        ),
        "[] <nil>"
    );
    d.docker(&["rm", "-f", &id]).ok();
    for (flag, value, says) in [
        (
            "--device-read-bps",
            "sda:1mb",
            "bad format for device path: sda:1mb",
        ),
        (
            "--device-write-iops",
            "/dev/sda:x",
            "invalid rate for device: /dev/sda:x. The correct format is <device-path>:<number>. Number must be a positive integer",
        ),
        (
            "--blkio-weight-device",
            "/dev/sda:5",
            "invalid weight for device: /dev/sda:5",
        ),
    ] {
        d.berth(&["create", flag, value, "busybox", "true"])
            .fails_with(
                125,
                &format!("invalid argument \"{value}\" for \"{flag}\" flag: {says}"),
            );
    }
}

#[test]
fn real_time_cpu_limits_need_a_parent_with_a_budget() {
    let cpu = std::path::Path::new("/sys/fs/cgroup/cpu");
    assert!(
        cpu.join("cpu.rt_runtime_us").exists(),
        "this test needs a kernel with real-time group scheduling (cgroup v1 cpu.rt_runtime_us)"
    );
    let _clean = Parent("berth-test-rt");
    // A parent with a real-time budget, as an administrator gives one.
    std::fs::create_dir_all(cpu.join("berth-test-rt")).unwrap();
    std::fs::write(cpu.join("berth-test-rt/cpu.rt_runtime_us"), "100000").unwrap();
    let d = TestDaemon::with_busybox(&[]);
    let id = sleeper(
        &d,
        &[
            "--cgroup-parent",
            "berth-test-rt",
            "--cpu-rt-period",
            "1000000",
            "--cpu-rt-runtime",
            "50000",
        ],
    );
    assert_eq!(
        v1("cpu", "berth-test-rt", &id, "cpu.rt_runtime_us"),
        "50000"
    );
    assert_eq!(
        v1("cpu", "berth-test-rt", &id, "cpu.rt_period_us"),
        "1000000"
    );
    assert_eq!(
        d.inspect(
            &id,
            "{{.HostConfig.CpuRealtimePeriod}} {{.HostConfig.CpuRealtimeRuntime}}"
        ),
        "1000000 50000"
    );
    d.docker(&["update", "--cpu-rt-runtime", "60000", &id]).ok();
    assert_eq!(
        v1("cpu", "berth-test-rt", &id, "cpu.rt_runtime_us"),
        "60000"
    );
    d.docker(&["rm", "-f", &id]).ok();
    // Under berth's own parent, which has no budget: the kernel refuses at start.
    let out = d.docker(&["run", "--rm", "--cpu-rt-runtime", "1000", "busybox", "true"]);
    assert_eq!(out.code, 125, "{}", out.stderr);
    assert!(out.stderr.contains("rt_runtime_us"), "{}", out.stderr);
    d.docker(&[
        "create",
        "--cpu-rt-period",
        "1000",
        "--cpu-rt-runtime",
        "2000",
        "busybox",
        "true",
    ])
    .fails_with(
        1,
        "cpu real-time runtime cannot be higher than cpu real-time period",
    );
}
