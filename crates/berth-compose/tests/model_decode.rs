//! Whole projects decoded: short syntaxes, typed values, defaults, errors, profiles.

#[path = "model_support.rs"]
mod support;

use std::time::Duration as StdDuration;

use berth_compose::model::{Bytes, Condition, Duration, MountKind, Restart};
use support::{error, load, load_with};

#[test]
fn a_service_with_every_short_syntax() {
    let p = load(
        r#"
services:
  web:
    image: nginx
    build: ./web
    command: sh -c 'echo "hi there"'
    ports: ["8080:80", "127.0.0.1:9000-9001:90-91/udp", 22]
    volumes: ["./html:/usr/share/nginx/html:ro", "data:/data", "/cache"]
    environment: [A=1, B]
    labels: [x=y]
    extra_hosts: ["db:10.0.0.2", "v6=::1"]
    depends_on: [db]
    networks: [front]
    secrets: [token]
    env_file: .env
    ulimits: {nofile: 1024, nproc: {soft: 10, hard: 20}}
    devices: ["/dev/fuse"]
    dns: 1.1.1.1
    healthcheck: {test: curl -f http://localhost, interval: 1m30s, retries: 3}
    restart: on-failure:3
    stop_grace_period: 10s
    mem_limit: 512m
    cpus: 0.5
    init: true
  db:
    image: postgres
networks:
  front:
volumes:
  data:
secrets:
  token:
    file: ./token
"#,
    )
    .unwrap();
    let web = &p.services["web"];
    assert_eq!(web.name, "web");
    assert_eq!(
        web.build.as_ref().unwrap().context.as_deref(),
        Some("./web")
    );
    assert_eq!(
        web.build.as_ref().unwrap().dockerfile.as_deref(),
        Some("Dockerfile")
    );
    assert_eq!(
        web.command.as_deref().unwrap(),
        ["sh", "-c", "echo \"hi there\""]
    );
    let ports: Vec<_> = web
        .ports
        .iter()
        .map(|p| {
            (
                p.host_ip.as_deref(),
                p.published.as_deref(),
                p.target,
                p.protocol.as_str(),
            )
        })
        .collect();
    assert_eq!(
        ports,
        [
            (None, Some("8080"), 80, "tcp"),
            (Some("127.0.0.1"), Some("9000"), 90, "udp"),
            (Some("127.0.0.1"), Some("9001"), 91, "udp"),
            (None, None, 22, "tcp"),
        ]
    );
    let kinds: Vec<_> = web
        .volumes
        .iter()
        .map(|v| (v.kind, v.source.as_deref(), v.read_only))
        .collect();
    assert_eq!(
        kinds,
        [
            (MountKind::Bind, Some("./html"), true),
            (MountKind::Volume, Some("data"), false),
            (MountKind::Volume, None, false),
        ]
    );
    assert!(web.volumes[0].bind.as_ref().unwrap().create_host_path);
    assert_eq!(web.environment["A"].as_deref(), Some("1"));
    assert_eq!(web.environment["B"], None);
    assert_eq!(web.labels["x"], "y");
    assert_eq!(web.extra_hosts["db"], ["10.0.0.2"]);
    assert_eq!(web.extra_hosts["v6"], ["::1"]);
    assert_eq!(web.depends_on["db"].condition, Condition::ServiceStarted);
    assert!(web.depends_on["db"].required);
    assert!(web.networks.contains_key("front") && !web.networks.contains_key("default"));
    assert_eq!(web.secrets[0].target.as_deref(), Some("/run/secrets/token"));
    assert_eq!(web.env_file[0].path, ".env");
    assert!(web.env_file[0].required);
    assert_eq!(
        (web.ulimits["nofile"].soft, web.ulimits["nofile"].hard),
        (1024, 1024)
    );
    assert_eq!(
        (web.ulimits["nproc"].soft, web.ulimits["nproc"].hard),
        (10, 20)
    );
    assert_eq!(web.devices[0].target, "/dev/fuse");
    assert_eq!(web.dns, ["1.1.1.1"]);
    let hc = web.healthcheck.as_ref().unwrap();
    assert_eq!(
        hc.test.as_deref().unwrap(),
        ["CMD-SHELL", "curl -f http://localhost"]
    );
    assert_eq!(hc.interval, Some(Duration(StdDuration::from_secs(90))));
    assert_eq!(hc.retries, Some(3));
    assert_eq!(web.restart, Some(Restart::OnFailure(Some(3))));
    assert_eq!(
        web.stop_grace_period,
        Some(Duration(StdDuration::from_secs(10)))
    );
    assert_eq!(web.mem_limit, Some(Bytes(512 << 20)));
    assert_eq!(web.cpus, Some(0.5));
    assert_eq!(web.init, Some(true));
    // `db` has no networks: it is on the implicit default network.
    assert!(p.services["db"].networks.contains_key("default"));
    assert_eq!(p.networks["default"].name.as_deref(), Some("p_default"));
    assert_eq!(p.networks["front"].name.as_deref(), Some("p_front"));
    assert_eq!(p.volumes["data"].name.as_deref(), Some("p_data"));
}

#[test]
fn long_forms_and_deploy() {
    let p = load(
        r#"
services:
  app:
    image: app
    depends_on:
      db: {condition: service_healthy, restart: true}
    deploy:
      replicas: 2
      resources: {limits: {cpus: "1.5", memory: 1g, pids: 100}}
      update_config: {parallelism: 1, delay: 5s, order: start-first, failure_action: rollback}
      restart_policy: {condition: on-failure, max_attempts: 3}
  db:
    image: db
    networks:
      default:
        aliases: [database]
        ipv4_address: 172.20.0.5
"#,
    )
    .unwrap();
    let app = &p.services["app"];
    assert_eq!(app.depends_on["db"].condition, Condition::ServiceHealthy);
    assert!(app.depends_on["db"].restart);
    let d = app.deploy.as_ref().unwrap();
    assert_eq!(d.replicas, Some(2));
    let limits = d.resources.limits.as_ref().unwrap();
    assert_eq!(
        (limits.cpus, limits.memory, limits.pids),
        (Some(1.5), Some(Bytes(1 << 30)), Some(100))
    );
    let u = d.update_config.as_ref().unwrap();
    assert_eq!(u.parallelism, Some(1));
    assert_eq!(u.order.as_deref(), Some("start-first"));
    let net = p.services["db"].networks["default"].as_ref().unwrap();
    assert_eq!(net.aliases, ["database"]);
    assert_eq!(net.ipv4_address.as_deref(), Some("172.20.0.5"));
}

#[test]
fn environment_and_args_resolve_from_the_environment() {
    let p = load_with(
        "services:\n  a:\n    build: {context: ., args: [SET, UNSET]}\n    environment: [SET, UNSET]\n",
        &[("SET", "v")],
        &[],
    )
    .unwrap();
    let a = &p.services["a"];
    assert_eq!(a.environment["SET"].as_deref(), Some("v"));
    assert_eq!(a.environment["UNSET"], None);
    let args = &a.build.as_ref().unwrap().args;
    assert_eq!(args.len(), 1);
    assert_eq!(args["SET"].as_deref(), Some("v"));
}

#[test]
fn unknown_and_unsupported_keys_are_errors_naming_them() {
    assert_eq!(
        error("services:\n  web:\n    image: x\n    foo: 1\n"),
        "services.web: additional properties 'foo' not allowed"
    );
    assert_eq!(
        error("services:\n  web:\n    image: x\n    healthcheck: {tests: [CMD]}\n"),
        "services.web.healthcheck: additional properties 'tests' not allowed"
    );
    assert_eq!(
        error("services:\n  web:\n    image: x\n    volumes_from: [a]\n"),
        "services.web.volumes_from: unsupported compose key"
    );
    assert_eq!(
        error("foo: 1\nservices: {}\n"),
        "(root): additional properties 'foo' not allowed"
    );
    assert_eq!(
        error("services:\n  web:\n    image: x\n    deploy: {placement: {constraints: []}}\n"),
        "services.web.deploy.placement: unsupported compose key"
    );
    assert_eq!(
        error(
            "services:\n  web:\n    image: x\n    volumes: [{type: bind, source: /a, target: /b, bind: {recursive: enabled}}]\n"
        ),
        "services.web.volumes.0.bind.recursive: unsupported compose key"
    );
    assert_eq!(
        error("services: {}\nnetworks:\n  n: {external: true, driver: bridge}\n"),
        "networks.n: conflicting parameters \"external\" and \"driver\" specified"
    );
    // x-* keys are welcome anywhere compose allows them.
    load("x-common: &c {a: 1}\nservices:\n  web:\n    image: x\n    x-mine: 2\n").unwrap();
}

#[test]
fn bad_values_name_their_key() {
    assert_eq!(
        error("services:\n  web:\n    image: x\n    stop_grace_period: 10\n"),
        "services.web.stop_grace_period: time: missing unit in duration \"10\""
    );
    assert_eq!(
        error("services:\n  web:\n    image: x\n    ports: [\"8000-8002:80-81\"]\n"),
        "services.web.ports.0: invalid ranges specified for container and host Ports: 80-81 and 8000-8002"
    );
    assert_eq!(
        error("services:\n  web:\n    image: x\n    privileged: maybe\n"),
        "services.web.privileged: must be a boolean, not \"maybe\""
    );
    assert_eq!(
        error(
            "services:\n  web:\n    image: x\n    deploy: {resources: {limits: {memory: lots}}}\n"
        ),
        "services.web.deploy.resources.limits.memory: invalid size: 'lots'"
    );
    assert_eq!(
        error("services:\n  web:\n    image: x\n    volumes: [{type: bind, source: /a}]\n"),
        "services.web.volumes: missing property 'target'"
    );
}

#[test]
fn consistency_errors_use_compose_messages() {
    let cases = [
        (
            "services:\n  a: {image: x, depends_on: [b]}\n",
            "service \"a\" depends on undefined service \"b\"",
        ),
        (
            "services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [a]}\n",
            "dependency cycle detected: a -> b -> a",
        ),
        (
            "services:\n  a: {image: x, network_mode: \"service:z\"}\n",
            "service \"a\" depends on undefined service \"z\"",
        ),
        (
            "services:\n  a: {image: x, networks: [n]}\n",
            "service \"a\" refers to undefined network n",
        ),
        (
            "services:\n  a: {image: x, volumes: [\"v:/v\"]}\n",
            "service \"a\" refers to undefined volume v",
        ),
        (
            "services:\n  a: {image: x, secrets: [s]}\n",
            "service \"a\" refers to undefined secret s",
        ),
        (
            "services:\n  a: {image: x, container_name: c, scale: 2}\n",
            "services.a: can't set container_name and scale as container name must be unique",
        ),
        (
            "services:\n  a: {}\n",
            "service \"a\" has neither an image nor a build context specified",
        ),
        (
            "services:\n  a: {image: x, tmpfs: /t, volumes: [\"/t\"]}\n",
            "services.a.volumes[0]: target /t already mounted as services.a.tmpfs[0]",
        ),
    ];
    for (yaml, want) in cases {
        assert_eq!(error(yaml), want, "for {yaml}");
    }
}

const PROFILED: &str = r#"
services:
  web: {image: x, depends_on: [cache]}
  cache: {image: x, profiles: [dev]}
  debug: {image: x, profiles: [debug], depends_on: {tool: {condition: service_started, required: false}}}
  tool: {image: x, profiles: [tools]}
"#;

#[test]
fn profiles_select_services() {
    let p = load_with(PROFILED, &[], &["dev"]).unwrap();
    let mut names: Vec<_> = p.services.keys().cloned().collect();
    names.sort();
    assert_eq!(names, ["cache", "web"]);
    assert_eq!(p.profiles(), ["debug", "dev", "tools"]);
    let all = load_with(PROFILED, &[], &["*"]).unwrap();
    assert_eq!(all.services.len(), 4);
    // An optional dependency may be disabled.
    let p = load_with(PROFILED, &[], &["dev", "debug"]).unwrap();
    assert!(p.services.contains_key("debug") && p.disabled.contains_key("tool"));
}

#[test]
fn a_required_dependency_that_is_disabled_is_an_error() {
    let e = load_with(PROFILED, &[], &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "service \"cache\" is required by \"web\" but is disabled. Can be enabled by profiles [dev]"
    );
}

#[test]
fn a_service_named_explicitly_comes_with_its_dependencies() {
    let p = load_with(PROFILED, &[], &["dev"]).unwrap();
    let p = p.with_services_enabled(&["debug".into()]).unwrap();
    for name in ["web", "cache", "debug", "tool"] {
        assert!(p.services.contains_key(name), "{name} enabled");
    }
    let e = p.with_services_enabled(&["nope".into()]).unwrap_err();
    assert_eq!(e.to_string(), "no such service: nope");
}

#[test]
fn a_deep_dependency_lattice_is_checked_quickly() {
    // Every service depends on all earlier ones: a search without memoisation would not end.
    let mut yaml = String::from("services:\n");
    for i in 0..40 {
        let deps: Vec<String> = (0..i).map(|j| format!("s{j}")).collect();
        yaml += &format!("  s{i}: {{image: x, depends_on: [{}]}}\n", deps.join(", "));
    }
    load(&yaml).unwrap();
}

#[test]
fn selecting_services_and_dropping_unused_resources() {
    let p = load(
        "services:\n  a: {image: x, depends_on: [b], volumes: [\"v:/v\"], networks: [n]}\n  b: {image: x}\n  c: {image: x, secrets: [s]}\n\
         networks: {n: {}}\nvolumes: {v: {}, unused: {}}\nsecrets: {s: {file: ./s}}\n",
    )
    .unwrap();
    let only_a = p.with_selected_services(&["a".into()], false).unwrap();
    assert_eq!(only_a.services.keys().collect::<Vec<_>>(), ["a"]);
    assert!(only_a.services["a"].depends_on.is_empty());
    let with_deps = p.with_selected_services(&["a".into()], true).unwrap();
    assert_eq!(with_deps.services.keys().collect::<Vec<_>>(), ["a", "b"]);
    let lean = with_deps.without_unused_resources();
    assert_eq!(lean.volume_names(), ["v"]);
    assert_eq!(lean.network_names(), ["default", "n"]);
    assert!(lean.secrets.is_empty());
    assert_eq!(
        p.with_selected_services(&["zz".into()], true)
            .unwrap_err()
            .to_string(),
        "no such service: zz"
    );
}
