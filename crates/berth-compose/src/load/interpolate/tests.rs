//! Tests of the parent module, many taken from compose-go's own.

use super::*;
use std::collections::HashMap;

fn env() -> HashMap<&'static str, &'static str> {
    HashMap::from([("FOO", "first"), ("BAR", ""), ("N", "3")])
}

fn sub(t: &str) -> Result<String, TemplateError> {
    let e = env();
    let lookup = move |k: &str| e.get(k).map(|v| v.to_string());
    substitute(t, &lookup, &mut Vec::new())
}

// Cases from compose-go template/template_test.go.
#[test]
fn plain_and_braced() {
    assert_eq!(sub("$FOO").unwrap(), "first");
    assert_eq!(sub("${FOO}").unwrap(), "first");
    assert_eq!(sub("x${FOO}y$FOO.z").unwrap(), "xfirstyfirst.z");
    assert_eq!(sub("$$FOO").unwrap(), "$FOO");
    assert_eq!(sub("$").unwrap(), "$");
    assert_eq!(sub("$1 and $ x").unwrap(), "$1 and $ x");
    assert_eq!(sub("${UNSET}").unwrap(), "");
}

// compose-go template_test.go: TestUnescaped, TestInvalid, TestNonBraced, lazy defaults,
// nested defaults, TestPrecedence.
#[test]
fn compose_go_table() {
    for t in ["a $ string", "^REGEX$", "$}", "$"] {
        assert_eq!(sub(t).unwrap(), t);
    }
    for t in ["${ }", "${foo }", "${foo!}"] {
        assert!(matches!(sub(t), Err(TemplateError::Invalid(_))), "{t}");
    }
    let cases = [
        ("$${foo}", "${foo}"),
        ("$FOO-bar", "first-bar"),
        ("${A:+${A},}B", "B"),
        ("+ok ${UNSET:-${BAR-defaultValue}}", "+ok "),
        ("ok ${UNSET_VAR-${FOO} ${FOO}}", "ok first first"),
        ("ok ${BAR+$FOO ${FOO:+second}}", "ok first second"),
        ("ok ${BAR:-/non:-alphanumeric}", "ok /non:-alphanumeric"),
        ("${UNSET_VAR-myerror?msg}", "myerror?msg"),
        ("${FOO?bar-baz}", "first"),
    ];
    for (t, want) in cases {
        assert_eq!(sub(t).unwrap(), want, "{t}");
    }
    let e = sub("${UNSET_VAR?bar-baz}").unwrap_err();
    assert_eq!(
        e.to_string(),
        "required variable UNSET_VAR is missing a value: bar-baz"
    );
    let e = sub("not ok ${UNSET_VAR:?Mandatory Variable ${FOO}}").unwrap_err();
    assert_eq!(
        e.to_string(),
        "required variable UNSET_VAR is missing a value: Mandatory Variable first"
    );
}

// compose-go interpolation/interpolation_test.go TestValidUnexistentInterpolation
// (FOO, BAR, ZOT unset), through the tree walk and its error wording.
#[test]
fn compose_go_unexistent_table() {
    let ok = [
        ("{{{ ${FOO:-foo_} }}}", "{{{ foo_ }}}"),
        ("{{{ ${FOO:-foo-bar-value} }}}", "{{{ foo-bar-value }}}"),
        ("{{{ ${FOO:-foo?bar?value} }}}", "{{{ foo?bar?value }}}"),
        ("{{{ ${FOO:-foo:?bar:?value} }}}", "{{{ foo:?bar:?value }}}"),
        (
            "{{{ ${FOO:-foo} ${BAR:-DEFAULT_VALUE} }}}",
            "{{{ foo DEFAULT_VALUE }}}",
        ),
        ("{{{ ${BAR} }}}", "{{{  }}}"),
        ("${FOO:-baz} }}}", "baz }}}"),
        ("${FOO-baz} }}}", "baz }}}"),
        ("${FOO:-${BAR:-${ZOT:-qix}}}", "qix"),
        ("${FOO:-${BAR:-x}_test_${BAR:-y}}", "x_test_y"),
        ("${FOO:-${BAR:-x}_test}", "x_test"),
        ("${FOO:-${BAR:-${ZOT:-x}}_test}", "x_test"),
    ];
    let errors = [
        ("{{{ ${FOO:?foo_} }}}", "foo_"),
        ("{{{ ${FOO:?foo-bar-value} }}}", "foo-bar-value"),
        ("{{{ ${FOO:?foo} ${BAR:-DEFAULT_VALUE} }}}", "foo"),
        ("${FOO:?foo} ${BAR:?bar}", "foo"),
        ("${FOO:?baz} }}}", "baz"),
        ("${FOO?baz} }}}", "baz"),
    ];
    let lookup = |_: &str| None;
    let tree = |v: &str| {
        let mut env = indexmap::IndexMap::new();
        env.insert("TESTVAR".to_string(), Node::string(v));
        let mut svc = indexmap::IndexMap::new();
        svc.insert("environment".to_string(), Node::new(Value::Map(env)));
        let mut top = indexmap::IndexMap::new();
        top.insert("myservice".to_string(), Node::new(Value::Map(svc)));
        Node::new(Value::Map(top))
    };
    for (t, want) in ok {
        let mut n = tree(t);
        interpolate_tree(&mut n, &lookup, &mut Vec::new()).unwrap();
        assert_eq!(
            n.to_json()["myservice"]["environment"]["TESTVAR"],
            want,
            "{t}"
        );
    }
    for (t, msg) in errors {
        let mut n = tree(t);
        let e = interpolate_tree(&mut n, &lookup, &mut Vec::new()).unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "error while interpolating myservice.environment.TESTVAR: required variable FOO is missing a value: {msg}"
            ),
            "{t}"
        );
    }
}

