//! Pause and unpause: the cgroup freezer on v1 and v2, Docker's states and refusals, and what
//! still reaches a paused container (stop, kill, rm -f, commit, a daemon restart).

mod common;

use common::TestDaemon;

const LOOP: &str = "while true; do busybox sleep 0.05; done";

fn run_loop(d: &TestDaemon, name: &str) -> String {
    d.docker(&["run", "-d", "--name", name, "busybox", "sh", "-c", LOOP])
        .ok()
        .trim()
        .to_string()
}

/// The freezer's word for the container's cgroup: `FROZEN`/`THAWED` (v1), `1`/`0` (v2).
fn frozen(id: &str, v2: bool) -> String {
    let path = if v2 {
        format!("/sys/fs/cgroup/unified/berth/{id}/cgroup.freeze")
    } else {
        format!("/sys/fs/cgroup/freezer/berth/{id}/freezer.state")
    };
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim()
        .to_string()
}

#[test]
fn pause_freezes_and_unpause_thaws_with_dockers_states() {
    let mut d = TestDaemon::with_busybox(&[]);
    let id = run_loop(&d, "pz");
    assert_eq!(d.docker(&["pause", "pz"]).ok(), "pz\n");
    assert_eq!(frozen(&id, false), "FROZEN");
    assert_eq!(
        d.inspect(
            "pz",
            "{{.State.Status}} {{.State.Running}} {{.State.Paused}}"
        ),
        "paused true true"
    );
    let ps = d.docker(&["ps", "--format", "{{.Names}} {{.Status}}"]).ok();
    assert!(
        ps.starts_with("pz Up ") && ps.trim_end().ends_with("(Paused)"),
        "{ps}"
    );
    let only = |status: &str| {
        d.docker(&["ps", "-q", "--filter", &format!("status={status}")])
            .ok()
    };
    assert!(!only("paused").is_empty());
    assert!(only("running").is_empty());
    d.docker(&["exec", "pz", "true"]).fails_with(
        1,
        &format!("Container {id} is paused, unpause the container before exec"),
    );
    d.docker(&["pause", "pz"])
        .fails_with(1, &format!("container {id} is already paused"));
    d.docker(&["rm", "pz"]).fails_with(
        1,
        &format!("You cannot remove a paused container {id}. Unpause and then stop the container before attempting removal or force remove"),
    );
    d.docker(&["start", "pz"])
        .fails_with(1, "cannot start a paused container, try unpause instead");
    // A commit of a paused container leaves it paused.
    d.docker(&["commit", "pz", "snap"]).ok();
    assert_eq!(frozen(&id, false), "FROZEN");
    let paused = d.events("container=pz", "{{.Action}}");
    assert_eq!(
        paused
            .lines()
            .filter(|a| a.ends_with("pause"))
            .collect::<Vec<_>>(),
        ["pause"]
    );
    // So does a daemon restart.
    d.stop();
    d.spawn();
    assert_eq!(d.inspect("pz", "{{.State.Paused}}"), "true");
    assert_eq!(frozen(&id, false), "FROZEN");
    assert_eq!(d.docker(&["unpause", "pz"]).ok(), "pz\n");
    assert_eq!(frozen(&id, false), "THAWED");
    assert_eq!(d.inspect("pz", "{{.State.Status}}"), "running");
    d.docker(&["exec", "pz", "true"]).ok();
    d.docker(&["unpause", "pz"])
        .fails_with(1, &format!("Container {id} is not paused"));
    let actions = d.events("container=pz", "{{.Action}}");
    let actions: Vec<&str> = actions.lines().filter(|a| a.ends_with("pause")).collect();
    assert_eq!(actions, ["unpause"], "events of the restarted daemon");
    d.docker(&["create", "--name", "idle", "busybox", "true"])
        .ok();
    d.docker(&["pause", "idle"]).fails_with(1, "is not running");
}

#[test]
fn stop_kill_and_rm_force_reach_a_paused_container() {
    let d = TestDaemon::with_busybox(&[]);
    for name in ["stopme", "killme", "rmme"] {
        run_loop(&d, name);
        d.docker(&["pause", name]).ok();
    }
    d.docker(&["stop", "-t", "1", "stopme"]).ok();
    assert_eq!(
        d.inspect("stopme", "{{.State.Status}} {{.State.Paused}}"),
        "exited false"
    );
    d.docker(&["kill", "killme"]).ok();
    d.docker(&["wait", "killme"]).ok();
    assert_eq!(
        d.inspect("killme", "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 137"
    );
    d.docker(&["rm", "-f", "rmme"]).ok();
    d.docker(&["inspect", "rmme"])
        .fails_with(1, "No such object: rmme");
}

#[test]
fn pause_works_on_a_cgroup_v2_host() {
    let d = TestDaemon::start_cgroup2();
    d.import_busybox("busybox");
    let id = run_loop(&d, "v2");
    d.docker(&["pause", "v2"]).ok();
    assert_eq!(frozen(&id, true), "1");
    d.docker(&["exec", "v2", "true"]).fails_with(1, "is paused");
    d.docker(&["unpause", "v2"]).ok();
    assert_eq!(frozen(&id, true), "0");
    d.docker(&["exec", "v2", "true"]).ok();
}
