//! HTTP calls to one Meteroid account: URLs, bearer auth, vendor error bodies.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use checkout_core::adapter::ConfigError;
use checkout_core::vendor::{parse_retry_after, raw_json, truncate_message, TransportFailure};
use checkout_core::{Adapter, CreateSession, Error, ErrorCode, Fetched, RequestContext, Secret};
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use crate::{convert, wire, PROVIDER};

/// `[providers.meteroid.accounts.<name>]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// `pv_<env>_…/…` API key; or give `api_key_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_file: Option<PathBuf>,
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_base_url() -> String {
    "https://api.meteroid.com".to_owned()
}
fn default_connect_timeout_ms() -> u64 {
    2_000
}
fn default_timeout_ms() -> u64 {
    10_000
}

pub struct MeteroidClient {
    account: String,
    config: AccountConfig,
    base_url: String,
    /// `Bearer <key>`, marked sensitive so no HTTP layer ever prints it.
    authorization: HeaderValue,
    http: reqwest::Client,
}

fn config_error(path: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        path: path.to_owned(),
        message: message.into(),
    }
}

impl MeteroidClient {
    pub fn from_config(
        account: &str,
        value: serde_json::Value,
    ) -> Result<MeteroidClient, ConfigError> {
        let config: AccountConfig = serde_path_to_error::deserialize(value)
            .map_err(|e| config_error(&e.path().to_string(), e.inner().to_string()))?;
        let api_key = match (&config.api_key, &config.api_key_file) {
            (Some(key), None) => key.clone(),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    config_error(
                        "api_key_file",
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                Secret::new(text.trim_end_matches(['\r', '\n']))
            }
            (Some(_), Some(_)) => {
                return Err(config_error(
                    "api_key",
                    "set api_key or api_key_file, not both",
                ))
            }
            (None, None) => {
                return Err(config_error(
                    "api_key",
                    "missing: set api_key or api_key_file",
                ))
            }
        };
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", api_key.expose()))
            .ok()
            .filter(|_| !api_key.is_empty() && !api_key.expose().chars().any(char::is_whitespace))
            .ok_or_else(|| {
                config_error(
                    "api_key",
                    "must be a non-empty key of printable characters without spaces",
                )
            })?;
        authorization.set_sensitive(true);
        let url = reqwest::Url::parse(&config.base_url)
            .map_err(|e| config_error("base_url", format!("not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
            return Err(config_error(
                "base_url",
                "must be an http(s) URL without a query",
            ));
        }
        if config.timeout_ms == 0 || config.connect_timeout_ms == 0 {
            return Err(config_error(
                "timeout_ms",
                "timeouts must be greater than zero",
            ));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            .timeout(Duration::from_millis(config.timeout_ms))
            .build()
            .map_err(|e| config_error("base_url", format!("cannot build HTTP client: {e}")))?;
        Ok(MeteroidClient {
            account: account.to_owned(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            config,
            authorization,
            http,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1/checkout-sessions{path}", self.base_url)
    }

    /// Send one request and turn the answer into a session or a canonical error.
    async fn call(
        &self,
        op: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<Fetched, Error> {
        let span = tracing::info_span!(
            "upstream",
            provider = PROVIDER,
            account = %self.account,
            operation = op,
            vendor_status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        async {
            let started = Instant::now();
            let result = request
                .header(AUTHORIZATION, self.authorization.clone())
                .header(ACCEPT, "application/json")
                .send()
                .await;
            let response = match result {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(
                        error = transport_failure(&e).as_str(),
                        "upstream call failed"
                    );
                    return Err(transport_failure(&e).error(PROVIDER));
                }
            };
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let is_json = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            let body = response.bytes().await.map_err(|e| {
                if e.is_timeout() {
                    transport_failure(&e).error(PROVIDER)
                } else {
                    Error::new(
                        ErrorCode::ProviderBadResponse,
                        format!("{PROVIDER} response body could not be read"),
                    )
                    .with_provider(PROVIDER)
                    .with_provider_status(status)
                }
            })?;
            let current = tracing::Span::current();
            current.record("vendor_status", status);
            current.record("latency_ms", started.elapsed().as_millis() as u64);
            if (200..300).contains(&status) {
                let session = convert::session_body(&self.account, &body)
                    .map_err(|e| e.with_provider_status(status))?;
                let raw = raw_json(PROVIDER, &body)?;
                Ok(Fetched { session, raw })
            } else {
                tracing::info!(vendor_status = status, "upstream refused");
                Err(vendor_error(status, is_json, &body).with_retry_after(retry_after))
            }
        }
        .instrument(span)
        .await
    }
}

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

fn transport_failure(e: &reqwest::Error) -> TransportFailure {
    TransportFailure::classify(e.is_timeout(), e.is_connect())
}

#[async_trait]
impl Adapter for MeteroidClient {
    async fn get(&self, reference: &str, _ctx: &RequestContext) -> Result<Fetched, Error> {
        // `reference` was checked against Meteroid's id format by the gateway,
        // so it is safe as a path segment.
        self.call("get", self.http.get(self.url(&format!("/{reference}"))))
            .await
    }

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
        self.call(
            "create",
            self.http
                .post(self.url(""))
                .header(CONTENT_TYPE, "application/json")
                .body(json),
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
    fn config_requires_exactly_one_key_source() {
        let err = MeteroidClient::from_config("default", json!({}))
            .err()
            .unwrap();
        assert_eq!(err.path, "api_key");
        let err =
            MeteroidClient::from_config("default", json!({"api_key": "k", "api_key_file": "/x"}))
                .err()
                .unwrap();
        assert_eq!(err.path, "api_key");
        let err = MeteroidClient::from_config("default", json!({"api_key": "k", "timeout": 3}))
            .err()
            .unwrap();
        assert!(err.message.contains("timeout"), "{err}");
        let err =
            MeteroidClient::from_config("default", json!({"api_key": "k", "timeout_ms": "slow"}))
                .err()
                .unwrap();
        assert_eq!(err.path, "timeout_ms");
    }

    #[test]
    fn redacted_config_hides_the_key() {
        let c = MeteroidClient::from_config("default", json!({"api_key": "pv_sand_secret/tok"}))
            .unwrap();
        let shown = c.redacted_config().to_string();
        assert!(!shown.contains("pv_sand_secret"), "{shown}");
        assert!(shown.contains("***"));
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
