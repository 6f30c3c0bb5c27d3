//! What the two families answer, field for field (vendor notes §2.4).
//!
//! Family A leaves unset keys out (its documented samples do) and writes
//! naive timestamps; family B writes every key, `null` when unset, and `Z`
//! timestamps. Money is a JSON number with the decimal's own digits.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use uuid::Uuid;

/// A UUID written in its hyphenated form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Id(pub Uuid);

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.hyphenated())
    }
}

/// `2026-03-02T09:14:27.318204`: Python's `isoformat()` of a naive UTC
/// datetime (microseconds only when non-zero).
pub fn naive(t: &DateTime<Utc>) -> String {
    let n = t.naive_utc();
    if t.timestamp_subsec_micros() == 0 {
        n.format("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        n.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
    }
}

/// `2026-03-02T09:14:27.318204Z`.
pub fn zulu(t: &DateTime<Utc>) -> String {
    format!("{}Z", naive(t))
}

/// A decimal written as pydantic's encoder writes it: an integer when the
/// decimal has no fraction digits, else the shortest float text (`99.00` →
/// `99.0`, `21.295` → `21.295`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Num(pub Decimal);

impl Num {
    pub fn text(&self) -> String {
        if self.0.scale() == 0 {
            return self.0.to_string();
        }
        let n = self.0.normalize();
        if n.scale() == 0 {
            format!("{n}.0")
        } else {
            n.to_string()
        }
    }
}

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RawValue::from_string(self.text())
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Period {
    pub start_date: String,
    pub end_date: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineItem {
    pub id: Id,
    pub name: String,
    pub quantity: u64,
    pub unit_price: Num,
    pub amount: Num,
    pub currency: String,
    pub description: String,
    pub period: Period,
}

#[derive(Debug, Clone, Serialize)]
pub struct InvoiceCustomer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EstimatedInvoice {
    pub id: Id,
    pub invoice_number: String,
    pub status: &'static str,
    pub customer: InvoiceCustomer,
    pub line_items: Vec<LineItem>,
    pub features: Vec<Value>,
    pub subtotal: Num,
    pub total: Num,
}

/// `EstimationResponseSchema`.
#[derive(Debug, Clone, Serialize)]
pub struct Estimation {
    pub estimation_id: Id,
    pub current_invoice: EstimatedInvoice,
    pub future_invoices: Vec<Value>,
    pub amount_due: Num,
    pub credit_notes: Vec<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CancellationDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<String>,
    pub cancelled_at: String,
}

/// Family A session (get, create, confirm), unset keys left out.
#[derive(Debug, Clone, Serialize)]
pub struct CheckoutSession {
    pub id: Id,
    pub checkout_session_status: &'static str,
    pub payment_status: &'static str,
    pub contract: Value,
    pub guest_checkout: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_payment_intent_id: Option<String>,
    pub estimates: Estimation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_entity_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_data: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    pub last_activity_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    pub currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribution: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<Map<String, Value>>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_details: Option<CancellationDetails>,
}

/// `POST /checkout/{id}/cancel`: the documented fields, which carry no id.
#[derive(Debug, Clone, Serialize)]
pub struct CancelResponse {
    pub checkout_session_status: &'static str,
    pub payment_status: &'static str,
    pub cancelled_at: String,
    pub cancellation_details: CancellationDetails,
    pub estimates: Estimation,
}

/// A list item: no contract, no estimates.
#[derive(Debug, Clone, Serialize)]
pub struct CheckoutSessionSummary {
    pub id: Id,
    pub checkout_session_status: &'static str,
    pub payment_status: &'static str,
    pub created_at: String,
    pub last_activity_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Id>,
    pub guest_checkout: bool,
    pub currency: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckoutSessionList {
    pub data: Vec<CheckoutSessionSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    pub total: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct InvoiceEstimate {
    pub total: Num,
    pub currency: String,
}

/// `CheckoutEstimatesResponseSchema`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckoutEstimates {
    pub current_invoice: InvoiceEstimate,
    pub next_invoice: Option<InvoiceEstimate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProductOverride {
    pub product_id: Id,
    pub quantity: Option<u64>,
    pub is_enabled: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContractPreview {
    pub name: String,
    pub phases: Vec<Value>,
}

/// Family B checkout (get, create): every key, `null` when unset.
#[derive(Debug, Clone, Serialize)]
pub struct Checkout {
    pub id: Id,
    pub organisation_id: Id,
    pub checkout_status: String,
    pub plan_id: Option<Id>,
    pub contract_id: Option<Id>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub customer_id: Option<Id>,
    pub business_entity_id: Option<Id>,
    pub guest_checkout: bool,
    pub customer_data: Option<Map<String, Value>>,
    pub estimates: CheckoutEstimates,
    pub expires_at: String,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub product_overrides: Option<Vec<ProductOverride>>,
    pub created_at: String,
    pub updated_at: String,
    pub contract: ContractPreview,
}

/// `POST /checkouts/{id}/confirm`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckoutConfirmed {
    pub id: Id,
    pub checkout_status: String,
    pub contract_id: Option<Id>,
    pub message: &'static str,
    pub created_at: String,
    pub updated_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(m: i64, scale: u32) -> String {
        Num(Decimal::new(m, scale)).text()
    }

    #[test]
    fn numbers_keep_their_decimal_digits() {
        assert_eq!(num(2999, 2), "29.99");
        assert_eq!(num(9900, 2), "99.0");
        assert_eq!(num(15000, 0), "15000");
        assert_eq!(num(21295, 3), "21.295");
        assert_eq!(num(6170, 3), "6.17");
        assert_eq!(num(0, 2), "0.0");
        let v = serde_json::to_string(&serde_json::json!({"a": 1})).expect("json");
        assert_eq!(v, r#"{"a":1}"#);
        let s = serde_json::to_string(&InvoiceEstimate {
            total: Num(Decimal::new(1234, 3)),
            currency: "KWD".into(),
        })
        .expect("json");
        assert_eq!(s, r#"{"total":1.234,"currency":"KWD"}"#);
    }

    #[test]
    fn timestamps() {
        let t = DateTime::parse_from_rfc3339("2026-03-02T09:14:27.318204Z")
            .expect("time")
            .to_utc();
        assert_eq!(naive(&t), "2026-03-02T09:14:27.318204");
        assert_eq!(zulu(&t), "2026-03-02T09:14:27.318204Z");
        let t = DateTime::parse_from_rfc3339("2026-03-02T09:14:27Z")
            .expect("time")
            .to_utc();
        assert_eq!(naive(&t), "2026-03-02T09:14:27");
    }
}
