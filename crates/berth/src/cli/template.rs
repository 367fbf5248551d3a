//! `--format`: the part of Go's text/template that Docker's formats use, over JSON values.
//!
//! Supported: text with `{{.Field.Sub}}`, `{{.}}`, `{{json .X}}`, `{{index .X "key"}}`,
//! `{{join .X "sep"}}`, `{{upper .X}}`, `{{lower .X}}`, `{{println .X}}`, and Docker's `table`
//! prefix with `\t` / `\n` escapes. Anything else is refused with a message naming it, never
//! printed wrong.

use anyhow::{Result, bail};
use serde_json::Value;

/// A parsed format.
#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
    /// Began with `table`: the caller prints a header and aligns columns.
    pub table: bool,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Action(Vec<String>),
}

impl Template {
    /// Parses `format` as Docker's formatter reads it.
    pub fn parse(format: &str) -> Result<Template> {
        let (table, body) = match format.strip_prefix("table") {
            Some(rest) => (true, rest.trim_matches(' ')),
            None => (false, format),
        };
        let body = body.replace("\\t", "\t").replace("\\n", "\n");
        let mut parts = Vec::new();
        let mut rest = body.as_str();
        while let Some(start) = rest.find("{{") {
            parts.push(Part::Text(rest[..start].to_string()));
            let Some(end) = rest[start..].find("}}") else {
                bail!("template: unclosed action in {format:?}");
            };
            let inner = rest[start + 2..start + end].trim().trim_matches('-').trim();
            parts.push(Part::Action(words(inner)?));
            rest = &rest[start + end + 2..];
        }
        parts.push(Part::Text(rest.to_string()));
        Ok(Template { parts, table })
    }

    /// The template applied to `v`.
    pub fn render(&self, v: &Value) -> Result<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Action(words) => out.push_str(&action(words, v)?),
            }
        }
        Ok(out)
    }
}

/// An action's words; a quoted string stays one word (with its quotes).
fn words(s: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut w = String::new();
        if c == '"' {
            w.push(chars.next().unwrap_or('"'));
            for c in chars.by_ref() {
                w.push(c);
                if c == '"' {
                    break;
                }
            }
        } else {
            while let Some(&c) = chars.peek().filter(|c| !c.is_whitespace()) {
                w.push(c);
                chars.next();
            }
        }
        out.push(w);
    }
    Ok(out)
}

fn action(words: &[String], v: &Value) -> Result<String> {
    let arg = |i: usize| -> Result<Value> {
        match words.get(i) {
            Some(w) => operand(w, v),
            None => bail!("template: missing argument in {{{{{}}}}}", words.join(" ")),
        }
    };
    Ok(match words.first().map(String::as_str) {
        Some(w) if w.starts_with('.') && words.len() == 1 => go_string(&operand(w, v)?),
        Some("json") => serde_json::to_string(&arg(1)?)?,
        Some("upper") => go_string(&arg(1)?).to_uppercase(),
        Some("lower") => go_string(&arg(1)?).to_lowercase(),
        Some("println") => format!("{}\n", go_string(&arg(1)?)),
        Some("index") => go_string(
            &arg(1)?
                .get(go_string(&arg(2)?))
                .cloned()
                .unwrap_or_default(),
        ),
        Some("join") => {
            let sep = go_string(&arg(2)?);
            let items: Vec<String> = arg(1)?
                .as_array()
                .map(|a| a.iter().map(go_string).collect())
                .unwrap_or_default();
            items.join(&sep)
        }
        _ => bail!(
            "template: berth does not support the action {{{{{}}}}}",
            words.join(" ")
        ),
    })
}

/// `.A.B` looked up in `v`, or a quoted string literal.
fn operand(w: &str, v: &Value) -> Result<Value> {
    if let Some(s) = w.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return Ok(Value::String(s.to_string()));
    }
    let Some(path) = w.strip_prefix('.') else {
        bail!("template: berth does not support the operand {w:?}");
    };
    let mut cur = v;
    for key in path.split('.').filter(|k| !k.is_empty()) {
        cur = match cur.get(key) {
            Some(next) => next,
            None => return Ok(Value::Null),
        };
    }
    Ok(cur.clone())
}

/// A value as Go's `fmt` prints it in a template.
fn go_string(v: &Value) -> String {
    match v {
        Value::Null => "<no value>".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(go_string).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(m) => format!(
            "map[{}]",
            m.iter()
                .map(|(k, v)| format!("{k}:{}", go_string(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        other => other.to_string(),
    }
}

/// Prints what `t` rendered: aligned as Docker's tabwriter does for a `table` format (cells at
/// least 10 wide), one line each otherwise.
pub fn print_rows(t: &Template, rows: &[String]) {
    if t.table {
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.split('\t').map(str::to_string).collect())
            .collect();
        super::table_min(&cells, 10);
    } else {
        rows.iter().for_each(|r| println!("{r}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_fields_json_and_tables() {
        let v = serde_json::json!({"Name": "data", "Labels": {"a": "b"}, "N": 3});
        let t = Template::parse("{{.Name}} {{.Labels.a}} {{json .Labels}} {{.N}}").unwrap();
        assert_eq!(t.render(&v).unwrap(), r#"data b {"a":"b"} 3"#);
        let t = Template::parse(r#"table {{.Name}}\t{{index .Labels "a"}}"#).unwrap();
        assert!(t.table);
        assert_eq!(t.render(&v).unwrap(), "data\tb");
        let refused = Template::parse("{{if .Name}}x{{end}}")
            .unwrap()
            .render(&v)
            .unwrap_err();
        assert!(refused.to_string().contains("{{if .Name}}"), "{refused}");
    }
}
