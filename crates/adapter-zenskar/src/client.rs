//! HTTP calls to one Zenskar account: URLs, the `x-api-key` + `organisation`
//! (+ `apiversion`) headers, vendor error bodies.

use std::path::PathBuf;

use async_trait::async_trait;
use checkout_core::adapter::ConfigError;
use checkout_core::vendor::{raw_json, truncate_message};
use checkout_core::{Adapter, CreateSession, Error, ErrorCode, Fetched, RequestContext, Secret};
use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vendor_http::config_error;

use crate::{convert, wire, Family, PROVIDER};

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const ORGANISATION: HeaderName = HeaderName::from_static("organisation");
const API_VERSION: HeaderName = HeaderName::from_static("apiversion");
/// Zenskar sits behind AWS API Gateway, which names each request so.
const AMZN_REQUEST_ID: &str = "x-amzn-requestid";

/// `[providers.zenskar.accounts.<name>]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Which checkout API this account uses: `checkout` (family A, the
    /// default) or `checkouts` (family B).
    #[serde(default)]
    pub family: Family,
    /// The `x-api-key`; or give `api_key_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_file: Option<PathBuf>,
    /// The organisation UUID, sent as the `organisation` header.
    pub organisation: String,
    /// Sent as the `apiversion` header.
    #[serde(default = "default_api_version")]
    pub api_version: String,
    #[serde(default = "vendor_http::default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "vendor_http::default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_base_url() -> String {
    "https://api.zenskar.com".to_owned()
}
fn default_api_version() -> String {
    "20230501".to_owned()
}

pub struct ZenskarClient {
    account: String,
    config: AccountConfig,
    base_url: String,
    /// Marked sensitive so no HTTP layer ever prints it.
    api_key: HeaderValue,
    organisation: HeaderValue,
    api_version: HeaderValue,
    http: reqwest::Client,
}

impl ZenskarClient {
    pub fn from_config(account: &str, value: Value) -> Result<ZenskarClient, ConfigError> {
        let config: AccountConfig = vendor_http::parse_config(value)?;
        let key = vendor_http::required_secret("api_key", &config.api_key, &config.api_key_file)?;
        let api_key = vendor_http::secret_header("api_key", "", &key)?;
        let organisation = uuid::Uuid::parse_str(&config.organisation)
            .ok()
            .and_then(|u| HeaderValue::from_str(&u.hyphenated().to_string()).ok())
            .ok_or_else(|| config_error("organisation", "must be the organisation's UUID"))?;
        let api_version = Some(config.api_version.as_str())
            .filter(|v| {
                !v.is_empty()
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            })
            .and_then(|v| HeaderValue::from_str(v).ok())
            .ok_or_else(|| {
                config_error(
                    "api_version",
                    "must be a version such as \"20230501\" (letters, digits, '-', '.')",
                )
            })?;
        let base_url = vendor_http::base_url(&config.base_url)?;
        let http = vendor_http::http_client(config.connect_timeout_ms, config.timeout_ms)?;
        Ok(ZenskarClient {
            account: account.to_owned(),
            base_url,
            config,
            api_key,
            organisation,
            api_version,
            http,
        })
    }

    pub fn family(&self) -> Family {
        self.config.family
    }

    fn url(&self, rest: &str) -> String {
        format!("{}{}{rest}", self.base_url, self.config.family.path())
    }

    /// Send one request and turn the answer into a session or a canonical error.
    async fn call(
        &self,
        operation: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<Fetched, Error> {
        let call = vendor_http::Call {
            provider: PROVIDER,
            account: &self.account,
            operation,
        };
        let request = request
            .header(X_API_KEY, self.api_key.clone())
            .header(ORGANISATION, self.organisation.clone())
            .header(API_VERSION, self.api_version.clone());
        let answer = vendor_http::send(call, request).await?;
        // `send` already put it on the upstream span; errors carry it too.
        let request_id = answer.header(AMZN_REQUEST_ID).map(truncate_message);
        if !answer.is_success() {
            return Err(vendor_error(answer.status, answer.is_json(), &answer.body)
                .with_retry_after(answer.retry_after())
                .with_provider_request_id(request_id));
        }
        let session = convert::session_body(&self.account, self.config.family, &answer.body)
            .map_err(|e| {
                e.with_provider_status(answer.status)
                    .with_provider_request_id(request_id)
            })?;
        let raw = raw_json(PROVIDER, &answer.body)?;
        Ok(Fetched { session, raw })
    }
}

/// A non-2xx Zenskar answer → canonical error. Pure, so every vendor error
/// body in the fixtures is snapshot-tested through it. A 403 (the
/// organisation check) is the vendor refusing our credentials; a 422 names
/// the field, with its canonical name where one exists.
pub fn vendor_error(status: u16, is_json: bool, body: &[u8]) -> Error {
    Error::from_vendor_status(PROVIDER, status, &vendor_message(body, is_json))
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

fn encode(body: &impl Serialize) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body).map_err(|e| {
        Error::new(
            ErrorCode::Internal,
            format!("cannot encode create body: {e}"),
        )
    })
}

