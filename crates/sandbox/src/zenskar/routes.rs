//! The checkout operations of both families. Auth has already run (see
//! `auth.rs`); bodies and paths are validated here the way FastAPI does,
//! all problems answered together as one 422.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::error::ApiError;
use super::store::{
    ContractInput, ListFilter, NewCheckout, NewSessionA, Order, Override, Refusal, SessionA,
    SessionB, CONFIRMATIONS, REASON_TYPES,
};
use super::validate::{self as v, Fields, Issues, Loc};
use super::Zenskar;
use crate::kit::clock::now_micros;

/// Where a `redirect: true` confirmation sends the customer (invented host).
const PAYMENT_PAGE: &str = "https://pay.sandbox.zenskar.invalid/checkout";
const STATUSES: &[&str] = &["open", "processing", "completed", "closed", "cancelled"];
const PAYMENT_STATUSES: &[&str] = &[
    "not_started",
    "pending",
    "paid",
    "failed",
    "no_payment_required",
];
const PAYMENT_METHODS: &[&str] = &["card", "bank_transfer", "wallet", "invoice"];
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

fn body_loc() -> Vec<Loc> {
    vec![Loc::from("body")]
}

/// A `pydantic` root-validator problem.
fn root_issue(issues: &mut Issues, msg: &str) {
    issues.push(&v::at(&body_loc(), "__root__"), msg, "value_error", None);
}

/// The JSON body; an empty one is `{}` unless the body is required.
fn json_body(bytes: &Bytes, required: bool) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return if required {
            Err(ApiError::invalid_at(
                &["body"],
                "field required",
                "value_error.missing",
            ))
        } else {
            Ok(Value::Object(Map::new()))
        };
    }
    serde_json::from_slice(bytes).map_err(|e| {
        // Python's json module names the character offset of the problem.
        let text = String::from_utf8_lossy(bytes);
        let pos: usize = text
            .split_inclusive('\n')
            .take(e.line().saturating_sub(1))
            .map(|l| l.chars().count())
            .sum::<usize>()
            + e.column().saturating_sub(1);
        let mut issues = Issues::default();
        issues.push(
            &[Loc::from("body"), Loc::Index(pos)],
            format!(
                "Expecting value: line {} column {} (char {pos})",
                e.line(),
                e.column()
            ),
            "value_error.jsondecode",
            Some(json!({"msg": "Expecting value", "pos": pos, "lineno": e.line(), "colno": e.column()})),
        );
        ApiError::invalid(issues)
    })
}

/// A path parameter typed `UUID`.
fn path_uuid(raw: &str, name: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::invalid_at(
            &["path", name],
            "value is not a valid uuid",
            "type_error.uuid",
        )
    })
}

fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response {
    (status, Json(body)).into_response()
}

/// A body's fields and the problems found so far, or a 422 when the body
/// is not an object.
fn body_fields(body: &Value) -> Result<(Fields<'_>, Issues), ApiError> {
    let mut issues = Issues::default();
    match Fields::of(body, &body_loc(), &mut issues) {
        Some(f) => Ok((f, issues)),
        None => Err(ApiError::invalid(issues)),
    }
}

/// A 422 with every problem collected so far, if there is any.
fn settled(issues: &mut Issues) -> Result<(), ApiError> {
    if issues.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(std::mem::take(issues)))
    }
}

/// The root rule both families share: a guest checkout needs
/// `customer_data` and `business_entity_id`, any other a `customer_id`.
/// Whether this is a guest checkout (`false` when not given).
fn guest_checkout(
    issues: &mut Issues,
    guest: Option<bool>,
    has_customer: bool,
    has_guest_details: bool,
) -> bool {
    let guest = guest.unwrap_or(false);
    if guest {
        if !has_guest_details {
            root_issue(
                issues,
                "customer_data and business_entity_id are required when guest_checkout is true",
            );
        }
    } else if !has_customer {
        root_issue(
            issues,
            "customer_id is required when guest_checkout is false",
        );
    }
    guest
}

/// What the session routes of the two families differ in: the name of the
/// id path parameter and the 404 message.
struct Sessions {
    param: &'static str,
    not_found: &'static str,
}

/// Family A: `/checkout/{checkout_session_id}`.
const SESSIONS_A: Sessions = Sessions {
    param: "checkout_session_id",
    not_found: "Checkout session not found",
};
/// Family B: `/checkouts/{checkout_id}`.
const SESSIONS_B: Sessions = Sessions {
    param: "checkout_id",
    not_found: "Checkout not found",
};

