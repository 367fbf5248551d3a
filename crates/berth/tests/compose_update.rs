//! `deploy.update_config` and `berth compose rollback` on one host: a client asks for the
//! service by name the whole time, through a start-first update, a failed update (rolled
//! back) and a rollback, and not one request fails.

mod common;

use common::{Out, TestDaemon};
use std::path::Path;

const STACK: &str = r#"
name: rolling
services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo $$V > /www/index.html && exec busybox httpd -f -p $$P -h /www"]
    environment:
      V: ${V:-v1}
      P: ${P:-80}
    stop_grace_period: 2s
    healthcheck:
      test: ["CMD", "busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"]
      interval: 200ms
      retries: 5
    deploy:
      update_config: {order: start-first, monitor: 500ms, failure_action: rollback}
      rollback_config: {order: start-first, monitor: 500ms}
"#;

/// `berth compose ARGS` in `dir` with `env`.
fn compose(d: &TestDaemon, dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Out {
    d.compose_in(dir, env, args)
}

#[test]
fn updates_failed_updates_and_rollbacks_lose_no_request() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let dir = common::context(&[("compose.yaml", STACK)]);
    compose(&d, dir.path(), &[], &["up", "-d", "--wait"]).ok();
    let client = "while true; do busybox wget -q -O- http://web/ 2>&1 || echo FAIL; done";
    d.docker(&[
        "run",
        "-d",
        "--name",
        "client",
        "--network",
        "rolling_default",
        "busybox",
        "sh",
        "-c",
        client,
    ])
    .ok();
    let served = || d.docker(&["logs", "client"]).ok();
    let last_is = |v: &str| served().lines().last() == Some(v);
    common::wait_for("v1 to be served", || last_is("v1"));

    let up = compose(&d, dir.path(), &[("V", "v2")], &["up", "-d"]);
    assert_eq!(up.code, 0, "{up:?}");
    assert!(
        up.stderr.contains(" Container rolling-web-1 Recreated "),
        "{up:?}"
    );
    common::wait_for("v2 to be served", || last_is("v2"));
    assert_eq!(
        d.docker(&[
            "ps",
            "-q",
            "--filter",
            "label=com.docker.compose.service=web"
        ])
        .ok()
        .lines()
        .count(),
        1
    );

    // v3 listens on the wrong port: never healthy, so the update is undone and v2 serves on.
    let bad = compose(&d, dir.path(), &[("V", "v3"), ("P", "81")], &["up", "-d"]);
    assert_eq!(bad.code, 1, "{bad:?}");
    assert!(
        bad.stderr
            .contains("update failed, rolled back: container rolling-web-1-"),
        "{bad:?}"
    );
    assert!(last_is("v2"));

    let back = compose(&d, dir.path(), &[("V", "v2")], &["rollback", "web"]);
    assert_eq!(back.code, 0, "{back:?}");
    common::wait_for("v1 to be served again", || last_is("v1"));
    let env = d.inspect("rolling-web-1", "{{json .Config.Env}}");
    assert!(
        env.contains("V=v1"),
        "the configuration before the update: {env}"
    );

    let log = served();
    let answers: Vec<&str> = log.lines().collect();
    assert!(
        answers.len() > 100,
        "the client kept asking: {} answers",
        answers.len()
    );
    let bad: Vec<&&str> = answers
        .iter()
        .filter(|l| !["v1", "v2"].contains(l))
        .collect();
    assert!(
        bad.is_empty(),
        "failed requests: {} of {}: {:?}",
        bad.len(),
        answers.len(),
        &bad[..bad.len().min(5)]
    );
    d.docker(&["rm", "-f", "client"]).ok();
    compose(&d, dir.path(), &[], &["down"]).ok();
}
