//! The `checkout.session` object Stripe's SDKs read, and Stripe's list
//! object, from a canonical session.
//!
//! Pass the session as it reads now ([`CheckoutSession::as_of`]): the
//! derived expiry is the caller's, since this module reads no clock.
//!
//! `status`:
//!
//! | canonical | Stripe |
//! |---|---|
//! | `open`, `processing` | `open` |
//! | `complete` | `complete` |
//! | `expired`, `canceled`, `failed` | `expired` |
//!
//! `payment_status`: `paid` → `paid`, `no_payment_required` →
//! `no_payment_required`; `unpaid`, `processing`, `failed` and a vendor
//! that does not say (`null`) → `unpaid` (Stripe has no other value).
//!
//! `mode`, from the canonical `purpose` (the inverse of
//! [`Mode::purposes`](crate::Mode::purposes)):
//!
//! | canonical purpose | Stripe mode |
//! |---|---|
//! | `subscription`, `subscription_activation`, `plan_change`, `add_on` | `subscription` |
//! | `purchase` | `payment` |
//! | `setup` | `setup` |
//! | `other` (a vendor value no rule maps) | `null` |
//!
//! Stripe never sends a `null` mode; a purpose no rule maps has no honest
//! one, so none is invented.
//!
//! The other fields: `customer` is the vendor's customer id; `amount_total`
//! (minor units) and `currency` (lower case) come together or are both
//! `null`; `created` and `expires_at` are unix seconds; `livemode` is the
//! canonical one, `false` when unknown; `subscription` and `invoice` are the
//! vendor's ids. Fields the SDK types declare that no vendor tells us are
//! `null` (or, for settings of Stripe's own that the facade never sets, like
//! `custom_fields` and `shipping_options`, empty). Fields Stripe declares
//! non-null whose value we cannot know (`automatic_tax`,
//! `payment_method_types`) are left out rather than guessed. Nothing that is
//! not a Stripe field is added: the provider's own details stay in the
//! canonical API.

use checkout_core::{CheckoutSession, PaymentStatus, Purpose, Status};
use serde_json::{json, Map, Value};

use crate::create::Mode;
use crate::id;

/// Stripe's `checkout.session` object for `session`.
pub fn session(session: &CheckoutSession) -> Value {
    let (amount_total, currency) = match &session.amount_total {
        Some(money) => (
            json!(money.amount_minor),
            json!(money.currency.to_ascii_lowercase()),
        ),
        None => (Value::Null, Value::Null),
    };
    let customer = session.customer.as_ref();
    let customer_details = customer
        .filter(|c| c.email.is_some() || c.name.is_some())
        .map(|c| {
            json!({
                "address": null,
                "email": c.email,
                "name": c.name,
                "phone": null,
                "tax_exempt": null,
                "tax_ids": null,
            })
        });
    json!({
        "id": id::encode(&session.id),
        "object": "checkout.session",
        "after_expiration": null,
        "allow_promotion_codes": null,
        "amount_subtotal": null,
        "amount_total": amount_total,
        "billing_address_collection": null,
        "cancel_url": session.cancel_url,
        "client_reference_id": null,
        "client_secret": null,
        "consent": null,
        "consent_collection": null,
        "created": session.created_at.timestamp(),
        "currency": currency,
        "currency_conversion": null,
        "custom_fields": [],
        "custom_text": {
            "after_submit": null,
            "shipping_address": null,
            "submit": null,
            "terms_of_service_acceptance": null,
        },
        "customer": customer.and_then(|c| c.id.clone()),
        "customer_creation": null,
        "customer_details": customer_details,
        "customer_email": null,
        "expires_at": session.expires_at.map(|t| t.timestamp()),
        "invoice": session.invoice_id,
        "invoice_creation": null,
        "livemode": session.livemode.unwrap_or(false),
        "locale": null,
        "metadata": metadata(session),
        "mode": mode(session.purpose).map(Mode::as_str),
        "payment_intent": null,
        "payment_link": null,
        "payment_method_collection": null,
        "payment_method_configuration_details": null,
        "payment_method_options": null,
        "payment_status": payment_status(session.payment_status),
        "recovered_from": null,
        "setup_intent": null,
        "shipping_address_collection": null,
        "shipping_cost": null,
        "shipping_details": null,
        "shipping_options": [],
        "status": status(session.status),
        "submit_type": null,
        "subscription": session.subscription_id,
        "success_url": session.success_url,
        "total_details": null,
        "ui_mode": "hosted",
        "url": session.url,
    })
}

