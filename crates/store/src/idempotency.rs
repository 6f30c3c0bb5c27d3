//! Idempotency records: a key (scoped to its client), the request's
//! fingerprint, the claim's owner and lease, and once done the response,
//! kept until it expires.
//!
//! A claim is one `INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING`: the
//! database decides which of any number of concurrent claimers (on any
//! replica) owns the key, and only the owner's token completes or releases
//! it, so a release never removes a claim somebody else has since made.
//!
//! Each claim says what it is about to do at the vendor (an [`Attempt`]).
//! A claim that takes a key over from an owner whose outcome is unknown (it
//! died, or ended its lease with [`Store::unsettle`]) gets that earlier
//! attempt back, so it can look for the session at the vendor before
//! creating a second one.

use std::time::Duration;

use sqlx::Row;

use crate::{ms, now_ms, Store, StoreError};

/// A key as the store keeps it: its owner's scope (the client) and the key.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyKey<'a> {
    pub scope: &'a str,
    pub key: &'a str,
}

/// The proof of owning a claim: needed to complete or release it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimToken(String);

/// What a claim is about to do at the vendor.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The gateway's description of the attempt (opaque to the store); a
    /// later owner gets it back as [`Claim::New::earlier`].
    pub note: &'a str,
    /// Whom it creates for: records of one subject that run at once are
    /// counted by [`Store::running_for`].
    pub subject: &'a str,
}

/// A finished response, as replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    /// The response body (the gateway's answers are JSON text).
    pub body: String,
    pub location: Option<String>,
    pub retry_after_secs: Option<u64>,
}

/// What a claim found.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The caller owns the key now: it performs the request, then
    /// completes or releases with this token. `earlier` is the note of an
    /// attempt whose outcome is unknown (its owner died or gave its lease
    /// up unsettled): the vendor may hold its session already.
    New {
        token: ClaimToken,
        earlier: Option<String>,
    },
    /// Done before with the same fingerprint: its response.
    Replay(StoredResponse),
    /// Used before with another fingerprint.
    Mismatch,
    /// Another owner's request with this fingerprint is under way; its
    /// lease ends within `lease_left`.
    InProgress { lease_left: Duration },
}

const CLAIM: &str = "\
INSERT INTO idempotency_keys (scope, idem_key, fingerprint, token, state, lease_until, expires_at, created_at, attempt, subject)
VALUES ($1, $2, $3, $4, 'running', $5, $6, $7, $8, $9)
ON CONFLICT (scope, idem_key) DO UPDATE SET
    fingerprint = excluded.fingerprint, token = excluded.token, state = 'running',
    lease_until = excluded.lease_until, expires_at = excluded.expires_at, created_at = excluded.created_at,
    status = NULL, body = NULL, location = NULL, retry_after_secs = NULL, session_id = NULL,
    -- Taking over a running claim keeps its attempt: the new owner resolves it.
    attempt = CASE WHEN idempotency_keys.expires_at <= $7 THEN excluded.attempt
                   ELSE idempotency_keys.attempt END
WHERE idempotency_keys.expires_at <= $7
   OR (idempotency_keys.state = 'running' AND idempotency_keys.lease_until <= $7
       AND idempotency_keys.fingerprint = excluded.fingerprint)
RETURNING token, attempt";

const FIND: &str = "\
SELECT fingerprint, state, lease_until, status, body, location, retry_after_secs
FROM idempotency_keys WHERE scope = $1 AND idem_key = $2";

const COMPLETE: &str = "\
UPDATE idempotency_keys
SET state = 'done', status = $4, body = $5, location = $6, retry_after_secs = $7, expires_at = $8,
    session_id = $9
WHERE scope = $1 AND idem_key = $2 AND token = $3 AND state = 'running'";

const UNSETTLE: &str = "\
UPDATE idempotency_keys SET lease_until = $4
WHERE scope = $1 AND idem_key = $2 AND token = $3 AND state = 'running'";

const RETRY: &str = "\
UPDATE idempotency_keys SET attempt = $4
WHERE scope = $1 AND idem_key = $2 AND token = $3 AND state = 'running'";

const RUNNING_FOR: &str = "\
SELECT COUNT(*) AS n FROM idempotency_keys
WHERE subject = $1 AND state = 'running' AND lease_until > $4
  AND NOT (scope = $2 AND idem_key = $3)";

const RELEASE: &str = "\
DELETE FROM idempotency_keys
WHERE scope = $1 AND idem_key = $2 AND token = $3 AND state = 'running'";

const PURGE: &str = "\
DELETE FROM idempotency_keys WHERE expires_at <= $1 AND (state = 'done' OR lease_until <= $1)";

/// A claim that lost every race this many times in a row (the record
/// vanishing between the upsert and the read each time) reports itself in
/// progress rather than spin.
const CLAIM_ATTEMPTS: usize = 8;

