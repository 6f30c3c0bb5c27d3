//! Pure conversions between Meteroid's wire types and the canonical model.
//! No I/O: snapshot-tested over every fixture.

use checkout_core::model::ObjectTag;
use checkout_core::{
    timestamp, CheckoutSession, CreateSession, Customer, Error, Metadata, PlanRef, ProviderStatus,
    Purpose, SessionId, Status,
};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::wire;
use crate::PROVIDER;

/// Meteroid `status` → canonical status (PRODUCT §2 table). A value no rule
/// knows stays non-terminal: it must never read as success or failure.
pub fn status(vendor: &str) -> Status {
    match vendor {
        "CREATED" => Status::Open,
        "AWAITING_PAYMENT" => Status::Processing,
        "COMPLETED" => Status::Complete,
        "EXPIRED" => Status::Expired,
        "CANCELLED" => Status::Canceled,
        _ => Status::Processing,
    }
}

/// Meteroid `checkout_type` → canonical purpose.
pub fn purpose(checkout_type: &str) -> Purpose {
    match checkout_type {
        "SELF_SERVE" => Purpose::Subscription,
        "SUBSCRIPTION_ACTIVATION" => Purpose::SubscriptionActivation,
        "PLAN_CHANGE" => Purpose::PlanChange,
        "ADDON_PURCHASE" => Purpose::AddOn,
        _ => Purpose::Other,
    }
}

fn bad_response(what: impl std::fmt::Display) -> Error {
    checkout_core::vendor::bad_response(PROVIDER, what)
}

fn time(field: &str, value: &str) -> Result<DateTime<Utc>, Error> {
    timestamp::parse_lenient(value)
        .ok_or_else(|| bad_response(format_args!("`{field}` is not a timestamp")))
}

fn opt_time(field: &str, value: &Option<String>) -> Result<Option<DateTime<Utc>>, Error> {
    value.as_deref().map(|v| time(field, v)).transpose()
}

/// A vendor session → canonical session (status as the vendor maps it;
/// derived expiry is applied at read time by [`CheckoutSession::as_of`]).
pub fn session(account: &str, s: &wire::CheckoutSession) -> Result<CheckoutSession, Error> {
    let id = SessionId::new(PROVIDER, account, &s.id)
        .map_err(|_| bad_response(format_args!("session id {:?} is not a Meteroid id", s.id)))?;
    Ok(CheckoutSession {
        object: ObjectTag,
        id: id.to_string(),
        provider: PROVIDER.to_owned(),
        account: account.to_owned(),
        provider_session_id: s.id.clone(),
        status: status(&s.status),
        // Meteroid does not expose whether money moved.
        payment_status: None,
        purpose: purpose(&s.checkout_type),
        url: s.checkout_url.clone(),
        // Meteroid hosts the page itself: there are no redirect URLs.
        success_url: None,
        cancel_url: None,
        customer: Some(Customer {
            id: Some(s.customer_id.clone()),
            ..Customer::default()
        }),
        plan: Some(PlanRef {
            id: s.plan_version_id.clone(),
            kind: "plan_version".to_owned(),
        }),
        // No quantity on a Meteroid session.
        quantity: None,
        subscription_id: s.subscription_id.clone(),
        invoice_id: None,
        // The session carries no amount: never invent one.
        amount_total: None,
        livemode: None,
        // Accepted on create but never returned.
        metadata: Metadata::new(),
        created_at: time("created_at", &s.created_at)?,
        updated_at: None,
        expires_at: opt_time("expires_at", &s.expires_at)?,
        completed_at: opt_time("completed_at", &s.completed_at)?,
        provider_status: ProviderStatus {
            status: Some(s.status.clone()),
            payment_status: None,
        },
    })
}

/// A get/create/cancel response body → canonical session.
pub fn session_body(account: &str, body: &[u8]) -> Result<CheckoutSession, Error> {
    let envelope: wire::SessionEnvelope = parse(body)?;
    session(account, &envelope.session)
}

/// Deserialize a Meteroid body (see [`checkout_core::vendor::parse_body`]).
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    checkout_core::vendor::parse_body(PROVIDER, body)
}

/// Canonical create request → Meteroid create body. Refuses, by name, every
/// canonical field Meteroid cannot honour.
pub fn create_request(req: &CreateSession) -> Result<wire::CreateRequest, Error> {
    let customer_id = req
        .required(PROVIDER, "customer", &req.customer)?
        .to_owned();
    let plan_version_id = req.required(PROVIDER, "plan", &req.plan)?.to_owned();
    req.refuse_if_set(
        PROVIDER,
        "success_url",
        req.success_url.is_some(),
        "Meteroid hosts the checkout page and has no redirect URLs",
    )?;
    req.refuse_if_set(
        PROVIDER,
        "cancel_url",
        req.cancel_url.is_some(),
        "Meteroid hosts the checkout page and has no redirect URLs",
    )?;
    req.refuse_if_set(
        PROVIDER,
        "quantity",
        req.quantity.is_some_and(|q| q != 1),
        "a Meteroid checkout subscribes to one plan version; quantities are set per component in provider_options.components",
    )?;
    req.refuse_if_set(
        PROVIDER,
        "expires_at",
        req.expires_at.is_some(),
        "Meteroid takes the expiry as whole hours from creation: use provider_options.expires_in_hours (0 = never expires)",
    )?;
    let options = create_options(req.provider_options.as_ref())?;
    let metadata = req.metadata.as_ref().map(metadata_value);
    Ok(wire::CreateRequest {
        customer_id,
        plan_version_id,
        metadata,
        options,
    })
}

