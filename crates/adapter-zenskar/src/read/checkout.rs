//! Family A (`/checkout`) sessions → canonical: two status axes
//! (`checkout_session_status` and `payment_status`), cancel reasons,
//! `custom_data` as metadata, the estimate's amount due.

use checkout_core::model::ObjectTag;
use checkout_core::{
    CheckoutSession, Error, Metadata, MetadataValue, PaymentStatus, PlanRef, ProviderStatus,
    Purpose, Status,
};
use serde_json::Value;

use super::{amount, bad_response, customer, first_time, opt_time, session_id};
use crate::{wire, PROVIDER};

/// Family A lifecycle axis → canonical status (PRODUCT §2). `closed` is an
/// expiry unless a cancel reason says otherwise; a cancel whose reason is
/// `expired` is an expiry. A value no rule knows stays non-terminal.
pub fn status_a(session_status: &str, cancel_reason: Option<&str>) -> Status {
    match session_status {
        "open" => Status::Open,
        "processing" => Status::Processing,
        "completed" => Status::Complete,
        "closed" => match cancel_reason {
            Some(reason) if reason != "expired" => Status::Canceled,
            _ => Status::Expired,
        },
        "cancelled" => match cancel_reason {
            Some("expired") => Status::Expired,
            _ => Status::Canceled,
        },
        _ => {
            checkout_core::drift::value("checkout_session_status", session_status);
            Status::Processing
        }
    }
}

/// Family A money axis → canonical payment status; an unknown value is
/// `None` (kept in `provider_status`), never a guess.
pub fn payment_status_a(payment_status: &str) -> Option<PaymentStatus> {
    match payment_status {
        "not_started" => Some(PaymentStatus::Unpaid),
        "pending" => Some(PaymentStatus::Processing),
        "paid" => Some(PaymentStatus::Paid),
        "failed" => Some(PaymentStatus::Failed),
        "no_payment_required" => Some(PaymentStatus::NoPaymentRequired),
        _ => {
            checkout_core::drift::value("payment_status", payment_status);
            None
        }
    }
}

/// Family B free-form `checkout_status` → canonical status (PRODUCT §2):
/// `custom_data` → flat metadata: the scalar entries only (the vendor also
/// writes structures such as `update_history` into it).
fn metadata(custom_data: Option<&Value>) -> Metadata {
    let Some(Value::Object(map)) = custom_data else {
        return Metadata::new();
    };
    map.iter()
        .filter_map(|(k, v)| {
            let value = match v {
                Value::String(s) => MetadataValue::String(s.clone()),
                Value::Number(n) => MetadataValue::Number(n.clone()),
                Value::Bool(b) => MetadataValue::Bool(*b),
                _ => return None,
            };
            Some((k.clone(), value))
        })
        .collect()
}

