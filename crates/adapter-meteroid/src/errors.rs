//! Meteroid's non-2xx answers → canonical errors: JSON `{code, message}`
//! or the plain-text rejections of its request extractors. Pure, so every
//! vendor error body in the fixtures is snapshot-tested through it.

use checkout_core::vendor::truncate_message;
use checkout_core::Error;

use crate::wire;
use crate::PROVIDER;

/// A non-2xx Meteroid answer → canonical error. Pure, so every vendor
/// error body in the fixtures is snapshot-tested through it.
pub fn vendor_error(status: u16, is_json: bool, body: &[u8]) -> Error {
    Error::from_vendor_status(PROVIDER, status, &vendor_message(body, is_json))
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
