//! The canonical error model (PRODUCT §4). Adapters and the gateway build
//! these; the gateway renders them as
//! `{"error": {"type", "code", "message", "provider", …}}`.

use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;

/// Stable machine-readable error codes. Each has one HTTP status, one type
/// and a default "retryable" answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request body or a query parameter is malformed (message names the field).
    InvalidRequest,
    /// The session id is malformed or does not match the vendor's id format.
    InvalidId,
    /// The id or body names a provider this gateway does not support.
    UnknownProvider,
    /// A canonical field the chosen vendor cannot honour (message names field and vendor).
    UnsupportedField,
    /// An operation the chosen vendor does not offer (message names operation and vendor).
    UnsupportedOperation,
    /// A list cursor that is malformed, tampered with, expired, or used
    /// with other filters than the ones it was issued for.
    InvalidCursor,
    /// The session's state forbids the operation (e.g. cancelling a complete session).
    InvalidState,
    UnsupportedMediaType,
    PayloadTooLarge,
    /// The request target is longer than the gateway accepts.
    UriTooLong,
    /// A request header, or all of them together, is larger than the gateway accepts.
    HeadersTooLarge,
    /// This client key is over its request or vendor-call budget; see
    /// `Retry-After` and the `RateLimit` headers.
    TooManyRequests,
    /// The gateway has no room for another connection or request now.
    Overloaded,
    /// Missing or unknown client key.
    Unauthenticated,
    /// The client key may not do this.
    Forbidden,
    /// No such session (or not one this client may see).
    NotFound,
    MethodNotAllowed,
    /// The vendor refused the request as invalid (400 or 422, vendor's message kept).
    ProviderInvalidRequest,
    /// The vendor reports a conflict (e.g. already subscribed).
    ProviderConflict,
    /// The vendor rejected the gateway's credentials: not the caller's fault.
    ProviderAuthFailed,
    /// The vendor is rate limiting; see `Retry-After`.
    RateLimited,
    /// The vendor says it is unavailable.
    ProviderUnavailable,
    /// The vendor failed (5xx).
    ProviderError,
    /// The vendor answered something unreadable or of the wrong shape.
    ProviderBadResponse,
    /// The vendor did not answer in time.
    ProviderTimeout,
    /// An `Idempotency-Key` reused with a different request body.
    IdempotencyKeyReused,
    /// Another request with this `Idempotency-Key` is still running; retry
    /// after `Retry-After` for its answer.
    IdempotencyInProgress,
    /// A configuration reload was refused; the old configuration serves on.
    InvalidConfig,
    /// A create without `provider`/`account` that no routing rule takes
    /// (and no `routing.default`), or made where no routing is configured.
    NoRoute,
    /// A routed create's customer or plan alias has no reference at the
    /// target routing chose (message names which and where); nothing was sent.
    NotMapped,
    Internal,
}

impl ErrorCode {
    /// Every code, for what is derived from all of them (the OpenAPI
    /// document's statuses and error types). A test checks it against the
    /// variants the schema derive sees, so a new code cannot be left out.
    pub const ALL: [ErrorCode; 31] = {
        use ErrorCode::*;
        [
            InvalidRequest,
            InvalidId,
            UnknownProvider,
            UnsupportedField,
            UnsupportedOperation,
            InvalidCursor,
            InvalidState,
            UnsupportedMediaType,
            PayloadTooLarge,
            UriTooLong,
            HeadersTooLarge,
            TooManyRequests,
            Overloaded,
            Unauthenticated,
            Forbidden,
            NotFound,
            MethodNotAllowed,
            ProviderInvalidRequest,
            ProviderConflict,
            ProviderAuthFailed,
            RateLimited,
            ProviderUnavailable,
            ProviderError,
            ProviderBadResponse,
            ProviderTimeout,
            IdempotencyKeyReused,
            IdempotencyInProgress,
            InvalidConfig,
            NoRoute,
            NotMapped,
            Internal,
        ]
    };

