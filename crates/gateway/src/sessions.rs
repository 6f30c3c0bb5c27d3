//! `GET /v1/checkout-sessions/{id}` and `POST /v1/checkout-sessions`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use checkout_core::{
    CheckoutSession, CreateSession, Error, ErrorCode, Fetched, RequestContext, SessionId,
};
use http::header::{AGE, CACHE_CONTROL, CONTENT_TYPE, LOCATION, RETRY_AFTER, WARNING};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::auth::{Client, Scope};
use crate::cache::{render, CacheOutcome};
use crate::errors::{ApiError, REQUEST_ID};
use crate::idempotency::{fingerprint, Claim, StoredResponse};
use crate::input;
use crate::rate_limit::Budget;
use crate::registry;
use crate::reload::Current;
use crate::state::{Account, AppState};

pub const X_CACHE: &str = "x-cache";
/// Parsed once: inserting by `&str` parses the name on every response.
static X_CACHE_NAME: HeaderName = HeaderName::from_static(X_CACHE);
/// Set on a create answered from the idempotency store.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// Longest `Idempotency-Key` accepted (Stripe's limit).
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

fn context(headers: &HeaderMap) -> Result<RequestContext, Error> {
    let request_id = headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let key = v.to_str().ok().filter(|k| {
                !k.is_empty()
                    && k.len() <= MAX_IDEMPOTENCY_KEY_LEN
                    && k.bytes().all(|b| b.is_ascii_graphic())
            });
            Some(key.map(str::to_owned).ok_or_else(|| {
                Error::invalid_request(format!(
                    "Idempotency-Key: 1 to {MAX_IDEMPOTENCY_KEY_LEN} printable ASCII characters without spaces"
                ))
            })?)
        }
    };
    Ok(RequestContext {
        request_id,
        idempotency_key,
    })
}

fn json_response(status: StatusCode, body: bytes::Bytes) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `?include=raw` is the only query this route takes.
fn include_raw(query: Option<&str>) -> Result<bool, Error> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|_| Error::invalid_request("query string is not valid form encoding"))?;
    let mut raw = false;
    for (key, value) in pairs {
        match (key.as_str(), value.as_str()) {
            ("include", "raw") => raw = true,
            ("include", other) => {
                return Err(Error::invalid_request(format!(
                    "include: unknown value {other:?} (accepted: raw)"
                )))
            }
            (other, _) => {
                return Err(Error::invalid_request(format!(
                    "unknown query parameter {other:?}"
                )))
            }
        }
    }
    Ok(raw)
}

fn wants_no_cache(headers: &HeaderMap) -> bool {
    headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|d| d.trim().eq_ignore_ascii_case("no-cache"))
}

/// Parse and check an id: shape, known provider, vendor id format. All of
/// this happens before the client's access, the cache or any vendor is touched.
fn parse_id(raw: &str) -> Result<SessionId, Error> {
    let id = SessionId::parse(raw)
        .map_err(|e| Error::new(ErrorCode::InvalidId, format!("invalid session id: {e}")))?;
    let provider = registry::provider(id.provider()).ok_or_else(|| {
        Error::new(
            ErrorCode::UnknownProvider,
            format!(
                "unknown provider {:?} in session id (supported: {})",
                id.provider(),
                registry::provider_names()
            ),
        )
    })?;
    provider.validate_reference(id.reference()).map_err(|why| {
        Error::new(ErrorCode::InvalidId, format!("invalid session id: {why}"))
            .with_provider(provider.name())
    })?;
    Ok(id)
}

