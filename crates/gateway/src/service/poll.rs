//! The change feed's poller: no vendor says when a checkout changes, so
//! every open tracked session is fetched again on its schedule
//! (`feed::schedule`) and what it shows is recorded (`Sighting::Polled`),
//! which makes the events.
//!
//! One loop per configured account, on the replica holding that account's
//! lease (`poll:<provider>:<account>`; a replica that dies loses it after
//! `feed.lease_secs`). The vendor's limits are the clients' first: at most
//! `feed.poll_calls_per_sec` calls per account (a token bucket), only while
//! the account's guard has at most half its in-flight bound in use, and one
//! list call instead of many gets where the vendor lists. Each fetched
//! session also refreshes the cache, so reads see it before its TTL ends.
//!
//! The clock is injected: tests step through the schedule with
//! [`poll_round`] and a [`ManualClock`] instead of sleeping.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use checkout_core::list::{ListSupport, Pagination};
use checkout_core::{
    CheckoutSession, ErrorCode, Fetched, ListQuery, RequestContext, SessionId, Status,
};
use chrono::{DateTime, Utc};
use feed::event::{Seen, Sighting};
use feed::schedule::after_failure;
use store::{StoredEvent, Tracked};
use tokio::task::{AbortHandle, JoinHandle, JoinSet};
use tokio::time::{Instant, MissedTickBehavior};
use tracing::Instrument;

use crate::feed::tracker::Sight;
use crate::feed::Feed;
use crate::service::read::same_session;
use crate::state::live::Gateway;
use crate::state::{Account, AppState};

/// How often the set of configured accounts is read again (reloads).
const ACCOUNTS_EVERY: Duration = Duration::from_secs(5);
/// The pause between rounds when nothing more is due.
const IDLE: Duration = Duration::from_secs(1);
/// Vendor pages one list refresh reads at most.
const LIST_PAGES: usize = 3;
/// How often old events and finished sessions are purged.
const PURGE_EVERY: Duration = Duration::from_secs(10 * 60);

