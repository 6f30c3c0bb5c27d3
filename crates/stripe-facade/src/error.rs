//! Canonical errors in Stripe's shape: `{"error": {"type", "code",
//! "message", "param"}}` (`code` and `param` only when there is one, as
//! Stripe does; no `request_log_url` or `doc_url`, which point into
//! Stripe's dashboard and docs), the HTTP status Stripe would use, and
//! the `Stripe-Should-Retry` answer.
//!
//! The SDKs choose their error class from the status (current
//! stripe-python and stripe-node: 400/404 → `InvalidRequestError`, or
//! `IdempotencyError` when `type` is `idempotency_error`; 401 →
//! `AuthenticationError`; 403 → `PermissionError`; 429 → `RateLimitError`;
//! anything else → `APIError`) and older stripe-node from `type`, so both
//! are set to agree.
//!
//! | canonical `code` | status | `type` | `code` | `param` |
//! |---|---|---|---|---|
//! | `invalid_request`, `invalid_id`, `unknown_provider`, `unsupported_field`, `unsupported_operation`, `invalid_cursor`, `invalid_config`, `no_route`, `not_mapped` | 400 | `invalid_request_error` | the canonical code | the field the message leads with, as a Stripe param |
//! | `invalid_state` | 400 | `invalid_request_error` | `invalid_state` | — (expiring a closed session: Stripe's wording) |
//! | `provider_invalid_request`, `provider_conflict` (the vendor refused) | 400 | `invalid_request_error` | the canonical code | as above |
//! | `method_not_allowed`, `payload_too_large`, `uri_too_long`, `unsupported_media_type`, `headers_too_large` | kept (405, 413, 414, 415, 431) | `invalid_request_error` | the canonical code | — |
//! | `unauthenticated` | 401 | `authentication_error` | `unauthenticated` | — |
//! | `forbidden` | 403 | `permission_error` | `forbidden` | — |
//! | `not_found` | 404 | `invalid_request_error` | `resource_missing` | `id` |
//! | `idempotency_key_reused` | 400 | `idempotency_error` | `idempotency_key_reused` | — |
//! | `idempotency_in_progress` | 409 | `invalid_request_error` | `idempotency_key_in_use` | — |
//! | `rate_limited`, `too_many_requests` | 429 | `rate_limit_error` | `rate_limit` | — |
//! | `provider_auth_failed`, `provider_error`, `provider_bad_response`, `provider_timeout`, `provider_unavailable`, `overloaded`, `internal` | the canonical 5xx | `api_error` | the canonical code | — |
//!
//! `code` is Stripe's where Stripe has one for the same case
//! (`resource_missing`, `idempotency_key_in_use`, `rate_limit`), else the
//! canonical code, so a caller can still tell a `not_mapped` from a
//! `no_route`. No canonical error is a card decline, so none is a 402.
//!
//! `Stripe-Should-Retry` is read by the SDKs' own retry loops, which resend
//! a POST with the same `Idempotency-Key` (both SDKs put one on every POST).
//! It is `true` only where a retry cannot make a second checkout and may
//! succeed: rate limits and an overloaded gateway (nothing was done), a key
//! still in use (the retry gets the first request's answer), and a
//! retryable failure of a request that provably never reached the vendor
//! (`not_sent`: a breaker, a refused connection). Everything else is
//! `false`, including timeouts and vendor 5xx: the create may have been
//! made, and a create sent without an `Idempotency-Key` (a caller's own
//! retry loop) would make it twice. Where the gateway knows a retry is safe
//! anyway — a read, or a create whose key the gateway will use to find the
//! first attempt's session — it may set [`StripeError::should_retry`]
//! itself.

use checkout_core::{Error, ErrorCode};
use serde_json::{json, Map, Value};

use crate::ParamError;

const INVALID_REQUEST: &str = "invalid_request_error";
const API_ERROR: &str = "api_error";

/// An error as Stripe answers it.
#[derive(Debug, Clone, PartialEq)]
pub struct StripeError {
    /// The HTTP status.
    pub status: u16,
    /// `{"error": {...}}`.
    pub body: Value,
    /// The `Stripe-Should-Retry` header.
    pub should_retry: bool,
}

