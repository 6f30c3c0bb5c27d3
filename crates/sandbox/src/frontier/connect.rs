//! The ConnectRPC API: unary JSON calls, checked and answered the way
//! connect-go and Frontier's interceptors do it — method and content type
//! first, then the body, then authentication, request validation,
//! authorization and the handler. Errors are `{"code", "message",
//! "details"?}` with connect-go's HTTP status for the code, and Frontier's
//! sanitiser hides every `internal` message.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use uuid::Uuid;

use super::auth::Principal;
use super::model::{
    CreateCheckoutRequest, GetCheckoutRequest, ListCheckoutsRequest, Session, SessionResponse,
    SessionsResponse, Style,
};
use super::store::{Created, StoreError};
use super::Frontier;

/// A Connect error as the wire carries it.
#[derive(Debug, Clone)]
pub struct ConnectError {
    code: &'static str,
    message: String,
    details: Vec<Value>,
}

impl ConnectError {
    fn new(code: &'static str, message: impl Into<String>) -> ConnectError {
        ConnectError {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    fn status(&self) -> StatusCode {
        let status = match self.code {
            "canceled" => 499,
            "invalid_argument" | "failed_precondition" | "out_of_range" => 400,
            "unauthenticated" => 401,
            "permission_denied" => 403,
            "not_found" => 404,
            "already_exists" | "aborted" => 409,
            "resource_exhausted" => 429,
            "unimplemented" => 501,
            "unavailable" => 503,
            "deadline_exceeded" => 504,
            _ => 500,
        };
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for ConnectError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = json!({"code": self.code, "message": self.message});
        if !self.details.is_empty() {
            body["details"] = Value::Array(self.details);
        }
        (status, Json(body)).into_response()
    }
}

fn unauthenticated() -> ConnectError {
    ConnectError::new("unauthenticated", "not authenticated")
}

fn permission_denied() -> ConnectError {
    ConnectError::new("permission_denied", "not authorized")
}

/// `mapBillingError` and friends, after the sanitiser.
fn from_store(e: StoreError) -> ConnectError {
    match e {
        StoreError::CustomerNotFound => ConnectError::new("not_found", "customer doesn't exist"),
        StoreError::NothingToBuy => ConnectError::new("invalid_argument", "invalid syntax in body"),
        StoreError::PlanInactive => ConnectError::new(
            "failed_precondition",
            "plan is inactive and cannot be subscribed to",
        ),
        StoreError::AlreadySubscribed => {
            ConnectError::new("already_exists", "already subscribed to the plan")
        }
        StoreError::ProductNotFound => ConnectError::new("not_found", "product not found"),
        StoreError::ProviderUnavailable => ConnectError::new(
            "unavailable",
            "billing provider is unavailable, retry later",
        ),
        StoreError::InvalidUuid => ConnectError::new("invalid_argument", "invalid syntax of uuid"),
        StoreError::NotFound => ConnectError::new("not_found", "not found"),
        StoreError::PlanNotFound => ConnectError::new("internal", "internal server error"),
    }
}

/// Go's `http.ServeMux` answer for a procedure nobody registered.
pub fn unknown_procedure() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "404 page not found\n",
    )
        .into_response()
}

