//! Idempotent create at the gateway, with Stripe's semantics: the same
//! `Idempotency-Key` and the same body replay the first response; the same
//! key with another body is refused; concurrent requests with one key make
//! one upstream create, the later ones waiting (bounded) for the first.
//!
//! The records live in the store (`crates/store`: SQLite or PostgreSQL),
//! so a restart, or another replica on the same database, sees every key.
//! The store picks one owner per key and only the owner's token completes
//! or releases it.

use std::time::Duration;

use checkout_core::{Error, ErrorCode};
use sha2::{Digest, Sha256};
use store::{IdempotencyKey, Store, StoreError};
use tokio::sync::OnceCell;
use tokio::time::Instant;

pub use store::{Attempt, ClaimToken, StoredResponse};

use crate::config::{ConfigError, GatewayConfig};

/// A claim outlives the vendor call's deadline by this much (the cache
/// write and the store's own write, and clock skew between replicas); past
/// it, the owner is presumed dead and a retry may take the key over.
const LEASE_MARGIN: Duration = Duration::from_secs(30);
/// How often expired records are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(600);
/// A waiter asks the store again after this, doubling up to the next.
const FIRST_POLL: Duration = Duration::from_millis(10);
const MAX_POLL: Duration = Duration::from_millis(200);
/// The most `Retry-After` a `409 idempotency_in_progress` asks for: the
/// running request usually ends well before its lease.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);
/// Tries at recording a response before giving up (then the key stays
/// claimed until its lease ends).
const COMPLETE_ATTEMPTS: u32 = 3;

/// What a claim gives the request.
pub enum Claimed {
    /// The request owns the key: create, then `complete` or `release`.
    /// `earlier` is the note of an attempt whose outcome at the vendor is
    /// unknown (its owner died or could not tell): look for its session
    /// before creating.
    New {
        token: ClaimToken,
        earlier: Option<String>,
    },
    /// The stored answer to an earlier request with the same key and body.
    Replay(StoredResponse),
}

/// The idempotency records: the store (opened at start by `serve`, else
/// at first use) and how long records are kept and requests wait.
pub struct Idempotency {
    /// May hold a password: never logged, never in `Debug`.
    url: String,
    store: OnceCell<Store>,
    ttl: Duration,
    wait: Duration,
    settle: Duration,
}

impl Idempotency {
    pub fn new(config: &GatewayConfig) -> Result<Idempotency, ConfigError> {
        Ok(Idempotency {
            url: config.store_url()?,
            store: OnceCell::new(),
            ttl: Duration::from_secs(config.idempotency.ttl_secs),
            wait: Duration::from_millis(config.idempotency.wait_ms),
            settle: Duration::from_millis(config.idempotency.settle_ms),
        })
    }

    /// How long a key replays its answer.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How long past its deadline a vendor may still act on a create.
    pub fn settle(&self) -> Duration {
        self.settle
    }

    /// Open the store (connect, run migrations) and start purging expired
    /// records, once; a failed open is tried again at the next call.
    pub async fn open(&self) -> Result<&Store, StoreError> {
        self.store
            .get_or_try_init(|| async {
                let store = Store::open(&self.url).await?;
                store.spawn_purge(PURGE_EVERY);
                tracing::info!(backend = store.backend().name(), "store open");
                Ok(store)
            })
            .await
    }

    pub(crate) async fn store(&self) -> Result<&Store, Error> {
        self.open().await.map_err(unavailable)
    }

    /// Claim `key` for a request with `fingerprint` whose vendor call ends
    /// within `deadline`. While another request holds the key, wait up to
    /// `idempotency.wait_ms` for its answer, then refuse with
    /// `409 idempotency_in_progress`; another body is `422
    /// idempotency_key_reused`.
    pub async fn claim(
        &self,
        key: IdempotencyKey<'_>,
        fingerprint: [u8; 32],
        attempt: Attempt<'_>,
        deadline: Duration,
    ) -> Result<Claimed, Error> {
        let store = self.store().await?;
        let lease = deadline + LEASE_MARGIN;
        let give_up = Instant::now() + self.wait;
        let mut poll = FIRST_POLL;
        loop {
            let claim = store
                .claim(key, &fingerprint, attempt, lease, self.ttl)
                .await
                .map_err(unavailable)?;
            let lease_left = match claim {
                store::Claim::New { token, earlier } => return Ok(Claimed::New { token, earlier }),
                store::Claim::Replay(response) => return Ok(Claimed::Replay(response)),
                store::Claim::Mismatch => {
                    return Err(Error::new(
                        ErrorCode::IdempotencyKeyReused,
                        "Idempotency-Key was already used with a different request body",
                    ))
                }
                store::Claim::InProgress { lease_left } => lease_left,
            };
            let now = Instant::now();
            if now >= give_up {
                return Err(in_progress(lease_left));
            }
            tokio::time::sleep(poll.min(give_up - now)).await;
            poll = (poll * 2).min(MAX_POLL);
        }
    }

