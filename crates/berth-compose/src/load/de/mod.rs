//! A serde `Deserializer` over [`Node`], so the model decodes with `T::deserialize(&node)`.
//!
//! A scalar's type is decided by what is asked: `deserialize_u64` parses `"3"` (quoted or
//! not, as compose-go's weak decoding does), `deserialize_string` on `3` gives `"3"`, and
//! `deserialize_any` reads plain scalars with the YAML 1.2 core schema and quoted ones as
//! strings. Errors carry the failing node's position and its dotted key path
//! (`services.web.ports.0.target`).

use std::fmt;

use serde::de::{self, IntoDeserializer, Visitor};

use super::node::{LoadError, Node, Pos, Scalar, Value};

mod access;
mod scalar;

use access::{EnumAccess, MapAccess, SeqAccess};
use scalar::{Core, core, lenient_bool, parse_int};

/// A decoding error: where, under which key, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The innermost node the error is about.
    pub pos: Option<Pos>,
    /// Keys from the top, innermost last.
    pub path: Vec<String>,
    /// What is wrong.
    pub message: String,
}

impl Error {
    /// The path dotted (`services.web.ports.0`).
    pub fn key(&self) -> String {
        self.path.join(".")
    }

    fn at(mut self, node: &Node) -> Error {
        if self.pos.is_none() {
            self.pos = node.pos.clone();
        }
        self
    }

    fn under(mut self, key: String) -> Error {
        self.path.insert(0, key);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "{}: ", self.key())?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            pos: None,
            path: Vec::new(),
            message: msg.to_string(),
        }
    }
}

impl From<Error> for LoadError {
    fn from(e: Error) -> LoadError {
        let key = (!e.path.is_empty()).then(|| e.key());
        LoadError {
            pos: e.pos,
            key,
            message: e.message,
        }
    }
}

/// Decodes `node` as `T`.
pub fn from_node<'de, T: de::Deserialize<'de>>(node: &'de Node) -> Result<T, LoadError> {
    T::deserialize(node).map_err(LoadError::from)
}

fn scalar(node: &Node) -> Result<&Scalar, Error> {
    match &node.value {
        Value::Scalar(s) => Ok(s),
        _ => Err(invalid(node, "string")),
    }
}

/// compose-go's wording for a value of the wrong type (its schema's type names).
fn invalid(node: &Node, want: &str) -> Error {
    <Error as de::Error>::custom(format!("must be a {want}")).at(node)
}

macro_rules! number {
    ($method:ident, $visit:ident, $ty:ty) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            let s = scalar(self)?;
            let t = s.text.trim();
            let parsed: Option<$ty> = match parse_int(t) {
                Some(Core::Uint(u)) => <$ty>::try_from(u).ok(),
                Some(Core::Int(i)) => <$ty>::try_from(i).ok(),
                _ => None,
            };
            match parsed {
                Some(v) => visitor.$visit(v).map_err(|e: Error| e.at(self)),
                None => Err(invalid(self, "integer")),
            }
        }
    };
}

