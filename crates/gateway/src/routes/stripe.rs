//! The Stripe-compatible facade (PRODUCT §13): Checkout Sessions as
//! Stripe's API has them, over the canonical flows. Mounted at
//! `/stripe/v1/checkout/sessions…`, and at `/v1/checkout/sessions…` for
//! SDKs that take a host but no base path (stripe-node); the canonical API
//! is `/v1/checkout-sessions`, so the two never meet. Stripe's wire (form
//! encoding, the `checkout.session` object, parameters, errors) is the
//! `stripe-facade` crate's; this file is HTTP in and out. The facade is not
//! in `/openapi.json`: its contract is Stripe's own API reference.

use axum::body::{to_bytes, Body};
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use checkout_core::{CancelSession, CheckoutSession, Error, ErrorCode, RequestContext};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::Value;
use stripe_facade::create::StripeCreate;
use stripe_facade::error::StripeError;
use stripe_facade::{form, id, object, ParamError};

use crate::auth::{Client, Scope};
use crate::http::stripe::{error_response, json, with_request_id};
use crate::idempotency::StoredResponse;
use crate::routes::sessions::context;
use crate::service::create::Created;
use crate::service::read::{self, parse_id, ReadOptions};
use crate::service::{cancel, route, stripe_list};
use crate::state::live::Current;
use crate::state::AppState;

/// The list object's `url`, as Stripe names the resource.
const LIST_URL: &str = "/v1/checkout/sessions";

/// Stripe's header on a replayed idempotent request.
static IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// The connected-account header: here `provider:account`.
const STRIPE_ACCOUNT: &str = "stripe-account";

/// A facade failure, answered in Stripe's shape, with the canonical
/// error's `Retry-After` and whether it was retryable.
pub struct Failure {
    error: StripeError,
    retry_after: Option<u64>,
    retryable: bool,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure {
            error: stripe_facade::error::from_canonical(&e),
            retry_after: e.retry_after.map(|d| d.as_secs().max(1)),
            retryable: e.retryable,
        }
    }
}

impl From<ParamError> for Failure {
    fn from(e: ParamError) -> Self {
        stripe_facade::error::from_param(&e).into()
    }
}

impl From<StripeError> for Failure {
    fn from(error: StripeError) -> Self {
        Failure {
            error,
            retry_after: None,
            retryable: false,
        }
    }
}

/// Whether the request may be repeated without effect: a read, a list or
/// a keyed create makes no second checkout, so a retryable failure of one
/// says so to the SDK's retry loop (`Stripe-Should-Retry: true`); a create
/// without a key, or an expire, follows the facade's rule (only where
/// nothing was sent).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Safe {
    Yes,
    No,
}

/// Every facade answer carries the request id as Stripe's `Request-Id`.
fn finish(headers: &HeaderMap, safe: Safe, result: Result<Response, Failure>) -> Response {
    let mut response = match result {
        Ok(response) => response,
        Err(mut failure) => {
            if safe == Safe::Yes && failure.retryable {
                failure.error.should_retry = true;
            }
            error_response(&failure.error, failure.retry_after)
        }
    };
    with_request_id(headers, &mut response);
    response
}

/// Stripe takes form bodies only; a JSON body is refused as Stripe does.
fn check_form(headers: &HeaderMap) -> Result<(), Failure> {
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    match media.as_deref() {
        None | Some("application/x-www-form-urlencoded") => Ok(()),
        Some(other) => Err(Failure::from(stripe_facade::error::invalid_request(
            &format!(
                "Invalid request: the body must be sent as application/x-www-form-urlencoded, not {other}"
            ),
            None,
        ))),
    }
}

async fn form_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<serde_json::Map<String, Value>, Failure> {
    check_form(headers)?;
    let bytes = to_bytes(body, state.max_body_bytes).await.map_err(|_| {
        Error::new(
            ErrorCode::PayloadTooLarge,
            format!("request body is larger than {} bytes", state.max_body_bytes),
        )
    })?;
    Ok(form::decode(&bytes)?)
}

fn query_params(uri: &http::Uri) -> Result<serde_json::Map<String, Value>, Failure> {
    Ok(form::decode(uri.query().unwrap_or("").as_bytes())?)
}

