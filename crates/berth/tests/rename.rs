//! `rename` and the `ps` filters that name another container (`before`, `since`) or ask for
//! swarm tasks (`is-task`).

mod common;

use common::TestDaemon;

#[test]
fn rename_moves_the_name_and_says_so() {
    let d = TestDaemon::with_busybox(&[]);
    let id = d
        .docker(&["create", "--name", "alpha", "busybox", "true"])
        .ok();
    let id = id.trim();
    d.docker(&["rename", "alpha", "beta"]).ok();
    assert_eq!(d.inspect(id, "{{.Name}}"), "/beta");
    d.docker(&["inspect", "alpha"])
        .fails_with(1, "No such object: alpha");
    let ev = d.events(
        "event=rename",
        "{{.Actor.Attributes.oldName}} {{.Actor.Attributes.name}}",
    );
    assert_eq!(ev.trim(), "/alpha beta");
    // The old name is free, the new one taken.
    d.docker(&["create", "--name", "alpha", "busybox", "true"])
        .ok();
    d.docker(&["rename", "alpha", "beta"]).fails_with(
        1,
        &format!("Error when allocating new name: Conflict. The container name \"/beta\" is already in use by container \"{id}\""),
    );
    d.docker(&["rename", "beta", "beta"]).fails_with(
        1,
        "Renaming a container with the same name as its current name",
    );
    d.docker(&["rename", "beta", "no good"]).fails_with(
        1,
        "Invalid container name (no good), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
    );
    d.docker(&["rename", "nope", "c"])
        .fails_with(1, "No such container: nope");
    let (status, _, body) = d.http("POST", "/containers/beta/rename", b"");
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("Neither old nor new names may be empty"),
        "{body}"
    );
    // berth's CLI too, and a running container keeps running under its new name.
    d.docker(&[
        "run", "-d", "--name", "up", "busybox", "busybox", "sleep", "100",
    ])
    .ok();
    d.berth(&["rename", "up", "still-up"]).ok();
    assert_eq!(d.inspect("still-up", "{{.State.Status}}"), "running");
    d.docker(&["exec", "still-up", "true"]).ok();
}

#[test]
fn ps_filters_before_since_and_is_task() {
    let d = TestDaemon::with_busybox(&[]);
    for n in ["one", "two", "three"] {
        d.docker(&["create", "--name", n, "busybox", "true"]).ok();
    }
    let names = |filter: &str| {
        d.docker(&["ps", "-a", "--filter", filter, "--format", "{{.Names}}"])
            .ok()
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(names("before=three"), ["two", "one"]);
    assert_eq!(names("since=one"), ["three", "two"]);
    assert_eq!(names("before=two"), ["one"]);
    assert!(names("is-task=true").is_empty());
    assert_eq!(names("is-task=false").len(), 3);
    d.docker(&["ps", "--filter", "before=nope"])
        .fails_with(1, "No such container: nope");
    d.docker(&["ps", "--filter", "is-task=maybe"])
        .fails_with(1, "invalid filter 'is-task=[maybe]'");
    // `-n` shows the newest, stopped or not.
    assert_eq!(
        d.docker(&["ps", "-n", "1", "--format", "{{.Names}}"])
            .ok()
            .trim(),
        "three"
    );
}