/// Where the poller reads the time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told (tests).
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> ManualClock {
        ManualClock {
            now: Mutex::new(at),
        }
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now = chrono::TimeDelta::from_std(by)
            .ok()
            .and_then(|by| now.checked_add_signed(by))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One account's poller: which account, and its call budget (a token
/// bucket refilled by the clock given to each round).
pub struct AccountPoller {
    provider: String,
    account: String,
    tokens: f64,
    refilled: Option<DateTime<Utc>>,
}

impl AccountPoller {
    /// Starts with a full bucket (a second's worth of calls, at least one).
    pub fn new(provider: &str, account: &str) -> AccountPoller {
        AccountPoller {
            provider: provider.to_owned(),
            account: account.to_owned(),
            tokens: f64::INFINITY,
            refilled: None,
        }
    }

    /// `provider:account`, as the store and events name the account.
    pub fn label(&self) -> String {
        format!("{}:{}", self.provider, self.account)
    }

    fn refill(&mut self, now: DateTime<Utc>, per_sec: f64) {
        let burst = per_sec.max(1.0);
        let elapsed = match self.refilled {
            // A clock that went back refills nothing.
            Some(before) => (now - before).to_std().unwrap_or_default().as_secs_f64(),
            None => f64::INFINITY,
        };
        self.tokens = (self.tokens + elapsed * per_sec).min(burst);
        if self.refilled.is_none_or(|before| now > before) {
            self.refilled = Some(now);
        }
    }

    fn whole_tokens(&self) -> u32 {
        // Bounded by the burst, itself a config number: no overflow.
        self.tokens.floor().max(0.0) as u32
    }

    /// Spend one call, if there is one to spend.
    fn take(&mut self) -> bool {
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What one round did.
#[derive(Debug, Default)]
pub struct Round {
    /// Sessions found due.
    pub due: usize,
    /// Gets that answered.
    pub polled: usize,
    /// Gets that failed (each session tries again later, backing off).
    pub failed: usize,
    /// List calls made.
    pub lists: usize,
    /// Sessions refreshed from a list.
    pub refreshed: usize,
    /// The round stopped because the account was busy (clients first) or
    /// its guard refused (breaker open).
    pub busy: bool,
    /// Sessions may still be due (the budget or the batch ran out).
    pub more: bool,
    /// Events the round's sightings made, in seq order.
    pub events: Vec<StoredEvent>,
}

impl Round {
    /// Calls made to the vendor.
    pub fn vendor_calls(&self) -> usize {
        self.polled + self.failed + self.lists
    }
}

/// Start polling every configured account (when `feed.enabled`; the
/// caller checks), with the wall clock, plus the feed's housekeeping.
/// Aborting the handle stops all of it (leases then run out).
pub fn start(gateway: Arc<Gateway>) -> JoinHandle<()> {
    start_with_clock(gateway, Arc::new(SystemClock))
}

/// [`start`] on `clock`.
pub fn start_with_clock(gateway: Arc<Gateway>, clock: Arc<dyn Clock>) -> JoinHandle<()> {
    tokio::spawn(async move {
        // Dropped (the handle aborted): every task it holds is aborted.
        let mut tasks = JoinSet::new();
        tasks.spawn(housekeeping(gateway.clone()));
        let mut loops: HashMap<(String, String), AbortHandle> = HashMap::new();
        loop {
            while tasks.try_join_next().is_some() {}
            // An account removed by a reload ends its own loop.
            loops.retain(|_, task| !task.is_finished());
            let accounts: Vec<(String, String)> =
                gateway.current().accounts.keys().cloned().collect();
            for key in accounts {
                loops.entry(key.clone()).or_insert_with(|| {
                    tasks.spawn(poll_account(gateway.clone(), key, clock.clone()))
                });
            }
            tokio::time::sleep(ACCOUNTS_EVERY).await;
        }
    })
}

/// One account, for as long as it is configured: rounds while this
/// replica holds its lease.
async fn poll_account(gateway: Arc<Gateway>, key: (String, String), clock: Arc<dyn Clock>) {
    let (provider, account) = &key;
    let lease_name = format!("poll:{provider}:{account}");
    let mut poller = AccountPoller::new(provider, account);
    // When the lease held must be renewed.
    let mut renew_at: Option<Instant> = None;
    loop {
        let state = gateway.current();
        let feed = state.feed.clone();
        let lease = Duration::from_secs(feed.config().lease_secs);
        let renew_every = lease / 3;
        if !state.accounts.contains_key(&key) {
            if renew_at.is_some() {
                release(&feed, &lease_name).await;
            }
            return;
        }
        if renew_at.is_none_or(|at| Instant::now() >= at) {
            renew_at = take_lease(&feed, &lease_name, lease)
                .await
                .then(|| Instant::now() + renew_every);
        }
        if renew_at.is_none() {
            drop(state);
            tokio::time::sleep(renew_every).await;
            continue;
        }
        let round = poll_round(&state, &feed, &mut poller, clock.now()).await;
        drop(state);
        let pause = if round.more && !round.busy {
            // Until the next call is in the budget.
            Duration::from_secs_f64((1.0 / feed.config().poll_calls_per_sec).min(1.0))
        } else {
            IDLE
        };
        tokio::time::sleep(pause.min(renew_every)).await;
    }
}

/// Take or renew the lease; a store failure counts as not held.
async fn take_lease(feed: &Feed, name: &str, ttl: Duration) -> bool {
    let held = match feed.store().await {
        Ok(store) => store.lease(name, feed.replica(), ttl).await,
        Err(_) => return false,
    };
    held.unwrap_or_else(|e| {
        tracing::warn!(lease = name, error = %e, "cannot take the poll lease");
        false
    })
}

async fn release(feed: &Feed, name: &str) {
    if let Ok(store) = feed.store().await {
        if let Err(e) = store.release_lease(name, feed.replica()).await {
            tracing::debug!(lease = name, error = %e, "poll lease not released (it runs out)");
        }
    }
}

/// Old events and the rows of sessions long finished go, every
/// [`PURGE_EVERY`] (on every replica: purging twice removes nothing twice).
async fn housekeeping(gateway: Arc<Gateway>) {
    let mut ticks = tokio::time::interval(PURGE_EVERY);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let feed = gateway.current().feed.clone();
        let now = Utc::now().timestamp_millis();
        let keep_events = i64::from(feed.config().retention_days).saturating_mul(86_400_000);
        let grace = i64::try_from(feed.config().terminal_grace_secs)
            .unwrap_or(i64::MAX)
            .saturating_mul(1000);
        let purged = match feed.store().await {
            Ok(store) => store
                .purge_feed(now.saturating_sub(keep_events), now.saturating_sub(grace))
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.message),
        };
        match purged {
            Ok(0) => {}
            Ok(n) => tracing::debug!(purged = n, "old change-feed rows purged"),
            Err(e) => tracing::warn!(error = %e, "purging the change feed failed"),
        }
    }
}

/// One round for one account at `now`: the sessions due, as many as the
/// budget allows, through one list call where the vendor lists and enough
/// are due, else one get each. The caller holds the account's lease.
pub async fn poll_round(
    state: &AppState,
    feed: &Feed,
    poller: &mut AccountPoller,
    now: DateTime<Utc>,
) -> Round {
    let mut round = Round::default();
    let key = (poller.provider.clone(), poller.account.clone());
    let Some(account) = state.accounts.get(&key) else {
        return round;
    };
    let store = match feed.store().await {
        Ok(store) => store,
        Err(e) => {
            tracing::warn!(error = %e.message, "the poller cannot reach the store");
            return round;
        }
    };
    let label = poller.label();
    match store.count_tracked(Some(&label), true).await {
        Ok(open) => state
            .metrics
            .tracked_sessions(&poller.provider, &poller.account, open),
        Err(e) => tracing::debug!(error = %e, "tracked sessions not counted"),
    }
    let config = feed.config();
    poller.refill(now, config.poll_calls_per_sec);
    let tokens = poller.whole_tokens();
    if tokens == 0 {
        round.more = true;
        return round;
    }
    let lists = list_refresh(account);
    // A list call refreshes many sessions for one token.
    let limit = match lists {
        Some(_) => config.poll_batch,
        None => config.poll_batch.min(tokens),
    };
    let due = match store
        .due(&label, now.timestamp_millis(), i64::from(limit))
        .await
    {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(account = %label, error = %e, "due sessions not read");
            return round;
        }
    };
    round.due = due.len();
    round.more = due.len() >= limit as usize;
    if due.is_empty() {
        return round;
    }
    if busy(account) {
        skipped_busy(state, poller, &mut round);
        return round;
    }
    let to_get = match lists {
        Some(support) if due.len() >= config.list_refresh_min as usize => {
            refresh_by_list(state, feed, account, poller, &support, due, now, &mut round).await
        }
        _ => due,
    };
    for row in to_get {
        if busy(account) {
            skipped_busy(state, poller, &mut round);
            break;
        }
        if !poller.take() {
            round.more = true;
            break;
        }
        if !poll_one(state, feed, account, poller, row, now, &mut round).await {
            break;
        }
    }
    round
}

