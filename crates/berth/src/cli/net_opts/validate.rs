//! The docker CLI's `opts` checks of `--ip`, `--dns`, `--dns-search`, `--add-host`, `--link`
//! and `--mac-address`.

use super::*;

/// Go's `net.ParseIP(s).String()`: the canonical form, an IPv4-mapped address as IPv4.
fn canonical_ip(s: &str) -> Option<String> {
    Some(match s.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        v4 => v4.to_string(),
    })
}

/// `opts.ValidateIPAddress` (`--dns`): the address in canonical form.
pub fn validate_ip_address(val: &str) -> Result<String, String> {
    canonical_ip(val.trim()).ok_or_else(|| format!("IP address is not correctly formatted: {val}"))
}

/// `opts.ValidateDNSSearch`: `.`, or a domain (returned without a final dot).
pub fn validate_dns_search(val: &str) -> Result<String, String> {
    let val = val.trim_matches(' ');
    if val == "." {
        return Ok(val.to_string());
    }
    let bad = || format!("{val} is not a valid domain");
    if !val.bytes().any(|b| b.is_ascii_alphabetic()) {
        return Err(bad());
    }
    // The CLI's regular expression: labels of letters, digits and inner hyphens joined by dots,
    // then an optional final dot and white space.
    let body = val.trim_end_matches([' ', '\t', '\n', '\r', '\x0c', '\x0b']);
    let body = body.strip_suffix('.').unwrap_or(body);
    if domain_body(body) && body.len() < 255 {
        Ok(body.to_string())
    } else {
        Err(bad())
    }
}

/// The captured part of the CLI's domain expression. Its groups are written `(:?` (a typo for
/// `(?:`), which lets a colon precede each label (two before the first) and each dot.
fn domain_body(s: &str) -> bool {
    let label = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
    };
    let pieces: Vec<&str> = s.split('.').collect();
    let last = pieces.len() - 1;
    pieces.iter().enumerate().all(|(i, p)| {
        let mut p = *p;
        if i < last {
            p = p.strip_suffix(':').unwrap_or(p);
        }
        p = p.strip_prefix(':').unwrap_or(p);
        if i == 0 {
            p = p.strip_prefix(':').unwrap_or(p);
        }
        label(p)
    })
}

/// `opts.ValidateExtraHost`: `host:ip`, `host=ip`, `host=[v6]` or `host:host-gateway`, as the
/// `host:ip` the API takes.
pub fn validate_extra_host(val: &str) -> Result<String, String> {
    let split = val.split_once('=').or_else(|| val.split_once(':'));
    let Some((k, v)) = split.filter(|(k, _)| !k.is_empty() && !k.contains(':')) else {
        return Err(format!("bad format for add-host: {val:?}"));
    };
    let mut v = v;
    if v != "host-gateway" {
        if v.len() > 2 && v.starts_with('[') && v.ends_with(']') {
            v = &v[1..v.len() - 1];
        }
        if validate_ip_address(v).is_err() {
            return Err(format!("invalid IP address in add-host: {v:?}"));
        }
    }
    Ok(format!("{k}:{v}"))
}

/// `opts.ValidateLink`: `name` or `name:alias`.
pub fn validate_link(val: &str) -> Result<(), String> {
    if val.is_empty() {
        return Err("empty string specified for links".into());
    }
    if val.splitn(3, ':').count() > 2 {
        return Err(format!("bad format for links: {val}"));
    }
    Ok(())
}

/// Go's `net.ParseMAC`: 6, 8 or 20 bytes as `xx:xx:..`, `xx-xx-..` or `xxxx.xxxx.xxxx`.
pub fn valid_mac(s: &str) -> bool {
    let b = s.as_bytes();
    let hex = |g: &[u8]| g.iter().all(u8::is_ascii_hexdigit);
    let n_ok = |n: usize| matches!(n, 6 | 8 | 20);
    if b.len() < 14 {
        return false;
    }
    if b[2] == b':' || b[2] == b'-' {
        if !(b.len() + 1).is_multiple_of(3) || !n_ok((b.len() + 1) / 3) {
            return false;
        }
        b.chunks(3)
            .all(|c| hex(&c[..2]) && (c.len() == 2 || c[2] == b[2]))
    } else if b[4] == b'.' {
        if !(b.len() + 1).is_multiple_of(5) || !n_ok(2 * (b.len() + 1) / 5) {
            return false;
        }
        b.chunks(5)
            .all(|c| hex(&c[..4]) && (c.len() == 4 || c[4] == b'.'))
    } else {
        false
    }
}
