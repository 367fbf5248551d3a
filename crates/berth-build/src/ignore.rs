//! `.dockerignore`: Docker's pattern semantics. Patterns are cleaned (`..` resolved, a leading
//! `/` dropped), `*` and `?` stay within one path component, `**` crosses any number, `!`
//! re-includes; the last pattern that matches a path (or one of its parent directories) decides.

use globset::{GlobBuilder, GlobMatcher};

/// One pattern line.
#[derive(Debug, Clone)]
struct Rule {
    text: String,
    exception: bool,
    matcher: GlobMatcher,
}

/// The rules of a `.dockerignore` file.
#[derive(Debug, Clone, Default)]
pub struct Ignore {
    rules: Vec<Rule>,
}

impl Ignore {
    /// Parses a `.dockerignore`. A pattern that is not a valid glob is an error naming it.
    pub fn parse(text: &str) -> Result<Ignore, crate::error::Invalid> {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exception, pattern) = match line.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, line),
            };
            let cleaned = clean(pattern);
            if cleaned.is_empty() {
                continue;
            }
            let glob = GlobBuilder::new(&cleaned)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .or_else(|_| {
                    // `**` inside a component (`a**b`): Docker treats it as `*`.
                    GlobBuilder::new(&cleaned.replace("**", "*"))
                        .literal_separator(true)
                        .backslash_escape(true)
                        .build()
                })
                .map_err(|e| format!("invalid .dockerignore pattern {line:?}: {e}"))?;
            rules.push(Rule {
                text: line.to_string(),
                exception,
                matcher: glob.compile_matcher(),
            });
        }
        Ok(Ignore { rules })
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rule that excludes `path` (relative to the context, `/`-separated), if one does.
    pub fn excluded_by(&self, path: &str) -> Option<&str> {
        let path = clean(path);
        let mut verdict: Option<&Rule> = None;
        for rule in &self.rules {
            let hit =
                rule.matcher.is_match(&path) || parents(&path).any(|p| rule.matcher.is_match(p));
            if hit {
                verdict = Some(rule);
            }
        }
        verdict.filter(|r| !r.exception).map(|r| r.text.as_str())
    }

    /// Whether `path` is excluded.
    pub fn excludes(&self, path: &str) -> bool {
        self.excluded_by(path).is_some()
    }

    /// Whether some exception could re-include a path below the excluded directory `dir`
    /// (then the directory must still be walked).
    pub fn may_reinclude_below(&self, dir: &str) -> bool {
        let dir = clean(dir);
        self.rules.iter().any(|r| {
            r.exception && {
                let t = clean(r.text.trim_start_matches('!').trim());
                t == dir || t.starts_with(&format!("{dir}/")) || t.contains('*') || t.contains('?')
            }
        })
    }
}

/// The proper parent directories of a relative path: `a/b/c` gives `a`, `a/b`.
fn parents(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// Go's `filepath.Clean` for relative slash paths, without a leading `/`.
pub use berth_core::path::clean;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_semantics() {
        let i = Ignore::parse(
            "# comment\n*.log\n!keep.log\n/build\ndocs/**/*.md\n**/tmp\nsecret/../private\n  \n",
        )
        .unwrap();
        assert_eq!(i.excluded_by("a.log"), Some("*.log"));
        assert!(!i.excludes("keep.log"));
        assert!(!i.excludes("sub/a.log"), "* does not cross /");
        assert!(i.excludes("build"));
        assert!(
            i.excludes("build/out/bin"),
            "a directory excludes what is below it"
        );
        assert!(i.excludes("docs/a/b/c.md"));
        assert!(i.excludes("docs/c.md"));
        assert!(!i.excludes("docs/c.txt"));
        assert!(i.excludes("x/y/tmp/z"));
        assert!(i.excludes("private/key"));
        assert!(!i.excludes("secret/key"));
        // The last matching rule wins.
        let i = Ignore::parse("!a\na\n").unwrap();
        assert!(i.excludes("a"));
        let i = Ignore::parse("*\n!src\n").unwrap();
        assert!(!i.excludes("src/main.rs"));
        assert!(i.excludes("README"));
        assert!(i.may_reinclude_below("src"));
    }
}
