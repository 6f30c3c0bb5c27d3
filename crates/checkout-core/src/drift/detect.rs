//! Whether a parse skipped anything, at no cost per key: a deserializer
//! wrapper that only notes a `deserialize_ignored_any` call (what a struct
//! does with a field it does not name). Naming what was skipped needs the
//! path of every key, an allocation each (`serde_ignored`, which doubles a
//! conversion's time): that runs only when this says there is something to
//! name, as `vendor::parse_body` explains a failure only when there is one.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, Visitor};

/// Deserialize `T` from `de`; the value, and whether any part of the
/// input was skipped.
pub(crate) fn deserialize<'de, D, T>(de: D) -> Result<(T, bool), D::Error>
where
    D: Deserializer<'de>,
    T: de::Deserialize<'de>,
{
    let skipped = Cell::new(false);
    let value = T::deserialize(Wrap {
        inner: de,
        skipped: &skipped,
    })?;
    Ok((value, skipped.get()))
}

/// Wraps a deserializer, a visitor, a seed, or an access: whatever it
/// hands on is wrapped too, so every nested value is watched.
struct Wrap<'s, X> {
    inner: X,
    skipped: &'s Cell<bool>,
}

impl<'s, X> Wrap<'s, X> {
    fn new(inner: X, skipped: &'s Cell<bool>) -> Wrap<'s, X> {
        Wrap { inner, skipped }
    }
}

macro_rules! forward_deserialize {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.inner.$method(Wrap::new(visitor, self.skipped))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Wrap<'_, D> {
    type Error = D::Error;

    forward_deserialize! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32
        deserialize_u64 deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char
        deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf
        deserialize_option deserialize_unit deserialize_seq deserialize_map
        deserialize_identifier
    }

    /// The one call that matters: the type skips this value (unless it is
    /// a field the wire types know and leave unread).
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        if !super::known_skip() {
            self.skipped.set(true);
        }
        self.inner.deserialize_ignored_any(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_unit_struct(name, Wrap::new(visitor, self.skipped))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        // serde_json's `RawValue` arrives here by name and is kept whole.
        self.inner
            .deserialize_newtype_struct(name, Wrap::new(visitor, self.skipped))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_tuple(len, Wrap::new(visitor, self.skipped))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_tuple_struct(name, len, Wrap::new(visitor, self.skipped))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_struct(name, fields, Wrap::new(visitor, self.skipped))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_enum(name, variants, Wrap::new(visitor, self.skipped))
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty))*) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit! {
        visit_bool(bool) visit_i8(i8) visit_i16(i16) visit_i32(i32) visit_i64(i64)
        visit_i128(i128) visit_u8(u8) visit_u16(u16) visit_u32(u32) visit_u64(u64)
        visit_u128(u128) visit_f32(f32) visit_f64(f64) visit_char(char) visit_str(&str)
        visit_borrowed_str(&'de str) visit_string(String) visit_bytes(&[u8])
        visit_borrowed_bytes(&'de [u8]) visit_byte_buf(Vec<u8>)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(Wrap::new(d, self.skipped))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(Wrap::new(d, self.skipped))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(Wrap::new(seq, self.skipped))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(Wrap::new(map, self.skipped))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(Wrap::new(data, self.skipped))
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Wrap<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(Wrap::new(d, self.skipped))
    }
}

impl<'de, A: de::SeqAccess<'de>> de::SeqAccess<'de> for Wrap<'_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.inner.next_element_seed(Wrap::new(seed, self.skipped))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for Wrap<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(Wrap::new(seed, self.skipped))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.next_value_seed(Wrap::new(seed, self.skipped))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, 's, A: de::EnumAccess<'de>> de::EnumAccess<'de> for Wrap<'s, A> {
    type Error = A::Error;
    type Variant = Wrap<'s, A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        let (value, variant) = self.inner.variant_seed(Wrap::new(seed, self.skipped))?;
        Ok((value, Wrap::new(variant, self.skipped)))
    }
}

impl<'de, A: de::VariantAccess<'de>> de::VariantAccess<'de> for Wrap<'_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.inner
            .newtype_variant_seed(Wrap::new(seed, self.skipped))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.inner
            .tuple_variant(len, Wrap::new(visitor, self.skipped))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.inner
            .struct_variant(fields, Wrap::new(visitor, self.skipped))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::value::RawValue;
    use serde_json::{Map, Value};

    use super::*;

    fn skipped<T: for<'de> Deserialize<'de>>(json: &str) -> bool {
        let mut de = serde_json::Deserializer::from_str(json);
        deserialize::<_, T>(&mut de).expect("parses").1
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Session {
        id: String,
        #[serde(default)]
        nested: Option<Nested>,
        #[serde(default)]
        items: Vec<Nested>,
        #[serde(default)]
        kept: Option<Box<RawValue>>,
        #[serde(default)]
        free: Option<Map<String, Value>>,
        #[serde(default)]
        kind: Option<Kind>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Nested {
        a: u32,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Kind {
        Plain,
        Shaped { b: u32 },
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct WithCatchAll {
        id: String,
        #[serde(flatten)]
        rest: BTreeMap<String, Value>,
    }

    #[test]
    fn known_shapes_skip_nothing() {
        assert!(!skipped::<Session>(
            r#"{"id":"s","nested":{"a":1},"items":[{"a":2}],"kept":{"x":[1,{"y":2}]},
               "free":{"any":{"thing":1}},"kind":{"shaped":{"b":3}}}"#
        ));
        assert!(!skipped::<Session>(r#"{"id":"s","kind":"plain"}"#));
        // A flattened catch-all map takes every other field on purpose.
        assert!(!skipped::<WithCatchAll>(r#"{"id":"s","extra":{"x":1}}"#));
    }

    #[test]
    fn an_unknown_field_at_any_depth_is_seen() {
        assert!(skipped::<Session>(r#"{"id":"s","new":1}"#));
        assert!(skipped::<Session>(
            r#"{"id":"s","nested":{"a":1,"new":true}}"#
        ));
        assert!(skipped::<Session>(
            r#"{"id":"s","items":[{"a":1},{"a":2,"new":[]}]}"#
        ));
        assert!(skipped::<Session>(
            r#"{"id":"s","kind":{"shaped":{"b":3,"new":0}}}"#
        ));
    }

    #[test]
    fn raw_values_come_through_whole() {
        let mut de = serde_json::Deserializer::from_str(r#"{"id":"s","kept":{"a": 1.50}}"#);
        let (s, skipped) = deserialize::<_, Session>(&mut de).expect("parses");
        assert!(!skipped);
        assert_eq!(
            s.kept.map(|k| k.get().to_owned()).as_deref(),
            Some(r#"{"a": 1.50}"#)
        );
    }
}
