//! HTTP calls to one Meteroid account: URLs, bearer auth, vendor error bodies.

use std::path::PathBuf;

use async_trait::async_trait;
use checkout_core::adapter::ConfigError;
use checkout_core::vendor::{raw_json, truncate_message};
use checkout_core::{Adapter, CreateSession, Error, ErrorCode, Fetched, RequestContext, Secret};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde::{Deserialize, Serialize};

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
    #[serde(default = "vendor_http::default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "vendor_http::default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_base_url() -> String {
    "https://api.meteroid.com".to_owned()
}

pub struct MeteroidClient {
    account: String,
    config: AccountConfig,
    base_url: String,
    /// `Bearer <key>`, marked sensitive so no HTTP layer ever prints it.
    authorization: HeaderValue,
    http: reqwest::Client,
}

impl MeteroidClient {
    pub fn from_config(
        account: &str,
        value: serde_json::Value,
    ) -> Result<MeteroidClient, ConfigError> {
        let config: AccountConfig = vendor_http::parse_config(value)?;
        let api_key =
            vendor_http::required_secret("api_key", &config.api_key, &config.api_key_file)?;
        let authorization = vendor_http::secret_header("api_key", "Bearer ", &api_key)?;
        let base_url = vendor_http::base_url(&config.base_url)?;
        let http = vendor_http::http_client(config.connect_timeout_ms, config.timeout_ms)?;
        Ok(MeteroidClient {
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
        let answer = vendor_http::send(
            call,
            request.header(AUTHORIZATION, self.authorization.clone()),
        )
        .await?;
        if !answer.is_success() {
            return Err(vendor_error(answer.status, answer.is_json(), &answer.body)
                .with_retry_after(answer.retry_after()));
        }
        let session = convert::session_body(&self.account, &answer.body)
            .map_err(|e| e.with_provider_status(answer.status))?;
        let raw = raw_json(PROVIDER, &answer.body)?;
        Ok(Fetched { session, raw })
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
