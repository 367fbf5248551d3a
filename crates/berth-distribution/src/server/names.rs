//! Repository names and tags, as the distribution spec's grammar has them:
//! - a name is components joined by `/`, each `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, 255 bytes
//!   at most in all (CNCF distribution's limit);
//! - a tag is `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
//!
//! Neither can hold `\0`, `:` or `..`, which the metadata keys and paths rely on.

/// The longest repository name accepted.
pub const MAX_NAME_LEN: usize = 255;

/// Whether `name` is a valid repository name.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME_LEN && name.split('/').all(valid_component)
}

/// One path component: alphanumeric runs joined by `.`, `_`, `__` or any number of `-`.
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run, followed by an alphanumeric (the last byte is one).
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// Whether `tag` is a valid tag.
pub fn valid_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b[1..].iter().all(|&x| word(x) || x == b'.' || x == b'-')
}

/// Whether `name` matches the glob `pattern`: `*` within one path component, `**` across
/// components, `?` one byte. Retention policies and pattern groups use it.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => (0..=n.len()).any(|i| go(&p[2..], &n[i..])),
            Some(b'*') => (0..=n.len())
                .take_while(|&i| i == 0 || n[i - 1] != b'/')
                .any(|i| go(&p[1..], &n[i..])),
            Some(b'?') => !n.is_empty() && go(&p[1..], &n[1..]),
            Some(&c) => n.first() == Some(&c) && go(&p[1..], &n[1..]),
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_spec_grammar() {
        for ok in ["a", "library/busybox", "a.b_c__d---e/f0", "x/y/z", "9"] {
            assert!(valid_name(ok), "{ok}");
        }
        let long = "a".repeat(256);
        for bad in [
            "", "A", "a/", "/a", "a//b", "a..b", "a___b", "-a", "a-", "a:b", "..", &long,
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn tags_follow_the_spec_grammar() {
        assert!(valid_tag("latest") && valid_tag("v1.0-rc_1") && valid_tag("_x"));
        let long = "a".repeat(129);
        for bad in ["", ".a", "-a", "a:b", "a/b", &long] {
            assert!(!valid_tag(bad), "{bad}");
        }
    }

    #[test]
    fn globs_match_components_and_across() {
        assert!(glob_match("team/*", "team/app"));
        assert!(!glob_match("team/*", "team/app/sub"));
        assert!(glob_match("team/**", "team/app/sub"));
        assert!(glob_match("v1.*", "v1.2"));
        assert!(glob_match("*", "latest"));
        assert!(glob_match("v?", "v1") && !glob_match("v?", "v10"));
    }
}
