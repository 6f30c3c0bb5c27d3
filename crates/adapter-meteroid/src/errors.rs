//! Meteroid's non-2xx answers → canonical errors: JSON `{code, message}`
//! or the plain-text rejections of its request extractors. Pure, so every
//! vendor error body in the fixtures is snapshot-tested through it.

use checkout_core::vendor::truncate_message;
use checkout_core::{Error, ErrorCode};

use crate::wire;
use crate::PROVIDER;

/// A non-2xx Meteroid answer → canonical error. Pure, so every vendor
/// error body in the fixtures is snapshot-tested through it.
pub fn vendor_error(status: u16, is_json: bool, body: &[u8]) -> Error {
    Error::from_vendor_status(PROVIDER, status, &vendor_message(body, is_json))
}

/// Meteroid's 400 message when a cancel finds nothing it may cancel.
const NOT_CANCELLABLE: &str = "cannot be cancelled";

/// A non-2xx answer to a cancel. Meteroid answers one 400 both for an
/// unknown session and for one that is no longer open: that one is
/// `invalid_state` with the vendor's message, which the gateway settles by
/// reading the session (404, 409, or 200 when it is already cancelled).
pub fn cancel_error(status: u16, is_json: bool, body: &[u8]) -> Error {
    let message = vendor_message_text(body, is_json);
    if status == 400 && message.contains(NOT_CANCELLABLE) {
        return Error::new(
            ErrorCode::InvalidState,
            format!("{PROVIDER} refused the cancel: {message}"),
        )
        .with_provider(PROVIDER)
        .with_provider_status(status);
    }
    vendor_error(status, is_json, body)
}

/// The vendor's own words without its code.
fn vendor_message_text(body: &[u8], is_json: bool) -> String {
    if is_json {
        if let Ok(e) = serde_json::from_slice::<wire::ErrorBody>(body) {
            return truncate_message(&e.message);
        }
    }
    truncate_message(String::from_utf8_lossy(body).trim())
}

/// The vendor's human message: JSON `{code, message}`, or the plain-text
/// body of a request-rejection (axum extractor) response.
fn vendor_message(body: &[u8], is_json: bool) -> String {
    if is_json {
        if let Ok(e) = serde_json::from_slice::<wire::ErrorBody>(body) {
            return match e.code {
                Some(code) => truncate_message(&format!("{code}: {}", e.message)),
                None => truncate_message(&e.message),
            };
        }
    }
    truncate_message(String::from_utf8_lossy(body).trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkout_core::vendor::MAX_MESSAGE_LEN;

    #[test]
    fn a_refused_cancel_is_an_invalid_state_only_when_meteroid_says_so() {
        let body = br#"{"code":"BAD_REQUEST","message":"Invalid input: Checkout session not found or cannot be cancelled"}"#;
        let e = cancel_error(400, true, body);
        assert_eq!(
            (e.code, e.http_status, e.provider_http_status),
            (ErrorCode::InvalidState, 409, Some(400))
        );
        assert_eq!(
            e.message,
            "meteroid refused the cancel: Invalid input: Checkout session not found or cannot be cancelled"
        );
        assert_eq!(e.provider.as_deref(), Some("meteroid"));
        let other = cancel_error(400, false, b"Invalid URL: bad id");
        assert_eq!(other.code, ErrorCode::ProviderInvalidRequest);
        let gone = cancel_error(
            404,
            true,
            br#"{"code":"NOT_FOUND","message":"Resource not found"}"#,
        );
        assert_eq!(gone.code, ErrorCode::NotFound);
    }

    #[test]
    fn vendor_messages_from_json_and_plain_text() {
        let m = vendor_message(
            br#"{"code":"NOT_FOUND","message":"Resource not found"}"#,
            true,
        );
        assert_eq!(m, "NOT_FOUND: Resource not found");
        let m = vendor_message(
            b"Expected request with `Content-Type: application/json`",
            false,
        );
        assert_eq!(m, "Expected request with `Content-Type: application/json`");
        assert!(
            vendor_message("x".repeat(2000).as_bytes(), false)
                .chars()
                .count()
                <= MAX_MESSAGE_LEN + 1
        );
    }
}
