//! `berth compose` end to end, as a user runs it from a project directory: stacks brought up
//! and checked from outside (HTTP on a published port, DNS from another container, health
//! states, volumes across `down` and `down -v`), recreate on change, scale, profiles and `.env`,
//! an attached `up` that aborts with a service's exit code, builds, errors that name file and
//! line and leave the engine untouched, and docker-compose 1.29 seeing the same project.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Out, TestDaemon};

/// `berth compose ARGS` run in `dir`.
fn compose(d: &TestDaemon, dir: &Path, args: &[&str]) -> Out {
    d.compose_in(dir, &[], args)
}

/// A project directory with `files`.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    common::context(files)
}

/// Every compose project makes a bridge network: each test's daemon has a namespace of its own.
fn busybox_in_netns() -> TestDaemon {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    d
}

fn names(d: &TestDaemon, filter: &str) -> Vec<String> {
    let out = d
        .docker(&["ps", "-a", "--filter", filter, "--format", "{{.Names}}"])
        .ok();
    let mut v: Vec<String> = out.lines().map(str::to_string).collect();
    v.sort();
    v
}

const WEB_STACK: &str = r#"
name: shop
services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && cat /data/greeting > /www/index.html && exec busybox httpd -f -p 80 -h /www"]
    ports: ["8080:80"]
    volumes: ["data:/data"]
    depends_on:
      seed:
        condition: service_completed_successfully
    healthcheck:
      test: ["CMD", "busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"]
      interval: 200ms
      retries: 20
  seed:
    image: busybox
    command: ["sh", "-c", "test -f /data/greeting || echo hello from compose > /data/greeting"]
    volumes: ["data:/data"]
  client:
    image: busybox
    command: ["sleep", "1000"]
    depends_on:
      web:
        condition: service_healthy
volumes:
  data:
"#;

#[test]
fn a_stack_comes_up_in_order_answers_from_outside_and_down_removes_exactly_what_up_made() {
    let d = busybox_in_netns();
    let dir = project(&[("compose.yaml", WEB_STACK)]);
    let up = compose(&d, dir.path(), &["up", "-d"]);
    assert_eq!(up.code, 0, "{up:?}");
    for line in [
        " Network shop_default Created ",
        " Volume shop_data Created ",
        " Container shop-seed-1 Exited ",
        " Container shop-web-1 Healthy ",
        " Container shop-client-1 Started ",
    ] {
        assert!(up.stderr.contains(line), "{line:?} missing:\n{}", up.stderr);
    }
    assert_eq!(d.fetch("http://127.0.0.1:8080/"), "hello from compose\n");
    // The service name resolves through the embedded DNS from another container.
    let got = d.docker(&[
        "exec",
        "shop-client-1",
        "busybox",
        "wget",
        "-q",
        "-O-",
        "http://web/",
    ]);
    assert_eq!(got.ok(), "hello from compose\n");
    let ps = compose(&d, dir.path(), &["ps"]).ok();
    let header = ps.lines().next().unwrap();
    assert!(
        header.starts_with("NAME ") && header.contains(" SERVICE ") && header.contains(" PORTS"),
        "{ps}"
    );
    assert!(
        ps.contains("shop-web-1")
            && ps.contains("(healthy)")
            && ps.contains("0.0.0.0:8080->80/tcp"),
        "{ps}"
    );
    assert!(
        !ps.contains("shop-seed-1"),
        "ps lists running containers only:\n{ps}"
    );
    assert!(
        compose(&d, dir.path(), &["ps", "-a"])
            .ok()
            .contains("shop-seed-1")
    );
    assert_eq!(
        compose(&d, dir.path(), &["port", "web", "80"]).ok(),
        "0.0.0.0:8080\n"
    );
    assert!(
        compose(&d, dir.path(), &["top", "web"])
            .ok()
            .contains("httpd")
    );
    let images = compose(&d, dir.path(), &["images", "web"]).ok();
    assert!(
        images.contains("shop-web-1   busybox      latest"),
        "{images}"
    );
    std::fs::write(dir.path().join("page.html"), "copied in\n").unwrap();
    compose(&d, dir.path(), &["cp", "page.html", "web:/www/page.html"]).ok();
    assert_eq!(d.fetch("http://127.0.0.1:8080/page.html"), "copied in\n");
    assert_eq!(
        compose(&d, dir.path(), &["ls"])
            .ok()
            .lines()
            .nth(1)
            .unwrap()
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>(),
        ["shop", "running(2)"]
    );

    // down keeps the named volume; the next up finds the data (seed leaves it alone).
    d.docker(&[
        "exec",
        "shop-web-1",
        "sh",
        "-c",
        "echo changed > /data/greeting",
    ])
    .ok();
    compose(&d, dir.path(), &["down"]).ok();
    assert!(names(&d, "label=com.docker.compose.project=shop").is_empty());
    assert!(
        d.docker(&["network", "ls", "--format", "{{.Name}}"])
            .ok()
            .lines()
            .all(|n| n != "shop_default")
    );
    assert_eq!(d.docker(&["volume", "ls", "-q"]).ok().trim(), "shop_data");
    compose(&d, dir.path(), &["up", "-d"]).ok();
    assert_eq!(d.fetch("http://127.0.0.1:8080/"), "changed\n");
    compose(&d, dir.path(), &["down", "-v"]).ok();
    assert_eq!(d.docker(&["volume", "ls", "-q"]).ok().trim(), "");
}

