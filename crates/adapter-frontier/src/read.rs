//! Frontier answers → the canonical model: sessions, states, purposes,
//! references, times. Pure: snapshot-tested over every fixture of both
//! protocols.

use checkout_core::model::ObjectTag;
use checkout_core::{
    timestamp, CheckoutSession, Customer, Error, Metadata, PlanRef, ProviderStatus, Purpose,
    SessionId, Status,
};
use chrono::{DateTime, Utc};

use crate::wire;
use crate::{is_checkout_id, PROVIDER};

/// What the caller knows beyond the body: Frontier's session object names
/// neither its organization nor, so, the legacy REST path it is read at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    /// The organization the session belongs to, when known (create, or a
    /// legacy REST read whose path named it).
    pub org_id: Option<&'a str>,
    /// Whether the canonical reference carries the org (legacy REST accounts).
    pub org_in_reference: bool,
}

impl Origin<'_> {
    /// A body alone (`normalize`): the reference is the bare checkout UUID.
    pub const UNKNOWN: Origin<'static> = Origin {
        org_id: None,
        org_in_reference: false,
    };
}

/// Frontier `state` → canonical status (PRODUCT §2 table). `pending` is the
/// DB default no flow leaves in place, `""` a customer-portal session: both
/// open. A value no rule knows stays non-terminal.
pub fn status(state: &str) -> Status {
    match state {
        "open" | "pending" | "" => Status::Open,
        "complete" => Status::Complete,
        "expired" => Status::Expired,
        _ => {
            checkout_core::drift::value("state", state);
            Status::Processing
        }
    }
}

/// What the session buys: a plan, a product, or (neither) a payment-method
/// setup. A customer-portal session has neither and no state.
pub fn purpose(s: &wire::CheckoutSession) -> Purpose {
    if !s.plan.is_empty() {
        Purpose::Subscription
    } else if !s.product.is_empty() {
        Purpose::Purchase
    } else if s.state.is_empty() {
        Purpose::Other
    } else {
        Purpose::Setup
    }
}

/// The canonical reference of a session read with `origin`.
pub fn reference(origin: Origin<'_>, checkout_id: &str) -> String {
    match origin.org_id {
        Some(org) if origin.org_in_reference => format!("{org}:{checkout_id}"),
        _ => checkout_id.to_owned(),
    }
}

fn bad_response(what: impl std::fmt::Display) -> Error {
    checkout_core::vendor::bad_response(PROVIDER, what)
}

/// Go's zero `time.Time`, which protojson writes for timestamps Frontier
/// never set (customer-portal sessions).
const GO_ZERO_TIME_SECS: i64 = -62_135_596_800;

fn time(field: &str, value: &str) -> Result<DateTime<Utc>, Error> {
    timestamp::parse_lenient(value)
        .ok_or_else(|| bad_response(format_args!("`{field}` is not a timestamp")))
}

