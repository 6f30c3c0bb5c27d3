//! Cancelling a session (PRODUCT §9). Where the vendor refuses, the
//! session is read to say why: already canceled is success (cancelling
//! twice is not an error), complete or otherwise over is `invalid_state`.
//! Meteroid answers "not found or cannot be cancelled" to both a missing
//! and a finished session; the read tells them apart.

use bytes::Bytes;
use checkout_core::adapter::unsupported;
use checkout_core::{
    CancelSession, Error, ErrorCode, Operation, RequestContext, SessionId, Status,
};
use feed::Sighting;

use crate::auth::rate_limit::Budget;
use crate::auth::Client;
use crate::service::read::{same_session, track};
use crate::state::{Account, AppState};

/// Cancel `id` at its vendor; the session as it now stands, as JSON.
pub async fn cancel(
    state: &AppState,
    client: &Client,
    account: &Account,
    id: &SessionId,
    request: &CancelSession,
    ctx: &RequestContext,
) -> Result<Bytes, Error> {
    let provider = account.provider.name();
    if !account.capabilities().cancel {
        return Err(unsupported(provider, Operation::Cancel));
    }
    state.spend(client, Budget::VendorCalls)?;
    let connector = account.connector.as_ref();
    let result = account
        .guard
        .cancel(connector, &account.client, id.reference(), request, ctx)
        .await;
    let fetched = match result {
        Ok(fetched) => same_session(fetched, id)?,
        Err(refusal) if is_refusal(&refusal) => {
            return settle(state, client, account, id, refusal, ctx).await;
        }
        Err(e) => return Err(e),
    };
    track(state, account, &fetched, Sighting::Read);
    Ok(state.cache.insert(id.to_string(), &fetched).await.body())
}

/// The vendor said no to this cancel (rather than failing).
fn is_refusal(e: &Error) -> bool {
    matches!(
        e.code,
        ErrorCode::InvalidState | ErrorCode::ProviderInvalidRequest | ErrorCode::ProviderConflict
    )
}

/// The vendor refused: read the session and answer from its state.
async fn settle(
    state: &AppState,
    client: &Client,
    account: &Account,
    id: &SessionId,
    refusal: Error,
    ctx: &RequestContext,
) -> Result<Bytes, Error> {
    state.spend(client, Budget::VendorCalls)?;
    let fetched = account
        .guard
        .get(
            account.connector.as_ref(),
            &account.client,
            id.reference(),
            true,
            ctx,
        )
        .await?;
    let fetched = same_session(fetched, id)?;
    track(state, account, &fetched, Sighting::Read);
    let entry = state.cache.insert(id.to_string(), &fetched).await;
    let session = &fetched.session;
    let now = session
        .status
        .derived(session.expires_at, chrono::Utc::now());
    let over = |what: &str| {
        Error::new(
            ErrorCode::InvalidState,
            format!("the session is {what}: only an open session can be canceled"),
        )
        .with_provider(account.provider.name())
    };
    match now {
        Status::Canceled => Ok(entry.body()),
        Status::Complete => Err(over("complete")),
        Status::Expired => Err(over("expired")),
        Status::Failed => Err(over("failed")),
        // Open, yet refused (e.g. a payment under way): the vendor's reason.
        Status::Open | Status::Processing => Err(refusal),
    }
}
