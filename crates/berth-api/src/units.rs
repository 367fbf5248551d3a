//! Sizes and numbers as Docker's Go code prints them (go-units, `%g`): the progress strings of
//! the JSON streams and the CLI's tables.

/// go-units' `BytesSize`: binary units, `%.4g`.
pub fn bytes_size(v: f64) -> String {
    sized(
        v,
        1024.0,
        &["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"],
        4,
    )
}

/// go-units' `HumanSizeWithPrecision(v, precision)`: decimal units, `%.{precision}g`
/// (`HumanSize` is precision 4).
pub fn human_size(v: f64, precision: usize) -> String {
    sized(
        v,
        1000.0,
        &["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"],
        precision,
    )
}

fn sized(mut v: f64, base: f64, units: &[&str], precision: usize) -> String {
    let mut i = 0;
    while v >= base && i < units.len() - 1 {
        v /= base;
        i += 1;
    }
    format!("{}{}", go_g(v, precision), units[i])
}

/// Go's `%.{prec}g`: `prec` significant digits, no trailing zeros, an exponent (`1e+03`)
/// when it is below -4 or at least the digits shown.
pub fn go_g(v: f64, prec: usize) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let prec = prec.max(1);
    let e = format!("{:.*e}", prec - 1, v.abs());
    let (mantissa, exp) = e.split_once('e').expect("exponent format");
    let exp: i32 = exp.parse().expect("exponent");
    let digits: String = mantissa.replace('.', "");
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let (nd, dp) = (digits.len() as i32, exp + 1);
    let sign = if v < 0.0 { "-" } else { "" };
    let mut eprec = prec as i32;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    if exp < -4 || exp >= eprec {
        let rest = &digits[1..];
        let dot = if rest.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{}{dot}{rest}e{esign}{:02}", &digits[..1], exp.abs());
    }
    let p = if prec as i32 > dp { nd } else { prec as i32 };
    let decimals = (p - dp).max(0) as usize;
    // The digits around the point, padded with zeros on either side.
    let int = if dp <= 0 {
        "0".to_string()
    } else {
        let mut s: String = digits.chars().take(dp as usize).collect();
        while (s.len() as i32) < dp {
            s.push('0');
        }
        s
    };
    let mut frac = String::new();
    for k in 0..decimals as i32 {
        let idx = dp + k;
        frac.push(if idx >= 0 && idx < nd {
            digits.as_bytes()[idx as usize] as char
        } else {
            '0'
        });
    }
    let dot = if frac.is_empty() { "" } else { "." };
    format!("{sign}{int}{dot}{frac}")
}

/// The `progress` string of a JSON stream message, as dockerd renders a `JSONProgress` for
/// a client without a terminal width (the bar, the sizes, and the time left when the
/// transfer's start is known).
pub fn progress_bar(current: u64, total: u64, elapsed: Option<std::time::Duration>) -> String {
    if current == 0 && total == 0 {
        return String::new();
    }
    let now = human_size(current as f64, 4);
    if total == 0 {
        return format!("{now:>8}");
    }
    let percent = ((current as f64 / total as f64 * 100.0) as u64 / 2).min(50) as usize;
    let bar = format!("[{}>{}] ", "=".repeat(percent), " ".repeat(50 - percent));
    let numbers = match current > total {
        true => format!("{now:>8}"),
        false => format!("{now:>8}/{}", human_size(total as f64, 4)),
    };
    let left = match elapsed {
        Some(e) if current > 0 && percent < 50 => {
            let per = e.as_nanos() / u128::from(current);
            let secs = (per * u128::from(total - current)) / 1_000_000_000;
            format!(" {}", go_duration(secs as u64))
        }
        _ => String::new(),
    };
    format!("{bar}{numbers}{left}")
}

/// Go's `time.Duration.String` of whole seconds: `0s`, `45s`, `1m5s`, `2h0m1s`.
fn go_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(v: f64) -> String {
        bytes_size(v)
    }

    fn human(v: f64) -> String {
        human_size(v, 3)
    }

    #[test]
    fn numbers_as_go_prints_them() {
        assert_eq!(go_g(1.398, 4), "1.398");
        assert_eq!(go_g(64.0, 4), "64");
        assert_eq!(go_g(1.5, 4), "1.5");
        assert_eq!(go_g(999.5, 3), "1e+03");
        assert_eq!(go_g(100.0, 3), "100");
        assert_eq!(go_g(1.046, 3), "1.05");
        assert_eq!(go_g(0.05, 3), "0.05");
        assert_eq!(go_g(12345.0, 3), "1.23e+04");
        assert_eq!(bytes(1466368.0), "1.398MiB");
        assert_eq!(bytes(67108864.0), "64MiB");
        assert_eq!(bytes(0.0), "0B");
        assert_eq!(human(1046.0), "1.05kB");
        assert_eq!(human(0.0), "0B");
        assert_eq!(human(999.0), "999B");
    }

    #[test]
    fn a_progress_bar_as_dockerd_sends_it() {
        assert_eq!(
            progress_bar(1_234_567, 4_000_000, None),
            format!("[{}>{}]  1.235MB/4MB", "=".repeat(15), " ".repeat(35))
        );
        let done = progress_bar(
            4_000_000,
            4_000_000,
            Some(std::time::Duration::from_secs(3)),
        );
        assert_eq!(done, format!("[{}>]      4MB/4MB", "=".repeat(50)));
        let half = progress_bar(50, 100, Some(std::time::Duration::from_secs(65)));
        assert!(half.ends_with("     50B/100B 1m5s"), "{half}");
        assert_eq!(progress_bar(0, 0, None), "");
    }
}
