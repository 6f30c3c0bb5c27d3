//! Zenskar's non-2xx answers → canonical errors: FastAPI's `{"detail"}`
//! (a string or `[{loc, msg, type}]`), AWS API Gateway's `{"Message"}`, or
//! plain text. Pure, so every vendor error body in the fixtures is
//! snapshot-tested through it.

use checkout_core::vendor::truncate_message;
use checkout_core::{Error, ErrorCode};
use serde_json::Value;

use crate::{wire, PROVIDER};

/// A non-2xx Zenskar answer → canonical error. Pure, so every vendor error
/// body in the fixtures is snapshot-tested through it. A 403 (the
/// organisation check) is the vendor refusing our credentials; a 422 names
/// the field, with its canonical name where one exists.
pub fn vendor_error(status: u16, is_json: bool, body: &[u8]) -> Error {
    Error::from_vendor_status(PROVIDER, status, &vendor_message(body, is_json))
}

/// Zenskar's 400 text when a session is past cancelling (not `open`, or a
/// payment pending or made).
const NOT_CANCELLABLE: &str = "cannot be cancelled";

/// A non-2xx answer to a cancel. Zenskar refuses with one 400 whatever the
/// session became (cancelled, completed, paying): that one is
/// `invalid_state` with the vendor's message, which the gateway settles by
/// reading the session (200 if it is already cancelled, else 409).
pub fn cancel_error(status: u16, is_json: bool, body: &[u8]) -> Error {
    let message = vendor_message(body, is_json);
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

fn vendor_message(body: &[u8], is_json: bool) -> String {
    let parsed = serde_json::from_slice::<wire::ErrorBody>(body).ok();
    if let Some(e) = parsed.filter(|_| is_json || body.first() == Some(&b'{')) {
        let message = match e.detail {
            Some(Value::String(s)) => Some(s),
            Some(Value::Array(items)) => Some(validation_message(&items)),
            Some(other) => Some(other.to_string()),
            None => e.message_capital.or(e.message),
        };
        if let Some(m) = message {
            return truncate_message(&m);
        }
    }
    truncate_message(String::from_utf8_lossy(body).trim())
}

/// FastAPI's `[{loc, msg, type}]` → `contract.plan_id (canonical \`plan\`): field required; …`.
fn validation_message(items: &[Value]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|item| {
            let msg = item.get("msg").and_then(Value::as_str).unwrap_or("invalid");
            let loc = item
                .get("loc")
                .and_then(Value::as_array)
                .map(|l| field_path(l))
                .unwrap_or_default();
            match (loc.is_empty(), canonical_name(&loc)) {
                (true, _) => msg.to_owned(),
                (false, Some(name)) => format!("{loc} (canonical `{name}`): {msg}"),
                (false, None) => format!("{loc}: {msg}"),
            }
        })
        .collect();
    parts.join("; ")
}

/// `["body", "product_overrides", 0, "quantity"]` → `product_overrides[0].quantity`;
/// a path or query parameter keeps its origin (`path.checkout_session_id`).
fn field_path(loc: &[Value]) -> String {
    let mut out = String::new();
    for (i, part) in loc.iter().enumerate() {
        match part {
            Value::String(s) if i == 0 && s == "body" => {}
            Value::String(s) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(s);
            }
            Value::Number(n) => out.push_str(&format!("[{n}]")),
            _ => {}
        }
    }
    out
}

/// The gateway field a vendor body field comes from.
fn canonical_name(path: &str) -> Option<&'static str> {
    Some(match path {
        "customer_id" => "customer",
        "plan_id" | "contract.plan_id" => "plan",
        "success_url" => "success_url",
        "cancel_url" => "cancel_url",
        "expires_at" => "expires_at",
        "custom_data" => "metadata",
        "idempotency_key" => "Idempotency-Key",
        "contract.currency" => "provider_options.currency",
        "contract.start_date" => "provider_options.start_date",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkout_core::vendor::MAX_MESSAGE_LEN;
    use checkout_core::ErrorCode;

    #[test]
    fn vendor_messages() {
        let m = vendor_message(
            br#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#,
            true,
        );
        assert_eq!(
            m,
            "User is not authorized to access this resource with an explicit deny"
        );
        let m = vendor_message(
            br#"{"detail":[{"loc":["body","contract","plan_id"],"msg":"field required","type":"value_error.missing"},{"loc":["body","product_overrides",0,"quantity"],"msg":"value is not a valid integer","type":"type_error.integer"}]}"#,
            true,
        );
        assert_eq!(
            m,
            "contract.plan_id (canonical `plan`): field required; product_overrides[0].quantity: value is not a valid integer"
        );
        let m = vendor_message(
            br#"{"detail":[{"loc":["path","checkout_session_id"],"msg":"value is not a valid uuid","type":"type_error.uuid"}]}"#,
            true,
        );
        assert_eq!(m, "path.checkout_session_id: value is not a valid uuid");
        assert_eq!(
            vendor_message(br#"{"detail":"Checkout session not found"}"#, true),
            "Checkout session not found"
        );
        assert_eq!(
            vendor_message(b"Internal Server Error", false),
            "Internal Server Error"
        );
        assert!(
            vendor_message("x".repeat(2000).as_bytes(), false)
                .chars()
                .count()
                <= MAX_MESSAGE_LEN + 1
        );
    }

    #[test]
    fn vendor_statuses() {
        let e = vendor_error(403, true, br#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#);
        assert_eq!(
            (e.code, e.http_status),
            (ErrorCode::ProviderAuthFailed, 502)
        );
        let e = vendor_error(422, true, br#"{"detail":[{"loc":["body","customer_id"],"msg":"field required","type":"value_error.missing"}]}"#);
        assert_eq!(
            (e.code, e.http_status),
            (ErrorCode::ProviderInvalidRequest, 422)
        );
        assert!(
            e.message.contains("customer_id (canonical `customer`)"),
            "{}",
            e.message
        );
        assert_eq!(
            vendor_error(404, true, br#"{"detail":"Not Found"}"#).code,
            ErrorCode::NotFound
        );
        assert_eq!(
            vendor_error(500, false, b"Internal Server Error").http_status,
            502
        );
    }
}
