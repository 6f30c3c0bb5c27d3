//! Flowglad answers → the canonical model: sessions, statuses, purposes,
//! times, customers. Pure, snapshot-tested over every fixture.

use checkout_core::model::ObjectTag;
use checkout_core::{
    timestamp, CheckoutSession, CreateSession, Customer, Error, Metadata, MetadataValue, PlanRef,
    ProviderStatus, Purpose, SessionId, Status,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::wire;
use crate::PROVIDER;

/// Flowglad `status` → canonical status (PRODUCT §2 table). A value no rule
/// knows stays non-terminal: it must never read as success or failure.
pub fn status(vendor: &str) -> Status {
    match vendor {
        "open" => Status::Open,
        "pending" => Status::Processing,
        "succeeded" => Status::Complete,
        "failed" => Status::Failed,
        "expired" => Status::Expired,
        _ => {
            checkout_core::drift::value("status", vendor);
            Status::Processing
        }
    }
}

/// Flowglad session `type` → canonical purpose. A product session may buy a
/// one-off or a subscription price; the session alone cannot tell which.
pub fn purpose(session_type: &str) -> Purpose {
    match session_type {
        "product" | "purchase" => Purpose::Purchase,
        "add_payment_method" => Purpose::Setup,
        "activate_subscription" => Purpose::SubscriptionActivation,
        _ => {
            checkout_core::drift::value("type", session_type);
            Purpose::Other
        }
    }
}

fn bad_response(what: impl std::fmt::Display) -> Error {
    checkout_core::vendor::bad_response(PROVIDER, what)
}

/// Epoch milliseconds (today) or an ISO 8601 string (older servers).
pub fn time(field: &str, value: &wire::Timestamp) -> Result<DateTime<Utc>, Error> {
    let parsed = match value {
        wire::Timestamp::Millis(ms) => timestamp::from_epoch_millis(*ms),
        wire::Timestamp::Fractional(f) if f.is_finite() && f.fract() == 0.0 => {
            // Integral and finite: the cast is exact up to 2^53, far past any date.
            timestamp::from_epoch_millis(*f as i64)
        }
        wire::Timestamp::Fractional(_) => None,
        wire::Timestamp::Text(s) => match s.parse::<i64>() {
            Ok(ms) => timestamp::from_epoch_millis(ms),
            Err(_) => timestamp::parse_lenient(s),
        },
    };
    parsed.ok_or_else(|| bad_response(format_args!("`{field}` is not a timestamp")))
}

fn opt_time(field: &str, value: &Option<wire::Timestamp>) -> Result<Option<DateTime<Utc>>, Error> {
    value.as_ref().map(|v| time(field, v)).transpose()
}

fn present(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The customer as the session knows it. Name and email come from the
/// customer record copied at create time (`customerName`, `customerEmail`);
/// where those are null (anonymous sessions) they come from what the
/// customer typed on the page: `billingAddress.name`, else its first and
/// last name, else `billingAddress.address.name`; `billingAddress.email`.
/// `None` when nothing at all is known.
pub fn customer(s: &wire::CheckoutSession) -> Option<Customer> {
    let billing = s.billing_address.as_ref();
    let billing_name = billing.and_then(|b| {
        present(&b.name)
            .or_else(|| {
                let parts: Vec<String> = [present(&b.first_name), present(&b.last_name)]
                    .into_iter()
                    .flatten()
                    .collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            })
            .or_else(|| b.address.as_ref().and_then(|a| present(&a.name)))
    });
    let customer = Customer {
        id: present(&s.customer_id),
        // Flowglad returns only its own id; the merchant's id is known on create.
        external_id: None,
        email: present(&s.customer_email).or_else(|| billing.and_then(|b| present(&b.email))),
        name: present(&s.customer_name).or(billing_name),
    };
    (customer != Customer::default()).then_some(customer)
}

/// `outputMetadata` → canonical metadata. Flowglad allows only flat
/// string/number/boolean values; anything else is left to `raw`.
pub fn metadata(m: &Option<Map<String, Value>>) -> Metadata {
    m.iter()
        .flatten()
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

/// The hosted page. GET always answers `/checkout/{id}`, but an
/// add-payment-method session lives at `/add-payment-method/{id}` (what
/// create answers): the checkout page needs a price, which these sessions
/// lack. The canonical URL is the same whichever call read the session.
pub fn hosted_url(s: &wire::CheckoutSession, url: Option<&str>) -> Option<String> {
    let url = url.map(str::trim).filter(|u| !u.is_empty())?;
    if s.session_type == "add_payment_method" {
        if let Some(base) = url.strip_suffix(&format!("/checkout/{}", s.id)) {
            return Some(format!("{base}/add-payment-method/{}", s.id));
        }
    }
    Some(url.to_owned())
}

/// A vendor record (and the URL beside it) → canonical session, status as
/// the vendor maps it; derived expiry is applied at read time by
/// [`CheckoutSession::as_of`] (Flowglad never writes `expired` itself).
pub fn session(
    account: &str,
    s: &wire::CheckoutSession,
    url: Option<&str>,
) -> Result<CheckoutSession, Error> {
    let id = SessionId::new(PROVIDER, account, &s.id)
        .map_err(|_| bad_response("the session id is not a Flowglad id"))?;
    let price_id = present(&s.price_id);
    Ok(CheckoutSession {
        object: ObjectTag,
        id: id.to_string(),
        provider: PROVIDER.to_owned(),
        account: account.to_owned(),
        provider_session_id: s.id.clone(),
        status: status(&s.status),
        // Flowglad does not expose whether money moved.
        payment_status: None,
        purpose: purpose(&s.session_type),
        url: hosted_url(s, url),
        success_url: present(&s.success_url),
        cancel_url: present(&s.cancel_url),
        customer: customer(s),
        plan: price_id.clone().map(|id| PlanRef {
            id,
            kind: "price".to_owned(),
        }),
        // The quantity describes the price bought; a session without a
        // price (add payment method) buys nothing.
        quantity: price_id.and(s.quantity).and_then(|q| u64::try_from(q).ok()),
        subscription_id: present(&s.target_subscription_id),
        invoice_id: present(&s.invoice_id),
        // The session carries no amount (only its price does): never invent one.
        amount_total: None,
        livemode: s.livemode,
        metadata: metadata(&s.output_metadata),
        created_at: time("createdAt", &s.created_at)?,
        updated_at: opt_time("updatedAt", &s.updated_at)?,
        expires_at: opt_time("expires", &s.expires)?,
        // Flowglad keeps no completion time.
        completed_at: None,
        provider_status: ProviderStatus {
            status: Some(s.status.clone()),
            payment_status: None,
        },
    })
}

/// A get/create response body → canonical session.
pub fn session_body(account: &str, body: &[u8]) -> Result<CheckoutSession, Error> {
    let envelope: wire::SessionEnvelope = parse(body)?;
    session(account, &envelope.checkout_session, envelope.url.as_deref())
}

/// A create response body → canonical session, with the merchant's own
/// customer id (which Flowglad does not echo) filled in from the request.
pub fn created_session(
    account: &str,
    request: &CreateSession,
    body: &[u8],
) -> Result<CheckoutSession, Error> {
    let mut session = session_body(account, body)?;
    if let (Some(customer), Some(external)) = (session.customer.as_mut(), &request.customer) {
        if customer.id.is_some() {
            customer.external_id = Some(external.clone());
        }
    }
    Ok(session)
}

/// Deserialize a Flowglad body (see [`checkout_core::vendor::parse_body`]).
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    checkout_core::vendor::parse_body(PROVIDER, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkout_core::ErrorCode;
    use serde_json::json;

    fn req(v: Value) -> CreateSession {
        serde_json::from_value(v).unwrap()
    }

    fn base() -> Value {
        json!({
            "provider": "flowglad", "account": "default",
            "customer": "ext-cust-42", "plan": "price_abc",
            "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"
        })
    }

    #[test]
    fn every_status_rule() {
        assert_eq!(status("open"), Status::Open);
        assert_eq!(status("pending"), Status::Processing);
        assert_eq!(status("succeeded"), Status::Complete);
        assert_eq!(status("failed"), Status::Failed);
        assert_eq!(status("expired"), Status::Expired);
        let unknown = status("requires_action");
        assert!(!unknown.is_terminal() && !unknown.is_success());
    }

    #[test]
    fn every_purpose_rule() {
        assert_eq!(purpose("product"), Purpose::Purchase);
        assert_eq!(purpose("purchase"), Purpose::Purchase);
        assert_eq!(purpose("add_payment_method"), Purpose::Setup);
        assert_eq!(
            purpose("activate_subscription"),
            Purpose::SubscriptionActivation
        );
        assert_eq!(purpose("invoice"), Purpose::Other);
    }

    #[test]
    fn timestamps_in_every_form() {
        let want = "2026-01-19T10:00:00Z";
        for t in [
            wire::Timestamp::Millis(1_768_816_800_000),
            wire::Timestamp::Fractional(1_768_816_800_000.0),
            wire::Timestamp::Text("2026-01-19T10:00:00Z".into()),
            wire::Timestamp::Text("2026-01-19T10:00:00.000Z".into()),
            wire::Timestamp::Text("1768816800000".into()),
        ] {
            assert_eq!(timestamp::format(&time("createdAt", &t).unwrap()), want);
        }
        for bad in [
            wire::Timestamp::Fractional(1.5),
            wire::Timestamp::Fractional(f64::MAX),
            wire::Timestamp::Millis(i64::MAX),
            wire::Timestamp::Text("<string>".into()),
        ] {
            let e = time("createdAt", &bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::ProviderBadResponse);
            assert!(e.message.contains("createdAt"), "{}", e.message);
        }
    }

    fn record(extra: Value) -> wire::CheckoutSession {
        let mut v = json!({
            "id": "chckt_session_a1B2c3D4e5F6g7H8i9J0k", "createdAt": 1_768_816_800_000i64,
            "status": "open", "type": "product"
        });
        for (k, val) in extra.as_object().unwrap() {
            v[k] = val.clone();
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn customer_rule_prefers_the_record_then_the_billing_address() {
        assert_eq!(customer(&record(json!({}))), None);
        let c = customer(&record(json!({
            "customerId": "cust_1", "customerName": "Ada", "customerEmail": "ada@example.com",
            "billingAddress": {"name": "Other", "email": "other@example.com", "address": {"country": "US"}}
        })))
        .unwrap();
        assert_eq!(
            (c.id.as_deref(), c.name.as_deref(), c.email.as_deref()),
            (Some("cust_1"), Some("Ada"), Some("ada@example.com"))
        );
        let c = customer(&record(json!({
            "customerName": null, "customerEmail": null,
            "billingAddress": {"firstName": "Grace", "lastName": "Hopper", "email": "g@example.com",
                               "address": {"country": "US", "name": "Ignored"}}
        })))
        .unwrap();
        assert_eq!(
            (c.id, c.name.as_deref(), c.email.as_deref()),
            (None, Some("Grace Hopper"), Some("g@example.com"))
        );
        let c = customer(&record(json!({
            "billingAddress": {"name": " ", "address": {"country": "DE", "name": "Kai Ng"}}
        })))
        .unwrap();
        assert_eq!(c.name.as_deref(), Some("Kai Ng"));
    }

    #[test]
    fn add_payment_method_urls_are_the_same_from_get_and_create() {
        let apm = record(json!({"type": "add_payment_method"}));
        let id = &apm.id;
        let from_get = format!("https://app.flowglad.com/checkout/{id}");
        let from_create = format!("https://app.flowglad.com/add-payment-method/{id}");
        assert_eq!(hosted_url(&apm, Some(&from_get)), Some(from_create.clone()));
        assert_eq!(hosted_url(&apm, Some(&from_create)), Some(from_create));
        let product = record(json!({}));
        assert_eq!(hosted_url(&product, Some(&from_get)), Some(from_get));
        assert_eq!(hosted_url(&product, Some("")), None);
        assert_eq!(hosted_url(&product, None), None);
    }

    #[test]
    fn quantity_only_where_a_price_is_bought() {
        let s = session(
            "default",
            &record(json!({"priceId": "price_1", "quantity": 3})),
            None,
        )
        .unwrap();
        assert_eq!(s.quantity, Some(3));
        let s = session(
            "default",
            &record(json!({"type": "add_payment_method", "priceId": null, "quantity": 1})),
            None,
        )
        .unwrap();
        assert_eq!((s.quantity, s.plan), (None, None));
    }

    #[test]
    fn the_create_answer_carries_the_merchants_customer_id() {
        let body = serde_json::to_vec(&json!({
            "checkoutSession": {"id": "chckt_session_a1B2c3D4e5F6g7H8i9J0k", "createdAt": 1,
                                "status": "open", "type": "product", "customerId": "cust_1"},
            "url": "https://app.flowglad.com/checkout/chckt_session_a1B2c3D4e5F6g7H8i9J0k"
        }))
        .unwrap();
        let s = created_session("default", &req(base()), &body).unwrap();
        let c = s.customer.unwrap();
        assert_eq!(
            (c.id.as_deref(), c.external_id.as_deref()),
            (Some("cust_1"), Some("ext-cust-42"))
        );
        assert_eq!(
            session_body("default", &body)
                .unwrap()
                .customer
                .unwrap()
                .external_id,
            None
        );
    }
}