impl StripeError {
    fn new(
        status: u16,
        kind: &str,
        code: Option<&str>,
        message: &str,
        param: Option<&str>,
    ) -> StripeError {
        let mut error = Map::new();
        error.insert("type".into(), json!(kind));
        if let Some(code) = code {
            error.insert("code".into(), json!(code));
        }
        error.insert("message".into(), json!(message));
        if let Some(param) = param {
            error.insert("param".into(), json!(param));
        }
        StripeError {
            status,
            body: json!({ "error": error }),
            should_retry: false,
        }
    }
}

/// `e` as Stripe would answer it (see the module table).
pub fn from_canonical(e: &Error) -> StripeError {
    use ErrorCode::*;
    let canonical = code_name(e.code);
    let field = leading_field(&e.message).and_then(stripe_param);
    let mut out = match e.code {
        InvalidRequest
        | InvalidId
        | UnknownProvider
        | UnsupportedField
        | UnsupportedOperation
        | InvalidCursor
        | InvalidConfig
        | NoRoute
        | NotMapped
        | ProviderInvalidRequest
        | ProviderConflict => StripeError::new(
            400,
            INVALID_REQUEST,
            Some(&canonical),
            &e.message,
            field.as_deref(),
        ),
        InvalidState => StripeError::new(
            400,
            INVALID_REQUEST,
            Some(&canonical),
            &expire_refusal(&e.message).unwrap_or_else(|| e.message.clone()),
            None,
        ),
        MethodNotAllowed | PayloadTooLarge | UriTooLong | UnsupportedMediaType
        | HeadersTooLarge => StripeError::new(
            e.code.http_status(),
            INVALID_REQUEST,
            Some(&canonical),
            &e.message,
            None,
        ),
        Unauthenticated => StripeError::new(
            401,
            "authentication_error",
            Some(&canonical),
            &e.message,
            None,
        ),
        Forbidden => StripeError::new(403, "permission_error", Some(&canonical), &e.message, None),
        NotFound => StripeError::new(
            404,
            INVALID_REQUEST,
            Some("resource_missing"),
            &e.message,
            Some("id"),
        ),
        IdempotencyKeyReused => {
            StripeError::new(400, "idempotency_error", Some(&canonical), &e.message, None)
        }
        IdempotencyInProgress => StripeError::new(
            409,
            INVALID_REQUEST,
            Some("idempotency_key_in_use"),
            &e.message,
            None,
        ),
        RateLimited | TooManyRequests => StripeError::new(
            429,
            "rate_limit_error",
            Some("rate_limit"),
            &e.message,
            None,
        ),
        ProviderAuthFailed | ProviderError | ProviderBadResponse | ProviderTimeout
        | ProviderUnavailable | Overloaded | Internal => {
            let status = if (500..=599).contains(&e.http_status) {
                e.http_status
            } else {
                e.code.http_status()
            };
            StripeError::new(status, API_ERROR, Some(&canonical), &e.message, None)
        }
    };
    out.should_retry = should_retry(e);
    out
}

/// A request parameter problem: `400 invalid_request_error` naming it.
pub fn from_param(e: &ParamError) -> StripeError {
    invalid_request(&e.message, e.param.as_deref())
}

/// `400 invalid_request_error` for what the gateway refuses before any
/// canonical rule runs (a JSON body, an unknown route, …).
pub fn invalid_request(message: &str, param: Option<&str>) -> StripeError {
    StripeError::new(400, INVALID_REQUEST, None, message, param)
}

/// `404 resource_missing` for an id that is not one of ours, in Stripe's
/// words.
pub fn no_such_session(stripe_id: &str) -> StripeError {
    StripeError::new(
        404,
        INVALID_REQUEST,
        Some("resource_missing"),
        &format!("No such checkout.session: '{stripe_id}'"),
        Some("id"),
    )
}

/// See the module doc: `true` only where a retry can make no second
/// checkout and may succeed.
fn should_retry(e: &Error) -> bool {
    use ErrorCode::*;
    match e.code {
        RateLimited | TooManyRequests | Overloaded | IdempotencyInProgress => true,
        _ => e.not_sent && e.retryable,
    }
}

