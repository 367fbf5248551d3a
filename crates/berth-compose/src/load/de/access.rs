//! serde's access traits over a node's sequence, mapping and enum: each adds its key or
//! index to an error coming from inside, so the error names the whole path.

use serde::de::{self, DeserializeSeed, Visitor};

use super::{Error, invalid};
use crate::load::node::{Node, Value};

pub(super) struct SeqAccess<'de> {
    pub(super) items: &'de [Node],
    pub(super) i: usize,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some(item) = self.items.get(self.i) else {
            return Ok(None);
        };
        let i = self.i;
        self.i += 1;
        seed.deserialize(item)
            .map(Some)
            .map_err(|e| e.at(item).under(i.to_string()))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.i)
    }
}

pub(super) struct MapAccess<'de> {
    pub(super) it: indexmap::map::Iter<'de, String, Node>,
    pub(super) key: Option<(&'de str, &'de Node)>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((k, v)) = self.it.next() else {
            return Ok(None);
        };
        self.key = Some((k, v));
        seed.deserialize(KeyDe(k))
            .map(Some)
            .map_err(|e| e.at(v).under(k.clone()))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let Some((k, v)) = self.key.take() else {
            return Err(<Error as de::Error>::custom("value asked before its key"));
        };
        seed.deserialize(v)
            .map_err(|e| e.at(v).under(k.to_string()))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.it.len())
    }
}

pub(super) struct EnumAccess<'de> {
    pub(super) key: &'de str,
    pub(super) value: &'de Node,
}

impl<'de> de::EnumAccess<'de> for EnumAccess<'de> {
    type Error = Error;
    type Variant = &'de Node;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, &'de Node), Error> {
        let key: de::value::BorrowedStrDeserializer<'de, Error> =
            de::value::BorrowedStrDeserializer::new(self.key);
        let v = seed.deserialize(key)?;
        Ok((v, self.value))
    }
}

impl<'de> de::VariantAccess<'de> for &'de Node {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.value {
            Value::Null => Ok(()),
            _ => Err(invalid(self, "null")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}

/// A mapping key: text, or a number or boolean when one is asked (`IndexMap<u16, _>`).
struct KeyDe<'de>(&'de str);

macro_rules! key_number {
    ($method:ident, $visit:ident, $ty:ty) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self.0.trim().parse::<$ty>() {
                Ok(n) => visitor.$visit(n),
                Err(_) => Err(<Error as de::Error>::custom("must be a integer")),
            }
        }
    };
}

impl<'de> de::Deserializer<'de> for KeyDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match super::scalar::lenient_bool(self.0.trim()) {
            Some(b) => visitor.visit_bool(b),
            None => Err(<Error as de::Error>::custom("must be a boolean")),
        }
    }

    key_number!(deserialize_i8, visit_i8, i8);
    key_number!(deserialize_i16, visit_i16, i16);
    key_number!(deserialize_i32, visit_i32, i32);
    key_number!(deserialize_i64, visit_i64, i64);
    key_number!(deserialize_u8, visit_u8, u8);
    key_number!(deserialize_u16, visit_u16, u16);
    key_number!(deserialize_u32, visit_u32, u32);
    key_number!(deserialize_u64, visit_u64, u64);

    serde::forward_to_deserialize_any! {
        f32 f64 char str string bytes byte_buf option unit unit_struct newtype_struct seq
        tuple tuple_struct map struct enum identifier ignored_any
    }
}
