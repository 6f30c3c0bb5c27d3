//! The canonical checkout session (PRODUCT §2).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use crate::drift::Unknowns;
use crate::id::SessionId;
use crate::money::Money;
use crate::status::{PaymentStatus, Status};
use crate::timestamp;

/// A session read from (or created at, listed at, cancelled at) a vendor.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Canonical form; `status` is the vendor-mapped status, before derived expiry.
    pub session: CheckoutSession,
    /// The vendor's JSON for this session (the response body, or its list
    /// item), byte for byte.
    pub raw: Box<RawValue>,
    /// What the answer held that the wire types do not know (empty for a
    /// list item: the page holds its items' drift).
    pub unknown: Unknowns,
}

/// A checkout session, whichever vendor holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CheckoutSession {
    /// Always `checkout_session`.
    #[schema(value_type = String, example = "checkout_session")]
    pub object: ObjectTag,
    /// `provider:account:provider_session_id`.
    #[schema(example = "meteroid:default:che_7n42DGM5Tflk9n8mt7Fhc7")]
    pub id: String,
    pub provider: String,
    pub account: String,
    pub provider_session_id: String,
    /// Status at the moment of the response: expiry is derived (see `expires_at`).
    pub status: Status,
    /// `null` where the vendor does not say whether money moved.
    pub payment_status: Option<PaymentStatus>,
    pub purpose: Purpose,
    /// Hosted checkout page, when the vendor gives one and it can still be used.
    pub url: Option<String>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub customer: Option<Customer>,
    pub plan: Option<PlanRef>,
    pub quantity: Option<u64>,
    pub subscription_id: Option<String>,
    pub invoice_id: Option<String>,
    pub amount_total: Option<Money>,
    pub livemode: Option<bool>,
    pub metadata: Metadata,
    #[serde(with = "timestamp::serde_req")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "timestamp::serde_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(with = "timestamp::serde_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(with = "timestamp::serde_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<DateTime<Utc>>,
    /// The vendor's own status fields, verbatim.
    pub provider_status: ProviderStatus,
}

impl CheckoutSession {
    /// The canonical id of this session.
    pub fn session_id(&self) -> Result<SessionId, crate::id::IdError> {
        SessionId::parse(&self.id)
    }

    /// This session as seen at `now`: expiry applied (see [`Status::derived`]).
    /// `status` must hold the vendor-mapped status; derivation is applied on
    /// every read so that a cached copy never shows a stale status.
    pub fn as_of(&self, now: DateTime<Utc>) -> CheckoutSession {
        let mut out = self.clone();
        out.status = self.status.derived(self.expires_at, now);
        out
    }
}

/// Serialises as the constant `"checkout_session"` and refuses anything else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObjectTag;

impl Serialize for ObjectTag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("checkout_session")
    }
}

impl<'de> Deserialize<'de> for ObjectTag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "checkout_session" {
            Ok(ObjectTag)
        } else {
            Err(serde::de::Error::custom(format!(
                "expected \"checkout_session\", got {s:?}"
            )))
        }
    }
}

/// What the checkout is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Start a new subscription to a plan.
    Subscription,
    /// Activate a subscription that already exists.
    SubscriptionActivation,
    /// Move an existing subscription to another plan.
    PlanChange,
    /// Buy an add-on to an existing subscription.
    AddOn,
    /// Buy a product (one-off or quantity-based).
    Purchase,
    /// Collect a payment method without charging.
    Setup,
    /// A vendor value no rule maps; see `provider_status` and `raw`.
    Other,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Customer {
    /// The vendor's customer id.
    pub id: Option<String>,
    /// The merchant's own id for the customer, where the vendor keeps one.
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlanRef {
    pub id: String,
    /// What kind of vendor object `id` names: `plan_version`, `price`, `plan`, `product`, …
    pub kind: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProviderStatus {
    pub status: Option<String>,
    pub payment_status: Option<String>,
}

/// Flat metadata: string keys to string, number or boolean values.
pub type Metadata = BTreeMap<String, MetadataValue>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum MetadataValue {
    String(String),
    #[schema(value_type = f64)]
    Number(serde_json::Number),
    Bool(bool),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_tag_is_strict() {
        assert_eq!(
            serde_json::to_string(&ObjectTag).unwrap(),
            "\"checkout_session\""
        );
        assert!(serde_json::from_str::<ObjectTag>("\"invoice\"").is_err());
    }

    #[test]
    fn metadata_values_are_flat() {
        let m: Metadata = serde_json::from_str(r#"{"a":"x","b":2.5,"c":true}"#).unwrap();
        assert_eq!(m.len(), 3);
        assert!(serde_json::from_str::<Metadata>(r#"{"a":{"nested":1}}"#).is_err());
        assert!(serde_json::from_str::<Metadata>(r#"{"a":null}"#).is_err());
    }
}
