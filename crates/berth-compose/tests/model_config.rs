//! `config` output: YAML and JSON in compose v2's forms, listings, and the config hash.

#[path = "model_support.rs"]
mod support;

use support::{load, load_with};

const STACK: &str = r#"
version: "3.9"
services:
  web:
    image: nginx:1.25
    command: ["nginx", "-g", "daemon off;"]
    ports: ["8080:80"]
    environment: {DEBUG: "true", EMPTY: ""}
    volumes: ["./html:/usr/share/nginx/html:ro", "data:/data"]
    depends_on: [db]
    healthcheck: {test: [CMD, curl, -f, http://localhost], interval: 90s}
    mem_limit: 1g
    x-note: 3
  db:
    image: postgres
    ulimits: {nofile: 1024}
    extra_hosts: ["b.local:10.0.0.2", "a.local=10.0.0.1"]
volumes:
  data: {}
x-top: {b: yes, a: 1}
"#;

#[test]
fn yaml_as_compose_prints_it() {
    let p = load(STACK).unwrap();
    let want = r#"name: p
services:
  db:
    extra_hosts:
      - a.local=10.0.0.1
      - b.local=10.0.0.2
    image: postgres
    networks:
      default: null
    ulimits:
      nofile: 1024
  web:
    command:
      - nginx
      - -g
      - daemon off;
    depends_on:
      db:
        condition: service_started
        required: true
    environment:
      DEBUG: "true"
      EMPTY: ""
    healthcheck:
      test:
        - CMD
        - curl
        - -f
        - http://localhost
      interval: 1m30s
    image: nginx:1.25
    mem_limit: "1073741824"
    networks:
      default: null
    ports:
      - mode: ingress
        target: 80
        published: "8080"
        protocol: tcp
    volumes:
      - type: bind
        source: ./html
        target: /usr/share/nginx/html
        read_only: true
        bind: {}
      - type: volume
        source: data
        target: /data
        volume: {}
    x-note: 3
networks:
  default:
    name: p_default
volumes:
  data:
    name: p_data
x-top:
  a: 1
  b: "yes"
"#;
    assert_eq!(p.to_yaml(), want);
}

#[test]
fn json_as_compose_prints_it() {
    let p = load(
        "services:\n  a:\n    image: x\n    expose: [80]\n    labels: {k: <v&>}\n    deploy: {replicas: 2}\n",
    )
    .unwrap();
    let want = r#"{
  "name": "p",
  "networks": {
    "default": {
      "name": "p_default",
      "ipam": {}
    }
  },
  "services": {
    "a": {
      "command": null,
      "deploy": {
        "replicas": 2,
        "resources": {},
        "placement": {}
      },
      "entrypoint": null,
      "expose": [
        "80"
      ],
      "image": "x",
      "labels": {
        "k": "\u003cv\u0026\u003e"
      },
      "networks": {
        "default": null
      }
    }
  }
}"#;
    assert_eq!(p.to_json(), want);
}

#[test]
fn listings() {
    let p = load_with(
        "services:\n  z: {image: x, depends_on: [m]}\n  m: {image: x}\n  a: {image: x, profiles: [p2, p1]}\nvolumes: {v2: {}, v1: {}}\n",
        &[],
        &["p1"],
    )
    .unwrap();
    assert_eq!(p.service_names(), ["a", "m", "z"]);
    assert_eq!(p.volume_names(), ["v1", "v2"]);
    assert_eq!(p.image_names(), ["x", "x", "x"]);
    let b = load("services:\n  web: {build: .}\n").unwrap();
    assert_eq!(b.image_names(), ["p-web"]);
    assert_eq!(p.network_names(), ["default"]);
    assert_eq!(p.profiles(), ["p1", "p2"]);
}

#[test]
fn the_hash_ignores_what_does_not_recreate() {
    let base = "services:\n  a:\n    image: x\n";
    let hash = |extra: &str| {
        let p = load(&format!("{base}{extra}")).unwrap();
        p.services["a"].config_hash()
    };
    let plain = hash("");
    assert_eq!(plain.len(), 64);
    assert_eq!(plain, hash("    scale: 3\n"));
    assert_eq!(plain, hash("    pull_policy: always\n"));
    assert_eq!(plain, hash("    profiles: []\n"));
    assert_ne!(plain, hash("    environment: [A=1]\n"));
    assert_ne!(plain, hash("    ports: [\"80\"]\n"));
}

#[test]
fn version_is_accepted_the_loader_warns() {
    use berth_compose::model::{canonical::canonicalize, project};
    let tree = canonicalize(support::tree(STACK)).unwrap();
    let d = project("p", &tree, &Default::default(), &[]).unwrap();
    assert!(d.warnings.is_empty());
}

const RICH: &str = r#"
services:
  app:
    build: {context: ., args: {V: "1"}, target: prod, cache_from: [a]}
    image: app:dev
    entrypoint: /init
    user: "1000"
    working_dir: /app
    secrets: [{source: s, mode: "0400"}]
    configs: [c]
    logging: {driver: json-file, options: {max-size: 10m}}
    deploy:
      resources: {limits: {cpus: "0.5", memory: 256m}, reservations: {memory: 128m}}
      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3, window: 2m}
      update_config: {parallelism: 2, delay: 10s, order: start-first}
    healthcheck: {test: ["CMD-SHELL", "true"], interval: 10s, timeout: 2s, retries: 5, start_period: 1m, start_interval: 500ms}
    tmpfs: ["/run:size=64m"]
    volumes: [{type: tmpfs, target: /cache, tmpfs: {size: 1g}}]
    cap_add: [NET_ADMIN]
    sysctls: {net.core.somaxconn: 1024}
    restart: unless-stopped
    stop_signal: SIGINT
    stop_grace_period: 1m30s
    init: true
    tty: true
    stdin_open: true
    read_only: true
    shm_size: 64m
