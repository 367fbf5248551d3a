//! Restart policies: Docker's decisions, back-off, counts and states; what stops them; and
//! containers started again when the daemon starts (after a daemon crash or a host reboot).

mod common;

use std::time::Duration;

use common::{TestDaemon, monitor_left, wait_for};

fn run_d(d: &TestDaemon, opts: &[&str], script: &str) -> String {
    let mut args = vec!["run", "-d"];
    args.extend(opts);
    args.extend(["busybox", "sh", "-c", script]);
    d.docker(&args).ok().trim().to_string()
}

/// The times (ns) of the container's `start` events.
fn starts(d: &TestDaemon, id: &str) -> Vec<u64> {
    d.events(&format!("container={id}"), "{{.Action}} {{.TimeNano}}")
        .lines()
        .filter_map(|l| l.strip_prefix("start "))
        .map(|t| t.parse().unwrap())
        .collect()
}

#[test]
fn on_failure_restarts_up_to_its_count_then_stays_exited() {
    let d = TestDaemon::with_busybox(&[]);
    let id = run_d(&d, &["--restart", "on-failure:2"], "exit 3");
    wait_for("the last exit", || {
        d.inspect(&id, "{{.State.Status}} {{.RestartCount}}") == "exited 2"
    });
    assert_eq!(d.inspect(&id, "{{.State.ExitCode}}"), "3");
    assert_eq!(starts(&d, &id).len(), 3, "the first run and two restarts");
    let dies = d.events(
        &format!("container={id}"),
        "{{.Action}} {{.Actor.Attributes.exitCode}} {{.Actor.Attributes.execDuration}}",
    );
    assert_eq!(
        dies.lines().filter(|l| l.starts_with("die 3 0")).count(),
        3,
        "{dies}"
    );
    // A successful exit is not a failure.
    let ok = run_d(&d, &["--restart", "on-failure"], "exit 0");
    d.docker(&["wait", &ok]).ok();
    assert_eq!(
        d.inspect(&ok, "{{.State.Status}} {{.RestartCount}}"),
        "exited 0"
    );
}

#[test]
fn always_backs_off_doubling_and_shows_restarting() {
    let d = TestDaemon::with_busybox(&[]);
    let id = run_d(&d, &["--restart", "always"], "exit 1");
    let mut seen_restarting = false;
    wait_for("five starts", || {
        let state = d.inspect(
            &id,
            "{{.State.Status}} {{.State.Running}} {{.State.Restarting}}",
        );
        if state == "restarting true true" {
            seen_restarting = true;
            let ps = d
                .docker(&[
                    "ps",
                    "--filter",
                    &format!("id={id}"),
                    "--format",
                    "{{.Status}}",
                ])
                .ok();
            // ps lists it without -a, as running; it may have started again meanwhile.
            assert!(
                ps.starts_with("Restarting (1) ") || ps.starts_with("Up ") || ps.is_empty(),
                "{ps:?}"
            );
        }
        starts(&d, &id).len() >= 5
    });
    assert!(seen_restarting, "never seen restarting");
    let t = starts(&d, &id);
    let gaps: Vec<u64> = t.windows(2).map(|w| (w[1] - w[0]) / 1_000_000).collect();
    // Back-offs of 100, 200, 400, 800 ms plus each run's own short life.
    for (gap, backoff) in gaps.iter().zip([100, 200, 400, 800]) {
        assert!(*gap >= backoff && *gap < backoff + 1500, "gaps {gaps:?}");
    }
    assert!(gaps[3] > gaps[1] + 400, "the back-off doubles: {gaps:?}");
    assert!(d.inspect(&id, "{{.RestartCount}}").parse::<u32>().unwrap() >= 4);
    // A user's stop ends it, wherever it was in its cycle, and a start counts afresh.
    d.docker(&["stop", "-t", "1", &id]).ok();
    assert_eq!(d.inspect(&id, "{{.State.Status}}"), "exited");
    let before = starts(&d, &id).len();
    std::thread::sleep(Duration::from_millis(1200)); // longer than the pending back-off
    assert_eq!(starts(&d, &id).len(), before, "restarted after a stop");
    assert_eq!(d.inspect(&id, "{{.State.Status}}"), "exited");
    d.docker(&["start", &id]).ok();
    let count: u32 = d.inspect(&id, "{{.RestartCount}}").parse().unwrap();
    assert!(count <= 1, "the count began again: {count}");
    wait_for("a restart after the start", || {
        starts(&d, &id).len() > before + 1
    });
    // The back-off began again too: 100 ms, where the stopped cycle was at 1.6 s.
    let t = starts(&d, &id);
    let gap = (t[before + 1] - t[before]) / 1_000_000;
    assert!(gap < 1500, "the back-off began again: {gap} ms");
}

