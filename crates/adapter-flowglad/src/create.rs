//! The canonical create request → Flowglad's create body. Pure: every
//! canonical field Flowglad cannot honour or would drop is refused by name,
//! before any call.

use checkout_core::{CreateSession, Error, Metadata, MetadataValue};
use serde_json::{Map, Value};

use crate::wire::{self, SessionType};
use crate::PROVIDER;

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
    match url::Url::parse(url) {
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
}
