//! How a plain scalar's text reads in the YAML 1.2 core schema, and compose-go's lenient
//! booleans.

/// A plain scalar in the YAML 1.2 core schema.
pub(super) enum Core {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str,
}
pub(super) fn core(text: &str) -> Core {
    match text {
        "true" | "True" | "TRUE" => return Core::Bool(true),
        "false" | "False" | "FALSE" => return Core::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Core::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Core::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Core::Float(f64::NAN),
        _ => {}
    }
    if let Some(n) = parse_int(text) {
        return n;
    }
    if is_float(text)
        && let Ok(f) = text.parse()
    {
        return Core::Float(f);
    }
    Core::Str
}

pub(super) fn parse_int(text: &str) -> Option<Core> {
    let (radix, digits, neg) = if let Some(h) = text.strip_prefix("0x") {
        (16, h, false)
    } else if let Some(o) = text.strip_prefix("0o") {
        (8, o, false)
    } else {
        let (neg, d) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        (10, d, neg)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if neg {
        i64::from_str_radix(&format!("-{digits}"), radix)
            .ok()
            .map(Core::Int)
    } else {
        u64::from_str_radix(digits, radix).ok().map(Core::Uint)
    }
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_float(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = digits(int) && digits(frac) && (!int.is_empty() || !frac.is_empty());
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exp_ok
}

/// A boolean where one is asked: compose-go casts `y`/`yes`/`on` and `n`/`no`/`off` (any
/// case) too, with a warning, at its boolean keys.
pub(super) fn lenient_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "y" | "yes" | "on" => Some(true),
        "false" | "n" | "no" | "off" => Some(false),
        _ => None,
    }
}
