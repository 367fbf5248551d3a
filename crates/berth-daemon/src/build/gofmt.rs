//! Go's text for values, as Docker writes them into image history (`%q` of string lists,
//! durations, a healthcheck struct), and Go's duration syntax as HEALTHCHECK options take it.

use berth_image::config::HealthConfig;

/// Go's `strconv.Quote`: `"..."` with Go's escapes.
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        escape_into(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// Go's `strconv.QuoteRune` (what `%q` makes of an integer).
pub fn quote_rune(v: i64) -> String {
    let c = u32::try_from(v)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or('\u{fffd}');
    let mut out = String::from("'");
    escape_into(&mut out, c, '\'');
    out.push('\'');
    out
}

fn escape_into(out: &mut String, c: char, quote: char) {
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push(c),
    }
}

/// `%q` of a string list: `["a" "b"]`.
pub fn quoted_list(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| quote(s)).collect();
    format!("[{}]", items.join(" "))
}

/// Go's `time.Duration.String()` of `nanos` (`0s`, `500ms`, `1m30s`, `1h0m0s`).
pub fn duration(nanos: i64) -> String {
    let neg = nanos < 0;
    let mut u = nanos.unsigned_abs();
    let sign = if neg { "-" } else { "" };
    if u == 0 {
        return "0s".into();
    }
    if u < 1_000_000_000 {
        let (unit, digits) = match u {
            0..1_000 => ("ns", 0),
            1_000..1_000_000 => ("µs", 3),
            _ => ("ms", 6),
        };
        let (int, frac) = split_frac(u, digits);
        return format!("{sign}{int}{frac}{unit}");
    }
    let (secs, frac) = split_frac(u, 9);
    u = secs;
    let mut out = format!("{}{frac}s", u % 60);
    u /= 60;
    if u > 0 {
        out = format!("{}m{out}", u % 60);
        u /= 60;
        if u > 0 {
            out = format!("{u}h{out}");
        }
    }
    format!("{sign}{out}")
}

/// `v` split into its integer part and `.fraction` (trailing zeros dropped) at `digits`.
fn split_frac(v: u64, digits: u32) -> (u64, String) {
    let p = 10u64.pow(digits);
    let frac = v % p;
    if frac == 0 {
        return (v / p, String::new());
    }
    let s = format!("{frac:0width$}", width = digits as usize);
    (v / p, format!(".{}", s.trim_end_matches('0')))
}

/// `%q` of a `*HealthConfig`, as Docker writes a HEALTHCHECK into history:
/// `&{["CMD-SHELL" "true"] "5s" "0s" "0s" '\x02'}` (StartInterval shown only when set, as in
/// the newer struct that has it).
pub fn healthcheck(h: &HealthConfig) -> String {
    let mut parts = vec![quoted_list(h.test.as_deref().unwrap_or_default())];
    parts.extend(
        [h.interval, h.timeout, h.start_period]
            .iter()
            .map(|d| quote(&duration(*d))),
    );
    if h.start_interval != 0 {
        parts.push(quote(&duration(h.start_interval)));
    }
    parts.push(quote_rune(h.retries));
    format!("&{{{}}}", parts.join(" "))
}

/// Go durations as HEALTHCHECK takes them (`30s`, `1m30s`, `500ms`) in nanoseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let mut total: f64 = 0.0;
    let mut rest = s;
    if rest == "0" {
        return Some(0);
    }
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..u] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += value * mult;
        rest = &rest[u..];
    }
    Some(total as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_text() {
        assert_eq!(quoted_list(&["sh".into(), "-c".into()]), r#"["sh" "-c"]"#);
        assert_eq!(quote("a\"b\\c\u{1}\n"), r#""a\"b\\c\x01\n""#);
        assert_eq!(quote_rune(2), r"'\x02'");
        assert_eq!(quote_rune(0), r"'\x00'");
        assert_eq!(quote_rune(10), r"'\n'");
        assert_eq!(quote_rune(65), "'A'");
        assert_eq!(quote_rune(39), r"'\''");
        for (n, s) in [
            (0, "0s"),
            (5_000_000_000, "5s"),
            (90_000_000_000, "1m30s"),
            (3_600_000_000_000, "1h0m0s"),
            (1_500_000_000, "1.5s"),
            (500_000_000, "500ms"),
            (1_500_000, "1.5ms"),
            (2_000, "2µs"),
            (7, "7ns"),
        ] {
            assert_eq!(duration(n), s);
            assert_eq!(parse_duration(s), Some(n), "{s}");
        }
        assert_eq!(parse_duration("5"), None);
        let hc = HealthConfig {
            test: Some(vec!["CMD-SHELL".into(), "true".into()]),
            interval: 5_000_000_000,
            retries: 2,
            ..HealthConfig::default()
        };
        assert_eq!(
            healthcheck(&hc),
            r#"&{["CMD-SHELL" "true"] "5s" "0s" "0s" '\x02'}"#
        );
    }
}