/// The canonical code's wire name (`not_mapped`).
fn code_name(code: ErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The field a canonical message leads with: `customer: …` or
/// ``field `plan` …``.
fn leading_field(message: &str) -> Option<&str> {
    if let Some(rest) = message.strip_prefix("field `") {
        return rest.split('`').next().filter(|f| !f.is_empty());
    }
    let (head, _) = message.split_once(": ")?;
    let is_field = !head.is_empty()
        && head
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.'));
    is_field.then_some(head)
}

/// A canonical create field as the Stripe parameter it came from; `None`
/// for fields a Stripe create cannot give (`provider_options.…`).
fn stripe_param(field: &str) -> Option<String> {
    match field {
        "plan" => Some("line_items[0][price]".into()),
        "quantity" => Some("line_items[0][quantity]".into()),
        "customer" | "success_url" | "cancel_url" | "expires_at" | "metadata" => Some(field.into()),
        _ => field
            .strip_prefix("metadata.")
            .map(|key| format!("metadata[{key}]")),
    }
}

/// The gateway's refusal to cancel a closed session (`the session is
/// complete: …`) in Stripe's words for an expire.
fn expire_refusal(message: &str) -> Option<String> {
    let (what, _) = message.strip_prefix("the session is ")?.split_once(':')?;
    let status = match what {
        "complete" => "complete",
        "expired" | "canceled" | "failed" => "expired",
        _ => return None,
    };
    Some(format!(
        "Only Checkout Sessions with a status in [\"open\"] can be expired. \
         This Checkout Session has a status of `{status}`."
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn err(code: ErrorCode, message: &str) -> Error {
        Error::new(code, message)
    }

    fn row(e: &Error) -> (u16, String, Option<String>, Option<String>, bool) {
        let s = from_canonical(e);
        let inner = &s.body["error"];
        assert!(inner["message"].as_str().is_some());
        (
            s.status,
            inner["type"].as_str().unwrap().to_owned(),
            inner.get("code").and_then(Value::as_str).map(str::to_owned),
            inner
                .get("param")
                .and_then(Value::as_str)
                .map(str::to_owned),
            s.should_retry,
        )
    }

    fn expect(e: Error, status: u16, kind: &str, code: &str, param: Option<&str>, retry: bool) {
        assert_eq!(
            row(&e),
            (
                status,
                kind.to_owned(),
                Some(code.to_owned()),
                param.map(str::to_owned),
                retry
            ),
            "{e:?}"
        );
    }

    #[test]
    fn invalid_request_names_the_leading_field() {
        expect(
            err(
                ErrorCode::InvalidRequest,
                "customer: the rule `x` splits by customer",
            ),
            400,
            "invalid_request_error",
            "invalid_request",
            Some("customer"),
            false,
        );
    }

    #[test]
    fn invalid_id() {
        expect(
            err(
                ErrorCode::InvalidId,
                "session id must have the form provider:account:reference",
            ),
            400,
            "invalid_request_error",
            "invalid_id",
            None,
            false,
        );
    }

    #[test]
    fn unknown_provider() {
        expect(
            err(ErrorCode::UnknownProvider, "unknown provider `stripe`"),
            400,
            "invalid_request_error",
            "unknown_provider",
            None,
            false,
        );
    }

    #[test]
    fn unsupported_field_names_the_stripe_param() {
        expect(
            Error::unsupported_field("flowglad", "expires_at", "always 24 hours"),
            400,
            "invalid_request_error",
            "unsupported_field",
            Some("expires_at"),
            false,
        );
        expect(
            Error::unsupported_field("meteroid", "quantity", "one plan version"),
            400,
            "invalid_request_error",
            "unsupported_field",
            Some("line_items[0][quantity]"),
            false,
        );
        expect(
            Error::invalid_request("field `plan` is required for meteroid"),
            400,
            "invalid_request_error",
            "invalid_request",
            Some("line_items[0][price]"),
            false,
        );
        expect(
            Error::invalid_request("metadata.order: longer than 500 characters"),
            400,
            "invalid_request_error",
            "invalid_request",
            Some("metadata[order]"),
            false,
        );
        expect(
            Error::invalid_request("provider_options.product_overrides: required"),
            400,
            "invalid_request_error",
            "invalid_request",
            None,
            false,
        );
    }

    #[test]
    fn unsupported_operation() {
        expect(
            err(
                ErrorCode::UnsupportedOperation,
                "meteroid cannot cancel a checkout",
            ),
            400,
            "invalid_request_error",
            "unsupported_operation",
            None,
            false,
        );
    }

    #[test]
    fn invalid_cursor() {
        expect(
            err(
                ErrorCode::InvalidCursor,
                "the cursor was issued for other filters",
            ),
            400,
            "invalid_request_error",
            "invalid_cursor",
            None,
            false,
        );
    }

    #[test]
    fn invalid_state_speaks_stripe_for_an_expire() {
        let e = err(
            ErrorCode::InvalidState,
            "the session is complete: only an open session can be canceled",
        );
        expect(
            e.clone(),
            400,
            "invalid_request_error",
            "invalid_state",
            None,
            false,
        );
        assert_eq!(
            from_canonical(&e).body["error"]["message"],
            "Only Checkout Sessions with a status in [\"open\"] can be expired. \
             This Checkout Session has a status of `complete`."
        );
        let canceled = err(
            ErrorCode::InvalidState,
            "the session is failed: only an open session can be canceled",
        );
        assert!(from_canonical(&canceled).body["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with("`expired`."));
        let other = err(
            ErrorCode::InvalidState,
            "zenskar: the checkout is being paid",
        );
        assert_eq!(
            from_canonical(&other).body["error"]["message"],
            "zenskar: the checkout is being paid"
        );
    }

    #[test]
    fn provider_invalid_request_is_a_400_even_when_the_vendor_said_422() {
        expect(
            Error::from_vendor_status("flowglad", 422, "price not found"),
            400,
            "invalid_request_error",
            "provider_invalid_request",
            None,
            false,
        );
    }

    #[test]
    fn provider_conflict() {
        expect(
            Error::from_vendor_status("zenskar", 409, "already subscribed"),
            400,
            "invalid_request_error",
            "provider_conflict",
            None,
            false,
        );
    }

    #[test]
    fn no_route_and_not_mapped_name_their_param() {
        expect(
            err(ErrorCode::NoRoute, "no routing rule matches this create"),
            400,
            "invalid_request_error",
            "no_route",
            None,
            false,
        );
        expect(
            err(
                ErrorCode::NotMapped,
                "customer: `c1` has no reference at meteroid:default",
            ),
            400,
            "invalid_request_error",
            "not_mapped",
            Some("customer"),
            false,
        );
        expect(
            err(
                ErrorCode::NotMapped,
                "plan: the alias `pro` has no plan id at zenskar:default",
            ),
            400,
            "invalid_request_error",
            "not_mapped",
            Some("line_items[0][price]"),
            false,
        );
    }

    #[test]
    fn invalid_config() {
        expect(
            err(ErrorCode::InvalidConfig, "reload refused"),
            400,
            "invalid_request_error",
            "invalid_config",
            None,
            false,
        );
    }

    #[test]
    fn http_level_refusals_keep_their_status() {
        for (code, status) in [
            (ErrorCode::MethodNotAllowed, 405),
            (ErrorCode::PayloadTooLarge, 413),
            (ErrorCode::UriTooLong, 414),
            (ErrorCode::UnsupportedMediaType, 415),
            (ErrorCode::HeadersTooLarge, 431),
        ] {
            let (s, kind, ..) = row(&err(code, "no"));
            assert_eq!(
                (s, kind.as_str()),
                (status, "invalid_request_error"),
                "{code:?}"
            );
        }
    }

    #[test]
    fn unauthenticated() {
        expect(
            err(ErrorCode::Unauthenticated, "missing or unknown client key"),
            401,
            "authentication_error",
            "unauthenticated",
            None,
            false,
        );
    }

    #[test]
    fn forbidden() {
        expect(
            err(
                ErrorCode::Forbidden,
                "this key may not create at zenskar:default",
            ),
            403,
            "permission_error",
            "forbidden",
            None,
            false,
        );
    }

    #[test]
    fn not_found_is_resource_missing() {
        expect(
            Error::not_found(),
            404,
            "invalid_request_error",
            "resource_missing",
            Some("id"),
            false,
        );
    }

    #[test]
    fn idempotency_key_reused_is_an_idempotency_error() {
        expect(
            err(
                ErrorCode::IdempotencyKeyReused,
                "this key was used with another body",
            ),
            400,
            "idempotency_error",
            "idempotency_key_reused",
            None,
            false,
        );
    }

    #[test]
    fn idempotency_in_progress_is_a_retryable_409() {
        expect(
            err(ErrorCode::IdempotencyInProgress, "still running"),
            409,
            "invalid_request_error",
            "idempotency_key_in_use",
            None,
            true,
        );
    }

    #[test]
    fn rate_limits_are_retryable() {
        for code in [ErrorCode::RateLimited, ErrorCode::TooManyRequests] {
            expect(
                err(code, "slow down").with_retry_after(Some(Duration::from_secs(2))),
                429,
                "rate_limit_error",
                "rate_limit",
                None,
                true,
            );
        }
    }

    #[test]
    fn overloaded_is_a_retryable_503() {
        expect(
            err(ErrorCode::Overloaded, "no room"),
            503,
            "api_error",
            "overloaded",
            None,
            true,
        );
    }

    #[test]
    fn vendor_failures_keep_their_5xx_and_are_not_retried() {
        for (e, status, code) in [
            (
                Error::from_vendor_status("meteroid", 500, ""),
                502,
                "provider_error",
            ),
            (
                Error::from_vendor_status("meteroid", 503, ""),
                503,
                "provider_unavailable",
            ),
            (
                Error::from_vendor_status("meteroid", 401, ""),
                502,
                "provider_auth_failed",
            ),
            (
                err(ErrorCode::ProviderBadResponse, "nonsense"),
                502,
                "provider_bad_response",
            ),
            (
                err(ErrorCode::ProviderTimeout, "no answer in 10 s"),
                504,
                "provider_timeout",
            ),
            (err(ErrorCode::Internal, "bug"), 500, "internal"),
        ] {
            // Canonically retryable (a timeout is), yet a create may have
            // been made: no retry header.
            expect(e, status, "api_error", code, None, false);
        }
    }

    #[test]
    fn a_request_that_never_left_may_be_retried() {
        let mut e = err(ErrorCode::ProviderUnavailable, "the breaker is open");
        e.not_sent = true;
        expect(
            e.clone(),
            503,
            "api_error",
            "provider_unavailable",
            None,
            true,
        );
        e.retryable = false;
        expect(e, 503, "api_error", "provider_unavailable", None, false);
    }

    #[test]
    fn param_errors_and_helpers() {
        let s = from_param(&ParamError::unknown("frobnicate"));
        assert_eq!(s.status, 400);
        assert!(!s.should_retry);
        assert_eq!(
            s.body,
            json!({"error": {"type": "invalid_request_error",
                "message": "Received unknown parameter: frobnicate", "param": "frobnicate"}})
        );
        let s = from_param(&ParamError::request("Too many parameters"));
        assert_eq!(s.body["error"].get("param"), None);
        let s = invalid_request("Invalid request: the body must be form-encoded", None);
        assert_eq!(
            (s.status, s.body["error"]["type"].as_str()),
            (400, Some("invalid_request_error"))
        );
        let s = no_such_session("cs_nope");
        assert_eq!(s.status, 404);
        assert_eq!(
            s.body,
            json!({"error": {"type": "invalid_request_error", "code": "resource_missing",
                "message": "No such checkout.session: 'cs_nope'", "param": "id"}})
        );
    }

    #[test]
    fn every_canonical_code_has_a_row() {
        for code in ErrorCode::ALL {
            let s = from_canonical(&err(code, "x"));
            assert!(matches!(s.status, 400..=599), "{code:?}");
            assert!(s.body["error"]["type"].is_string(), "{code:?}");
        }
    }
}