/// Stripe's list object: `url` is the list's path (the SDKs page with it).
pub fn list(data: Vec<Value>, has_more: bool, url: &str) -> Value {
    json!({
        "object": "list",
        "data": data,
        "has_more": has_more,
        "url": url,
    })
}

/// Stripe's `status` for a canonical status (see the module table).
pub fn status(status: Status) -> &'static str {
    match status {
        Status::Open | Status::Processing => "open",
        Status::Complete => "complete",
        Status::Expired | Status::Canceled | Status::Failed => "expired",
    }
}

/// Stripe's `payment_status`: only what the vendor says is paid is `paid`.
pub fn payment_status(payment: Option<PaymentStatus>) -> &'static str {
    match payment {
        Some(PaymentStatus::Paid) => "paid",
        Some(PaymentStatus::NoPaymentRequired) => "no_payment_required",
        Some(PaymentStatus::Unpaid | PaymentStatus::Processing | PaymentStatus::Failed) | None => {
            "unpaid"
        }
    }
}

/// Stripe's `mode` for a canonical purpose; `None` for `other`.
pub fn mode(purpose: Purpose) -> Option<Mode> {
    [Mode::Subscription, Mode::Payment, Mode::Setup]
        .into_iter()
        .find(|m| m.purposes().contains(&purpose))
}