    /// Record the owner's response (and the vendor session it answered
    /// with). A store that keeps failing is logged: the key then stays
    /// claimed until its lease ends.
    pub async fn complete(
        &self,
        key: IdempotencyKey<'_>,
        token: &ClaimToken,
        response: &StoredResponse,
        session_id: Option<&str>,
    ) {
        let mut pause = Duration::from_millis(50);
        for attempt in 1..=COMPLETE_ATTEMPTS {
            let done = match self.store().await {
                Ok(store) => store
                    .complete(key, token, response, session_id, self.ttl)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.message),
            };
            match done {
                Ok(true) => return,
                Ok(false) => {
                    tracing::warn!(
                        "an idempotency claim was taken over before its response was recorded"
                    );
                    return;
                }
                Err(error) if attempt == COMPLETE_ATTEMPTS => {
                    tracing::error!(%error, "recording an idempotent create's response failed");
                }
                Err(_) => {
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
            }
        }
    }

    /// Give the key up (nothing happened at the vendor), so the next
    /// request with it creates. Only this claim's own record is removed.
    pub async fn release(&self, key: IdempotencyKey<'_>, token: &ClaimToken) {
        let released = match self.store().await {
            Ok(store) => store.release(key, token).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.message),
        };
        if let Err(error) = released {
            // The claim stays until its lease ends; retries wait till then.
            tracing::error!(%error, "releasing an idempotency key failed");
        }
    }
}

impl Idempotency {
    /// Leave the key, the outcome of its attempt unknown: after
    /// `look_again_in` the next request with it takes it over and looks
    /// for the session. A failing store leaves the lease to end by itself
    /// (same outcome, later).
    pub async fn unsettle(
        &self,
        key: IdempotencyKey<'_>,
        token: &ClaimToken,
        look_again_in: Duration,
    ) {
        let done = match self.store().await {
            Ok(store) => store
                .unsettle(key, token, look_again_in)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.message),
        };
        if let Err(error) = done {
            tracing::error!(%error, "ending an idempotency claim's lease failed");
        }
    }

    /// Make a new attempt under the owner's claim (the earlier one made
    /// nothing at the vendor). False when the claim is no longer the
    /// owner's or the store failed: then nothing may be created.
    pub async fn retry(
        &self,
        key: IdempotencyKey<'_>,
        token: &ClaimToken,
        attempt: Attempt<'_>,
    ) -> Result<bool, Error> {
        self.store()
            .await?
            .retry(key, token, attempt)
            .await
            .map_err(unavailable)
    }

    /// Other keys' creates running for `subject` right now.
    pub async fn running_for(
        &self,
        subject: &str,
        except: IdempotencyKey<'_>,
    ) -> Result<u64, Error> {
        self.store()
            .await?
            .running_for(subject, except)
            .await
            .map_err(unavailable)
    }

    /// Which of `session_ids` (canonical ids) other keys answered with.
    pub async fn sessions_taken(&self, session_ids: &[&str]) -> Result<Vec<String>, Error> {
        self.store()
            .await?
            .sessions_taken(session_ids)
            .await
            .map_err(unavailable)
    }
}

/// The request's identity: its JSON with keys sorted, hashed. Whitespace
/// and key order do not make two bodies different.
pub fn fingerprint(request: &serde_json::Value) -> [u8; 32] {
    Sha256::digest(request.to_string().as_bytes()).into()
}

fn in_progress(lease_left: Duration) -> Error {
    let seconds = lease_left.as_millis().div_ceil(1000);
    let after = Duration::from_secs(u64::try_from(seconds).unwrap_or(u64::MAX))
        .clamp(Duration::from_secs(1), MAX_RETRY_AFTER);
    Error::new(
        ErrorCode::IdempotencyInProgress,
        "another request with this Idempotency-Key is still running; retry after Retry-After seconds for its answer",
    )
    .with_retry_after(Some(after))
}