fn metadata_value(m: &Metadata) -> Value {
    // A flat map of scalars always serialises.
    serde_json::to_value(m).unwrap_or(Value::Null)
}

fn create_options(
    options: Option<&serde_json::Map<String, Value>>,
) -> Result<wire::CreateOptions, Error> {
    let Some(options) = options else {
        return Ok(wire::CreateOptions::default());
    };
    for key in options.keys() {
        let canonical = match key.as_str() {
            "customer_id" => Some("customer"),
            "plan_version_id" => Some("plan"),
            "metadata" => Some("metadata"),
            _ => None,
        };
        if let Some(canonical) = canonical {
            return Err(Error::invalid_request(format!(
                "provider_options.{key}: set it with the canonical field `{canonical}`"
            ))
            .with_provider(PROVIDER));
        }
        if !wire::CREATE_OPTION_FIELDS.contains(&key.as_str()) {
            return Err(Error::unsupported_field(
                PROVIDER,
                &format!("provider_options.{key}"),
                &format!(
                    "not a Meteroid create field (accepted: {})",
                    wire::CREATE_OPTION_FIELDS.join(", ")
                ),
            ));
        }
    }
    serde_path_to_error::deserialize(Value::Object(options.clone())).map_err(|e| {
        Error::invalid_request(format!("provider_options.{}: {}", e.path(), e.inner()))
            .with_provider(PROVIDER)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkout_core::ErrorCode;
    use serde_json::json;

    fn req(v: Value) -> CreateSession {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn every_status_rule() {
        assert_eq!(status("CREATED"), Status::Open);
        assert_eq!(status("AWAITING_PAYMENT"), Status::Processing);
        assert_eq!(status("COMPLETED"), Status::Complete);
        assert_eq!(status("EXPIRED"), Status::Expired);
        assert_eq!(status("CANCELLED"), Status::Canceled);
        let unknown = status("PAYMENT_FAILED");
        assert!(!unknown.is_terminal() && !unknown.is_success());
    }

    #[test]
    fn create_maps_canonical_and_provider_options() {
        let body = create_request(&req(json!({
            "provider": "meteroid", "account": "default",
            "customer": "acme", "plan": "plv_1", "quantity": 1,
            "metadata": {"order": "1234", "n": 2},
            "provider_options": {
                "expires_in_hours": 0, "coupon_code": "WELCOME",
                "invoice_threshold": "100.50", "billing_start_date": "2026-02-01",
                "add_ons": [{"add_on_id": "add_1", "quantity": 2}],
                "components": {"remove_components": ["price_1"]},
                "payment_methods_config": {"type": "online", "config": {"card": {"enabled": true}}}
            }
        })))
        .unwrap();
        let v = serde_json::to_value(&body).unwrap();
        assert_eq!(v["customer_id"], "acme");
        assert_eq!(v["plan_version_id"], "plv_1");
        assert_eq!(v["expires_in_hours"], 0);
        assert_eq!(v["invoice_threshold"], "100.50");
        assert_eq!(v["billing_start_date"], "2026-02-01");
        assert_eq!(v["add_ons"][0]["add_on_id"], "add_1");
        assert_eq!(v["payment_methods_config"]["type"], "online");
        assert_eq!(v["metadata"]["order"], "1234");
        assert!(v.get("coupon_ids").is_none(), "unset options are not sent");
    }

    #[test]
    fn unsupported_canonical_fields_are_422_naming_field_and_vendor() {
        for (field, value) in [
            ("success_url", json!("https://shop.example/ok")),
            ("cancel_url", json!("https://shop.example/no")),
            ("quantity", json!(3)),
            ("expires_at", json!("2026-01-19T10:00:00Z")),
        ] {
            let mut v =
                json!({"provider": "meteroid", "account": "default", "customer": "c", "plan": "p"});
            v[field] = value;
            let err = create_request(&req(v)).unwrap_err();
            assert_eq!(err.code, ErrorCode::UnsupportedField, "{field}");
            assert_eq!(err.http_status, 422);
            assert!(
                err.message.contains(field) && err.message.contains("meteroid"),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn provider_options_errors_name_the_field() {
        let base =
            json!({"provider": "meteroid", "account": "default", "customer": "c", "plan": "p"});
        let with = |opts: Value| {
            let mut v = base.clone();
            v["provider_options"] = opts;
            create_request(&req(v)).unwrap_err()
        };
        let e = with(json!({"trial_days": 3}));
        assert_eq!(e.code, ErrorCode::UnsupportedField);
        assert!(
            e.message.contains("provider_options.trial_days"),
            "{}",
            e.message
        );
        let e = with(json!({"invoice_threshold": "ten"}));
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert!(
            e.message.contains("provider_options.invoice_threshold"),
            "{}",
            e.message
        );
        let e = with(json!({"payment_methods_config": {"type": "crypto"}}));
        assert!(
            e.message
                .contains("provider_options.payment_methods_config"),
            "{}",
            e.message
        );
        let e = with(json!({"add_ons": [{"quantity": 1}]}));
        assert!(
            e.message.contains("provider_options.add_ons[0]"),
            "{}",
            e.message
        );
        let e = with(json!({"plan_version_id": "plv_2"}));
        assert!(
            e.message.contains("canonical field `plan`"),
            "{}",
            e.message
        );
        let e = create_request(&req(
            json!({"provider": "meteroid", "account": "default", "plan": "p"}),
        ))
        .unwrap_err();
        assert!(
            e.message.contains("`customer` is required"),
            "{}",
            e.message
        );
    }
}
