//! Frontier's non-2xx answers → canonical errors: the gRPC code in a
//! Connect error (`{"code": "not_found", …}`) or a grpc-gateway status
//! (`{"code": 5, …}`) decides, and the legacy REST read of one checkout has
//! its own reading of a 500. Pure, so every vendor error body in the
//! fixtures is snapshot-tested through it.

use checkout_core::vendor::truncate_message;
use checkout_core::{Error, ErrorCode};

use crate::wire::{self, Code};
use crate::PROVIDER;

/// A non-2xx Frontier answer → canonical error. Pure, so every vendor error
/// body in the fixtures is snapshot-tested through it. The gRPC code in the
/// body (Connect's name or the legacy gateway's number) decides, not the
/// HTTP status: older connect-go sent 412 for `failed_precondition`.
pub fn vendor_error(status: u16, is_json: bool, body: &[u8]) -> Error {
    let parsed = serde_json::from_slice::<wire::ErrorBody>(body).ok();
    let Some((code, message)) = parsed.and_then(|e| Some((e.code.code()?, e.message))) else {
        if status == 404 && !is_json {
            // connect-go's mux answers an unknown procedure with a plain 404:
            // the base URL or the protocol is wrong, not the session.
            return Error::new(
                ErrorCode::ProviderBadResponse,
                format!(
                    "{PROVIDER} has no such route (HTTP 404 without an error body): check the account's base_url and protocol"
                ),
            )
            .with_provider(PROVIDER)
            .with_provider_status(status);
        }
        let text = truncate_message(String::from_utf8_lossy(body).trim());
        return Error::from_vendor_status(PROVIDER, status, &text);
    };
    let said = truncate_message(&format!("{}: {message}", code.name()));
    let err = match code {
        Code::NotFound => Error::new(ErrorCode::NotFound, format!("{PROVIDER} reports {said}")),
        // The legacy gateway's answer when a checkout is read under
        // another organization than its own.
        Code::PermissionDenied if message == "invalid arguments" => Error::new(
            ErrorCode::NotFound,
            format!("{PROVIDER} has no such checkout in that organization ({said})"),
        ),
        Code::PermissionDenied => Error::new(
            ErrorCode::ProviderAuthFailed,
            format!(
                "{PROVIDER} refused this account's credentials for that organization ({said}); \
                 the principal needs to administer the organization"
            ),
        ),
        Code::DeadlineExceeded => Error::new(
            ErrorCode::ProviderTimeout,
            format!("{PROVIDER} ran out of time ({said})"),
        ),
        Code::Unimplemented => Error::new(
            ErrorCode::ProviderError,
            format!(
                "{PROVIDER} does not implement this call ({said}): check the account's protocol"
            ),
        ),
        Code::Unavailable => Error::new(
            ErrorCode::ProviderUnavailable,
            format!("{PROVIDER} is unavailable ({said})"),
        ),
        // Frontier replaces these messages with "internal server error".
        Code::Internal | Code::Unknown | Code::DataLoss => Error::new(
            ErrorCode::ProviderError,
            format!("{PROVIDER} failed with an internal error ({said})"),
        ),
        Code::Canceled => Error::new(
            ErrorCode::ProviderError,
            format!("{PROVIDER} canceled the call ({said})"),
        ),
        _ => Error::from_vendor_status(PROVIDER, code.http_status(), &said),
    };
    let mut err = err.with_provider(PROVIDER);
    err.provider_http_status = Some(status);
    err
}

/// What the legacy gateway says for a checkout id it does not know: the
/// legacy handler returned the store's not-found as a plain Go error, which
/// the error interceptor turned into a sanitised `internal`.
const LEGACY_UNKNOWN_CHECKOUT: &str = "internal server error";