/// `expand[]` of a retrieve or expire (create and list read their own).
fn expand_of(params: &serde_json::Map<String, Value>) -> Vec<String> {
    match params.get("expand") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// No expansion is offered: each one asked for is refused, never ignored.
fn refuse_expand(expand: &[String]) -> Result<(), Failure> {
    match expand.first() {
        None => Ok(()),
        Some(field) => Err(Failure::from(stripe_facade::error::invalid_request(
            &format!("This property cannot be expanded ({field}): this API offers no expansions."),
            Some("expand[0]"),
        ))),
    }
}

/// `Stripe-Account: provider:account`, if sent.
fn stripe_account(headers: &HeaderMap) -> Result<Option<(String, String)>, Failure> {
    let Some(value) = headers.get(STRIPE_ACCOUNT) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(':'))
        .filter(|(p, a)| !p.is_empty() && !a.is_empty() && !a.contains(':'))
        .map(|(p, a)| Some((p.to_owned(), a.to_owned())))
        .ok_or_else(|| {
            Failure::from(stripe_facade::error::invalid_request(
                "Stripe-Account: give the account as `provider:account` (e.g. `meteroid:default`)",
                None,
            ))
        })
}

pub async fn create(Current(state): Current, headers: HeaderMap, body: Body) -> Response {
    let result = create_session(&state, &headers, body).await;
    // With an Idempotency-Key (the SDKs send one on every create) a retry
    // replays, or finds the first attempt's session, or creates only once
    // the vendor is known to hold none: never a second checkout.
    let safe = if headers.contains_key("idempotency-key") {
        Safe::Yes
    } else {
        Safe::No
    };
    finish(&headers, safe, result)
}

