//! What the Stripe facade's answers share with the error layer: where the
//! facade is mounted (its errors are Stripe's shape, even a wrong route's),
//! a Stripe error as a response, and Stripe's `Request-Id`.

use axum::response::{IntoResponse, Response};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::Value;
use stripe_facade::error::StripeError;

use crate::http::errors::REQUEST_ID;

/// Where the facade answers: both mounts.
pub const MOUNTS: [&str; 2] = ["/stripe/v1/checkout/sessions", "/v1/checkout/sessions"];

/// Whether a request path is the facade's (its errors are Stripe's shape).
pub fn is_facade_path(path: &str) -> bool {
    MOUNTS.iter().any(|mount| {
        path.strip_prefix(mount)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// Stripe's `Request-Id`: the canonical request id.
static STRIPE_REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
static SHOULD_RETRY: HeaderName = HeaderName::from_static("stripe-should-retry");
/// A Stripe error as a response: its status, body, `Stripe-Should-Retry`.
pub fn error_response(e: &StripeError, retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = json(status, &e.body);
    let headers = response.headers_mut();
    headers.insert(
        SHOULD_RETRY.clone(),
        HeaderValue::from_static(if e.should_retry { "true" } else { "false" }),
    );
    if let Some(after) = retry_after {
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from(after));
    }
    response
}

pub fn json(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Every facade answer carries the request id as Stripe's `Request-Id`.
pub fn with_request_id(request: &HeaderMap, response: &mut Response) {
    if let Some(id) = request.get(REQUEST_ID) {
        response
            .headers_mut()
            .insert(STRIPE_REQUEST_ID.clone(), id.clone());
    }
}
