//! A small ordered document (what `config` prints) and its two writers: YAML as go-yaml v3
//! writes it with an indent of 2 (compose's encoder), JSON as Go's `json.MarshalIndent`.

use std::fmt::Write;

/// A value to print, maps in the order they are to appear.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    /// `null`.
    Null,
    /// A string (quoted when YAML would read it as something else).
    Str(String),
    /// A number, as its text.
    Num(String),
    /// A boolean.
    Bool(bool),
    /// A sequence.
    Seq(Vec<Out>),
    /// A mapping.
    Map(Vec<(String, Out)>),
}

impl Out {
    /// A string.
    pub fn str(s: impl Into<String>) -> Out {
        Out::Str(s.into())
    }

    /// A number.
    pub fn num(n: impl ToString) -> Out {
        Out::Num(n.to_string())
    }

    /// The mapping's entry `key`, if any.
    pub fn get(&self, key: &str) -> Option<&Out> {
        match self {
            Out::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The YAML document.
    pub fn to_yaml(&self) -> String {
        let mut s = String::new();
        match self {
            Out::Map(m) if !m.is_empty() => yaml_map(&mut s, m, 0),
            Out::Seq(l) if !l.is_empty() => yaml_seq(&mut s, l, 0),
            other => {
                s.push_str(&yaml_inline(other, 0));
                s.push('\n');
            }
        }
        s
    }

    /// The JSON document, indented by two spaces, HTML characters escaped as Go does.
    pub fn to_json(&self) -> String {
        let mut s = String::new();
        json(&mut s, self, 0, true);
        s
    }

    /// Compact JSON (for hashing).
    pub fn to_compact_json(&self) -> String {
        let mut s = String::new();
        json(&mut s, self, 0, false);
        s
    }
}

fn pad(s: &mut String, n: usize) {
    s.extend(std::iter::repeat_n(' ', n));
}

fn yaml_map(s: &mut String, m: &[(String, Out)], indent: usize) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            pad(s, indent);
        }
        s.push_str(&yaml_scalar(k, indent));
        s.push(':');
        yaml_value(s, v, indent);
    }
}

fn yaml_seq(s: &mut String, l: &[Out], indent: usize) {
    for (i, v) in l.iter().enumerate() {
        if i > 0 {
            pad(s, indent);
        }
        s.push_str("- ");
        match v {
            Out::Map(m) if !m.is_empty() => yaml_map(s, m, indent + 2),
            Out::Seq(l) if !l.is_empty() => yaml_seq(s, l, indent + 2),
            other => {
                s.push_str(&yaml_inline(other, indent + 2));
                s.push('\n');
            }
        }
    }
}

/// After `key:`: a scalar on the line, or a nested block on the next lines.
fn yaml_value(s: &mut String, v: &Out, indent: usize) {
    match v {
        Out::Map(m) if !m.is_empty() => {
            s.push('\n');
            pad(s, indent + 2);
            yaml_map(s, m, indent + 2);
        }
        Out::Seq(l) if !l.is_empty() => {
            s.push('\n');
            pad(s, indent + 2);
            yaml_seq(s, l, indent + 2);
        }
        other => {
            s.push(' ');
            s.push_str(&yaml_inline(other, indent));
            s.push('\n');
        }
    }
}

fn yaml_inline(v: &Out, indent: usize) -> String {
    match v {
        Out::Null => "null".into(),
        Out::Bool(b) => b.to_string(),
        Out::Num(n) => n.clone(),
        Out::Str(t) => yaml_scalar(t, indent),
        Out::Seq(_) => "[]".into(),
        Out::Map(_) => "{}".into(),
    }
}

/// A string as go-yaml writes it: plain when YAML reads it back as that string, double quotes
/// when it would read as another type, single quotes when plain is not allowed, a literal
/// block for several lines.
fn yaml_scalar(t: &str, indent: usize) -> String {
    if t.contains('\n') && t.chars().all(|c| c == '\n' || !c.is_control() || c == '\t') {
        return literal_block(t, indent);
    }
    if t.chars().any(|c| c.is_control()) {
        return double_quoted(t);
    }
    if resolves_to_non_string(t) {
        return double_quoted(t);
    }
    if !plain_allowed(t) {
        return format!("'{}'", t.replace('\'', "''"));
    }
    t.to_owned()
}

fn literal_block(t: &str, indent: usize) -> String {
    let chomp = if t.ends_with("\n\n") {
        "+"
    } else if t.ends_with('\n') {
        ""
    } else {
        "-"
    };
    let lead = if t.starts_with(' ') { "2" } else { "" };
    let mut s = format!("|{lead}{chomp}");
    let body = t.strip_suffix('\n').unwrap_or(t);
    for line in body.split('\n') {
        s.push('\n');
        if !line.is_empty() {
            pad(&mut s, indent + 2);
            s.push_str(line);
        }
    }
    s
}

