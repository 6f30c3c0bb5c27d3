//! Zenskar's checkout wire types, both API families (vendor notes §2.3–§2.6).
//!
//! Reads are tolerant: Zenskar publishes no machine-readable spec and its
//! doc samples disagree with each other, so every field but the id and the
//! status is optional, unknown fields are ignored and statuses stay strings.
//! Money is read from the JSON number's own text (never through `f64`).
//! Fields the spec transcription documents but no rule reads are `Unread`:
//! known, so a read reports only what is new as drift.
//! Writes are strict: every create option the gateway forwards is typed, so
//! a caller's mistake is named before anything is sent.

use checkout_core::drift::Unread;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

// ---------------------------------------------------------------- reads

/// Family A session (`/checkout`): get, create and confirm responses.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    /// `open | processing | completed | closed | cancelled`, or a future value.
    pub checkout_session_status: String,
    /// `not_started | pending | paid | failed | no_payment_required`, or a future value.
    #[serde(default)]
    pub payment_status: Option<String>,
    #[serde(default)]
    pub contract: Option<ContractEcho>,
    #[serde(default)]
    pub contract_id: Option<String>,
    #[serde(default)]
    pub confirmed_at: Option<String>,
    #[serde(default)]
    pub estimates: Option<Estimation>,
    #[serde(default)]
    pub customer_id: Option<String>,
    /// A customer snapshot whose exact shape is not documented.
    #[serde(default)]
    pub customer_data: Option<Value>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub last_activity_at: Option<String>,
    #[serde(default)]
    pub completed_at: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub success_url: Option<String>,
    #[serde(default)]
    pub cancel_url: Option<String>,
    /// Free-form; the vendor writes its own `update_history` into it too.
    #[serde(default)]
    pub custom_data: Option<Value>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub cancellation_details: Option<CancellationDetails>,
    #[serde(default)]
    pub guest_checkout: Unread,
    #[serde(default)]
    pub execution_id: Unread,
    #[serde(default)]
    pub paid_at: Unread,
    #[serde(default)]
    pub external_payment_intent_id: Unread,
    #[serde(default)]
    pub business_entity_id: Unread,
    #[serde(default)]
    pub idempotency_key: Unread,
    #[serde(default)]
    pub correlation_id: Unread,
    #[serde(default)]
    pub pending_url: Unread,
    #[serde(default)]
    pub attribution: Unread,
    #[serde(default)]
    pub cancelled_at: Unread,
}

/// The contract input echoed back (plan-based or product-based).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContractEcho {
    #[serde(default)]
    pub is_plan_based: Option<bool>,
    #[serde(default)]
    pub plan_id: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub start_date: Unread,
    #[serde(default)]
    pub phases: Unread,
}

/// `EstimationResponseSchema` (family A).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Estimation {
    #[serde(default)]
    pub current_invoice: Option<EstimatedInvoice>,
    /// Major units, as a decimal JSON number.
    #[serde(default)]
    pub amount_due: Option<DecimalAmount>,
    #[serde(default)]
    pub estimation_id: Unread,
    #[serde(default)]
    pub future_invoices: Unread,
    #[serde(default)]
    pub credit_notes: Unread,
}

/// Family A's estimated invoice: only what the adapter reads (its totals
/// are not read, so they cannot fail a read).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EstimatedInvoice {
    #[serde(default)]
    pub customer: Option<InvoiceCustomer>,
    #[serde(default)]
    pub line_items: Option<Vec<LineItem>>,
    #[serde(default)]
    pub id: Unread,
    #[serde(default)]
    pub invoice_number: Unread,
    #[serde(default)]
    pub status: Unread,
    #[serde(default)]
    pub features: Unread,
    #[serde(default)]
    pub subtotal: Unread,
    #[serde(default)]
    pub total: Unread,
}

