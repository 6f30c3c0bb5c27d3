//! Canonical create → each Zenskar family's create body: family A
//! (`POST /checkout`, the `Idempotency-Key` as the body's
//! `idempotency_key`) and family B (`POST /checkouts`). Pure: every field
//! is checked before anything is sent.

use checkout_core::{timestamp, CreateSession, Error, Metadata};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::{wire, Family, PROVIDER};

/// Longest redirect URL Zenskar accepts (`success_url`, `cancel_url`, `pending_url`).
pub const MAX_URL_LEN: usize = 2083;

fn invalid(message: String) -> Error {
    Error::invalid_request(message).with_provider(PROVIDER)
}

/// Fully qualified http(s), 1 to 2083 characters, as Zenskar requires.
pub fn check_url(field: &str, value: &str) -> Result<(), Error> {
    let len = value.chars().count();
    let qualified = url::Url::parse(value).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
    });
    if (1..=MAX_URL_LEN).contains(&len) && qualified {
        Ok(())
    } else {
        Err(invalid(format!(
            "{field}: zenskar needs a fully qualified http(s) URL of 1 to {MAX_URL_LEN} characters"
        )))
    }
}

fn uuid_field(field: &str, what: &str, value: &str) -> Result<wire::Uuid, Error> {
    wire::Uuid::parse(value)
        .ok_or_else(|| invalid(format!("{field}: a Zenskar {what} id is a UUID")))
}

/// Checks shared by both families, before any call.
fn common_checks(req: &CreateSession) -> Result<(), Error> {
    req.refuse_if_set(
        PROVIDER,
        "quantity",
        req.quantity.is_some_and(|q| q != 1),
        "a Zenskar checkout has no session quantity; quantities belong to the contract's products (family checkouts: provider_options.product_overrides)",
    )?;
    if let Some(url) = &req.success_url {
        check_url("success_url", url)?;
    }
    if let Some(url) = &req.cancel_url {
        check_url("cancel_url", url)?;
    }
    Ok(())
}

/// The customer for either family: `customer` (a UUID), or a guest checkout
/// from `provider_options.customer_data` + `business_entity_id`.
struct CustomerInput {
    customer_id: Option<String>,
    guest_checkout: Option<bool>,
}

fn customer_input(
    req: &CreateSession,
    customer_data: bool,
    business_entity: bool,
) -> Result<CustomerInput, Error> {
    match req.customer.as_deref() {
        Some(c) => Ok(CustomerInput {
            customer_id: Some(uuid_field("customer", "customer", c)?.0.hyphenated().to_string()),
            guest_checkout: None,
        }),
        None if customer_data && business_entity => Ok(CustomerInput {
            customer_id: None,
            guest_checkout: Some(true),
        }),
        None => Err(invalid(
            "customer: required for zenskar (or, for a guest checkout, provider_options.customer_data and provider_options.business_entity_id)".to_owned(),
        )),
    }
}

/// `provider_options` of `family`: unknown keys are 422 by name, keys that
/// duplicate a canonical field point at it, mistyped values are 400 by path.
fn options<T: DeserializeOwned + Default>(
    family: Family,
    options: Option<&Map<String, Value>>,
) -> Result<T, Error> {
    let Some(options) = options else {
        return Ok(T::default());
    };
    let (own, other) = match family {
        Family::Checkout => (wire::CHECKOUT_OPTION_FIELDS, wire::CHECKOUTS_OPTION_FIELDS),
        Family::Checkouts => (wire::CHECKOUTS_OPTION_FIELDS, wire::CHECKOUT_OPTION_FIELDS),
    };
    for key in options.keys() {
        let canonical = match key.as_str() {
            "customer_id" => Some("set it with the canonical field `customer`"),
            "plan_id" => Some("set it with the canonical field `plan`"),
            "success_url" | "cancel_url" | "expires_at" => {
                Some("set it with the canonical field of the same name")
            }
            "custom_data" | "metadata" => Some("set it with the canonical field `metadata`"),
            "idempotency_key" => Some("send it as the `Idempotency-Key` header"),
            "guest_checkout" => Some(
                "a guest checkout is one without `customer`, with provider_options.customer_data and provider_options.business_entity_id",
            ),
            _ => None,
        };
        if let Some(hint) = canonical {
            return Err(invalid(format!("provider_options.{key}: {hint}")));
        }
        if !own.contains(&key.as_str()) {
            let why = if other.contains(&key.as_str()) {
                format!(
                    "only accounts of the other Zenskar API family take it (this account uses family = \"{}\"; accepted: {})",
                    family.as_str(),
                    own.join(", ")
                )
            } else {
                format!(
                    "not a Zenskar create field (accepted for family = \"{}\": {})",
                    family.as_str(),
                    own.join(", ")
                )
            };
            return Err(Error::unsupported_field(
                PROVIDER,
                &format!("provider_options.{key}"),
                &why,
            ));
        }
    }
    serde_path_to_error::deserialize(Value::Object(options.clone()))
        .map_err(|e| invalid(format!("provider_options.{}: {}", e.path(), e.inner())))
}

