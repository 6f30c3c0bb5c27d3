//! The ConnectRPC API: unary calls, checked and answered the way
//! connect-go and Frontier's interceptors do it — method and content type
//! first, then compression, the body (`codec`), authentication, request
//! validation, authorization and the handler. Errors are `{"code",
//! "message", "details"?}` with connect-go's HTTP status for the code
//! (`error`), and Frontier's sanitiser hides every `internal` message.
//!
//! Only POST: Frontier's checkout RPCs declare no idempotency level, so
//! connect-go serves them no Connect GET either.

mod codec;
mod compression;
mod error;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use uuid::Uuid;

use super::auth::Principal;
use super::model::{CreateCheckoutRequest, GetCheckoutRequest, ListCheckoutsRequest};
use super::store::{Created, StoreError};
use super::{Frontier, BODY_LIMIT};
use codec::{Answer, Codec, ACCEPT_POST};
use compression::Compression;
use error::ConnectError;

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
    // connect-go answers an unknown content type with headers only.
    let Some(codec) = Codec::of(&headers) else {
        let mut r = StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
        r.headers_mut()
            .insert("accept-post", HeaderValue::from_static(ACCEPT_POST));
        return r;
    };
    serve(&f, &rpc, codec, &headers, &body).unwrap_or_else(IntoResponse::into_response)
}

/// One unary call once its codec is known: `NewConn`'s negotiation, the
/// body read (`Receive`), then the interceptors and the handler.
fn serve(
    f: &Frontier,
    rpc: &str,
    codec: Codec,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ConnectError> {
    let compression = compression::negotiate(headers)?;
    check_protocol_version(headers)?;
    let message = compression::decompress(body, compression.request, BODY_LIMIT)?;
    let answer = match rpc {
        "CreateCheckout" => create(f, headers, codec.decode(&message)?),
        "GetCheckout" => get(f, headers, codec.decode(&message)?),
        _ => list(f, headers, codec.decode(&message)?),
    }?;
    let mut body = codec.encode(&answer)?;
    let mut response = Response::builder()
        .header(header::CONTENT_TYPE, codec.content_type())
        .header(header::ACCEPT_ENCODING, compression::SUPPORTED);
    if compression.response == Compression::Gzip {
        body = compression::gzip(&body)?;
        response = response.header(header::CONTENT_ENCODING, "gzip");
    }
    response
        .body(body.into())
        .map_err(|e| ConnectError::new("internal", format!("write message: {e}")))
}

/// `connectCheckProtocolVersion` for POST: optional, but `1` if sent.
fn check_protocol_version(headers: &HeaderMap) -> Result<(), ConnectError> {
    match headers
        .get("connect-protocol-version")
        .map(HeaderValue::as_bytes)
    {
        None | Some(b"1") => Ok(()),
        Some(other) => Err(ConnectError::new(
            "invalid_argument",
            format!(
                "Connect-Protocol-Version must be \"1\": got {:?}",
                String::from_utf8_lossy(other)
            ),
        )),
    }
}

fn create(
    f: &Frontier,
    headers: &HeaderMap,
    request: CreateCheckoutRequest,
) -> Result<Answer, ConnectError> {
    let who = f
        .credentials
        .principal(headers)
        .ok_or_else(unauthenticated)?;
    validate_org_id(&request.org_id)?;
    let org = authorize_org(f, &who, &request.org_id)?;
    let (Created::Stored(checkout) | Created::Portal(checkout)) = f
        .store
        .create(org, request.into_create())
        .map_err(from_store)?;
    Ok(Answer::Created(checkout))
}

fn get(
    f: &Frontier,
    headers: &HeaderMap,
    request: GetCheckoutRequest,
) -> Result<Answer, ConnectError> {
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
    Ok(Answer::Got(checkout))
}

fn list(
    f: &Frontier,
    headers: &HeaderMap,
    request: ListCheckoutsRequest,
) -> Result<Answer, ConnectError> {
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
    Ok(Answer::Listed(f.store.list(org)))
}

#[cfg(test)]
mod tests {
    use super::*;

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
