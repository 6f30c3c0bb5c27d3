//! Meteroid adapter, without I/O: `wire` (vendor serde types), `read`
//! (answers → canonical), `create` (canonical create → vendor body),
//! `errors` (vendor errors → canonical), and here the provider, the
//! account config and the requests.

pub mod create;
pub mod errors;
pub mod read;
pub mod wire;

use std::path::PathBuf;
use std::sync::Arc;

use checkout_core::adapter::ConfigError;
use checkout_core::vendor::read_fetched;
use checkout_core::{
    Capabilities, CheckoutSession, Connector, CreateSession, Endpoint, Error, ErrorCode, Fetched,
    Operation, Provider, RequestContext, Secret, VendorAnswer, VendorRequest,
};
use http::header::AUTHORIZATION;
use http::Method;
use serde::{Deserialize, Serialize};

pub const PROVIDER: &str = "meteroid";

/// Registration handle for the gateway.
pub struct Meteroid;

/// `che_` + unpadded base62 of a 128-bit value (vendor notes M5).
pub fn validate_session_id(reference: &str) -> Result<(), String> {
    let digits = reference
        .strip_prefix("che_")
        .ok_or_else(|| "a Meteroid checkout session id starts with `che_`".to_owned())?;
    if digits.is_empty() || digits.len() > 22 {
        return Err(
            "a Meteroid checkout session id has 1 to 22 base62 characters after `che_`".to_owned(),
        );
    }
    digits
        .bytes()
        .try_fold(0u128, |acc, b| {
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'A'..=b'Z' => b - b'A' + 10,
                b'a'..=b'z' => b - b'a' + 36,
                _ => return None,
            };
            acc.checked_mul(62)?.checked_add(u128::from(d))
        })
        .map(|_| ())
        .ok_or_else(|| {
            "not a Meteroid checkout session id (base62 of a 128-bit value after `che_`)".to_owned()
        })
}

impl Provider for Meteroid {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            get: true,
            create: true,
            create_fields: vec![
                "customer",
                "plan",
                "quantity (1 only)",
                "metadata (stored, never returned)",
                "provider_options",
            ],
            provider_options: wire::CREATE_OPTION_FIELDS.to_vec(),
            // Issue 15 (list and cancel) fills these in.
            list: None,
            cancel: false,
        }
    }

    fn validate_reference(&self, reference: &str) -> Result<(), String> {
        validate_session_id(reference)
    }

    fn normalize(&self, account: &str, body: &[u8]) -> Result<CheckoutSession, Error> {
        if let Ok(serde_json::Value::Object(top)) =
            serde_json::from_slice::<serde_json::Value>(body)
        {
            if top.contains_key("sessions") && !top.contains_key("session") {
                return Err(Error::invalid_request(
                    "this is a Meteroid list body; normalize takes one get or create response",
                ));
            }
        }
        read::session_body(account, body)
    }

    fn read_error(&self, answer: &VendorAnswer) -> Error {
        errors::vendor_error(answer.status, answer.is_json(), &answer.body)
    }

    fn account_schema(&self) -> serde_json::Value {
        checkout_core::adapter::account_schema::<AccountConfig>()
    }

    fn build(
        &self,
        account: &str,
        config: serde_json::Value,
    ) -> Result<Arc<dyn Connector>, ConfigError> {
        Ok(Arc::new(MeteroidAccount::from_config(account, config)?))
    }
}

/// `[providers.meteroid.accounts.<name>]`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
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

/// One Meteroid account: its config, endpoint (bearer API key) and
/// requests.
pub struct MeteroidAccount {
    account: String,
    config: AccountConfig,
    endpoint: Endpoint,
}

impl MeteroidAccount {
    pub fn from_config(
        account: &str,
        value: serde_json::Value,
    ) -> Result<MeteroidAccount, ConfigError> {
        let config: AccountConfig = vendor_http::parse_config(value)?;
        let api_key =
            vendor_http::required_secret("api_key", &config.api_key, &config.api_key_file)?;
        let authorization = vendor_http::secret_header("api_key", "Bearer ", &api_key)?;
        let endpoint = vendor_http::endpoint(
            &config.base_url,
            vec![(AUTHORIZATION, authorization)],
            config.connect_timeout_ms,
            config.timeout_ms,
        )?;
        Ok(MeteroidAccount {
            account: account.to_owned(),
            config,
            endpoint,
        })
    }
}