#[test]
fn only_changed_services_are_recreated_and_scale_gives_dns_round_robin() {
    let d = busybox_in_netns();
    let file = |greeting: &str| {
        format!(
            "services:\n  api:\n    image: busybox\n    command: sleep 1000\n    environment:\n      GREETING: {greeting}\n  db:\n    image: busybox\n    command: sleep 1000\n"
        )
    };
    let dir = project(&[("compose.yaml", &file("one"))]);
    let p = dir
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_lowercase();
    compose(&d, dir.path(), &["up", "-d"]).ok();
    let id = |n: &str| d.inspect(&format!("{p}-{n}-1"), "{{.Id}}");
    let (api1, db1) = (id("api"), id("db"));
    let again = compose(&d, dir.path(), &["up", "-d"]);
    assert!(
        again
            .stderr
            .contains(&format!(" Container {p}-api-1 Running ")),
        "{again:?}"
    );
    assert_eq!((id("api"), id("db")), (api1.clone(), db1.clone()));

    std::fs::write(dir.path().join("compose.yaml"), file("two")).unwrap();
    let changed = compose(&d, dir.path(), &["up", "-d"]);
    assert!(
        changed
            .stderr
            .contains(&format!(" Container {p}-api-1 Recreate ")),
        "{changed:?}"
    );
    assert_ne!(id("api"), api1);
    assert_eq!(id("db"), db1, "db did not change");
    let env = d.inspect(&format!("{p}-api-1"), "{{json .Config.Env}}");
    assert!(env.contains("GREETING=two"), "{env}");

    compose(&d, dir.path(), &["up", "-d", "--scale", "api=3"]).ok();
    let replicas = names(&d, "label=com.docker.compose.service=api");
    assert_eq!(
        replicas,
        [
            format!("{p}-api-1"),
            format!("{p}-api-2"),
            format!("{p}-api-3")
        ]
    );
    let lookup = d
        .docker(&[
            "exec",
            &format!("{p}-db-1"),
            "busybox",
            "nslookup",
            "api",
            "127.0.0.11",
        ])
        .ok();
    let addrs = lookup
        .lines()
        .filter(|l| l.starts_with("Address") && !l.contains("127.0.0.11"))
        .count();
    assert_eq!(addrs, 3, "one answer per replica:\n{lookup}");
    compose(&d, dir.path(), &["up", "-d"]).ok();
    assert_eq!(
        names(&d, "label=com.docker.compose.service=api").len(),
        1,
        "scaled back to the file's 1"
    );
    compose(&d, dir.path(), &["down"]).ok();
}

#[test]
fn an_unhealthy_dependency_stops_up_with_composes_message() {
    let d = busybox_in_netns();
    let dir = project(&[(
        "compose.yaml",
        "name: sick\nservices:\n  db:\n    image: busybox\n    command: sleep 1000\n    healthcheck:\n      test: [\"CMD\", \"false\"]\n      interval: 100ms\n      retries: 2\n  app:\n    image: busybox\n    command: sleep 1000\n    depends_on:\n      db:\n        condition: service_healthy\n",
    )]);
    let up = compose(&d, dir.path(), &["up", "-d"]);
    assert_eq!(up.code, 1, "{up:?}");
    assert!(
        up.stderr
            .contains("dependency failed to start: container sick-db-1 is unhealthy"),
        "{up:?}"
    );
    assert_eq!(
        d.inspect("sick-app-1", "{{.State.Status}}"),
        "created",
        "app was never started"
    );
    compose(&d, dir.path(), &["down"]).ok();
}