fn double_quoted(t: &str) -> String {
    let mut s = String::from("\"");
    for c in t.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\t' => s.push_str("\\t"),
            '\r' => s.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(s, "\\x{:02X}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// Would YAML (go-yaml v3's resolver, including its YAML 1.1 leftovers) read `t` as a null,
/// bool, number or timestamp?
fn resolves_to_non_string(t: &str) -> bool {
    const WORDS: &[&str] = &[
        "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "y",
        "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF", ".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN",
    ];
    if WORDS.contains(&t) {
        return true;
    }
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let digits = body.replace('_', "");
    let is_int = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
        || ["0x", "0o", "0b"].iter().any(|p| {
            digits
                .strip_prefix(p)
                .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_hexdigit()))
        });
    let is_float = body.chars().any(|c| c.is_ascii_digit())
        && body.parse::<f64>().is_ok()
        && !body
            .chars()
            .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E');
    is_int || is_float || is_base60(body) || is_timestamp(t)
}

/// `1:30`, `1:30:05.5` (YAML 1.1 sexagesimal numbers).
fn is_base60(t: &str) -> bool {
    let mut parts = t.split(':');
    let Some(first) = parts.next() else {
        return false;
    };
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty() || first.is_empty() || !first.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return false;
    }
    let last = rest.len() - 1;
    rest.iter().enumerate().all(|(i, p)| {
        let p = if i == last {
            p.split('.').next().unwrap_or(p)
        } else {
            p
        };
        !p.is_empty() && p.len() <= 2 && p.parse::<u32>().is_ok_and(|n| n < 60)
    })
}

/// `2001-12-14` and the timestamps that start like it.
fn is_timestamp(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 8
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && t[5..].chars().next().is_some_and(|c| c.is_ascii_digit())
        && t.chars()
            .all(|c| c.is_ascii_digit() || "-:.TtZz +".contains(c))
}

/// libyaml's rules for a plain scalar in block context.
fn plain_allowed(t: &str) -> bool {
    let first = t.chars().next().unwrap_or(' ');
    let second = t.chars().nth(1);
    if t.starts_with(' ') || t.ends_with(' ') || t.ends_with(':') {
        return false;
    }
    if "#,[]{}&*!|>'\"%@`".contains(first) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') && second.is_none_or(|c| c == ' ') {
        return false;
    }
    if t.starts_with("---") || t.starts_with("...") {
        return false;
    }
    !(t.contains(": ") || t.contains(" #") || t.contains('\t'))
}

fn json(s: &mut String, v: &Out, indent: usize, pretty: bool) {
    let nl = |s: &mut String, n: usize| {
        if pretty {
            s.push('\n');
            pad(s, n);
        }
    };
    match v {
        Out::Null => s.push_str("null"),
        Out::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
        Out::Num(n) => s.push_str(n),
        Out::Str(t) => json_string(s, t),
        Out::Seq(l) if l.is_empty() => s.push_str("[]"),
        Out::Map(m) if m.is_empty() => s.push_str("{}"),
        Out::Seq(l) => {
            s.push('[');
            for (i, item) in l.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                nl(s, indent + 2);
                json(s, item, indent + 2, pretty);
            }
            nl(s, indent);
            s.push(']');
        }
        Out::Map(m) => {
            s.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                nl(s, indent + 2);
                json_string(s, k);
                s.push_str(if pretty { ": " } else { ":" });
                json(s, item, indent + 2, pretty);
            }
            nl(s, indent);
            s.push('}');
        }
    }
}

fn json_string(s: &mut String, t: &str) {
    s.push('"');
    for c in t.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_quotes_as_go_yaml() {
        assert_eq!(yaml_scalar("8080", 0), "\"8080\"");
        assert_eq!(yaml_scalar("true", 0), "\"true\"");
        assert_eq!(yaml_scalar("yes", 0), "\"yes\"");
        assert_eq!(yaml_scalar("", 0), "\"\"");
        assert_eq!(yaml_scalar("1.5", 0), "\"1.5\"");
        assert_eq!(yaml_scalar("1:30", 0), "\"1:30\"");
        assert_eq!(yaml_scalar("8080:80", 0), "8080:80");
        assert_eq!(yaml_scalar("nginx:latest", 0), "nginx:latest");
        assert_eq!(yaml_scalar("a: b", 0), "'a: b'");
        assert_eq!(yaml_scalar("*x", 0), "'*x'");
        assert_eq!(yaml_scalar("-", 0), "'-'");
        assert_eq!(yaml_scalar("-c", 0), "-c");
        assert_eq!(yaml_scalar("it's", 0), "it's");
        assert_eq!(yaml_scalar("'q'", 0), "'''q'''");
        assert_eq!(yaml_scalar("a\nb", 4), "|-\n      a\n      b");
        assert_eq!(yaml_scalar("2001-12-14", 0), "\"2001-12-14\"");
    }

    #[test]
    fn yaml_blocks() {
        let doc = Out::Map(vec![
            ("name".into(), Out::str("p")),
            (
                "list".into(),
                Out::Seq(vec![
                    Out::Map(vec![("a".into(), Out::num(1)), ("b".into(), Out::Null)]),
                    Out::str("x"),
                ]),
            ),
            ("empty".into(), Out::Map(vec![])),
        ]);
        assert_eq!(
            doc.to_yaml(),
            "name: p\nlist:\n  - a: 1\n    b: null\n  - x\nempty: {}\n"
        );
        assert_eq!(
            doc.to_json(),
            "{\n  \"name\": \"p\",\n  \"list\": [\n    {\n      \"a\": 1,\n      \"b\": null\n    },\n    \"x\"\n  ],\n  \"empty\": {}\n}"
        );
    }
}
