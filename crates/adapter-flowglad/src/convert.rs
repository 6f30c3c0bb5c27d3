//! Pure conversions between Flowglad's wire types and the canonical model.
//! No I/O: snapshot-tested over every fixture.

use checkout_core::model::ObjectTag;
use checkout_core::{
    timestamp, CheckoutSession, CreateSession, Customer, Error, Metadata, MetadataValue, PlanRef,
    ProviderStatus, Purpose, SessionId, Status,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::wire::{self, SessionType};
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
        _ => Status::Processing,
    }
}

/// Flowglad session `type` → canonical purpose. A product session may buy a
/// one-off or a subscription price; the session alone cannot tell which.
pub fn purpose(session_type: &str) -> Purpose {
    match session_type {
        "product" | "purchase" => Purpose::Purchase,
        "add_payment_method" => Purpose::Setup,
        "activate_subscription" => Purpose::SubscriptionActivation,
        _ => Purpose::Other,
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

/// Longest metadata string Flowglad keeps, in UTF-16 code units (zod's
/// `max(500)` counts JavaScript string length).
pub const MAX_METADATA_STRING: usize = 500;
/// Largest integer a JavaScript number holds exactly (2^53 - 1).
const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;
/// Flowglad stores `quantity` in an int4 column.
const MAX_QUANTITY: u64 = i32::MAX as u64;

fn invalid(message: String) -> Error {
    Error::invalid_request(message).with_provider(PROVIDER)
}

/// Canonical create request → Flowglad create body. Refuses, by name and
/// before any call, every field Flowglad cannot honour or would drop.
pub fn create_request(req: &CreateSession) -> Result<wire::CreateRequest, Error> {
    let options = create_options(req.provider_options.as_ref())?;
    req.refuse_if_set(
        PROVIDER,
        "expires_at",
        req.expires_at.is_some(),
        "Flowglad sessions always expire 24 hours after creation",
    )?;
    let core = wire::CoreInput {
        customer_external_id: None,
        success_url: redirect_url(req, "success_url", &req.success_url)?,
        cancel_url: redirect_url(req, "cancel_url", &req.cancel_url)?,
        output_metadata: req.metadata.as_ref().map(output_metadata).transpose()?,
        output_name: options.output_name.clone(),
    };
    let session_type = options.session_type.unwrap_or_default();
    let checkout_session = match session_type {
        SessionType::Product => product(req, &options, core)?,
        SessionType::AddPaymentMethod => {
            refuse_for_type(session_type, "plan", req.plan.is_some())?;
            refuse_quantity(req, session_type)?;
            refuse_for_type(
                session_type,
                "provider_options.priceSlug",
                options.price_slug.is_some(),
            )?;
            refuse_for_type(
                session_type,
                "provider_options.anonymous",
                options.anonymous.is_some(),
            )?;
            refuse_for_type(
                session_type,
                "provider_options.preserveBillingCycleAnchor",
                options.preserve_billing_cycle_anchor.is_some(),
            )?;
            wire::CreateCheckoutSession::AddPaymentMethod(wire::AddPaymentMethodInput {
                core: identified(req, core)?,
                target_subscription_id: options.target_subscription_id.clone(),
            })
        }
        SessionType::ActivateSubscription => {
            refuse_for_type(session_type, "plan", req.plan.is_some())?;
            refuse_quantity(req, session_type)?;
            refuse_for_type(
                session_type,
                "provider_options.priceSlug",
                options.price_slug.is_some(),
            )?;
            refuse_for_type(
                session_type,
                "provider_options.anonymous",
                options.anonymous.is_some(),
            )?;
            let target = options
                .target_subscription_id
                .clone()
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    invalid(
                        "field `provider_options.targetSubscriptionId` is required for flowglad \
                         activate_subscription sessions"
                            .to_owned(),
                    )
                })?;
            wire::CreateCheckoutSession::ActivateSubscription(wire::ActivateSubscriptionInput {
                core: identified(req, core)?,
                target_subscription_id: target,
                preserve_billing_cycle_anchor: options.preserve_billing_cycle_anchor,
            })
        }
    };
    Ok(wire::CreateRequest { checkout_session })
}

