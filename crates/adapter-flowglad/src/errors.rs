//! Flowglad's non-2xx answers → canonical errors: plain text, or JSON in
//! two shapes (the server's real `{error, code, request_id}`, where `error`
//! may be zod's issue list, and the documented `{message, code, issues}`).
//! Its quirks: the API-key rate limit is a 401 (with, at the snapshot
//! studied, the invalid-key text), and GET of an unknown session is a 500.
//! Pure, so every vendor error body in the fixtures is snapshot-tested
//! through it.

use checkout_core::vendor::truncate_message;
use checkout_core::{Error, ErrorCode};
use serde_json::Value;

use crate::{wire, PROVIDER};

/// The header in which Flowglad names its request (its error bodies may
/// name it too, as `request_id`).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// What Flowglad's error bodies say, whichever form they take.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VendorMessage {
    /// Human text, bounded; the vendor's code prefixed when it sent one.
    pub message: String,
    pub request_id: Option<String>,
}

impl VendorMessage {
    /// The real JSON `{error, code, request_id}` (where `error` may be zod's
    /// issue list), the documented `{message, code, issues}`, or plain text.
    pub fn read(body: &[u8]) -> VendorMessage {
        if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) {
            let value = Value::Object(object);
            if let Ok(e) = serde_json::from_value::<wire::ServerError>(value.clone()) {
                return VendorMessage {
                    message: with_code(e.code.as_deref(), &error_text(&e.error)),
                    request_id: e.request_id.filter(|id| !id.is_empty()),
                };
            }
            if let Ok(e) = serde_json::from_value::<wire::DocumentedError>(value.clone()) {
                let issues: Vec<&str> = e
                    .issues
                    .iter()
                    .flatten()
                    .map(|i| i.message.as_str())
                    .collect();
                let text = if issues.is_empty() {
                    e.message
                } else {
                    format!("{} ({})", e.message, issues.join("; "))
                };
                return VendorMessage {
                    message: with_code(e.code.as_deref(), &text),
                    request_id: None,
                };
            }
            return VendorMessage {
                message: truncate_message(&value.to_string()),
                request_id: None,
            };
        }
        VendorMessage {
            message: truncate_message(String::from_utf8_lossy(body).trim()),
            request_id: None,
        }
    }
}

fn with_code(code: Option<&str>, text: &str) -> String {
    match code {
        Some(code) if !code.is_empty() => truncate_message(&format!("{code}: {text}")),
        _ => truncate_message(text),
    }
}

