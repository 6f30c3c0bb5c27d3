//! Pure conversions between Frontier's wire types and the canonical model.
//! No I/O: snapshot-tested over every fixture of both protocols.

use checkout_core::model::ObjectTag;
use checkout_core::{
    timestamp, CheckoutSession, CreateSession, Customer, Error, Metadata, PlanRef, ProviderStatus,
    Purpose, SessionId, Status,
};
use chrono::{DateTime, Utc};
use serde_json::Value;

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
        _ => Status::Processing,
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

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid_request(message).with_provider(PROVIDER)
}

/// Canonical create request → Frontier `CreateCheckoutRequest` (with
/// `org_id` set; a legacy REST client moves it to the path). Refuses, by
/// name, everything Frontier would ignore or could not give back.
pub fn create_request(req: &CreateSession) -> Result<wire::CreateRequest, Error> {
    let org_id = req
        .required(PROVIDER, "customer", &req.customer)?
        .to_owned();
    req.refuse_if_set(
        PROVIDER,
        "expires_at",
        req.expires_at.is_some(),
        "Frontier sessions always expire 24 hours after creation",
    )?;
    req.refuse_if_set(
        PROVIDER,
        "metadata",
        req.metadata.as_ref().is_some_and(|m| !m.is_empty()),
        "Frontier does not accept metadata on a checkout and never returns any",
    )?;
    let options = create_options(req.provider_options.as_ref())?;
    let plan = req.plan.as_deref().filter(|p| !p.is_empty());

    let setup = match &options.setup_body {
        Some(setup) if setup.customer_portal => {
            return Err(Error::unsupported_field(
                PROVIDER,
                "provider_options.setup_body.customer_portal",
                "Frontier does not store customer-portal sessions, so they could never be read back",
            ))
        }
        Some(setup) if !setup.payment_method => {
            return Err(invalid(
                "provider_options.setup_body: set `payment_method: true` (the only setup session Frontier stores)",
            ))
        }
        Some(_) => true,
        None => false,
    };
    let chosen = [plan.is_some(), options.product_body.is_some(), setup];
    match chosen.iter().filter(|c| **c).count() {
        0 => {
            return Err(invalid(
                "frontier needs one of `plan`, `provider_options.product_body` or `provider_options.setup_body`",
            ))
        }
        1 => {}
        _ => {
            return Err(invalid(
                "set only one of `plan`, `provider_options.product_body` and `provider_options.setup_body`: Frontier would silently drop the others",
            ))
        }
    }
    if plan.is_none() {
        for (field, set) in [
            ("skip_trial", options.skip_trial.is_some()),
            ("cancel_after_trial", options.cancel_after_trial.is_some()),
        ] {
            if set {
                return Err(Error::unsupported_field(
                    PROVIDER,
                    &format!("provider_options.{field}"),
                    "it applies to plan subscriptions only",
                ));
            }
        }
    }

    let mut out = wire::CreateRequest {
        org_id: Some(org_id),
        success_url: req.success_url.clone().filter(|u| !u.is_empty()),
        cancel_url: req.cancel_url.clone().filter(|u| !u.is_empty()),
        ..wire::CreateRequest::default()
    };
    if let Some(plan) = plan {
        req.refuse_if_set(
            PROVIDER,
            "quantity",
            req.quantity.is_some_and(|q| q != 1),
            "a Frontier plan subscription has no quantity (seats are counted by Frontier)",
        )?;
        out.subscription_body = Some(wire::SubscriptionBody {
            plan: plan.to_owned(),
            skip_trial: options.skip_trial.unwrap_or(false),
            cancel_after_trial: options.cancel_after_trial.unwrap_or(false),
        });
    } else if let Some(product) = &options.product_body {
        out.product_body = Some(product_body(req.quantity, product)?);
    } else {
        req.refuse_if_set(
            PROVIDER,
            "quantity",
            req.quantity.is_some(),
            "a payment-method setup session buys nothing",
        )?;
        out.setup_body = Some(wire::SetupBody {
            payment_method: true,
        });
    }
    Ok(out)
}

