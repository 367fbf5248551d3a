//! The env-file syntax of compose-go's `dotenv` package, used for `.env`, `--env-file` and
//! services' `env_file`: `#` comments, `export `, `KEY=value` or `KEY: value`, single quotes
//! (literal), double quotes (escapes, several lines), unquoted values ending at ` #`, a bare
//! `KEY` taken from the environment, and `${VAR}` in values (earlier keys and the lookup).

use std::path::Path;

use indexmap::IndexMap;

use super::interpolate::substitute;
use super::node::{LoadError, open_error};

/// Reads the env file at `path`. `lookup` answers variables that are not in the file
/// (and wins over the file's earlier keys, as in compose-go).
pub fn parse_env_file(
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<IndexMap<String, String>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| open_error(path, &e))?;
    let mut out = IndexMap::new();
    parse_into(&text, &mut out, lookup)
        .map_err(|m| LoadError::msg(format!("failed to read {}: {m}", path.display())))?;
    Ok(out)
}

/// The project's env files (`.env` or `--env-file`s), later files over earlier ones; in
/// values, `environment` (the process's) wins over keys read so far.
pub fn read_env_files(
    files: &[std::path::PathBuf],
    environment: &IndexMap<String, String>,
) -> Result<IndexMap<String, String>, LoadError> {
    let mut out: IndexMap<String, String> = IndexMap::new();
    for file in files {
        if !file.exists() {
            return Err(LoadError::msg(format!(
                "couldn't find env file: {}",
                file.display()
            )));
        }
        if file.is_dir() {
            return Err(LoadError::msg(format!("{} is a directory", file.display())));
        }
        let text = std::fs::read_to_string(file).map_err(|e| open_error(file, &e))?;
        // Keys read so far are consulted after `environment` by `expand` itself.
        let lookup = |k: &str| environment.get(k).cloned();
        parse_into(&text, &mut out, &lookup)
            .map_err(|m| LoadError::msg(format!("failed to read {}: {m}", file.display())))?;
    }
    Ok(out)
}

/// Parses env-file text into `out`; the error is compose-go's message (`line N: ...`).
pub fn parse_into(
    text: &str,
    out: &mut IndexMap<String, String>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), String> {
    let mut p = EnvParser { line: 1 };
    let mut rest = text.strip_prefix('\u{feff}').unwrap_or(text);
    loop {
        rest = p.statement_start(rest);
        if rest.is_empty() {
            return Ok(());
        }
        let (key, left, inherited) = p.key_name(rest)?;
        if key.contains(' ') {
            return Err(format!("line {}: key cannot contain a space", p.line));
        }
        if inherited {
            if let Some(v) = lookup(&key) {
                out.insert(key, v);
            }
            rest = left;
            continue;
        }
        let (value, left) = p.value(left, out, lookup)?;
        out.insert(key, value);
        rest = left;
    }
}

struct EnvParser {
    line: usize,
}

/// Space but not a line break, as compose-go's `isSpace`.
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