#[utoipa::path(
    get,
    path = "/v1/checkout-sessions/{id}",
    tag = "checkout-sessions",
    params(
        ("id" = String, Path, description = "`provider:account:provider_session_id`", example = "meteroid:default:che_7n42DGM5Tflk9n8mt7Fhc7"),
        ("include" = Option<String>, Query, description = "`raw` adds the vendor payload as `raw`"),
        ("cache-control" = Option<String>, Header, description = "`no-cache` reads from the vendor"),
    ),
    // Shared answers (401, 403, 405, 414, 431, too_many_requests…) are
    // added to every route by `openapi::SharedResponses`.
    responses(
        (status = 200, description = "The session", body = CheckoutSession,
         headers(("x-cache" = String, description = "hit, miss, bypass or stale"), ("x-request-id" = String),
                 ("age" = u64, description = "Seconds since a cached copy was read from the vendor"),
                 ("warning" = String, description = "`110 - \"Response is Stale\"` on a stale copy"))),
        (status = 400, description = "`invalid_id`, `unknown_provider`, `invalid_request` (query, `Idempotency-Key`), or `provider_invalid_request` (the vendor refused the read with a 400)", body = checkout_core::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session (or not visible to this key)", body = checkout_core::error::ErrorBody),
        (status = 409, description = "`provider_conflict`: the vendor reports a conflict", body = checkout_core::error::ErrorBody),
        (status = 422, description = "`provider_invalid_request`: the vendor refused the read with a 422", body = checkout_core::error::ErrorBody),
        (status = 429, description = "`rate_limited`: the vendor is rate limiting this account", body = checkout_core::error::ErrorBody),
        (status = 502, description = "`provider_error`, `provider_bad_response`, `provider_auth_failed`: the vendor failed", body = checkout_core::error::ErrorBody),
        (status = 503, description = "`provider_unavailable`: the vendor is unavailable, or its breaker is open", body = checkout_core::error::ErrorBody),
        (status = 504, description = "`provider_timeout`: the vendor did not answer in time", body = checkout_core::error::ErrorBody),
    ),
    security(("client_key" = []))
)]
pub async fn get_session(Current(state): Current, request: Request) -> Result<Response, ApiError> {
    let (uri, headers) = (request.uri(), request.headers());
    let raw_id = session_path_id(uri.path()).unwrap_or_default();
    let (client, id, include_raw, account) = check_read(&state, uri, raw_id, headers, true)?;
    let ctx = context(headers)?;
    let seen = state.cache.has_seen(raw_id);
    let fetch = async {
        state.spend(&client, Budget::VendorCalls)?;
        let fetched = account
            .guard
            .get(account.adapter.as_ref(), id.reference(), seen, &ctx)
            .await?;
        // A vendor answering with another session than asked for is not to be trusted.
        if fetched.session.provider_session_id != id.reference() {
            return Err(Error::new(
                ErrorCode::ProviderBadResponse,
                "vendor answered with a different session",
            )
            .with_provider(id.provider()));
        }
        Ok(fetched)
    };
    // The cache holds canonical sessions only: the vendor payload is read
    // from the vendor, which refreshes the cached copy too.
    let no_cache = wants_no_cache(headers);
    if no_cache || include_raw {
        let fetched = fetch.await?;
        let entry = state.cache.insert(raw_id.to_owned(), &fetched).await;
        let outcome = if no_cache {
            CacheOutcome::Bypass
        } else {
            CacheOutcome::Miss
        };
        state.metrics.cache_event(outcome.header_value());
        let body = if include_raw {
            render(&fetched, true)
        } else {
            entry.body()
        };
        return Ok(session_response(body, outcome, entry.age()));
    }
    let read = state.cache.get_or_fetch(raw_id, fetch).await?;
    Ok(session_response(
        read.entry.body(),
        read.outcome,
        read.entry.age(),
    ))
}

/// The route the fast path serves.
pub const SESSION_ROUTE: &str = "/v1/checkout-sessions/{id}";