/// `type: product`: a price by id (`plan`) or by slug (`plan` =
/// `price_slug:<slug>`, or `provider_options.priceSlug`), exactly one.
fn product(
    req: &CreateSession,
    options: &wire::CreateOptions,
    core: wire::CoreInput,
) -> Result<wire::CreateCheckoutSession, Error> {
    refuse_for_type(
        SessionType::Product,
        "provider_options.targetSubscriptionId",
        options.target_subscription_id.is_some(),
    )?;
    let anonymous = options.anonymous.unwrap_or(false);
    let core = if anonymous {
        if req.customer.is_some() {
            return Err(invalid(
                "field `customer` must be absent for an anonymous flowglad session \
                 (provider_options.anonymous = true)"
                    .to_owned(),
            ));
        }
        core
    } else {
        identified(req, core)?
    };
    let (price_id, price_slug) =
        match (req.plan.as_deref(), options.price_slug.as_deref()) {
            (Some(_), Some(_)) => return Err(invalid(
                "give the flowglad price once: `plan` or `provider_options.priceSlug`, not both"
                    .to_owned(),
            )),
            (Some(plan), None) => match plan.strip_prefix(PRICE_SLUG_PREFIX) {
                Some(slug) => (None, Some(non_empty("plan", slug)?)),
                None => (Some(non_empty("plan", plan)?), None),
            },
            (None, Some(slug)) => (None, Some(non_empty("provider_options.priceSlug", slug)?)),
            (None, None) => {
                return Err(invalid(format!(
                    "field `plan` is required for {PROVIDER} product sessions: a price id, or \
                 `{PRICE_SLUG_PREFIX}<slug>` (or provider_options.priceSlug)"
                )))
            }
        };
    let quantity = match req.quantity {
        Some(q) if !(1..=MAX_QUANTITY).contains(&q) => {
            return Err(invalid(format!(
                "field `quantity` must be between 1 and {MAX_QUANTITY} for {PROVIDER}"
            )))
        }
        q => q,
    };
    Ok(wire::CreateCheckoutSession::Product(wire::ProductInput {
        core,
        price_id,
        price_slug,
        quantity,
        anonymous: anonymous.then_some(true),
        preserve_billing_cycle_anchor: options.preserve_billing_cycle_anchor,
    }))
}

/// `plan` may name a price by slug with this prefix.
pub const PRICE_SLUG_PREFIX: &str = "price_slug:";

fn non_empty(field: &str, value: &str) -> Result<String, Error> {
    if value.is_empty() {
        Err(invalid(format!(
            "field `{field}` must not be empty for {PROVIDER}"
        )))
    } else {
        Ok(value.to_owned())
    }
}

/// Every session but an anonymous product one needs the merchant's customer id.
fn identified(req: &CreateSession, mut core: wire::CoreInput) -> Result<wire::CoreInput, Error> {
    core.customer_external_id = Some(
        req.required(PROVIDER, "customer", &req.customer)?
            .to_owned(),
    );
    Ok(core)
}

fn refuse_for_type(session_type: SessionType, field: &str, set: bool) -> Result<(), Error> {
    if set {
        Err(Error::unsupported_field(
            PROVIDER,
            field,
            &format!(
                "it does not apply to {} sessions (Flowglad would drop it)",
                session_type.as_str()
            ),
        ))
    } else {
        Ok(())
    }
}

/// Only product sessions carry a quantity; 1 elsewhere is harmless.
fn refuse_quantity(req: &CreateSession, session_type: SessionType) -> Result<(), Error> {
    refuse_for_type(
        session_type,
        "quantity",
        req.quantity.is_some_and(|q| q != 1),
    )
}

