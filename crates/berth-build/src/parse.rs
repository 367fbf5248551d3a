//! Dockerfile text to raw instruction nodes: parser directives, comments, line continuations
//! with the escape character, builder flags, and heredocs. Nothing is expanded here.

use crate::error::ParseError;

/// Parser directives from the top of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directives {
    /// `# syntax=`: the frontend image (berth builds `docker/dockerfile:1` syntax itself).
    pub syntax: Option<String>,
    /// `# escape=`: `\` (default) or `` ` ``.
    pub escape: char,
    /// `# check=`: lint settings (kept, not interpreted by the builder).
    pub check: Option<String>,
}

impl Default for Directives {
    fn default() -> Self {
        Directives {
            syntax: None,
            escape: '\\',
            check: None,
        }
    }
}

/// A here-document attached to an instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter word.
    pub name: String,
    /// The body, each line with its newline.
    pub content: String,
    /// False when the delimiter was quoted: the body is taken literally.
    pub expand: bool,
    /// `<<-`: leading tabs were stripped from the body and the delimiter line.
    pub strip_tabs: bool,
}

/// One instruction as written, before it is interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The instruction keyword, upper-cased.
    pub keyword: String,
    /// `--name[=value]` flags between the keyword and the arguments, as written.
    pub flags: Vec<String>,
    /// The arguments: continuation lines joined, comments removed.
    pub rest: String,
    /// Here-documents, in the order their markers appear.
    pub heredocs: Vec<Heredoc>,
    /// 1-based line of the keyword.
    pub line: usize,
    /// 1-based column of the keyword.
    pub column: usize,
    /// The instruction's text on its first line, for messages.
    pub source_line: String,
}

/// A parsed file: directives and its instructions in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The directives.
    pub directives: Directives,
    /// The instructions.
    pub nodes: Vec<Node>,
}

/// Instructions that accept here-documents.
const HEREDOC_KEYWORDS: &[&str] = &["RUN", "COPY", "ADD"];

/// Splits `text` into nodes. `file` names the Dockerfile in errors.
pub fn parse(file: &str, text: &str) -> Result<Parsed, ParseError> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut directives = Directives::default();
    let mut i = 0;
    // Directives come first; any other line (comment, blank, instruction) ends them.
    while i < lines.len() {
        let Some((key, value)) = directive(lines[i]) else {
            break;
        };
        match key.as_str() {
            "escape" => {
                directives.escape = match value.as_str() {
                    "\\" => '\\',
                    "`" => '`',
                    _ => {
                        return Err(ParseError::at(
                            file,
                            i + 1,
                            1,
                            lines[i],
                            format!("invalid escape token '{value}' does not match ` or \\"),
                        ));
                    }
                }
            }
            "syntax" => directives.syntax = Some(value),
            "check" => directives.check = Some(value),
            _ => {} // unknown directives are comments
        }
        i += 1;
    }
    let escape = directives.escape;
    let mut nodes = Vec::new();
    while i < lines.len() {
        let raw = strip_newline(lines[i]);
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        let column = raw.len() - trimmed.len() + 1;
        let mut logical = String::new();
        let mut current = trimmed.to_string();
        i += 1;
        loop {
            match continued(&current, escape) {
                Some(head) => {
                    logical.push_str(head);
                    // Comment and empty lines inside a continuation are dropped.
                    while i < lines.len() {
                        let t = strip_newline(lines[i]).trim_start();
                        if t.is_empty() || t.starts_with('#') {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    if i >= lines.len() {
                        break;
                    }
                    current = strip_newline(lines[i]).to_string();
                    i += 1;
                }
                None => {
                    logical.push_str(&current);
                    break;
                }
            }
        }
        let source_line = strip_newline(lines[start]).to_string();
        let err = |msg: String| ParseError::at(file, start + 1, column, &source_line, msg);
        let (keyword, after) = split_word(&logical);
        let keyword = keyword.to_ascii_uppercase();
        if !is_keyword(&keyword) {
            return Err(err(format!(
                "unknown instruction: {}",
                split_word(&logical).0
            )));
        }
        let (flags, rest) = split_flags(after);
        let mut node = Node {
            keyword,
            flags,
            rest: rest.trim().to_string(),
            heredocs: Vec::new(),
            line: start + 1,
            column,
            source_line: source_line.clone(),
        };
        if HEREDOC_KEYWORDS.contains(&node.keyword.as_str()) {
            for (name, expand, strip_tabs) in heredoc_markers(&node.rest) {
                let mut content = String::new();
                let mut closed = false;
                while i < lines.len() {
                    let body = strip_newline(lines[i]);
                    i += 1;
                    let body = if strip_tabs {
                        body.trim_start_matches('\t')
                    } else {
                        body
                    };
                    if body == name {
                        closed = true;
                        break;
                    }
                    content.push_str(body);
                    content.push('\n');
                }
                if !closed {
                    return Err(err(format!("unterminated heredoc {name}")));
                }
                node.heredocs.push(Heredoc {
                    name,
                    content,
                    expand,
                    strip_tabs,
                });
            }
        }
        nodes.push(node);
    }
    Ok(Parsed { directives, nodes })
}

fn strip_newline(line: &str) -> &str {
    line.strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(line)
}

/// `# key=value` at the top of the file.
fn directive(line: &str) -> Option<(String, String)> {
    let body = strip_newline(line).trim().strip_prefix('#')?;
    let (key, value) = body.split_once('=')?;
    let key = key.trim();
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some((key.to_ascii_lowercase(), value.trim().to_string()))
}

/// The line without its trailing escape character, if it continues on the next line.
fn continued(line: &str, escape: char) -> Option<&str> {
    let t = line.trim_end_matches([' ', '\t']);
    let head = t.strip_suffix(escape)?;
    // An escaped escape character (`\\`) at the end does not continue the line.
    let escapes = head.chars().rev().take_while(|&c| c == escape).count();
    (escapes % 2 == 0).then_some(head)
}

fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(n) => (&s[..n], &s[n..]),
        None => (s, ""),
    }
}

