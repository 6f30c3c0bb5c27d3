//! Reading a session: a fresh cached copy, or the vendor through the
//! account's guard (one call for concurrent readers, a stale copy when the
//! vendor fails), spending the client's vendor-call budget.

use std::time::Duration;

use bytes::Bytes;
use checkout_core::{Error, ErrorCode, Fetched, RequestContext, SessionId};
use feed::Sighting;

use crate::auth::rate_limit::Budget;
use crate::auth::Client;
use crate::cache::{render, CacheOutcome};
use crate::feed::tracker::Detail;
use crate::registry;
use crate::state::{Account, AppState};

/// How the caller wants the session.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// `Cache-Control: no-cache`: ask the vendor, whatever the cache holds.
    pub no_cache: bool,
    /// `?include=raw`: add the vendor's payload (read from the vendor).
    pub include_raw: bool,
}

/// A session as answered: its JSON, where it came from, and how old it is.
pub struct SessionRead {
    pub body: Bytes,
    pub outcome: CacheOutcome,
    pub age: Duration,
}

/// Parse and check an id: shape, known provider, vendor id format. All of
/// this happens before the client's access, the cache or any vendor is touched.
pub fn parse_id(raw: &str) -> Result<SessionId, Error> {
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

/// Read `id` (whose canonical text is `raw_id`) for `client` from
/// `account`.
pub async fn read(
    state: &AppState,
    client: &Client,
    account: &Account,
    id: &SessionId,
    raw_id: &str,
    options: ReadOptions,
    ctx: &RequestContext,
) -> Result<SessionRead, Error> {
    let seen = state.cache.has_seen(raw_id);
    let fetch = async {
        state.spend(client, Budget::VendorCalls)?;
        let fetched = account
            .guard
            .get(
                account.connector.as_ref(),
                &account.client,
                id.reference(),
                seen,
                ctx,
            )
            .await?;
        let fetched = same_session(fetched, id)?;
        track(state, account, &fetched, Sighting::Read);
        Ok(fetched)
    };
    // The cache holds canonical sessions only: the vendor payload is read
    // from the vendor, which refreshes the cached copy too.
    if options.no_cache || options.include_raw {
        let fetched = fetch.await?;
        let entry = state.cache.insert(raw_id.to_owned(), &fetched).await;
        let outcome = if options.no_cache {
            CacheOutcome::Bypass
        } else {
            CacheOutcome::Miss
        };
        state.metrics.cache_event(outcome.header_value());
        let body = if options.include_raw {
            render(&fetched, true)
        } else {
            entry.body()
        };
        return Ok(SessionRead {
            body,
            outcome,
            age: entry.age(),
        });
    }
    let read = state.cache.get_or_fetch(raw_id, fetch).await?;
    Ok(SessionRead {
        body: read.entry.body(),
        outcome: read.outcome,
        age: read.entry.age(),
    })
}

/// Queue a sighting of a session the vendor just answered with, for the
/// change feed (never waits).
pub fn track(state: &AppState, account: &Account, fetched: &Fetched, sighting: Sighting) {
    state.feed.tracker().observe(
        &state.metrics,
        &fetched.session,
        sighting,
        Detail::Full,
        || account.connector.feed_hint(&fetched.raw),
    );
}

/// A vendor answering with another session than asked for is not trusted.
pub fn same_session(fetched: Fetched, id: &SessionId) -> Result<Fetched, Error> {
    if fetched.session.provider_session_id != id.reference() {
        return Err(Error::new(
            ErrorCode::ProviderBadResponse,
            "vendor answered with a different session",
        )
        .with_provider(id.provider()));
    }
    Ok(fetched)
}

/// A fresh cached copy for the fast path, spending only the client's
/// request budget; `None` when there is none (or the budget is spent: the
/// routed path then refuses with the error's headers).
pub async fn fresh_hit(state: &AppState, client: &Client, raw_id: &str) -> Option<SessionRead> {
    let entry = state.cache.fresh(raw_id).await?;
    client.budgets.spend(Budget::Requests).ok()?;
    Some(SessionRead {
        body: entry.body(),
        outcome: CacheOutcome::Hit,
        age: entry.age(),
    })
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
}