/// Family B's `{total, currency}` per invoice.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InvoiceEstimate {
    #[serde(default)]
    pub customer: Option<InvoiceCustomer>,
    #[serde(default)]
    pub currency: Option<String>,
    /// Major units, as a decimal JSON number.
    #[serde(default)]
    pub total: Option<DecimalAmount>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct InvoiceCustomer {
    #[serde(default)]
    pub customer_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub customer_id: Unread,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LineItem {
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub id: Unread,
    #[serde(default)]
    pub name: Unread,
    #[serde(default)]
    pub quantity: Unread,
    #[serde(default)]
    pub unit_price: Unread,
    #[serde(default)]
    pub amount: Unread,
    #[serde(default)]
    pub description: Unread,
    #[serde(default)]
    pub period: Unread,
}

/// `{reason_type, reason, reference_id, cancelled_at}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CancellationDetails {
    /// `customer_requested | payment_failed | expired | duplicate | fraudulent | other`.
    #[serde(default)]
    pub reason_type: Option<String>,
    #[serde(default)]
    pub reason: Unread,
    #[serde(default)]
    pub reference_id: Unread,
    #[serde(default)]
    pub cancelled_at: Unread,
}

/// `{"data": [summary…], "next": cursor, "total": n}`: the family A list.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutSessionList {
    pub data: Vec<CheckoutSession>,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub total: Option<u64>,
}

/// The family A list with each summary kept verbatim (for `raw`).
#[derive(Debug, Deserialize)]
pub struct RawCheckoutSessionList {
    pub data: Vec<Box<RawValue>>,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub total: Unread,
}

/// Family B checkout (`/checkouts`): get, create and confirm responses.
#[derive(Debug, Clone, Deserialize)]
pub struct Checkout {
    pub id: String,
    /// Free-form: `open`, `pending`, `payment_succeeded`, `contract_created`, `expired`, …
    pub checkout_status: String,
    #[serde(default)]
    pub plan_id: Option<String>,
    /// Set at creation for amendments, after confirmation for new contracts.
    #[serde(default)]
    pub contract_id: Option<String>,
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub customer_data: Option<Value>,
    /// `{current_invoice, next_invoice}`.
    #[serde(default)]
    pub estimates: Option<CheckoutEstimates>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub success_url: Option<String>,
    #[serde(default)]
    pub cancel_url: Option<String>,
    /// Items whose keys the docs do not give; only their presence is read.
    #[serde(default)]
    pub product_overrides: Option<Value>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub organisation_id: Unread,
    #[serde(default)]
    pub start_date: Unread,
    #[serde(default)]
    pub end_date: Unread,
    #[serde(default)]
    pub business_entity_id: Unread,
    #[serde(default)]
    pub guest_checkout: Unread,
    #[serde(default)]
    pub contract: Unread,
    /// The confirm answer's (`CheckoutConfirmResponse`).
    #[serde(default)]
    pub message: Unread,
}

/// `CheckoutEstimatesResponseSchema` (family B).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CheckoutEstimates {
    #[serde(default)]
    pub current_invoice: Option<InvoiceEstimate>,
    #[serde(default)]
    pub next_invoice: Unread,
}

/// Which family a body belongs to, and whether it is a list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Probe {
    #[serde(default)]
    pub checkout_session_status: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    pub checkout_status: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    pub data: Option<serde::de::IgnoredAny>,
}

/// An error body: `{"detail": …}` (FastAPI), `{"Message": …}` (the 403 of
/// the organisation check) or `{"message": …}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub detail: Option<Value>,
    #[serde(default, rename = "Message")]
    pub message_capital: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// A decimal read from a JSON number's exact text (`29.99`, `1500`,
/// `1.234`, `1e3`) or a decimal string; never through a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecimalAmount(pub Decimal);

impl<'de> Deserialize<'de> for DecimalAmount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <Box<RawValue>>::deserialize(d)?;
        parse_decimal(raw.get())
            .map(DecimalAmount)
            .ok_or_else(|| serde::de::Error::custom("expected a decimal number"))
    }
}

