//! Lexical path cleaning, as Go's `path.Clean` does it for slash paths.

/// `path` without empty, `.` and `..` elements (`..` drops the element before it, and stops
/// at the top), without a leading `/`: `a/./b/../c` is `a/c`, `/../x` is `x`.
pub fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn cleans_as_go_does() {
        assert_eq!(super::clean("a/./b/../c"), "a/c");
        assert_eq!(super::clean("/../x//y/"), "x/y");
        assert_eq!(super::clean(".."), "");
    }
}