impl Sessions {
    fn id(&self, raw: &str) -> Result<Uuid, ApiError> {
        path_uuid(raw, self.param)
    }

    /// The path's session id and the JSON body of an operation on it.
    fn operation(
        &self,
        raw: &str,
        body: &Bytes,
        required: bool,
    ) -> Result<(Uuid, Value), ApiError> {
        Ok((self.id(raw)?, json_body(body, required)?))
    }

    /// The store's refusal: a 404 or a 400 naming the rule.
    fn refused(&self, r: Refusal) -> ApiError {
        match r {
            Refusal::NotFound => ApiError::NotFound(self.not_found),
            Refusal::Rule(m) => ApiError::BadRequest(m),
        }
    }

    /// `GET …/{id}`: the session rendered, or a 404.
    fn get<S, M: serde::Serialize>(
        &self,
        raw: &str,
        find: impl FnOnce(Uuid) -> Option<S>,
        render: impl FnOnce(&S) -> M,
    ) -> Result<Response, ApiError> {
        let session = find(self.id(raw)?).ok_or(ApiError::NotFound(self.not_found))?;
        Ok(json_response(StatusCode::OK, &render(&session)))
    }
}

// ------------------------------------------------------------ family A

fn contract(value: &Value, loc: &[Loc], issues: &mut Issues) -> Option<ContractInput> {
    let f = Fields::of(value, loc, issues)?;
    let plan_based = f.req_with("is_plan_based", issues, v::boolean);
    let currency = f.req_with("currency", issues, v::currency);
    let start = f.req_with("start_date", issues, v::datetime);
    match plan_based {
        Some(true) => {
            let plan_id = f.req_with("plan_id", issues, v::uuid);
            Some(ContractInput::Plan {
                plan_id: plan_id?,
                currency: currency?,
                start: start?,
            })
        }
        Some(false) => {
            let phases = f.req_with("phases", issues, |val, loc, issues| {
                let list = v::list(val, loc, issues)?;
                if list.is_empty() {
                    issues.push(
                        loc,
                        "ensure this value has at least 1 items",
                        "value_error.list.min_items",
                        Some(json!({"limit_value": 1})),
                    );
                    return None;
                }
                Some(())
            });
            phases?;
            Some(ContractInput::Product {
                currency: currency?,
                start: start?,
                given: value.as_object().cloned().unwrap_or_default(),
            })
        }
        None => None,
    }
}

fn create_a_request(body: &Value) -> Result<NewSessionA, ApiError> {
    let (f, mut issues) = body_fields(body)?;
    let contract = f.req_with("contract", &mut issues, contract);
    let customer_id = f.opt_with("customer_id", &mut issues, v::uuid);
    let guest = f.opt_with("guest_checkout", &mut issues, v::boolean);
    let customer_data = f.opt_with("customer_data", &mut issues, v::dict);
    let business_entity_id = f.opt_with("business_entity_id", &mut issues, v::uuid);
    let expires_at = f.opt_with("expires_at", &mut issues, v::datetime);
    let idempotency_key = f.opt_with("idempotency_key", &mut issues, v::bounded(255));
    let correlation_id = f.opt_with("correlation_id", &mut issues, v::bounded(255));
    let currency = f.opt_with("currency", &mut issues, v::currency);
    let success_url = f.opt_with("success_url", &mut issues, v::http_url);
    let cancel_url = f.opt_with("cancel_url", &mut issues, v::http_url);
    let pending_url = f.opt_with("pending_url", &mut issues, v::http_url);
    let attribution = f.opt_with("attribution", &mut issues, v::dict);
    let custom_data = f.opt_with("custom_data", &mut issues, v::dict);
    let (Some(contract), true) = (contract, issues.is_empty()) else {
        return Err(ApiError::invalid(issues));
    };
    let guest = guest_checkout(
        &mut issues,
        guest,
        customer_id.is_some(),
        customer_data.is_some() && business_entity_id.is_some(),
    );
    if currency
        .as_deref()
        .is_some_and(|c| c != contract.currency())
    {
        root_issue(&mut issues, "currency must match the contract currency");
    }
    settled(&mut issues)?;
    Ok(NewSessionA {
        contract,
        customer_id,
        guest_checkout: guest,
        customer_data,
        business_entity_id,
        expires_at,
        idempotency_key,
        correlation_id,
        success_url,
        cancel_url,
        pending_url,
        attribution,
        custom_data,
    })
}

