//! Variable substitution in compose values, as compose-go's `template` and `interpolation`
//! packages do it: `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?e}`, `${VAR?e}`,
//! `${VAR:+x}`, `${VAR+x}`, nested defaults, `$$` for a literal `$`. Keys are not
//! substituted, only values.

use std::fmt;

use super::node::{LoadError, Node, Value};

/// Looks a variable up: `None` when it is not set (set-but-empty is `Some("")`).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Why a template could not be substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// A `$` that starts nothing valid (`${`, `${a b}`); holds the whole template.
    Invalid(String),
    /// `${VAR?err}` / `${VAR:?err}` with VAR missing.
    MissingRequired {
        /// The variable.
        variable: String,
        /// The text after `?`, itself substituted.
        reason: String,
    },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Invalid(t) => write!(f, "Invalid template: {t:?}"),
            TemplateError::MissingRequired { variable, reason } if reason.is_empty() => {
                write!(f, "required variable {variable} is missing a value")
            }
            TemplateError::MissingRequired { variable, reason } => {
                write!(
                    f,
                    "required variable {variable} is missing a value: {reason}"
                )
            }
        }
    }
}

/// Substitutes `template`; names of plain references (`$X`, `${X}`) that are unset are
/// pushed to `unset` (the CLI warns about them).
pub fn substitute(
    template: &str,
    lookup: Lookup<'_>,
    unset: &mut Vec<String>,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(len) = name_len(after) {
            let name = &after[..len];
            out.push_str(&plain(name, lookup, unset));
            rest = &after[len..];
        } else if let Some(body) = after.strip_prefix('{') {
            let (value, used) = braced(body, template, lookup, unset)?;
            out.push_str(&value);
            rest = &body[used..];
        } else {
            // Not a template (`$1`, `$ `, a final `$`): kept as written.
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn plain(name: &str, lookup: Lookup<'_>, unset: &mut Vec<String>) -> String {
    match lookup(name) {
        Some(v) => v,
        None => {
            if !unset.iter().any(|u| u == name) {
                unset.push(name.to_string());
            }
            String::new()
        }
    }
}

/// Length of a variable name (`[_a-zA-Z][_a-zA-Z0-9]*`) at the start of `s`.
fn name_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if !b
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        return None;
    }
    Some(
        b.iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
            .unwrap_or(b.len()),
    )
}

/// `body` follows `${`. Returns the value and how many bytes of `body` it used.
fn braced(
    body: &str,
    template: &str,
    lookup: Lookup<'_>,
    unset: &mut Vec<String>,
) -> Result<(String, usize), TemplateError> {
    let invalid = || TemplateError::Invalid(template.to_string());
    let len = name_len(body).ok_or_else(invalid)?;
    let name = &body[..len];
    let after = &body[len..];
    if after.starts_with('}') {
        return Ok((plain(name, lookup, unset), len + 1));
    }
    let op_len = match after.as_bytes() {
        [b':', b'-' | b'+' | b'?', ..] => 2,
        [b'-' | b'+' | b'?', ..] => 1,
        _ => return Err(invalid()),
    };
    let op = &after[..op_len];
    // compose-go's pattern needs a `}` later on the same line (`.*` stops at newlines).
    let line_end = after.find('\n').unwrap_or(after.len());
    if !after[..line_end].contains('}') {
        return Err(invalid());
    }
    let arg_start = len + op_len;
    let arg_len = closing_brace(&body[arg_start..]).unwrap_or(body.len() - arg_start);
    let arg = &body[arg_start..arg_start + arg_len];
    let used = (arg_start + arg_len + 1).min(body.len());
    let value = apply(name, op, arg, lookup, unset)?;
    Ok((value, used))
}

/// Index of the `}` closing the current `${`, counting nested `{`…`}` as compose-go does.
fn closing_brace(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut open = 1usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'}' => {
                open -= 1;
                if open == 0 {
                    return Some(i);
                }
            }
            // compose-go skips the byte after an opening brace.
            b'{' => {
                open += 1;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn apply(
    name: &str,
    op: &str,
    arg: &str,
    lookup: Lookup<'_>,
    unset: &mut Vec<String>,
) -> Result<String, TemplateError> {
    let value = lookup(name);
    let empty_counts = op.starts_with(':');
    let present = match &value {
        Some(v) => !(empty_counts && v.is_empty()),
        None => false,
    };
    match op.as_bytes().last() {
        Some(b'-') if present => Ok(value.unwrap_or_default()),
        Some(b'-') => substitute(arg, lookup, unset),
        Some(b'+') if present => substitute(arg, lookup, unset),
        Some(b'+') => Ok(value.unwrap_or_default()),
        _ if present => Ok(value.unwrap_or_default()),
        _ => Err(TemplateError::MissingRequired {
            variable: name.to_string(),
            reason: substitute(arg, lookup, unset)?,
        }),
    }
}

/// Substitutes every scalar value of `tree` (not keys). A substituted scalar becomes a
/// string, as in compose-go, where the value was a string before substitution.
pub fn interpolate_tree(
    tree: &mut Node,
    lookup: Lookup<'_>,
    unset: &mut Vec<String>,
) -> Result<(), LoadError> {
    walk(tree, "", lookup, unset)
}

fn walk(
    node: &mut Node,
    path: &str,
    lookup: Lookup<'_>,
    unset: &mut Vec<String>,
) -> Result<(), LoadError> {
    match &mut node.value {
        Value::Null => Ok(()),
        Value::Scalar(s) => {
            if !s.text.contains('$') {
                return Ok(());
            }
            match substitute(&s.text, lookup, unset) {
                Ok(v) => {
                    s.text = v;
                    s.quoted = true;
                    Ok(())
                }
                Err(e) => Err(path_error(node, path, &e)),
            }
        }
        Value::Seq(items) => {
            let next = join(path, "[]");
            for item in items {
                walk(item, &next, lookup, unset)?;
            }
            Ok(())
        }
        Value::Map(m) => {
            for (k, v) in m.iter_mut() {
                walk(v, &join(path, k), lookup, unset)?;
            }
            Ok(())
        }
    }
}

/// compose-go's wording, with the path it prints (`[]` for any list item).
fn path_error(node: &Node, path: &str, e: &TemplateError) -> LoadError {
    let message = match e {
        TemplateError::Invalid(t) => format!(
            "invalid interpolation format for {path}.\nYou may need to escape any $ with another $.\n{t}"
        ),
        other => format!("error while interpolating {path}: {other}"),
    };
    LoadError {
        pos: node.pos.clone(),
        key: None,
        message,
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
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
        let mut n = super::super::yaml::parse(
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
        let mut n = super::super::yaml::parse(std::path::Path::new("/c.yaml"), "$K: $V\n").unwrap();
        let lookup = |k: &str| Some(k.to_lowercase());
        interpolate_tree(&mut n, &lookup, &mut Vec::new()).unwrap();
        assert_eq!(n.get("$K").unwrap().as_str(), Some("v"));
    }
}
