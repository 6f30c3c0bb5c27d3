//! Meteroid's REST wire types (vendor notes M3, M4, M6).
//!
//! Reads are tolerant: unknown fields are ignored and enum-like fields are
//! kept as strings, so a new vendor status or checkout type never fails a
//! read. Writes are strict: every create option the gateway forwards is
//! typed, so a caller's mistake is named before anything is sent.

use checkout_core::drift::Unread;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `{"session": CheckoutSession}`: get, create and cancel responses.
#[derive(Debug, Clone, Deserialize)]
pub struct SessionEnvelope {
    pub session: CheckoutSession,
}

/// `{"sessions": [CheckoutSession]}`: the (unpaginated) list response.
#[derive(Debug, Clone, Deserialize)]
pub struct SessionList {
    pub sessions: Vec<CheckoutSession>,
}

/// The list response with each session kept verbatim (for `raw`).
#[derive(Debug, Deserialize)]
pub struct RawSessionList {
    pub sessions: Vec<Box<serde_json::value::RawValue>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    pub customer_id: String,
    pub plan_version_id: String,
    // Documented (spec `CheckoutSession`), read by no rule: known, not drift.
    #[serde(default)]
    pub coupon_code: Unread,
    #[serde(default)]
    pub billing_start_date: Unread,
    #[serde(default)]
    pub billing_day_anchor: Unread,
    #[serde(default)]
    pub net_terms: Unread,
    #[serde(default)]
    pub trial_duration_days: Unread,
    #[serde(default)]
    pub payment_methods_config: Unread,
    /// `CREATED | AWAITING_PAYMENT | COMPLETED | EXPIRED | CANCELLED`, or a future value.
    pub status: String,
    /// `SELF_SERVE | SUBSCRIPTION_ACTIVATION | PLAN_CHANGE | ADDON_PURCHASE`, or a future value.
    pub checkout_type: String,
    pub created_at: String,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub completed_at: Option<String>,
    #[serde(default)]
    pub subscription_id: Option<String>,
    #[serde(default)]
    pub checkout_url: Option<String>,
    /// Redirect URLs, as given on create; absent from deployments that
    /// predate them (vendor notes, "Drift and official clients").
    #[serde(default)]
    pub success_url: Option<String>,
    #[serde(default)]
    pub cancel_url: Option<String>,
}

/// `{"code": ErrorCode, "message": string}`; codes kept as strings for tolerance.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub code: Option<String>,
    pub message: String,
}

/// `POST /api/v1/checkout-sessions` body.
#[derive(Debug, Clone, Serialize)]
pub struct CreateRequest {
    pub customer_id: String,
    pub plan_version_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Where the customer lands after paying (Meteroid appends
    /// `checkout_session_id` to its query when it redirects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    /// Offered to the customer to leave without paying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
    #[serde(flatten)]
    pub options: CreateOptions,
}

/// Every optional create field Meteroid accepts, reachable through the
/// canonical `provider_options`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coupon_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coupon_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_start_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_day_anchor: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_terms: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial_duration_days: Option<i32>,
    /// Default 1 at the vendor; `0` means the session never expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_hours: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_advance_invoices: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charge_automatically: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_memo: Option<String>,
    /// A decimal sent as a string, as the vendor expects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_threshold: Option<DecimalString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_order: Option<String>,
    /// Price-component overrides; a deep vendor union, checked by the vendor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add_ons: Option<Vec<AddOn>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_methods_config: Option<PaymentMethodsConfig>,
}

/// Names of the fields of [`CreateOptions`], for capability listings and
/// for refusing unknown keys by name.
pub const CREATE_OPTION_FIELDS: &[&str] = &[
    "coupon_code",
    "coupon_ids",
    "billing_start_date",
    "billing_day_anchor",
    "net_terms",
    "trial_duration_days",
    "expires_in_hours",
    "end_date",
    "auto_advance_invoices",
    "charge_automatically",
    "invoice_memo",
    "invoice_threshold",
    "purchase_order",
    "components",
    "add_ons",
    "payment_methods_config",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddOn {
    pub add_on_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// `{type: PRICE_OVERRIDE | PARAMETERIZATION, …}`, checked by the vendor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customization: Option<Map<String, Value>>,
}

/// Tagged on `type`, as in the vendor spec.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum PaymentMethodsConfig {
    Online {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        config: Option<OnlineMethodsConfig>,
    },
    BankTransfer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        account_id: Option<String>,
    },
    External {},
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnlineMethodsConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<MethodToggle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_debit: Option<MethodToggle>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodToggle {
    pub enabled: bool,
}

/// A decimal number carried as a JSON string (`"100.50"`), checked on input.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct DecimalString(String);

impl<'de> Deserialize<'de> for DecimalString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match rust_decimal::Decimal::from_str_exact(&s) {
            Ok(_) => Ok(DecimalString(s)),
            Err(_) => Err(serde::de::Error::custom(format!(
                "expected a decimal string like \"100.50\", got {s:?}"
            ))),
        }
    }
}
