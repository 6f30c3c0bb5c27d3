//! `POST /v1/vendor-webhooks/{provider}/{account}`: a vendor's own webhook
//! (Flowglad's, sent through Svix) taken as a hint that some tracked
//! sessions changed. Those sessions are read again from the vendor at once,
//! past the cache, through the normal read, which refreshes the cache and
//! lets the tracker record the change. There is no client key: the
//! vendor's signature (Standard Webhooks, which Svix uses too) checked
//! against the account's `[vendor_webhooks.<provider>.<account>]` secret is
//! the authentication.
//!
//! Polling stays the source of truth. A hint that is lost, late, refused or
//! matches nothing only means the next poll finds the change. What a
//! vendor's payload means (which events, which key) is the vendor's
//! adapter's business ([`checkout_core::Connector::webhook_hint`]).

use std::collections::HashSet;
use std::num::NonZeroU32;
use std::sync::OnceLock;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::Path;
use axum::Json;
use checkout_core::adapter::WebhookHint;
use checkout_core::{Error, ErrorCode, RequestContext};
use feed::signature::{self, Secret};
use futures::StreamExt;
use http::HeaderMap;
use serde::Serialize;
use store::{Store, StoreError, Tracked};
use utoipa::ToSchema;

use crate::auth::rate_limit::ClientBudgets;
use crate::auth::{Client, Grants, Scope};
use crate::http::errors::{ApiError, REQUEST_ID};
use crate::registry;
use crate::service::read::{self, ReadOptions};
use crate::state::live::Current;
use crate::state::{Account, AppState};

/// How far a signature's timestamp may be from now (Standard Webhooks' and
/// Svix's own tolerance): an older message is a replay.
pub const TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// At most this many sessions are read again for one webhook whose key no
/// tracked session holds yet (see [`candidates`]).
const MAX_UNKEYED: usize = 20;
/// Open sessions looked at to find those.
const UNKEYED_SCAN: i64 = 200;
/// Sessions read from the vendor at the same time for one webhook.
const PARALLEL_READS: usize = 4;

/// The answer: how many sessions were read again.
#[derive(Debug, Serialize, ToSchema)]
pub struct Refreshed {
    pub refreshed: usize,
}

