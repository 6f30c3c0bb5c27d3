//! Flowglad's REST wire types (vendor notes §1.3, §1.4, §1.6).
//!
//! Reads are tolerant: unknown fields are ignored, enum-like fields are kept
//! as strings, and every field a variant or an older server may leave out
//! is optional, so a new status, a legacy session type or the older
//! ISO-timestamp form never fails a read. Writes are strict: every create
//! option the gateway forwards is typed, so a caller's mistake is named
//! before anything is sent.

use checkout_core::drift::Unread;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `{"checkoutSession": record, "url": string}`: get and create responses.
#[derive(Debug, Clone, Deserialize)]
pub struct SessionEnvelope {
    #[serde(rename = "checkoutSession")]
    pub checkout_session: CheckoutSession,
    /// Hosted page; required by the spec, tolerated when absent.
    #[serde(default)]
    pub url: Option<String>,
}

/// `GET /api/v1/checkout-sessions`: one page (`createdAt`, then `id`;
/// ascending without a cursor, per the fixtures' `[code]` note).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionList {
    pub data: Vec<CheckoutSession>,
    #[serde(default)]
    pub current_cursor: Option<String>,
    #[serde(default)]
    pub next_cursor: Option<String>,
    #[serde(default)]
    pub has_more: Option<bool>,
    #[serde(default)]
    pub total: Option<serde_json::Number>,
}

/// The list response with each record kept verbatim (for `raw`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawSessionList {
    pub data: Vec<Box<serde_json::value::RawValue>>,
    #[serde(default)]
    pub next_cursor: Option<String>,
    #[serde(default)]
    pub has_more: Option<bool>,
    #[serde(default)]
    pub current_cursor: Unread,
    #[serde(default)]
    pub total: Unread,
}

/// Epoch milliseconds today; an ISO 8601 string on older servers (seed 002).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Timestamp {
    Millis(i64),
    /// A JSON number with a fraction or beyond `i64`; read only if integral.
    Fractional(f64),
    Text(String),
}

/// `CheckoutSessionRecord`, any of its variants (purchase, product,
/// add_payment_method, activate_subscription) or a future one. The
/// variants share one field set and differ only in what may be null.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutSession {
    pub id: String,
    pub created_at: Timestamp,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub livemode: Option<bool>,
    #[serde(default)]
    pub pricing_model_id: Option<String>,
    /// `open | pending | succeeded | failed | expired`, or a future value.
    pub status: String,
    #[serde(default)]
    pub billing_address: Option<BillingAddress>,
    #[serde(default)]
    pub price_id: Option<String>,
    #[serde(default)]
    pub purchase_id: Option<String>,
    #[serde(default)]
    pub invoice_id: Option<String>,
    #[serde(default)]
    pub quantity: Option<i64>,
    #[serde(default)]
    pub organization_id: Option<String>,
    #[serde(default)]
    pub customer_name: Option<String>,
    #[serde(default)]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub customer_id: Option<String>,
    /// `card | link | us_bank_account | sepa_debit`, or a future value.
    #[serde(default)]
    pub payment_method_type: Option<String>,
    #[serde(default)]
    pub discount_id: Option<String>,
    #[serde(default)]
    pub success_url: Option<String>,
    #[serde(default)]
    pub cancel_url: Option<String>,
    /// `product | purchase | add_payment_method | activate_subscription`, or
    /// a future (or removed, like `invoice`) value.
    #[serde(rename = "type")]
    pub session_type: String,
    #[serde(default)]
    pub preserve_billing_cycle_anchor: Option<bool>,
    /// Flat by the vendor's rules; read loosely so a stray value never fails a read.
    #[serde(default)]
    pub output_metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub output_name: Option<String>,
    #[serde(default)]
    pub target_subscription_id: Option<String>,
    #[serde(default)]
    pub automatically_update_subscriptions: Option<bool>,
    /// Absent in the older ISO-timestamp form.
    #[serde(default)]
    pub expires: Option<Timestamp>,
}

/// What the customer typed on the hosted page. `postal_code` really is
/// snake_case inside this camelCase API.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingAddress {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<Address>,
}

#[derive(Debug, Clone, Default, Deserialize)]
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
    #[serde(default)]
    pub country: Option<String>,
}

/// The JSON error the REST handler really sends:
/// `{"error": message | zod issues, "code"?, "request_id", "trace_id"?, "sentry_event_id"?}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerError {
    pub error: Value,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub request_id: Option<String>,
}

/// The error body the vendor's OpenAPI documents (`error.*` schemas):
/// `{"message", "code", "issues"?: [{"message"}]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct DocumentedError {
    pub message: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub issues: Option<Vec<Issue>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Issue {
    pub message: String,
}

/// `POST /api/v1/checkout-sessions` body: the `{checkoutSession: …}` wrapper.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateRequest {
    #[serde(rename = "checkoutSession")]
    pub checkout_session: CreateCheckoutSession,
}

/// `CreateCheckoutSessionInput`: a union on `type`. (`purchase` is refused
/// by the vendor over the API.)
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CreateCheckoutSession {
    Product(ProductInput),
    AddPaymentMethod(AddPaymentMethodInput),
    ActivateSubscription(ActivateSubscriptionInput),
}

/// Fields every variant shares.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoreInput {
    /// The merchant's own customer id; absent for anonymous sessions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_external_id: Option<String>,
    pub success_url: String,
    pub cancel_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_metadata: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_name: Option<String>,
}

/// Exactly one of `price_id` and `price_slug` is set.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductInput {
    #[serde(flatten)]
    pub core: CoreInput,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_slug: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u64>,
    /// Sent only as `true`; the vendor reads a missing value as `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preserve_billing_cycle_anchor: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddPaymentMethodInput {
    #[serde(flatten)]
    pub core: CoreInput,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_subscription_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivateSubscriptionInput {
    #[serde(flatten)]
    pub core: CoreInput,
    pub target_subscription_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preserve_billing_cycle_anchor: Option<bool>,
}

/// The session types the API creates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionType {
    #[default]
    Product,
    AddPaymentMethod,
    ActivateSubscription,
}

impl SessionType {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionType::Product => "product",
            SessionType::AddPaymentMethod => "add_payment_method",
            SessionType::ActivateSubscription => "activate_subscription",
        }
    }
}

/// Every Flowglad create field without a canonical counterpart, reachable
/// through the canonical `provider_options` under the vendor's own names.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateOptions {
    /// Default `product`.
    #[serde(default, rename = "type")]
    pub session_type: Option<SessionType>,
    /// `product` only: no customer; the price resolves in the default pricing model.
    #[serde(default)]
    pub anonymous: Option<bool>,
    /// `product` only, instead of `plan`.
    #[serde(default)]
    pub price_slug: Option<String>,
    #[serde(default)]
    pub output_name: Option<String>,
    /// `product` and `activate_subscription`.
    #[serde(default)]
    pub preserve_billing_cycle_anchor: Option<bool>,
    /// Required for `activate_subscription`; optional for `add_payment_method`.
    #[serde(default)]
    pub target_subscription_id: Option<String>,
}

/// Names of the fields of [`CreateOptions`], for capability listings and
/// for refusing unknown keys by name.
pub const CREATE_OPTION_FIELDS: &[&str] = &[
    "type",
    "anonymous",
    "priceSlug",
    "outputName",
    "preserveBillingCycleAnchor",
    "targetSubscriptionId",
];
