//! The canonical create request → Meteroid's create body. Pure: every
//! canonical field Meteroid cannot honour is refused by name.

use checkout_core::{CreateSession, Error, Metadata};
use serde_json::Value;

use crate::wire;
use crate::{ApiLevel, PROVIDER};

/// Why an account at [`ApiLevel::August2026`] refuses redirect URLs.
const PREDATES_REDIRECT_URLS: &str =
    "this account's Meteroid deployment (api_level \"2026-08\") predates redirect URLs";

/// Canonical create request → Meteroid create body for a deployment at
/// `level`. Refuses, by name, every canonical field it cannot honour.
pub fn create_request(req: &CreateSession, level: ApiLevel) -> Result<wire::CreateRequest, Error> {
    let customer_id = req
        .required(PROVIDER, "customer", &req.customer)?
        .to_owned();
    let plan_version_id = req.required(PROVIDER, "plan", &req.plan)?.to_owned();
    // Meteroid wants absolute http(s) URLs; the gateway's input checks
    // already hold every redirect URL to absolute https (or the demo's
    // http://localhost), so they pass through as given.
    if !level.has_redirect_urls() {
        for (field, set) in [
            ("success_url", req.success_url.is_some()),
            ("cancel_url", req.cancel_url.is_some()),
        ] {
            req.refuse_if_set(PROVIDER, field, set, PREDATES_REDIRECT_URLS)?;
        }
    }
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
        success_url: req.success_url.clone(),
        cancel_url: req.cancel_url.clone(),
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
            "success_url" => Some("success_url"),
            "cancel_url" => Some("cancel_url"),
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

    fn base() -> Value {
        json!({"provider": "meteroid", "account": "default", "customer": "c", "plan": "p"})
    }

    #[test]
    fn create_maps_canonical_and_provider_options() {
        let body = create_request(
            &req(json!({
                "provider": "meteroid", "account": "default",
                "customer": "acme", "plan": "plv_1", "quantity": 1,
                "success_url": "https://shop.example/ok?order=1234",
                "cancel_url": "https://shop.example/cart",
                "metadata": {"order": "1234", "n": 2},
                "provider_options": {
                    "expires_in_hours": 0, "coupon_code": "WELCOME",
                    "invoice_threshold": "100.50", "billing_start_date": "2026-02-01",
                    "add_ons": [{"add_on_id": "add_1", "quantity": 2}],
                    "components": {"remove_components": ["price_1"]},
                    "payment_methods_config": {"type": "online", "config": {"card": {"enabled": true}}}
                }
            })),
            ApiLevel::Current,
        )
        .unwrap();
        let v = serde_json::to_value(&body).unwrap();
        assert_eq!(v["customer_id"], "acme");
        assert_eq!(v["plan_version_id"], "plv_1");
        // Passed as given: Meteroid itself appends `checkout_session_id`.
        assert_eq!(v["success_url"], "https://shop.example/ok?order=1234");
        assert_eq!(v["cancel_url"], "https://shop.example/cart");
        assert_eq!(v["expires_in_hours"], 0);
        assert_eq!(v["invoice_threshold"], "100.50");
        assert_eq!(v["billing_start_date"], "2026-02-01");
        assert_eq!(v["add_ons"][0]["add_on_id"], "add_1");
        assert_eq!(v["payment_methods_config"]["type"], "online");
        assert_eq!(v["metadata"]["order"], "1234");
        assert!(v.get("coupon_ids").is_none(), "unset options are not sent");
    }

    #[test]
    fn unset_redirect_urls_are_not_sent() {
        for level in [ApiLevel::Current, ApiLevel::August2026] {
            let v = serde_json::to_value(create_request(&req(base()), level).unwrap()).unwrap();
            assert!(
                v.get("success_url").is_none() && v.get("cancel_url").is_none(),
                "{v}"
            );
        }
        let mut one = base();
        one["cancel_url"] = json!("https://shop.example/cart");
        let v =
            serde_json::to_value(create_request(&req(one), ApiLevel::Current).unwrap()).unwrap();
        assert_eq!(v["cancel_url"], "https://shop.example/cart");
        assert!(v.get("success_url").is_none(), "{v}");
    }

    #[test]
    fn a_deployment_older_than_redirect_urls_refuses_each_by_name() {
        for field in ["success_url", "cancel_url"] {
            let mut v = base();
            v[field] = json!("https://shop.example/x");
            let err = create_request(&req(v), ApiLevel::August2026).unwrap_err();
            assert_eq!(
                (err.code, err.http_status),
                (ErrorCode::UnsupportedField, 422),
                "{field}"
            );
            assert!(
                err.message.contains(&format!("`{field}`"))
                    && err.message.contains("meteroid")
                    && err.message.contains("predates redirect URLs"),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn unsupported_canonical_fields_are_422_naming_field_and_vendor() {
        for level in [ApiLevel::Current, ApiLevel::August2026] {
            for (field, value) in [
                ("quantity", json!(3)),
                ("expires_at", json!("2026-01-19T10:00:00Z")),
            ] {
                let mut v = base();
                v[field] = value;
                let err = create_request(&req(v), level).unwrap_err();
                assert_eq!(err.code, ErrorCode::UnsupportedField, "{field}");
                assert_eq!(err.http_status, 422);
                assert!(
                    err.message.contains(field) && err.message.contains("meteroid"),
                    "{}",
                    err.message
                );
            }
        }
    }

    #[test]
    fn provider_options_errors_name_the_field() {
        let with = |opts: Value| {
            let mut v = base();
            v["provider_options"] = opts;
            create_request(&req(v), ApiLevel::Current).unwrap_err()
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
        for field in ["success_url", "cancel_url"] {
            let e = with(json!({field: "https://shop.example/x"}));
            assert_eq!(e.code, ErrorCode::InvalidRequest);
            assert!(
                e.message.contains(&format!(
                    "provider_options.{field}: set it with the canonical field `{field}`"
                )),
                "{}",
                e.message
            );
        }
        let e = create_request(
            &req(json!({"provider": "meteroid", "account": "default", "plan": "p"})),
            ApiLevel::Current,
        )
        .unwrap_err();
        assert!(
            e.message.contains("`customer` is required"),
            "{}",
            e.message
        );
    }
}