/// `POST /checkout`: 201, or 200 with the first session for a repeated
/// `idempotency_key`.
pub async fn create_a(State(z): State<Arc<Zenskar>>, body: Bytes) -> Result<Response, ApiError> {
    let request = create_a_request(&json_body(&body, true)?)?;
    let (session, created) = z
        .store
        .create_a(request, now_micros())
        .map_err(|r| SESSIONS_A.refused(r))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_response(status, &session.render()))
}

pub async fn get_a(
    State(z): State<Arc<Zenskar>>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    SESSIONS_A.get(&raw, |id| z.store.get(id), SessionA::render)
}

pub async fn cancel_a(
    State(z): State<Arc<Zenskar>>,
    Path(raw): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (id, body) = SESSIONS_A.operation(&raw, &body, false)?;
    let (f, mut issues) = body_fields(&body)?;
    let reason_type = f.opt_with("reason_type", &mut issues, v::one_of(REASON_TYPES));
    let reason = f.opt_with("reason", &mut issues, v::bounded(500));
    let reference_id = f.opt_with("reference_id", &mut issues, v::string);
    if reason_type == Some("other") && reason.is_none() {
        issues.push(
            &f.loc("reason"),
            "reason is required when reason_type is 'other'",
            "value_error",
            None,
        );
    }
    settled(&mut issues)?;
    let session = z
        .store
        .cancel_a(id, reason_type, reason, reference_id, now_micros())
        .map_err(|r| SESSIONS_A.refused(r))?;
    let answer = session.cancel_response().ok_or(ApiError::Internal)?;
    Ok(json_response(StatusCode::OK, &answer))
}

pub async fn confirm_a(
    State(z): State<Arc<Zenskar>>,
    Path(raw): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (id, body) = SESSIONS_A.operation(&raw, &body, true)?;
    let (f, mut issues) = body_fields(&body)?;
    let confirmation = f.req_with("confirmation", &mut issues, v::one_of(CONFIRMATIONS));
    let redirect = f.opt_with("redirect", &mut issues, v::boolean);
    f.opt_with(
        "preferred_payment_method",
        &mut issues,
        v::one_of(PAYMENT_METHODS),
    );
    f.opt_with("payment_description", &mut issues, v::bounded(255));
    f.opt_with("customer_notes", &mut issues, v::bounded(1000));
    let (Some(confirmation), true) = (confirmation, issues.is_empty()) else {
        return Err(ApiError::invalid(issues));
    };
    let session = z
        .store
        .confirm_a(id, confirmation, now_micros())
        .map_err(|r| SESSIONS_A.refused(r))?;
    if redirect == Some(true) && confirmation == "charge_immediately" {
        let location = format!("{PAYMENT_PAGE}/{}", session.id);
        return Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response());
    }
    Ok(json_response(StatusCode::OK, &session.render()))
}