#[async_trait]
impl Adapter for ZenskarClient {
    async fn get(&self, reference: &str, _ctx: &RequestContext) -> Result<Fetched, Error> {
        // `reference` was checked to be a UUID by the gateway, so it is
        // safe as a path segment.
        self.call("get", self.http.get(self.url(&format!("/{reference}"))))
            .await
    }

    async fn create(
        &self,
        request: &CreateSession,
        ctx: &RequestContext,
    ) -> Result<Fetched, Error> {
        let key = ctx.idempotency_key.as_deref();
        let json = match self.config.family {
            Family::Checkout => encode(&convert::create_checkout(request, key)?)?,
            Family::Checkouts => encode(&convert::create_checkouts(request, key)?)?,
        };
        self.call(
            "create",
            self.http
                .post(self.url(""))
                .header(CONTENT_TYPE, "application/json")
                .body(json),
        )
        .await
    }

    /// Family A deduplicates creates by the body `idempotency_key`, so a
    /// create carrying one may be repeated safely.
    fn create_is_idempotent(&self, ctx: &RequestContext) -> bool {
        self.config.family == Family::Checkout && ctx.idempotency_key.is_some()
    }

    fn redacted_config(&self) -> Value {
        serde_json::to_value(&self.config).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkout_core::vendor::MAX_MESSAGE_LEN;
    use serde_json::json;

    const ORG: &str = "6c0e2a8f-3b1d-4e7a-9f25-8d4c1b0a7e63";

    fn build(v: Value) -> Result<ZenskarClient, ConfigError> {
        ZenskarClient::from_config("default", v)
    }

    #[test]
    fn config_keys_and_defaults() {
        let c = build(json!({"api_key": "zsk", "organisation": ORG})).unwrap();
        assert_eq!(c.family(), Family::Checkout);
        assert_eq!(c.url("/x"), "https://api.zenskar.com/checkout/x");
        assert_eq!(c.api_version, "20230501");
        let c = build(
            json!({"api_key": "zsk", "organisation": ORG, "family": "checkouts",
                             "base_url": "http://127.0.0.1:9/zenskar/", "api_version": "20240301"}),
        )
        .unwrap();
        assert_eq!(c.url(""), "http://127.0.0.1:9/zenskar/checkouts");
        assert_eq!(c.api_version, "20240301");
        assert!(c.api_key.is_sensitive());
    }

    #[test]
    fn config_errors_name_the_key() {
        for (v, path) in [
            (json!({"organisation": ORG}), "api_key"),
            (
                json!({"api_key": "k", "api_key_file": "/x", "organisation": ORG}),
                "api_key",
            ),
            (json!({"api_key": "k k", "organisation": ORG}), "api_key"),
            (
                json!({"api_key": "k", "organisation": "acme"}),
                "organisation",
            ),
            (
                json!({"api_key": "k", "organisation": ORG, "family": "checkout_session"}),
                "family",
            ),
            (
                json!({"api_key": "k", "organisation": ORG, "api_version": "2023 05"}),
                "api_version",
            ),
            (
                json!({"api_key": "k", "organisation": ORG, "timeout_ms": "slow"}),
                "timeout_ms",
            ),
            (
                json!({"api_key": "k", "organisation": ORG, "base_url": "ftp://x"}),
                "base_url",
            ),
            (
                json!({"api_key": "k", "organisation": ORG, "timeout_ms": 0}),
                "timeout_ms",
            ),
            (
                json!({"api_key": "k", "organisation": ORG, "connect_timeout_ms": 0}),
                "connect_timeout_ms",
            ),
        ] {
            let err = build(v.clone())
                .err()
                .unwrap_or_else(|| panic!("{v} accepted"));
            assert_eq!(err.path, path, "{v}: {err}");
        }
        let err = build(json!({"api_key": "k"})).err().unwrap();
        assert!(err.message.contains("organisation"), "{err}");
        let err = build(json!({"api_key": "k", "organisation": ORG, "organization": ORG}))
            .err()
            .unwrap();
        assert!(err.message.contains("organization"), "{err}");
    }

    #[test]
    fn redacted_config_hides_the_key() {
        let c = build(json!({"api_key": "zsk_live_topsecret", "organisation": ORG})).unwrap();
        let shown = c.redacted_config();
        assert!(!shown.to_string().contains("topsecret"), "{shown}");
        assert_eq!(shown["api_key"], "***");
        assert_eq!(shown["family"], "checkout");
        assert_eq!(shown["organisation"], ORG);
        assert_eq!(shown["api_version"], "20230501");
    }

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
