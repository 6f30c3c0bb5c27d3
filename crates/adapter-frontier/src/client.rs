//! HTTP calls to one Frontier account over ConnectRPC JSON or the legacy
//! REST gateway: URLs, Basic or bearer auth, vendor error bodies.

use std::path::PathBuf;

use async_trait::async_trait;
use base64::Engine;
use checkout_core::adapter::ConfigError;
use checkout_core::vendor::{raw_json, truncate_message};
use checkout_core::{Adapter, CreateSession, Error, ErrorCode, Fetched, RequestContext, Secret};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use vendor_http::config_error;

use crate::convert::{self, Origin};
use crate::wire::{self, Code};
use crate::{parse_reference, validate_org_id, Protocol, PROVIDER};

/// The Connect service every checkout RPC belongs to.
const SERVICE: &str = "raystack.frontier.v1beta1.FrontierService";

/// `[providers.frontier.accounts.<name>]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// Required: Frontier is self-hosted. Its Connect port (8002 by
    /// default), or for `rest` the grpc-gateway's (7400 in the vendor docs).
    #[serde(default)]
    pub base_url: String,
    #[serde(default)]
    pub protocol: Protocol,
    /// Service-user client id (Basic auth user name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<PathBuf>,
    /// An access token, service-user JWT or personal access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_file: Option<PathBuf>,
    #[serde(default = "vendor_http::default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "vendor_http::default_timeout_ms")]
    pub timeout_ms: u64,
}

pub struct FrontierClient {
    account: String,
    config: AccountConfig,
    base_url: String,
    /// `Basic …` or `Bearer …`, marked sensitive so no HTTP layer prints it.
    authorization: HeaderValue,
    /// The forms of that credential a vendor could echo, prepared once.
    scrubber: vendor_http::Scrubber,
    http: reqwest::Client,
}

fn printable(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic())
}

/// The Authorization header: exactly one scheme, checked and built once.
fn authorization(config: &AccountConfig) -> Result<HeaderValue, ConfigError> {
    let client_secret = vendor_http::optional_secret(
        "client_secret",
        &config.client_secret,
        &config.client_secret_file,
    )?;
    let bearer = vendor_http::optional_secret(
        "bearer_token",
        &config.bearer_token,
        &config.bearer_token_file,
    )?;
    let value =
        match (&config.client_id, client_secret, bearer) {
            (Some(_), _, Some(_)) | (None, Some(_), Some(_)) => return Err(config_error(
                "bearer_token",
                "set client credentials (client_id + client_secret) or a bearer token, not both",
            )),
            (Some(id), Some(secret), None) => {
                // RFC 7617: the user id cannot contain ':'.
                if !printable(id) || id.contains(':') {
                    return Err(config_error(
                        "client_id",
                        "must be printable, without spaces or ':'",
                    ));
                }
                if !printable(secret.expose()) {
                    return Err(config_error(
                        "client_secret",
                        "must be a non-empty secret of printable characters without spaces",
                    ));
                }
                let pair = format!("{id}:{}", secret.expose());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
            (Some(_), None, None) => {
                return Err(config_error(
                    "client_secret",
                    "missing: client_id needs client_secret or client_secret_file",
                ))
            }
            (None, Some(_), None) => {
                return Err(config_error(
                    "client_id",
                    "missing: client_secret needs client_id",
                ))
            }
            (None, None, Some(token)) => {
                if !printable(token.expose()) {
                    return Err(config_error(
                        "bearer_token",
                        "must be a non-empty token of printable characters without spaces",
                    ));
                }
                format!("Bearer {}", token.expose())
            }
            (None, None, None) => return Err(config_error(
                "client_id",
                "missing credentials: set client_id with client_secret (or client_secret_file), \
                 or bearer_token (or bearer_token_file)",
            )),
        };
    // Both schemes' values were checked printable above: a valid header.
    vendor_http::credential_header("client_secret", &value)
}

impl FrontierClient {
    pub fn from_config(
        account: &str,
        value: serde_json::Value,
    ) -> Result<FrontierClient, ConfigError> {
        let config: AccountConfig = vendor_http::parse_config(value)?;
        let authorization = authorization(&config)?;
        if config.base_url.is_empty() {
            return Err(config_error(
                "base_url",
                "missing: Frontier is self-hosted; give the URL of its Connect API \
                 (or, with protocol = \"rest\", of its REST gateway)",
            ));
        }
        let base_url = vendor_http::base_url(&config.base_url)?;
        let http = vendor_http::http_client(config.connect_timeout_ms, config.timeout_ms)?;
        let scrubber = vendor_http::Scrubber::new([authorization.as_bytes()]);
        Ok(FrontierClient {
            account: account.to_owned(),
            base_url,
            config,
            authorization,
            scrubber,
            http,
        })
    }

    /// A Connect unary call: `POST /<service>/<method>` with a JSON body.
    fn connect(&self, method: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}/{SERVICE}/{method}", self.base_url))
            .header(CONTENT_TYPE, "application/json")
            .header("connect-protocol-version", "1")
            .body(body)
    }

    /// Legacy REST: the org's checkouts collection, `org` already checked.
    fn checkouts_url(&self, org: &str) -> String {
        format!(
            "{}/v1beta1/organizations/{org}/billing/checkouts",
            self.base_url
        )
    }

    /// Send one request and turn the answer into a session or a canonical error.
    async fn call(
        &self,
        op: &'static str,
        origin: Origin<'_>,
        request: reqwest::RequestBuilder,
        refused: fn(u16, bool, &[u8]) -> Error,
        ctx: &RequestContext,
    ) -> Result<Fetched, Error> {
        let mut request = request.header(AUTHORIZATION, self.authorization.clone());
        // Frontier logs the caller's x-request-id with the call.
        if let Ok(id) = HeaderValue::from_str(&ctx.request_id) {
            if !ctx.request_id.is_empty() {
                request = request.header("x-request-id", id);
            }
        }
        let call = vendor_http::Call {
            provider: PROVIDER,
            account: &self.account,
            operation: op,
        };
        let answer = vendor_http::send_with(call, request, &self.scrubber).await?;
        if !answer.is_success() {
            return Err(refused(answer.status, answer.is_json(), &answer.body)
                .with_retry_after(answer.retry_after()));
        }
        let session = convert::session_body(&self.account, origin, &answer.body)
            .map_err(|e| e.with_provider_status(answer.status))?;
        let raw =
            raw_json(PROVIDER, &answer.body).map_err(|e| e.with_provider_status(answer.status))?;
        Ok(Fetched { session, raw })
    }
}

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

