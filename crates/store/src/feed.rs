//! The change feed's state (PRODUCT §11): the sessions the gateway tracks,
//! the events their changes make, and leases on work one replica does at a
//! time.
//!
//! An observation and the events it makes are one transaction, guarded by
//! the tracked row's version: two writers that read the same version cannot
//! both record, so a change makes its events once. Each event takes the next
//! value of the `events` counter in that transaction; on PostgreSQL the
//! counter's row lock makes commits follow seq order, so a reader reading
//! `seq > after` never steps over an event that commits late, and the seqs
//! are gap-free (a rolled-back transaction gives its values back).

use std::time::Duration;

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::{ms, now_ms, Store, StoreError};

/// A tracked session as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    pub session_id: String,
    /// "provider:account".
    pub account: String,
    pub status: String,
    pub payment_status: Option<String>,
    /// The canonical session JSON as last seen.
    pub state: String,
    /// The vendor's link key (e.g. Flowglad's purchase id).
    pub hint: Option<String>,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    /// `None`: not polled (terminal).
    pub next_poll_ms: Option<i64>,
    /// Polls failed in a row since the last recorded observation.
    pub failures: i64,
    pub terminal_ms: Option<i64>,
    /// What [`Store::record`] expects to replace.
    pub version: i64,
    /// When the recorded observation was made (the observer's clock).
    pub seen_ms: i64,
}

/// What the gateway saw of a session, to record.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    pub session_id: &'a str,
    pub account: &'a str,
    pub status: &'a str,
    pub payment_status: Option<&'a str>,
    pub state: &'a str,
    /// `None` keeps the hint recorded before (not every sighting carries it).
    pub hint: Option<&'a str>,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    /// Ignored when `terminal`: a terminal session is not polled.
    pub next_poll_ms: Option<i64>,
    pub terminal: bool,
    /// When it was made (the observer's clock), kept as [`Tracked::seen_ms`]
    /// so that an older observation is not applied over it.
    pub seen_ms: i64,
}

/// An event to record with an observation (its account and session are
/// the observation's).
#[derive(Debug, Clone, Copy)]
pub struct NewEvent<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub created_ms: i64,
    /// The event JSON as served and signed.
    pub body: &'a str,
}

/// An event as recorded, with its place in the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: i64,
    pub id: String,
    pub kind: String,
    pub account: String,
    pub session_id: String,
    pub created_ms: i64,
    pub body: String,
}

/// What [`Store::record`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded, with these events.
    Done(Vec<StoredEvent>),
    /// The tracked row is not at the expected version (another writer was
    /// first): nothing was recorded; re-read and recompute.
    Conflict,
}

/// Which events [`Store::events`] reads.
#[derive(Debug, Clone, Copy)]
pub struct EventFilter<'a> {
    /// Only events with a greater seq.
    pub after: i64,
    /// Only these types (`None`: all).
    pub kinds: Option<&'a [String]>,
    /// Only these accounts (`None`: all).
    pub accounts: Option<&'a [String]>,
    pub session_id: Option<&'a str>,
    pub limit: i64,
}

const TRACKED: &str = "\
SELECT session_id, account, status, payment_status, state, hint, created_ms, expires_ms,
       next_poll_ms, failures, terminal_ms, version, seen_ms
FROM tracked_sessions WHERE session_id = $1";

const INSERT_TRACKED: &str = "\
INSERT INTO tracked_sessions (session_id, account, status, payment_status, state, hint, created_ms,
    expires_ms, next_poll_ms, failures, terminal_ms, version, updated_ms, seen_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, 1, $11, $12)
ON CONFLICT (session_id) DO NOTHING";

const UPDATE_TRACKED: &str = "\
UPDATE tracked_sessions SET
    account = $2, status = $3, payment_status = $4, state = $5,
    -- A sighting without the vendor's link key keeps the one known.
    hint = COALESCE($6, hint),
    created_ms = $7, expires_ms = $8, next_poll_ms = $9, failures = 0,
    -- When it was first seen terminal, not the latest time.
    terminal_ms = CASE WHEN $10 = 1 THEN COALESCE(terminal_ms, $11) ELSE NULL END,
    version = version + 1, updated_ms = $11, seen_ms = $13
WHERE session_id = $1 AND version = $12";

/// Takes `$2` values of counter `$1` at once: the last is returned.
const TAKE_COUNTER: &str = "\
UPDATE feed_counters SET value = value + $2 WHERE name = $1 RETURNING value";

const INSERT_EVENT: &str = "\
INSERT INTO events (seq, id, kind, account, session_id, created_ms, body)
VALUES ($1, $2, $3, $4, $5, $6, $7)";

