//! Webhook deliveries (PRODUCT §11): per endpoint, a cursor into the events
//! (fan-out makes a delivery of each matching event past it), the
//! deliveries with their retry schedule, and every attempt.
//!
//! Deliveries of one session reach an endpoint in event order: a pending
//! delivery (due or waiting for its retry) holds back the later ones of its
//! session, so [`Store::due_deliveries`] offers at most one per session.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::feed::{placeholders, take_counter};
use crate::{now_ms, Store, StoreError};

/// Which events an endpoint receives.
#[derive(Debug, Clone, Copy, Default)]
pub struct EndpointFilter<'a> {
    /// Only these types (`None`: all).
    pub kinds: Option<&'a [String]>,
    /// Only these accounts, "provider:account" (`None`: all).
    pub accounts: Option<&'a [String]>,
}

impl EndpointFilter<'_> {
    fn allows(&self, kind: &str, account: &str) -> bool {
        let listed = |list: Option<&[String]>, value: &str| {
            list.is_none_or(|list| list.iter().any(|v| v == value))
        };
        listed(self.kinds, kind) && listed(self.accounts, account)
    }
}

/// An endpoint as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointState {
    /// Events up to this seq are fanned out.
    pub cursor: i64,
    pub disabled_ms: Option<i64>,
    pub disabled_reason: Option<String>,
}

/// A pending delivery to attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub endpoint: String,
    pub event_seq: i64,
    pub event_id: String,
    pub session_id: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// The event body, as stored: sent and signed as is.
    pub body: String,
}

/// What an attempt leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    /// Still pending, due again at this time (unix ms).
    RetryAt(i64),
    /// Failed for good.
    GiveUp,
}

/// One attempt, as made.
#[derive(Debug, Clone, Copy)]
pub struct AttemptRecord<'a> {
    pub at_ms: i64,
    /// The receiver's HTTP status; `None` when none came.
    pub status: Option<u16>,
    pub error: Option<&'a str>,
    pub duration_ms: i64,
}

/// An attempt, as listed for an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    pub delivery_id: i64,
    pub endpoint: String,
    /// 1-based, per delivery.
    pub attempt: i64,
    pub at_ms: i64,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
    /// The delivery's state now: "pending", "delivered" or "failed".
    pub state: String,
}

/// A new endpoint starts at the feed's head: it receives events from now on.
const ENSURE_ENDPOINT: &str = "\
INSERT INTO webhook_endpoints (name, cursor)
SELECT $1, value FROM feed_counters WHERE name = 'events'
ON CONFLICT (name) DO NOTHING";

/// Holds the endpoint's row (PostgreSQL) while fanning out: two fan-outs of
/// one endpoint follow one another instead of both delivering an event.
const LOCK_ENDPOINT: &str = "UPDATE webhook_endpoints SET cursor = cursor WHERE name = $1";

const ENDPOINT_STATE: &str = "\
SELECT cursor, disabled_ms, disabled_reason FROM webhook_endpoints WHERE name = $1";

const EVENTS_AFTER: &str = "\
SELECT seq, id, kind, account, session_id FROM events WHERE seq > $1 ORDER BY seq LIMIT $2";

const INSERT_DELIVERY: &str = "\
INSERT INTO webhook_deliveries (id, endpoint, event_seq, event_id, session_id, state, attempts, next_ms,
    created_ms, updated_ms)
VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $6)";

const ADVANCE_CURSOR: &str = "UPDATE webhook_endpoints SET cursor = $2 WHERE name = $1";

const DUE_DELIVERIES: &str = "\
SELECT d.id, d.endpoint, d.event_seq, d.event_id, d.session_id, d.attempts, e.body
FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
WHERE d.endpoint = $1 AND d.state = 'pending' AND d.next_ms <= $2
  -- In order per session: not while an earlier one of its session is pending.
  AND NOT EXISTS (
    SELECT 1 FROM webhook_deliveries p
    WHERE p.endpoint = d.endpoint AND p.session_id = d.session_id AND p.state = 'pending'
      AND (p.event_seq < d.event_seq OR (p.event_seq = d.event_seq AND p.id < d.id)))
ORDER BY d.event_seq, d.id
LIMIT $3";

const FINISH_ATTEMPT: &str = "\
UPDATE webhook_deliveries
SET state = $2, next_ms = COALESCE($3, next_ms), attempts = attempts + 1, updated_ms = $4
WHERE id = $1 AND state = 'pending'
RETURNING attempts";