/// The `{id}` of a session path, as sent (ids are never percent-encoded,
/// so the raw segment is the id).
fn session_path_id(path: &str) -> Option<&str> {
    path.strip_prefix("/v1/checkout-sessions/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

/// What every read checks, in this order: the client and its scope, the id,
/// the query, the client's access to the account.
/// `metered`: spend the client's request budget here (the fast path
/// spends only once it knows it answers).
fn check_read<'s>(
    state: &'s AppState,
    uri: &http::Uri,
    raw_id: &str,
    headers: &HeaderMap,
    metered: bool,
) -> Result<(Arc<Client>, SessionId, bool, &'s Account), Error> {
    let client = if metered {
        state.authorize(headers, Scope::SessionsRead)?
    } else {
        state.authorize_unmetered(headers, Scope::SessionsRead)?
    };
    // Ids are path-safe by construction: an encoded one is a trick.
    if uri.path().contains('%') {
        return Err(Error::new(
            ErrorCode::InvalidId,
            "invalid session id: ids are never percent-encoded",
        ));
    }
    let id = parse_id(raw_id)?;
    let include_raw = include_raw(uri.query())?;
    let account = state.account_for(&client, id.provider(), id.account())?;
    Ok((client, id, include_raw, account))
}

/// The answer to a read: the session (as of now), where it came from and,
/// for a cached copy, how old it is.
fn session_response(body: bytes::Bytes, outcome: CacheOutcome, age: Duration) -> Response {
    let mut response = json_response(StatusCode::OK, body);
    let headers = response.headers_mut();
    headers.insert(
        X_CACHE_NAME.clone(),
        HeaderValue::from_static(outcome.header_value()),
    );
    if matches!(outcome, CacheOutcome::Hit | CacheOutcome::Stale) {
        headers.insert(AGE, HeaderValue::from(age.as_secs()));
    }
    if outcome == CacheOutcome::Stale {
        headers.insert(
            WARNING,
            HeaderValue::from_static("110 - \"Response is Stale\""),
        );
    }
    response
}

/// The cache-hit fast path, taken before routing: the same checks and the
/// same answer as `get_session`, without the router and its middleware.
/// Anything but a fresh hit of a valid read (an error, a miss, `no-cache`,
/// an `Idempotency-Key` to validate) is `None` and goes the routed way.
/// Answers with the client it was for.
pub async fn answer_hit(
    state: &AppState,
    request: &http::request::Parts,
) -> Option<(Response, Arc<Client>)> {
    if request.method != http::Method::GET {
        return None;
    }
    let (uri, headers) = (&request.uri, &request.headers);
    let raw_id = session_path_id(uri.path())?;
    if wants_no_cache(headers) || headers.contains_key("idempotency-key") {
        return None;
    }
    let (client, _, include_raw, _) = check_read(state, uri, raw_id, headers, false).ok()?;
    if include_raw {
        return None;
    }
    let entry = state.cache.fresh(raw_id).await?;
    // Over budget: the routed path refuses it, with the error's headers.
    client.budgets.spend(Budget::Requests).ok()?;
    let response = session_response(entry.body(), CacheOutcome::Hit, entry.age());
    Some((response, client))
}

#[utoipa::path(
    post,
    path = "/v1/checkout-sessions",
    tag = "checkout-sessions",
    request_body(content = CreateSession, content_type = "application/json"),
    // Shared answers (401, 403, 405, 414, 431, too_many_requests…) are
    // added to every route by `openapi::SharedResponses`.
    responses(
        (status = 201, description = "Created; also cached", body = CheckoutSession,
         headers(("location" = String), ("x-request-id" = String),
                 ("idempotent-replayed" = String, description = "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`"))),
        (status = 400, description = "`invalid_request` (the message names the field), `unknown_provider`, or `provider_invalid_request` (the vendor refused the create with a 400)", body = checkout_core::error::ErrorBody),
        (status = 404, description = "`not_found`: the account is not visible to this key", body = checkout_core::error::ErrorBody),
        (status = 409, description = "`provider_conflict`: the vendor reports a conflict", body = checkout_core::error::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is too large", body = checkout_core::error::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not sent as JSON", body = checkout_core::error::ErrorBody),
        (status = 422, description = "`unsupported_field` (a field the vendor cannot honour), `idempotency_key_reused`, or `provider_invalid_request` (the vendor refused the create with a 422)", body = checkout_core::error::ErrorBody),
        (status = 429, description = "`rate_limited`: the vendor is rate limiting this account", body = checkout_core::error::ErrorBody),
        (status = 502, description = "`provider_error`, `provider_bad_response`, `provider_auth_failed`: the vendor failed", body = checkout_core::error::ErrorBody),
        (status = 503, description = "`provider_unavailable`: the vendor is unavailable, or its breaker is open", body = checkout_core::error::ErrorBody),
        (status = 504, description = "`provider_timeout`: the vendor did not answer in time", body = checkout_core::error::ErrorBody),
    ),
    security(("client_key" = []))
)]
pub async fn create_session(
    Current(state): Current,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let client = state.authorize(&headers, Scope::SessionsWrite)?;
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(Error::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as `Content-Type: application/json`",
        )
        .into());
    }
    let bytes = to_bytes(body, state.max_body_bytes).await.map_err(|_| {
        Error::new(
            ErrorCode::PayloadTooLarge,
            format!("request body is larger than {} bytes", state.max_body_bytes),
        )
    })?;
    let request = input::parse_create(&bytes, state.allow_http_localhost_urls)?;
    let provider = registry::provider(&request.provider).ok_or_else(|| {
        Error::new(
            ErrorCode::UnknownProvider,
            format!(
                "provider: unknown provider {:?} (supported: {})",
                request.provider,
                registry::provider_names()
            ),
        )
    })?;
    state.account_for(&client, provider.name(), &request.account)?;
    let ctx = context(&headers)?;
    let target = (provider.name().to_owned(), request.account.clone());
    let Some(key) = ctx.idempotency_key.clone() else {
        state.spend(&client, Budget::VendorCalls)?;
        return Ok(created(
            &*create_upstream(&state, &target, &request, &ctx).await?,
        ));
    };
    // Keys are the client's own: two clients may use the same key.
    let scoped_key = format!("{}\u{1f}{key}", client.name);
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    match state
        .idempotency
        .claim(&scoped_key, fingerprint(&body))
        .await
    {
        Claim::Replay(stored) => {
            state.metrics.idempotency_replays.inc();
            return Ok(replay(stored));
        }
        Claim::Mismatch => {
            return Err(Error::new(
                ErrorCode::IdempotencyKeyReused,
                "Idempotency-Key was already used with a different request body",
            )
            .into())
        }
        Claim::New => {}
    }
    // A replay spends no vendor call; a refused new create frees its key.
    if let Err(e) = state.spend(&client, Budget::VendorCalls) {
        state.idempotency.release(&scoped_key).await;
        return Err(e.into());
    }
    // Run to the end even if the caller goes away, so the key always settles
    // and a retry replays instead of creating a second checkout.
    let task = tokio::spawn(async move {
        let result = create_upstream(&state, &target, &request, &ctx).await;
        let vendor_idempotent = state
            .accounts
            .get(&target)
            .is_some_and(|a| a.adapter.create_is_idempotent(&ctx));
        match result {
            Ok(fetched) => {
                state
                    .idempotency
                    .complete(&scoped_key, stored_success(&fetched))
                    .await;
                Ok(fetched)
            }
            Err(e) if worth_replaying(&e, vendor_idempotent) => {
                let e = settled(e, state.idempotency_ttl);
                state
                    .idempotency
                    .complete(&scoped_key, stored_error(&e, &ctx.request_id))
                    .await;
                Err(e)
            }
            Err(e) => {
                state.idempotency.release(&scoped_key).await;
                Err(e)
            }
        }
    });
    let fetched = task
        .await
        .map_err(|_| Error::new(ErrorCode::Internal, "the create task failed"))??;
    Ok(created(&fetched))
}

