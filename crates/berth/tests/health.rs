//! Healthchecks: probes run by the container's monitor, Docker's states, results, events and
//! filters; and berth's `--health-on-failure` acting on an unhealthy container.

mod common;

use std::time::Duration;

use common::{TestDaemon, monitor_left, wait_for};

fn run_d(d: &TestDaemon, opts: &[&str]) -> String {
    let mut args = vec!["run", "-d"];
    args.extend(opts);
    args.extend(["busybox", "busybox", "sleep", "1000"]);
    d.docker(&args).ok().trim().to_string()
}

fn health(d: &TestDaemon, id: &str) -> serde_json::Value {
    serde_json::from_str(&d.inspect(id, "{{json .State.Health}}")).unwrap()
}

#[test]
fn failing_probes_make_it_unhealthy_and_passing_ones_healthy() {
    let d = TestDaemon::with_busybox(&[]);
    let sick = run_d(
        &d,
        &[
            "--health-cmd",
            "echo no; exit 1",
            "--health-interval",
            "50ms",
            "--health-retries",
            "2",
        ],
    );
    let fine = run_d(&d, &["--health-cmd", "true", "--health-interval", "50ms"]);
    let waiting = run_d(&d, &["--health-cmd", "true", "--health-interval", "1h"]);
    assert_eq!(d.inspect(&waiting, "{{.State.Health.Status}}"), "starting");
    assert!(
        d.docker(&[
            "ps",
            "--filter",
            &format!("id={waiting}"),
            "--format",
            "{{.Status}}"
        ])
        .ok()
        .contains("(health: starting)")
    );
    wait_for("unhealthy", || health(&d, &sick)["Status"] == "unhealthy");
    wait_for("healthy", || health(&d, &fine)["Status"] == "healthy");
    wait_for("a full log", || {
        health(&d, &sick)["Log"].as_array().unwrap().len() == 5
    });
    let h = health(&d, &sick);
    assert!(h["FailingStreak"].as_u64().unwrap() >= 5, "{h}");
    let last = &h["Log"][4];
    assert_eq!(
        (last["ExitCode"].as_i64(), last["Output"].as_str()),
        (Some(1), Some("no\n"))
    );
    assert!(last["Start"].as_str().unwrap() <= last["End"].as_str().unwrap());
    let status = |id: &str| {
        d.docker(&[
            "ps",
            "--filter",
            &format!("id={id}"),
            "--format",
            "{{.Status}}",
        ])
        .ok()
    };
    assert!(
        status(&sick).trim_end().ends_with("(unhealthy)"),
        "{}",
        status(&sick)
    );
    assert!(
        status(&fine).trim_end().ends_with("(healthy)"),
        "{}",
        status(&fine)
    );
    let filtered = |v: &str| {
        d.docker(&["ps", "-q", "--no-trunc", "--filter", &format!("health={v}")])
            .ok()
    };
    assert_eq!(filtered("unhealthy").trim(), sick);
    assert_eq!(filtered("healthy").trim(), fine);
    assert_eq!(filtered("starting").trim(), waiting);
    d.docker(&["ps", "--filter", "health=meh"]).fails_with(
        1,
        "invalid value for health (meh): must be one of none, starting, healthy, unhealthy",
    );
    let events = d.events(
        "event=health_status",
        "{{.Action}} {{.Actor.Attributes.name}}",
    );
    assert!(events.contains("health_status: unhealthy"), "{events}");
    assert!(events.contains("health_status: healthy"), "{events}");
    // A container without a healthcheck has no Health, and is `none` to the filter.
    let plain = run_d(&d, &[]);
    assert_eq!(d.inspect(&plain, "{{json .State.Health}}"), "null");
    assert_eq!(filtered("none").trim(), plain);
}

