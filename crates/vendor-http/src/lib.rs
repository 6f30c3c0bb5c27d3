//! The one HTTP client that sends what adapters build ([`VendorClient`]:
//! one connection pool per account, credentials added and scrubbed from
//! every answer, timeouts, a size cap, an `upstream` span, transport
//! failures as canonical errors), and what every adapter's config needs
//! and no vendor decides: reading an account's table, resolving a secret
//! from the table or a file, checking the base URL and timeouts
//! ([`endpoint`]). Vendor knowledge (paths, auth schemes, error bodies)
//! stays in the adapters, which do no I/O.

mod scrub;

pub use scrub::{Scrubber, MIN_SCRUBBED_LEN};

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use checkout_core::adapter::ConfigError;
use checkout_core::vendor::TransportFailure;
use checkout_core::{Endpoint, Error, ErrorCode, Secret, VendorAnswer, VendorRequest};
use reqwest::header::{HeaderName, HeaderValue, ACCEPT};
use serde::de::DeserializeOwned;
use tracing::Instrument;

pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 2_000;
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

/// serde default for `connect_timeout_ms`.
pub fn default_connect_timeout_ms() -> u64 {
    DEFAULT_CONNECT_TIMEOUT_MS
}

/// serde default for `timeout_ms`.
pub fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}

pub fn config_error(path: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// Deserialize an account's table, naming the key path of any mistake.
pub fn parse_config<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value)
        .map_err(|e| config_error(&e.path().to_string(), e.inner().to_string()))
}

/// A secret given inline (`name`) or in a file (`name_file`, trailing
/// newline dropped): exactly one of the two. `None` when neither is set.
pub fn optional_secret(
    name: &str,
    inline: &Option<Secret>,
    file: &Option<PathBuf>,
) -> Result<Option<Secret>, ConfigError> {
    match (inline, file) {
        (Some(secret), None) => Ok(Some(secret.clone())),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                config_error(
                    &format!("{name}_file"),
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            Ok(Some(Secret::new(text.trim_end_matches(['\r', '\n']))))
        }
        (Some(_), Some(_)) => Err(config_error(
            name,
            format!("set {name} or {name}_file, not both"),
        )),
        (None, None) => Ok(None),
    }
}

/// Like [`optional_secret`], but one of the two must be set.
pub fn required_secret(
    name: &str,
    inline: &Option<Secret>,
    file: &Option<PathBuf>,
) -> Result<Secret, ConfigError> {
    optional_secret(name, inline, file)?
        .ok_or_else(|| config_error(name, format!("missing: set {name} or {name}_file")))
}

/// A header carrying a credential: printable, no whitespace, and marked
/// sensitive so no HTTP layer ever prints it. `path` names the config key.
pub fn credential_header(path: &str, value: &str) -> Result<HeaderValue, ConfigError> {
    let mut header = HeaderValue::from_str(value)
        .ok()
        .filter(|_| !value.is_empty())
        .ok_or_else(|| config_error(path, "must be a non-empty value of printable characters"))?;
    header.set_sensitive(true);
    Ok(header)
}

/// A secret that goes into a header as is: printable ASCII, no spaces.
pub fn secret_header(
    path: &str,
    prefix: &str,
    secret: &Secret,
) -> Result<HeaderValue, ConfigError> {
    if secret.is_empty() || !secret.expose().bytes().all(|b| b.is_ascii_graphic()) {
        return Err(config_error(
            path,
            "must be a non-empty key of printable characters without spaces",
        ));
    }
    credential_header(path, &format!("{prefix}{}", secret.expose()))
}

