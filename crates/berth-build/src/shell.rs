//! Docker's shell-word rules for instruction arguments: quotes, the escape character, and
//! variable substitution (`$v`, `${v}`, `${v:-x}`, `${v-x}`, `${v:+x}`, `${v+x}`, `${v:?x}`,
//! `${v?x}`). This is not a shell: no globbing, no commands, no arithmetic.

use std::iter::Peekable;
use std::str::Chars;

/// Looks a variable up; `None` when it is unset.
pub trait Env {
    /// The value of `name`.
    fn get(&self, name: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Env for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// Splits arguments into words on unquoted whitespace, keeping quotes and escapes as written
/// (they are interpreted later, by [`word`] or [`words`]).
pub fn split_raw(s: &str, escape: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, c) if c == escape && quote != Some('\'') => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                cur.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Processes one word: quotes removed, escapes applied, variables substituted. Whitespace is
/// kept (no splitting).
pub fn word(s: &str, escape: char, env: &dyn Env) -> Result<String, crate::error::Invalid> {
    let mut out = Lexer {
        escape,
        env,
        split: false,
    }
    .run(s)?;
    Ok(out.pop().unwrap_or_default())
}

/// Processes a list: like [`word`], then split on whitespace that was not quoted or escaped.
pub fn words(s: &str, escape: char, env: &dyn Env) -> Result<Vec<String>, crate::error::Invalid> {
    Lexer {
        escape,
        env,
        split: true,
    }
    .run(s)
}

struct Lexer<'a> {
    escape: char,
    env: &'a dyn Env,
    split: bool,
}

impl Lexer<'_> {
    fn run(&self, s: &str) -> Result<Vec<String>, crate::error::Invalid> {
        let mut chars = s.chars().peekable();
        let mut words = Vec::new();
        let mut cur = String::new();
        let mut in_word = false;
        while let Some(c) = chars.next() {
            if c == self.escape {
                match chars.next() {
                    Some(n) => cur.push(n),
                    None => cur.push(c),
                }
                in_word = true;
            } else if c == '\'' {
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(n) => cur.push(n),
                        None => {
                            return Err(
                                "unexpected end of statement while looking for matching single-quote"
                                    .into(),
                            );
                        }
                    }
                }
                in_word = true;
            } else if c == '"' {
                self.double_quoted(&mut chars, &mut cur)?;
                in_word = true;
            } else if c == '$' {
                // Unquoted, a value's whitespace splits words too.
                for v in self.variable(&mut chars)?.chars() {
                    if self.split && v.is_whitespace() {
                        if in_word {
                            words.push(std::mem::take(&mut cur));
                            in_word = false;
                        }
                    } else {
                        cur.push(v);
                        in_word = true;
                    }
                }
            } else if self.split && c.is_whitespace() {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            } else {
                cur.push(c);
                in_word = true;
            }
        }
        if in_word || !self.split {
            words.push(cur);
        }
        Ok(words)
    }

    fn double_quoted(
        &self,
        chars: &mut Peekable<Chars<'_>>,
        cur: &mut String,
    ) -> Result<(), crate::error::Invalid> {
        loop {
            match chars.next() {
                Some('"') => return Ok(()),
                Some('$') => cur.push_str(&self.variable(chars)?),
                Some(c) if c == self.escape => match chars.peek() {
                    Some(&n) if n == '"' || n == '$' || n == self.escape => {
                        cur.push(n);
                        chars.next();
                    }
                    _ => cur.push(c),
                },
                Some(c) => cur.push(c),
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    );
                }
            }
        }
    }

    /// After a `$`: the substitution's value.
    fn variable(&self, chars: &mut Peekable<Chars<'_>>) -> Result<String, crate::error::Invalid> {
        match chars.peek() {
            Some('{') => {
                chars.next();
                self.braced(chars)
            }
            Some(&c) if c.is_ascii_alphabetic() || c == '_' => {
                let mut name = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        name.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                Ok(self.env.get(&name).unwrap_or_default())
            }
            _ => Ok("$".into()),
        }
    }

    fn braced(&self, chars: &mut Peekable<Chars<'_>>) -> Result<String, crate::error::Invalid> {
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_alphanumeric() || c == '_' {
                name.push(c);
                chars.next();
            } else {
                break;
            }
        }
        if name.is_empty() {
            return Err("bad substitution: missing variable name".into());
        }
        let value = self.env.get(&name);
        let colon = chars.peek() == Some(&':');
        if colon {
            chars.next();
        }
        let op = chars.next();
        if op == Some('}') && !colon {
            return Ok(value.unwrap_or_default());
        }
        let Some(op @ ('-' | '+' | '?')) = op else {
            return Err(crate::invalid!(
                "unsupported modifier ({}) in substitution",
                op.map(String::from).unwrap_or_default()
            ));
        };
        let word = self.until_brace(chars)?;
        // With `:`, an empty value counts as unset.
        let set = match &value {
            Some(v) => !(colon && v.is_empty()),
            None => false,
        };
        Ok(match op {
            '-' if set => value.unwrap_or_default(),
            '-' => word,
            '+' if set => word,
            '+' => String::new(),
            _ if set => value.unwrap_or_default(),
            _ if word.is_empty() => {
                return Err(crate::invalid!("{name}: is not allowed to be unset"));
            }
            _ => return Err(crate::invalid!("{name}: {word}")),
        })
    }

    /// The word of `${v:-word}` up to the closing brace, itself processed.
    fn until_brace(
        &self,
        chars: &mut Peekable<Chars<'_>>,
    ) -> Result<String, crate::error::Invalid> {
        let mut out = String::new();
        loop {
            match chars.next() {
                Some('}') => return Ok(out),
                Some('$') => out.push_str(&self.variable(chars)?),
                Some('\'') => loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => out.push(c),
                        None => return Err("unexpected end of statement: missing '}'".into()),
                    }
                },
                Some('"') => self.double_quoted(chars, &mut out)?,
                Some(c) if c == self.escape => {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                }
                Some(c) => out.push(c),
                None => return Err("unexpected end of statement: missing '}'".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("a".into()),
            "EMPTY" => Some(String::new()),
            "SP" => Some("x y".into()),
            _ => None,
        }
    }

    fn w(s: &str) -> String {
        word(s, '\\', &env).unwrap()
    }

    #[test]
    fn substitutions() {
        assert_eq!(w("$A ${A}b $NOPE."), "a ab .");
        assert_eq!(w("${NOPE:-d} ${EMPTY:-d} ${EMPTY-d} ${NOPE-d}"), "d d  d");
        assert_eq!(
            w("${A:+alt} ${EMPTY:+alt}|${EMPTY+alt} ${NOPE+alt}"),
            "alt |alt "
        );
        assert_eq!(w("${NOPE:-$A-${A}}"), "a-a");
        assert_eq!(w("${A:?boom}"), "a");
        assert_eq!(
            word("${NOPE:?boom}", '\\', &env).unwrap_err().0,
            "NOPE: boom"
        );
        assert!(
            word("${A%x}", '\\', &env)
                .unwrap_err()
                .0
                .contains("unsupported modifier")
        );
        assert_eq!(w("$ $1 100$"), "$ $1 100$");
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(w(r#"'$A' "$A" \$A"#), "$A a $A");
        assert_eq!(w(r#""a\"b\$A\\c\d""#), r#"a"b$A\c\d"#);
        assert_eq!(word("`$A", '`', &env).unwrap(), "$A");
        word("'open", '\\', &env).unwrap_err();
    }

    #[test]
    fn lists_split_outside_quotes() {
        assert_eq!(
            words("80/tcp  $SP '1 2'", '\\', &env).unwrap(),
            ["80/tcp", "x", "y", "1 2"]
        );
        assert_eq!(words(r"a\ b c", '\\', &env).unwrap(), ["a b", "c"]);
        assert_eq!(
            split_raw(r#"k="v 1" j=\ x  'q r'"#, '\\'),
            [r#"k="v 1""#, r"j=\ x", "'q r'"]
        );
    }
}
