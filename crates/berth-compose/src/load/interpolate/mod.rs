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
mod tests;