const INSERT_ATTEMPT: &str = "\
INSERT INTO webhook_attempts (delivery_id, attempt, at_ms, status, error, duration_ms)
VALUES ($1, $2, $3, $4, $5, $6)";

const DISABLE: &str = "\
UPDATE webhook_endpoints SET disabled_ms = $2, disabled_reason = $3 WHERE name = $1";

const ENABLE: &str = "\
UPDATE webhook_endpoints SET disabled_ms = NULL, disabled_reason = NULL WHERE name = $1";

const EVENT_PLACE: &str = "SELECT seq, session_id FROM events WHERE id = $1";

const ATTEMPTS: &str = "\
SELECT a.delivery_id, d.endpoint, a.attempt, a.at_ms, a.status, a.error, a.duration_ms, d.state
FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
WHERE d.event_id = $1
ORDER BY a.delivery_id, a.attempt";

impl Store {
    /// The endpoint `name`, made if new (at the feed's head: it receives
    /// the events recorded from now on).
    pub async fn webhook_endpoint(&self, name: &str) -> Result<EndpointState, StoreError> {
        sqlx::query(ENSURE_ENDPOINT)
            .bind(name)
            .execute(&self.pool)
            .await?;
        let row = sqlx::query(ENDPOINT_STATE)
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(EndpointState {
            cursor: row.try_get("cursor")?,
            disabled_ms: row.try_get("disabled_ms")?,
            disabled_reason: row.try_get("disabled_reason")?,
        })
    }

    /// In one transaction: read up to `limit` events past the endpoint's
    /// cursor, make a pending delivery (due at `now_ms`) of each that
    /// `filter` allows, and move the cursor past all read. How many
    /// deliveries were made. A disabled endpoint is fanned out too: the
    /// caller decides whether to.
    pub async fn fan_out(
        &self,
        endpoint: &str,
        filter: &EndpointFilter<'_>,
        now_ms: i64,
        limit: i64,
    ) -> Result<u64, StoreError> {
        // Writes first: on SQLite the lock is taken before anything is read.
        let mut tx = self.pool.begin().await?;
        sqlx::query(ENSURE_ENDPOINT)
            .bind(endpoint)
            .execute(&mut *tx)
            .await?;
        sqlx::query(LOCK_ENDPOINT)
            .bind(endpoint)
            .execute(&mut *tx)
            .await?;
        let cursor: i64 = sqlx::query(ENDPOINT_STATE)
            .bind(endpoint)
            .fetch_one(&mut *tx)
            .await?
            .try_get("cursor")?;
        let rows = sqlx::query(EVENTS_AFTER)
            .bind(cursor)
            .bind(limit.max(0))
            .fetch_all(&mut *tx)
            .await?;
        let Some(last) = rows.last() else {
            tx.rollback().await?;
            return Ok(0);
        };
        let last_seq: i64 = last.try_get("seq")?;
        let mut matching = Vec::new();
        for row in &rows {
            let kind: String = row.try_get("kind")?;
            let account: String = row.try_get("account")?;
            if filter.allows(&kind, &account) {
                matching.push(row);
            }
        }
        if !matching.is_empty() {
            let mut id = take_counter(&mut tx, "deliveries", matching.len()).await?;
            for row in &matching {
                sqlx::query(INSERT_DELIVERY)
                    .bind(id)
                    .bind(endpoint)
                    .bind(row.try_get::<i64, _>("seq")?)
                    .bind(row.try_get::<String, _>("id")?)
                    .bind(row.try_get::<String, _>("session_id")?)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                id += 1;
            }
        }
        sqlx::query(ADVANCE_CURSOR)
            .bind(endpoint)
            .bind(last_seq)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(u64::try_from(matching.len()).unwrap_or(u64::MAX))
    }

    /// Pending deliveries to `endpoint` due at `now_ms`, in event order, at
    /// most `limit`: only the earliest pending one of each session, and
    /// only when it is due (a retry waiting holds its session back).
    pub async fn due_deliveries(
        &self,
        endpoint: &str,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        let rows = sqlx::query(DUE_DELIVERIES)
            .bind(endpoint)
            .bind(now_ms)
            .bind(limit.max(0))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(delivery_of).collect()
    }