fn list_query(query: Option<&str>) -> Result<(ListFilter, Order, usize, usize), ApiError> {
    let pairs: Vec<(String, String)> = serde_html_form::from_str(query.unwrap_or_default())
        .map_err(|_| ApiError::BadRequest("Invalid query string".to_owned()))?;
    let mut issues = Issues::default();
    let mut filter = ListFilter::default();
    let mut order = Order::CreatedAt { descending: true };
    let (mut offset, mut limit) = (0, DEFAULT_LIMIT);
    for (key, value) in &pairs {
        let loc = [Loc::from("query"), Loc::from(key.as_str())];
        let text = Value::String(value.clone());
        match key.as_str() {
            "limit" => match value.parse::<i64>() {
                Ok(n) if n < 1 => issues.push(
                    &loc,
                    "ensure this value is greater than or equal to 1",
                    "value_error.number.not_ge",
                    Some(json!({"limit_value": 1})),
                ),
                Ok(n) if n > MAX_LIMIT as i64 => issues.push(
                    &loc,
                    format!("ensure this value is less than or equal to {MAX_LIMIT}"),
                    "value_error.number.not_le",
                    Some(json!({"limit_value": MAX_LIMIT})),
                ),
                Ok(n) => limit = usize::try_from(n).unwrap_or(DEFAULT_LIMIT),
                Err(_) => issues.push(
                    &loc,
                    "value is not a valid integer",
                    "type_error.integer",
                    None,
                ),
            },
            "cursor" => {
                offset = STANDARD
                    .decode(value)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                    .and_then(|c| c.get("offset").and_then(Value::as_u64))
                    .and_then(|o| usize::try_from(o).ok())
                    .ok_or_else(|| ApiError::BadRequest("Invalid cursor".to_owned()))?;
            }
            "order" => {
                order = match value.as_str() {
                    "created_at" => Order::CreatedAt { descending: false },
                    "-created_at" => Order::CreatedAt { descending: true },
                    "last_activity_at" => Order::LastActivityAt { descending: false },
                    "-last_activity_at" => Order::LastActivityAt { descending: true },
                    _ => {
                        return Err(ApiError::BadRequest(format!(
                            "Invalid order field: {value}"
                        )))
                    }
                }
            }
            "id" => filter.ids = v::uuid(&text, &loc, &mut issues).map(|u| vec![u]),
            "id__in" => {
                let ids: Option<Vec<Uuid>> = value
                    .split(',')
                    .map(|s| Uuid::parse_str(s.trim()).ok())
                    .collect();
                if ids.is_none() {
                    issues.push(&loc, "value is not a valid uuid", "type_error.uuid", None);
                }
                filter.ids = ids;
            }
            "checkout_session_status" => {
                filter.status = v::one_of(STATUSES)(&text, &loc, &mut issues)
            }
            "payment_status" => {
                filter.payment_status = v::one_of(PAYMENT_STATUSES)(&text, &loc, &mut issues)
            }
            "customer_id" => filter.customer_id = v::uuid(&text, &loc, &mut issues),
            "contract_id" => filter.contract_id = v::uuid(&text, &loc, &mut issues),
            "guest_checkout" => {
                filter.guest_checkout = match value.as_str() {
                    "true" | "1" => Some(true),
                    "false" | "0" => Some(false),
                    _ => {
                        issues.push(
                            &loc,
                            "value could not be parsed to a boolean",
                            "type_error.bool",
                            None,
                        );
                        None
                    }
                }
            }
            "currency" => filter.currency = Some(value.clone()),
            // FastAPI ignores query parameters it does not declare.
            _ => {}
        }
    }
    settled(&mut issues)?;
    Ok((filter, order, offset, limit))
}

/// `GET /checkout`: summaries, `next` while more remain, `total`.
pub async fn list_a(
    State(z): State<Arc<Zenskar>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (filter, order, offset, limit) = list_query(query.as_deref())?;
    let (page, total) = z.store.list_a(&filter, order, offset, limit);
    let end = offset + page.len();
    let next = (end < total).then(|| STANDARD.encode(json!({ "offset": end }).to_string()));
    Ok(json_response(
        StatusCode::OK,
        &super::model::CheckoutSessionList {
            data: page.iter().map(|s| s.summary()).collect(),
            next,
            total,
        },
    ))
}

// ------------------------------------------------------------ family B

fn product_override(value: &Value, loc: &[Loc], issues: &mut Issues) -> Option<Override> {
    let f = Fields::of(value, loc, issues)?;
    let product_id = f.req_with("product_id", issues, v::uuid);
    let quantity = f.opt_with("quantity", issues, v::non_negative_int);
    let is_enabled = f.opt_with("is_enabled", issues, v::boolean);
    Some(Override {
        product_id: product_id?,
        quantity,
        is_enabled,
    })
}

fn create_b_request(body: &Value) -> Result<NewCheckout, ApiError> {
    let (f, mut issues) = body_fields(body)?;
    let plan_id = f.opt_with("plan_id", &mut issues, v::uuid);
    let contract_id = f.opt_with("contract_id", &mut issues, v::uuid);
    let start_date = f.opt_with("start_date", &mut issues, v::date_or_datetime);
    let end_date = f.opt_with("end_date", &mut issues, v::date_or_datetime);
    let customer_id = f.opt_with("customer_id", &mut issues, v::uuid);
    let business_entity_id = f.opt_with("business_entity_id", &mut issues, v::uuid);
    let guest = f.opt_with("guest_checkout", &mut issues, v::boolean);
    let customer_data = f.opt_with("customer_data", &mut issues, v::dict);
    let expires_at = f.opt_with("expires_at", &mut issues, v::datetime);
    let success_url = f.opt_with("success_url", &mut issues, v::http_url);
    let cancel_url = f.opt_with("cancel_url", &mut issues, v::http_url);
    let product_overrides = f.opt_with("product_overrides", &mut issues, |val, loc, issues| {
        let items = v::list(val, loc, issues)?;
        let parsed: Vec<Option<Override>> = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let mut at = loc.to_vec();
                at.push(Loc::Index(i));
                product_override(item, &at, issues)
            })
            .collect();
        parsed.into_iter().collect::<Option<Vec<_>>>()
    });
    settled(&mut issues)?;
    if plan_id.is_none() && contract_id.is_none() {
        root_issue(
            &mut issues,
            "plan_id is required when contract_id is not provided",
        );
    }
    if contract_id.is_some() && product_overrides.is_none() {
        root_issue(
            &mut issues,
            "product_overrides are required when contract_id is provided",
        );
    }
    let guest = guest_checkout(
        &mut issues,
        guest,
        customer_id.is_some(),
        customer_data.is_some() && business_entity_id.is_some(),
    );
    settled(&mut issues)?;
    Ok(NewCheckout {
        plan_id,
        contract_id,
        start_date,
        end_date,
        customer_id,
        business_entity_id,
        guest_checkout: guest,
        customer_data,
        expires_at,
        success_url,
        cancel_url,
        product_overrides,
    })
}