/// Flowglad requires both redirect URLs and stores them as URLs (a
/// non-URL would make the session unreadable later).
fn redirect_url(req: &CreateSession, field: &str, value: &Option<String>) -> Result<String, Error> {
    let url = req.required(PROVIDER, field, value)?;
    match reqwest::Url::parse(url) {
        Ok(_) => Ok(url.to_owned()),
        Err(_) => Err(invalid(format!(
            "field `{field}` must be an absolute URL for {PROVIDER}"
        ))),
    }
}

/// Canonical metadata → `outputMetadata`, under Flowglad's value rules
/// (flat, strings of at most 500 characters, numbers, booleans). A value
/// the vendor would refuse or alter is a 422 here, not a vendor round-trip.
pub fn output_metadata(m: &Metadata) -> Result<Map<String, Value>, Error> {
    m.iter()
        .map(|(key, value)| {
            let v = match value {
                MetadataValue::String(s) => {
                    let len = s.encode_utf16().count();
                    if len > MAX_METADATA_STRING {
                        return Err(Error::unsupported_field(
                            PROVIDER,
                            &format!("metadata.{key}"),
                            &format!(
                                "Flowglad keeps metadata strings of at most \
                                 {MAX_METADATA_STRING} characters (UTF-16 units); this one has {len}"
                            ),
                        ));
                    }
                    Value::String(s.clone())
                }
                MetadataValue::Number(n) => {
                    let exact = n
                        .as_u64()
                        .map(|u| u <= MAX_SAFE_INTEGER)
                        .or_else(|| n.as_i64().map(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER))
                        .unwrap_or(true);
                    if !exact {
                        return Err(Error::unsupported_field(
                            PROVIDER,
                            &format!("metadata.{key}"),
                            "Flowglad stores numbers as JavaScript doubles and would round this \
                             integer; send it as a string",
                        ));
                    }
                    Value::Number(n.clone())
                }
                MetadataValue::Bool(b) => Value::Bool(*b),
            };
            Ok((key.clone(), v))
        })
        .collect()
}