    /// Record an attempt at the pending delivery `delivery_id` and what it
    /// leads to. A delivery no longer pending (or unknown) is left as is,
    /// and the attempt not recorded.
    pub async fn record_attempt(
        &self,
        delivery_id: i64,
        record: &AttemptRecord<'_>,
        outcome: AttemptOutcome,
    ) -> Result<(), StoreError> {
        let (state, next_ms) = match outcome {
            AttemptOutcome::Delivered => ("delivered", None),
            AttemptOutcome::RetryAt(at) => ("pending", Some(at)),
            AttemptOutcome::GiveUp => ("failed", None),
        };
        let mut tx = self.pool.begin().await?;
        let attempt: Option<i64> = sqlx::query_scalar(FINISH_ATTEMPT)
            .bind(delivery_id)
            .bind(state)
            .bind(next_ms)
            .bind(now_ms())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(attempt) = attempt else {
            tx.rollback().await?;
            tracing::debug!(
                delivery_id,
                "attempt at a delivery no longer pending ignored"
            );
            return Ok(());
        };
        sqlx::query(INSERT_ATTEMPT)
            .bind(delivery_id)
            .bind(attempt)
            .bind(record.at_ms)
            .bind(record.status.map(i64::from))
            .bind(record.error)
            .bind(record.duration_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Mark the endpoint disabled (its receiver answered 410).
    pub async fn disable_endpoint(
        &self,
        name: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(ENSURE_ENDPOINT)
            .bind(name)
            .execute(&self.pool)
            .await?;
        sqlx::query(DISABLE)
            .bind(name)
            .bind(now_ms)
            .bind(reason)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Enable the endpoint again.
    pub async fn enable_endpoint(&self, name: &str) -> Result<(), StoreError> {
        sqlx::query(ENABLE).bind(name).execute(&self.pool).await?;
        Ok(())
    }

    /// A new pending delivery of event `event_id` (due at `now_ms`) to each
    /// of `endpoints`. How many were made: 0 when the event is not kept.
    pub async fn redeliver(
        &self,
        event_id: &str,
        endpoints: &[&str],
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        if endpoints.is_empty() {
            return Ok(0);
        }
        // The ids first (a write: on SQLite the lock before any read);
        // given back by the rollback when the event is gone.
        let mut tx = self.pool.begin().await?;
        let mut id = take_counter(&mut tx, "deliveries", endpoints.len()).await?;
        let Some(event) = sqlx::query(EVENT_PLACE)
            .bind(event_id)
            .fetch_optional(&mut *tx)
            .await?
        else {
            tx.rollback().await?;
            return Ok(0);
        };
        let seq: i64 = event.try_get("seq")?;
        let session_id: String = event.try_get("session_id")?;
        for endpoint in endpoints {
            sqlx::query(INSERT_DELIVERY)
                .bind(id)
                .bind(*endpoint)
                .bind(seq)
                .bind(event_id)
                .bind(&session_id)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            id += 1;
        }
        tx.commit().await?;
        Ok(u64::try_from(endpoints.len()).unwrap_or(u64::MAX))
    }

    /// Every attempt at delivering event `event_id`, by delivery then attempt.
    pub async fn attempts(&self, event_id: &str) -> Result<Vec<AttemptRow>, StoreError> {
        let rows = sqlx::query(ATTEMPTS)
            .bind(event_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(attempt_of).collect()
    }

    /// How many deliveries are pending (to `endpoint` only, when given).
    pub async fn pending_deliveries(&self, endpoint: Option<&str>) -> Result<i64, StoreError> {
        let mut sql =
            String::from("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE state = 'pending'");
        if endpoint.is_some() {
            sql.push_str(&format!(" AND endpoint = {}", placeholders(&mut 1, 1)));
        }
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        if let Some(endpoint) = endpoint {
            query = query.bind(endpoint);
        }
        Ok(query.fetch_one(&self.pool).await?)
    }
}

fn delivery_of(row: &AnyRow) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: row.try_get("id")?,
        endpoint: row.try_get("endpoint")?,
        event_seq: row.try_get("event_seq")?,
        event_id: row.try_get("event_id")?,
        session_id: row.try_get("session_id")?,
        attempts: row.try_get("attempts")?,
        body: row.try_get("body")?,
    })
}

fn attempt_of(row: &AnyRow) -> Result<AttemptRow, StoreError> {
    let status: Option<i64> = row.try_get("status")?;
    Ok(AttemptRow {
        delivery_id: row.try_get("delivery_id")?,
        endpoint: row.try_get("endpoint")?,
        attempt: row.try_get("attempt")?,
        at_ms: row.try_get("at_ms")?,
        status: status.and_then(|s| u16::try_from(s).ok()),
        error: row.try_get("error")?,
        duration_ms: row.try_get("duration_ms")?,
        state: row.try_get("state")?,
    })
}