#[test]
fn env_files_interpolation_and_profiles_shape_the_project() {
    let d = busybox_in_netns();
    let dir = project(&[
        (".env", "TAG=latest\nGREETING=from-dotenv\nTOKEN=t0k\n"),
        ("app.env", "FROM_FILE=yes\n"),
        ("secret.txt", "from a file\n"),
        (
            "compose.yaml",
            "name: prof\nservices:\n  app:\n    image: busybox:${TAG}\n    command: sleep 1000\n    env_file: app.env\n    environment:\n      GREETING: ${GREETING:-unset}\n      PORT: ${PORT:-8000}\n    secrets:\n      - token\n      - {source: filed, target: /etc/filed}\n    configs:\n      - {source: greeting, target: /etc/greeting, mode: 0440}\n  debug:\n    image: busybox\n    command: sleep 1000\n    profiles: [debug]\nsecrets:\n  token: {environment: TOKEN}\n  filed: {file: ./secret.txt}\nconfigs:\n  greeting: {content: \"hello ${GREETING}\"}\n",
        ),
    ]);
    let cfg = compose(&d, dir.path(), &["config"]).ok();
    assert!(
        cfg.contains("image: busybox:latest")
            && cfg.contains("GREETING: from-dotenv")
            && cfg.contains("PORT: \"8000\""),
        "{cfg}"
    );
    assert_eq!(
        compose(&d, dir.path(), &["config", "--services"]).ok(),
        "app\n"
    );
    assert_eq!(
        compose(
            &d,
            dir.path(),
            &["--profile", "debug", "config", "--services"]
        )
        .ok(),
        "app\ndebug\n"
    );
    assert_eq!(
        compose(&d, dir.path(), &["config", "--profiles"]).ok(),
        "debug\n"
    );
    compose(&d, dir.path(), &["up", "-d"]).ok();
    assert_eq!(
        names(&d, "label=com.docker.compose.project=prof"),
        ["prof-app-1"]
    );
    let env = d.inspect("prof-app-1", "{{json .Config.Env}}");
    assert!(
        env.contains("FROM_FILE=yes") && env.contains("GREETING=from-dotenv"),
        "{env}"
    );
    // Secrets and configs: from a variable and from content written in, from a file bound.
    let read = |path: &str| d.docker(&["exec", "prof-app-1", "cat", path]).ok();
    assert_eq!(read("/run/secrets/token"), "t0k");
    assert_eq!(read("/etc/greeting"), "hello from-dotenv");
    assert_eq!(read("/etc/filed"), "from a file\n");
    let mode = d
        .docker(&[
            "exec",
            "prof-app-1",
            "busybox",
            "stat",
            "-c",
            "%a",
            "/etc/greeting",
        ])
        .ok();
    assert_eq!(mode.trim(), "440");
    compose(&d, dir.path(), &["--profile", "debug", "up", "-d"]).ok();
    assert_eq!(
        names(&d, "label=com.docker.compose.project=prof"),
        ["prof-app-1", "prof-debug-1"]
    );
    compose(&d, dir.path(), &["--profile", "debug", "down"]).ok();
}

