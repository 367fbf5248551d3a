//! The few shapes cgroup files come in: one number (or `max`), `key value` lines.

use std::collections::BTreeMap;
use std::path::Path;

/// The file's text; `None` when it cannot be read (a controller not enabled, a container that
/// just ended): its values count as zero, as Docker counts them.
pub fn text(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// A number as the kernel writes it; a negative one (v1's `-1`) is 0, as Docker reads it.
pub fn uint(s: &str) -> u64 {
    let s = s.trim();
    s.parse().unwrap_or(0)
}

/// A one-value file: `Some(n)`, `None` for `max`; an absent file is `Some(0)`.
pub fn value(path: &Path) -> Option<u64> {
    match text(path) {
        Some(t) if t.trim() == "max" => None,
        Some(t) => Some(uint(&t)),
        None => Some(0),
    }
}

/// A one-value file with `max` as 0 (v1 reads it so).
pub fn number(path: &Path) -> u64 {
    value(path).unwrap_or(0)
}

/// `key value` lines; others are skipped.
pub fn pairs(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (k, v) = (f.next()?, f.next()?);
            f.next().is_none().then(|| (k.to_string(), uint(v)))
        })
        .collect()
}

/// The `key value` lines of the file at `path` (empty when absent).
pub fn pairs_of(path: &Path) -> BTreeMap<String, u64> {
    text(path).map(|t| pairs(&t)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_pairs_as_docker_reads_them() {
        assert_eq!(uint("42\n"), 42);
        assert_eq!(uint("-1"), 0);
        let p = pairs("user 3\nsystem 4\nbad line here\n\n");
        assert_eq!(p.len(), 2);
        assert_eq!(p["system"], 4);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("max"), "max\n").unwrap();
        assert_eq!(value(&dir.path().join("max")), None);
        assert_eq!(value(&dir.path().join("absent")), Some(0));
        assert_eq!(number(&dir.path().join("max")), 0);
    }
}
