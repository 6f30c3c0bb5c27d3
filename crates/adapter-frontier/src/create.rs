//! The canonical create request → Frontier's `CreateCheckoutRequest`.
//! Pure: everything Frontier would ignore or could not give back is
//! refused by name.

use checkout_core::{CreateSession, Error};
use serde_json::Value;

use crate::wire;
use crate::PROVIDER;

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid_request(message).with_provider(PROVIDER)
}

/// Canonical create request → Frontier `CreateCheckoutRequest` (with
/// `org_id` set; a legacy REST account moves it to the path). Refuses, by
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
