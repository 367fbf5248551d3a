//! Go's parsers of the values of log options, with their messages.

/// Go's `strconv.Atoi`.
pub fn atoi(v: &str) -> Result<i64, String> {
    v.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {v:?}: invalid syntax"))
}

/// Go's `strconv.ParseBool`.
pub fn parse_bool(v: &str) -> Result<bool, String> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!("strconv.ParseBool: parsing {v:?}: invalid syntax")),
    }
}

/// go-units' `FromHumanSize`: decimal units (`k` = 1000), an optional `b`/`ib` after them.
pub fn from_human_size(s: &str) -> Result<i64, String> {
    parse_size(s, 1000.0)
}

/// go-units' `RAMInBytes`: as [`from_human_size`], binary units (`k` = 1024).
pub fn ram_in_bytes(s: &str) -> Result<i64, String> {
    parse_size(s, 1024.0)
}

fn parse_size(s: &str, base: f64) -> Result<i64, String> {
    let Some(sep) = s.rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ') else {
        return Err(format!("invalid size: '{s}'"));
    };
    let (num, sfx) = if s.as_bytes()[sep] == b' ' {
        (&s[..sep], &s[sep + 1..])
    } else {
        (&s[..=sep], &s[sep + 1..])
    };
    let size: f64 = num
        .parse()
        .map_err(|_| format!("strconv.ParseFloat: parsing {num:?}: invalid syntax"))?;
    if size < 0.0 {
        return Err(format!("invalid size: '{s}'"));
    }
    if sfx.is_empty() {
        return Ok(size as i64);
    }
    let bad = || format!("invalid suffix: '{sfx}'");
    let lower = sfx.to_ascii_lowercase();
    if lower.len() > 3 {
        return Err(bad());
    }
    if lower == "b" {
        return Ok(size as i64);
    }
    let mul: f64 = match lower.as_bytes()[0] {
        b'k' => base,
        b'm' => base.powi(2),
        b'g' => base.powi(3),
        b't' => base.powi(4),
        b'p' => base.powi(5),
        _ => return Err(bad()),
    };
    match &lower[1..] {
        "" | "b" | "ib" => Ok((size * mul) as i64),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_go_units_reads_them() {
        assert_eq!(from_human_size("1m"), Ok(1_000_000));
        assert_eq!(from_human_size("1.5KiB"), Ok(1500));
        assert_eq!(from_human_size("10 MB"), Ok(10_000_000));
        assert_eq!(ram_in_bytes("1m"), Ok(1024 * 1024));
        assert_eq!(ram_in_bytes("2k"), Ok(2048));
        assert_eq!(ram_in_bytes("x"), Err("invalid size: 'x'".into()));
    }
}