/// How the account lists, when one call can cover its due sessions (not
/// where it lists per customer only).
fn list_refresh(account: &Account) -> Option<ListSupport> {
    account
        .capabilities()
        .list
        .filter(|support| !support.customer_required)
}

/// Clients first: the poller waits while more than half the account's
/// in-flight bound is in use.
fn busy(account: &Account) -> bool {
    account.guard.in_flight() * 2 > account.guard.max_in_flight()
}

fn skipped_busy(state: &AppState, poller: &AccountPoller, round: &mut Round) {
    state
        .metrics
        .poll(&poller.provider, &poller.account, "skipped_busy");
    round.busy = true;
    round.more = true;
}

/// The poller's own request context (no client, no idempotency key).
fn context() -> RequestContext {
    RequestContext {
        request_id: format!("poll-{}", uuid::Uuid::new_v4().simple()),
        idempotency_key: None,
    }
}

/// Get one due session; false when the round should stop (the guard
/// refused: breaker open or too busy).
async fn poll_one(
    state: &AppState,
    feed: &Feed,
    account: &Account,
    poller: &AccountPoller,
    row: Tracked,
    now: DateTime<Utc>,
    round: &mut Round,
) -> bool {
    let span = tracing::info_span!(
        "feed_poll",
        provider = %poller.provider,
        account = %poller.account,
        session = %row.session_id,
    );
    async {
        let fetched = match SessionId::parse(&row.session_id) {
            Ok(id) => account
                .guard
                .get(
                    account.connector.as_ref(),
                    &account.client,
                    id.reference(),
                    true,
                    &context(),
                )
                .await
                .and_then(|fetched| same_session(fetched, &id)),
            Err(e) => {
                tracing::warn!(error = %e, "a tracked session id does not parse");
                failed(state, feed, poller, &row, now, round).await;
                return true;
            }
        };
        match fetched {
            Ok(fetched) => {
                state.metrics.poll(&poller.provider, &poller.account, "ok");
                round.polled += 1;
                state.cache.insert(row.session_id.clone(), &fetched).await;
                let sight = sight_of(account, &fetched, now);
                record(state, feed, &sight, row, round).await;
                true
            }
            // Never sent: the guard's own refusal (breaker, in flight).
            Err(e) if e.not_sent => {
                tracing::debug!(code = ?e.code, "poll refused by the account's guard");
                skipped_busy(state, poller, round);
                false
            }
            Err(e) if e.code == ErrorCode::NotFound => {
                // Gone at the vendor. Past its `expires_at` it is expired by
                // the status rules whatever the vendor keeps: recorded so,
                // its tracking ends; before that, tried again (a vendor
                // may answer 404 for a moment).
                match expired_copy(&row, now) {
                    Some(session) => {
                        let sight = Sight::at(&session, None, Sighting::Polled, now);
                        record(state, feed, &sight, row, round).await;
                    }
                    None => failed(state, feed, poller, &row, now, round).await,
                }
                true
            }
            Err(e) => {
                tracing::info!(code = ?e.code, "poll failed");
                failed(state, feed, poller, &row, now, round).await;
                true
            }
        }
    }
    .instrument(span)
    .await
}

