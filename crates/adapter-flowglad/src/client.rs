//! HTTP calls to one Flowglad account: URLs, the `Authorization` key,
//! vendor error bodies (plain text or JSON, in two JSON shapes).

use std::path::PathBuf;

use async_trait::async_trait;
use checkout_core::adapter::ConfigError;
use checkout_core::vendor::{raw_json, truncate_message};
use checkout_core::{Adapter, CreateSession, Error, ErrorCode, Fetched, RequestContext, Secret};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{convert, wire, PROVIDER};

/// `[providers.flowglad.accounts.<name>]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Secret key (`sk_test_…` / `sk_live_…`); or give `api_key_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_file: Option<PathBuf>,
    #[serde(default = "vendor_http::default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "vendor_http::default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_base_url() -> String {
    "https://app.flowglad.com".to_owned()
}

pub struct FlowgladClient {
    account: String,
    config: AccountConfig,
    base_url: String,
    /// `Bearer <key>` (Flowglad also takes the bare key), marked sensitive
    /// so no HTTP layer ever prints it.
    authorization: HeaderValue,
    http: reqwest::Client,
}

/// The header in which Flowglad names its request (its error bodies may
/// name it too, as `request_id`).
const REQUEST_ID_HEADER: &str = "x-request-id";

impl FlowgladClient {
    pub fn from_config(
        account: &str,
        value: serde_json::Value,
    ) -> Result<FlowgladClient, ConfigError> {
        let config: AccountConfig = vendor_http::parse_config(value)?;
        let api_key =
            vendor_http::required_secret("api_key", &config.api_key, &config.api_key_file)?;
        // Flowglad refuses any Authorization value with a space that is not
        // `Bearer <key>`, so a key with whitespace could never work.
        let authorization = vendor_http::secret_header("api_key", "Bearer ", &api_key)?;
        let base_url = vendor_http::base_url(&config.base_url)?;
        let http = vendor_http::http_client(config.connect_timeout_ms, config.timeout_ms)?;
        Ok(FlowgladClient {
            account: account.to_owned(),
            base_url,
            config,
            authorization,
            http,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1/checkout-sessions{path}", self.base_url)
    }

    /// Send one request; a 2xx body comes back for `read` to convert, and
    /// anything else becomes a canonical error.
    async fn call(
        &self,
        operation: &'static str,
        request: reqwest::RequestBuilder,
        read: impl FnOnce(&[u8]) -> Result<checkout_core::CheckoutSession, Error>,
    ) -> Result<Fetched, Error> {
        let call = vendor_http::Call {
            provider: PROVIDER,
            account: &self.account,
            operation,
        };
        let answer = vendor_http::send(
            call,
            request.header(AUTHORIZATION, self.authorization.clone()),
        )
        .await?;
        // `send` has put it on the `upstream` span; errors carry it too.
        let request_id = answer.header(REQUEST_ID_HEADER).map(str::to_owned);
        if !answer.is_success() {
            return Err(
                vendor_error(answer.status, &answer.body, request_id.as_deref())
                    .with_retry_after(answer.retry_after()),
            );
        }
        read(&answer.body)
            .and_then(|session| {
                Ok(Fetched {
                    session,
                    raw: raw_json(PROVIDER, &answer.body)?,
                })
            })
            .map_err(|e| {
                e.with_provider_status(answer.status)
                    .with_provider_request_id(request_id)
            })
    }
}

/// What Flowglad's error bodies say, whichever form they take.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VendorAnswer {
    /// Human text, bounded; the vendor's code prefixed when it sent one.
    pub message: String,
    pub request_id: Option<String>,
}

impl VendorAnswer {
    /// The real JSON `{error, code, request_id}` (where `error` may be zod's
    /// issue list), the documented `{message, code, issues}`, or plain text.
    pub fn read(body: &[u8]) -> VendorAnswer {
        if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) {
            let value = Value::Object(object);
            if let Ok(e) = serde_json::from_value::<wire::ServerError>(value.clone()) {
                return VendorAnswer {
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
                return VendorAnswer {
                    message: with_code(e.code.as_deref(), &text),
                    request_id: None,
                };
            }
            return VendorAnswer {
                message: truncate_message(&value.to_string()),
                request_id: None,
            };
        }
        VendorAnswer {
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
    let answer = VendorAnswer::read(body);
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

#[async_trait]
impl Adapter for FlowgladClient {
    async fn get(&self, reference: &str, _ctx: &RequestContext) -> Result<Fetched, Error> {
        // `reference` was checked against Flowglad's id format by the
        // gateway, so it is safe as a path segment.
        let account = self.account.clone();
        self.call(
            "get",
            self.http.get(self.url(&format!("/{reference}"))),
            move |body| convert::session_body(&account, body),
        )
        .await
    }

    /// Flowglad has no idempotency for checkout sessions: a retried create
    /// makes a second session, so the caller's key is not forwarded.
    async fn create(
        &self,
        request: &CreateSession,
        _ctx: &RequestContext,
    ) -> Result<Fetched, Error> {
        let body = convert::create_request(request)?;
        let json = serde_json::to_vec(&body).map_err(|e| {
            Error::new(
                ErrorCode::Internal,
                format!("cannot encode create body: {e}"),
            )
        })?;
        let account = self.account.clone();
        self.call(
            "create",
            self.http
                .post(self.url(""))
                .header(CONTENT_TYPE, "application/json")
                .body(json),
            move |body| convert::created_session(&account, request, body),
        )
        .await
    }

    fn redacted_config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkout_core::vendor::MAX_MESSAGE_LEN;
    use serde_json::json;

    #[test]
    fn config_requires_exactly_one_key_source_and_names_bad_keys() {
        let err = FlowgladClient::from_config("default", json!({}))
            .err()
            .unwrap();
        assert_eq!(err.path, "api_key");
        let err =
            FlowgladClient::from_config("default", json!({"api_key": "k", "api_key_file": "/x"}))
                .err()
                .unwrap();
        assert_eq!(err.path, "api_key");
        let err = FlowgladClient::from_config("default", json!({"api_key": "k", "apikey": "k"}))
            .err()
            .unwrap();
        assert!(err.message.contains("apikey"), "{err}");
        let err =
            FlowgladClient::from_config("default", json!({"api_key": "k", "timeout_ms": "slow"}))
                .err()
                .unwrap();
        assert_eq!(err.path, "timeout_ms");
        let err = FlowgladClient::from_config("default", json!({"api_key": "sk test"}))
            .err()
            .unwrap();
        assert_eq!(err.path, "api_key");
        let err =
            FlowgladClient::from_config("default", json!({"api_key": "k", "base_url": "ftp://x"}))
                .err()
                .unwrap();
        assert_eq!(err.path, "base_url");
        let err = FlowgladClient::from_config(
            "default",
            json!({"api_key": "k", "connect_timeout_ms": 0}),
        )
        .err()
        .unwrap();
        assert_eq!(err.path, "connect_timeout_ms");
    }

    #[test]
    fn config_reads_the_key_file_without_its_newline() {
        let path = std::env::temp_dir().join(format!("flowglad-key-{}", std::process::id()));
        std::fs::write(&path, "sk_test_abcd_fileKey\n").unwrap();
        let c = FlowgladClient::from_config("default", json!({"api_key_file": path})).unwrap();
        assert!(!c.authorization.to_str().unwrap().ends_with('\n'));
        assert!(c.authorization.is_sensitive());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn redacted_config_hides_the_key() {
        let c = FlowgladClient::from_config("default", json!({"api_key": "sk_test_abcd_secret"}))
            .unwrap();
        let shown = c.redacted_config().to_string();
        assert!(!shown.contains("sk_test_abcd_secret"), "{shown}");
        assert!(shown.contains("***"));
        assert!(shown.contains("https://app.flowglad.com"));
        assert!(!format!("{:?}", c.config).contains("secret"));
    }

    #[test]
    fn vendor_answers_in_every_form() {
        let a = VendorAnswer::read(
            br#"{"error":"Invalid JSON in request body","request_id":"1a2b3c4d"}"#,
        );
        assert_eq!(a.message, "Invalid JSON in request body");
        assert_eq!(a.request_id.as_deref(), Some("1a2b3c4d"));
        let a = VendorAnswer::read(
            br#"{"error":[{"code":"invalid_type","path":["checkoutSession","successUrl"],"message":"Invalid input: expected string, received undefined"}],"code":"BAD_REQUEST","request_id":"9f8e7d6c"}"#,
        );
        assert_eq!(
            a.message,
            "BAD_REQUEST: checkoutSession.successUrl: Invalid input: expected string, received undefined"
        );
        let a = VendorAnswer::read(
            br#"{"message":"Invalid input data","code":"BAD_REQUEST","issues":[{"message":"Required"}]}"#,
        );
        assert_eq!(a.message, "BAD_REQUEST: Invalid input data (Required)");
        assert_eq!(a.request_id, None);
        let a = VendorAnswer::read(
            br#"{"error":"[\n  {\n    \"code\": \"too_big\",\n    \"path\": [\n      \"limit\"\n    ],\n    \"message\": \"Too big\"\n  }\n]","request_id":"5a61f0bd"}"#,
        );
        assert_eq!(a.message, "limit: Too big");
        let a = VendorAnswer::read(b"Not Found");
        assert_eq!(a.message, "Not Found");
        assert!(
            VendorAnswer::read("x".repeat(2000).as_bytes())
                .message
                .chars()
                .count()
                <= MAX_MESSAGE_LEN + 1
        );
        assert_eq!(VendorAnswer::read(br#"{"odd":1}"#).message, r#"{"odd":1}"#);
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
