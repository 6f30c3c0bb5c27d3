//! The canonical create request (PRODUCT §3).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::Error;
use crate::model::Metadata;
use crate::timestamp;

/// `POST /v1/checkout-sessions` body. Unknown top-level fields are refused so
/// that a typo never silently drops what the caller meant to send.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    /// Vendor: `meteroid`, …
    pub provider: String,
    /// Configured account of that vendor.
    pub account: String,
    /// The vendor's customer reference (Meteroid: customer id or alias).
    pub customer: Option<String>,
    /// What is bought (Meteroid: plan version id).
    pub plan: Option<String>,
    pub quantity: Option<u64>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    /// When the session should stop accepting payment.
    #[serde(default, with = "timestamp::serde_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<DateTime<Utc>>,
    pub metadata: Option<Metadata>,
    /// Vendor-specific create fields, passed through after the adapter checks them.
    #[schema(value_type = Option<Object>)]
    pub provider_options: Option<serde_json::Map<String, serde_json::Value>>,
}

impl CreateSession {
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
    fn provider_options_must_be_an_object() {
        assert!(serde_json::from_str::<CreateSession>(
            r#"{"provider":"meteroid","account":"default","provider_options":[1]}"#
        )
        .is_err());
    }
}