/// The last state seen of a session, when it is past its `expires_at` at
/// `now` (so it reads `expired` from now on, wherever it went).
fn expired_copy(row: &Tracked, now: DateTime<Utc>) -> Option<CheckoutSession> {
    let session: CheckoutSession = serde_json::from_str(&row.state).ok()?;
    (session.as_of(now).status == Status::Expired && !session.status.is_terminal())
        .then_some(session)
}

/// A poll failed: try again later, backing off.
async fn failed(
    state: &AppState,
    feed: &Feed,
    poller: &AccountPoller,
    row: &Tracked,
    now: DateTime<Utc>,
    round: &mut Round,
) {
    state
        .metrics
        .poll(&poller.provider, &poller.account, "error");
    round.failed += 1;
    let failures = u32::try_from(row.failures.saturating_add(1)).unwrap_or(u32::MAX);
    let next = after_failure(feed.tracker().policy(), failures, now).timestamp_millis();
    if let Ok(store) = feed.store().await {
        if let Err(e) = store.poll_failed(&row.session_id, next).await {
            tracing::warn!(session = %row.session_id, error = %e, "a failed poll was not noted");
        }
    }
}

fn sight_of(account: &Account, fetched: &Fetched, now: DateTime<Utc>) -> Sight {
    let hint = account.connector.feed_hint(&fetched.raw);
    Sight::at(&fetched.session, hint, Sighting::Polled, now)
}

async fn record(state: &AppState, feed: &Feed, sight: &Sight, row: Tracked, round: &mut Round) {
    match feed
        .tracker()
        .record(&state.metrics, sight, Some(row))
        .await
    {
        Ok(recording) => round.events.extend(recording.events),
        Err(e) => {
            tracing::warn!(session = %sight.session.id, error = %e, "a polled session was not recorded");
            state.metrics.feed_dropped(e.reason());
        }
    }
}

/// Refresh the due sessions from the account's list (their creation range,
/// a few pages at most); the ones it does not settle are left to get.
#[allow(clippy::too_many_arguments)]
async fn refresh_by_list(
    state: &AppState,
    feed: &Feed,
    account: &Account,
    poller: &mut AccountPoller,
    support: &ListSupport,
    due: Vec<Tracked>,
    now: DateTime<Utc>,
    round: &mut Round,
) -> Vec<Tracked> {
    let listed = list_range(state, account, poller, support, &due, round).await;
    let mut rest = Vec::new();
    for row in due {
        let Some(fetched) = listed.get(&row.session_id) else {
            rest.push(row);
            continue;
        };
        let sight = sight_of(account, fetched, now);
        if support.items_complete {
            state.cache.insert(row.session_id.clone(), fetched).await;
        } else {
            // As the list route does: a summary never stands in for a get.
            state.cache.contradicted(&fetched.session).await;
            let previous = Seen::from_stored(&row.status, row.payment_status.as_deref());
            if previous != Some(sight.seen()) {
                // A change a summary shows is confirmed by a get.
                rest.push(row);
                continue;
            }
        }
        let sight = if support.items_complete {
            sight
        } else {
            sight.partial()
        };
        round.refreshed += 1;
        record(state, feed, &sight, row, round).await;
    }
    rest
}