/// Leading `--flag[=value]` words, then the rest.
fn split_flags(mut s: &str) -> (Vec<String>, &str) {
    let mut flags = Vec::new();
    loop {
        let (w, after) = split_word(s);
        if w.starts_with("--") && w.len() > 2 {
            flags.push(w.to_string());
            s = after;
        } else {
            return (flags, s);
        }
    }
}

fn is_keyword(k: &str) -> bool {
    matches!(
        k,
        "FROM"
            | "RUN"
            | "CMD"
            | "LABEL"
            | "MAINTAINER"
            | "EXPOSE"
            | "ENV"
            | "ADD"
            | "COPY"
            | "ENTRYPOINT"
            | "VOLUME"
            | "USER"
            | "WORKDIR"
            | "ARG"
            | "ONBUILD"
            | "STOPSIGNAL"
            | "HEALTHCHECK"
            | "SHELL"
    )
}

/// Here-document markers in an instruction's arguments: `<<EOF`, `<<-EOF`, `<<"EOF"`,
/// `<<'EOF'`, as (name, expand, strip tabs). Exec-form (JSON) arguments have none.
fn heredoc_markers(rest: &str) -> Vec<(String, bool, bool)> {
    if rest.trim_start().starts_with('[') {
        return Vec::new();
    }
    let mut out = Vec::new();
    let b = rest.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i + 1 < b.len() {
        match (quote, b[i]) {
            (None, b'\'' | b'"') => quote = Some(b[i]),
            (Some(q), c) if c == q => quote = None,
            (None, b'<')
                if b[i + 1] == b'<'
                    && (i == 0 || b[i - 1] != b'<')
                    && (i + 2 >= b.len() || b[i + 2] != b'<') =>
            {
                let mut j = i + 2;
                let strip = b.get(j) == Some(&b'-');
                if strip {
                    j += 1;
                }
                let q = match b.get(j) {
                    Some(&c @ (b'"' | b'\'')) => {
                        j += 1;
                        Some(c)
                    }
                    _ => None,
                };
                let start = j;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                let closed = match q {
                    Some(c) => b.get(j) == Some(&c),
                    None => true,
                };
                if j > start && closed && !b[start].is_ascii_digit() {
                    out.push((rest[start..j].to_string(), q.is_none(), strip));
                    i = j + usize::from(q.is_some());
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(text: &str) -> Vec<Node> {
        parse("Dockerfile", text).unwrap().nodes
    }

    #[test]
    fn directives_comments_and_continuations() {
        let p = parse(
            "Dockerfile",
            "# syntax=docker/dockerfile:1\n# escape=`\n\nFROM x\n# a comment\nRUN echo a `\n  # dropped\n\n  b\n",
        )
        .unwrap();
        assert_eq!(p.directives.escape, '`');
        assert_eq!(p.directives.syntax.as_deref(), Some("docker/dockerfile:1"));
        let n = &p.nodes;
        assert_eq!(n.len(), 2);
        assert_eq!(
            (n[1].keyword.as_str(), n[1].rest.as_str()),
            ("RUN", "echo a   b")
        );
        assert_eq!(n[1].line, 6);
        // A directive after the first instruction or comment is a comment.
        let p = parse("Dockerfile", "FROM x\n# escape=`\nRUN a \\\n b\n").unwrap();
        assert_eq!(p.directives.escape, '\\');
        assert_eq!(p.nodes[1].rest, "a  b");
    }

    #[test]
    fn flags_and_keywords() {
        let n =
            nodes("from --platform=linux/amd64 img AS base\ncopy --from=base --chown=1:1 /a /b\n");
        assert_eq!(n[0].keyword, "FROM");
        assert_eq!(n[0].flags, ["--platform=linux/amd64"]);
        assert_eq!(n[0].rest, "img AS base");
        assert_eq!(n[1].flags, ["--from=base", "--chown=1:1"]);
        let e = parse("Dockerfile", "FROM x\n  RUNN echo\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
        assert!(e.to_string().contains("unknown instruction: RUNN"), "{e}");
        assert!(e.to_string().contains("RUNN echo"), "{e}");
    }

    #[test]
    fn heredocs() {
        let n = nodes(
            "FROM x\nRUN <<EOF bash\necho $HOME\nEOF\nCOPY <<-\"A\" <<'B' /dst/\n\tone\n\tA\ntwo $x\nB\nRUN echo done\n",
        );
        assert_eq!(n.len(), 4);
        assert_eq!(n[1].heredocs[0].content, "echo $HOME\n");
        assert!(n[1].heredocs[0].expand);
        let h = &n[2].heredocs;
        assert_eq!(
            (
                h[0].name.as_str(),
                h[0].content.as_str(),
                h[0].expand,
                h[0].strip_tabs
            ),
            ("A", "one\n", false, true)
        );
        assert_eq!((h[1].content.as_str(), h[1].expand), ("two $x\n", false));
        assert_eq!(n[3].rest, "echo done");
        let e = parse("Dockerfile", "FROM x\nRUN <<EOF\nnever closed\n").unwrap_err();
        assert!(e.to_string().contains("unterminated heredoc EOF"), "{e}");
        // `<<<` and exec form are not heredocs.
        assert!(nodes("RUN cat <<<word\n")[0].heredocs.is_empty());
        assert!(nodes("RUN [\"sh\", \"<<EOF\"]\n")[0].heredocs.is_empty());
    }
}