/// A non-2xx answer to a legacy REST read of one checkout → canonical
/// error. That read answers an unknown id with 500 `{"code": 13, "message":
/// "internal server error"}`: Frontier's not-found, not Frontier failing, so
/// it must not count against the account (breaker). A genuine internal
/// failure of this read looks the same and reads as not found too; anything
/// else, and every create and Connect call, maps as [`vendor_error`].
pub fn legacy_get_error(status: u16, is_json: bool, body: &[u8]) -> Error {
    let unknown_id = status == 500
        && serde_json::from_slice::<wire::ErrorBody>(body).is_ok_and(|e| {
            e.code.code() == Some(Code::Internal) && e.message == LEGACY_UNKNOWN_CHECKOUT
        });
    if !unknown_id {
        return vendor_error(status, is_json, body);
    }
    Error::new(
        ErrorCode::NotFound,
        format!(
            "{PROVIDER} has no such checkout: its legacy REST API answered 500 internal for \
             this checkout id, which is how it answers an unknown id"
        ),
    )
    .with_provider(PROVIDER)
    .with_provider_status(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkout_core::vendor::MAX_MESSAGE_LEN;
    use serde_json::json;

    #[test]
    fn connect_and_legacy_codes_map_alike() {
        for (status, body, code, http) in [
            (
                404,
                json!({"code": "not_found", "message": "not found"}),
                ErrorCode::NotFound,
                404,
            ),
            (
                404,
                json!({"code": 5, "message": "customer doesn't exist", "details": []}),
                ErrorCode::NotFound,
                404,
            ),
            (
                409,
                json!({"code": "already_exists", "message": "already subscribed to the plan"}),
                ErrorCode::ProviderConflict,
                409,
            ),
            (
                400,
                json!({"code": "failed_precondition", "message": "plan is inactive and cannot be subscribed to"}),
                ErrorCode::ProviderInvalidRequest,
                400,
            ),
            (
                412,
                json!({"code": "failed_precondition", "message": "x"}),
                ErrorCode::ProviderInvalidRequest,
                400,
            ),
            (
                400,
                json!({"code": 3, "message": "invalid syntax in body", "details": []}),
                ErrorCode::ProviderInvalidRequest,
                400,
            ),
            (
                503,
                json!({"code": "unavailable", "message": "billing provider is unavailable, retry later"}),
                ErrorCode::ProviderUnavailable,
                503,
            ),
            (
                500,
                json!({"code": "internal", "message": "internal server error"}),
                ErrorCode::ProviderError,
                502,
            ),
            (
                500,
                json!({"code": 13, "message": "internal server error", "details": []}),
                ErrorCode::ProviderError,
                502,
            ),
            (
                401,
                json!({"code": "unauthenticated", "message": "not authenticated"}),
                ErrorCode::ProviderAuthFailed,
                502,
            ),
            (
                403,
                json!({"code": "permission_denied", "message": "not authorized"}),
                ErrorCode::ProviderAuthFailed,
                502,
            ),
            (
                403,
                json!({"code": 7, "message": "invalid arguments", "details": []}),
                ErrorCode::NotFound,
                404,
            ),
            (
                429,
                json!({"code": "resource_exhausted", "message": "slow down"}),
                ErrorCode::RateLimited,
                429,
            ),
            (
                504,
                json!({"code": "deadline_exceeded", "message": "context deadline exceeded"}),
                ErrorCode::ProviderTimeout,
                504,
            ),
            (
                501,
                json!({"code": "unimplemented", "message": "x"}),
                ErrorCode::ProviderError,
                502,
            ),
            (
                499,
                json!({"code": "canceled", "message": "context canceled"}),
                ErrorCode::ProviderError,
                502,
            ),
            (
                409,
                json!({"code": "aborted", "message": "x"}),
                ErrorCode::ProviderConflict,
                409,
            ),
        ] {
            let e = vendor_error(status, true, body.to_string().as_bytes());
            assert_eq!((e.code, e.http_status), (code, http), "{body}");
            assert_eq!(e.provider_http_status, Some(status), "{body}");
            assert_eq!(e.provider.as_deref(), Some(PROVIDER));
        }
        let e = vendor_error(503, true, br#"{"code":"unavailable","message":"m"}"#);
        assert!(e.retryable);
        let e = vendor_error(
            409,
            true,
            br#"{"code":"already_exists","message":"already subscribed to the plan"}"#,
        );
        assert!(e.message.contains("already subscribed"), "{}", e.message);
    }

    #[test]
    fn a_legacy_read_of_an_unknown_id_is_not_found() {
        let unknown = br#"{"code":13, "message":"internal server error", "details":[]}"#;
        let e = legacy_get_error(500, true, unknown);
        assert_eq!((e.code, e.http_status), (ErrorCode::NotFound, 404));
        assert_eq!(e.provider_http_status, Some(500));
        assert!(!e.retryable);
        assert!(
            e.message.contains("legacy REST") && e.message.contains("unknown id"),
            "{}",
            e.message
        );
        // Creates (and Connect) keep the vendor-failure mapping.
        let e = vendor_error(500, true, unknown);
        assert_eq!((e.code, e.http_status), (ErrorCode::ProviderError, 502));
        // Other answers to the read map as any other call's.
        for (status, body, code) in [
            (
                500,
                &br#"{"code":13,"message":"pq: connection refused","details":[]}"#[..],
                ErrorCode::ProviderError,
            ),
            (
                500,
                br#"{"code":2,"message":"internal server error"}"#,
                ErrorCode::ProviderError,
            ),
            (
                502,
                br#"{"code":13,"message":"internal server error"}"#,
                ErrorCode::ProviderError,
            ),
            (500, b"internal server error", ErrorCode::ProviderError),
            (
                503,
                br#"{"code":14,"message":"unavailable"}"#,
                ErrorCode::ProviderUnavailable,
            ),
            (
                403,
                br#"{"code":7,"message":"invalid arguments","details":[]}"#,
                ErrorCode::NotFound,
            ),
            (
                404,
                br#"{"code":5,"message":"customer doesn't exist"}"#,
                ErrorCode::NotFound,
            ),
        ] {
            let e = legacy_get_error(status, true, body);
            assert_eq!(e, vendor_error(status, true, body));
            assert_eq!(e.code, code, "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn bodies_without_a_code_fall_back_to_the_status() {
        let e = vendor_error(404, false, b"404 page not found\n");
        assert_eq!(
            (e.code, e.http_status),
            (ErrorCode::ProviderBadResponse, 502)
        );
        assert!(e.message.contains("base_url"), "{}", e.message);
        let e = vendor_error(502, false, b"<html>bad gateway</html>");
        assert_eq!(e.code, ErrorCode::ProviderError);
        let e = vendor_error(415, false, b"");
        assert_eq!(e.code, ErrorCode::ProviderBadResponse);
        let e = vendor_error(400, true, br#"{"code":"no_such_code","message":"m"}"#);
        assert_eq!(e.code, ErrorCode::ProviderInvalidRequest);
        let long = format!(
            r#"{{"code":"invalid_argument","message":"{}"}}"#,
            "x".repeat(3000)
        );
        let e = vendor_error(400, true, long.as_bytes());
        assert!(
            e.message.chars().count() <= MAX_MESSAGE_LEN + 60,
            "{}",
            e.message.len()
        );
    }
}