/// The account's sessions created in the due sessions' range, by id.
async fn list_range(
    state: &AppState,
    account: &Account,
    poller: &mut AccountPoller,
    support: &ListSupport,
    due: &[Tracked],
    round: &mut Round,
) -> HashMap<String, Fetched> {
    let mut listed = HashMap::new();
    let earliest = due.iter().map(|r| r.created_ms).min();
    let latest = due.iter().map(|r| r.created_ms).max();
    let (Some(earliest), Some(latest)) = (earliest, latest) else {
        return listed;
    };
    let mut query = ListQuery {
        created_gte: DateTime::from_timestamp_millis(earliest),
        // Stored to the millisecond, so one more covers the latest.
        created_lt: DateTime::from_timestamp_millis(latest.saturating_add(1)),
        limit: match support.pagination {
            Pagination::Whole => 0,
            Pagination::Cursor { max_limit } => max_limit,
        },
        ..ListQuery::default()
    };
    for _ in 0..LIST_PAGES {
        if busy(account) || !poller.take() {
            break;
        }
        let span = tracing::info_span!(
            "feed_poll_list",
            provider = %poller.provider,
            account = %poller.account,
            due = due.len(),
        );
        let page = account
            .guard
            .list(
                account.connector.as_ref(),
                &account.client,
                &query,
                &context(),
            )
            .instrument(span)
            .await;
        let page = match page {
            Ok(page) => page,
            Err(e) if e.not_sent => {
                tracing::debug!(code = ?e.code, "list refused by the account's guard");
                break;
            }
            Err(e) => {
                tracing::info!(code = ?e.code, "list refresh failed; getting one by one");
                round.lists += 1;
                state
                    .metrics
                    .poll(&poller.provider, &poller.account, "error");
                break;
            }
        };
        round.lists += 1;
        state
            .metrics
            .poll(&poller.provider, &poller.account, "list");
        for fetched in page.sessions {
            listed.insert(fetched.session.id.clone(), fetched);
        }
        match page.next_cursor {
            Some(cursor) if support.pagination != Pagination::Whole => query.cursor = Some(cursor),
            _ => break,
        }
    }
    listed
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn t0() -> DateTime<Utc> {
        "2026-03-04T13:20:00Z".parse().unwrap()
    }

    fn spend_all(poller: &mut AccountPoller) -> u32 {
        let mut n = 0;
        while poller.take() {
            n += 1;
        }
        n
    }

    #[test]
    fn the_budget_bursts_a_second_then_refills_at_its_rate() {
        let mut poller = AccountPoller::new("meteroid", "default");
        poller.refill(t0(), 5.0);
        assert_eq!(spend_all(&mut poller), 5);
        poller.refill(t0() + TimeDelta::milliseconds(200), 5.0);
        assert_eq!(spend_all(&mut poller), 1);
        // Idle for long: still one second's worth, not more.
        poller.refill(t0() + TimeDelta::hours(1), 5.0);
        assert_eq!(spend_all(&mut poller), 5);
        // A clock that steps back refills nothing.
        poller.refill(t0(), 5.0);
        assert_eq!(spend_all(&mut poller), 0);
    }

    #[test]
    fn a_slow_rate_still_allows_one_call() {
        let mut poller = AccountPoller::new("meteroid", "default");
        poller.refill(t0(), 0.5);
        assert_eq!(spend_all(&mut poller), 1);
        poller.refill(t0() + TimeDelta::seconds(1), 0.5);
        assert_eq!(spend_all(&mut poller), 0);
        poller.refill(t0() + TimeDelta::seconds(2), 0.5);
        assert_eq!(spend_all(&mut poller), 1);
    }

    #[test]
    fn the_manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(t0());
        assert_eq!(clock.now(), t0());
        clock.advance(Duration::from_secs(10));
        assert_eq!(clock.now(), t0() + TimeDelta::seconds(10));
        clock.set(t0());
        assert_eq!(clock.now(), t0());
    }
}