    /// The code with this wire name (`"not_found"`), as error bodies carry it.
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|code| {
            serde_json::to_value(code)
                .ok()
                .is_some_and(|v| v.as_str() == Some(name))
        })
    }

    /// Every value of [`ErrorCode::error_type`], each once, in the order of [`ErrorCode::ALL`].
    pub fn error_types() -> Vec<&'static str> {
        let mut types = Vec::new();
        for code in ErrorCode::ALL {
            if !types.contains(&code.error_type()) {
                types.push(code.error_type());
            }
        }
        types
    }

    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidRequest
            | InvalidId
            | UnknownProvider
            | InvalidCursor
            | ProviderInvalidRequest => 400,
            Unauthenticated => 401,
            Forbidden => 403,
            NotFound => 404,
            MethodNotAllowed => 405,
            ProviderConflict | InvalidState | IdempotencyInProgress => 409,
            PayloadTooLarge => 413,
            UriTooLong => 414,
            UnsupportedMediaType => 415,
            HeadersTooLarge => 431,
            UnsupportedField | UnsupportedOperation | IdempotencyKeyReused | InvalidConfig
            | NoRoute | NotMapped => 422,
            RateLimited | TooManyRequests => 429,
            Internal => 500,
            ProviderAuthFailed | ProviderError | ProviderBadResponse => 502,
            ProviderUnavailable | Overloaded => 503,
            ProviderTimeout => 504,
        }
    }

    /// The broad family of the error, for clients that branch on it.
    pub fn error_type(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidRequest | InvalidId | UnknownProvider | UnsupportedField
            | UnsupportedOperation | InvalidCursor | InvalidState | UnsupportedMediaType
            | PayloadTooLarge | UriTooLong | HeadersTooLarge | NotFound | MethodNotAllowed
            | IdempotencyKeyReused | NoRoute | NotMapped => "invalid_request_error",
            Unauthenticated => "authentication_error",
            Forbidden => "permission_error",
            RateLimited | TooManyRequests => "rate_limit_error",
            ProviderInvalidRequest
            | ProviderConflict
            | ProviderAuthFailed
            | ProviderUnavailable
            | ProviderError
            | ProviderBadResponse
            | ProviderTimeout => "provider_error",
            Internal | InvalidConfig | Overloaded | IdempotencyInProgress => "api_error",
        }
    }

    fn default_retryable(self) -> bool {
        use ErrorCode::*;
        matches!(
            self,
            RateLimited
                | TooManyRequests
                | Overloaded
                | IdempotencyInProgress
                | ProviderUnavailable
                | ProviderError
                | ProviderTimeout
        )
    }
}

/// A canonical error. `message` is safe to show to the caller: it never
/// carries a credential.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    /// Overrides the code's HTTP status where the vendor's own status is
    /// relayed (400 vs 422 for `provider_invalid_request`).
    pub http_status: u16,
    pub provider: Option<String>,
    pub provider_http_status: Option<u16>,
    pub provider_request_id: Option<String>,
    pub retryable: bool,
    pub retry_after: Option<Duration>,
    /// The request provably never reached the vendor (e.g. connection
    /// refused): even a create may then be retried without risk of a duplicate.
    pub not_sent: bool,
    /// For `too_many_requests`: the budget that was spent, per second
    /// (the `RateLimit-Limit` header).
    pub rate_limit: Option<u32>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            http_status: code.http_status(),
            provider: None,
            provider_http_status: None,
            provider_request_id: None,
            retryable: code.default_retryable(),
            retry_after: None,
            not_sent: false,
            rate_limit: None,
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::InvalidRequest, message)
    }

    pub fn not_found() -> Error {
        Error::new(ErrorCode::NotFound, "no such checkout session")
    }

    /// A canonical create field that `provider` cannot honour.
    pub fn unsupported_field(provider: &str, field: &str, why: &str) -> Error {
        Error::new(
            ErrorCode::UnsupportedField,
            format!("field `{field}` is not supported by {provider}: {why}"),
        )
        .with_provider(provider)
    }

    pub fn with_provider(mut self, provider: &str) -> Error {
        self.provider = Some(provider.to_owned());
        self
    }

    pub fn with_provider_status(mut self, status: u16) -> Error {
        self.provider_http_status = Some(status);
        self
    }

    pub fn with_provider_request_id(mut self, id: Option<String>) -> Error {
        self.provider_request_id = id;
        self
    }

    pub fn with_http_status(mut self, status: u16) -> Error {
        self.http_status = status;
        self
    }

    pub fn with_retry_after(mut self, after: Option<Duration>) -> Error {
        self.retry_after = after;
        self
    }

    /// Map a vendor's non-2xx answer to the canonical error (PRODUCT §4):
    /// the caller's mistakes keep their status and the vendor's message; the
    /// vendor refusing *our* credentials, failing or answering nonsense is a
    /// gateway-side 5xx.
    pub fn from_vendor_status(provider: &str, status: u16, message: &str) -> Error {
        let (code, text) = match status {
            400 | 422 => (
                ErrorCode::ProviderInvalidRequest,
                format!("{provider} rejected the request: {message}"),
            ),
            401 | 403 => (
                ErrorCode::ProviderAuthFailed,
                format!("{provider} rejected the gateway's credentials for this account"),
            ),
            404 => (
                ErrorCode::NotFound,
                format!("{provider} has no such checkout session"),
            ),
            409 => (
                ErrorCode::ProviderConflict,
                format!("{provider} reports a conflict: {message}"),
            ),
            429 => (
                ErrorCode::RateLimited,
                format!("{provider} is rate limiting this account"),
            ),
            503 => (
                ErrorCode::ProviderUnavailable,
                format!("{provider} is unavailable"),
            ),
            500..=599 => (
                ErrorCode::ProviderError,
                format!("{provider} failed with HTTP {status}"),
            ),
            _ => (
                ErrorCode::ProviderBadResponse,
                format!("{provider} answered with unexpected HTTP {status}: {message}"),
            ),
        };
        let mut err = Error::new(code, text)
            .with_provider(provider)
            .with_provider_status(status);
        if code == ErrorCode::ProviderInvalidRequest {
            err.http_status = status;
        }
        err
    }

    /// The JSON body for this error.
    pub fn body(&self, request_id: Option<&str>) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                r#type: self.code.error_type(),
                code: self.code,
                message: self.message.clone(),
                provider: self.provider.clone(),
                provider_http_status: self.provider_http_status,
                provider_request_id: self.provider_request_id.clone(),
                retryable: self.retryable,
                request_id: request_id.map(str::to_owned),
            },
        }
    }
}