fn metadata_value(m: &Metadata) -> Value {
    // A flat map of scalars always serialises.
    serde_json::to_value(m).unwrap_or(Value::Null)
}

/// Canonical create → family A (`POST /checkout`) body. The gateway's
/// `Idempotency-Key` becomes the body's `idempotency_key`.
pub fn create_checkout(
    req: &CreateSession,
    idempotency_key: Option<&str>,
) -> Result<wire::CreateCheckoutSession, Error> {
    common_checks(req)?;
    let opts: wire::CheckoutOptions = options(Family::Checkout, req.provider_options.as_ref())?;
    let contract = match (opts.contract, req.plan.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "provider_options.contract: give either `plan` or a whole contract, not both"
                    .to_owned(),
            ))
        }
        (Some(_), None) if opts.currency.is_some() || opts.start_date.is_some() => {
            return Err(invalid(
                "provider_options.contract: put currency and start_date inside the contract"
                    .to_owned(),
            ))
        }
        (Some(contract), None) => wire::ContractInput::Given(contract),
        (None, Some(plan)) => wire::ContractInput::PlanBased {
            is_plan_based: true,
            plan_id: uuid_field("plan", "plan", plan)?,
            currency: opts.currency.ok_or_else(|| {
                invalid("provider_options.currency: required with `plan` (the contract's ISO 4217 currency)".to_owned())
            })?,
            // The contract's start is a datetime at the vendor.
            start_date: opts
                .start_date
                .map(|d| d.as_datetime())
                .ok_or_else(|| {
                    invalid("provider_options.start_date: required with `plan` (the contract's start date)".to_owned())
                })?,
        },
        (None, None) => {
            return Err(invalid(
                "plan: required for zenskar (or a whole contract in provider_options.contract)"
                    .to_owned(),
            ))
        }
    };
    let customer = customer_input(
        req,
        opts.customer_data.is_some(),
        opts.business_entity_id.is_some(),
    )?;
    if let Some(url) = &opts.pending_url {
        check_url("provider_options.pending_url", url)?;
    }
    Ok(wire::CreateCheckoutSession {
        contract,
        customer_id: customer.customer_id,
        guest_checkout: customer.guest_checkout,
        customer_data: opts.customer_data,
        business_entity_id: opts.business_entity_id,
        expires_at: req.expires_at.as_ref().map(timestamp::format),
        idempotency_key: idempotency_key.map(str::to_owned),
        correlation_id: opts.correlation_id,
        success_url: req.success_url.clone(),
        cancel_url: req.cancel_url.clone(),
        pending_url: opts.pending_url,
        attribution: opts.attribution,
        custom_data: req.metadata.as_ref().map(metadata_value),
    })
}