impl<'de> de::Deserializer<'de> for &'de Node {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let r = match &self.value {
            Value::Null => visitor.visit_unit(),
            Value::Scalar(s) if s.quoted => visitor.visit_borrowed_str(&s.text),
            Value::Scalar(s) => match core(&s.text) {
                Core::Bool(b) => visitor.visit_bool(b),
                Core::Int(i) => visitor.visit_i64(i),
                Core::Uint(u) => visitor.visit_u64(u),
                Core::Float(f) => visitor.visit_f64(f),
                Core::Str => visitor.visit_borrowed_str(&s.text),
            },
            Value::Seq(items) => visitor.visit_seq(SeqAccess { items, i: 0 }),
            Value::Map(m) => visitor.visit_map(MapAccess {
                it: m.iter(),
                key: None,
            }),
        };
        r.map_err(|e: Error| e.at(self))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let s = scalar(self)?;
        match lenient_bool(s.text.trim()) {
            Some(b) => visitor.visit_bool(b).map_err(|e: Error| e.at(self)),
            None => Err(invalid(self, "boolean")),
        }
    }

    number!(deserialize_i8, visit_i8, i8);
    number!(deserialize_i16, visit_i16, i16);
    number!(deserialize_i32, visit_i32, i32);
    number!(deserialize_i64, visit_i64, i64);
    number!(deserialize_u8, visit_u8, u8);
    number!(deserialize_u16, visit_u16, u16);
    number!(deserialize_u32, visit_u32, u32);
    number!(deserialize_u64, visit_u64, u64);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let s = scalar(self)?;
        match core(s.text.trim()) {
            Core::Float(f) => visitor.visit_f64(f),
            Core::Int(i) => visitor.visit_i64(i),
            Core::Uint(u) => visitor.visit_u64(u),
            _ => Err(invalid(self, "number")),
        }
        .map_err(|e: Error| e.at(self))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let s = scalar(self)?;
        visitor
            .visit_borrowed_str(&s.text)
            .map_err(|e: Error| e.at(self))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let s = scalar(self)?;
        visitor
            .visit_borrowed_bytes(s.text.as_bytes())
            .map_err(|e: Error| e.at(self))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
        .map_err(|e: Error| e.at(self))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_unit().map_err(|e: Error| e.at(self)),
            _ => Err(invalid(self, "null")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor
            .visit_newtype_struct(self)
            .map_err(|e: Error| e.at(self))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.value {
            Value::Seq(items) => visitor
                .visit_seq(SeqAccess { items, i: 0 })
                .map_err(|e: Error| e.at(self)),
            _ => Err(invalid(self, "array")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.value {
            Value::Map(m) => visitor
                .visit_map(MapAccess {
                    it: m.iter(),
                    key: None,
                })
                .map_err(|e: Error| e.at(self)),
            _ => Err(invalid(self, "mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match &self.value {
            Value::Scalar(s) => visitor
                .visit_enum(s.text.as_str().into_deserializer())
                .map_err(|e: Error| e.at(self)),
            Value::Map(m) if m.len() == 1 => {
                let Some((k, v)) = m.iter().next() else {
                    return Err(invalid(self, "string or mapping"));
                };
                visitor
                    .visit_enum(EnumAccess { key: k, value: v })
                    .map_err(|e: Error| e.at(self))
            }
            _ => Err(invalid(self, "string or mapping")),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;
    use serde::Deserialize;
    use std::path::Path;

    fn tree(text: &str) -> Node {
        super::super::yaml::parse(Path::new("/c.yaml"), text).unwrap()
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Port {
        target: u16,
        published: Option<String>,
        #[serde(default)]
        tty: bool,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Svc {
        ports: Vec<Port>,
        #[serde(default)]
        labels: IndexMap<String, String>,
    }

    #[test]
    fn types_by_what_is_asked() {
        let n = tree(
            "ports:\n  - {target: \"80\", published: 8080, tty: true}\nlabels: {a: 1, b: true}\n",
        );
        let s: Svc = from_node(&n).unwrap();
        assert_eq!(
            s.ports[0],
            Port {
                target: 80,
                published: Some("8080".into()),
                tty: true
            }
        );
        assert_eq!(s.labels["a"], "1");
        assert_eq!(s.labels["b"], "true");
    }

    #[test]
    fn errors_carry_path_and_line() {
        let n = tree("ports:\n  - target: 80\n  - target: x80\n");
        let e = from_node::<Svc>(&n).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("ports.1.target"));
        assert_eq!(e.pos.as_ref().unwrap().line, 3);
        assert_eq!(e.message, "must be a integer");
        let n = tree("ports:\n  - target: 80\n    bogus: 1\n");
        let e = from_node::<Svc>(&n).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("ports.0.bogus"));
        assert!(e.message.contains("unknown field `bogus`"), "{e}");
        assert_eq!(e.pos.as_ref().unwrap().line, 3);
    }

    #[test]
    fn any_uses_the_core_schema() {
        let n = tree("[1, -2, 1.5, true, 'true', x, ~, 0x1f, 1e3, \"7\"]");
        let v: serde_json::Value = from_node(&n).unwrap();
        assert_eq!(
            v,
            serde_json::json!([1, -2, 1.5, true, "true", "x", null, 31, 1000.0, "7"])
        );
    }

    #[test]
    fn bools_as_compose_go_casts_them() {
        assert!(from_node::<bool>(&tree("True")).unwrap());
        assert!(from_node::<bool>(&tree("yes")).unwrap());
        assert!(!from_node::<bool>(&tree("OFF")).unwrap());
        assert!(!from_node::<bool>(&tree("'false'")).unwrap());
        let e = from_node::<bool>(&tree("maybe")).unwrap_err();
        assert_eq!(e.message, "must be a boolean");
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Host,
        Ingress,
    }

    #[test]
    fn numeric_keys() {
        let m: IndexMap<u16, String> = from_node(&tree("{80: web, '443': tls}")).unwrap();
        assert_eq!(m[&80], "web");
        assert_eq!(m[&443], "tls");
        let e = from_node::<IndexMap<u16, String>>(&tree("{x: 1}")).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("x"));
    }

    #[test]
    fn enums_and_options() {
        assert_eq!(from_node::<Mode>(&tree("host")).unwrap(), Mode::Host);
        assert_eq!(
            from_node::<Vec<Mode>>(&tree("[ingress]")).unwrap(),
            [Mode::Ingress]
        );
        assert_eq!(from_node::<Option<u8>>(&tree("~")).unwrap(), None);
        assert_eq!(from_node::<String>(&tree("3")).unwrap(), "3");
    }
}