impl EnvParser {
    /// Skips blank space and comment lines.
    fn statement_start<'a>(&mut self, src: &'a str) -> &'a str {
        let mut src = src;
        loop {
            let Some(pos) = src.find(|c: char| {
                if c == '\n' {
                    self.line += 1;
                }
                !c.is_whitespace()
            }) else {
                return "";
            };
            src = &src[pos..];
            if !src.starts_with('#') {
                return src;
            }
            match src.find('\n') {
                Some(nl) => src = &src[nl..],
                None => return "",
            }
        }
    }

    fn key_name<'a>(&mut self, src: &'a str) -> Result<(String, &'a str, bool), String> {
        let mut src = src;
        if let Some(after) = src.strip_prefix("export")
            && after.starts_with(char::is_whitespace)
        {
            src = after.trim_start_matches(is_space);
        }
        let mut end = None;
        for (i, c) in src.char_indices() {
            if is_space(c) {
                continue;
            }
            match c {
                '=' | ':' | '\n' => {
                    end = Some((i, c));
                    break;
                }
                '_' | '.' | '-' | '[' | ']' => {}
                c if c.is_alphanumeric() => {}
                c => {
                    let first = src.split('\n').next().unwrap_or_default();
                    return Err(format!(
                        "line {}: unexpected character {:?} in variable name {first:?}",
                        self.line,
                        c.to_string()
                    ));
                }
            }
        }
        // A last line without `=` or newline: a bare key, like one ending in a newline.
        let (i, c) = end.unwrap_or((src.len(), '\n'));
        let key = &src[..i];
        let inherited = c == '\n';
        if inherited && !key.contains(' ') {
            self.line += 1;
        }
        let left = src.get(i + c.len_utf8()..).unwrap_or("");
        Ok((
            key.trim_end().to_string(),
            left.trim_start_matches(is_space),
            inherited,
        ))
    }

    fn value<'a>(
        &mut self,
        src: &'a str,
        out: &IndexMap<String, String>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(String, &'a str), String> {
        let quote = match src.as_bytes().first() {
            Some(q @ (b'"' | b'\'')) => *q,
            _ => {
                let (value, rest) = src.split_once('\n').unwrap_or((src, ""));
                self.line += 1;
                let value = value.split(" #").next().unwrap_or_default().trim_end();
                return Ok((expand(value, out, lookup)?, rest));
            }
        };
        let bytes = src.as_bytes();
        let mut chars = Vec::new();
        let mut escaped = false;
        for i in 1..bytes.len() {
            let c = bytes[i];
            if c == b'\n' {
                self.line += 1;
            }
            if c != quote {
                if !escaped && c == b'\\' {
                    escaped = true;
                    continue;
                }
                if escaped {
                    escaped = false;
                    chars.push(b'\\');
                }
                chars.push(c);
                continue;
            }
            if escaped {
                escaped = false;
                chars.push(c);
                continue;
            }
            let value = String::from_utf8_lossy(&chars).into_owned();
            let value = if quote == b'"' {
                expand(&expand_escapes(&value), out, lookup)?
            } else {
                value
            };
            return Ok((value, &src[i + 1..]));
        }
        let line_end = src.find('\n').unwrap_or(src.len());
        Err(format!(
            "line {}: unterminated quoted value {}",
            self.line,
            &src[..line_end]
        ))
    }
}

fn expand(
    value: &str,
    out: &IndexMap<String, String>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let both = |k: &str| lookup(k).or_else(|| out.get(k).cloned());
    substitute(value, &both, &mut Vec::new()).map_err(|e| e.to_string())
}

/// Shell escapes in double quotes: `\n`, `\t`, ..., `\0ddd` (octal); `\$` stays a literal `$`.
fn expand_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(&(_, e)) = it.peek() else {
            out.push('\\');
            continue;
        };
        let simple = match e {
            'a' => Some("\u{7}"),
            'b' => Some("\u{8}"),
            'f' => Some("\u{c}"),
            'n' => Some("\n"),
            'r' => Some("\r"),
            't' => Some("\t"),
            'v' => Some("\u{b}"),
            '"' => Some("\""),
            '\\' => Some("\\"),
            '$' => Some("$$"),
            _ => None,
        };
        if let Some(r) = simple {
            out.push_str(r);
            it.next();
            continue;
        }
        if e == '0' {
            let digits: String = s[i + 2..]
                .chars()
                .take_while(char::is_ascii_digit)
                .take(3)
                .collect();
            let whole = &s[i..i + 2 + digits.len()];
            for _ in 0..=digits.len() {
                it.next();
            }
            match u8::from_str_radix(&digits, 8) {
                Ok(b) if digits.len() == 3 => out.push(char::from(b)),
                _ => out.push_str(whole),
            }
            continue;
        }
        out.push('\\');
    }
    out
}

#[cfg(test)]
mod tests;