/// `{"error": {...}}`: the body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The broad family of the error; its schema lists every value the codes map to.
    #[schema(schema_with = error_type_schema)]
    pub r#type: &'static str,
    pub code: ErrorCode,
    pub message: String,
    pub provider: Option<String>,
    pub provider_http_status: Option<u16>,
    /// The vendor's own request id, when it sent one.
    pub provider_request_id: Option<String>,
    pub retryable: bool,
    /// The gateway's `x-request-id` for this request.
    pub request_id: Option<String>,
}

/// `type` as an enum computed from every code, so the document cannot miss one.
fn error_type_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(ErrorCode::error_types()))
        .description(Some(
            "The broad family of the error, for clients that branch on it.",
        ))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ALL` holds each variant once: the derived schema enum lists every
    /// variant the compiler sees, so a code added to the enum but not to
    /// `ALL` fails here.
    #[test]
    fn all_lists_every_code_once() {
        let schema = serde_json::to_value(<ErrorCode as utoipa::PartialSchema>::schema()).unwrap();
        let derived: Vec<&str> = schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let listed: Vec<String> = ErrorCode::ALL
            .iter()
            .map(|c| {
                serde_json::to_value(c)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(listed, derived);
    }

    #[test]
    fn the_type_schema_lists_every_error_type() {
        let schema = serde_json::to_value(error_type_schema()).unwrap();
        let mut in_schema: Vec<&str> = schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let mut computed: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.error_type()).collect();
        in_schema.sort_unstable();
        computed.sort_unstable();
        computed.dedup();
        assert_eq!(in_schema, computed);
        assert!(in_schema.contains(&"permission_error"));
    }

    #[test]
    fn body_shape() {
        let e = Error::new(
            ErrorCode::ProviderAuthFailed,
            "meteroid rejected the gateway's API key",
        )
        .with_provider("meteroid")
        .with_provider_status(401);
        let v = serde_json::to_value(e.body(Some("req-1"))).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"error": {
                "type": "provider_error", "code": "provider_auth_failed",
                "message": "meteroid rejected the gateway's API key",
                "provider": "meteroid", "provider_http_status": 401,
                "provider_request_id": null, "retryable": false, "request_id": "req-1"}})
        );
        assert_eq!(e.http_status, 502);
    }

    #[test]
    fn vendor_statuses_map_to_the_canonical_model() {
        for (vendor, code, http) in [
            (400, ErrorCode::ProviderInvalidRequest, 400),
            (422, ErrorCode::ProviderInvalidRequest, 422),
            (401, ErrorCode::ProviderAuthFailed, 502),
            (403, ErrorCode::ProviderAuthFailed, 502),
            (404, ErrorCode::NotFound, 404),
            (409, ErrorCode::ProviderConflict, 409),
            (415, ErrorCode::ProviderBadResponse, 502),
            (429, ErrorCode::RateLimited, 429),
            (500, ErrorCode::ProviderError, 502),
            (503, ErrorCode::ProviderUnavailable, 503),
        ] {
            let e = Error::from_vendor_status("meteroid", vendor, "nope");
            assert_eq!((e.code, e.http_status), (code, http), "vendor {vendor}");
            assert_eq!(e.provider_http_status, Some(vendor));
        }
        let e = Error::from_vendor_status("meteroid", 400, "plan_version_id missing");
        assert!(e.message.contains("plan_version_id missing"));
    }
}