/// The reference of a get, checked against the account's protocol.
fn checked_reference(protocol: Protocol, reference: &str) -> Result<(Option<&str>, &str), Error> {
    let parsed = parse_reference(reference).map_err(|why| {
        Error::new(ErrorCode::InvalidId, format!("invalid session id: {why}"))
            .with_provider(PROVIDER)
    })?;
    match (protocol, parsed.org_id) {
        (Protocol::Connect, None) | (Protocol::Rest, Some(_)) => {
            Ok((parsed.org_id, parsed.checkout_id))
        }
        (Protocol::Connect, Some(_)) => Err(Error::new(
            ErrorCode::InvalidId,
            "invalid session id: this frontier account speaks Connect, whose session ids are \
             frontier:<account>:<checkout UUID> (no organization)",
        )
        .with_provider(PROVIDER)),
        (Protocol::Rest, None) => Err(Error::new(
            ErrorCode::InvalidId,
            "invalid session id: this frontier account speaks the legacy REST API, whose session \
             ids carry the organization: frontier:<account>:<org_id>:<checkout UUID>",
        )
        .with_provider(PROVIDER)),
    }
}

fn encode(body: &impl Serialize) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body)
        .map_err(|e| Error::new(ErrorCode::Internal, format!("cannot encode request: {e}")))
}

#[async_trait]
impl Adapter for FrontierClient {
    async fn get(&self, reference: &str, ctx: &RequestContext) -> Result<Fetched, Error> {
        let (org, checkout_id) = checked_reference(self.config.protocol, reference)?;
        match (self.config.protocol, org) {
            (Protocol::Rest, Some(org)) => {
                // Both parts were checked against their id formats: safe path segments.
                let url = format!("{}/{checkout_id}", self.checkouts_url(org));
                let origin = Origin {
                    org_id: Some(org),
                    org_in_reference: true,
                };
                let get = self.http.get(url);
                self.call("get", origin, get, legacy_get_error, ctx).await
            }
            _ => {
                let body = encode(&serde_json::json!({ "id": checkout_id }))?;
                self.call(
                    "get",
                    Origin::UNKNOWN,
                    self.connect("GetCheckout", body),
                    vendor_error,
                    ctx,
                )
                .await
            }
        }
    }

