//! Scalars decoded by what the key means: the tree keeps plain scalars as text (`3`, `true`),
//! and every non-string field of the model reads that text through these. They ask the
//! deserializer for a string, which the loader's `&Node` deserializer answers with the text as
//! written, and so does the all-strings JSON of `decode`.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// Any scalar (string, number, bool) as its text. Asks for a string, so a tree's plain
/// scalar comes back exactly as written (`1.50`, `007`); typed values are turned to text.
pub fn scalar_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_string(TextVisitor)
}

struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number or boolean")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// A bool as YAML writes it (`true`, `True`, `TRUE`, and the `false`s).
pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A bool field.
pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let text = scalar_text(d)?;
    parse_bool(&text).ok_or_else(|| de::Error::custom(format!("must be a boolean, not {text:?}")))
}

/// An optional bool field (`null` is none).
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Option::<Loose>::deserialize(d)?
        .map(|l| {
            parse_bool(&l.0)
                .ok_or_else(|| de::Error::custom(format!("must be a boolean, not {:?}", l.0)))
        })
        .transpose()
}

/// A number field (any `FromStr` number type).
pub fn num<'de, D: Deserializer<'de>, T: FromStr>(d: D) -> Result<T, D::Error> {
    let text = scalar_text(d)?;
    parse_num(&text)
}

/// An optional number field.
pub fn opt_num<'de, D: Deserializer<'de>, T: FromStr>(d: D) -> Result<Option<T>, D::Error> {
    Option::<Loose>::deserialize(d)?
        .map(|l| parse_num(&l.0))
        .transpose()
}

fn parse_num<E: de::Error, T: FromStr>(text: &str) -> Result<T, E> {
    text.trim()
        .parse()
        .map_err(|_| E::custom(format!("must be a number, not {text:?}")))
}

/// A scalar of any kind read as text, for `Option<Loose>` and map values.
#[derive(Debug)]
pub struct Loose(pub String);

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Loose(scalar_text(d)?))
    }
}

/// A map whose values are scalars of any kind, kept as text; `null` values become `""`
/// (labels, sysctls, options).
pub fn text_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<indexmap::IndexMap<String, String>, D::Error> {
    let m = indexmap::IndexMap::<String, Option<Loose>>::deserialize(d)?;
    Ok(m.into_iter()
        .map(|(k, v)| (k, v.map(|l| l.0).unwrap_or_default()))
        .collect())
}

/// A map whose values are scalars or `null` (environment, build args).
pub fn opt_text_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<indexmap::IndexMap<String, Option<String>>, D::Error> {
    let m = indexmap::IndexMap::<String, Option<Loose>>::deserialize(d)?;
    Ok(m.into_iter().map(|(k, v)| (k, v.map(|l| l.0))).collect())
}

/// A list of scalars of any kind as text (`command: [sleep, 10]`, `expose: [80]`).
pub fn text_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = Vec::<Loose>::deserialize(d)?;
    Ok(v.into_iter().map(|l| l.0).collect())
}

/// A file mode: octal when written with a leading `0` or `0o` (`0440`), as YAML 1.1 and
/// compose-go read it, else decimal.
pub fn opt_mode<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let Some(Loose(text)) = Option::<Loose>::deserialize(d)? else {
        return Ok(None);
    };
    let t = text.trim();
    let parsed = match t.strip_prefix("0o").or_else(|| t.strip_prefix('0')) {
        Some(oct) if !oct.is_empty() => u32::from_str_radix(oct, 8),
        _ => t.parse(),
    };
    parsed
        .map(Some)
        .map_err(|_| de::Error::custom(format!("invalid file mode {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "opt_mode")]
        mode: Option<u32>,
        #[serde(default, deserialize_with = "bool")]
        flag: bool,
        #[serde(default, deserialize_with = "opt_num")]
        n: Option<i64>,
    }

    fn t(v: serde_json::Value) -> Result<T, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn scalars_of_any_kind_decode_by_meaning() {
        let a = t(json!({"mode": "0440", "flag": "true", "n": "3"})).unwrap();
        assert_eq!((a.mode, a.flag, a.n), (Some(0o440), true, Some(3)));
        let b = t(json!({"mode": "288", "flag": "False", "n": "-1"})).unwrap();
        assert_eq!((b.mode, b.flag, b.n), (Some(288), false, Some(-1)));
        assert_eq!(t(json!({"mode": "0o755"})).unwrap().mode, Some(0o755));
        let e = t(json!({"flag": "maybe"})).err().unwrap_or_default();
        assert!(e.starts_with("must be a boolean"), "{e}");
        let e = t(json!({"n": "x"})).err().unwrap_or_default();
        assert!(e.starts_with("must be a number"), "{e}");
    }
}
