//! A create whose outcome at the vendor is unknown (a timeout, a 5xx, an
//! answer lost, an owner that died) is looked for in the vendor's list
//! before anything else happens under its key (PRODUCT §10): found, the key
//! answers with that session; provably absent, the next attempt creates;
//! otherwise the key waits and a retry looks again. Matching rules are in
//! `checkout_core::resolve`; this file reads the list and decides.

use std::collections::HashSet;
use std::time::Duration;

use checkout_core::resolve::{self, Found, Search};
use checkout_core::{CheckoutSession, CreateSession, Error, Fetched, ListQuery, RequestContext};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use store::IdempotencyKey;

use crate::state::{Account, AppState};
use crate::telemetry::metrics::ResolutionLabels;

/// Vendor and gateway clocks are trusted to agree within this (the same
/// margin as an idempotency claim's lease).
const CLOCK_SKEW: TimeDelta = TimeDelta::seconds(30);
/// Most list pages read looking for one create; past it, nothing is concluded.
const MAX_PAGES: usize = 20;
/// A retry waits at least this long before looking again.
const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);

/// What one create attempt is, as kept with its key: enough to look for its
/// session later, from any replica.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptNote {
    /// Carried in the create's metadata where the vendor lists it back.
    pub mark: String,
    /// When the attempt began (unix milliseconds, the gateway's clock).
    pub started_ms: i64,
    /// The vendor call's deadline: it cannot have acted later than this
    /// after `started_ms` (plus `settle`).
    pub deadline_ms: u64,
    /// Where the attempt went (`provider:account`): a retry of a routed
    /// create looks there, even if routing would now choose elsewhere.
    /// Absent in notes written before routing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl AttemptNote {
    pub fn new(deadline: Duration, target: String) -> AttemptNote {
        AttemptNote {
            mark: uuid::Uuid::new_v4().simple().to_string(),
            started_ms: Utc::now().timestamp_millis(),
            deadline_ms: u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX),
            target: Some(target),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A note as stored; `None` for one this version cannot read (then
    /// nothing is concluded about it).
    pub fn parse(note: &str) -> Option<AttemptNote> {
        serde_json::from_str(note).ok()
    }

    fn started(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.started_ms).unwrap_or_default()
    }

    /// Past this, a vendor that has not made the session never will.
    fn settles_at(&self, settle: Duration) -> DateTime<Utc> {
        let late = Duration::from_millis(self.deadline_ms).saturating_add(settle);
        self.started() + TimeDelta::from_std(late).unwrap_or(TimeDelta::MAX)
    }
}

/// Who a create is for: concurrent creates for one subject make a session
/// found without a mark ambiguous.
pub fn subject(request: &CreateSession) -> String {
    format!(
        "{}:{}:{}",
        request.provider,
        request.account,
        request.customer.as_deref().unwrap_or_default()
    )
}

/// Whether a create's unknown outcome at this account can be looked for:
/// the vendor lists its sessions.
pub fn can_look(account: &Account) -> bool {
    account.capabilities().list.is_some()
}

/// What looking for an attempt's session found.
pub enum Outcome {
    /// The attempt made this session (read in full).
    Made(Box<Fetched>),
    /// The vendor holds nothing of the attempt: creating again is safe.
    Nothing,
    /// Not known yet (the vendor may still act, its list failed, another
    /// create for the same customer is running): look again after this.
    NotYet(Duration),
    /// Several sessions could be the attempt's.
    Ambiguous(usize),
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Made(_) => "made",
            Outcome::Nothing => "nothing",
            Outcome::NotYet(_) => "unknown",
            Outcome::Ambiguous(_) => "ambiguous",
        }
    }
}

/// One lookup: the attempt `note` of `request` under `key`. `answered`
/// says the vendor answered the attempt (its handling of it is over), so
/// an empty list proves nothing was made without waiting to settle.
pub struct Lookup<'a> {
    pub account: &'a Account,
    pub request: &'a CreateSession,
    pub note: &'a AttemptNote,
    pub answered: bool,
    pub key: IdempotencyKey<'a>,
    pub ctx: &'a RequestContext,
}

/// Look for the attempt's session at the vendor.
pub async fn look_for(state: &AppState, lookup: Lookup<'_>) -> Outcome {
    let outcome = match search(state, &lookup).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::warn!(error = %e.message, "looking for a create at the vendor failed");
            Outcome::NotYet(e.retry_after.unwrap_or(MIN_RETRY_AFTER))
        }
    };
    state
        .metrics
        .create_resolutions
        .get_or_create(&ResolutionLabels {
            provider: lookup.account.provider.name(),
            found: outcome.label(),
        })
        .inc();
    tracing::info!(
        provider = lookup.account.provider.name(),
        account = %lookup.request.account,
        found = outcome.label(),
        "looked for a create whose outcome was unknown"
    );
    outcome
}