    async fn create(
        &self,
        request: &CreateSession,
        ctx: &RequestContext,
    ) -> Result<Fetched, Error> {
        let mut body = convert::create_request(request)?;
        let org = body.org_id.clone().unwrap_or_default();
        match self.config.protocol {
            Protocol::Connect => {
                let origin = Origin {
                    org_id: Some(&org),
                    org_in_reference: false,
                };
                self.call(
                    "create",
                    origin,
                    self.connect("CreateCheckout", encode(&body)?),
                    vendor_error,
                    ctx,
                )
                .await
            }
            Protocol::Rest => {
                // The org becomes a path segment and part of the session id.
                validate_org_id(&org).map_err(|why| {
                    Error::invalid_request(format!(
                        "customer: {why} (a legacy REST account keeps it in its session ids)"
                    ))
                    .with_provider(PROVIDER)
                })?;
                body.org_id = None;
                let origin = Origin {
                    org_id: Some(&org),
                    org_in_reference: true,
                };
                let request = self
                    .http
                    .post(self.checkouts_url(&org))
                    .header(CONTENT_TYPE, "application/json")
                    .body(encode(&body)?);
                self.call("create", origin, request, vendor_error, ctx)
                    .await
            }
        }
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

    const ID: &str = "5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37";
    const ORG: &str = "8d0c3f64-52b1-4c5e-a0f3-7b2e9c41d6a8";

    fn build(v: serde_json::Value) -> Result<FrontierClient, ConfigError> {
        FrontierClient::from_config("default", v)
    }

    fn base(extra: serde_json::Value) -> serde_json::Value {
        let mut v = json!({"base_url": "http://127.0.0.1:8002"});
        for (k, val) in extra.as_object().unwrap() {
            v[k] = val.clone();
        }
        v
    }

    #[test]
    fn exactly_one_auth_scheme() {
        for (extra, path) in [
            (json!({}), "client_id"),
            (json!({"client_id": "svc"}), "client_secret"),
            (json!({"client_secret": "s"}), "client_id"),
            (
                json!({"client_id": "svc", "client_secret": "s", "bearer_token": "t"}),
                "bearer_token",
            ),
            (
                json!({"client_id": "svc", "client_secret": "s", "client_secret_file": "/x"}),
                "client_secret",
            ),
            (
                json!({"bearer_token": "t", "bearer_token_file": "/x"}),
                "bearer_token",
            ),
            (
                json!({"client_id": "a:b", "client_secret": "s"}),
                "client_id",
            ),
            (json!({"bearer_token": "two words"}), "bearer_token"),
            (
                json!({"bearer_token_file": "/no/such/token/file"}),
                "bearer_token_file",
            ),
            (json!({"bearer_token": "t", "protocol": "grpc"}), "protocol"),
            (json!({"bearer_token": "t", "timeout": 3}), ""),
            (json!({"bearer_token": "t", "timeout_ms": 0}), "timeout_ms"),
            (
                json!({"bearer_token": "t", "connect_timeout_ms": 0}),
                "connect_timeout_ms",
            ),
        ] {
            let err = build(base(extra.clone())).err().expect("must fail");
            assert!(
                err.path == path || (path.is_empty() && err.message.contains("timeout")),
                "{extra}: {err}"
            );
        }
        let err = build(json!({"bearer_token": "t"}))
            .err()
            .expect("no base_url");
        assert_eq!(err.path, "base_url", "{err}");
        assert!(build(base(json!({"client_id": "svc", "client_secret": "s"}))).is_ok());
        assert!(build(base(json!({"bearer_token": "fpt_abc", "protocol": "rest"}))).is_ok());
    }

    #[test]
    fn secrets_come_from_files_and_never_show() {
        let dir = std::env::temp_dir().join(format!("frontier-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("secret");
        std::fs::write(&file, "s3cr3t-value\n").unwrap();
        let c = build(base(
            json!({"client_id": "svc-1", "client_secret_file": file}),
        ))
        .unwrap();
        let expected = base64::engine::general_purpose::STANDARD.encode("svc-1:s3cr3t-value");
        assert_eq!(
            c.authorization.to_str().unwrap(),
            format!("Basic {expected}")
        );
        assert!(c.authorization.is_sensitive());
        let c = build(base(
            json!({"client_id": "svc-1", "client_secret": "s3cr3t-value"}),
        ))
        .unwrap();
        // The per-account scrubber is the one every request of it uses.
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(AUTHORIZATION, c.authorization.clone());
        assert!(c.scrubber.covers(&headers));
        let echoed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("svc-1:s3cr3t-value");
        let body = format!(r#"{{"code":16,"message":"bad credentials {echoed}"}}"#);
        let clean = c.scrubber.scrub(body.into());
        assert_eq!(
            &clean[..],
            br#"{"code":16,"message":"bad credentials ***"}"#
        );
        let shown = c.redacted_config().to_string();
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("***") && shown.contains("svc-1") && shown.contains("connect"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn references_must_match_the_protocol() {
        assert_eq!(
            checked_reference(Protocol::Connect, ID).unwrap(),
            (None, ID)
        );
        let legacy = format!("{ORG}:{ID}");
        assert_eq!(
            checked_reference(Protocol::Rest, &legacy).unwrap(),
            (Some(ORG), ID)
        );
        for (protocol, reference, needle) in [
            (Protocol::Connect, legacy.as_str(), "speaks Connect"),
            (Protocol::Rest, ID, "legacy REST"),
            (Protocol::Rest, "nope", "checkout UUID"),
        ] {
            let e = checked_reference(protocol, reference).unwrap_err();
            assert_eq!((e.code, e.http_status), (ErrorCode::InvalidId, 400));
            assert!(e.message.contains(needle), "{}", e.message);
        }
    }

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
