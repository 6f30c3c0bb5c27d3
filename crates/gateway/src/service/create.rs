//! Creating a session: the account, the client's vendor-call budget, the
//! `Idempotency-Key` (Stripe's semantics: the same key and body replay the
//! first answer, another body is refused, concurrent requests make one
//! create), the vendor through the account's guard, and the cache.

use std::sync::Arc;
use std::time::Duration;

use checkout_core::{CreateSession, Error, ErrorCode, Fetched, RequestContext};
use http::StatusCode;

use crate::auth::rate_limit::Budget;
use crate::auth::Client;
use crate::idempotency::{fingerprint, Claimed, StoredResponse};
use crate::registry;
use crate::state::AppState;

/// What a create answers.
pub enum Created {
    /// Made at the vendor now.
    New(Arc<Fetched>),
    /// The stored answer to an earlier request with the same key.
    Replayed(StoredResponse),
}

/// Create `request` (as parsed from `body`) for `client`.
pub async fn create(
    state: Arc<AppState>,
    client: &Client,
    request: CreateSession,
    body: &[u8],
    ctx: RequestContext,
) -> Result<Created, Error> {
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
    // The vendor call's bound, which the key's claim outlives.
    let deadline = state
        .account_for(client, provider.name(), &request.account)?
        .guard
        .deadline();
    let target = (provider.name().to_owned(), request.account.clone());
    let Some(key) = ctx.idempotency_key.clone() else {
        state.spend(client, Budget::VendorCalls)?;
        let fetched = create_upstream(&state, &target, &request, &ctx).await?;
        return Ok(Created::New(fetched));
    };
    // Keys are the client's own: two clients may use the same key.
    let scope = client.name.clone();
    let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let records = state.idempotency.clone();
    let token = match records
        .claim(idempotency_key(&scope, &key), fingerprint(&body), deadline)
        .await?
    {
        Claimed::Replay(stored) => {
            state.metrics.idempotency_replays.inc();
            return Ok(Created::Replayed(stored));
        }
        Claimed::New(token) => token,
    };
    // A replay spends no vendor call; a refused new create frees its key.
    if let Err(e) = state.spend(client, Budget::VendorCalls) {
        records.release(idempotency_key(&scope, &key), &token).await;
        return Err(e);
    }
    // Run to the end even if the caller goes away, so the key always settles
    // and a retry replays instead of creating a second checkout.
    let task = tokio::spawn(async move {
        let result = create_upstream(&state, &target, &request, &ctx).await;
        let vendor_idempotent = state
            .accounts
            .get(&target)
            .is_some_and(|a| a.connector.create_is_idempotent(&ctx));
        let key = idempotency_key(&scope, &key);
        match result {
            Ok(fetched) => {
                records
                    .complete(key, &token, &stored_success(&fetched))
                    .await;
                Ok(fetched)
            }
            Err(e) if worth_replaying(&e, vendor_idempotent) => {
                let e = settled(e, records.ttl());
                records
                    .complete(key, &token, &stored_error(&e, &ctx.request_id))
                    .await;
                Err(e)
            }
            Err(e) => {
                records.release(key, &token).await;
                Err(e)
            }
        }
    });
    let fetched = task
        .await
        .map_err(|_| Error::new(ErrorCode::Internal, "the create task failed"))??;
    Ok(Created::New(fetched))
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
            .create(account.connector.as_ref(), &account.client, request, ctx)
            .await?,
    );
    state
        .cache
        .insert(fetched.session.id.clone(), &fetched)
        .await;
    Ok(fetched)
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

/// The store's key: the client's own `Idempotency-Key`.
fn idempotency_key<'a>(scope: &'a str, key: &'a str) -> store::IdempotencyKey<'a> {
    store::IdempotencyKey { scope, key }
}

fn stored_success(fetched: &Fetched) -> StoredResponse {
    StoredResponse {
        status: StatusCode::CREATED.as_u16(),
        body: serde_json::to_string(&fetched.session.as_of(chrono::Utc::now())).unwrap_or_default(),
        location: Some(format!("/v1/checkout-sessions/{}", fetched.session.id)),
        retry_after_secs: None,
    }
}

fn stored_error(e: &Error, request_id: &str) -> StoredResponse {
    StoredResponse {
        status: e.http_status,
        body: serde_json::to_string(&e.body(Some(request_id))).unwrap_or_default(),
        location: None,
        retry_after_secs: e.retry_after.map(|d| d.as_secs()),
    }
}