#[test]
fn an_attached_up_prefixes_output_and_aborts_with_the_services_exit_code() {
    let d = busybox_in_netns();
    let dir = project(&[(
        "compose.yaml",
        "name: job\nservices:\n  server:\n    image: busybox\n    command: sleep 1000\n    stop_grace_period: 1s\n  task:\n    image: busybox\n    command: [\"sh\", \"-c\", \"echo working; echo failing >&2; exit 3\"]\n    depends_on: [server]\n",
    )]);
    let up = compose(&d, dir.path(), &["up", "--exit-code-from", "task"]);
    assert_eq!(up.code, 3, "{up:?}");
    assert!(
        up.stdout.contains("Attaching to server-1, task-1"),
        "{up:?}"
    );
    assert!(up.stdout.contains("task-1    | working"), "{up:?}");
    assert!(up.stderr.contains("task-1    | failing"), "{up:?}");
    assert!(
        up.stdout.contains("task-1 exited with code 3")
            && up.stdout.contains("Aborting on container exit..."),
        "{up:?}"
    );
    assert_eq!(
        d.inspect("job-server-1", "{{.State.Running}}"),
        "false",
        "the project was stopped"
    );
    let logs = compose(&d, dir.path(), &["logs", "--no-log-prefix", "task"]).ok();
    assert_eq!(logs, "working\n");

    // A one-off container: dependencies up first, the command's exit code, gone with --rm.
    let run = compose(
        &d,
        dir.path(),
        &[
            "run",
            "--rm",
            "-e",
            "X=1",
            "task",
            "sh",
            "-c",
            "echo X=$X; exit 4",
        ],
    );
    assert_eq!((run.code, run.stdout.as_str()), (4, "X=1\n"), "{run:?}");
    assert_eq!(
        d.inspect("job-server-1", "{{.State.Running}}"),
        "true",
        "run started the dependency"
    );
    assert!(
        names(&d, "label=com.docker.compose.oneoff=True").is_empty(),
        "--rm removed it"
    );
    let exec = compose(
        &d,
        dir.path(),
        &[
            "exec",
            "-T",
            "server",
            "sh",
            "-c",
            "echo in $(hostname); exit 5",
        ],
    );
    assert_eq!(exec.code, 5, "{exec:?}");
    assert!(exec.stdout.starts_with("in "), "{exec:?}");
    compose(&d, dir.path(), &["down"]).ok();
}

#[test]
fn a_service_that_builds_gets_its_image_and_a_broken_file_changes_nothing() {
    let d = busybox_in_netns();
    let dir = project(&[
        (
            "app/Dockerfile",
            "FROM busybox\nCOPY message /message\nCMD [\"sleep\", \"1000\"]\n",
        ),
        ("app/message", "built by compose\n"),
        (
            "compose.yaml",
            "name: b\nservices:\n  app:\n    build: ./app\n",
        ),
    ]);
    compose(&d, dir.path(), &["up", "-d"]).ok();
    assert_eq!(
        d.docker(&["exec", "b-app-1", "cat", "/message"]).ok(),
        "built by compose\n"
    );
    assert!(
        d.docker(&["images", "--format", "{{.Repository}}"])
            .ok()
            .lines()
            .any(|l| l == "b-app")
    );

    std::fs::write(dir.path().join("compose.yaml"), "name: b\nservices:\n  app:\n    build: ./app\n    ports:\n      - \"80:80\"\n    bogus: 1\n").unwrap();
    let bad = compose(&d, dir.path(), &["up", "-d"]);
    assert_eq!(bad.code, 1, "{bad:?}");
    assert!(
        bad.stderr.contains("compose.yaml:7") && bad.stderr.contains("bogus"),
        "file, line and key: {bad:?}"
    );
    assert_eq!(
        d.inspect("b-app-1", "{{.State.Running}}"),
        "true",
        "the running project is untouched"
    );
    std::fs::write(
        dir.path().join("compose.yaml"),
        "name: b\nservices:\n  app:\n    build: ./app\n",
    )
    .unwrap();
    compose(&d, dir.path(), &["down", "--rmi", "local"]).ok();
    assert!(
        !d.docker(&["images", "--format", "{{.Repository}}"])
            .ok()
            .contains("b-app")
    );
}

#[test]
fn docker_compose_and_berth_compose_see_each_others_projects() {
    let d = busybox_in_netns();
    let dir = project(&[(
        "docker-compose.yml",
        "version: \"3.8\"\nservices:\n  web:\n    image: busybox\n    command: sleep 1000\n",
    )]);
    let dc = |args: &[&str]| -> Out {
        Command::new("docker-compose")
            .args(["-p", "mixed"])
            .args(args)
            .env("DOCKER_HOST", d.host())
            .current_dir(dir.path())
            .output()
            .unwrap()
            .into()
    };
    dc(&["up", "-d"]).ok();
    let ps = compose(
        &d,
        dir.path(),
        &["-p", "mixed", "ps", "--format", "{{.Service}} {{.State}}"],
    )
    .ok();
    assert_eq!(ps, "web running\n");
    compose(&d, dir.path(), &["-p", "mixed", "down"]).ok();
    assert!(names(&d, "label=com.docker.compose.project=mixed").is_empty());

    compose(&d, dir.path(), &["-p", "mixed", "up", "-d"]).ok();
    let listed = dc(&["ps", "--services"]).ok();
    assert_eq!(listed.trim(), "web");
    dc(&["down"]).ok();
    assert!(names(&d, "label=com.docker.compose.project=mixed").is_empty());
}
