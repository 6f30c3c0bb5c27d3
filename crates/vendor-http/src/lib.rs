//! What every adapter's `client.rs` needs and no vendor decides: reading an
//! account's config table, resolving a secret from the table or a file,
//! checking the base URL, building the HTTP client with its timeouts, and
//! making one traced call whose transport failures map to canonical errors.
//! Vendor knowledge (paths, auth headers, error bodies) stays in the adapters.

mod scrub;

pub use scrub::{Scrubber, MIN_SCRUBBED_LEN};

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use checkout_core::adapter::ConfigError;
use checkout_core::vendor::{parse_retry_after, TransportFailure};
use checkout_core::{Error, ErrorCode, Secret};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, RETRY_AFTER};
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

/// The HTTP client of one account: connect and per-attempt timeouts.
pub fn http_client(
    connect_timeout_ms: u64,
    timeout_ms: u64,
) -> Result<reqwest::Client, ConfigError> {
    if connect_timeout_ms == 0 {
        return Err(config_error(
            "connect_timeout_ms",
            "must be greater than zero",
        ));
    }
    if timeout_ms == 0 {
        return Err(config_error("timeout_ms", "must be greater than zero"));
    }
    reqwest::Client::builder()
        .connect_timeout(Duration::from_millis(connect_timeout_ms))
        .timeout(Duration::from_millis(timeout_ms))
        .redirect(same_host_redirects())
        .build()
        .map_err(|e| config_error("base_url", format!("cannot build HTTP client: {e}")))
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

/// A vendor's answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Whether the body is declared JSON.
    pub fn is_json(&self) -> bool {
        self.header(CONTENT_TYPE.as_str())
            .is_some_and(|v| v.starts_with("application/json"))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `Retry-After`, in seconds or as a date.
    pub fn retry_after(&self) -> Option<Duration> {
        self.header(RETRY_AFTER.as_str())
            .and_then(parse_retry_after)
    }
}

/// Which call this is, for the `upstream` span.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub provider: &'static str,
    pub account: &'a str,
    pub operation: &'static str,
}

/// Send one request (asking for JSON) inside an `upstream` span and read
/// the whole answer. Transport failures become canonical errors (timeout
/// 504, unreachable 503 and marked never sent, broken 502); what the status
/// and body mean is the adapter's business. The body comes back with the
/// request's credentials scrubbed, by a [`Scrubber`] made for this request.
pub async fn send(call: Call<'_>, request: reqwest::RequestBuilder) -> Result<Answer, Error> {
    send_scrubbed(call, request, None).await
}

/// [`send`] with a scrubber the caller prepared once for its account. A
/// request carrying a credential it was not made for gets its own.
pub async fn send_with(
    call: Call<'_>,
    request: reqwest::RequestBuilder,
    scrubber: &Scrubber,
) -> Result<Answer, Error> {
    send_scrubbed(call, request, Some(scrubber)).await
}

async fn send_scrubbed(
    call: Call<'_>,
    request: reqwest::RequestBuilder,
    prepared: Option<&Scrubber>,
) -> Result<Answer, Error> {
    let span = tracing::info_span!(
        "upstream",
        provider = call.provider,
        account = %call.account,
        operation = call.operation,
        vendor_status = tracing::field::Empty,
        vendor_request_id = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    async {
        let started = Instant::now();
        let (client, built) = request.header(ACCEPT, "application/json").build_split();
        let request = built.map_err(|_| {
            Error::new(
                ErrorCode::Internal,
                format!("could not build the {} request", call.provider),
            )
            .with_provider(call.provider)
        })?;
        let own;
        let scrubber = match prepared {
            Some(prepared) if prepared.covers(request.headers()) => prepared,
            _ => {
                own = Scrubber::for_headers(request.headers());
                &own
            }
        };
        let response = client.execute(request).await.map_err(|e| {
            let failure = transport_failure(&e);
            tracing::warn!(error = failure.as_str(), "upstream call failed");
            failure.error(call.provider)
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = read_body(call, status, response).await?;
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
        let answer = Answer {
            status,
            headers,
            body: scrubber.scrub(body),
        };
        if !answer.is_success() {
            tracing::info!(vendor_status = status, "upstream refused");
        }
        Ok(answer)
    }
    .instrument(span)
    .await
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
    call: Call<'_>,
    status: u16,
    mut response: reqwest::Response,
) -> Result<Bytes, Error> {
    let unreadable = |what: &str| {
        Error::new(
            ErrorCode::ProviderBadResponse,
            format!("{} response body {what}", call.provider),
        )
        .with_provider(call.provider)
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
            Err(e) if e.is_timeout() => return Err(transport_failure(&e).error(call.provider)),
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
        assert_eq!(http_client(0, 1).unwrap_err().path, "connect_timeout_ms");
        assert_eq!(http_client(1, 0).unwrap_err().path, "timeout_ms");
        assert!(http_client(1, 1).is_ok());
    }

    #[tokio::test]
    async fn unreachable_vendors_are_never_sent_errors() {
        // Port 9 on loopback: nothing listens, the connection is refused.
        let client = http_client(500, 1000).unwrap();
        let call = Call {
            provider: "acme",
            account: "default",
            operation: "get",
        };
        let err = send(call, client.get("http://127.0.0.1:9/x"))
            .await
            .unwrap_err();
        assert_eq!(err.http_status, 503);
        assert!(err.not_sent);
    }

    #[test]
    fn echoed_credentials_are_scrubbed() {
        use base64::Engine as _;
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

        let client = http_client(1000, 2000).unwrap();
        let call = Call {
            provider: "acme",
            account: "default",
            operation: "get",
        };
        let away = send(call, client.get(format!("http://{vendor_addr}/away")))
            .await
            .unwrap();
        assert_eq!(away.status, 307, "the redirect is not followed");
        assert_eq!(stolen.load(Ordering::SeqCst), 0);
        let moved = send(call, client.get(format!("http://{vendor_addr}/moved")))
            .await
            .unwrap();
        assert_eq!(moved.status, 200, "same-host redirects are followed");
    }
}
