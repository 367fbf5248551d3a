//! Tests of the parent module, many taken from compose-go's own.

use super::*;

fn parse(text: &str) -> Result<IndexMap<String, String>, String> {
    let mut out = IndexMap::new();
    let lookup = |k: &str| (k == "FROM_ENV").then(|| "env".to_string());
    parse_into(text, &mut out, &lookup).map(|()| out)
}

fn get(text: &str, key: &str) -> String {
    parse(text)
        .unwrap()
        .get(key)
        .cloned()
        .unwrap_or_else(|| "<unset>".into())
}

// Cases from compose-go dotenv/godotenv_test.go (TestParsing and the fixtures).
#[test]
fn plain_values() {
    assert_eq!(get("FOO=bar", "FOO"), "bar");
    assert_eq!(get("FOO =bar", "FOO"), "bar");
    assert_eq!(get("FOO= bar", "FOO"), "bar");
    assert_eq!(get("FOO: bar", "FOO"), "bar");
    assert_eq!(get("export FOO=bar", "FOO"), "bar");
    assert_eq!(get("FOO=bar # a comment", "FOO"), "bar");
    assert_eq!(get("FOO=bar#baz", "FOO"), "bar#baz");
    assert_eq!(get("FOO=", "FOO"), "");
    assert_eq!(get("# c\n\n  A=1\n#B=2\n", "B"), "<unset>");
    assert_eq!(get("FOO.BAR=foobar", "FOO.BAR"), "foobar");
}

#[test]
fn quotes() {
    assert_eq!(get("FOO='bar'", "FOO"), "bar");
    assert_eq!(get("FOO='b\\nar $X'", "FOO"), "b\\nar $X");
    assert_eq!(get("FOO=\"b\\nar\"", "FOO"), "b\nar");
    assert_eq!(get("FOO=\"a\\\"b\"", "FOO"), "a\"b");
    assert_eq!(get("FOO='a\\'b'", "FOO"), "a'b");
    assert_eq!(get("FOO=\"line1\nline2\"\nB=2", "FOO"), "line1\nline2");
    assert_eq!(get("FOO=\"x\" # comment\nB=2", "B"), "2");
    assert_eq!(get("FOO=\"\\$HOME\"", "FOO"), "$HOME");
    assert_eq!(get("FOO=\"\\0123\"", "FOO"), "S");
}

// compose-go dotenv/godotenv_test.go TestParsing, case by case.
#[test]
fn compose_go_parsing_table() {
    let cases: &[(&str, &str, &str)] = &[
        (r#"FOO="escaped\"bar""#, "FOO", r#"escaped"bar"#),
        (r#"FOO="\"quoted\"""#, "FOO", r#""quoted""#),
        (r#"FOO="'d'""#, "FOO", "'d'"),
        ("OPTION_A: Foo=bar", "OPTION_A", "Foo=bar"),
        ("OPTION_A=1:B", "OPTION_A", "1:B"),
        (r"export OPTION_B='\n'", "OPTION_B", r"\n"),
        ("export exportFoo=2", "exportFoo", "2"),
        ("exportFOO=2", "exportFOO", "2"),
        ("export_FOO =2", "export_FOO", "2"),
        ("export.FOO= 2", "export.FOO", "2"),
        ("export\tOPTION_A=2", "OPTION_A", "2"),
        ("\texport OPTION_A=2", "OPTION_A", "2"),
        (r#"export OPTION_A="export A""#, "OPTION_A", "export A"),
        (r"FOO=a\tb", "FOO", r"a\tb"),
        (r#"FOO="a\tb""#, "FOO", "a\tb"),
        (
            r#"KEY="Z\aZ\bZ\fZ\nZ\rZ\tZ\vZ\\Z\0123Z""#,
            "KEY",
            "Z\u{7}Z\u{8}Z\u{c}Z\nZ\rZ\tZ\u{b}Z\\ZSZ",
        ),
        ("FOO=foobar=", "FOO", "foobar="),
        ("FOO=bar ", "FOO", "bar"),
        ("FOO=bar #this is foo", "FOO", "bar"),
        ("FOO=bar #", "FOO", "bar"),
        (
            "FOO=123#not-an-inline-comment",
            "FOO",
            "123#not-an-inline-comment",
        ),
        (r##"FOO="bar#baz"#"##, "FOO", "bar#baz"),
        ("FOO='bar#baz' # comment", "FOO", "bar#baz"),
        (r#"FOO="bar\n\ b\az""#, "FOO", "bar\n\\ b\u{7}z"),
        (r#"FOO="bar\\\n\ b\az""#, "FOO", "bar\\\n\\ b\u{7}z"),
        (r#"FOO="bar\\r\ b\az""#, "FOO", "bar\\r\\ b\u{7}z"),
        (r#"FOO="bar\nbaz\\""#, "FOO", "bar\nbaz\\"),
        (r#"="value""#, "", "value"),
        (" KEY =value", "KEY", "value"),
        (
            "FOO=test\nBAR=\"foo\\${FOO} ${FOO}\"",
            "BAR",
            "foo${FOO} test",
        ),
    ];
    for (text, key, want) in cases {
        assert_eq!(get(text, key), *want, "{text}");
    }
}

#[test]
fn inherited_and_expansion() {
    assert_eq!(get("FROM_ENV\nX=1", "FROM_ENV"), "env");
    assert_eq!(get("FROM_ENV", "FROM_ENV"), "env");
    assert_eq!(get("NOT_SET\n", "NOT_SET"), "<unset>");
    assert_eq!(get("A=1\nB=${A}2", "B"), "12");
    assert_eq!(get("A=1\nB=\"$A-x\"", "B"), "1-x");
    assert_eq!(get("FROM_ENV=file\nB=$FROM_ENV", "B"), "env");
    assert_eq!(get("B=${NOPE:-d}", "B"), "d");
}

#[test]
fn errors_have_lines() {
    assert_eq!(
        parse("A=1\nB C=2").unwrap_err(),
        "line 2: key cannot contain a space"
    );
    assert_eq!(
        parse("A=1\nFOO=\"bar").unwrap_err(),
        "line 2: unterminated quoted value \"bar"
    );
    assert_eq!(
        parse("A=1\n\nFO$O=1").unwrap_err(),
        "line 3: unexpected character \"$\" in variable name \"FO$O=1\""
    );
    assert!(
        parse("X=${A:?need A}")
            .unwrap_err()
            .contains("required variable A")
    );
}

#[test]
fn files_in_order_with_env_winning() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.env");
    let b = dir.path().join("b.env");
    std::fs::write(&a, "X=a\nY=a\n").unwrap();
    std::fs::write(&b, "Y=b\nZ=${X}${P}\n").unwrap();
    let env = IndexMap::from([("P".to_string(), "p".to_string())]);
    let out = read_env_files(&[a, b], &env).unwrap();
    assert_eq!(out["Y"], "b");
    assert_eq!(out["Z"], "ap");
    let e = read_env_files(&[dir.path().join("nope")], &env).unwrap_err();
    assert!(e.message.starts_with("couldn't find env file:"), "{e}");
}