async fn search(state: &AppState, lookup: &Lookup<'_>) -> Result<Outcome, Error> {
    let Lookup {
        account,
        request,
        note,
        answered,
        key,
        ctx,
    } = lookup;
    let connector = account.connector.as_ref();
    let marked = connector.lists_create_metadata();
    let search = Search {
        created_from: note.started() - CLOCK_SKEW,
        created_to: note.settles_at(state.idempotency.settle()) + CLOCK_SKEW,
        mark: marked.then_some(note.mark.as_str()),
    };
    let listed = list_window(account, request, &search, ctx).await?;
    let candidates: Vec<&str> = listed
        .iter()
        .filter(|s| (search.created_from..=search.created_to).contains(&s.created_at))
        .map(|s| s.id.as_str())
        .collect();
    let taken: HashSet<String> = if marked || candidates.is_empty() {
        HashSet::new()
    } else {
        state
            .idempotency
            .sessions_taken(&candidates)
            .await?
            .into_iter()
            .collect()
    };
    let found = resolve::find(
        &search,
        &listed,
        |s| connector.could_be_created_by(request, s),
        |s| taken.contains(&s.id),
    );
    let settled = *answered || Utc::now() >= note.settles_at(state.idempotency.settle());
    let not_yet = || {
        let left = (note.settles_at(state.idempotency.settle()) - Utc::now())
            .to_std()
            .unwrap_or_default();
        Outcome::NotYet(left.max(MIN_RETRY_AFTER))
    };
    // Without a mark, a session another running create may have made is
    // not told apart from this one's until that create records it.
    let contested = !marked
        && !matches!(found, Found::None)
        && state
            .idempotency
            .running_for(&subject(request), *key)
            .await?
            > 0;
    Ok(match found {
        _ if contested => Outcome::NotYet(MIN_RETRY_AFTER),
        Found::One(session) => Outcome::Made(Box::new(read_in_full(account, session, ctx).await?)),
        Found::None if settled => Outcome::Nothing,
        Found::None => not_yet(),
        Found::Several(n) => Outcome::Ambiguous(n),
    })
}

/// The account's sessions created in the search's window (and some
/// around it), marks included. Pages are read while they may still hold
/// the window; a list too long to read to its end concludes nothing.
async fn list_window(
    account: &Account,
    request: &CreateSession,
    search: &Search<'_>,
    ctx: &RequestContext,
) -> Result<Vec<CheckoutSession>, Error> {
    let support = account.capabilities().list;
    let mut query = ListQuery {
        // Only where the vendor must have it: elsewhere a customer named by
        // alias would not filter (Meteroid lists by customer id only).
        customer: support
            .as_ref()
            .filter(|s| s.customer_required)
            .and(request.customer.clone()),
        created_gte: Some(search.created_from),
        created_lt: Some(search.created_to),
        limit: u32::MAX,
        ..ListQuery::default()
    };
    let mut sessions = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = account
            .guard
            .list_marked(account.connector.as_ref(), &account.client, &query, ctx)
            .await?;
        let older_follow = newest_first_and_past(&page.sessions, search.created_from);
        sessions.extend(page.sessions.into_iter().map(|f| f.session));
        match page.next_cursor {
            Some(cursor) if !older_follow => query.cursor = Some(cursor),
            _ => return Ok(sessions),
        }
    }
    Err(Error::new(
        checkout_core::ErrorCode::ProviderUnavailable,
        format!("the vendor's list is longer than {MAX_PAGES} pages around the create"),
    ))
}

/// The page is ordered newest first and reaches back before `from`: the
/// next pages hold only older sessions.
fn newest_first_and_past(page: &[Fetched], from: DateTime<Utc>) -> bool {
    let newest_first = page
        .windows(2)
        .all(|w| w[0].session.created_at >= w[1].session.created_at);
    newest_first && page.last().is_some_and(|f| f.session.created_at < from)
}

/// The found session as a get answers it (a list item may lack fields,
/// e.g. Flowglad's hosted page).
async fn read_in_full(
    account: &Account,
    session: &CheckoutSession,
    ctx: &RequestContext,
) -> Result<Fetched, Error> {
    account
        .guard
        .get(
            account.connector.as_ref(),
            &account.client,
            &session.provider_session_id,
            true,
            ctx,
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_round_trip_and_unreadable_ones_are_none() {
        let note = AttemptNote::new(Duration::from_secs(15), "flowglad:default".into());
        assert_eq!(AttemptNote::parse(&note.to_json()), Some(note.clone()));
        assert_eq!(AttemptNote::parse("{}"), None);
        assert_eq!(AttemptNote::parse("not json"), None);
        assert_ne!(
            AttemptNote::new(Duration::ZERO, String::new()).mark,
            note.mark
        );
        // A note written before routing has no target.
        let old = r#"{"mark":"m","started_ms":1,"deadline_ms":2}"#;
        assert_eq!(AttemptNote::parse(old).and_then(|n| n.target), None);
    }

    #[test]
    fn an_attempt_settles_after_its_deadline_and_the_settle_time() {
        let note = AttemptNote {
            mark: "m".into(),
            started_ms: 1_000,
            deadline_ms: 15_000,
            target: None,
        };
        assert_eq!(
            note.settles_at(Duration::from_secs(5)).timestamp_millis(),
            21_000
        );
    }

    #[test]
    fn subjects_are_per_account_and_customer() {
        let mut request = CreateSession {
            provider: "meteroid".into(),
            account: "default".into(),
            customer: Some("cus_1".into()),
            ..CreateSession::default()
        };
        assert_eq!(subject(&request), "meteroid:default:cus_1");
        request.customer = None;
        assert_eq!(subject(&request), "meteroid:default:");
    }
}
