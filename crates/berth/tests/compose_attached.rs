//! An attached `berth compose up` interrupted as a user does it (SIGINT, Ctrl-C): the
//! project is stopped gracefully, each service with its own stop signal, and `up` exits 130.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{BERTH, TestDaemon};

#[test]
fn ctrl_c_on_an_attached_up_stops_the_project_gracefully() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    let dir = common::context(&[(
        "compose.yaml",
        "name: intr\nservices:\n  app:\n    image: busybox\n    command: [\"sh\", \"-c\", \"trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done\"]\n  side:\n    image: busybox\n    command: sleep 1000\n    stop_signal: SIGKILL\n",
    )]);
    let mut up = Command::new(BERTH)
        .args(["-H", &d.host(), "compose", "up"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(up.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("app-1   | ready") {
        let mut line = String::new();
        assert_ne!(
            out.read_line(&mut line).unwrap(),
            0,
            "up ended early:\n{seen}"
        );
        seen.push_str(&line);
    }
    Command::new("kill")
        .args(["-INT", &up.id().to_string()])
        .status()
        .unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let status = up.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    assert!(
        rest.contains("Gracefully stopping... (press Ctrl+C again to force)"),
        "{rest}"
    );
    assert!(
        rest.contains("app-1   | got TERM"),
        "the stop signal reached the service: {rest}"
    );
    for c in ["intr-app-1", "intr-side-1"] {
        assert_eq!(d.inspect(c, "{{.State.Running}}"), "false", "{c} stopped");
    }
    assert_eq!(
        d.inspect("intr-app-1", "{{.State.ExitCode}}"),
        "0",
        "app ended on its own TERM handler"
    );
    d.compose_in(dir.path(), &[], &["down"]).ok();
}