#[utoipa::path(
    post,
    path = "/v1/vendor-webhooks/{provider}/{account}",
    tag = "change-feed",
    params(
        ("provider" = String, Path, description = "The vendor, e.g. `flowglad`"),
        ("account" = String, Path, description = "The account, as configured"),
    ),
    request_body(content = String, content_type = "application/json", description = "The vendor's webhook body, exactly as signed (Flowglad: Svix's `svix-id`, `svix-timestamp`, `svix-signature` headers; `webhook-*` are accepted too)"),
    responses(
        (status = 200, description = "Verified. The sessions the webhook concerns were read from the vendor again (0 when it names none the gateway tracks, or says nothing about checkouts)", body = Refreshed),
        (status = 401, description = "`unauthenticated`: the signature headers are missing, no signature matches the account's secret, or the timestamp is more than 5 minutes away; nothing changed", body = checkout_core::error::ErrorBody),
        (status = 404, description = "`not_found`: no such account, or no vendor-webhook secret configured for it", body = checkout_core::error::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is larger than `server.max_body_bytes`", body = checkout_core::error::ErrorBody),
        (status = 500, description = "`internal`: the store is unavailable; the vendor should retry", body = checkout_core::error::ErrorBody),
    ),
)]
pub async fn vendor_webhook(
    Current(state): Current,
    Path((provider, account)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Refreshed>, ApiError> {
    // A closed set of labels: configured providers, else `unknown`.
    let label = registry::provider(&provider).map_or("unknown", |p| p.name());
    let outcome = handle(&state, &provider, &account, &headers, body).await;
    let name = match &outcome {
        Ok(Handled::Ignored) => "ignored",
        Ok(Handled::Refreshed { refreshed: 0, .. }) => "unmatched",
        Ok(Handled::Refreshed { refreshed, matched }) if refreshed < matched => "partial",
        Ok(Handled::Refreshed { .. }) => "refreshed",
        Err(e) => match e.code {
            ErrorCode::NotFound => "not_found",
            ErrorCode::Unauthenticated => "unauthorized",
            ErrorCode::PayloadTooLarge => "too_large",
            _ => "failed",
        },
    };
    state.metrics.vendor_webhook(label, name);
    match outcome {
        Ok(handled) => {
            let refreshed = handled.refreshed();
            tracing::info!(
                provider = label,
                account,
                outcome = name,
                refreshed,
                "vendor webhook"
            );
            Ok(Json(Refreshed { refreshed }))
        }
        Err(e) => {
            tracing::warn!(provider = label, account, outcome = name, error = %e.message, "vendor webhook refused");
            Err(e.into())
        }
    }
}

enum Handled {
    /// Verified, but about nothing a checkout session shows.
    Ignored,
    /// Of `matched` sessions, `refreshed` were read again.
    Refreshed { matched: usize, refreshed: usize },
}

impl Handled {
    fn refreshed(&self) -> usize {
        match self {
            Handled::Ignored => 0,
            Handled::Refreshed { refreshed, .. } => *refreshed,
        }
    }
}

async fn handle(
    state: &AppState,
    provider: &str,
    account_name: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Handled, Error> {
    let (Some(account), Some(secrets)) = (
        state
            .accounts
            .get(&(provider.to_owned(), account_name.to_owned())),
        state.vendor_webhooks.of(provider, account_name),
    ) else {
        return Err(Error::new(
            ErrorCode::NotFound,
            "no vendor webhook is configured for this provider and account",
        ));
    };
    let bytes = to_bytes(body, state.max_body_bytes).await.map_err(|_| {
        Error::new(
            ErrorCode::PayloadTooLarge,
            format!("request body is larger than {} bytes", state.max_body_bytes),
        )
    })?;
    verify(secrets, headers, &bytes)?;
    let Some(hint) = account.connector.webhook_hint(&bytes) else {
        return Ok(Handled::Ignored);
    };
    let store = state.feed.store().await?;
    let tracked = format!("{provider}:{account_name}");
    let sessions = candidates(store, &tracked, &hint)
        .await
        .map_err(store_unavailable)?;
    let ctx = RequestContext {
        request_id: headers
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        idempotency_key: None,
    };
    let matched = sessions.len();
    let refreshed = futures::stream::iter(sessions)
        .map(|session| refresh(state, account, session, &ctx))
        .buffer_unordered(PARALLEL_READS)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    Ok(Handled::Refreshed { matched, refreshed })
}

/// Svix's headers, or the Standard Webhooks names they stand for.
fn header<'a>(headers: &'a HeaderMap, svix: &str, standard: &str) -> Option<&'a str> {
    headers
        .get(svix)
        .or_else(|| headers.get(standard))
        .and_then(|v| v.to_str().ok())
}

fn verify(secrets: &[Secret], headers: &HeaderMap, body: &[u8]) -> Result<(), Error> {
    let refused = |why: &str| {
        Error::new(
            ErrorCode::Unauthenticated,
            format!("vendor webhook refused: {why}"),
        )
    };
    let (Some(id), Some(timestamp), Some(signatures)) = (
        header(headers, "svix-id", "webhook-id"),
        header(headers, "svix-timestamp", "webhook-timestamp"),
        header(headers, "svix-signature", "webhook-signature"),
    ) else {
        return Err(refused(
            "it is not signed: send svix-id, svix-timestamp and svix-signature (or webhook-id, webhook-timestamp and webhook-signature)",
        ));
    };
    signature::verify(
        secrets,
        id,
        timestamp,
        signatures,
        body,
        chrono::Utc::now(),
        TOLERANCE,
    )
    .map_err(|e| refused(&e.to_string()))
}

/// The tracked sessions a hint concerns. First, the open sessions that
/// hold its key. If no tracked session holds it at all, the key is new to
/// the gateway: a vendor may give a session its key only as it completes
/// (Flowglad makes the purchase then), after the gateway last saw it. Then
/// the candidates are the open sessions without a key that belong to the
/// event's customer, or to no known customer (anonymous checkouts), at
/// most [`MAX_UNKEYED`] of them. A terminal session cannot change, so it is
/// never read again.
async fn candidates(
    store: &Store,
    account: &str,
    hint: &WebhookHint,
) -> Result<Vec<Tracked>, StoreError> {
    let keyed = store.tracked_by_hint(account, &hint.key).await?;
    if !keyed.is_empty() {
        return Ok(keyed.into_iter().filter(is_open).collect());
    }
    // Every open session of the account: due at the end of time.
    let open = store.due(account, i64::MAX, UNKEYED_SCAN).await?;
    Ok(open
        .into_iter()
        .filter(|t| is_open(t) && t.hint.is_none())
        .filter(|t| may_be_the_customers(&t.state, hint.customer_id.as_deref()))
        .take(MAX_UNKEYED)
        .collect())
}

fn is_open(tracked: &Tracked) -> bool {
    tracked.terminal_ms.is_none()
}

/// Whether a session (its canonical JSON) may be the checkout of
/// `customer`: it is theirs, or it has no known customer yet.
fn may_be_the_customers(state: &str, customer: Option<&str>) -> bool {
    let Ok(session) = serde_json::from_str::<serde_json::Value>(state) else {
        return false;
    };
    match session["customer"]["id"].as_str() {
        None => true,
        Some(id) => customer == Some(id),
    }
}

/// Read `session` from the vendor past the cache, as `Cache-Control:
/// no-cache` does. Whether it was read.
async fn refresh(
    state: &AppState,
    account: &Account,
    session: Tracked,
    ctx: &RequestContext,
) -> bool {
    let id = match read::parse_id(&session.session_id) {
        Ok(id) => id,
        Err(e) => {
            tracing::warn!(session = %session.session_id, error = %e.message, "a tracked session id is not valid");
            return false;
        }
    };
    let options = ReadOptions {
        no_cache: true,
        include_raw: false,
    };
    match read::read(
        state,
        hint_reader(),
        account,
        &id,
        &session.session_id,
        options,
        ctx,
    )
    .await
    {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(session = %session.session_id, error = %e.message, "a hinted session could not be read; the poller will");
            false
        }
    }
}

