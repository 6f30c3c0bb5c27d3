//! Every error leaves the gateway as the canonical JSON error body, with the
//! request's `x-request-id` in it — including errors raised outside the
//! handlers (unknown route, wrong method, panics).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use checkout_core::{Error, ErrorCode};
use http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};

pub const REQUEST_ID: &str = "x-request-id";

/// A canonical error as a handler's return value.
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl From<Arc<Error>> for ApiError {
    fn from(e: Arc<Error>) -> Self {
        ApiError(Error::clone(&e))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The body is written by `render_errors`, which knows the request id.
        let mut response = Response::new(Body::empty());
        *response.status_mut() =
            StatusCode::from_u16(self.0.http_status).unwrap_or(StatusCode::BAD_GATEWAY);
        response.extensions_mut().insert(Arc::new(self.0));
        response
    }
}

/// Middleware: render `ApiError`s, and turn any other bodiless or
/// non-JSON error response into the canonical shape.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let facade = super::stripe::is_facade_path(request.uri().path());
    let mut response = next.run(request).await;
    let error = match response.extensions_mut().remove::<Arc<Error>>() {
        Some(e) => Error::clone(&e),
        None if is_foreign_error(&response) => foreign_error(response.status()),
        None => return response,
    };
    if facade {
        // The Stripe facade's clients read Stripe's error shape only.
        let stripe = stripe_facade::error::from_canonical(&error);
        let after = error.retry_after.map(|d| d.as_secs().max(1));
        let mut answer = super::stripe::error_response(&stripe, after);
        if let Some(id) = request_id
            .as_deref()
            .and_then(|id| HeaderValue::from_str(id).ok())
        {
            answer.headers_mut().insert("request-id", id);
        }
        return answer;
    }
    render(response, &error, request_id.as_deref())
}

/// `response` (its status and headers) with `error` as its canonical body.
pub fn render(response: Response, error: &Error, request_id: Option<&str>) -> Response {
    let body = serde_json::to_vec(&error.body(request_id)).unwrap_or_default();
    let (mut parts, _) = response.into_parts();
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(http::header::CONTENT_LENGTH);
    if let Some(after) = error.retry_after {
        parts
            .headers
            .insert(RETRY_AFTER, HeaderValue::from(after.as_secs()));
    }
    if let Some(limit) = error.rate_limit {
        // IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers).
        let reset = error.retry_after.map_or(1, |d| d.as_secs());
        parts
            .headers
            .insert("ratelimit-limit", HeaderValue::from(limit));
        parts
            .headers
            .insert("ratelimit-remaining", HeaderValue::from_static("0"));
        parts
            .headers
            .insert("ratelimit-reset", HeaderValue::from(reset));
    }
    if error.code == ErrorCode::Unauthenticated {
        parts
            .headers
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    Response::from_parts(parts, Body::from(body))
}

fn is_foreign_error(response: &Response) -> bool {
    let json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    (response.status().is_client_error() || response.status().is_server_error()) && !json
}

fn foreign_error(status: StatusCode) -> Error {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            "method not allowed on this route",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorCode::PayloadTooLarge, "request body too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            (ErrorCode::UnsupportedMediaType, "unsupported media type")
        }
        s if s.is_client_error() => (ErrorCode::InvalidRequest, "invalid request"),
        _ => (ErrorCode::Internal, "internal error"),
    };
    Error::new(code, message).with_http_status(status.as_u16())
}