/// `POST /checkouts`: 201. No idempotency in this family.
pub async fn create_b(State(z): State<Arc<Zenskar>>, body: Bytes) -> Result<Response, ApiError> {
    let request = create_b_request(&json_body(&body, true)?)?;
    let session = z
        .store
        .create_b(request, now_micros())
        .map_err(|r| SESSIONS_B.refused(r))?;
    Ok(json_response(StatusCode::CREATED, &session.render()))
}

pub async fn get_b(
    State(z): State<Arc<Zenskar>>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    SESSIONS_B.get(&raw, |id| z.store.get(id), SessionB::render)
}

pub async fn confirm_b(
    State(z): State<Arc<Zenskar>>,
    Path(raw): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (id, body) = SESSIONS_B.operation(&raw, &body, false)?;
    let (f, mut issues) = body_fields(&body)?;
    f.opt_with("payment_method_id", &mut issues, v::uuid);
    settled(&mut issues)?;
    let session = z
        .store
        .confirm_b(id, now_micros())
        .map_err(|r| SESSIONS_B.refused(r))?;
    Ok(json_response(StatusCode::OK, &session.confirmed()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues_of(e: ApiError) -> Vec<Value> {
        match e {
            ApiError::Invalid(issues) => issues
                .iter()
                .map(|i| serde_json::to_value(i).unwrap_or_default())
                .collect(),
            other => panic!("not a 422: {other:?}"),
        }
    }

    #[test]
    fn family_a_create_validation() {
        let e = create_a_request(&json!({"contract": {"is_plan_based": true, "currency": "usd"}}))
            .expect_err("invalid");
        let issues = issues_of(e);
        let locs: Vec<&Value> = issues.iter().map(|i| &i["loc"]).collect();
        assert_eq!(
            locs,
            [
                &json!(["body", "contract", "currency"]),
                &json!(["body", "contract", "start_date"]),
                &json!(["body", "contract", "plan_id"]),
            ]
        );
        let e = create_a_request(
            &json!({"contract": {"is_plan_based": true, "currency": "USD",
            "start_date": "2026-03-01T00:00:00", "plan_id": Uuid::new_v4().to_string()}}),
        )
        .expect_err("no customer");
        assert_eq!(issues_of(e)[0]["loc"], json!(["body", "__root__"]));
    }

    #[test]
    fn list_queries() {
        let (f, order, offset, limit) = list_query(Some(
            "limit=5&cursor=eyJvZmZzZXQiOjV9&order=created_at&payment_status=paid",
        ))
        .expect("valid");
        assert_eq!((offset, limit), (5, 5));
        assert_eq!(order, Order::CreatedAt { descending: false });
        assert_eq!(f.payment_status, Some("paid"));
        assert!(matches!(
            list_query(Some("limit=0")),
            Err(ApiError::Invalid(_))
        ));
        assert!(matches!(
            list_query(Some("cursor=%%%")),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            list_query(Some("checkout_session_status=done")),
            Err(ApiError::Invalid(_))
        ));
    }

    #[test]
    fn family_b_create_validation() {
        let e = create_b_request(&json!({"customer_id": Uuid::new_v4().to_string()}))
            .expect_err("no plan");
        assert_eq!(
            issues_of(e)[0]["msg"],
            "plan_id is required when contract_id is not provided"
        );
        let e = create_b_request(
            &json!({"plan_id": Uuid::new_v4().to_string(), "customer_id": Uuid::new_v4().to_string(),
            "product_overrides": [{"quantity": -1}]}),
        )
        .expect_err("bad override");
        let issues = issues_of(e);
        assert_eq!(
            issues[0]["loc"],
            json!(["body", "product_overrides", 0, "product_id"])
        );
        assert_eq!(
            issues[1]["loc"],
            json!(["body", "product_overrides", 0, "quantity"])
        );
    }
}