#[test]
fn a_signal_other_than_the_stop_signal_does_not_cancel_the_policy() {
    let d = TestDaemon::with_busybox(&[]);
    let script = "trap 'exit 5' HUP; while true; do busybox sleep 0.05; done";
    let always = run_d(&d, &["--restart", "always"], script);
    let unless = run_d(&d, &["--restart", "unless-stopped"], script);
    for id in [&always, &unless] {
        d.docker(&["kill", "-s", "HUP", id]).ok();
    }
    wait_for("the restart", || {
        d.inspect(&always, "{{.State.Status}} {{.RestartCount}}") == "running 1"
    });
    // Any kill counts as a user's stop for unless-stopped.
    wait_for("the exit", || {
        d.inspect(&unless, "{{.State.Status}}") == "exited"
    });
    assert_eq!(
        d.inspect(&unless, "{{.State.ExitCode}} {{.RestartCount}}"),
        "5 0"
    );
    // SIGKILL ends `always` too.
    d.docker(&["kill", &always]).ok();
    wait_for("the exit", || {
        d.inspect(&always, "{{.State.Status}}") == "exited"
    });
    std::thread::sleep(Duration::from_millis(400)); // longer than the next back-off
    assert_eq!(
        d.inspect(&always, "{{.State.Status}} {{.RestartCount}}"),
        "exited 1"
    );
}

#[test]
fn the_daemon_starts_policy_containers_after_a_restart_and_a_reboot() {
    let mut d = TestDaemon::with_busybox(&[]);
    let forever = "busybox sleep 1000";
    let always = run_d(&d, &["--restart", "always"], forever);
    let unless = run_d(&d, &["--restart", "unless-stopped"], forever);
    let stopped_always = run_d(&d, &["--restart", "always"], forever);
    let stopped_unless = run_d(&d, &["--restart", "unless-stopped"], forever);
    let plain = run_d(&d, &[], forever);
    for id in [&stopped_always, &stopped_unless] {
        d.docker(&["stop", "-t", "0", id]).ok();
    }
    // A daemon restart: the running ones live on; `always` comes back even after a stop.
    d.stop();
    d.spawn();
    wait_for("stopped_always to run", || {
        d.inspect(&stopped_always, "{{.State.Status}}") == "running"
    });
    assert_eq!(d.inspect(&stopped_unless, "{{.State.Status}}"), "exited");
    // A reboot: daemon, monitors and containers gone at once.
    let pids: Vec<String> = [&always, &unless, &plain]
        .iter()
        .map(|id| d.inspect(id, "{{.State.Pid}}"))
        .collect();
    d.kill9();
    let root = d.root.display().to_string();
    std::process::Command::new("pkill")
        .args(["-9", "-f", &format!("monitor.*{root}")])
        .status()
        .unwrap();
    for p in &pids {
        let _ = std::process::Command::new("kill").args(["-9", p]).status();
    }
    d.spawn();
    for id in [&always, &unless, &stopped_always] {
        wait_for("a policy container to run", || {
            d.inspect(id, "{{.State.Status}}") == "running"
        });
    }
    wait_for("the plain container's exit", || {
        d.inspect(&plain, "{{.State.Status}}") == "exited"
    });
    assert_eq!(d.inspect(&plain, "{{.State.ExitCode}}"), "255");
    assert_eq!(d.inspect(&stopped_unless, "{{.State.Status}}"), "exited");
}