/// The canonical `quantity` and `product_body.quantity` are one field.
fn product_body(
    canonical: Option<u64>,
    option: &wire::ProductOption,
) -> Result<wire::ProductBody, Error> {
    if option.product.is_empty() {
        return Err(invalid(
            "provider_options.product_body.product: must not be empty",
        ));
    }
    let quantity = match (canonical, option.quantity) {
        (Some(q), Some(o)) if q != o.0 => {
            return Err(invalid(
                "`quantity` and `provider_options.product_body.quantity` disagree: set one",
            ))
        }
        (Some(q), _) => Some(q),
        (None, o) => o.map(|o| o.0),
    };
    let quantity = match quantity {
        None => None,
        Some(0) => {
            return Err(invalid(
                "`quantity` must be at least 1 (leave it out to let the customer choose)",
            ))
        }
        Some(q) if i64::try_from(q).is_err() => {
            return Err(invalid("`quantity` does not fit Frontier's int64"))
        }
        Some(q) => Some(wire::Int64(q)),
    };
    Ok(wire::ProductBody {
        product: option.product.clone(),
        quantity,
    })
}

fn create_options(
    options: Option<&serde_json::Map<String, Value>>,
) -> Result<wire::CreateOptions, Error> {
    let Some(options) = options else {
        return Ok(wire::CreateOptions::default());
    };
    for key in options.keys() {
        let hint = match key.as_str() {
            "org_id" => Some("set it with the canonical field `customer`"),
            "subscription_body" => Some(
                "set the plan with the canonical field `plan`, and `skip_trial` / `cancel_after_trial` in provider_options",
            ),
            "success_url" => Some("set it with the canonical field `success_url`"),
            "cancel_url" => Some("set it with the canonical field `cancel_url`"),
            _ => None,
        };
        if let Some(hint) = hint {
            return Err(invalid(format!("provider_options.{key}: {hint}")));
        }
        if !wire::CREATE_OPTION_FIELDS.contains(&key.as_str()) {
            return Err(Error::unsupported_field(
                PROVIDER,
                &format!("provider_options.{key}"),
                &format!(
                    "not a Frontier create field (accepted: {})",
                    wire::CREATE_OPTION_FIELDS.join(", ")
                ),
            ));
        }
    }
    serde_path_to_error::deserialize(Value::Object(options.clone()))
        .map_err(|e| invalid(format!("provider_options.{}: {}", e.path(), e.inner())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkout_core::ErrorCode;
    use serde_json::json;

    const ORG: &str = "8d0c3f64-52b1-4c5e-a0f3-7b2e9c41d6a8";
    const ID: &str = "5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37";

    fn req(v: Value) -> CreateSession {
        serde_json::from_value(v).unwrap()
    }

    fn base() -> Value {
        json!({"provider": "frontier", "account": "default", "customer": ORG})
    }

    fn with(fields: Value) -> CreateSession {
        let mut v = base();
        for (k, val) in fields.as_object().unwrap() {
            v[k] = val.clone();
        }
        req(v)
    }

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

    #[test]
    fn create_for_a_plan() {
        let body = create_request(&with(json!({
            "plan": "starter_monthly", "quantity": 1,
            "success_url": "https://app.example/billing?checkout={{.CheckoutID}}",
            "cancel_url": "https://app.example/billing",
            "provider_options": {"skip_trial": true, "cancel_after_trial": false}
        })))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({
                "org_id": ORG,
                "success_url": "https://app.example/billing?checkout={{.CheckoutID}}",
                "cancel_url": "https://app.example/billing",
                "subscription_body": {"plan": "starter_monthly", "skip_trial": true}
            })
        );
    }

    #[test]
    fn create_for_a_product_and_for_a_setup() {
        let body = create_request(&with(json!({
            "quantity": 3, "provider_options": {"product_body": {"product": "credits_1000"}}
        })))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&body).unwrap()["product_body"],
            json!({"product": "credits_1000", "quantity": "3"})
        );
        let body = create_request(&with(json!({
            "provider_options": {"product_body": {"product": "credits_1000", "quantity": "5"}}
        })))
        .unwrap();
        assert_eq!(
            body.product_body.and_then(|p| p.quantity),
            Some(wire::Int64(5))
        );
        let body = create_request(&with(json!({
            "provider_options": {"setup_body": {"payment_method": true}}
        })))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"org_id": ORG, "setup_body": {"payment_method": true}})
        );
    }

    #[test]
    fn refusals_name_the_field() {
        for (fields, code, needle) in [
            (
                json!({"plan": "p", "expires_at": "2030-01-01T00:00:00Z"}),
                ErrorCode::UnsupportedField,
                "expires_at",
            ),
            (
                json!({"plan": "p", "metadata": {"order": "1"}}),
                ErrorCode::UnsupportedField,
                "metadata",
            ),
            (
                json!({"plan": "p", "quantity": 2}),
                ErrorCode::UnsupportedField,
                "quantity",
            ),
            (
                json!({"provider_options": {"setup_body": {"customer_portal": true}}}),
                ErrorCode::UnsupportedField,
                "setup_body.customer_portal",
            ),
            (
                json!({"provider_options": {"setup_body": {}}}),
                ErrorCode::InvalidRequest,
                "payment_method: true",
            ),
            (
                json!({"provider_options": {"setup_body": {"payment_method": true}}, "quantity": 1}),
                ErrorCode::UnsupportedField,
                "quantity",
            ),
            (json!({}), ErrorCode::InvalidRequest, "needs one of `plan`"),
            (
                json!({"plan": "p", "provider_options": {"product_body": {"product": "x"}}}),
                ErrorCode::InvalidRequest,
                "only one of",
            ),
            (
                json!({"plan": "p", "provider_options": {"setup_body": {"payment_method": true}}}),
                ErrorCode::InvalidRequest,
                "only one of",
            ),
            (
                json!({"provider_options": {"product_body": {"product": "x"}, "skip_trial": true}}),
                ErrorCode::UnsupportedField,
                "provider_options.skip_trial",
            ),
            (
                json!({"quantity": 2, "provider_options": {"product_body": {"product": "x", "quantity": 3}}}),
                ErrorCode::InvalidRequest,
                "disagree",
            ),
            (
                json!({"quantity": 0, "provider_options": {"product_body": {"product": "x"}}}),
                ErrorCode::InvalidRequest,
                "at least 1",
            ),
            (
                json!({"provider_options": {"product_body": {"product": ""}}}),
                ErrorCode::InvalidRequest,
                "product_body.product",
            ),
            (
                json!({"provider_options": {"product_body": {"product": "x", "quantity": "many"}}}),
                ErrorCode::InvalidRequest,
                "provider_options.product_body.quantity",
            ),
            (
                json!({"plan": "p", "provider_options": {"skip_trial": "yes"}}),
                ErrorCode::InvalidRequest,
                "provider_options.skip_trial",
            ),
            (
                json!({"plan": "p", "provider_options": {"provider_coupon_id": "c"}}),
                ErrorCode::UnsupportedField,
                "provider_options.provider_coupon_id",
            ),
            (
                json!({"plan": "p", "provider_options": {"org_id": "o"}}),
                ErrorCode::InvalidRequest,
                "canonical field `customer`",
            ),
            (
                json!({"provider_options": {"subscription_body": {"plan": "p"}}}),
                ErrorCode::InvalidRequest,
                "canonical field `plan`",
            ),
        ] {
            let err = create_request(&with(fields.clone())).unwrap_err();
            assert_eq!(err.code, code, "{fields}: {}", err.message);
            assert!(err.message.contains(needle), "{fields}: {}", err.message);
            assert_eq!(err.provider.as_deref(), Some(PROVIDER));
        }
        let mut no_customer = base();
        no_customer.as_object_mut().unwrap().remove("customer");
        no_customer["plan"] = json!("p");
        let err = create_request(&req(no_customer)).unwrap_err();
        assert!(
            err.message.contains("`customer` is required"),
            "{}",
            err.message
        );
    }
}
