//! Pure conversions between Zenskar's wire types (both families) and the
//! canonical model. No I/O: snapshot-tested over every fixture.

use checkout_core::model::ObjectTag;
use checkout_core::{
    timestamp, CheckoutSession, CreateSession, Customer, Error, Metadata, MetadataValue, Money,
    PaymentStatus, PlanRef, ProviderStatus, Purpose, SessionId, Status,
};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::wire::{self, DecimalAmount};
use crate::{validate_session_id, Family, PROVIDER};

/// Longest redirect URL Zenskar accepts (`success_url`, `cancel_url`, `pending_url`).
pub const MAX_URL_LEN: usize = 2083;

// ---------------------------------------------------------------- statuses

/// Family A lifecycle axis → canonical status (PRODUCT §2). `closed` is an
/// expiry unless a cancel reason says otherwise; a cancel whose reason is
/// `expired` is an expiry. A value no rule knows stays non-terminal.
pub fn status_a(session_status: &str, cancel_reason: Option<&str>) -> Status {
    match session_status {
        "open" => Status::Open,
        "processing" => Status::Processing,
        "completed" => Status::Complete,
        "closed" => match cancel_reason {
            Some(reason) if reason != "expired" => Status::Canceled,
            _ => Status::Expired,
        },
        "cancelled" => match cancel_reason {
            Some("expired") => Status::Expired,
            _ => Status::Canceled,
        },
        _ => Status::Processing,
    }
}

/// Family A money axis → canonical payment status; an unknown value is
/// `None` (kept in `provider_status`), never a guess.
pub fn payment_status_a(payment_status: &str) -> Option<PaymentStatus> {
    match payment_status {
        "not_started" => Some(PaymentStatus::Unpaid),
        "pending" => Some(PaymentStatus::Processing),
        "paid" => Some(PaymentStatus::Paid),
        "failed" => Some(PaymentStatus::Failed),
        "no_payment_required" => Some(PaymentStatus::NoPaymentRequired),
        _ => None,
    }
}

/// Family B free-form `checkout_status` → canonical status (PRODUCT §2):
/// anything unknown is `processing`, never success or failure.
pub fn status_b(checkout_status: &str) -> Status {
    match checkout_status.to_ascii_lowercase().as_str() {
        "open" => Status::Open,
        "pending" | "payment_succeeded" => Status::Processing,
        "contract_created" => Status::Complete,
        "expired" => Status::Expired,
        _ => Status::Processing,
    }
}

/// Family B says whether money moved only with `payment_succeeded`.
pub fn payment_status_b(checkout_status: &str) -> Option<PaymentStatus> {
    checkout_status
        .eq_ignore_ascii_case("payment_succeeded")
        .then_some(PaymentStatus::Paid)
}

// ---------------------------------------------------------------- reads

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

