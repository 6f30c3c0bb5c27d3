//! `GET /v1/checkout-sessions/{id}`, `POST /v1/checkout-sessions` and
//! `POST /v1/checkout-sessions/{id}/cancel`: what HTTP carries (path,
//! query, headers, body) in and out; the flows are in `service`.

use std::sync::Arc;

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
use crate::http::errors::{ApiError, REQUEST_ID};
use crate::idempotency::StoredResponse;
use crate::service::cancel;
use crate::service::create::Created;
use crate::service::input;
use crate::service::read::{self, parse_id, ReadOptions, SessionRead};
use crate::service::route::{self, Route};
use crate::state::live::Current;
use crate::state::{Account, AppState};

pub const X_CACHE: &str = "x-cache";
/// Parsed once: inserting by `&str` parses the name on every response.
static X_CACHE_NAME: HeaderName = HeaderName::from_static(X_CACHE);
/// Set on a create answered from the idempotency store.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// Longest `Idempotency-Key` accepted (Stripe's limit).
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

pub fn context(headers: &HeaderMap) -> Result<RequestContext, Error> {
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
    let options = ReadOptions {
        no_cache: wants_no_cache(headers),
        include_raw,
    };
    let read = read::read(&state, &client, account, &id, raw_id, options, &ctx).await?;
    Ok(session_response(read))
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
fn session_response(read: SessionRead) -> Response {
    let SessionRead { body, outcome, age } = read;
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
    let hit = read::fresh_hit(state, &client, raw_id).await?;
    Some((session_response(hit), client))
}

#[utoipa::path(
    post,
    path = "/v1/checkout-sessions",
    tag = "checkout-sessions",
    request_body(content = CreateSession, content_type = "application/json"),
    // Shared answers (401, 403, 405, 414, 431, too_many_requests…) are
    // added to every route by `openapi::SharedResponses`.
    responses(
        (status = 201, description = "Created; also cached. A create without `provider` and `account` is routed (PRODUCT §12) and its answer says how in the `x-routing-*` headers", body = CheckoutSession,
         headers(("location" = String), ("x-request-id" = String),
                 ("idempotent-replayed" = String, description = "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`"),
                 ("x-routing-rule" = String, description = "Routed creates: the rule that chose the target, or `default`"),
                 ("x-routing-target" = String, description = "Routed creates: `provider:account` the session was made at"),
                 ("x-routing-bucket" = u16, description = "Routed creates chosen by a split: the customer's bucket in 0..10000"),
                 ("x-routing-fallback-from" = String, description = "Routed creates that fell back: the targets that refused before any vendor call, comma-separated"))),
        (status = 400, description = "`invalid_request` (the message names the field), `unknown_provider`, or `provider_invalid_request` (the vendor refused the create with a 400)", body = checkout_core::error::ErrorBody),
        (status = 404, description = "`not_found`: the account is not visible to this key", body = checkout_core::error::ErrorBody),
        (status = 409, description = "`provider_conflict` (the vendor reports a conflict), or `idempotency_in_progress`: another request with this `Idempotency-Key` is still running (retry after `Retry-After`)", body = checkout_core::error::ErrorBody,
         headers(("retry-after" = u64, description = "Seconds to wait, on `idempotency_in_progress`"))),
        (status = 413, description = "`payload_too_large`: the body is too large", body = checkout_core::error::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not sent as JSON", body = checkout_core::error::ErrorBody),
        (status = 422, description = "`unsupported_field` (a field the vendor cannot honour), `idempotency_key_reused`, `provider_invalid_request` (the vendor refused the create with a 422), `no_route` (a create without provider and account that no routing rule takes), or `not_mapped` (a routed create's customer or plan alias has no reference at the chosen target; nothing was sent)", body = checkout_core::error::ErrorBody),
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
    let (request, bytes) = create_body(&state, &headers, body).await?;
    let ctx = context(&headers)?;
    let (outcome, route) = route::create(state, &client, request, &bytes, ctx).await?;
    let mut response = match outcome {
        Created::New(fetched) => created(&fetched),
        Created::Replayed(stored) => replay(stored),
        // `route::create` makes the create where the key's first attempt went.
        Created::Elsewhere(_) => {
            return Err(Error::new(ErrorCode::Internal, "a create was left unrouted").into())
        }
    };
    if let Some(route) = route {
        route_headers(response.headers_mut(), &route);
    }
    Ok(response)
}

/// A create body (also what `POST /v1/routing/explain` takes), read and
/// checked: JSON, within the size limit, every field valid.
pub async fn create_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(CreateSession, bytes::Bytes), Error> {
    if !is_json(headers) {
        return Err(Error::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as `Content-Type: application/json`",
        ));
    }
    let bytes = to_bytes(body, state.max_body_bytes).await.map_err(|_| {
        Error::new(
            ErrorCode::PayloadTooLarge,
            format!("request body is larger than {} bytes", state.max_body_bytes),
        )
    })?;
    let request = input::parse_create(&bytes, state.allow_http_localhost_urls)?;
    Ok((request, bytes))
}

/// Which rule chose a routed create's target (`x-routing-*`, documented
/// on the route).
fn route_headers(headers: &mut HeaderMap, route: &Route) {
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    set(ROUTING_RULE, &route.rule);
    set(ROUTING_TARGET, &route.target);
    if let Some(bucket) = route.bucket {
        set(ROUTING_BUCKET, &bucket.to_string());
    }
    if !route.fell_back_from.is_empty() {
        set(ROUTING_FALLBACK_FROM, &route.fell_back_from.join(","));
    }
}

/// The rule (or `default`) that chose a routed create's target.
pub const ROUTING_RULE: &str = "x-routing-rule";
/// `provider:account` a routed create went to.
pub const ROUTING_TARGET: &str = "x-routing-target";
/// The customer's bucket (0..10000), when a split chose.
pub const ROUTING_BUCKET: &str = "x-routing-bucket";
/// Targets that refused before any vendor call, when a fallback was used.
pub const ROUTING_FALLBACK_FROM: &str = "x-routing-fallback-from";

#[utoipa::path(
    post,
    path = "/v1/checkout-sessions/{id}/cancel",
    tag = "checkout-sessions",
    params(
        ("id" = String, Path, description = "`provider:account:provider_session_id`", example = "meteroid:default:che_7n42DGM5Tflk9n8mt7Fhc7"),
    ),
    request_body(content = Option<input::CancelBody>, content_type = "application/json", description = "Optional; an empty body cancels without a reason"),
    // Shared answers (401, 403, 405, 414, 431, too_many_requests…) are
    // added to every route by `openapi::SharedResponses`.
    responses(
        (status = 200, description = "The session, now `canceled` (also when it already was); the cache holds it", body = CheckoutSession),
        (status = 400, description = "`invalid_id`, `unknown_provider`, `invalid_request` (the message names the field), or `provider_invalid_request`", body = checkout_core::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session (or not visible to this key)", body = checkout_core::error::ErrorBody),
        (status = 409, description = "`invalid_state`: the session is complete, expired or failed, or the vendor refuses while a payment is under way", body = checkout_core::error::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: a body not sent as JSON", body = checkout_core::error::ErrorBody),
        (status = 422, description = "`unsupported_operation`: this vendor cannot cancel (answered before any vendor call)", body = checkout_core::error::ErrorBody),
        (status = 429, description = "`rate_limited`: the vendor is rate limiting this account", body = checkout_core::error::ErrorBody),
        (status = 502, description = "`provider_error`, `provider_bad_response`, `provider_auth_failed`: the vendor failed", body = checkout_core::error::ErrorBody),
        (status = 503, description = "`provider_unavailable`: the vendor is unavailable, or its breaker is open", body = checkout_core::error::ErrorBody),
        (status = 504, description = "`provider_timeout`: the vendor did not answer in time", body = checkout_core::error::ErrorBody),
    ),
    security(("client_key" = []))
)]
pub async fn cancel_session(
    Current(state): Current,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    let client = state.authorize(headers, Scope::SessionsWrite)?;
    if parts.uri.path().contains('%') {
        return Err(Error::new(
            ErrorCode::InvalidId,
            "invalid session id: ids are never percent-encoded",
        )
        .into());
    }
    let raw_id = parts
        .uri
        .path()
        .strip_prefix("/v1/checkout-sessions/")
        .and_then(|rest| rest.strip_suffix("/cancel"))
        .unwrap_or_default();
    let id = parse_id(raw_id)?;
    if parts.uri.query().is_some_and(|q| !q.is_empty()) {
        return Err(Error::invalid_request("this route takes no query parameters").into());
    }
    let account = state.account_for(&client, id.provider(), id.account())?;
    let bytes = to_bytes(body, state.max_body_bytes).await.map_err(|_| {
        Error::new(
            ErrorCode::PayloadTooLarge,
            format!("request body is larger than {} bytes", state.max_body_bytes),
        )
    })?;
    if !bytes.iter().all(u8::is_ascii_whitespace) && !is_json(headers) {
        return Err(Error::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as `Content-Type: application/json`",
        )
        .into());
    }
    let request = input::parse_cancel(&bytes)?;
    let ctx = context(headers)?;
    let body = cancel::cancel(&state, &client, account, &id, &request, &ctx).await?;
    Ok(json_response(StatusCode::OK, body))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
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
    if let Some(after) = stored.retry_after_secs {
        headers.insert(RETRY_AFTER, HeaderValue::from(after));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

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