/// An optional timestamp; Go's zero time means unset.
fn opt_time(field: &str, value: &Option<String>) -> Result<Option<DateTime<Utc>>, Error> {
    let t = value
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(|v| time(field, v))
        .transpose()?;
    Ok(t.filter(|t| t.timestamp() != GO_ZERO_TIME_SECS))
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// A vendor session → canonical session (status as the vendor maps it;
/// derived expiry is applied at read time by [`CheckoutSession::as_of`]).
pub fn session(
    account: &str,
    origin: Origin<'_>,
    s: &wire::CheckoutSession,
) -> Result<CheckoutSession, Error> {
    if !is_checkout_id(&s.id) {
        return Err(bad_response("`id` is not a Frontier checkout UUID"));
    }
    let reference = reference(origin, &s.id);
    let id = SessionId::new(PROVIDER, account, &reference)
        .map_err(|_| bad_response("the session id does not fit a canonical id"))?;
    let created_at = match s.created_at.as_deref() {
        Some(v) if !v.is_empty() => time("created_at", v)?,
        _ => return Err(bad_response("`created_at` is missing")),
    };
    let status = status(&s.state);
    let plan = if !s.plan.is_empty() {
        Some(PlanRef {
            id: s.plan.clone(),
            kind: "plan".to_owned(),
        })
    } else {
        non_empty(&s.product).map(|id| PlanRef {
            id,
            kind: "product".to_owned(),
        })
    };
    Ok(CheckoutSession {
        object: ObjectTag,
        id: id.to_string(),
        provider: PROVIDER.to_owned(),
        account: account.to_owned(),
        provider_session_id: reference,
        status,
        // Frontier keeps Stripe's payment status to itself: never guess it.
        payment_status: None,
        purpose: purpose(s),
        // A finished or expired Stripe page cannot be used any more.
        url: non_empty(&s.checkout_url).filter(|_| !status.is_terminal()),
        success_url: non_empty(&s.success_url),
        cancel_url: non_empty(&s.cancel_url),
        customer: origin.org_id.map(|org| Customer {
            id: Some(org.to_owned()),
            ..Customer::default()
        }),
        plan,
        // The session does not say how many were bought.
        quantity: None,
        subscription_id: None,
        invoice_id: None,
        // Stripe's amount stays in Frontier's private metadata: never invent one.
        amount_total: None,
        livemode: None,
        // Never returned by Frontier.
        metadata: Metadata::new(),
        created_at,
        updated_at: opt_time("updated_at", &s.updated_at)?,
        expires_at: opt_time("expire_at", &s.expire_at)?,
        completed_at: None,
        provider_status: ProviderStatus {
            status: Some(s.state.clone()),
            payment_status: None,
        },
    })
}

/// A get/create response body → canonical session.
pub fn session_body(
    account: &str,
    origin: Origin<'_>,
    body: &[u8],
) -> Result<CheckoutSession, Error> {
    let envelope: wire::SessionEnvelope = parse(body)?;
    session(account, origin, &envelope.checkout_session)
}

/// Deserialize a Frontier body (see [`checkout_core::vendor::parse_body`]).
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    checkout_core::vendor::parse_body(PROVIDER, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkout_core::ErrorCode;
    use serde_json::{json, Value};

    const ORG: &str = "8d0c3f64-52b1-4c5e-a0f3-7b2e9c41d6a8";
    const ID: &str = "5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37";

    fn wire_session(v: Value) -> wire::CheckoutSession {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn every_state_rule() {
        assert_eq!(status("open"), Status::Open);
        assert_eq!(status("pending"), Status::Open);
        assert_eq!(status(""), Status::Open);
        assert_eq!(status("complete"), Status::Complete);
        assert_eq!(status("expired"), Status::Expired);
        let unknown = status("processing_payment");
        assert!(!unknown.is_terminal() && !unknown.is_success());
    }

    #[test]
    fn references_carry_the_org_for_legacy_rest_only() {
        let rest = Origin {
            org_id: Some(ORG),
            org_in_reference: true,
        };
        let connect = Origin {
            org_id: Some(ORG),
            org_in_reference: false,
        };
        assert_eq!(reference(rest, ID), format!("{ORG}:{ID}"));
        assert_eq!(reference(connect, ID), ID);
        assert_eq!(reference(Origin::UNKNOWN, ID), ID);
        let s =
            wire_session(json!({"id": ID, "state": "open", "created_at": "2026-11-18T10:15:42Z"}));
        let legacy = session("old", rest, &s).unwrap();
        assert_eq!(legacy.id, format!("frontier:old:{ORG}:{ID}"));
        assert_eq!(legacy.provider_session_id, format!("{ORG}:{ID}"));
        assert_eq!(legacy.customer.and_then(|c| c.id).as_deref(), Some(ORG));
        assert!(session("x", Origin::UNKNOWN, &s)
            .unwrap()
            .customer
            .is_none());
    }

    #[test]
    fn purpose_plan_and_url_follow_the_body() {
        let sub = wire_session(json!({"id": ID, "state": "open", "plan": "p1",
            "checkout_url": "https://checkout.stripe.com/c/pay/cs_test_1",
            "created_at": "2026-11-18T10:15:42Z"}));
        let s = session("a", Origin::UNKNOWN, &sub).unwrap();
        assert_eq!(s.purpose, Purpose::Subscription);
        assert_eq!(
            s.plan.map(|p| (p.id, p.kind)),
            Some(("p1".into(), "plan".into()))
        );
        assert!(s.url.is_some());
        let bought = wire_session(json!({"id": ID, "state": "complete", "product": "pr1",
            "checkout_url": "https://checkout.stripe.com/c/pay/cs_test_1",
            "created_at": "2026-11-18T10:15:42Z"}));
        let s = session("a", Origin::UNKNOWN, &bought).unwrap();
        assert_eq!(s.purpose, Purpose::Purchase);
        assert_eq!(s.plan.map(|p| p.kind).as_deref(), Some("product"));
        assert_eq!(s.url, None, "a completed page is not offered");
        assert_eq!(s.payment_status, None);
        let setup =
            wire_session(json!({"id": ID, "state": "open", "created_at": "2026-11-18T10:15:42Z"}));
        assert_eq!(purpose(&setup), Purpose::Setup);
        let portal = wire_session(json!({"id": ID, "created_at": "0001-01-01T00:00:00Z",
            "expire_at": "0001-01-01T00:00:00Z"}));
        let s = session("a", Origin::UNKNOWN, &portal).unwrap();
        assert_eq!((s.purpose, s.status), (Purpose::Other, Status::Open));
        assert_eq!(s.expires_at, None, "Go's zero time is unset");
        assert_eq!(s.provider_status.status.as_deref(), Some(""));
    }

    #[test]
    fn fractional_digits_of_every_width() {
        for (raw, shown) in [
            ("2026-11-18T10:15:42Z", "2026-11-18T10:15:42Z"),
            ("2026-11-18T10:15:42.120Z", "2026-11-18T10:15:42.120Z"),
            ("2026-11-18T10:15:42.123456Z", "2026-11-18T10:15:42.123456Z"),
            (
                "2026-11-18T10:15:42.123456789Z",
                "2026-11-18T10:15:42.123456789Z",
            ),
        ] {
            let s = wire_session(json!({"id": ID, "created_at": raw}));
            let c = session("a", Origin::UNKNOWN, &s).unwrap();
            assert_eq!(timestamp::format(&c.created_at), shown);
        }
    }

    #[test]
    fn unreadable_sessions_are_bad_responses() {
        for v in [
            json!({"id": "cs_test_1", "created_at": "2026-11-18T10:15:42Z"}),
            json!({"id": ID}),
            json!({"id": ID, "created_at": ""}),
            json!({"id": ID, "created_at": "yesterday"}),
            json!({"id": ID, "created_at": "2026-11-18T10:15:42Z", "expire_at": "soon"}),
        ] {
            let e = session("a", Origin::UNKNOWN, &wire_session(v.clone())).unwrap_err();
            assert_eq!(e.code, ErrorCode::ProviderBadResponse, "{v}");
        }
    }
}