const DUE: &str = "\
SELECT session_id, account, status, payment_status, state, hint, created_ms, expires_ms,
       next_poll_ms, failures, terminal_ms, version, seen_ms
FROM tracked_sessions
WHERE account = $1 AND next_poll_ms IS NOT NULL AND next_poll_ms <= $2
ORDER BY next_poll_ms, session_id
LIMIT $3";

const POLL_FAILED: &str = "\
UPDATE tracked_sessions SET failures = failures + 1, next_poll_ms = $2, updated_ms = $3
WHERE session_id = $1 AND next_poll_ms IS NOT NULL";

const BY_HINT: &str = "\
SELECT session_id, account, status, payment_status, state, hint, created_ms, expires_ms,
       next_poll_ms, failures, terminal_ms, version, seen_ms
FROM tracked_sessions WHERE account = $1 AND hint = $2
ORDER BY created_ms, session_id";

const EVENT: &str = "\
SELECT seq, id, kind, account, session_id, created_ms, body FROM events WHERE id = $1";

const LAST_EVENT_SEQ: &str = "SELECT value FROM feed_counters WHERE name = 'events'";

// Purge, in this order, in one transaction: old events (but not one a
// pending delivery has still to send), then whatever refers to an event no
// longer kept. That also takes a delivery a redelivery made of an event
// while it was being purged: it would hold its session's later ones back.
const PURGE_EVENTS: &str = "\
DELETE FROM events WHERE created_ms < $1
  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                  WHERE d.event_seq = events.seq AND d.state = 'pending')";

const PURGE_ATTEMPTS: &str = "\
DELETE FROM webhook_attempts WHERE delivery_id IN (
    SELECT d.id FROM webhook_deliveries d
    WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.seq = d.event_seq))";

const PURGE_DELIVERIES: &str = "\
DELETE FROM webhook_deliveries
WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.seq = webhook_deliveries.event_seq)";

const PURGE_TRACKED: &str = "\
DELETE FROM tracked_sessions WHERE terminal_ms IS NOT NULL AND terminal_ms < $1";

// Which rule routed a session is kept as long as its events: the completion
// it counts towards is one of them.
const PURGE_ROUTED: &str = "DELETE FROM routed_sessions WHERE created_ms < $1";

const LEASE: &str = "\
INSERT INTO leases (name, holder, until_ms) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
WHERE leases.holder = excluded.holder OR leases.until_ms <= $4
RETURNING holder";

const RELEASE_LEASE: &str = "DELETE FROM leases WHERE name = $1 AND holder = $2";

impl Store {
    /// The tracked row of `session_id`, if any.
    pub async fn tracked(&self, session_id: &str) -> Result<Option<Tracked>, StoreError> {
        let row = sqlx::query(TRACKED)
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(tracked_of).transpose()
    }

    /// Record `obs` and its `events` in one transaction: a new row when
    /// `expected_version` is `None` (a [`Recorded::Conflict`] if one
    /// appeared), else an update of the row at that version (a conflict
    /// otherwise). The version goes up by one, failures back to 0, and
    /// `terminal_ms` is set the first time `obs.terminal`. Each event takes
    /// the next seq. All or nothing.
    pub async fn record(
        &self,
        obs: &Observation<'_>,
        expected_version: Option<i64>,
        events: &[NewEvent<'_>],
    ) -> Result<Recorded, StoreError> {
        let now = now_ms();
        let next_poll_ms = if obs.terminal { None } else { obs.next_poll_ms };
        // The row first (on SQLite a write takes the lock before any read,
        // so the busy timeout applies), the counter last: its lock is the
        // one every recording waits for, held for the shortest time.
        let mut tx = self.pool.begin().await?;
        let written = match expected_version {
            None => {
                sqlx::query(INSERT_TRACKED)
                    .bind(obs.session_id)
                    .bind(obs.account)
                    .bind(obs.status)
                    .bind(obs.payment_status)
                    .bind(obs.state)
                    .bind(obs.hint)
                    .bind(obs.created_ms)
                    .bind(obs.expires_ms)
                    .bind(next_poll_ms)
                    .bind(obs.terminal.then_some(now))
                    .bind(now)
                    .bind(obs.seen_ms)
                    .execute(&mut *tx)
                    .await?
            }
            Some(version) => {
                sqlx::query(UPDATE_TRACKED)
                    .bind(obs.session_id)
                    .bind(obs.account)
                    .bind(obs.status)
                    .bind(obs.payment_status)
                    .bind(obs.state)
                    .bind(obs.hint)
                    .bind(obs.created_ms)
                    .bind(obs.expires_ms)
                    .bind(next_poll_ms)
                    .bind(i64::from(obs.terminal))
                    .bind(now)
                    .bind(version)
                    .bind(obs.seen_ms)
                    .execute(&mut *tx)
                    .await?
            }
        };
        if written.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(Recorded::Conflict);
        }
        let mut stored = Vec::with_capacity(events.len());
        if !events.is_empty() {
            let mut seq = take_counter(&mut tx, "events", events.len()).await?;
            for event in events {
                sqlx::query(INSERT_EVENT)
                    .bind(seq)
                    .bind(event.id)
                    .bind(event.kind)
                    .bind(obs.account)
                    .bind(obs.session_id)
                    .bind(event.created_ms)
                    .bind(event.body)
                    .execute(&mut *tx)
                    .await?;
                stored.push(StoredEvent {
                    seq,
                    id: event.id.to_owned(),
                    kind: event.kind.to_owned(),
                    account: obs.account.to_owned(),
                    session_id: obs.session_id.to_owned(),
                    created_ms: event.created_ms,
                    body: event.body.to_owned(),
                });
                seq += 1;
            }
        }
        tx.commit().await?;
        Ok(Recorded::Done(stored))
    }