/// A family A session → canonical session (status as the vendor maps it;
/// derived expiry is applied at read time by [`CheckoutSession::as_of`]).
pub fn session_a(account: &str, s: &wire::CheckoutSession) -> Result<CheckoutSession, Error> {
    let id = session_id(account, &s.id)?;
    let cancel_reason = s
        .cancellation_details
        .as_ref()
        .and_then(|c| c.reason_type.as_deref());
    let status = status_a(&s.checkout_session_status, cancel_reason);
    let contract = s.contract.clone().unwrap_or_default();
    let invoice = s
        .estimates
        .as_ref()
        .and_then(|e| e.current_invoice.as_ref());
    let currency = s
        .currency
        .as_deref()
        .or(contract.currency.as_deref())
        .or_else(|| {
            invoice
                .and_then(|i| i.line_items.as_ref())
                .and_then(|items| items.iter().find_map(|l| l.currency.as_deref()))
        });
    let amount_total = amount(
        "estimates.amount_due",
        s.estimates.as_ref().and_then(|e| e.amount_due),
        currency,
    )?;
    let created_at = first_time(&[
        ("created_at", &s.created_at),
        ("last_activity_at", &s.last_activity_at),
        ("updated_at", &s.updated_at),
    ])?
    .ok_or_else(|| bad_response("`created_at` is missing"))?;
    let confirmed_at = opt_time("confirmed_at", &s.confirmed_at)?;
    let completed_at = match opt_time("completed_at", &s.completed_at)? {
        Some(t) => Some(t),
        None if status == Status::Complete => confirmed_at,
        None => None,
    };
    Ok(CheckoutSession {
        object: ObjectTag,
        id: id.to_string(),
        provider: PROVIDER.to_owned(),
        account: account.to_owned(),
        provider_session_id: s.id.clone(),
        status,
        payment_status: s.payment_status.as_deref().and_then(payment_status_a),
        // Every family A checkout starts a new contract.
        purpose: Purpose::Subscription,
        // Zenskar returns no hosted page (the only redirect is confirm's 302).
        url: None,
        success_url: s.success_url.clone(),
        cancel_url: s.cancel_url.clone(),
        customer: customer(
            &s.customer_id,
            s.customer_data.as_ref(),
            invoice.and_then(|i| i.customer.as_ref()),
        ),
        plan: contract.plan_id.map(|id| PlanRef {
            id,
            kind: "plan".to_owned(),
        }),
        // Quantities live on the contract's pricings, not on the session.
        quantity: None,
        subscription_id: s.contract_id.clone(),
        // The estimate's invoice is a preview, not an invoice.
        invoice_id: None,
        amount_total,
        livemode: None,
        metadata: metadata(s.custom_data.as_ref()),
        created_at,
        updated_at: first_time(&[
            ("updated_at", &s.updated_at),
            ("last_activity_at", &s.last_activity_at),
        ])?,
        expires_at: opt_time("expires_at", &s.expires_at)?,
        completed_at,
        provider_status: ProviderStatus {
            status: Some(s.checkout_session_status.clone()),
            payment_status: s.payment_status.clone(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::session_body;
    use crate::Family;
    use checkout_core::{timestamp, ErrorCode, Money};
    use serde_json::json;

    const SESSION: &str = "3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14";

    #[test]
    fn family_a_status_axes() {
        assert_eq!(status_a("open", None), Status::Open);
        assert_eq!(status_a("processing", None), Status::Processing);
        assert_eq!(status_a("completed", None), Status::Complete);
        assert_eq!(status_a("closed", None), Status::Expired);
        assert_eq!(status_a("closed", Some("expired")), Status::Expired);
        assert_eq!(status_a("closed", Some("duplicate")), Status::Canceled);
        assert_eq!(status_a("cancelled", None), Status::Canceled);
        for reason in [
            "customer_requested",
            "payment_failed",
            "duplicate",
            "fraudulent",
            "other",
        ] {
            assert_eq!(
                status_a("cancelled", Some(reason)),
                Status::Canceled,
                "{reason}"
            );
        }
        assert_eq!(status_a("cancelled", Some("expired")), Status::Expired);
        let unknown = status_a("on_hold", None);
        assert!(!unknown.is_terminal() && !unknown.is_success());

        // completed + not_started: complete, and not paid.
        assert_eq!(payment_status_a("not_started"), Some(PaymentStatus::Unpaid));
        assert_eq!(payment_status_a("pending"), Some(PaymentStatus::Processing));
        assert_eq!(payment_status_a("paid"), Some(PaymentStatus::Paid));
        assert_eq!(payment_status_a("failed"), Some(PaymentStatus::Failed));
        assert_eq!(
            payment_status_a("no_payment_required"),
            Some(PaymentStatus::NoPaymentRequired)
        );
        assert_eq!(payment_status_a("refunded"), None);
    }

    fn a_session(extra: Value) -> Vec<u8> {
        let mut v = json!({"id": SESSION, "checkout_session_status": "open",
                           "payment_status": "not_started", "created_at": "2026-03-02T10:15:30.5"});
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn money_is_exact_in_the_currency_exponent() {
        for (amount, currency, minor) in [
            ("29.99", "USD", 2999),
            ("1500", "JPY", 1500),
            ("1.234", "KWD", 1234),
            ("50.0", "EUR", 5000),
            ("0", "USD", 0),
        ] {
            let body = format!(
                r#"{{"id":"{SESSION}","checkout_session_status":"open","created_at":"2026-03-02T10:15:30","currency":"{currency}","estimates":{{"amount_due":{amount}}}}}"#
            );
            let s = session_body("a", Family::Checkout, body.as_bytes()).unwrap();
            assert_eq!(
                s.amount_total,
                Some(Money {
                    amount_minor: minor,
                    currency: currency.to_owned()
                }),
                "{amount} {currency}"
            );
        }
        // Finer than the currency allows: refused, never rounded.
        let body = a_session(json!({"currency": "JPY", "estimates": {"amount_due": 1500.5}}));
        let e = session_body("a", Family::Checkout, &body).unwrap_err();
        assert_eq!(e.code, ErrorCode::ProviderBadResponse);
        assert!(e.message.contains("estimates.amount_due"), "{}", e.message);
        // No currency anywhere: no amount.
        let body = a_session(json!({"estimates": {"amount_due": 29.99}}));
        assert_eq!(
            session_body("a", Family::Checkout, &body)
                .unwrap()
                .amount_total,
            None
        );
        // The contract's currency is used when the session has none.
        let body =
            a_session(json!({"contract": {"currency": "KWD"}, "estimates": {"amount_due": 1.234}}));
        let s = session_body("a", Family::Checkout, &body).unwrap();
        assert_eq!(s.amount_total.map(|m| m.amount_minor), Some(1234));
    }

    #[test]
    fn naive_timestamps_are_utc() {
        let s = session_body(
            "a",
            Family::Checkout,
            &a_session(json!({
            "expires_at": "2026-03-03T10:15:30", "last_activity_at": "2026-03-02T11:00:00"})),
        )
        .unwrap();
        assert_eq!(timestamp::format(&s.created_at), "2026-03-02T10:15:30.500Z");
        assert_eq!(
            s.expires_at.map(|t| timestamp::format(&t)).as_deref(),
            Some("2026-03-03T10:15:30Z")
        );
        assert_eq!(
            s.updated_at.map(|t| timestamp::format(&t)).as_deref(),
            Some("2026-03-02T11:00:00Z")
        );
        assert_eq!(s.url, None);
    }

    #[test]
    fn created_at_falls_back_then_fails() {
        let body = json!({"id": SESSION, "checkout_session_status": "open", "last_activity_at": "2026-03-02T11:00:00"});
        let s = session_body("a", Family::Checkout, &serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(timestamp::format(&s.created_at), "2026-03-02T11:00:00Z");
        let body = json!({"id": SESSION, "checkout_session_status": "open"});
        let e =
            session_body("a", Family::Checkout, &serde_json::to_vec(&body).unwrap()).unwrap_err();
        assert!(e.message.contains("created_at"), "{}", e.message);
    }

    #[test]
    fn custom_data_scalars_become_metadata() {
        let s = session_body("a", Family::Checkout, &a_session(json!({
            "custom_data": {"order": "1234", "n": 2, "vip": true, "update_history": [{"a": 1}], "nil": null}})))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&s.metadata).unwrap(),
            json!({"order": "1234", "n": 2, "vip": true})
        );
    }
}
