//! Zenskar answers (both API families) → the canonical model. Pure,
//! snapshot-tested over every fixture: family A (`/checkout`) in
//! [`checkout`], family B (`/checkouts`) in [`checkouts`], and here what
//! both share (ids, times, exact money, customers) and the choice between
//! them.

pub mod checkout;
pub mod checkouts;

pub use checkout::{payment_status_a, session_a, status_a};
pub use checkouts::{payment_status_b, session_b, status_b};

use checkout_core::{timestamp, CheckoutSession, Customer, Error, Money, SessionId};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::wire::{self, DecimalAmount};
use crate::{validate_session_id, Family, PROVIDER};

fn bad_response(what: impl std::fmt::Display) -> Error {
    checkout_core::vendor::bad_response(PROVIDER, what)
}

/// Deserialize a Zenskar body (see [`checkout_core::vendor::parse_body`]).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    checkout_core::vendor::parse_body(PROVIDER, body)
}

/// Naive datetimes (family A) are UTC.
fn opt_time(field: &str, value: &Option<String>) -> Result<Option<DateTime<Utc>>, Error> {
    value
        .as_deref()
        .map(|v| {
            timestamp::parse_lenient(v)
                .ok_or_else(|| bad_response(format_args!("`{field}` is not a timestamp")))
        })
        .transpose()
}

/// The first timestamp present, in order of preference.
fn first_time(candidates: &[(&str, &Option<String>)]) -> Result<Option<DateTime<Utc>>, Error> {
    for (field, value) in candidates {
        if let Some(t) = opt_time(field, value)? {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

fn session_id(account: &str, id: &str) -> Result<SessionId, Error> {
    validate_session_id(id)
        .ok()
        .and_then(|()| SessionId::new(PROVIDER, account, id).ok())
        .ok_or_else(|| bad_response("the session id is not a UUID"))
}

/// Exact minor units from a decimal in major units (29.99 USD → 2999).
fn money(field: &str, amount: DecimalAmount, currency: &str) -> Result<Money, Error> {
    Money::from_major(amount.0, currency)
        .map_err(|e| bad_response(format_args!("`{field}` is not an exact amount: {e}")))
}

/// An amount without a currency cannot be money: it is left out, not guessed.
fn amount(
    field: &str,
    amount: Option<DecimalAmount>,
    currency: Option<&str>,
) -> Result<Option<Money>, Error> {
    match (amount, currency) {
        (Some(a), Some(c)) => money(field, a, c).map(Some),
        _ => Ok(None),
    }
}

fn string_at<'a>(v: Option<&'a Value>, keys: &[&str]) -> Option<&'a str> {
    let obj = v?.as_object()?;
    keys.iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

/// `customer_id` plus name and email from the customer snapshot or, failing
/// that, the estimate's customer.
fn customer(
    id: &Option<String>,
    data: Option<&Value>,
    billed: Option<&wire::InvoiceCustomer>,
) -> Option<Customer> {
    let c = Customer {
        id: id.clone(),
        external_id: string_at(data, &["external_id"]).map(str::to_owned),
        email: string_at(data, &["email"])
            .map(str::to_owned)
            .or_else(|| billed.and_then(|b| b.email.clone())),
        name: string_at(data, &["customer_name", "name"])
            .map(str::to_owned)
            .or_else(|| billed.and_then(|b| b.customer_name.clone())),
    };
    (c != Customer::default()).then_some(c)
}

/// A get/create/confirm response body of `family` → canonical session.
pub fn session_body(account: &str, family: Family, body: &[u8]) -> Result<CheckoutSession, Error> {
    match family {
        Family::Checkout => session_a(account, &parse(body)?),
        Family::Checkouts => session_b(account, &parse(body)?),
    }
}

/// Which family a single-session body comes from: family A carries
/// `checkout_session_status`, family B `checkout_status`.
pub fn detect_family(body: &[u8]) -> Result<Family, Error> {
    // The probe looks at two keys: what it skips is the session's, read next.
    let (probe, _) = checkout_core::drift::collect(|| parse::<wire::Probe>(body));
    let probe = probe?;
    match (
        probe.checkout_session_status.is_some(),
        probe.checkout_status.is_some(),
    ) {
        (true, false) => Ok(Family::Checkout),
        (false, true) => Ok(Family::Checkouts),
        (true, true) => Err(bad_response(
            "the body has both `checkout_session_status` and `checkout_status`",
        )),
        (false, false) if probe.data.is_some() => Err(Error::invalid_request(
            "this is a Zenskar list body; normalize takes one get or create response",
        )
        .with_provider(PROVIDER)),
        (false, false) => Err(bad_response(
            "neither `checkout_session_status` (family checkout) nor `checkout_status` (family checkouts) is present",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkout_core::ErrorCode;
    use serde_json::json;

    const SESSION: &str = "3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14";

    fn a_session(extra: Value) -> Vec<u8> {
        let mut v = json!({"id": SESSION, "checkout_session_status": "open",
                           "payment_status": "not_started", "created_at": "2026-03-02T10:15:30.5"});
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn family_is_recognised_from_the_body() {
        assert_eq!(
            detect_family(&a_session(json!({}))).unwrap(),
            Family::Checkout
        );
        let b =
            json!({"id": SESSION, "checkout_status": "open", "created_at": "2026-03-02T10:15:30Z"});
        assert_eq!(
            detect_family(&serde_json::to_vec(&b).unwrap()).unwrap(),
            Family::Checkouts
        );
        let list = br#"{"data":[],"total":0}"#;
        assert_eq!(
            detect_family(list).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            detect_family(b"{}").unwrap_err().code,
            ErrorCode::ProviderBadResponse
        );
        let both = br#"{"checkout_status":"open","checkout_session_status":"open"}"#;
        assert_eq!(
            detect_family(both).unwrap_err().code,
            ErrorCode::ProviderBadResponse
        );
    }
}