    /// Open sessions of `account` due at `now_ms` (`next_poll_ms <=
    /// now_ms`), earliest first, at most `limit`.
    pub async fn due(
        &self,
        account: &str,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<Tracked>, StoreError> {
        let rows = sqlx::query(DUE)
            .bind(account)
            .bind(now_ms)
            .bind(limit.max(0))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(tracked_of).collect()
    }

    /// A poll of `session_id` failed: one more failure, and the next try
    /// at `next_poll_ms`. The version stays (nothing was seen); a session
    /// recorded terminal meanwhile stays unpolled.
    pub async fn poll_failed(&self, session_id: &str, next_poll_ms: i64) -> Result<(), StoreError> {
        sqlx::query(POLL_FAILED)
            .bind(session_id)
            .bind(next_poll_ms)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The tracked sessions of `account` with the vendor link key `hint`,
    /// oldest first.
    pub async fn tracked_by_hint(
        &self,
        account: &str,
        hint: &str,
    ) -> Result<Vec<Tracked>, StoreError> {
        let rows = sqlx::query(BY_HINT)
            .bind(account)
            .bind(hint)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(tracked_of).collect()
    }

    /// How many sessions are tracked (of `account` only, when given; only
    /// those still polled, when `open_only`).
    pub async fn count_tracked(
        &self,
        account: Option<&str>,
        open_only: bool,
    ) -> Result<i64, StoreError> {
        let mut sql = String::from("SELECT COUNT(*) AS n FROM tracked_sessions WHERE 1 = 1");
        if account.is_some() {
            sql.push_str(" AND account = $1");
        }
        if open_only {
            sql.push_str(" AND next_poll_ms IS NOT NULL");
        }
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        if let Some(account) = account {
            query = query.bind(account);
        }
        Ok(query.fetch_one(&self.pool).await?)
    }

    /// Events after `filter.after` that match it, seq ascending, at most
    /// `filter.limit`.
    pub async fn events(&self, filter: &EventFilter<'_>) -> Result<Vec<StoredEvent>, StoreError> {
        let kinds = filter.kinds.unwrap_or_default();
        let accounts = filter.accounts.unwrap_or_default();
        // An empty list allows nothing (`None` is "all").
        if (filter.kinds.is_some() && kinds.is_empty())
            || (filter.accounts.is_some() && accounts.is_empty())
        {
            return Ok(Vec::new());
        }
        let mut sql = String::from(
            "SELECT seq, id, kind, account, session_id, created_ms, body FROM events WHERE seq > $1",
        );
        let mut next = 2;
        if filter.kinds.is_some() {
            sql.push_str(&format!(
                " AND kind IN ({})",
                placeholders(&mut next, kinds.len())
            ));
        }
        if filter.accounts.is_some() {
            sql.push_str(&format!(
                " AND account IN ({})",
                placeholders(&mut next, accounts.len())
            ));
        }
        if filter.session_id.is_some() {
            sql.push_str(&format!(" AND session_id = {}", placeholders(&mut next, 1)));
        }
        sql.push_str(&format!(
            " ORDER BY seq LIMIT {}",
            placeholders(&mut next, 1)
        ));
        let mut query = sqlx::query(&sql).bind(filter.after);
        for kind in kinds {
            query = query.bind(kind.as_str());
        }
        for account in accounts {
            query = query.bind(account.as_str());
        }
        if let Some(session_id) = filter.session_id {
            query = query.bind(session_id);
        }
        let rows = query
            .bind(filter.limit.max(0))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_of).collect()
    }

    /// The event with id `id`, if kept.
    pub async fn event(&self, id: &str) -> Result<Option<StoredEvent>, StoreError> {
        let row = sqlx::query(EVENT)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(event_of).transpose()
    }

    /// The seq of the last event recorded (0 before the first), purged or
    /// not: the feed's head.
    pub async fn last_event_seq(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar::<_, i64>(LAST_EVENT_SEQ)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Remove events created before `events_before_ms` (but not one a
    /// pending delivery has still to send), the deliveries of events no
    /// longer kept and their attempts, and tracked rows of sessions seen
    /// terminal before `terminal_before_ms`, and the routes of sessions
    /// routed before `events_before_ms`. How many rows were removed.
    pub async fn purge_feed(
        &self,
        events_before_ms: i64,
        terminal_before_ms: i64,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut removed = sqlx::query(PURGE_EVENTS)
            .bind(events_before_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        for sql in [PURGE_ATTEMPTS, PURGE_DELIVERIES] {
            removed += sqlx::query(sql).execute(&mut *tx).await?.rows_affected();
        }
        removed += sqlx::query(PURGE_TRACKED)
            .bind(terminal_before_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        removed += sqlx::query(PURGE_ROUTED)
            .bind(events_before_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(removed)
    }

    /// Purge the feed every `every`, keeping events for `keep_events` and
    /// terminal sessions' tracked rows for `terminal_grace`, for as long as
    /// the runtime runs; a failed purge is logged and tried again next
    /// time. (The feed's retention is the gateway's setting: it starts
    /// this, [`Store::spawn_purge`] does not.)
    pub fn spawn_feed_purge(
        &self,
        every: Duration,
        keep_events: Duration,
        terminal_grace: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let now = now_ms();
                let purged = store
                    .purge_feed(
                        now.saturating_sub(ms(keep_events)),
                        now.saturating_sub(ms(terminal_grace)),
                    )
                    .await;
                match purged {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(purged = n, "old feed rows purged"),
                    Err(e) => tracing::warn!(error = %e, "purging the change feed failed"),
                }
            }
        })
    }

    /// Take the lease `name` for `holder` until `ttl` from now, if it is
    /// free, expired, or already `holder`'s (a renewal). True when
    /// `holder` holds it now.
    pub async fn lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = now_ms();
        let row = sqlx::query(LEASE)
            .bind(name)
            .bind(holder)
            .bind(now.saturating_add(ms(ttl)))
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(row.try_get::<String, _>("holder")? == holder),
            None => Ok(false),
        }
    }

    /// Give the lease `name` up, if `holder` holds it (another holder's is
    /// never touched).
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query(RELEASE_LEASE)
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Take `n` values of the counter `name` in `tx`; the first of them. The
/// counter's row stays locked until `tx` ends: takers follow one another.
pub(crate) async fn take_counter(
    tx: &mut Transaction<'_, Any>,
    name: &str,
    n: usize,
) -> Result<i64, StoreError> {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    let last: i64 = sqlx::query_scalar(TAKE_COUNTER)
        .bind(name)
        .bind(n)
        .fetch_one(&mut **tx)
        .await?;
    Ok(last - n + 1)
}

/// `n` placeholders from `$next` on, comma-separated; `next` moves past them.
pub(crate) fn placeholders(next: &mut usize, n: usize) -> String {
    let list: Vec<String> = (*next..*next + n).map(|i| format!("${i}")).collect();
    *next += n;
    list.join(", ")
}

fn tracked_of(row: &AnyRow) -> Result<Tracked, StoreError> {
    Ok(Tracked {
        session_id: row.try_get("session_id")?,
        account: row.try_get("account")?,
        status: row.try_get("status")?,
        payment_status: row.try_get("payment_status")?,
        state: row.try_get("state")?,
        hint: row.try_get("hint")?,
        created_ms: row.try_get("created_ms")?,
        expires_ms: row.try_get("expires_ms")?,
        next_poll_ms: row.try_get("next_poll_ms")?,
        failures: row.try_get("failures")?,
        terminal_ms: row.try_get("terminal_ms")?,
        version: row.try_get("version")?,
        seen_ms: row.try_get("seen_ms")?,
    })
}

pub(crate) fn event_of(row: &AnyRow) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        account: row.try_get("account")?,
        session_id: row.try_get("session_id")?,
        created_ms: row.try_get("created_ms")?,
        body: row.try_get("body")?,
    })
}