/// The checkout sessions collection.
const SESSIONS: &str = "/api/v1/checkout-sessions";

impl Connector for MeteroidAccount {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn provider(&self) -> &'static str {
        PROVIDER
    }

    fn get(&self, reference: &str, _ctx: &RequestContext) -> Result<VendorRequest, Error> {
        // `reference` was checked against Meteroid's id format by the
        // gateway, so it is safe as a path segment.
        Ok(VendorRequest::new(
            Operation::Get,
            Method::GET,
            format!("{SESSIONS}/{reference}"),
        ))
    }

    fn read_get(&self, _reference: &str, answer: &VendorAnswer) -> Result<Fetched, Error> {
        self.read_session(answer)
    }

    fn create(
        &self,
        request: &CreateSession,
        _ctx: &RequestContext,
    ) -> Result<VendorRequest, Error> {
        let body = create::create_request(request)?;
        let json = serde_json::to_vec(&body).map_err(|e| {
            Error::new(
                ErrorCode::Internal,
                format!("cannot encode create body: {e}"),
            )
        })?;
        Ok(VendorRequest::new(Operation::Create, Method::POST, SESSIONS).json(json))
    }

    fn read_create(
        &self,
        _request: &CreateSession,
        answer: &VendorAnswer,
    ) -> Result<Fetched, Error> {
        self.read_session(answer)
    }

    fn redacted_config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }
}

impl MeteroidAccount {
    /// Get and create both answer `{"session": …}`.
    fn read_session(&self, answer: &VendorAnswer) -> Result<Fetched, Error> {
        read_fetched(
            PROVIDER,
            answer,
            |a| errors::vendor_error(a.status, a.is_json(), &a.body),
            |body| read::session_body(&self.account, body),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_requires_exactly_one_key_source() {
        let err = MeteroidAccount::from_config("default", json!({}))
            .err()
            .unwrap();
        assert_eq!(err.path, "api_key");
        let err =
            MeteroidAccount::from_config("default", json!({"api_key": "k", "api_key_file": "/x"}))
                .err()
                .unwrap();
        assert_eq!(err.path, "api_key");
        let err = MeteroidAccount::from_config("default", json!({"api_key": "k", "timeout": 3}))
            .err()
            .unwrap();
        assert!(err.message.contains("timeout"), "{err}");
        let err =
            MeteroidAccount::from_config("default", json!({"api_key": "k", "timeout_ms": "slow"}))
                .err()
                .unwrap();
        assert_eq!(err.path, "timeout_ms");
    }

    #[test]
    fn redacted_config_hides_the_key() {
        let c = MeteroidAccount::from_config("default", json!({"api_key": "pv_sand_secret/tok"}))
            .unwrap();
        let shown = c.redacted_config().to_string();
        assert!(!shown.contains("pv_sand_secret"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn requests_are_built_without_io() {
        let c = MeteroidAccount::from_config("default", json!({"api_key": "pv_sand_k/t"})).unwrap();
        let get = c.get("che_1", &RequestContext::default()).unwrap();
        assert_eq!(
            (get.method, get.path.as_str()),
            (Method::GET, "/api/v1/checkout-sessions/che_1")
        );
        assert_eq!(c.endpoint().base_url, "https://api.meteroid.com");
        assert!(c.endpoint().credentials[0].1.is_sensitive());
        let answer = VendorAnswer {
            status: 404,
            body: br#"{"code":"NOT_FOUND","message":"gone"}"#.to_vec().into(),
            ..VendorAnswer::default()
        };
        let err = c.read_get("che_1", &answer).unwrap_err();
        assert_eq!(
            (err.http_status, err.provider_http_status),
            (404, Some(404))
        );
    }

    #[test]
    fn session_id_format() {
        assert!(
            validate_session_id("che_7n42DGM5Tflk9n8mt7Fhc7").is_ok(),
            "u128::MAX is the largest id"
        );
        assert!(validate_session_id("che_1").is_ok());
        for bad in [
            "",
            "che_",
            "cus_7n42DGM5Tflk9n8mt7Fhc7",
            "che_7n42DGM5Tflk9n8mt7Fhc8",
            "che_zzzzzzzzzzzzzzzzzzzzzz",
            "che_abc-def",
            "che_a.b",
            "che_0123456789012345678901x",
        ] {
            assert!(validate_session_id(bad).is_err(), "{bad:?}");
        }
    }
}
