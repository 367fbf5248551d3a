//! Query strings as Docker reads them: repeated keys, `1`/`true` booleans, JSON `filters`.

use std::collections::{BTreeMap, HashMap};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::Error;

/// Parsed query parameters.
#[derive(Debug, Default)]
pub struct Query(pub HashMap<String, Vec<String>>);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        let q = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q)
            .map_err(|e| Error::invalid(format!("invalid query string: {e}")))?;
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            map.entry(k).or_default().push(v);
        }
        Ok(Query(map))
    }
}

impl Query {
    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.first()).map(String::as_str)
    }

    /// All values of `key`.
    pub fn all(&self, key: &str) -> &[String] {
        self.0.get(key).map_or(&[], Vec::as_slice)
    }

    /// A boolean as Docker parses it: absent, `""`, `0`, `false` and `no` are false.
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some(v) if !matches!(v.to_ascii_lowercase().as_str(), "" | "0" | "false" | "no"))
    }

    /// An integer parameter; malformed values are a 400.
    pub fn int(&self, key: &str) -> Result<Option<i64>, Error> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| Error::invalid(format!("invalid value for {key}: {v:?}"))),
        }
    }

    /// A time parameter (`since`, `until`) in nanoseconds since the epoch: unix seconds with an
    /// optional fraction, or RFC 3339.
    pub fn time(&self, key: &str) -> Result<Option<i64>, Error> {
        match self.get(key).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => time_value(s).map(Some),
        }
    }

    /// `filters`: `{"key": ["v", ...]}` or the legacy `{"key": {"v": true}}`.
    pub fn filters(&self) -> Result<BTreeMap<String, Vec<String>>, Error> {
        let Some(raw) = self.get("filters").filter(|s| !s.is_empty()) else {
            return Ok(BTreeMap::new());
        };
        let v: serde_json::Value = serde_json::from_str(raw)
            .map_err(|e| Error::invalid(format!("invalid filter: {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| Error::invalid("invalid filter: expected a JSON object"))?;
        let mut out = BTreeMap::new();
        for (k, v) in obj {
            let vals = match v {
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
                serde_json::Value::Object(o) => o
                    .iter()
                    .filter(|(_, b)| b.as_bool() == Some(true))
                    .map(|(s, _)| s.clone())
                    .collect(),
                _ => return Err(Error::invalid(format!("invalid filter '{k}'"))),
            };
            out.insert(k.clone(), vals);
        }
        Ok(out)
    }
}

/// A time as Docker's `since`/`until` take it, in nanoseconds since the epoch: unix seconds with
/// an optional fraction, RFC 3339, or a duration before now (`10m`, `1h30m`, `90s`).
pub fn time_value(s: &str) -> Result<i64, Error> {
    let bad = || Error::invalid(format!("invalid time value {s:?}"));
    if let Ok(f) = s.parse::<f64>() {
        return Ok((f * 1e9) as i64);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_nanos_opt().unwrap_or(0));
    }
    let (mut total, mut num) = (0f64, String::new());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let unit = match (c, chars.peek()) {
            ('m', Some('s')) => {
                chars.next();
                1e-3
            }
            ('h', _) => 3600.0,
            ('m', _) => 60.0,
            ('s', _) => 1.0,
            _ => return Err(bad()),
        };
        total += num.parse::<f64>().map_err(|_| bad())? * unit;
        num.clear();
    }
    if !num.is_empty() || total == 0.0 && s != "0s" {
        return Err(bad());
    }
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
    Ok(now - (total * 1e9) as i64)
}

/// Refuses filter keys outside `allowed`, with Docker's message.
pub fn check_filters(
    filters: &BTreeMap<String, Vec<String>>,
    allowed: &[&str],
) -> Result<(), Error> {
    match filters.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(Error::invalid(format!("invalid filter '{k}'"))),
        None => Ok(()),
    }
}

/// Whether `labels` satisfy every `label` filter (`key` or `key=value`).
pub fn labels_match(labels: &BTreeMap<String, String>, wanted: &[String]) -> bool {
    wanted.iter().all(|w| match w.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(w),
    })
}
