//! Query strings: `application/x-www-form-urlencoded` pairs, repeated keys kept (the token
//! endpoint takes several `scope`s), percent-decoded.

/// The pairs of a query string, in order.
pub fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The first value of `key`.
pub fn get(query: Option<&str>, key: &str) -> Option<String> {
    pairs(query)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// Percent-decoding, `+` as a space.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len()
                && b[i + 1].is_ascii_hexdigit()
                && b[i + 2].is_ascii_hexdigit() =>
            {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).expect("two hex digits"));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encoding of a query value (for `Link` headers).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_decode_and_repeat() {
        let q = pairs(Some(
            "scope=repository%3Aa%3Apull&scope=x&n=&last=a+b&bad=%zz&end=%4",
        ));
        assert_eq!(q[0], ("scope".into(), "repository:a:pull".into()));
        assert_eq!(q[1].1, "x");
        assert_eq!(q[2].1, "");
        assert_eq!(q[3].1, "a b");
        assert_eq!(q[4].1, "%zz");
        assert_eq!(q[5].1, "%4");
        assert_eq!(encode("a/b:c"), "a/b%3Ac");
    }
}