/// The text of a JSON number (or of a JSON string holding one) as a decimal.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).ok()
    } else {
        Decimal::from_str_exact(text).ok()
    }
}

// ---------------------------------------------------------------- writes

/// `POST /checkout` body (family A).
#[derive(Debug, Clone, Serialize)]
pub struct CreateCheckoutSession {
    pub contract: ContractInput,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guest_checkout: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_data: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_entity_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribution: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<Value>,
}

/// The family A `contract`: plan-based from canonical fields, or a
/// product-based contract passed through from `provider_options.contract`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ContractInput {
    PlanBased {
        is_plan_based: bool,
        plan_id: Uuid,
        currency: Currency,
        start_date: DateInput,
    },
    Given(Map<String, Value>),
}

/// `POST /checkouts` body (family B).
#[derive(Debug, Clone, Serialize)]
pub struct CreateCheckout {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<DateInput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<DateInput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_entity_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guest_checkout: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_data: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_overrides: Option<Vec<Map<String, Value>>>,
}

/// `provider_options` of a family A (`/checkout`) account.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutOptions {
    /// Contract currency; required with the canonical `plan`.
    #[serde(default)]
    pub currency: Option<Currency>,
    /// Contract start; required with the canonical `plan`.
    #[serde(default)]
    pub start_date: Option<DateInput>,
    /// A whole contract (e.g. product-based, with phases) instead of `plan`.
    #[serde(default)]
    pub contract: Option<Map<String, Value>>,
    #[serde(default)]
    pub customer_data: Option<Map<String, Value>>,
    #[serde(default)]
    pub business_entity_id: Option<Uuid>,
    #[serde(default)]
    pub correlation_id: Option<String>,
    /// Checked like `success_url`.
    #[serde(default)]
    pub pending_url: Option<String>,
    #[serde(default)]
    pub attribution: Option<Map<String, Value>>,
}

pub const CHECKOUT_OPTION_FIELDS: &[&str] = &[
    "currency",
    "start_date",
    "contract",
    "customer_data",
    "business_entity_id",
    "correlation_id",
    "pending_url",
    "attribution",
];

/// `provider_options` of a family B (`/checkouts`) account.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutsOptions {
    /// An amendment of this contract instead of a new one (needs `product_overrides`).
    #[serde(default)]
    pub contract_id: Option<Uuid>,
    #[serde(default)]
    pub start_date: Option<DateInput>,
    #[serde(default)]
    pub end_date: Option<DateInput>,
    /// Items whose exact keys the docs do not give: checked by the vendor.
    #[serde(default)]
    pub product_overrides: Option<Vec<Map<String, Value>>>,
    #[serde(default)]
    pub customer_data: Option<Map<String, Value>>,
    #[serde(default)]
    pub business_entity_id: Option<Uuid>,
}

pub const CHECKOUTS_OPTION_FIELDS: &[&str] = &[
    "contract_id",
    "start_date",
    "end_date",
    "product_overrides",
    "customer_data",
    "business_entity_id",
];

/// The documented cancel reasons (ZK-D2/ZK-D1 cancel); `other` needs a `reason`.
pub const CANCEL_REASON_TYPES: &[&str] = &[
    "customer_requested",
    "payment_failed",
    "expired",
    "duplicate",
    "fraudulent",
    "other",
];

/// `provider_options` a family A cancel takes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelOptions {
    #[serde(default)]
    pub reason_type: Option<String>,
    #[serde(default)]
    pub reference_id: Option<String>,
}

/// Names of the fields of [`CancelOptions`], for capability listings.
pub const CANCEL_OPTION_FIELDS: &[&str] = &["reason_type (cancel)", "reference_id (cancel)"];

/// `POST /checkout/{id}/cancel` body.
#[derive(Debug, Clone, Serialize)]
pub struct CancelRequest {
    pub reason_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<String>,
}