#[test]
fn defaults() {
    assert_eq!(sub("${UNSET:-d}").unwrap(), "d");
    assert_eq!(sub("${BAR:-d}").unwrap(), "d");
    assert_eq!(sub("${BAR-d}").unwrap(), "");
    assert_eq!(sub("${UNSET-d}").unwrap(), "d");
    assert_eq!(sub("${FOO:-d}").unwrap(), "first");
    assert_eq!(sub("${UNSET:-${FOO}}").unwrap(), "first");
    assert_eq!(sub("${UNSET:-${UNSET2:-c}}").unwrap(), "c");
    assert_eq!(sub("${UNSET:-x} and ${FOO}").unwrap(), "x and first");
    assert_eq!(sub("ok ${UNSET:-a-b:-c}").unwrap(), "ok a-b:-c");
    assert_eq!(sub("${UNSET-a:-b}").unwrap(), "a:-b");
}

#[test]
fn alternates() {
    assert_eq!(sub("${FOO:+x}").unwrap(), "x");
    assert_eq!(sub("${BAR:+x}").unwrap(), "");
    assert_eq!(sub("${BAR+x}").unwrap(), "x");
    assert_eq!(sub("${UNSET+x}").unwrap(), "");
    assert_eq!(sub("${FOO:+${N}}").unwrap(), "3");
}

#[test]
fn required() {
    let e = sub("${UNSET:?need it}").unwrap_err();
    assert_eq!(
        e.to_string(),
        "required variable UNSET is missing a value: need it"
    );
    let e = sub("${BAR:?}").unwrap_err();
    assert_eq!(e.to_string(), "required variable BAR is missing a value");
    assert_eq!(sub("${BAR?e}").unwrap(), "");
    sub("${UNSET?e}").unwrap_err();
    assert_eq!(sub("${FOO:?e}").unwrap(), "first");
}

#[test]
fn invalid() {
    for t in [
        "${",
        "${}",
        "${ FOO}",
        "${FOO BAR}",
        "${FOO:x}",
        "a ${FOO:-x\n}",
    ] {
        assert_eq!(sub(t), Err(TemplateError::Invalid(t.into())), "{t:?}");
    }
}

#[test]
fn unset_names_reported_once() {
    let lookup = |_: &str| None;
    let mut unset = Vec::new();
    substitute("$A ${A} ${B:-x} $C", &lookup, &mut unset).unwrap();
    assert_eq!(unset, ["A", "C"]);
}

#[test]
fn tree_errors_name_the_path() {
    let mut n = crate::load::yaml::parse(
        std::path::Path::new("/c.yaml"),
        "services:\n  web:\n    command: [\"${X:?no X}\"]\n",
    )
    .unwrap();
    let lookup = |_: &str| None;
    let e = interpolate_tree(&mut n, &lookup, &mut Vec::new()).unwrap_err();
    assert_eq!(
        e.message,
        "error while interpolating services.web.command.[]: required variable X is missing a value: no X"
    );
    assert_eq!(e.pos.unwrap().line, 3);
}

#[test]
fn keys_are_not_substituted() {
    let mut n = crate::load::yaml::parse(std::path::Path::new("/c.yaml"), "$K: $V\n").unwrap();
    let lookup = |k: &str| Some(k.to_lowercase());
    interpolate_tree(&mut n, &lookup, &mut Vec::new()).unwrap();
    assert_eq!(n.get("$K").unwrap().as_str(), Some("v"));
}