/// Stripe's metadata values are strings: numbers and booleans are written
/// as JSON writes them.
fn metadata(session: &CheckoutSession) -> Value {
    let map: Map<String, Value> = session
        .metadata
        .iter()
        .map(|(k, v)| {
            let text = match v {
                checkout_core::MetadataValue::String(s) => s.clone(),
                checkout_core::MetadataValue::Number(n) => n.to_string(),
                checkout_core::MetadataValue::Bool(b) => b.to_string(),
            };
            (k.clone(), Value::String(text))
        })
        .collect();
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use checkout_core::{Customer, Metadata, MetadataValue, Money, PlanRef, ProviderStatus};
    use chrono::{DateTime, Utc};

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn canonical(status: Status, purpose: Purpose) -> CheckoutSession {
        CheckoutSession {
            object: Default::default(),
            id: "meteroid:default:che_7n42DGM5Tflk9n8mt7Fhc7".into(),
            provider: "meteroid".into(),
            account: "default".into(),
            provider_session_id: "che_7n42DGM5Tflk9n8mt7Fhc7".into(),
            status,
            payment_status: None,
            purpose,
            url: Some("https://checkout.example/che_7n42DGM5Tflk9n8mt7Fhc7".into()),
            success_url: Some("https://shop.example/ok".into()),
            cancel_url: None,
            customer: Some(Customer {
                id: Some("cus_42".into()),
                ..Customer::default()
            }),
            plan: Some(PlanRef {
                id: "plv_1".into(),
                kind: "plan_version".into(),
            }),
            quantity: Some(1),
            subscription_id: None,
            invoice_id: None,
            amount_total: None,
            livemode: None,
            metadata: Metadata::new(),
            created_at: at("2026-01-19T10:00:00Z"),
            updated_at: None,
            expires_at: Some(at("2026-01-19T11:00:00Z")),
            completed_at: None,
            provider_status: ProviderStatus {
                status: Some("CREATED".into()),
                payment_status: None,
            },
        }
    }

    #[test]
    fn status_table() {
        for (canonical, stripe) in [
            (Status::Open, "open"),
            (Status::Processing, "open"),
            (Status::Complete, "complete"),
            (Status::Expired, "expired"),
            (Status::Canceled, "expired"),
            (Status::Failed, "expired"),
        ] {
            assert_eq!(status(canonical), stripe, "{canonical:?}");
        }
    }

    #[test]
    fn payment_status_table() {
        for (canonical, stripe) in [
            (None, "unpaid"),
            (Some(PaymentStatus::Unpaid), "unpaid"),
            (Some(PaymentStatus::Processing), "unpaid"),
            (Some(PaymentStatus::Failed), "unpaid"),
            (Some(PaymentStatus::Paid), "paid"),
            (
                Some(PaymentStatus::NoPaymentRequired),
                "no_payment_required",
            ),
        ] {
            assert_eq!(payment_status(canonical), stripe, "{canonical:?}");
        }
    }

    #[test]
    fn mode_table() {
        for (purpose, stripe) in [
            (Purpose::Subscription, Some("subscription")),
            (Purpose::SubscriptionActivation, Some("subscription")),
            (Purpose::PlanChange, Some("subscription")),
            (Purpose::AddOn, Some("subscription")),
            (Purpose::Purchase, Some("payment")),
            (Purpose::Setup, Some("setup")),
            (Purpose::Other, None),
        ] {
            assert_eq!(mode(purpose).map(Mode::as_str), stripe, "{purpose:?}");
        }
    }

    #[test]
    fn no_key_outside_stripe_s_fields() {
        let v = session(&canonical(Status::Open, Purpose::Subscription));
        for key in v.as_object().unwrap().keys() {
            assert!(
                ![
                    "provider",
                    "account",
                    "purpose",
                    "plan",
                    "quantity",
                    "raw",
                    "provider_status"
                ]
                .contains(&key.as_str()),
                "{key}"
            );
        }
        assert_eq!(
            id::decode(v["id"].as_str().unwrap()).as_deref(),
            Some("meteroid:default:che_7n42DGM5Tflk9n8mt7Fhc7")
        );
    }

    #[test]
    fn snapshot_per_status() {
        for s in [
            Status::Open,
            Status::Processing,
            Status::Complete,
            Status::Expired,
            Status::Canceled,
            Status::Failed,
        ] {
            let mut c = canonical(s, Purpose::Subscription);
            if s == Status::Complete {
                c.payment_status = Some(PaymentStatus::Paid);
                c.subscription_id = Some("sub_9".into());
                c.invoice_id = Some("in_9".into());
                c.url = None;
            }
            insta::assert_json_snapshot!(format!("session_{s:?}").to_lowercase(), session(&c));
        }
    }

    #[test]
    fn snapshot_per_purpose() {
        for p in [
            Purpose::Subscription,
            Purpose::SubscriptionActivation,
            Purpose::PlanChange,
            Purpose::AddOn,
            Purpose::Purchase,
            Purpose::Setup,
            Purpose::Other,
        ] {
            let mut c = canonical(Status::Open, p);
            if p == Purpose::Purchase {
                c.id = "flowglad:default:cs_abc".into();
                c.amount_total = Some(Money {
                    amount_minor: 2999,
                    currency: "USD".into(),
                });
                c.livemode = Some(true);
                c.customer = Some(Customer {
                    id: Some("cus_fg".into()),
                    external_id: Some("ext-42".into()),
                    email: Some("a@b.example".into()),
                    name: None,
                });
                c.metadata = Metadata::from([
                    ("order".to_owned(), MetadataValue::String("1234".into())),
                    (
                        "n".to_owned(),
                        MetadataValue::Number(serde_json::Number::from_f64(2.5).unwrap()),
                    ),
                    ("gift".to_owned(), MetadataValue::Bool(true)),
                ]);
                c.expires_at = None;
            }
            insta::assert_json_snapshot!(
                format!("session_purpose_{p:?}").to_lowercase(),
                session(&c)
            );
        }
    }

    #[test]
    fn list_shape() {
        let v = list(vec![json!({"id": "cs_1"})], true, "/v1/checkout/sessions");
        assert_eq!(
            v,
            json!({"object": "list", "data": [{"id": "cs_1"}], "has_more": true, "url": "/v1/checkout/sessions"})
        );
    }
}
