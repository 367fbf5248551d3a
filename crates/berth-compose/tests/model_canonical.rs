//! Short syntaxes rewritten to the long forms the loader's merge and the decoder expect
//! (compose-go's `transform` package and its list→map conversions).

#[path = "model_support.rs"]
mod support;

use berth_compose::load::{LoadError, Node, Pos, Value};
use berth_compose::model::canonical::canonicalize;
use serde_json::json;
use support::{canonical_service, plain, tree};

#[test]
fn maps_from_lists() {
    let s = canonical_service(
        "environment: [A=1, B, C=x=y]\nlabels: [l=v]\nsysctls: [net.core.somaxconn=1024]\n\
         annotations: [a=b]\nnetworks: [front, back]\n",
    );
    assert_eq!(s["environment"], json!({"A": "1", "B": null, "C": "x=y"}));
    assert_eq!(s["labels"], json!({"l": "v"}));
    assert_eq!(s["sysctls"], json!({"net.core.somaxconn": "1024"}));
    assert_eq!(s["annotations"], json!({"a": "b"}));
    assert_eq!(s["networks"], json!({"front": null, "back": null}));
}

#[test]
fn depends_on_env_file_secrets_ulimits_devices() {
    let s = canonical_service(
        "depends_on: [db]\nenv_file: .env\nsecrets: [tok, {source: k, target: /k}]\n\
         ulimits: {nofile: 1024, nproc: {soft: 1, hard: 2}}\ndevices: [\"/dev/a:/dev/b\"]\n",
    );
    assert_eq!(
        s["depends_on"],
        json!({"db": {"condition": "service_started", "required": "true"}})
    );
    assert_eq!(s["env_file"], json!([{"path": ".env", "required": "true"}]));
    assert_eq!(
        s["secrets"],
        json!([{"source": "tok"}, {"source": "k", "target": "/k"}])
    );
    assert_eq!(
        s["ulimits"],
        json!({"nofile": {"soft": "1024", "hard": "1024"}, "nproc": {"soft": "1", "hard": "2"}})
    );
    assert_eq!(
        s["devices"],
        json!([{"source": "/dev/a", "target": "/dev/b", "permissions": "rwm"}])
    );
    let long = canonical_service("depends_on: {db: {condition: service_healthy}}\n");
    assert_eq!(
        long["depends_on"],
        json!({"db": {"condition": "service_healthy", "required": "true"}})
    );
}

#[test]
fn build_ports_volumes_hosts() {
    let s = canonical_service(
        "build: ./app\nports: [\"127.0.0.1:80:80\"]\nvolumes: [\"a:/b\"]\n\
         extra_hosts: [\"h:1.1.1.1\", \"h=::1\", \"k=[::2]\"]\ndns: 8.8.8.8\ntmpfs: /run\n",
    );
    assert_eq!(s["build"], json!({"context": "./app"}));
    assert_eq!(
        s["ports"],
        json!([{"mode": "ingress", "host_ip": "127.0.0.1", "target": "80", "published": "80", "protocol": "tcp"}])
    );
    assert_eq!(
        s["volumes"],
        json!([{"type": "volume", "source": "a", "target": "/b", "volume": {}}])
    );
    assert_eq!(
        s["extra_hosts"],
        json!({"h": ["1.1.1.1", "::1"], "k": ["[::2]"]})
    );
    assert_eq!(s["dns"], json!(["8.8.8.8"]));
    assert_eq!(s["tmpfs"], json!(["/run"]));
    let b = canonical_service("build: {context: ., args: [A=1], tags: t}\n");
    assert_eq!(
        b["build"],
        json!({"context": ".", "args": {"A": "1"}, "tags": ["t"]})
    );
}

#[test]
fn deprecated_external_name_moves_to_name() {
    let t = canonicalize(tree("networks:\n  n:\n    external: {name: real}\n")).unwrap();
    assert_eq!(
        plain(&t)["networks"]["n"],
        json!({"external": "true", "name": "real"})
    );
    let e = canonicalize(tree(
        "volumes:\n  v:\n    name: a\n    external: {name: b}\n",
    ))
    .unwrap_err();
    assert_eq!(e.key.as_deref(), Some("volumes.v"));
    assert_eq!(e.message, "name and external.name conflict; only use name");
}

#[test]
fn errors_carry_the_position_and_key() {
    let pos = Pos {
        file: std::path::Path::new("compose.yaml").into(),
        line: 7,
        col: 9,
    };
    let mut port = Node::string("99999:80");
    port.pos = Some(pos.clone());
    let ports = Node::new(Value::Seq(vec![port]));
    let web = Node::new(Value::Map(
        [("ports".to_string(), ports)].into_iter().collect(),
    ));
    let services = Node::new(Value::Map([("web".to_string(), web)].into_iter().collect()));
    let top = Node::new(Value::Map(
        [("services".to_string(), services)].into_iter().collect(),
    ));
    let err: LoadError = canonicalize(top).unwrap_err();
    assert_eq!(err.pos, Some(pos));
    assert_eq!(
        err.to_string(),
        "compose.yaml:7: services.web.ports.0: invalid hostPort: 99999"
    );
}

#[test]
fn unknown_keys_are_left_alone() {
    let s = canonical_service("image: x\nfoo: [a=b]\n");
    assert_eq!(s["foo"], json!(["a=b"]));
}

#[test]
fn tags_stay_on_the_key_and_nulls_are_left_alone() {
    let mut env_file = Node::string("a.env");
    env_file.tag = Some("override".into());
    let mut ports = Node::new(Value::Null);
    ports.tag = Some("reset".into());
    let svc: indexmap::IndexMap<String, Node> = [
        ("env_file".to_string(), env_file),
        ("ports".to_string(), ports),
    ]
    .into_iter()
    .collect();
    let services = Node::new(Value::Map(
        [("s".to_string(), Node::new(Value::Map(svc)))]
            .into_iter()
            .collect(),
    ));
    let top = Node::new(Value::Map(
        [("services".to_string(), services)].into_iter().collect(),
    ));
    let out = canonicalize(top).unwrap();
    let s = &out.as_map().unwrap()["services"].as_map().unwrap()["s"];
    let env_file = &s.as_map().unwrap()["env_file"];
    assert_eq!(env_file.tag.as_deref(), Some("override"));
    let Value::Seq(items) = &env_file.value else {
        panic!("a list")
    };
    assert_eq!(items[0].tag, None);
    assert_eq!(items[0].as_map().unwrap()["path"].tag, None);
    let ports = &s.as_map().unwrap()["ports"];
    assert_eq!(
        (ports.tag.as_deref(), &ports.value),
        (Some("reset"), &Value::Null)
    );
}