async fn create_session(
    state: &std::sync::Arc<AppState>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Failure> {
    let client = state.authorize(headers, Scope::SessionsWrite)?;
    let params = form_body(state, headers, body).await?;
    let StripeCreate {
        mut request,
        mode,
        expand,
    } = stripe_facade::create::create(&params)?;
    refuse_expand(&expand)?;
    if let Some((provider, account)) = stripe_account(headers)? {
        request.provider = provider;
        request.account = account;
    }
    crate::service::input::validate(&request, state.allow_http_localhost_urls)?;
    let ctx = context(headers)?;
    if let Some(mode) = mode {
        check_mode(state, &client, &request, &ctx, mode).await?;
    }
    // The idempotency fingerprint: the decoded parameters and the target,
    // so the same key with other parameters (or another account) is refused.
    let fingerprint = serde_json::to_vec(&serde_json::json!({
        "stripe": params,
        "account": headers.get(STRIPE_ACCOUNT).and_then(|v| v.to_str().ok()),
    }))
    .unwrap_or_default();
    let (created, _) = route::create(state.clone(), &client, request, &fingerprint, ctx).await?;
    match created {
        Created::New(fetched) => Ok(json(
            StatusCode::OK,
            &object::session(&fetched.session.as_of(chrono::Utc::now())),
        )),
        Created::Replayed(stored) => replayed(stored),
        Created::Elsewhere(_) => {
            Err(Error::new(ErrorCode::Internal, "a create was left unrouted").into())
        }
    }
}

/// A `mode` the chosen account cannot make is refused before any call.
async fn check_mode(
    state: &AppState,
    client: &Client,
    request: &checkout_core::CreateSession,
    ctx: &RequestContext,
    mode: stripe_facade::create::Mode,
) -> Result<(), Failure> {
    let explained = route::explain(state, client, request, ctx).await?;
    let targets = std::iter::once(&explained.target).chain(&explained.fallback);
    for target in targets {
        let (provider, account) = target.split_once(':').unwrap_or_default();
        let Some(account) = state
            .accounts
            .get(&(provider.to_owned(), account.to_owned()))
        else {
            continue;
        };
        let makes = account.provider.create_purposes();
        if !mode.purposes().iter().any(|p| makes.contains(p)) {
            return Err(Failure::from(stripe_facade::error::invalid_request(
                &format!(
                    "mode `{}` cannot be made at {target} ({provider} checkouts are {})",
                    mode.as_str(),
                    purposes_text(makes)
                ),
                Some("mode"),
            )));
        }
    }
    Ok(())
}

fn purposes_text(purposes: &[checkout_core::Purpose]) -> String {
    purposes
        .iter()
        .map(|p| {
            serde_json::to_value(p)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first answer to this key again, in Stripe's shape.
fn replayed(stored: StoredResponse) -> Result<Response, Failure> {
    let mut response = if stored.status == StatusCode::CREATED.as_u16() {
        let session: CheckoutSession = serde_json::from_str(&stored.body)
            .map_err(|_| Error::new(ErrorCode::Internal, "a stored answer is unreadable"))?;
        json(StatusCode::OK, &object::session(&session))
    } else {
        let e = stored_error(&stored);
        error_response(
            &stripe_facade::error::from_canonical(&e),
            stored.retry_after_secs,
        )
    };
    response.headers_mut().insert(
        IDEMPOTENT_REPLAYED.clone(),
        HeaderValue::from_static("true"),
    );
    Ok(response)
}

/// A stored canonical error body as the error it was.
fn stored_error(stored: &StoredResponse) -> Error {
    let body: Value = serde_json::from_str(&stored.body).unwrap_or_default();
    crate::service::stripe_list::error_of(&body["error"], stored.status)
}

pub async fn retrieve(
    Current(state): Current,
    Path(stripe_id): Path<String>,
    uri: http::Uri,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let client = state.authorize(&headers, Scope::SessionsRead)?;
        let params = query_params(&uri)?;
        refuse_expand(&expand_of(&params))?;
        if let Some(other) = params.keys().find(|k| k.as_str() != "expand") {
            return Err(unknown_parameter(other));
        }
        let session = read_session(&state, &client, &stripe_id, &headers).await?;
        Ok(json(StatusCode::OK, &object::session(&session)))
    }
    .await;
    finish(&headers, Safe::Yes, result)
}

fn unknown_parameter(name: &str) -> Failure {
    Failure::from(stripe_facade::error::invalid_request(
        &format!("Received unknown parameter: {name}"),
        Some(name),
    ))
}

/// The route templates of a retrieve, one per mount (metrics' `route`).
pub const RETRIEVE_ROUTES: [&str; 2] = [
    "/stripe/v1/checkout/sessions/{id}",
    "/v1/checkout/sessions/{id}",
];

/// The cache-hit fast path of a retrieve, taken before routing like the
/// canonical one (`sessions::answer_hit`): the same checks and answer as
/// `retrieve`, the Stripe object made once per cached rendering. Anything
/// but a fresh hit of a plain retrieve is `None` and goes the routed way.
/// Answers with its route template and the client it was for.
pub async fn answer_hit(
    state: &AppState,
    request: &http::request::Parts,
) -> Option<(Response, &'static str, std::sync::Arc<Client>)> {
    if request.method != http::Method::GET || request.uri.query().is_some() {
        return None;
    }
    let path = request.uri.path();
    let (route, stripe_id) = crate::http::stripe::MOUNTS
        .iter()
        .zip(RETRIEVE_ROUTES)
        .find_map(|(mount, route)| {
            let id = path.strip_prefix(mount)?.strip_prefix('/')?;
            (!id.is_empty() && !id.contains('/')).then_some((route, id))
        })?;
    let client = state
        .authorize_unmetered(&request.headers, Scope::SessionsRead)
        .ok()?;
    let (raw_id, id) = canonical_id(stripe_id).ok()?;
    state
        .account_for(&client, id.provider(), id.account())
        .ok()?;
    let hit = read::fresh_hit(state, &client, &raw_id).await?;
    let body = state
        .stripe_renders
        .get_or_render(&raw_id, &hit.body, |canonical| {
            let session: CheckoutSession = serde_json::from_slice(canonical).ok()?;
            serde_json::to_vec(&object::session(&session))
                .ok()
                .map(bytes::Bytes::from)
        })?;
    let mut response = json_bytes(body);
    with_request_id(&request.headers, &mut response);
    Some((response, route, client))
}

fn json_bytes(body: bytes::Bytes) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The canonical id a `cs_…` id stands for; anything else is not found.
pub fn canonical_id(stripe_id: &str) -> Result<(String, checkout_core::SessionId), Failure> {
    let missing = || {
        Failure::from(stripe_facade::error::from_canonical(&Error::new(
            ErrorCode::NotFound,
            format!("No such checkout.session: '{stripe_id}'"),
        )))
    };
    let raw = id::decode(stripe_id).ok_or_else(missing)?;
    let id = parse_id(&raw).map_err(|_| missing())?;
    Ok((raw, id))
}

/// One session through the canonical read (cache first), by its `cs_…` id.
pub async fn read_session(
    state: &AppState,
    client: &Client,
    stripe_id: &str,
    headers: &HeaderMap,
) -> Result<CheckoutSession, Failure> {
    let (raw_id, id) = canonical_id(stripe_id)?;
    read_canonical(state, client, &raw_id, &id, headers).await
}

async fn read_canonical(
    state: &AppState,
    client: &Client,
    raw_id: &str,
    id: &checkout_core::SessionId,
    headers: &HeaderMap,
) -> Result<CheckoutSession, Failure> {
    let account = state.account_for(client, id.provider(), id.account())?;
    let ctx = context(headers)?;
    let options = ReadOptions {
        no_cache: false,
        include_raw: false,
    };
    let read = read::read(state, client, account, id, raw_id, options, &ctx).await?;
    serde_json::from_slice(&read.body)
        .map_err(|_| Error::new(ErrorCode::Internal, "a cached session is unreadable").into())
}

pub async fn expire(
    Current(state): Current,
    Path(stripe_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let client = state.authorize(&headers, Scope::SessionsWrite)?;
        let params = form_body(&state, &headers, body).await?;
        refuse_expand(&expand_of(&params))?;
        if let Some(other) = params.keys().find(|k| k.as_str() != "expand") {
            return Err(unknown_parameter(other));
        }
        let (raw_id, id) = canonical_id(&stripe_id)?;
        // Stripe expires open sessions only; the canonical cancel also
        // answers 200 for one already canceled.
        let current = read_canonical(&state, &client, &raw_id, &id, &headers).await?;
        if object::status(current.status) != "open" {
            return Err(Failure::from(stripe_facade::error::invalid_request(
                "Only Checkout Sessions with a status in [\"open\"] can be expired.",
                None,
            )));
        }
        let account = state.account_for(&client, id.provider(), id.account())?;
        let ctx = context(&headers)?;
        let body = cancel::cancel(
            &state,
            &client,
            account,
            &id,
            &CancelSession::default(),
            &ctx,
        )
        .await?;
        let session: CheckoutSession = serde_json::from_slice(&body)
            .map_err(|_| Error::new(ErrorCode::Internal, "a canceled session is unreadable"))?;
        Ok(json(StatusCode::OK, &object::session(&session)))
    }
    .await;
    finish(&headers, Safe::No, result)
}

pub async fn list(Current(state): Current, uri: http::Uri, headers: HeaderMap) -> Response {
    let result = async {
        let client = state.authorize(&headers, Scope::SessionsRead)?;
        let params = query_params(&uri)?;
        let query = stripe_facade::list::list(&params)?;
        refuse_expand(&query.expand)?;
        let accounts = stripe_account(&headers)?.map(|a| vec![a]);
        let ctx = context(&headers)?;
        let anchor = match (&query.starting_after, &query.ending_before) {
            (Some(id), _) => Some((true, id)),
            (None, Some(id)) => Some((false, id)),
            (None, None) => None,
        };
        let anchor = match anchor {
            Some((after, raw_id)) => {
                let param = if after {
                    "starting_after"
                } else {
                    "ending_before"
                };
                let id = parse_id(raw_id).map_err(|_| {
                    Failure::from(stripe_facade::error::invalid_request(
                        &format!("{param}: not a checkout session id from this API"),
                        Some(param),
                    ))
                })?;
                let session = read_canonical(&state, &client, raw_id, &id, &headers).await?;
                Some(stripe_list::Anchor {
                    after,
                    created_at: session.created_at,
                    id: session.id,
                })
            }
            None => None,
        };
        let page = stripe_list::page(&state, &client, accounts, &query, anchor, &ctx).await?;
        let data = page.data.iter().map(object::session).collect();
        Ok(json(
            StatusCode::OK,
            &object::list(data, page.has_more, LIST_URL),
        ))
    }
    .await;
    finish(&headers, Safe::Yes, result)
}
