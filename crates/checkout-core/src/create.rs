//! The canonical create request (PRODUCT §3).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::Error;
use crate::model::Metadata;
use crate::timestamp;

pub mod limits;

/// `POST /v1/checkout-sessions` body. Unknown top-level fields are refused so
/// that a typo never silently drops what the caller meant to send.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    /// Vendor: `meteroid`, … Absent (with `account`): the gateway's
    /// routing rules choose the vendor and account (PRODUCT §12).
    #[serde(default)]
    pub provider: String,
    /// Configured account of that vendor; given exactly when `provider` is.
    #[serde(default)]
    #[schema(schema_with = limits::account)]
    pub account: String,
    /// The vendor's customer reference (Meteroid: customer id or alias).
    #[schema(schema_with = limits::customer)]
    pub customer: Option<String>,
    /// What is bought (Meteroid: plan version id).
    #[schema(schema_with = limits::plan)]
    pub plan: Option<String>,
    #[schema(schema_with = limits::quantity)]
    pub quantity: Option<u64>,
    #[schema(schema_with = limits::redirect_url)]
    pub success_url: Option<String>,
    #[schema(schema_with = limits::redirect_url)]
    pub cancel_url: Option<String>,
    /// When the session should stop accepting payment.
    #[serde(default, with = "timestamp::serde_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "unique_keys::metadata")]
    pub metadata: Option<Metadata>,
    /// Vendor-specific create fields, passed through after the adapter checks them.
    #[serde(default, deserialize_with = "unique_keys::options")]
    #[schema(value_type = Option<Object>)]
    pub provider_options: Option<serde_json::Map<String, serde_json::Value>>,
}

impl CreateSession {
    /// Neither `provider` nor `account` given: routing chooses them.
    pub fn is_routed(&self) -> bool {
        self.provider.is_empty() && self.account.is_empty()
    }

    /// Refuse a field the vendor cannot honour: money is involved, so nothing
    /// the caller asked for is dropped silently.
    pub fn refuse_if_set(
        &self,
        provider: &str,
        field: &str,
        set: bool,
        why: &str,
    ) -> Result<(), Error> {
        if set {
            Err(Error::unsupported_field(provider, field, why))
        } else {
            Ok(())
        }
    }

    /// A field the vendor requires.
    pub fn required<'a>(
        &self,
        provider: &str,
        field: &str,
        value: &'a Option<String>,
    ) -> Result<&'a str, Error> {
        match value.as_deref() {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(
                Error::invalid_request(format!("field `{field}` is required for {provider}"))
                    .with_provider(provider),
            ),
        }
    }
}

/// Objects that refuse a repeated key, at every depth. Serde's own maps keep
/// the last value silently, so a body could mean one thing to us and another
/// to whatever reads it first (a proxy, a log pipeline, the vendor); the
/// top-level struct already refuses a repeated field, and these extend that
/// to `metadata` and everything inside `provider_options`.
mod unique_keys {
    use std::fmt;

    use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Number, Value};

    use crate::model::{Metadata, MetadataValue};

    /// Longest key quoted back in the error: the body is the caller's, but
    /// the message should stay short.
    const MAX_QUOTED_KEY: usize = 64;

    fn duplicate<E: de::Error>(key: &str) -> E {
        let shown: String = key.chars().take(MAX_QUOTED_KEY).collect();
        let more = if shown.len() < key.len() { "…" } else { "" };
        E::custom(format!("duplicate key {shown:?}{more}"))
    }

    pub fn metadata<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Metadata>, D::Error> {
        Ok(Option::<UniqueMetadata>::deserialize(d)?.map(|m| m.0))
    }

    pub fn options<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Map<String, Value>>, D::Error> {
        Ok(Option::<UniqueObject>::deserialize(d)?.map(|m| m.0))
    }

    struct UniqueMetadata(Metadata);

    impl<'de> Deserialize<'de> for UniqueMetadata {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Metadata;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("an object of strings, numbers and booleans")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Metadata, A::Error> {
                    let mut out = Metadata::new();
                    while let Some(key) = map.next_key::<String>()? {
                        if out.contains_key(&key) {
                            return Err(duplicate(&key));
                        }
                        let value = map.next_value::<MetadataValue>()?;
                        out.insert(key, value);
                    }
                    Ok(out)
                }
            }
            d.deserialize_map(V).map(UniqueMetadata)
        }
    }

    /// A JSON object whose objects, at any depth, have no repeated key.
    struct UniqueObject(Map<String, Value>);

    impl<'de> Deserialize<'de> for UniqueObject {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Map<String, Value>;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                    unique_map(map)
                }
            }
            d.deserialize_map(V).map(UniqueObject)
        }
    }

    fn unique_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Map<String, Value>, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(duplicate(&key));
            }
            let value = map.next_value::<UniqueValue>()?;
            out.insert(key, value.0);
        }
        Ok(out)
    }

    /// Any JSON value, built as `serde_json::Value` would be, but through
    /// [`unique_map`] for every object inside it.
    struct UniqueValue(Value);

    impl<'de> Deserialize<'de> for UniqueValue {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(ValueVisitor).map(UniqueValue)
        }
    }

    struct ValueVisitor;

    impl<'de> Visitor<'de> for ValueVisitor {
        type Value = Value;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::Number(v.into()))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::Number(v.into()))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            // As serde_json's own Value: a non-finite float is null.
            Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Value, E> {
            Ok(Value::String(v))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_none<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            UniqueValue::deserialize(d).map(|v| v.0)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut out = Vec::new();
            while let Some(v) = seq.next_element::<UniqueValue>()? {
                out.push(v.0);
            }
            Ok(Value::Array(out))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
            unique_map(map).map(Value::Object)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let err = serde_json::from_str::<CreateSession>(
            r#"{"provider":"meteroid","account":"default","custmer":"x"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("custmer"), "{err}");
    }

    #[test]
    fn repeated_keys_are_refused_below_the_top_level_too() {
        for body in [
            r#"{"provider":"p","account":"a","metadata":{"k":"1","k":"2"}}"#,
            r#"{"provider":"p","account":"a","provider_options":{"k":1,"k":2}}"#,
            r#"{"provider":"p","account":"a","provider_options":{"o":[{"k":1,"k":2}]}}"#,
        ] {
            let err = serde_json::from_str::<CreateSession>(body).unwrap_err();
            assert!(err.to_string().contains(r#"duplicate key "k""#), "{err}");
        }
        let ok: CreateSession = serde_json::from_str(
            r#"{"provider":"p","account":"a","metadata":null,"provider_options":{"a":[1,-2,2.5,"x",null,true,{"k":{}}]}}"#,
        )
        .unwrap();
        assert_eq!(ok.metadata, None);
        assert_eq!(
            serde_json::Value::Object(ok.provider_options.unwrap()),
            serde_json::json!({"a":[1,-2,2.5,"x",null,true,{"k":{}}]})
        );
    }

    #[test]
    fn provider_options_must_be_an_object() {
        assert!(serde_json::from_str::<CreateSession>(
            r#"{"provider":"meteroid","account":"default","provider_options":[1]}"#
        )
        .is_err());
    }
}
