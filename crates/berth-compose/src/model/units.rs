//! Durations (Go syntax, `1m30s`) and byte sizes (`512m`, `1g`, plain numbers) as compose writes
//! them, with the forms `docker compose config` prints them in.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::lenient::scalar_text;

/// A duration written in Go's syntax (`1m30s`, `1.5h`, `300ms`, also `d` and `w` as compose-go's
/// str2duration accepts). Printed as Go's `time.Duration.String()` does (`1m30s`, `1h0m0s`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub std::time::Duration);

/// A byte size: a plain integer (may be `-1` for "unlimited" in `memswap_limit`) or a number with
/// a unit as docker's `RAMInBytes` reads it (`b`, `k`/`kb`, `m`, `g`, `t`, `p`, base 1024).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub i64);

/// Nanoseconds per unit, longest suffixes first so `ms` wins over `m`.
const UNITS: &[(&str, f64)] = &[
    ("ns", 1.0),
    ("us", 1e3),
    ("µs", 1e3),
    ("μs", 1e3),
    ("ms", 1e6),
    ("s", 1e9),
    ("m", 60e9),
    ("h", 3600e9),
    ("d", 86400e9),
    ("w", 604800e9),
];

impl Duration {
    /// Parses Go's duration syntax: a sequence of decimal numbers with units; `0` alone is zero.
    pub fn parse(text: &str) -> Result<Duration, String> {
        let bad = || format!("time: invalid duration \"{text}\"");
        let s = text.trim();
        if s == "0" {
            return Ok(Duration::default());
        }
        if s.is_empty() || s.starts_with('-') {
            return Err(bad());
        }
        let s = s.strip_prefix('+').unwrap_or(s);
        let mut rest = s;
        let mut nanos = 0f64;
        while !rest.is_empty() {
            let num_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(|| format!("time: missing unit in duration \"{text}\""))?;
            let number: f64 = rest[..num_len].parse().map_err(|_| bad())?;
            rest = &rest[num_len..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            let (_, scale) = UNITS
                .iter()
                .find(|(u, _)| *u == unit)
                .ok_or_else(|| format!("time: unknown unit \"{unit}\" in duration \"{text}\""))?;
            nanos += number * scale;
            rest = &rest[unit_len..];
        }
        Ok(Duration(std::time::Duration::from_nanos(
            nanos.round() as u64
        )))
    }
}

impl fmt::Display for Duration {
    /// Go's `time.Duration.String()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0.as_nanos();
        if ns == 0 {
            return f.write_str("0s");
        }
        if ns < 1_000_000_000 {
            // Below a second Go picks one unit with a fraction.
            let (div, unit) = match ns {
                n if n < 1_000 => (1u128, "ns"),
                n if n < 1_000_000 => (1_000, "µs"),
                _ => (1_000_000, "ms"),
            };
            return write!(f, "{}{unit}", fraction(ns, div));
        }
        let h = ns / 3_600_000_000_000;
        let m = (ns / 60_000_000_000) % 60;
        let s = ns % 60_000_000_000;
        if h > 0 {
            write!(f, "{h}h{m}m")?;
        } else if m > 0 {
            write!(f, "{m}m")?;
        }
        write!(f, "{}s", fraction(s, 1_000_000_000))
    }
}

/// `n / div` with the fraction's trailing zeros dropped, as Go prints it.
fn fraction(n: u128, div: u128) -> String {
    let whole = n / div;
    let frac = n % div;
    if frac == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = scalar_text(d)?;
        Duration::parse(&text).map_err(de::Error::custom)
    }
}

impl Bytes {
    /// Parses a plain integer or a size with a unit (`512m`, `1.5g`, `100kb`), base 1024.
    pub fn parse(text: &str) -> Result<Bytes, String> {
        let s = text.trim();
        if let Ok(n) = s.parse::<i64>() {
            return Ok(Bytes(n));
        }
        let bad = || format!("invalid size: '{text}'");
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number: f64 = s[..split].parse().map_err(|_| bad())?;
        let unit = s[split..].trim().to_ascii_lowercase();
        let unit = unit
            .strip_suffix("ib")
            .or(unit.strip_suffix('b'))
            .unwrap_or(&unit);
        let power = match unit {
            "" => 0,
            "k" => 1,
            "m" => 2,
            "g" => 3,
            "t" => 4,
            "p" => 5,
            _ => return Err(bad()),
        };
        Ok(Bytes((number * 1024f64.powi(power)) as i64))
    }
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = scalar_text(d)?;
        Bytes::parse(&text).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dur(s: &str) -> String {
        Duration::parse(s)
            .map(|d| d.to_string())
            .unwrap_or_else(|e| e)
    }

    #[test]
    fn durations_parse_and_print_as_go() {
        assert_eq!(dur("1m30s"), "1m30s");
        assert_eq!(dur("90s"), "1m30s");
        assert_eq!(dur("1h"), "1h0m0s");
        assert_eq!(dur("1.5h"), "1h30m0s");
        assert_eq!(dur("300ms"), "300ms");
        assert_eq!(dur("1500ms"), "1.5s");
        assert_eq!(dur("10us"), "10µs");
        assert_eq!(dur("0"), "0s");
        assert_eq!(dur("1d"), "24h0m0s");
        assert_eq!(dur("10"), "time: missing unit in duration \"10\"");
        assert_eq!(dur("3x"), "time: unknown unit \"x\" in duration \"3x\"");
    }

    #[test]
    fn sizes_parse_base_1024() {
        assert_eq!(Bytes::parse("1g"), Ok(Bytes(1 << 30)));
        assert_eq!(Bytes::parse("512m"), Ok(Bytes(512 << 20)));
        assert_eq!(Bytes::parse("100KB"), Ok(Bytes(102400)));
        assert_eq!(Bytes::parse("-1"), Ok(Bytes(-1)));
        assert_eq!(Bytes::parse("1.5k"), Ok(Bytes(1536)));
        Bytes::parse("lots").unwrap_err();
    }
}