/// The store failed: nothing was done at the vendor, so a retry is safe.
pub(crate) fn unavailable(e: StoreError) -> Error {
    tracing::error!(error = %e, "the store failed");
    let mut error = Error::new(
        ErrorCode::Internal,
        "the gateway's store is unavailable; retry later (see the gateway's log)",
    );
    error.retryable = true;
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::{Format, Toml};
    use serde_json::json;
    use std::sync::Arc;

    fn response(status: u16) -> StoredResponse {
        StoredResponse {
            status,
            body: "{}".to_owned(),
            location: None,
            retry_after_secs: None,
        }
    }

    fn key(key: &str) -> IdempotencyKey<'_> {
        IdempotencyKey { scope: "shop", key }
    }

    /// Records in a SQLite file under `dir`, waiting `wait_ms`.
    fn idempotency(dir: &std::path::Path, wait_ms: u64) -> Idempotency {
        let toml = format!(
            "data_dir = {:?}\n[idempotency]\nwait_ms = {wait_ms}\n",
            dir.display().to_string()
        );
        let config =
            GatewayConfig::from_figment(&crate::config::defaults().merge(Toml::string(&toml)))
                .expect("config");
        Idempotency::new(&config).expect("a SQLite URL")
    }

    fn token(claimed: Result<Claimed, Error>) -> ClaimToken {
        match claimed {
            Ok(Claimed::New { token, .. }) => token,
            Ok(Claimed::Replay(r)) => panic!("replayed {r:?}"),
            Err(e) => panic!("{e:?}"),
        }
    }

    const DEADLINE: Duration = Duration::from_secs(15);
    const ATTEMPT: Attempt<'static> = Attempt {
        note: "{}",
        subject: "meteroid:default:cus_1",
    };

    #[test]
    fn fingerprints_ignore_key_order_and_whitespace() {
        let a: serde_json::Value = serde_json::from_str(r#"{"a":1,"b":{"c":2}}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str("{ \"b\": {\"c\": 2},\n \"a\": 1 }").unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(
            fingerprint(&a),
            fingerprint(&json!({"a": 2, "b": {"c": 2}}))
        );
    }

    #[tokio::test]
    async fn the_default_store_is_a_file_in_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let records = idempotency(dir.path(), 0);
        records.open().await.expect("open");
        assert!(dir.path().join(crate::config::DEFAULT_STORE_FILE).is_file());
    }

    #[tokio::test]
    async fn first_claim_then_replay_then_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let records = idempotency(dir.path(), 0);
        let t = token(records.claim(key("k"), [1; 32], ATTEMPT, DEADLINE).await);
        records.complete(key("k"), &t, &response(201), None).await;
        assert!(matches!(
            records.claim(key("k"), [1; 32], ATTEMPT, DEADLINE).await,
            Ok(Claimed::Replay(r)) if r.status == 201
        ));
        let err = records
            .claim(key("k"), [2; 32], ATTEMPT, DEADLINE)
            .await
            .err();
        assert_eq!(err.map(|e| e.code), Some(ErrorCode::IdempotencyKeyReused));
    }

    #[tokio::test]
    async fn a_second_request_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let records = Arc::new(idempotency(dir.path(), 5_000));
        let t = token(records.claim(key("k"), [1; 32], ATTEMPT, DEADLINE).await);
        let waiter = {
            let records = records.clone();
            tokio::spawn(async move { records.claim(key("k"), [1; 32], ATTEMPT, DEADLINE).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiter.is_finished(), "waits while the first runs");
        records.complete(key("k"), &t, &response(201), None).await;
        assert!(matches!(waiter.await.unwrap(), Ok(Claimed::Replay(r)) if r.status == 201));
    }

    #[tokio::test]
    async fn a_waiter_gives_up_with_in_progress_and_retry_after() {
        let dir = tempfile::tempdir().unwrap();
        let records = idempotency(dir.path(), 100);
        token(records.claim(key("k"), [1; 32], ATTEMPT, DEADLINE).await);
        let started = std::time::Instant::now();
        let err = records
            .claim(key("k"), [1; 32], ATTEMPT, DEADLINE)
            .await
            .err()
            .expect("refused");
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert_eq!(err.code, ErrorCode::IdempotencyInProgress);
        assert_eq!((err.http_status, err.retryable), (409, true));
        assert_eq!(err.retry_after, Some(MAX_RETRY_AFTER));
    }

    #[tokio::test]
    async fn a_released_key_is_claimed_again_by_one_waiter() {
        let dir = tempfile::tempdir().unwrap();
        let records = Arc::new(idempotency(dir.path(), 5_000));
        let first = token(records.claim(key("k"), [1; 32], ATTEMPT, DEADLINE).await);
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let records = records.clone();
                tokio::spawn(
                    async move { records.claim(key("k"), [1; 32], ATTEMPT, DEADLINE).await },
                )
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        records.release(key("k"), &first).await;
        // One waiter owns the key now (the others go on waiting); it
        // completes, and every other waiter replays its answer.
        let (first_done, _, others) = futures::future::select_all(waiters).await;
        let owner = token(first_done.unwrap());
        records
            .complete(key("k"), &owner, &response(201), None)
            .await;
        for waiter in futures::future::join_all(others).await {
            assert!(matches!(waiter.unwrap(), Ok(Claimed::Replay(r)) if r.status == 201));
        }
    }

    #[tokio::test]
    async fn a_store_that_cannot_open_is_a_retryable_500() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "not a directory").unwrap();
        let records = idempotency(&blocker, 0);
        let err = records
            .claim(key("k"), [1; 32], ATTEMPT, DEADLINE)
            .await
            .err()
            .expect("refused");
        assert_eq!((err.code, err.retryable), (ErrorCode::Internal, true));
    }
}