#[test]
fn timeouts_start_periods_and_long_output_follow_dockers_rules() {
    let d = TestDaemon::with_busybox(&[]);
    let slow = run_d(
        &d,
        &[
            "--health-cmd",
            "busybox sleep 5",
            "--health-timeout",
            "200ms",
            "--health-interval",
            "50ms",
        ],
    );
    // The stock CLI sends --health-start-interval only to API 1.44 daemons: berth's own does.
    let patient = d
        .berth(&[
            "run",
            "-d",
            "--health-cmd",
            "exit 1",
            "--health-start-period",
            "1h",
            "--health-start-interval",
            "50ms",
            "--health-retries",
            "1",
            "busybox",
            "busybox",
            "sleep",
            "1000",
        ])
        .ok();
    let patient = patient.trim();
    let loud = run_d(
        &d,
        &[
            "--health-cmd",
            "busybox head -c 6000 /dev/zero | busybox tr '\\0' x",
            "--health-interval",
            "50ms",
        ],
    );
    wait_for("a timed-out probe", || {
        !health(&d, &slow)["Log"].as_array().unwrap().is_empty()
    });
    let r = &health(&d, &slow)["Log"][0];
    assert_eq!(r["ExitCode"], -1);
    assert_eq!(r["Output"], "Health check exceeded timeout (200ms)");
    wait_for("three probes", || {
        health(&d, patient)["Log"].as_array().unwrap().len() >= 3
    });
    let h = health(&d, patient);
    assert_eq!(
        (h["Status"].as_str(), h["FailingStreak"].as_u64()),
        (Some("starting"), Some(0))
    );
    wait_for("a loud probe", || health(&d, &loud)["Status"] == "healthy");
    assert_eq!(
        health(&d, &loud)["Log"][0]["Output"]
            .as_str()
            .unwrap()
            .len(),
        4096
    );
}

#[test]
fn the_image_healthcheck_applies_unless_disabled() {
    let d = TestDaemon::with_busybox(&[]);
    let ctx = common::context(&[(
        "Dockerfile",
        "FROM busybox\nHEALTHCHECK --interval=50ms --retries=1 CMD [\"busybox\", \"false\"]\n",
    )]);
    d.docker_build(&["-q", "-t", "checked", ctx.path().to_str().unwrap()])
        .ok();
    let run = |opts: &[&str]| {
        let mut args = vec!["run", "-d"];
        args.extend(opts);
        args.extend(["checked", "busybox", "sleep", "1000"]);
        d.docker(&args).ok().trim().to_string()
    };
    let by_image = run(&[]);
    wait_for("unhealthy", || {
        health(&d, &by_image)["Status"] == "unhealthy"
    });
    // The container's flags override field by field; the image's test stays.
    let tuned = run(&["--health-retries", "1000"]);
    assert_eq!(
        d.inspect(&tuned, "{{json .Config.Healthcheck}}"),
        r#"{"Test":["CMD","busybox","false"],"Interval":50000000,"Retries":1000}"#
    );
    let off = run(&["--no-healthcheck"]);
    assert_eq!(d.inspect(&off, "{{json .State.Health}}"), "null");
    d.docker(&[
        "run",
        "--no-healthcheck",
        "--health-retries",
        "1",
        "checked",
    ])
    .fails_with(125, "--no-healthcheck conflicts with --health-* options");
    d.docker(&["create", "--health-interval", "1us", "checked", "true"])
        .fails_with(1, "Interval in Healthcheck cannot be less than 1ms");
}