/// `custom_data` → flat metadata: the scalar entries only (the vendor also
/// writes structures such as `update_history` into it).
fn metadata(custom_data: Option<&Value>) -> Metadata {
    let Some(Value::Object(map)) = custom_data else {
        return Metadata::new();
    };
    map.iter()
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

/// A family A session → canonical session (status as the vendor maps it;
/// derived expiry is applied at read time by [`CheckoutSession::as_of`]).
pub fn session_a(account: &str, s: &wire::CheckoutSession) -> Result<CheckoutSession, Error> {
    let id = session_id(account, &s.id)?;
    let cancel_reason = s
        .cancellation_details
        .as_ref()
        .and_then(|c| c.reason_type.as_deref());
    let status = status_a(&s.checkout_session_status, cancel_reason);
    let contract = s.contract.clone().unwrap_or_default();
    let invoice = s
        .estimates
        .as_ref()
        .and_then(|e| e.current_invoice.as_ref());
    let currency = s
        .currency
        .as_deref()
        .or(contract.currency.as_deref())
        .or_else(|| {
            invoice
                .and_then(|i| i.line_items.as_ref())
                .and_then(|items| items.iter().find_map(|l| l.currency.as_deref()))
        });
    let amount_total = amount(
        "estimates.amount_due",
        s.estimates.as_ref().and_then(|e| e.amount_due),
        currency,
    )?;
    let created_at = first_time(&[
        ("created_at", &s.created_at),
        ("last_activity_at", &s.last_activity_at),
        ("updated_at", &s.updated_at),
    ])?
    .ok_or_else(|| bad_response("`created_at` is missing"))?;
    let confirmed_at = opt_time("confirmed_at", &s.confirmed_at)?;
    let completed_at = match opt_time("completed_at", &s.completed_at)? {
        Some(t) => Some(t),
        None if status == Status::Complete => confirmed_at,
        None => None,
    };
    Ok(CheckoutSession {
        object: ObjectTag,
        id: id.to_string(),
        provider: PROVIDER.to_owned(),
        account: account.to_owned(),
        provider_session_id: s.id.clone(),
        status,
        payment_status: s.payment_status.as_deref().and_then(payment_status_a),
        // Every family A checkout starts a new contract.
        purpose: Purpose::Subscription,
        // Zenskar returns no hosted page (the only redirect is confirm's 302).
        url: None,
        success_url: s.success_url.clone(),
        cancel_url: s.cancel_url.clone(),
        customer: customer(
            &s.customer_id,
            s.customer_data.as_ref(),
            invoice.and_then(|i| i.customer.as_ref()),
        ),
        plan: contract.plan_id.map(|id| PlanRef {
            id,
            kind: "plan".to_owned(),
        }),
        // Quantities live on the contract's pricings, not on the session.
        quantity: None,
        subscription_id: s.contract_id.clone(),
        // The estimate's invoice is a preview, not an invoice.
        invoice_id: None,
        amount_total,
        livemode: None,
        metadata: metadata(s.custom_data.as_ref()),
        created_at,
        updated_at: first_time(&[
            ("updated_at", &s.updated_at),
            ("last_activity_at", &s.last_activity_at),
        ])?,
        expires_at: opt_time("expires_at", &s.expires_at)?,
        completed_at,
        provider_status: ProviderStatus {
            status: Some(s.checkout_session_status.clone()),
            payment_status: s.payment_status.clone(),
        },
    })
}

/// A family B checkout → canonical session.
pub fn session_b(account: &str, c: &wire::Checkout) -> Result<CheckoutSession, Error> {
    let id = session_id(account, &c.id)?;
    let invoice = c
        .estimates
        .as_ref()
        .and_then(|e| e.current_invoice.as_ref());
    let amount_total = amount(
        "estimates.current_invoice.total",
        invoice.and_then(|i| i.total),
        invoice.and_then(|i| i.currency.as_deref()),
    )?;
    let created_at = first_time(&[("created_at", &c.created_at), ("updated_at", &c.updated_at)])?
        .ok_or_else(|| bad_response("`created_at` is missing"))?;
    // An amendment changes the products of an existing contract and names
    // no plan; a confirmed new contract also has a `contract_id`.
    let overrides = c
        .product_overrides
        .as_ref()
        .and_then(Value::as_array)
        .is_some_and(|o| !o.is_empty());
    let purpose = if c.plan_id.is_none() && c.contract_id.is_some() && overrides {
        Purpose::PlanChange
    } else {
        Purpose::Subscription
    };
    Ok(CheckoutSession {
        object: ObjectTag,
        id: id.to_string(),
        provider: PROVIDER.to_owned(),
        account: account.to_owned(),
        provider_session_id: c.id.clone(),
        status: status_b(&c.checkout_status),
        payment_status: payment_status_b(&c.checkout_status),
        purpose,
        url: None,
        success_url: c.success_url.clone(),
        cancel_url: c.cancel_url.clone(),
        customer: customer(
            &c.customer_id,
            c.customer_data.as_ref(),
            invoice.and_then(|i| i.customer.as_ref()),
        ),
        plan: c.plan_id.clone().map(|id| PlanRef {
            id,
            kind: "plan".to_owned(),
        }),
        quantity: None,
        subscription_id: c.contract_id.clone(),
        invoice_id: None,
        amount_total,
        livemode: None,
        // Family B has no metadata field.
        metadata: Metadata::new(),
        created_at,
        updated_at: opt_time("updated_at", &c.updated_at)?,
        expires_at: opt_time("expires_at", &c.expires_at)?,
        // No completion timestamp is documented for family B.
        completed_at: None,
        provider_status: ProviderStatus {
            status: Some(c.checkout_status.clone()),
            payment_status: None,
        },
    })
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
    let probe: wire::Probe = parse(body)?;
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

// ---------------------------------------------------------------- create

fn invalid(message: String) -> Error {
    Error::invalid_request(message).with_provider(PROVIDER)
}

/// Fully qualified http(s), 1 to 2083 characters, as Zenskar requires.
pub fn check_url(field: &str, value: &str) -> Result<(), Error> {
    let len = value.chars().count();
    let qualified = reqwest::Url::parse(value).is_ok_and(|u| {
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
    fn family_a_status_axes() {
        assert_eq!(status_a("open", None), Status::Open);
        assert_eq!(status_a("processing", None), Status::Processing);
        assert_eq!(status_a("completed", None), Status::Complete);
        assert_eq!(status_a("closed", None), Status::Expired);
        assert_eq!(status_a("closed", Some("expired")), Status::Expired);
        assert_eq!(status_a("closed", Some("duplicate")), Status::Canceled);
        assert_eq!(status_a("cancelled", None), Status::Canceled);
        for reason in [
            "customer_requested",
            "payment_failed",
            "duplicate",
            "fraudulent",
            "other",
        ] {
            assert_eq!(
                status_a("cancelled", Some(reason)),
                Status::Canceled,
                "{reason}"
            );
        }
        assert_eq!(status_a("cancelled", Some("expired")), Status::Expired);
        let unknown = status_a("on_hold", None);
        assert!(!unknown.is_terminal() && !unknown.is_success());

        // completed + not_started: complete, and not paid.
        assert_eq!(payment_status_a("not_started"), Some(PaymentStatus::Unpaid));
        assert_eq!(payment_status_a("pending"), Some(PaymentStatus::Processing));
        assert_eq!(payment_status_a("paid"), Some(PaymentStatus::Paid));
        assert_eq!(payment_status_a("failed"), Some(PaymentStatus::Failed));
        assert_eq!(
            payment_status_a("no_payment_required"),
            Some(PaymentStatus::NoPaymentRequired)
        );
        assert_eq!(payment_status_a("refunded"), None);
    }

    #[test]
    fn family_b_free_form_status() {
        assert_eq!(status_b("open"), Status::Open);
        assert_eq!(status_b("pending"), Status::Processing);
        assert_eq!(status_b("payment_succeeded"), Status::Processing);
        assert_eq!(
            payment_status_b("payment_succeeded"),
            Some(PaymentStatus::Paid)
        );
        assert_eq!(status_b("contract_created"), Status::Complete);
        assert_eq!(status_b("expired"), Status::Expired);
        assert_eq!(payment_status_b("open"), None);
        for unknown in ["awaiting_approval", "cancelled", "failed", ""] {
            let s = status_b(unknown);
            assert!(!s.is_terminal() && !s.is_success(), "{unknown:?}");
        }
    }

    fn a_session(extra: Value) -> Vec<u8> {
        let mut v = json!({"id": SESSION, "checkout_session_status": "open",
                           "payment_status": "not_started", "created_at": "2026-03-02T10:15:30.5"});
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn money_is_exact_in_the_currency_exponent() {
        for (amount, currency, minor) in [
            ("29.99", "USD", 2999),
            ("1500", "JPY", 1500),
            ("1.234", "KWD", 1234),
            ("50.0", "EUR", 5000),
            ("0", "USD", 0),
        ] {
            let body = format!(
                r#"{{"id":"{SESSION}","checkout_session_status":"open","created_at":"2026-03-02T10:15:30","currency":"{currency}","estimates":{{"amount_due":{amount}}}}}"#
            );
            let s = session_body("a", Family::Checkout, body.as_bytes()).unwrap();
            assert_eq!(
                s.amount_total,
                Some(Money {
                    amount_minor: minor,
                    currency: currency.to_owned()
                }),
                "{amount} {currency}"
            );
        }
        // Finer than the currency allows: refused, never rounded.
        let body = a_session(json!({"currency": "JPY", "estimates": {"amount_due": 1500.5}}));
        let e = session_body("a", Family::Checkout, &body).unwrap_err();
        assert_eq!(e.code, ErrorCode::ProviderBadResponse);
        assert!(e.message.contains("estimates.amount_due"), "{}", e.message);
        // No currency anywhere: no amount.
        let body = a_session(json!({"estimates": {"amount_due": 29.99}}));
        assert_eq!(
            session_body("a", Family::Checkout, &body)
                .unwrap()
                .amount_total,
            None
        );
        // The contract's currency is used when the session has none.
        let body =
            a_session(json!({"contract": {"currency": "KWD"}, "estimates": {"amount_due": 1.234}}));
        let s = session_body("a", Family::Checkout, &body).unwrap();
        assert_eq!(s.amount_total.map(|m| m.amount_minor), Some(1234));
    }

    #[test]
    fn naive_timestamps_are_utc() {
        let s = session_body(
            "a",
            Family::Checkout,
            &a_session(json!({
            "expires_at": "2026-03-03T10:15:30", "last_activity_at": "2026-03-02T11:00:00"})),
        )
        .unwrap();
        assert_eq!(timestamp::format(&s.created_at), "2026-03-02T10:15:30.500Z");
        assert_eq!(
            s.expires_at.map(|t| timestamp::format(&t)).as_deref(),
            Some("2026-03-03T10:15:30Z")
        );
        assert_eq!(
            s.updated_at.map(|t| timestamp::format(&t)).as_deref(),
            Some("2026-03-02T11:00:00Z")
        );
        assert_eq!(s.url, None);
    }

    #[test]
    fn created_at_falls_back_then_fails() {
        let body = json!({"id": SESSION, "checkout_session_status": "open", "last_activity_at": "2026-03-02T11:00:00"});
        let s = session_body("a", Family::Checkout, &serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(timestamp::format(&s.created_at), "2026-03-02T11:00:00Z");
        let body = json!({"id": SESSION, "checkout_session_status": "open"});
        let e =
            session_body("a", Family::Checkout, &serde_json::to_vec(&body).unwrap()).unwrap_err();
        assert!(e.message.contains("created_at"), "{}", e.message);
    }

    #[test]
    fn custom_data_scalars_become_metadata() {
        let s = session_body("a", Family::Checkout, &a_session(json!({
            "custom_data": {"order": "1234", "n": 2, "vip": true, "update_history": [{"a": 1}], "nil": null}})))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&s.metadata).unwrap(),
            json!({"order": "1234", "n": 2, "vip": true})
        );
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