/// Create through the account's guard and cache the result.
async fn create_upstream(
    state: &AppState,
    target: &(String, String),
    request: &CreateSession,
    ctx: &RequestContext,
) -> Result<Arc<Fetched>, Error> {
    let account = state.accounts.get(target).ok_or_else(Error::not_found)?;
    let fetched = Arc::new(
        account
            .guard
            .create(account.adapter.as_ref(), request, ctx)
            .await?,
    );
    state
        .cache
        .insert(fetched.session.id.clone(), &fetched)
        .await;
    Ok(fetched)
}

fn created(fetched: &Fetched) -> Response {
    let mut response = json_response(StatusCode::CREATED, render(fetched, false));
    if let Ok(location) =
        HeaderValue::from_str(&format!("/v1/checkout-sessions/{}", fetched.session.id))
    {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

/// Whether a failed create is answered the same way on a retry with the
/// same key. Not when nothing happened at the vendor (never sent, rate
/// limited, refused before the call): the retry should try again. When the
/// outcome is unknown (timeout, 5xx), replaying the failure is what keeps a
/// retry from making a second checkout — unless the vendor itself
/// deduplicates, in which case retrying is the better answer.
fn worth_replaying(e: &Error, vendor_idempotent: bool) -> bool {
    match e.code {
        ErrorCode::RateLimited => false,
        _ if e.not_sent => false,
        ErrorCode::ProviderTimeout
        | ErrorCode::ProviderError
        | ErrorCode::ProviderBadResponse
        | ErrorCode::ProviderUnavailable => !vendor_idempotent,
        // The vendor decided (a 4xx): replay its decision.
        _ => e.provider_http_status.is_some(),
    }
}

/// A failure that every retry with this key will replay: a retry with the
/// same key cannot help, so it is not `retryable`, and the message says
/// what can.
fn settled(e: Error, ttl: Duration) -> Error {
    if !e.retryable {
        return e;
    }
    let hours = ttl.as_secs().div_ceil(3600);
    let message = format!(
        "{} The outcome at the vendor is unknown, so this Idempotency-Key gives this same answer for {hours} h; \
         check at the vendor whether the checkout was made before retrying with a new key.",
        e.message
    );
    Error {
        message,
        retryable: false,
        retry_after: None,
        ..e
    }
}

fn stored_success(fetched: &Fetched) -> StoredResponse {
    let response_body =
        serde_json::to_vec(&fetched.session.as_of(chrono::Utc::now())).unwrap_or_default();
    StoredResponse {
        status: StatusCode::CREATED.as_u16(),
        body: response_body.into(),
        location: Some(format!("/v1/checkout-sessions/{}", fetched.session.id)),
        retry_after: None,
    }
}

fn stored_error(e: &Error, request_id: &str) -> StoredResponse {
    StoredResponse {
        status: e.http_status,
        body: serde_json::to_vec(&e.body(Some(request_id)))
            .unwrap_or_default()
            .into(),
        location: None,
        retry_after: e.retry_after.map(|d| d.as_secs()),
    }
}

/// The first response for this key, again.
fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    if let Some(location) = stored.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(LOCATION, location);
    }
    if let Some(after) = stored.retry_after {
        headers.insert(RETRY_AFTER, HeaderValue::from(after));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_before_anything_else() {
        assert!(parse_id("meteroid:default:che_7n42DGM5Tflk9n8mt7Fhc7").is_ok());
        assert_eq!(
            parse_id("stripe:default:cs_1").unwrap_err().code,
            ErrorCode::UnknownProvider
        );
        assert_eq!(
            parse_id("meteroid:default:cus_1").unwrap_err().code,
            ErrorCode::InvalidId
        );
        assert_eq!(
            parse_id("meteroid:default:../x").unwrap_err().code,
            ErrorCode::InvalidId
        );
    }

    #[test]
    fn query_and_cache_control() {
        assert!(include_raw(Some("include=raw")).unwrap());
        assert!(!include_raw(None).unwrap());
        assert!(include_raw(Some("include=everything"))
            .unwrap_err()
            .message
            .contains("include"));
        assert!(include_raw(Some("expand=x"))
            .unwrap_err()
            .message
            .contains("expand"));
        let mut h = HeaderMap::new();
        h.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("max-age=0, No-Cache"),
        );
        assert!(wants_no_cache(&h));
    }
}