#[test]
fn docker_refuses_what_it_refuses() {
    let d = TestDaemon::with_busybox(&[]);
    d.docker(&["create", "--restart", "sometimes", "busybox"]).fails_with(
        1,
        "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'",
    );
    d.docker(&["create", "--restart", "always:3", "busybox"])
        .fails_with(
            1,
            "invalid restart policy: maximum retry count can only be used with 'on-failure'",
        );
    d.docker(&["create", "--restart", "on-failure:-1", "busybox"])
        .fails_with(
            1,
            "invalid restart policy: maximum retry count cannot be negative",
        );
    let body = br#"{"Image":"busybox","HostConfig":{"AutoRemove":true,"RestartPolicy":{"Name":"always"}}}"#;
    let (status, _, resp) = d.http("POST", "/containers/create", body);
    assert_eq!(status, 400, "{resp}");
    assert!(
        resp.contains("can't create 'AutoRemove' container with restart policy"),
        "{resp}"
    );
    d.berth(&["create", "--rm", "--restart", "always", "busybox"])
        .fails_with(
            1,
            "conflicting options: cannot specify both --restart and --rm",
        );
    d.berth(&["create", "--restart", "on-failure:x", "busybox"])
        .fails_with(1, "maximum retry count must be an integer");
}

#[test]
fn restart_of_an_auto_remove_container_keeps_it() {
    let d = TestDaemon::with_busybox(&[]);
    let id = run_d(&d, &["--rm"], "busybox sleep 1000");
    d.docker(&["restart", "-t", "0", &id]).ok();
    assert_eq!(d.inspect(&id, "{{.State.Status}}"), "running");
    let actions = d.events(&format!("container={id}"), "{{.Action}}");
    assert!(actions.contains("restart"), "{actions}");
}

#[test]
fn docker_py_sets_a_policy_and_reads_the_count() {
    let d = TestDaemon::with_busybox(&[]);
    let script = format!(
        r#"
import docker, time
c = docker.DockerClient(base_url="{}")
ct = c.containers.run("busybox", ["sh", "-c", "exit 7"], detach=True,
                      restart_policy={{"Name": "on-failure", "MaximumRetryCount": 1}})
deadline = time.time() + 30
while True:
    ct.reload()
    if ct.attrs["State"]["Status"] == "exited" and ct.attrs["RestartCount"] == 1:
        break
    assert time.time() < deadline, ct.attrs["State"]
    time.sleep(0.05)
print(ct.attrs["HostConfig"]["RestartPolicy"], ct.attrs["State"]["ExitCode"])
"#,
        d.host()
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    let out = common::Out::from(out).ok();
    assert_eq!(
        out.trim(),
        "{'Name': 'on-failure', 'MaximumRetryCount': 1} 7"
    );
}

#[test]
fn update_changes_the_policy_of_the_next_exit() {
    let d = TestDaemon::with_busybox(&[]);
    let id = run_d(
        &d,
        &[],
        "trap 'exit 4' TERM; while true; do busybox sleep 0.05; done",
    );
    d.docker(&["update", "--restart", "on-failure:1", &id]).ok();
    assert_eq!(
        d.inspect(
            &id,
            "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}"
        ),
        "on-failure 1"
    );
    // Its own exit (not a user's stop) follows the new policy.
    let pid = d.inspect(&id, "{{.State.Pid}}");
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    wait_for("the restart", || {
        d.inspect(&id, "{{.State.Status}} {{.RestartCount}}") == "running 1"
    });
    let rm = run_d(&d, &["--rm"], "busybox sleep 1000");
    d.docker(&["update", "--restart", "always", &rm])
        .fails_with(
            1,
            "Restart policy cannot be updated because AutoRemove is enabled for the container",
        );
}

#[test]
fn rm_force_at_any_point_of_a_restart_cycle_leaves_no_monitor() {
    let d = TestDaemon::with_busybox(&[]);
    let ids: Vec<String> = (0..8)
        .map(|_| run_d(&d, &["--restart", "always"], "exit 1"))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        // Somewhere in the cycle: running, waiting out a back-off, or starting again.
        std::thread::sleep(Duration::from_millis(37 * i as u64));
        d.docker(&["rm", "-f", id]).ok();
    }
    std::thread::sleep(Duration::from_millis(1000)); // longer than any pending back-off
    for id in &ids {
        assert!(!monitor_left(id), "a monitor outlived {id}");
        d.docker(&["inspect", id]).fails_with(1, "No such object");
    }
}