/// An http(s) base URL without a query, trailing slashes removed.
pub fn base_url(url: &str) -> Result<String, ConfigError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| config_error("base_url", format!("not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
        return Err(config_error(
            "base_url",
            "must be an http(s) URL without a query",
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// An account's endpoint, checked once at config time: an http(s) base URL
/// without a query, timeouts above zero, and the credential headers.
pub fn endpoint(
    base: &str,
    credentials: Vec<(HeaderName, HeaderValue)>,
    connect_timeout_ms: u64,
    timeout_ms: u64,
) -> Result<Endpoint, ConfigError> {
    let base_url = base_url(base)?;
    if connect_timeout_ms == 0 {
        return Err(config_error(
            "connect_timeout_ms",
            "must be greater than zero",
        ));
    }
    if timeout_ms == 0 {
        return Err(config_error("timeout_ms", "must be greater than zero"));
    }
    Ok(Endpoint {
        base_url,
        credentials,
        connect_timeout_ms,
        timeout_ms,
    })
}

/// Follow a vendor's redirect only within its own host and scheme: a
/// redirect elsewhere would carry the account's credentials to a stranger.
fn same_host_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let stay = attempt.previous().last().is_some_and(|from| {
            from.scheme() == attempt.url().scheme()
                && from.host_str() == attempt.url().host_str()
                && from.port_or_known_default() == attempt.url().port_or_known_default()
        });
        if stay && attempt.previous().len() < 5 {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// The client of one vendor account: its connection pool, its endpoint,
/// and the forms of its credential a vendor could echo, prepared once.
pub struct VendorClient {
    provider: &'static str,
    account: String,
    base_url: String,
    credentials: Vec<(HeaderName, HeaderValue)>,
    scrubber: Scrubber,
    http: reqwest::Client,
}

impl std::fmt::Debug for VendorClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorClient")
            .field("provider", &self.provider)
            .field("account", &self.account)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl VendorClient {
    pub fn new(
        provider: &'static str,
        account: &str,
        endpoint: &Endpoint,
    ) -> Result<VendorClient, ConfigError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(endpoint.connect_timeout_ms))
            .timeout(Duration::from_millis(endpoint.timeout_ms))
            .redirect(same_host_redirects())
            .build()
            .map_err(|e| config_error("base_url", format!("cannot build HTTP client: {e}")))?;
        Ok(VendorClient {
            provider,
            account: account.to_owned(),
            base_url: endpoint.base_url.clone(),
            credentials: endpoint.credentials.clone(),
            scrubber: Scrubber::new(endpoint.credentials.iter().map(|(_, v)| v.as_bytes())),
            http,
        })
    }

    /// Send one request (asking for JSON) inside an `upstream` span and read
    /// the whole answer, credentials scrubbed. Transport failures become
    /// canonical errors (timeout 504, unreachable 503 and marked never sent,
    /// broken 502); what the status and body mean is the adapter's business.
    pub async fn send(&self, request: &VendorRequest) -> Result<VendorAnswer, Error> {
        let span = tracing::info_span!(
            "upstream",
            provider = self.provider,
            account = %self.account,
            operation = request.operation.as_str(),
            vendor_status = tracing::field::Empty,
            vendor_request_id = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        async {
            let started = Instant::now();
            let mut builder = self
                .http
                .request(
                    request.method.clone(),
                    format!("{}{}", self.base_url, request.path),
                )
                .header(ACCEPT, "application/json");
            if !request.query.is_empty() {
                builder = builder.query(&request.query);
            }
            for (name, value) in request.headers.iter().chain(&self.credentials) {
                builder = builder.header(name.clone(), value.clone());
            }
            if let Some(body) = &request.body {
                builder = builder.body(body.clone());
            }
            let response = builder.send().await.map_err(|e| {
                let failure = transport_failure(&e);
                tracing::warn!(error = failure.as_str(), "upstream call failed");
                failure.error(self.provider)
            })?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = read_body(self.provider, status, response).await?;
            let span = tracing::Span::current();
            span.record("vendor_status", status);
            span.record("latency_ms", started.elapsed().as_millis() as u64);
            if let Some(id) = VENDOR_REQUEST_ID_HEADERS
                .iter()
                .find_map(|h| headers.get(*h))
                .and_then(|v| v.to_str().ok())
            {
                span.record("vendor_request_id", id);
            }
            let answer = VendorAnswer {
                status,
                headers,
                body: self.scrubber.scrub(body),
            };
            if !answer.is_success() {
                tracing::info!(vendor_status = status, "upstream refused");
            }
            Ok(answer)
        }
        .instrument(span)
        .await
    }
}

/// Response headers in which vendors name their own request id (Flowglad's
/// `X-Request-Id`, the AWS API Gateway in front of Zenskar), recorded on the
/// `upstream` span.
pub const VENDOR_REQUEST_ID_HEADERS: [&str; 3] = ["x-request-id", "x-amzn-requestid", "request-id"];

/// Largest vendor answer read: a session is a few KiB, and a vendor must not
/// be able to make the gateway hold gigabytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The whole body, chunk by chunk, refusing more than [`MAX_BODY_BYTES`].
async fn read_body(
    provider: &'static str,
    status: u16,
    mut response: reqwest::Response,
) -> Result<Bytes, Error> {
    let unreadable = |what: &str| {
        Error::new(
            ErrorCode::ProviderBadResponse,
            format!("{provider} response body {what}"),
        )
        .with_provider(provider)
        .with_provider_status(status)
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(unreadable("is too large"));
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(unreadable("is too large"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(Bytes::from(body)),
            Err(e) if e.is_timeout() => return Err(transport_failure(&e).error(provider)),
            Err(_) => return Err(unreadable("could not be read")),
        }
    }
}

fn transport_failure(e: &reqwest::Error) -> TransportFailure {
    TransportFailure::classify(e.is_timeout(), e.is_connect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_come_from_exactly_one_place() {
        let dir = std::env::temp_dir().join(format!("vendor-http-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("key");
        std::fs::write(&file, "from-file\n").unwrap();
        assert_eq!(
            required_secret("api_key", &None, &Some(file.clone()))
                .unwrap()
                .expose(),
            "from-file"
        );
        assert_eq!(
            required_secret("api_key", &Some(Secret::new("inline")), &None)
                .unwrap()
                .expose(),
            "inline"
        );
        let both =
            required_secret("api_key", &Some(Secret::new("x")), &Some(file.clone())).unwrap_err();
        assert_eq!(both.path, "api_key");
        assert_eq!(
            required_secret("api_key", &None, &None).unwrap_err().path,
            "api_key"
        );
        assert!(optional_secret("bearer_token", &None, &None)
            .unwrap()
            .is_none());
        let missing = required_secret("api_key", &None, &Some(dir.join("nope"))).unwrap_err();
        assert_eq!(missing.path, "api_key_file");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn credential_headers_are_sensitive_and_checked() {
        let h = secret_header("api_key", "Bearer ", &Secret::new("sk_1")).unwrap();
        assert!(h.is_sensitive());
        assert_eq!(h.to_str().unwrap(), "Bearer sk_1");
        assert!(secret_header("api_key", "Bearer ", &Secret::new("a b")).is_err());
        assert!(secret_header("api_key", "Bearer ", &Secret::new("clé")).is_err());
        assert!(secret_header("api_key", "", &Secret::new("")).is_err());
    }

    #[test]
    fn base_urls_and_timeouts() {
        assert_eq!(
            base_url("https://api.example.com/").unwrap(),
            "https://api.example.com"
        );
        assert_eq!(base_url("ftp://x").unwrap_err().path, "base_url");
        assert_eq!(base_url("https://x/?a=1").unwrap_err().path, "base_url");
        let endpoint = |connect, total| endpoint("https://x", vec![], connect, total);
        assert_eq!(endpoint(0, 1).unwrap_err().path, "connect_timeout_ms");
        assert_eq!(endpoint(1, 0).unwrap_err().path, "timeout_ms");
        assert_eq!(endpoint(1, 1).unwrap().base_url, "https://x");
    }

    fn client(base: &str, connect_timeout_ms: u64, timeout_ms: u64) -> VendorClient {
        let endpoint = endpoint(base, vec![], connect_timeout_ms, timeout_ms).unwrap();
        VendorClient::new("acme", "default", &endpoint).unwrap()
    }

    fn get(path: &str) -> VendorRequest {
        VendorRequest::new(checkout_core::Operation::Get, reqwest::Method::GET, path)
    }

    #[tokio::test]
    async fn unreachable_vendors_are_never_sent_errors() {
        // Port 9 on loopback: nothing listens, the connection is refused.
        let err = client("http://127.0.0.1:9", 500, 1000)
            .send(&get("/x"))
            .await
            .unwrap_err();
        assert_eq!(err.http_status, 503);
        assert!(err.not_sent);
    }

    #[test]
    fn echoed_credentials_are_scrubbed() {
        use base64::Engine as _;
        use reqwest::header::HeaderMap;
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            secret_header("api_key", "Bearer ", &Secret::new("sk_live_topsecret")).unwrap(),
        );
        let basic =
            base64::engine::general_purpose::STANDARD.encode("client-id:client-secret-value");
        headers.insert(
            "proxy-authorization",
            credential_header("client_secret", &format!("Basic {basic}")).unwrap(),
        );
        headers.insert("x-trace", HeaderValue::from_static("not-a-secret-at-all"));
        let scrubber = Scrubber::for_headers(&headers);
        let body = Bytes::from(format!(
            "{{\"error\":\"bad key sk_live_topsecret\",\"echo\":\"Bearer sk_live_topsecret\",\"b\":\"{basic}\",\"s\":\"client-secret-value\",\"t\":\"not-a-secret-at-all\"}}"
        ));
        let clean = String::from_utf8(scrubber.scrub(body).to_vec()).unwrap();
        for secret in ["sk_live_topsecret", "client-secret-value", basic.as_str()] {
            assert!(!clean.contains(secret), "{secret} in {clean}");
        }
        assert!(
            clean.contains("not-a-secret-at-all"),
            "only credentials are scrubbed"
        );
        let untouched = Bytes::from_static(b"{\"ok\":true}");
        assert_eq!(scrubber.scrub(untouched.clone()), untouched);
    }

    #[tokio::test]
    async fn redirects_never_leave_the_vendor_host() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;

        let stolen = Arc::new(AtomicUsize::new(0));
        let thief = {
            let stolen = stolen.clone();
            axum::Router::new().fallback(move || {
                stolen.fetch_add(1, Ordering::SeqCst);
                async { "got your key" }
            })
        };
        let elsewhere = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
        let elsewhere_addr = elsewhere.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(elsewhere, thief).await });

        let vendor = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let vendor_addr = vendor.local_addr().unwrap();
        let redirects = axum::Router::new()
            .route(
                "/away",
                axum::routing::get(move || async move {
                    axum::response::Redirect::temporary(&format!("http://{elsewhere_addr}/steal"))
                }),
            )
            .route(
                "/moved",
                axum::routing::get(|| async { axum::response::Redirect::temporary("/here") }),
            )
            .route("/here", axum::routing::get(|| async { "{}" }));
        tokio::spawn(async move { axum::serve(vendor, redirects).await });

        let client = client(&format!("http://{vendor_addr}"), 1000, 2000);
        let away = client.send(&get("/away")).await.unwrap();
        assert_eq!(away.status, 307, "the redirect is not followed");
        assert_eq!(stolen.load(Ordering::SeqCst), 0);
        let moved = client.send(&get("/moved")).await.unwrap();
        assert_eq!(moved.status, 200, "same-host redirects are followed");
    }
}
