//! Flowglad's checkout-session record as the REST API renders it: every
//! column present (`null` when empty), in the order the vendor's client
//! schema emits them, timestamps as epoch milliseconds.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    Pending,
    Succeeded,
    Failed,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Pending => "pending",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Expired => "expired",
        }
    }

    /// Succeeded, failed and expired sessions never move again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Succeeded | Status::Failed | Status::Expired)
    }
}

/// The types a stored session can have (`purchase` only from other flows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionType {
    Product,
    AddPaymentMethod,
    ActivateSubscription,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethodType {
    Card,
    Link,
    UsBankAccount,
    SepaDebit,
}

/// What the customer typed on the hosted page (`BillingAddress`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BillingAddress {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    pub address: Address,
    #[serde(default)]
    pub phone: Option<String>,
}

/// `postal_code` is snake_case in the vendor's camelCase API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub line1: Option<String>,
    #[serde(default)]
    pub line2: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    pub country: String,
}

/// A flat metadata object in Postgres `jsonb` key order (shorter keys
/// first, then bytewise), which is how the vendor's database returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonbObject(Vec<(String, Value)>);

impl JsonbObject {
    pub fn new(map: serde_json::Map<String, Value>) -> JsonbObject {
        let mut entries: Vec<(String, Value)> = map.into_iter().collect();
        entries.sort_by(|(a, _), (b, _)| (a.len(), a.as_bytes()).cmp(&(b.len(), b.as_bytes())));
        JsonbObject(entries)
    }
}

impl Serialize for JsonbObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// `CheckoutSessionRecord`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub id: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub livemode: bool,
    pub pricing_model_id: String,
    pub status: Status,
    pub billing_address: Option<BillingAddress>,
    pub price_id: Option<String>,
    pub purchase_id: Option<String>,
    pub invoice_id: Option<String>,
    pub quantity: i64,
    pub organization_id: String,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub customer_id: Option<String>,
    pub payment_method_type: Option<PaymentMethodType>,
    pub discount_id: Option<String>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    #[serde(rename = "type")]
    pub session_type: SessionType,
    pub preserve_billing_cycle_anchor: bool,
    pub output_metadata: Option<JsonbObject>,
    pub output_name: Option<String>,
    pub target_subscription_id: Option<String>,
    pub automatically_update_subscriptions: Option<bool>,
    pub expires: i64,
}

/// `{"checkoutSession": …, "url": …}` for create and get.
#[derive(Debug, Serialize)]
pub struct SessionResponse {
    #[serde(rename = "checkoutSession")]
    pub checkout_session: Record,
    pub url: String,
}

/// One page of `GET /api/v1/checkout-sessions`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse {
    pub data: Vec<Record>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub has_more: bool,
    pub total: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_comes_back_in_jsonb_key_order() {
        let map = serde_json::from_str(r#"{"zeta":1,"b":2,"aa":3,"a":4,"bb":true}"#).unwrap();
        let text = serde_json::to_string(&JsonbObject::new(map)).unwrap();
        assert_eq!(text, r#"{"a":4,"b":2,"aa":3,"bb":true,"zeta":1}"#);
    }
}