/// connect-go accepts `application/json`, parameters (charset) aside.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// Frontier's JSON codec: protojson with `DiscardUnknown`; any failure is
/// reported as `error not proto`.
fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ConnectError> {
    if body.is_empty() {
        return Err(ConnectError::new(
            "invalid_argument",
            "unmarshal message: zero-length payload is not a valid JSON object",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|_| ConnectError::new("invalid_argument", "unmarshal message: error not proto"))
}

/// A minimal protobuf `buf.validate.Violations` for one violation.
fn violations_detail(rule: &str, message: &str) -> Value {
    fn field(tag: u8, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let mut len = bytes.len();
        while len >= 0x80 {
            out.push((len as u8) | 0x80);
            len >>= 7;
        }
        out.push(len as u8);
        out.extend_from_slice(bytes);
        out
    }
    let mut violation = field(0x12, rule.as_bytes());
    violation.extend(field(0x1a, message.as_bytes()));
    let encoded = field(0x0a, &violation);
    json!({"type": "buf.validate.Violations", "value": STANDARD_NO_PAD.encode(encoded)})
}

/// protovalidate's `string.min_len: 3` on `org_id`.
fn validate_org_id(org_id: &str) -> Result<(), ConnectError> {
    if org_id.chars().count() >= 3 {
        return Ok(());
    }
    let rule = "value length must be at least 3 characters";
    let mut err = ConnectError::new(
        "invalid_argument",
        format!("validation error:\n - org_id: {rule} [string.min_len]"),
    );
    err.details.push(violations_detail("string.min_len", rule));
    Err(err)
}

/// `IsAuthorized(org, delete)`: an unknown org is `not_found`.
fn authorize_org(f: &Frontier, who: &Principal, org_id: &str) -> Result<Uuid, ConnectError> {
    let org = Uuid::parse_str(org_id)
        .ok()
        .filter(|org| f.store.org(*org).is_some())
        .ok_or_else(|| ConnectError::new("not_found", "not found"))?;
    if who.administers(org) {
        Ok(org)
    } else {
        Err(permission_denied())
    }
}

pub async fn call(
    State(f): State<Arc<Frontier>>,
    Path(rpc): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !matches!(
        rpc.as_str(),
        "CreateCheckout" | "GetCheckout" | "ListCheckouts"
    ) {
        return unknown_procedure();
    }
    if method != Method::POST {
        let mut r = StatusCode::METHOD_NOT_ALLOWED.into_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    if !is_json(&headers) {
        let mut r = StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
        r.headers_mut().insert(
            "accept-post",
            HeaderValue::from_static("application/json, application/proto"),
        );
        return r;
    }
    let result = match rpc.as_str() {
        "CreateCheckout" => create(&f, &headers, &body),
        "GetCheckout" => get(&f, &headers, &body),
        _ => list(&f, &headers, &body),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

fn create(f: &Frontier, headers: &HeaderMap, body: &[u8]) -> Result<Response, ConnectError> {
    let request: CreateCheckoutRequest = decode(body)?;
    let who = f
        .credentials
        .principal(headers)
        .ok_or_else(unauthenticated)?;
    validate_org_id(&request.org_id)?;
    let org = authorize_org(f, &who, &request.org_id)?;
    let created = f
        .store
        .create(org, request.into_create())
        .map_err(from_store)?;
    let (Created::Stored(checkout) | Created::Portal(checkout)) = &created;
    Ok(Json(SessionResponse {
        checkout_session: Session {
            checkout,
            style: Style::Connect,
        },
    })
    .into_response())
}

fn get(f: &Frontier, headers: &HeaderMap, body: &[u8]) -> Result<Response, ConnectError> {
    let request: GetCheckoutRequest = decode(body)?;
    let who = f
        .credentials
        .principal(headers)
        .ok_or_else(unauthenticated)?;
    if request.id.is_empty() {
        return Err(ConnectError::new("invalid_argument", "invalid checkout id"));
    }
    // The org comes from the checkout (`GetOrgIDFromCheckoutID`).
    let checkout = f.store.get(&request.id).map_err(from_store)?;
    if !who.administers(checkout.org) {
        return Err(permission_denied());
    }
    Ok(Json(SessionResponse {
        checkout_session: Session {
            checkout: &checkout,
            style: Style::Connect,
        },
    })
    .into_response())
}

fn list(f: &Frontier, headers: &HeaderMap, body: &[u8]) -> Result<Response, ConnectError> {
    let request: ListCheckoutsRequest = decode(body)?;
    let who = f
        .credentials
        .principal(headers)
        .ok_or_else(unauthenticated)?;
    if request.org_id.is_empty() {
        return Err(ConnectError::new(
            "invalid_argument",
            "invalid syntax in body",
        ));
    }
    let org = authorize_org(f, &who, &request.org_id)?;
    if f.store.org(org) != Some(true) {
        return Err(from_store(StoreError::CustomerNotFound));
    }
    let checkouts = f.store.list(org);
    Ok(Json(SessionsResponse::new(&checkouts, Style::Connect)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_connect_go() {
        for (code, status) in [
            ("invalid_argument", 400),
            ("failed_precondition", 400),
            ("unauthenticated", 401),
            ("permission_denied", 403),
            ("not_found", 404),
            ("already_exists", 409),
            ("unavailable", 503),
            ("internal", 500),
        ] {
            assert_eq!(ConnectError::new(code, "m").status().as_u16(), status);
        }
    }

    #[test]
    fn the_violation_detail_is_protobuf_in_unpadded_base64() {
        let d = violations_detail("string.min_len", "too short");
        let bytes = STANDARD_NO_PAD
            .decode(d["value"].as_str().unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(bytes[0], 0x0a);
        assert_eq!(usize::from(bytes[1]), bytes.len() - 2);
        assert!(validate_org_id("abc").is_ok());
        let err = validate_org_id("ab").unwrap_err();
        assert_eq!(err.details.len(), 1);
    }
}