fn create_options(options: Option<&Map<String, Value>>) -> Result<wire::CreateOptions, Error> {
    let Some(options) = options else {
        return Ok(wire::CreateOptions::default());
    };
    for key in options.keys() {
        let canonical = match key.as_str() {
            "customerExternalId" => Some("customer"),
            "priceId" => Some("plan"),
            "quantity" => Some("quantity"),
            "successUrl" => Some("success_url"),
            "cancelUrl" => Some("cancel_url"),
            "outputMetadata" => Some("metadata"),
            _ => None,
        };
        if let Some(canonical) = canonical {
            return Err(invalid(format!(
                "provider_options.{key}: set it with the canonical field `{canonical}`"
            )));
        }
        if key == "automaticallyUpdateSubscriptions" {
            return Err(Error::unsupported_field(
                PROVIDER,
                "provider_options.automaticallyUpdateSubscriptions",
                "Flowglad ignores it on create (the customer chooses on the hosted page)",
            ));
        }
        if !wire::CREATE_OPTION_FIELDS.contains(&key.as_str()) {
            return Err(Error::unsupported_field(
                PROVIDER,
                &format!("provider_options.{key}"),
                &format!(
                    "not a Flowglad create field (accepted: {})",
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

    fn with(changes: Value) -> Value {
        let mut v = base();
        for (k, val) in changes.as_object().unwrap() {
            if val.is_null() {
                v.as_object_mut().unwrap().remove(k);
            } else {
                v[k] = val.clone();
            }
        }
        v
    }

    fn body(v: Value) -> Value {
        serde_json::to_value(create_request(&req(v)).unwrap()).unwrap()
    }

    fn error(v: Value) -> Error {
        create_request(&req(v)).unwrap_err()
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

    #[test]
    fn create_product_maps_the_canonical_fields() {
        let v = body(with(json!({
            "quantity": 2,
            "metadata": {"order": "1234", "n": 2, "gift": true},
            "provider_options": {"outputName": "Pro plan", "preserveBillingCycleAnchor": true}
        })));
        assert_eq!(
            v,
            json!({"checkoutSession": {
                "type": "product",
                "customerExternalId": "ext-cust-42",
                "successUrl": "https://shop.example/ok",
                "cancelUrl": "https://shop.example/no",
                "outputMetadata": {"gift": true, "n": 2, "order": "1234"},
                "outputName": "Pro plan",
                "priceId": "price_abc",
                "quantity": 2,
                "preserveBillingCycleAnchor": true
            }})
        );
    }

    #[test]
    fn the_price_is_sent_by_id_or_by_slug_exactly_once() {
        let v = body(with(json!({"plan": "price_slug:pro_monthly"})));
        assert_eq!(v["checkoutSession"]["priceSlug"], "pro_monthly");
        assert!(v["checkoutSession"].get("priceId").is_none());
        let v = body(with(
            json!({"plan": null, "provider_options": {"priceSlug": "pro_monthly"}}),
        ));
        assert_eq!(v["checkoutSession"]["priceSlug"], "pro_monthly");
        assert!(v["checkoutSession"].get("priceId").is_none());
        let e = error(with(json!({"provider_options": {"priceSlug": "pro"}})));
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert!(e.message.contains("not both"), "{}", e.message);
        let e = error(with(json!({"plan": null})));
        assert!(e.message.contains("`plan` is required"), "{}", e.message);
        let e = error(with(json!({"plan": "price_slug:"})));
        assert!(e.message.contains("must not be empty"), "{}", e.message);
    }

    #[test]
    fn anonymous_sessions_have_no_customer() {
        let v = body(with(json!({
            "customer": null, "plan": "price_slug:lifetime",
            "provider_options": {"anonymous": true}
        })));
        let s = &v["checkoutSession"];
        assert_eq!(s["anonymous"], true);
        assert!(s.get("customerExternalId").is_none());
        let e = error(with(json!({"provider_options": {"anonymous": true}})));
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert!(
            e.message.contains("`customer` must be absent"),
            "{}",
            e.message
        );
        let e = error(with(json!({"customer": null})));
        assert!(
            e.message.contains("`customer` is required"),
            "{}",
            e.message
        );
        // `anonymous: false` is the vendor's default: not sent.
        let v = body(with(json!({"provider_options": {"anonymous": false}})));
        assert!(v["checkoutSession"].get("anonymous").is_none());
    }

    #[test]
    fn add_payment_method_and_activate_subscription() {
        let v = body(with(json!({
            "plan": null,
            "provider_options": {"type": "add_payment_method", "targetSubscriptionId": "sub_1"}
        })));
        assert_eq!(
            v,
            json!({"checkoutSession": {
                "type": "add_payment_method", "customerExternalId": "ext-cust-42",
                "successUrl": "https://shop.example/ok", "cancelUrl": "https://shop.example/no",
                "targetSubscriptionId": "sub_1"
            }})
        );
        let v = body(with(json!({
            "plan": null, "quantity": 1,
            "provider_options": {"type": "activate_subscription", "targetSubscriptionId": "sub_1",
                                 "preserveBillingCycleAnchor": false}
        })));
        assert_eq!(v["checkoutSession"]["type"], "activate_subscription");
        assert_eq!(v["checkoutSession"]["targetSubscriptionId"], "sub_1");
        assert_eq!(v["checkoutSession"]["preserveBillingCycleAnchor"], false);
        assert!(v["checkoutSession"].get("quantity").is_none());
        let e = error(with(
            json!({"plan": null, "provider_options": {"type": "activate_subscription"}}),
        ));
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert!(
            e.message.contains("provider_options.targetSubscriptionId"),
            "{}",
            e.message
        );
    }

    #[test]
    fn fields_a_session_type_would_drop_are_422() {
        for (changes, field) in [
            (
                json!({"provider_options": {"type": "add_payment_method"}}),
                "plan",
            ),
            (
                json!({"plan": null, "quantity": 3, "provider_options": {"type": "add_payment_method"}}),
                "quantity",
            ),
            (
                json!({"plan": null, "provider_options": {"type": "add_payment_method", "preserveBillingCycleAnchor": true}}),
                "provider_options.preserveBillingCycleAnchor",
            ),
            (
                json!({"plan": null, "provider_options": {"type": "add_payment_method", "anonymous": true}}),
                "provider_options.anonymous",
            ),
            (
                json!({"provider_options": {"type": "activate_subscription", "targetSubscriptionId": "sub_1"}}),
                "plan",
            ),
            (
                json!({"plan": null, "provider_options": {"type": "activate_subscription", "targetSubscriptionId": "sub_1", "priceSlug": "pro"}}),
                "provider_options.priceSlug",
            ),
            (
                json!({"provider_options": {"targetSubscriptionId": "sub_1"}}),
                "provider_options.targetSubscriptionId",
            ),
            (json!({"expires_at": "2030-01-01T00:00:00Z"}), "expires_at"),
            (
                json!({"provider_options": {"automaticallyUpdateSubscriptions": true}}),
                "provider_options.automaticallyUpdateSubscriptions",
            ),
            (
                json!({"provider_options": {"expiresAt": 1}}),
                "provider_options.expiresAt",
            ),
        ] {
            let e = error(with(changes));
            assert_eq!(
                e.code,
                ErrorCode::UnsupportedField,
                "{field}: {}",
                e.message
            );
            assert_eq!(e.http_status, 422);
            assert!(
                e.message.contains(&format!("`{field}`")) && e.message.contains("flowglad"),
                "{field}: {}",
                e.message
            );
        }
    }

    #[test]
    fn required_and_malformed_fields_are_400_naming_them() {
        for (changes, needle) in [
            (json!({"success_url": null}), "`success_url` is required"),
            (json!({"cancel_url": null}), "`cancel_url` is required"),
            (
                json!({"success_url": "/ok"}),
                "`success_url` must be an absolute URL",
            ),
            (json!({"quantity": 0}), "`quantity` must be between 1"),
            (
                json!({"quantity": 2_147_483_648u64}),
                "`quantity` must be between 1",
            ),
            (
                json!({"provider_options": {"priceId": "price_x"}}),
                "canonical field `plan`",
            ),
            (
                json!({"provider_options": {"outputMetadata": {}}}),
                "canonical field `metadata`",
            ),
            (
                json!({"provider_options": {"type": "purchase"}}),
                "provider_options.type",
            ),
            (
                json!({"provider_options": {"anonymous": "yes"}}),
                "provider_options.anonymous",
            ),
        ] {
            let e = error(with(changes));
            assert_eq!(e.code, ErrorCode::InvalidRequest, "{needle}: {}", e.message);
            assert_eq!(e.http_status, 400);
            assert!(e.message.contains(needle), "{needle}: {}", e.message);
        }
    }

    #[test]
    fn metadata_follows_flowglads_value_rules() {
        let ok = "é".repeat(500);
        let v = body(with(
            json!({"metadata": {"a": ok, "b": 9_007_199_254_740_991u64, "c": -1.5}}),
        ));
        assert_eq!(
            v["checkoutSession"]["outputMetadata"]["b"],
            9_007_199_254_740_991u64
        );
        // 300 emoji are 600 UTF-16 units: JavaScript's length, which zod counts.
        for (value, needle) in [
            (json!("x".repeat(501)), "this one has 501"),
            (json!("😀".repeat(300)), "this one has 600"),
            (json!(9_007_199_254_740_993u64), "would round"),
            (json!(-9_007_199_254_740_993i64), "would round"),
        ] {
            let e = error(with(json!({"metadata": {"k": value}})));
            assert_eq!(e.code, ErrorCode::UnsupportedField);
            assert!(
                e.message.contains("`metadata.k`") && e.message.contains(needle),
                "{}",
                e.message
            );
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