impl Store {
    /// Claim `key` for a request with `fingerprint` about to make
    /// `attempt`, for `lease` (after which, unfinished, another claimer with
    /// the same fingerprint may take it over: its owner is presumed dead).
    /// The record expires `ttl` after the claim (and again after completion).
    pub async fn claim(
        &self,
        key: IdempotencyKey<'_>,
        fingerprint: &[u8],
        attempt: Attempt<'_>,
        lease: Duration,
        ttl: Duration,
    ) -> Result<Claim, StoreError> {
        let fingerprint = hex(fingerprint);
        let token = uuid::Uuid::new_v4().simple().to_string();
        for _ in 0..CLAIM_ATTEMPTS {
            let now = now_ms();
            let won = sqlx::query(CLAIM)
                .bind(key.scope)
                .bind(key.key)
                .bind(&fingerprint)
                .bind(&token)
                .bind(now.saturating_add(ms(lease)))
                .bind(now.saturating_add(ms(ttl)))
                .bind(now)
                .bind(attempt.note)
                .bind(attempt.subject)
                .fetch_optional(&self.pool)
                .await?;
            if let Some(row) = won {
                if row.try_get::<String, _>("token")? == token {
                    let kept: Option<String> = row.try_get("attempt")?;
                    return Ok(Claim::New {
                        token: ClaimToken(token),
                        earlier: kept.filter(|note| note != attempt.note),
                    });
                }
            }
            let Some(row) = sqlx::query(FIND)
                .bind(key.scope)
                .bind(key.key)
                .fetch_optional(&self.pool)
                .await?
            else {
                // Released or purged since: claim again.
                continue;
            };
            let now = now_ms();
            if row.try_get::<String, _>("fingerprint")? != fingerprint {
                return Ok(Claim::Mismatch);
            }
            if row.try_get::<String, _>("state")? == "done" {
                return Ok(Claim::Replay(response_of(&row)?));
            }
            let lease_until: i64 = row.try_get("lease_until")?;
            if lease_until <= now {
                // Its owner's lease ended between the upsert and the read.
                continue;
            }
            return Ok(Claim::InProgress {
                lease_left: Duration::from_millis(lease_until.abs_diff(now)),
            });
        }
        Ok(Claim::InProgress {
            lease_left: Duration::ZERO,
        })
    }

    /// Record the response of the claim holding `token`, kept `ttl` from
    /// now, and the vendor session it answered with (no other key adopts
    /// it: [`Store::sessions_taken`]). False when the claim is no longer
    /// this token's (its lease ended and another claimer took it over):
    /// nothing is changed then.
    pub async fn complete(
        &self,
        key: IdempotencyKey<'_>,
        token: &ClaimToken,
        response: &StoredResponse,
        session_id: Option<&str>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(COMPLETE)
            .bind(key.scope)
            .bind(key.key)
            .bind(&token.0)
            .bind(i64::from(response.status))
            .bind(&response.body)
            .bind(response.location.as_deref())
            .bind(
                response
                    .retry_after_secs
                    .map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
            )
            .bind(now_ms().saturating_add(ms(ttl)))
            .bind(session_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Leave the claim without a response, its attempt's outcome unknown:
    /// its lease ends after `look_again_in` (not worth looking sooner), and
    /// the next claim with the same request then takes the key over and
    /// gets the attempt back to resolve. False when the claim is no longer
    /// this token's.
    pub async fn unsettle(
        &self,
        key: IdempotencyKey<'_>,
        token: &ClaimToken,
        look_again_in: Duration,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(UNSETTLE)
            .bind(key.scope)
            .bind(key.key)
            .bind(&token.0)
            .bind(now_ms().saturating_add(ms(look_again_in)))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replace the claim's attempt with a new one (the earlier one was
    /// resolved: the vendor holds nothing of it). False when the claim is
    /// no longer this token's.
    pub async fn retry(
        &self,
        key: IdempotencyKey<'_>,
        token: &ClaimToken,
        attempt: Attempt<'_>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(RETRY)
            .bind(key.scope)
            .bind(key.key)
            .bind(&token.0)
            .bind(attempt.note)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// How many other keys have a claim running for `subject` (their
    /// sessions may be at the vendor, not yet recorded). A claim whose
    /// lease ended counts no more: its attempt is settled by whoever takes
    /// its key over, and a key nobody retries must not block the others.
    pub async fn running_for(
        &self,
        subject: &str,
        except: IdempotencyKey<'_>,
    ) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(RUNNING_FOR)
            .bind(subject)
            .bind(except.scope)
            .bind(except.key)
            .bind(now_ms())
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    /// Which of `session_ids` some record answered with already.
    pub async fn sessions_taken(&self, session_ids: &[&str]) -> Result<Vec<String>, StoreError> {
        let mut taken = Vec::new();
        // Bounded statements: a long list goes in chunks.
        for chunk in session_ids.chunks(100) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT session_id FROM idempotency_keys WHERE session_id IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query_scalar::<_, String>(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            taken.extend(query.fetch_all(&self.pool).await?);
        }
        Ok(taken)
    }

    /// Give the claim holding `token` up without a response, so that the
    /// next claimer performs the request. False when it is no longer this
    /// token's: another claim is never removed.
    pub async fn release(
        &self,
        key: IdempotencyKey<'_>,
        token: &ClaimToken,
    ) -> Result<bool, StoreError> {
        let gone = sqlx::query(RELEASE)
            .bind(key.scope)
            .bind(key.key)
            .bind(&token.0)
            .execute(&self.pool)
            .await?;
        Ok(gone.rows_affected() == 1)
    }

    /// Delete expired records (a running one only once its lease is over
    /// too); how many.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let gone = sqlx::query(PURGE)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(gone.rows_affected())
    }

    /// Purge expired records every `every`, for as long as the runtime
    /// runs; a failed purge is logged and tried again next time.
    pub fn spawn_purge(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match store.purge_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(purged = n, "expired idempotency records purged"),
                    Err(e) => {
                        tracing::warn!(error = %e, "purging expired idempotency records failed")
                    }
                }
            }
        })
    }
}

fn response_of(row: &sqlx::any::AnyRow) -> Result<StoredResponse, StoreError> {
    let status: i64 = row.try_get("status")?;
    let retry_after: Option<i64> = row.try_get("retry_after_secs")?;
    Ok(StoredResponse {
        status: u16::try_from(status).unwrap_or(500),
        body: row
            .try_get::<Option<String>, _>("body")?
            .unwrap_or_default(),
        location: row.try_get("location")?,
        retry_after_secs: retry_after.and_then(|s| u64::try_from(s).ok()),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