/// Canonical create → family B (`POST /checkouts`) body. Family B has no
/// idempotency and no metadata: both are refused rather than dropped.
pub fn create_checkouts(
    req: &CreateSession,
    idempotency_key: Option<&str>,
) -> Result<wire::CreateCheckout, Error> {
    req.refuse_if_set(
        PROVIDER,
        "Idempotency-Key",
        idempotency_key.is_some(),
        "the /checkouts API (family = \"checkouts\") has no idempotency, so a retried create would make a second session",
    )?;
    req.refuse_if_set(
        PROVIDER,
        "metadata",
        req.metadata.is_some(),
        "the /checkouts API (family = \"checkouts\") has no metadata or custom_data field",
    )?;
    common_checks(req)?;
    let opts: wire::CheckoutsOptions = options(Family::Checkouts, req.provider_options.as_ref())?;
    let plan_id = req
        .plan
        .as_deref()
        .map(|p| uuid_field("plan", "plan", p))
        .transpose()?;
    if plan_id.is_none() && opts.contract_id.is_none() {
        return Err(invalid(
            "plan: required for zenskar (or provider_options.contract_id for an amendment)"
                .to_owned(),
        ));
    }
    if opts.contract_id.is_some() && opts.product_overrides.is_none() {
        return Err(invalid(
            "provider_options.product_overrides: required with provider_options.contract_id (an amendment)".to_owned(),
        ));
    }
    let customer = customer_input(
        req,
        opts.customer_data.is_some(),
        opts.business_entity_id.is_some(),
    )?;
    Ok(wire::CreateCheckout {
        plan_id,
        contract_id: opts.contract_id,
        start_date: opts.start_date,
        end_date: opts.end_date,
        customer_id: customer.customer_id,
        business_entity_id: opts.business_entity_id,
        guest_checkout: customer.guest_checkout,
        customer_data: opts.customer_data,
        expires_at: req.expires_at.as_ref().map(timestamp::format),
        success_url: req.success_url.clone(),
        cancel_url: req.cancel_url.clone(),
        product_overrides: opts.product_overrides,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkout_core::ErrorCode;
    use serde_json::json;

    const CUSTOMER: &str = "0b6f3c1e-2a4d-4f7e-9b1a-5c8d7e6f4a32";
    const PLAN: &str = "7d2e9f4a-1c3b-4e5d-8f6a-9b0c1d2e3f4a";
    const SESSION: &str = "3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14";

    fn req(v: Value) -> CreateSession {
        serde_json::from_value(v).unwrap()
    }

    fn a_body() -> Value {
        json!({"provider": "zenskar", "account": "a", "customer": CUSTOMER, "plan": PLAN,
               "provider_options": {"currency": "usd", "start_date": "2026-03-01"}})
    }

    fn b_body() -> Value {
        json!({"provider": "zenskar", "account": "b", "customer": CUSTOMER, "plan": PLAN})
    }
    #[test]
    fn family_a_create_body() {
        let mut v = a_body();
        v["success_url"] = json!("https://shop.example/ok");
        v["cancel_url"] = json!("https://shop.example/no");
        v["expires_at"] = json!("2026-03-02T12:00:00+01:00");
        v["metadata"] = json!({"order": "1234"});
        v["provider_options"]["correlation_id"] = json!("trace-1");
        v["provider_options"]["pending_url"] = json!("https://shop.example/wait");
        let body = serde_json::to_value(create_checkout(&req(v), Some("key-1")).unwrap()).unwrap();
        assert_eq!(
            body,
            json!({
                "contract": {"is_plan_based": true, "plan_id": PLAN, "currency": "USD", "start_date": "2026-03-01T00:00:00"},
                "customer_id": CUSTOMER,
                "expires_at": "2026-03-02T11:00:00Z",
                "idempotency_key": "key-1",
                "correlation_id": "trace-1",
                "success_url": "https://shop.example/ok",
                "cancel_url": "https://shop.example/no",
                "pending_url": "https://shop.example/wait",
                "custom_data": {"order": "1234"}
            })
        );
    }

    #[test]
    fn family_a_guest_and_whole_contract() {
        let v = json!({"provider": "zenskar", "account": "a",
            "provider_options": {
                "contract": {"is_plan_based": false, "currency": "EUR", "start_date": "2026-03-01", "phases": []},
                "customer_data": {"customer_name": "Guest GmbH", "email": "ap@guest.example"},
                "business_entity_id": "5A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"}});
        let body = serde_json::to_value(create_checkout(&req(v), None).unwrap()).unwrap();
        assert_eq!(body["guest_checkout"], true);
        assert_eq!(
            body["business_entity_id"],
            "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
        );
        assert_eq!(body["contract"]["phases"], json!([]));
        assert!(body.get("customer_id").is_none() && body.get("idempotency_key").is_none());
    }

    #[test]
    fn family_b_create_body() {
        let mut v = b_body();
        v["provider_options"] =
            json!({"start_date": "2026-03-01T00:00:00Z", "end_date": "2027-02-28"});
        let body = serde_json::to_value(create_checkouts(&req(v), None).unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"plan_id": PLAN, "start_date": "2026-03-01T00:00:00Z", "end_date": "2027-02-28", "customer_id": CUSTOMER})
        );
        let v = json!({"provider": "zenskar", "account": "b", "customer": CUSTOMER,
            "provider_options": {"contract_id": PLAN, "product_overrides": [{"product_id": SESSION, "quantity": 3}]}});
        let body = serde_json::to_value(create_checkouts(&req(v), None).unwrap()).unwrap();
        assert_eq!(body["contract_id"], PLAN);
        assert_eq!(body["product_overrides"][0]["quantity"], 3);
    }

    #[test]
    fn family_b_refuses_idempotency_and_metadata() {
        let e = create_checkouts(&req(b_body()), Some("key-1")).unwrap_err();
        assert_eq!((e.code, e.http_status), (ErrorCode::UnsupportedField, 422));
        assert!(
            e.message.contains("Idempotency-Key") && e.message.contains("zenskar"),
            "{}",
            e.message
        );
        let mut v = b_body();
        v["metadata"] = json!({"order": "1"});
        let e = create_checkouts(&req(v), None).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnsupportedField);
        assert!(e.message.contains("metadata"), "{}", e.message);
    }

    #[test]
    fn urls_are_checked_before_the_call() {
        for (field, value) in [
            ("success_url", json!("/relative/ok")),
            ("cancel_url", json!("shop.example/no")),
            ("success_url", json!("")),
            ("cancel_url", json!("ftp://shop.example/no")),
            (
                "success_url",
                json!(format!("https://shop.example/{}", "a".repeat(2070))),
            ),
        ] {
            for body in [a_body(), b_body()] {
                let mut v = body;
                v[field] = value.clone();
                let r = req(v);
                let e = create_checkout(&r, None)
                    .err()
                    .or_else(|| create_checkouts(&r, None).err())
                    .unwrap();
                assert_eq!(
                    (e.code, e.http_status),
                    (ErrorCode::InvalidRequest, 400),
                    "{field}"
                );
                assert!(e.message.starts_with(field), "{}", e.message);
            }
        }
        let mut v = a_body();
        v["success_url"] = json!(format!("https://shop.example/{}", "a".repeat(2083 - 21)));
        assert!(
            create_checkout(&req(v), None).is_ok(),
            "exactly 2083 characters is allowed"
        );
    }

    #[test]
    fn canonical_fields_zenskar_cannot_honour() {
        let mut v = a_body();
        v["quantity"] = json!(3);
        let e = create_checkout(&req(v), None).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnsupportedField);
        assert!(
            e.message.contains("quantity") && e.message.contains("zenskar"),
            "{}",
            e.message
        );
        let mut v = a_body();
        v["quantity"] = json!(1);
        assert!(create_checkout(&req(v), None).is_ok());
    }

    #[test]
    fn provider_options_errors_name_the_field() {
        let with = |opts: Value, b: bool| {
            let mut v = if b { b_body() } else { a_body() };
            v["provider_options"] = opts;
            let r = req(v);
            if b {
                create_checkouts(&r, None).unwrap_err()
            } else {
                create_checkout(&r, None).unwrap_err()
            }
        };
        let e = with(
            json!({"currency": "USD", "start_date": "2026-03-01", "trial_days": 3}),
            false,
        );
        assert_eq!(e.code, ErrorCode::UnsupportedField);
        assert!(
            e.message.contains("provider_options.trial_days"),
            "{}",
            e.message
        );
        let e = with(
            json!({"currency": "USD", "start_date": "2026-03-01", "product_overrides": []}),
            false,
        );
        assert_eq!(e.code, ErrorCode::UnsupportedField);
        assert!(
            e.message.contains("other Zenskar API family"),
            "{}",
            e.message
        );
        let e = with(
            json!({"currency": "dollars", "start_date": "2026-03-01"}),
            false,
        );
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert!(
            e.message.starts_with("provider_options.currency"),
            "{}",
            e.message
        );
        let e = with(json!({"currency": "USD"}), false);
        assert!(
            e.message.starts_with("provider_options.start_date"),
            "{}",
            e.message
        );
        let e = with(json!({"currency": "USD", "start_date": "soon"}), false);
        assert!(
            e.message.starts_with("provider_options.start_date"),
            "{}",
            e.message
        );
        let e = with(json!({"idempotency_key": "k"}), false);
        assert!(e.message.contains("Idempotency-Key"), "{}", e.message);
        let e = with(json!({"custom_data": {}}), true);
        assert!(e.message.contains("`metadata`"), "{}", e.message);
        let e = with(json!({"product_overrides": {"a": 1}}), true);
        assert!(
            e.message.starts_with("provider_options.product_overrides"),
            "{}",
            e.message
        );
        let e = with(json!({"contract_id": "not-a-uuid"}), true);
        assert!(
            e.message.starts_with("provider_options.contract_id"),
            "{}",
            e.message
        );
        let e = with(json!({"contract_id": PLAN}), true);
        assert!(e.message.contains("product_overrides"), "{}", e.message);

        let e = create_checkout(
            &req(
                json!({"provider": "zenskar", "account": "a", "customer": "acme", "plan": PLAN,
            "provider_options": {"currency": "USD", "start_date": "2026-03-01"}}),
            ),
            None,
        )
        .unwrap_err();
        assert!(
            e.message
                .starts_with("customer: a Zenskar customer id is a UUID"),
            "{}",
            e.message
        );
        let e = create_checkout(
            &req(json!({"provider": "zenskar", "account": "a", "plan": PLAN,
            "provider_options": {"currency": "USD", "start_date": "2026-03-01"}})),
            None,
        )
        .unwrap_err();
        assert!(e.message.starts_with("customer: required"), "{}", e.message);
        let e = create_checkouts(
            &req(json!({"provider": "zenskar", "account": "b", "customer": CUSTOMER})),
            None,
        )
        .unwrap_err();
        assert!(e.message.starts_with("plan: required"), "{}", e.message);
    }
}