#[test]
fn health_on_failure_acts_on_an_unhealthy_container() {
    let d = TestDaemon::with_busybox(&[]);
    let sick = [
        "--health-cmd",
        "exit 1",
        "--health-interval",
        "50ms",
        "--health-retries",
        "1",
    ];
    let with = |action: &str, more: &[&str]| {
        let mut opts = sick.to_vec();
        let label = format!("berth.health-on-failure={action}");
        opts.extend(["--label", &label]);
        opts.extend(more);
        run_d(&d, &opts)
    };
    // kill is not a user's stop: the restart policy starts it again.
    let killed = with("kill", &["--restart", "on-failure:1"]);
    wait_for("a restart", || {
        d.inspect(&killed, "{{.RestartCount}}") == "1"
    });
    wait_for("the last exit", || {
        d.inspect(&killed, "{{.State.Status}}") == "exited"
    });
    assert_eq!(d.inspect(&killed, "{{.State.ExitCode}}"), "137");
    // stop is: it stays down whatever its policy.
    let stopped = with(
        "stop",
        &["--restart", "unless-stopped", "--stop-timeout", "1"],
    );
    wait_for("the stop", || {
        d.inspect(&stopped, "{{.State.Status}}") == "exited"
    });
    assert_eq!(d.inspect(&stopped, "{{.RestartCount}}"), "0");
    // restart is `docker restart`.
    let restarted = with("restart", &[]);
    wait_for("a restart event", || {
        d.events(&format!("container={restarted}"), "{{.Action}}")
            .contains("restart")
    });
    // berth's flag sets the label.
    let by_flag = d
        .berth(&[
            "run",
            "-d",
            "--health-cmd",
            "exit 1",
            "--health-interval",
            "50ms",
            "--health-retries",
            "1",
            "--health-on-failure",
            "stop",
            "--stop-timeout",
            "1",
            "busybox",
            "busybox",
            "sleep",
            "1000",
        ])
        .ok();
    let by_flag = by_flag.trim();
    assert_eq!(
        d.inspect(
            by_flag,
            "{{index .Config.Labels \"berth.health-on-failure\"}}"
        ),
        "stop"
    );
    wait_for("the stop", || {
        d.inspect(by_flag, "{{.State.Status}}") == "exited"
    });
    d.docker(&[
        "create",
        "--label",
        "berth.health-on-failure=explode",
        "busybox",
        "true",
    ])
    .fails_with(1, "invalid value for berth.health-on-failure: \"explode\"");
}

#[test]
fn docker_py_sets_a_healthcheck() {
    let d = TestDaemon::with_busybox(&[]);
    let script = format!(
        r#"
import docker, time
c = docker.DockerClient(base_url="{}")
ct = c.containers.run("busybox", ["busybox", "sleep", "1000"], detach=True,
                      healthcheck={{"test": ["CMD", "true"], "interval": 50000000}})
deadline = time.time() + 30
while True:
    ct.reload()
    if ct.attrs["State"]["Health"]["Status"] == "healthy":
        break
    assert time.time() < deadline, ct.attrs["State"]
    time.sleep(0.05)
print(ct.attrs["Config"]["Healthcheck"]["Test"])
"#,
        d.host()
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert_eq!(common::Out::from(out).ok().trim(), "['CMD', 'true']");
}

#[test]
fn probes_go_on_across_a_daemon_restart_and_the_new_daemon_acts() {
    let mut d = TestDaemon::with_busybox(&[]);
    let id = run_d(
        &d,
        &[
            "--health-cmd",
            "test ! -e /sick",
            "--health-interval",
            "50ms",
            "--health-retries",
            "1",
            "--label",
            "berth.health-on-failure=stop",
            "--stop-timeout",
            "1",
        ],
    );
    wait_for("healthy", || health(&d, &id)["Status"] == "healthy");
    d.kill9();
    d.spawn();
    assert_eq!(d.inspect(&id, "{{.State.Health.Status}}"), "healthy");
    d.docker(&["exec", &id, "touch", "/sick"]).ok();
    wait_for("the stop", || {
        d.inspect(&id, "{{.State.Status}}") == "exited"
    });
    assert_eq!(d.inspect(&id, "{{.State.Health.Status}}"), "unhealthy");
    let events = d.events(&format!("container={id}"), "{{.Action}}");
    assert!(events.contains("health_status: unhealthy"), "{events}");
}

#[test]
fn rm_force_wins_over_a_health_action_restarting_the_container() {
    let d = TestDaemon::with_busybox(&[]);
    let id = run_d(
        &d,
        &[
            "--health-cmd",
            "exit 1",
            "--health-interval",
            "50ms",
            "--health-retries",
            "1",
            "--stop-timeout",
            "0",
            "--label",
            "berth.health-on-failure=restart",
        ],
    );
    wait_for("a restart by the action", || {
        d.events(&format!("container={id}"), "{{.Action}}")
            .contains("restart")
    });
    d.docker(&["rm", "-f", &id]).ok();
    std::thread::sleep(Duration::from_millis(500)); // a restart in flight would start by now
    assert!(!monitor_left(&id), "a monitor outlived the removal");
    d.docker(&["inspect", &id]).fails_with(1, "No such object");
}