/// Every `provider_options` key of either family, for capability listings.
pub const ALL_OPTION_FIELDS: &[&str] = &[
    "currency",
    "start_date",
    "end_date",
    "contract",
    "contract_id",
    "product_overrides",
    "customer_data",
    "business_entity_id",
    "correlation_id",
    "pending_url",
    "attribution",
];

/// A UUID in any form the caller writes it, sent in the canonical form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uuid(pub uuid::Uuid);

impl Uuid {
    pub fn parse(s: &str) -> Option<Uuid> {
        uuid::Uuid::parse_str(s).ok().map(Uuid)
    }
}

impl Serialize for Uuid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.hyphenated())
    }
}

impl<'de> Deserialize<'de> for Uuid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Uuid::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("expected a UUID, got {s:?}")))
    }
}

/// An ISO 4217 code, upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Currency(String);

impl Currency {
    pub fn parse(s: &str) -> Option<Currency> {
        let upper = s.to_ascii_uppercase();
        checkout_core::money::currency_exponent(&upper).map(|_| Currency(upper))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("expected an ISO 4217 code like \"USD\", got {s:?}"))
        })
    }
}

/// A date (`2026-03-01`) or datetime, sent as the caller wrote it: Zenskar
/// reads datetimes for dates (its own samples send them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DateInput(String);

impl DateInput {
    pub fn parse(s: &str) -> Option<DateInput> {
        let is_date = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok();
        let is_datetime = checkout_core::timestamp::parse_lenient(s).is_some();
        (is_date || is_datetime).then(|| DateInput(s.to_owned()))
    }

    /// For a field typed datetime (family A's `contract.start_date`): a
    /// plain date becomes its midnight, written naive as the docs do.
    pub fn as_datetime(&self) -> DateInput {
        match chrono::NaiveDate::parse_from_str(&self.0, "%Y-%m-%d") {
            Ok(date) => DateInput(format!("{date}T00:00:00")),
            Err(_) => self.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for DateInput {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DateInput::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected a date like \"2026-03-01\" or an ISO 8601 datetime, got {s:?}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_come_from_the_number_text() {
        #[derive(Deserialize)]
        struct T {
            a: DecimalAmount,
        }
        for (json, text) in [
            ("29.99", "29.99"),
            ("1500", "1500"),
            ("1.234", "1.234"),
            ("0.1", "0.1"),
            ("50.0", "50.0"),
            ("1e3", "1000"),
            ("\"19.90\"", "19.90"),
            ("-5.5", "-5.5"),
        ] {
            let t: T = serde_json::from_str(&format!("{{\"a\":{json}}}")).unwrap();
            assert_eq!(t.a.0.to_string(), text, "{json}");
        }
        for bad in ["true", "\"abc\"", "[1]", "{}"] {
            assert!(
                serde_json::from_str::<T>(&format!("{{\"a\":{bad}}}")).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn typed_inputs() {
        assert!(Uuid::parse("3F1C9A52-7B4E-4D2A-9C61-0E8F5B7A2D14").is_some());
        assert!(Uuid::parse("acme").is_none());
        assert_eq!(Currency::parse("usd").map(|c| c.0), Some("USD".to_owned()));
        assert!(Currency::parse("dollars").is_none());
        assert!(DateInput::parse("2026-03-01").is_some());
        assert!(DateInput::parse("2026-03-01T00:00:00").is_some());
        assert!(DateInput::parse("2026-03-01T00:00:00Z").is_some());
        assert!(DateInput::parse("March 1st").is_none());
        let as_dt = |s: &str| DateInput::parse(s).map(|d| d.as_datetime().0);
        assert_eq!(as_dt("2026-03-01").as_deref(), Some("2026-03-01T00:00:00"));
        assert_eq!(
            as_dt("2026-03-01T08:00:00Z").as_deref(),
            Some("2026-03-01T08:00:00Z")
        );
        let v = serde_json::to_value(Uuid::parse("3F1C9A527B4E4D2A9C610E8F5B7A2D14")).unwrap();
        assert_eq!(v, "3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14");
    }
}