/// `error` is a message, or zod's issues `[{path, message, …}]` for a body
/// that failed validation (as a list, or as zod's message: that list as a
/// JSON string): rendered as `path.to.field: message; …`.
fn error_text(error: &Value) -> String {
    match error {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(issues @ Value::Array(_)) => error_text(&issues),
            _ => s.clone(),
        },
        Value::Array(issues) => issues
            .iter()
            .map(|issue| {
                let message = issue
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("invalid");
                let path: Vec<String> = issue
                    .get("path")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|p| match p {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                if path.is_empty() {
                    message.to_owned()
                } else {
                    format!("{}: {message}", path.join("."))
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
        Value::Object(o) => match o.get("message").and_then(Value::as_str) {
            Some(m) => m.to_owned(),
            None => error.to_string(),
        },
        other => other.to_string(),
    }
}

/// A 401 whose text says it is a rate limit. Flowglad answers its API-key
/// rate limit with a 401; at the snapshot studied the text is the same as
/// for a bad key, so only a text that says so can be told apart.
pub fn says_rate_limited(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    [
        "rate limit",
        "rate-limit",
        "ratelimit",
        "rate_limit",
        "too many requests",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// What the server says when GET names a session it does not have: its
/// not-found error is wrapped by `unwrap()` and surfaces as a 500.
const NOT_FOUND_IN_500: &str = "No checkout sessions found with id";

/// A non-2xx Flowglad answer → canonical error. Pure, so every vendor
/// error body in the fixtures is snapshot-tested through it. The vendor's
/// request id comes from the body's `request_id`, else the `X-Request-Id`
/// header.
pub fn vendor_error(status: u16, body: &[u8], request_id_header: Option<&str>) -> Error {
    let answer = VendorMessage::read(body);
    let request_id = answer
        .request_id
        .clone()
        .or_else(|| request_id_header.map(str::to_owned));
    let err = match status {
        401 if says_rate_limited(&answer.message) => Error::new(
            ErrorCode::RateLimited,
            format!("{PROVIDER} is rate limiting this account"),
        )
        .with_provider(PROVIDER)
        .with_provider_status(status),
        500 if answer.message.contains(NOT_FOUND_IN_500) => Error::new(
            ErrorCode::NotFound,
            format!("{PROVIDER} has no such checkout session"),
        )
        .with_provider(PROVIDER)
        .with_provider_status(status),
        _ => Error::from_vendor_status(PROVIDER, status, &answer.message),
    };
    err.with_provider_request_id(request_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkout_core::vendor::MAX_MESSAGE_LEN;

    #[test]
    fn vendor_answers_in_every_form() {
        let a = VendorMessage::read(
            br#"{"error":"Invalid JSON in request body","request_id":"1a2b3c4d"}"#,
        );
        assert_eq!(a.message, "Invalid JSON in request body");
        assert_eq!(a.request_id.as_deref(), Some("1a2b3c4d"));
        let a = VendorMessage::read(
            br#"{"error":[{"code":"invalid_type","path":["checkoutSession","successUrl"],"message":"Invalid input: expected string, received undefined"}],"code":"BAD_REQUEST","request_id":"9f8e7d6c"}"#,
        );
        assert_eq!(
            a.message,
            "BAD_REQUEST: checkoutSession.successUrl: Invalid input: expected string, received undefined"
        );
        let a = VendorMessage::read(
            br#"{"message":"Invalid input data","code":"BAD_REQUEST","issues":[{"message":"Required"}]}"#,
        );
        assert_eq!(a.message, "BAD_REQUEST: Invalid input data (Required)");
        assert_eq!(a.request_id, None);
        let a = VendorMessage::read(
            br#"{"error":"[\n  {\n    \"code\": \"too_big\",\n    \"path\": [\n      \"limit\"\n    ],\n    \"message\": \"Too big\"\n  }\n]","request_id":"5a61f0bd"}"#,
        );
        assert_eq!(a.message, "limit: Too big");
        let a = VendorMessage::read(b"Not Found");
        assert_eq!(a.message, "Not Found");
        assert!(
            VendorMessage::read("x".repeat(2000).as_bytes())
                .message
                .chars()
                .count()
                <= MAX_MESSAGE_LEN + 1
        );
        assert_eq!(VendorMessage::read(br#"{"odd":1}"#).message, r#"{"odd":1}"#);
    }

    #[test]
    fn a_401_is_a_rate_limit_only_when_its_text_says_so() {
        let e = vendor_error(401, b"Rate limit exceeded. Try again later.", None);
        assert_eq!(
            (e.code, e.http_status, e.retryable),
            (ErrorCode::RateLimited, 429, true)
        );
        assert_eq!(e.provider_http_status, Some(401));
        let e = vendor_error(
            401,
            b"API key invalid. Please check that you are providing a valid API key.",
            None,
        );
        assert_eq!(
            (e.code, e.http_status, e.retryable),
            (ErrorCode::ProviderAuthFailed, 502, false)
        );
        assert!(says_rate_limited("Too Many Requests"));
        assert!(!says_rate_limited("Unauthorized"));
    }

    #[test]
    fn the_request_id_comes_from_the_body_then_the_header() {
        let e = vendor_error(
            400,
            br#"{"error":"x","request_id":"aaaa1111"}"#,
            Some("bbbb2222"),
        );
        assert_eq!(e.provider_request_id.as_deref(), Some("aaaa1111"));
        let e = vendor_error(404, b"Not Found", Some("bbbb2222"));
        assert_eq!(e.provider_request_id.as_deref(), Some("bbbb2222"));
        assert_eq!(e.code, ErrorCode::NotFound);
    }

    #[test]
    fn a_500_for_an_unknown_session_is_not_found() {
        let e = vendor_error(
            500,
            br#"{"error":"Unwrap called on Err: Panic: Unwrap called on Err: NotFoundError: No checkout sessions found with id: chckt_session_x","code":"INTERNAL_SERVER_ERROR","request_id":"c0ffee00"}"#,
            None,
        );
        assert_eq!((e.code, e.http_status), (ErrorCode::NotFound, 404));
        assert_eq!(e.provider_http_status, Some(500));
        let e = vendor_error(
            500,
            br#"{"error":"Internal server error","request_id":"c0ffee01"}"#,
            None,
        );
        assert_eq!(
            (e.code, e.http_status, e.retryable),
            (ErrorCode::ProviderError, 502, true)
        );
    }
}