/// The reads a hint causes spend this budget, not a client's: a vendor
/// sending many webhooks cannot make the gateway call it without bound.
fn hint_reader() -> &'static Client {
    static READER: OnceLock<Client> = OnceLock::new();
    READER.get_or_init(|| {
        let per_second = NonZeroU32::MIN.saturating_add(49);
        Client::new(
            "vendor-webhooks".to_owned(),
            Vec::new(),
            Grants {
                every_account: true,
                ..Grants::default()
            },
            HashSet::from([Scope::SessionsRead]),
            ClientBudgets::new(per_second, per_second),
        )
    })
}

fn store_unavailable(e: StoreError) -> Error {
    tracing::error!(error = %e, "the store failed");
    let mut error = Error::new(
        ErrorCode::Internal,
        "the gateway's store is unavailable; retry later",
    );
    error.retryable = true;
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn signed(body: &[u8], at: i64, svix: bool) -> HeaderMap {
        let secret = Secret::parse(SECRET).unwrap();
        let prefix = if svix { "svix" } else { "webhook" };
        let mut headers = HeaderMap::new();
        let put = |h: &mut HeaderMap, name: &str, value: String| {
            h.insert(
                http::HeaderName::from_bytes(format!("{prefix}-{name}").as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        };
        put(&mut headers, "id", "msg_1".into());
        put(&mut headers, "timestamp", at.to_string());
        put(
            &mut headers,
            "signature",
            signature::sign(&secret, "msg_1", at, body),
        );
        headers
    }

    #[test]
    fn svix_and_standard_headers_verify_and_anything_else_is_refused() {
        let secrets = [Secret::parse(SECRET).unwrap()];
        let body = br#"{"id":"prch_1","object":"purchase"}"#;
        let now = chrono::Utc::now().timestamp();
        assert!(verify(&secrets, &signed(body, now, true), body).is_ok());
        assert!(verify(&secrets, &signed(body, now, false), body).is_ok());
        let refused = |headers: &HeaderMap, body: &[u8]| {
            let e = verify(&secrets, headers, body).unwrap_err();
            assert_eq!((e.code, e.http_status), (ErrorCode::Unauthenticated, 401));
            e.message
        };
        assert!(refused(&HeaderMap::new(), body).contains("not signed"));
        assert!(refused(&signed(body, now, true), b"{}").contains("no signature matches"));
        assert!(refused(&signed(body, now - 301, true), body).contains("too old"));
        let other = Secret::parse("whsec_c2VjcmV0LW9mLWFub3RoZXItZW5kcG9pbnQ=").unwrap();
        let e = verify(&[other], &signed(body, now, true), body).unwrap_err();
        assert!(!e.message.contains("whsec_"), "{}", e.message);
    }

    #[test]
    fn a_new_key_may_be_the_customers_or_an_anonymous_session() {
        let theirs = r#"{"customer":{"id":"cust_1"}}"#;
        assert!(may_be_the_customers(theirs, Some("cust_1")));
        assert!(!may_be_the_customers(theirs, Some("cust_2")));
        assert!(!may_be_the_customers(theirs, None));
        for anonymous in [
            r#"{"customer":null}"#,
            r#"{}"#,
            r#"{"customer":{"email":"a@b.c"}}"#,
        ] {
            assert!(
                may_be_the_customers(anonymous, Some("cust_1")),
                "{anonymous}"
            );
            assert!(may_be_the_customers(anonymous, None), "{anonymous}");
        }
        assert!(!may_be_the_customers("not json", None));
    }

    /// Record a tracked session as the tracker would.
    async fn track(
        store: &Store,
        id: &str,
        customer: Option<&str>,
        hint: Option<&str>,
        terminal: bool,
    ) {
        let state = serde_json::json!({"id": id, "customer": customer.map(|c| serde_json::json!({"id": c}))});
        let obs = store::Observation {
            session_id: id,
            account: "flowglad:default",
            status: if terminal { "complete" } else { "open" },
            payment_status: None,
            state: &state.to_string(),
            hint,
            created_ms: 1,
            expires_ms: None,
            next_poll_ms: Some(1),
            terminal,
            seen_ms: 0,
        };
        let recorded = store.record(&obs, None, &[]).await.unwrap();
        assert!(matches!(recorded, store::Recorded::Done(_)));
    }

    fn ids(tracked: &[Tracked]) -> Vec<&str> {
        let mut ids: Vec<&str> = tracked.iter().map(|t| t.session_id.as_str()).collect();
        ids.sort_unstable();
        ids
    }

    #[tokio::test]
    async fn a_known_key_names_its_open_sessions_a_new_one_the_customers_unkeyed_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&store::sqlite_url(&dir.path().join("t.db")))
            .await
            .unwrap();
        track(
            &store,
            "keyed_open",
            Some("cust_1"),
            Some("prch_open"),
            false,
        )
        .await;
        track(
            &store,
            "keyed_done",
            Some("cust_1"),
            Some("prch_done"),
            true,
        )
        .await;
        track(&store, "mine", Some("cust_1"), None, false).await;
        track(&store, "anonymous", None, None, false).await;
        track(&store, "someone_elses", Some("cust_2"), None, false).await;
        track(&store, "mine_but_done", Some("cust_1"), None, true).await;
        let hint = |key: &str, customer: Option<&str>| WebhookHint {
            key: key.to_owned(),
            customer_id: customer.map(str::to_owned),
        };
        let of = |h: WebhookHint| {
            let store = &store;
            async move { candidates(store, "flowglad:default", &h).await.unwrap() }
        };
        assert_eq!(
            ids(&of(hint("prch_open", Some("cust_9"))).await),
            ["keyed_open"]
        );
        // Known, but terminal: nothing to read, and no guessing either.
        assert!(of(hint("prch_done", Some("cust_1"))).await.is_empty());
        assert_eq!(
            ids(&of(hint("prch_new", Some("cust_1"))).await),
            ["anonymous", "mine"]
        );
        assert_eq!(ids(&of(hint("prch_new", None)).await), ["anonymous"]);
        let other_account = candidates(&store, "flowglad:other", &hint("prch_open", None))
            .await
            .unwrap();
        assert!(other_account.is_empty());
    }

    #[test]
    fn secrets_are_checked_when_the_config_loads() {
        use figment::providers::{Format, Toml};
        let build = |extra: &str| {
            let text = format!(
                "[providers.flowglad.accounts.default]\nbase_url = \"http://127.0.0.1:9/flowglad\"\napi_key = \"sk_test_x\"\n{extra}"
            );
            let config = crate::config::GatewayConfig::from_figment(
                &crate::config::defaults().merge(Toml::string(&text)),
            )
            .unwrap();
            AppState::build(&config).map(|state| {
                state
                    .vendor_webhooks
                    .of("flowglad", "default")
                    .map(<[Secret]>::len)
            })
        };
        assert_eq!(
            build(&format!(
                "[vendor_webhooks.flowglad.default]\nsecret = \"{SECRET}\""
            ))
            .ok(),
            Some(Some(1))
        );
        assert_eq!(build("").ok(), Some(None));
        for (extra, path) in [
            (
                "[vendor_webhooks.flowglad.default]\nsecret = \"whsec_not base64!\"",
                "vendor_webhooks.flowglad.default.secret",
            ),
            (
                "[vendor_webhooks.flowglad.default]\nsecret = \"hunter2\"",
                "vendor_webhooks.flowglad.default.secret",
            ),
            (
                "[vendor_webhooks.flowglad.default]\n",
                "vendor_webhooks.flowglad.default.secret",
            ),
            (
                &format!("[vendor_webhooks.flowglad.other]\nsecret = \"{SECRET}\""),
                "vendor_webhooks.flowglad.other",
            ),
        ] {
            let err = build(extra)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(path), "{extra}: {err}");
            assert!(
                !err.contains("hunter2") && !err.contains("not base64!"),
                "{err}"
            );
        }
    }
}