secrets: {s: {file: ./s.txt}}
configs: {c: {content: "hello\nworld\n"}}
networks: {default: {driver: bridge, ipam: {config: [{subnet: 10.5.0.0/16}]}}}
"#;

/// Checked by hand against compose-go's struct order and marshallers (build, deploy,
/// healthcheck, secrets' modes, byte sizes, Go durations, a literal block).
#[test]
fn a_rich_service_in_compose_order() {
    let want = r#"name: p
services:
  app:
    build:
      context: .
      dockerfile: Dockerfile
      args:
        V: "1"
      cache_from:
        - a
      target: prod
    cap_add:
      - NET_ADMIN
    configs:
      - source: c
    deploy:
      update_config:
        parallelism: 2
        delay: 10s
        order: start-first
      resources:
        limits:
          cpus: 0.5
          memory: "268435456"
        reservations:
          memory: "134217728"
      restart_policy:
        condition: on-failure
        delay: 5s
        max_attempts: 3
        window: 2m0s
    entrypoint:
      - /init
    healthcheck:
      test:
        - CMD-SHELL
        - "true"
      timeout: 2s
      interval: 10s
      retries: 5
      start_period: 1m0s
      start_interval: 500ms
    image: app:dev
    init: true
    logging:
      driver: json-file
      options:
        max-size: 10m
    networks:
      default: null
    read_only: true
    restart: unless-stopped
    secrets:
      - source: s
        target: /run/secrets/s
        mode: "0400"
    shm_size: "67108864"
    stdin_open: true
    stop_grace_period: 1m30s
    stop_signal: SIGINT
    sysctls:
      net.core.somaxconn: "1024"
    tmpfs:
      - /run:size=64m
    tty: true
    user: "1000"
    volumes:
      - type: tmpfs
        target: /cache
        tmpfs:
          size: "1073741824"
    working_dir: /app
networks:
  default:
    name: p_default
    driver: bridge
    ipam:
      config:
        - subnet: 10.5.0.0/16
secrets:
  s:
    name: p_s
    file: ./s.txt
configs:
  c:
    name: p_c
    content: |
      hello
      world
"#;
    assert_eq!(load(RICH).unwrap().to_yaml(), want);
}
