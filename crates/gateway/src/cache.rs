//! Session cache (PRODUCT §5): moka, keyed by canonical id. Open sessions
//! live briefly, terminal ones long, and never past the moment `expires_at`
//! changes the derived status. Concurrent misses for one id share one
//! upstream call, and share its failure too. Copies are kept a while past
//! fresh, to be served with `X-Cache: stale` when the vendor fails
//! (stale-if-error). The cache also remembers, for longer, which sessions
//! it has held: the breaker weighs failures on ids nobody has seen less.
//! With `cache.redis_url`, Redis is a second tier shared by every replica
//! (`shared`): a local miss reads it before the vendor, and every write
//! goes to both.

/// The Stripe facade's renderings of cached sessions.
pub mod renders;
mod shared;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use checkout_core::{CheckoutSession, Error, ErrorCode, Fetched, Status};
use chrono::{DateTime, Utc};
use moka::future::Cache;
use moka::notification::RemovalCause;
use moka::ops::compute::{CompResult, Op};
use moka::Expiry;
use serde_json::value::RawValue;
use tokio::sync::watch;

use crate::telemetry::metrics::Metrics;

use crate::config::{ConfigError, GatewayConfig};
use shared::{Claim, SharedTier};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    Miss,
    Bypass,
    /// The vendor failed; an older copy is served (stale-if-error).
    Stale,
}

impl CacheOutcome {
    pub fn header_value(self) -> &'static str {
        match self {
            CacheOutcome::Hit => "hit",
            CacheOutcome::Miss => "miss",
            CacheOutcome::Bypass => "bypass",
            CacheOutcome::Stale => "stale",
        }
    }

    fn code(self) -> u8 {
        self as u8
    }

    fn from_code(code: u8) -> CacheOutcome {
        match code {
            1 => CacheOutcome::Miss,
            2 => CacheOutcome::Bypass,
            3 => CacheOutcome::Stale,
            _ => CacheOutcome::Hit,
        }
    }
}

/// A cached session and how long it stays fresh. Only the rendered JSON is
/// kept, not the parsed session nor the vendor payload (`?include=raw`
/// reads from the vendor): a million sessions must fit in under 2 GiB
/// (docs/performance.md).
pub struct Entry {
    /// The canonical JSON, rendered once: a hit writes these bytes.
    body: Bytes,
    /// The status `body` shows (derived at render time)…
    rendered_status: Status,
    /// …and what it is derived from, to notice when it changes.
    vendor_status: Status,
    expires_at: Option<DateTime<Utc>>,
    stored_at: Instant,
    fresh_for: Duration,
    /// Which write made this copy (random): an invalidation naming it is
    /// this copy's own, and leaves it be.
    write: u64,
}

fn new_write_id() -> u64 {
    rand::random()
}

/// The canonical session, plus the vendor payload when `?include=raw`.
#[derive(serde::Serialize)]
struct SessionJson<'a> {
    #[serde(flatten)]
    session: &'a CheckoutSession,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw: Option<&'a RawValue>,
}

/// The response body for a session as seen now (derived expiry applied).
pub fn render(fetched: &Fetched, include_raw: bool) -> Bytes {
    render_json(&fetched.session, include_raw.then_some(&*fetched.raw))
}

fn render_json(session: &CheckoutSession, raw: Option<&RawValue>) -> Bytes {
    let json = SessionJson {
        session: &session.as_of(Utc::now()),
        raw,
    };
    // A session of plain strings, numbers and maps always serialises.
    Bytes::from(serde_json::to_vec(&json).unwrap_or_default())
}

impl Entry {
    /// The response body now: the pre-rendered bytes unless the derived
    /// status has moved since (a copy served past its expiry, when stale).
    pub fn body(&self) -> Bytes {
        let status_now = self.vendor_status.derived(self.expires_at, Utc::now());
        if status_now == self.rendered_status {
            return self.body.clone();
        }
        // Rare: parse our own rendering back, with the status it came from.
        match serde_json::from_slice::<CheckoutSession>(&self.body) {
            Ok(mut session) => {
                session.status = self.vendor_status;
                render_json(&session, None)
            }
            Err(_) => self.body.clone(),
        }
    }

    fn is_fresh(&self) -> bool {
        self.stored_at.elapsed() < self.fresh_for
    }

    /// How long ago the vendor said this.
    pub fn age(&self) -> Duration {
        self.stored_at.elapsed()
    }
}

/// What a read returns: the cached entry and where it came from.
pub struct Read {
    pub entry: Arc<Entry>,
    pub outcome: CacheOutcome,
}

#[derive(Clone)]
pub struct SessionCache {
    inner: Cache<String, Arc<Entry>>,
    policy: Arc<TtlPolicy>,
    metrics: Arc<Metrics>,
    /// Reads of one id going to the vendor now: later readers wait for the
    /// first one's outcome, success or failure.
    flights: Arc<Mutex<HashMap<String, Flight>>>,
    /// Ids of sessions that have passed through the cache.
    seen: moka::sync::Cache<String, ()>,
    /// The Redis tier, when `cache.redis_url` is set.
    shared: Option<Arc<SharedTier>>,
}

/// The outcome of one read in flight, `None` until it lands.
type Flight = watch::Receiver<Option<Result<Arc<Entry>, Error>>>;

/// How long a session counts as seen after it was last read or created.
const SEEN_FOR: Duration = Duration::from_secs(7 * 24 * 3600);

struct TtlPolicy {
    open: Duration,
    terminal: Duration,
    /// Kept this much longer than fresh, for stale-if-error.
    stale: Duration,
}

impl TtlPolicy {
    /// How long an entry is kept from now: fresh, then stale-if-error (a
    /// copy from Redis arrives part-way through its fresh time).
    fn lifetime(&self, entry: &Entry) -> Duration {
        (entry.fresh_for + self.stale).saturating_sub(entry.age())
    }

    /// How long a copy is fresh: by status, and never past the moment
    /// `expires_at` changes the derived status.
    fn fresh_for(&self, session: &CheckoutSession) -> Duration {
        if session.status.is_terminal() {
            return self.terminal;
        }
        let until_expiry = session
            .expires_at
            .and_then(|at| (at - Utc::now()).to_std().ok())
            .filter(|left| !left.is_zero());
        match until_expiry {
            Some(left) => left.min(self.open),
            None => self.open,
        }
    }
}

impl SessionCache {
    /// The cache `config` describes; its Redis tier, if any, connects at
    /// [`SessionCache::start`].
    pub fn new(config: &GatewayConfig, metrics: Arc<Metrics>) -> Result<SessionCache, ConfigError> {
        let policy = Arc::new(TtlPolicy {
            open: Duration::from_secs(config.cache.open_ttl_secs),
            terminal: Duration::from_secs(config.cache.terminal_ttl_secs),
            stale: Duration::from_secs(config.resilience.stale_if_error_secs),
        });
        // One replica reads the vendor for an id while the others wait:
        // for as long as a vendor read may take, and a little more.
        let vendor_read = Duration::from_millis(config.resilience.deadline_ms);
        let shared = SharedTier::new(
            &config.cache,
            vendor_read + Duration::from_secs(1),
            metrics.clone(),
        )?;
        let config = &config.cache;
        let on_evict = metrics.clone();
        let inner = Cache::builder()
            .max_capacity(config.max_entries)
            .expire_after(ExpiryRef(policy.clone()))
            .eviction_listener(move |_key, entry: Arc<Entry>, cause| {
                on_evict.cache_bytes_removed(entry.body.len() as u64);
                let cause = match cause {
                    RemovalCause::Expired => "evicted_expired",
                    RemovalCause::Size => "evicted_size",
                    RemovalCause::Replaced => "evicted_replaced",
                    RemovalCause::Explicit => "evicted_explicit",
                };
                on_evict.cache_event(cause);
            })
            .build();
        Ok(SessionCache {
            inner,
            policy,
            metrics,
            flights: Arc::default(),
            // Ids only, a few dozen bytes each: four times the sessions held.
            seen: moka::sync::Cache::builder()
                .max_capacity(config.max_entries.saturating_mul(4))
                .time_to_idle(SEEN_FOR)
                .build(),
            shared,
        })
    }

    /// Connect the Redis tier, if any, in the background: the gateway
    /// serves whether or not Redis answers.
    pub fn start(&self) {
        if let Some(shared) = &self.shared {
            shared.start(self.inner.clone());
        }
    }

    /// The Redis tier's state: `None` without one, else whether Redis
    /// answered last.
    pub fn shared_up(&self) -> Option<bool> {
        self.shared.as_ref().map(|s| s.is_up())
    }

    /// Whether this session has passed through the gateway (read or
    /// created) within the last week, as far as memory allows.
    pub fn has_seen(&self, id: &str) -> bool {
        self.seen.contains_key(id)
    }

    /// Sessions held now (for the metrics), after moka's pending housekeeping.
    pub async fn entry_count(&self) -> u64 {
        self.inner.run_pending_tasks().await;
        self.inner.entry_count()
    }

    fn entry(&self, fetched: &Fetched) -> Arc<Entry> {
        let session = &fetched.session;
        self.admit(
            &session.id,
            Entry {
                rendered_status: session.status.derived(session.expires_at, Utc::now()),
                vendor_status: session.status,
                expires_at: session.expires_at,
                fresh_for: self.policy.fresh_for(session),
                stored_at: Instant::now(),
                body: render(fetched, false),
                write: new_write_id(),
            },
        )
    }

    /// An entry about to be held (from the vendor or from Redis): counted
    /// and its id remembered.
    fn admit(&self, id: &str, entry: Entry) -> Arc<Entry> {
        self.seen.insert(id.to_owned(), ());
        self.metrics.cache_bytes_added(entry.body.len() as u64);
        Arc::new(entry)
    }

    /// A fresh copy, counted as a hit: the hot path, read without taking
    /// the per-key lock.
    pub async fn fresh(&self, id: &str) -> Option<Arc<Entry>> {
        let entry = self.inner.get(id).await.filter(|e| e.is_fresh())?;
        self.metrics.cache_event(CacheOutcome::Hit.header_value());
        Some(entry)
    }

    /// A fresh cached session, or the result of `fetch`. Concurrent misses
    /// for one id make one upstream call, and all see its outcome: the
    /// session, or the same error. When `fetch` fails and a copy younger
    /// than the stale window exists, that copy is served instead. Errors
    /// are never cached.
    pub async fn get_or_fetch<F>(&self, id: &str, fetch: F) -> Result<Read, Error>
    where
        F: Future<Output = Result<Fetched, Error>>,
    {
        let mut fetch = Some(fetch);
        loop {
            if let Some(entry) = self.fresh(id).await {
                return Ok(Read {
                    entry,
                    outcome: CacheOutcome::Hit,
                });
            }
            let joined = {
                let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
                match flights.get(id) {
                    Some(flight) => Err(flight.clone()),
                    None => {
                        let (landed, flight) = watch::channel(None);
                        flights.insert(id.to_owned(), flight);
                        Ok(landed)
                    }
                }
            };
            let mut flight = match joined {
                Ok(landed) => {
                    // The leader. Its flight ends with it, even when its
                    // caller goes away (the others then try again).
                    let _landing = Landing {
                        flights: &self.flights,
                        id,
                    };
                    // A caller leads at most once: leading always returns.
                    let fetch = fetch.take().ok_or_else(|| {
                        Error::new(ErrorCode::Internal, "a read led its flight twice")
                    })?;
                    let result = self.compute(id, fetch).await;
                    match &result {
                        Ok(read) => {
                            landed.send_replace(Some(Ok(read.entry.clone())));
                        }
                        // The leader's own budget is no answer for the
                        // others: they try again (dropping `landed`).
                        Err(e) if e.code == ErrorCode::TooManyRequests => {}
                        Err(e) => {
                            landed.send_replace(Some(Err(e.clone())));
                        }
                    }
                    return result;
                }
                Err(flight) => flight,
            };
            // A follower: the leader's outcome, or (leader cancelled) a new try.
            let landed = match flight.wait_for(Option::is_some).await {
                Ok(landed) => landed.clone(),
                Err(_) => None,
            };
            if let Some(result) = landed {
                let entry = result?;
                self.metrics.cache_event(CacheOutcome::Hit.header_value());
                return Ok(Read {
                    entry,
                    outcome: CacheOutcome::Hit,
                });
            }
        }
    }

    /// The vendor read behind a miss, serialised per id by moka, with
    /// stale-if-error.
    async fn compute<F>(&self, id: &str, fetch: F) -> Result<Read, Error>
    where
        F: Future<Output = Result<Fetched, Error>>,
    {
        let outcome = AtomicU8::new(CacheOutcome::Hit.code());
        // A hit to the client either way; the metrics tell them apart.
        let from_redis = AtomicBool::new(false);
        let stale_window = self.policy.stale;
        let computed = self
            .inner
            .entry_by_ref(id)
            .and_try_compute_with(|existing| async {
                if let Some(e) = &existing {
                    if e.value().is_fresh() {
                        return Ok(Op::Nop);
                    }
                }
                match self.fill(id, fetch).await {
                    Ok((entry, Filled::Vendor)) => {
                        outcome.store(CacheOutcome::Miss.code(), Ordering::Relaxed);
                        Ok(Op::Put(entry))
                    }
                    Ok((entry, Filled::Redis)) => {
                        from_redis.store(true, Ordering::Relaxed);
                        Ok(Op::Put(entry))
                    }
                    Err(err) => match existing {
                        Some(e)
                            if !stale_window.is_zero()
                                && e.value().age() <= e.value().fresh_for + stale_window =>
                        {
                            tracing::warn!(code = ?err.code, "vendor failed; serving a stale copy");
                            outcome.store(CacheOutcome::Stale.code(), Ordering::Relaxed);
                            Ok(Op::Nop)
                        }
                        _ => Err(err),
                    },
                }
            })
            .await?;
        let entry = match computed {
            CompResult::Inserted(e) | CompResult::ReplacedWith(e) | CompResult::Unchanged(e) => {
                e.into_value()
            }
            CompResult::StillNone(_) | CompResult::Removed(_) => {
                return Err(Error::new(
                    ErrorCode::Internal,
                    "cache lost an entry it was computing",
                ))
            }
        };
        let outcome = CacheOutcome::from_code(outcome.load(Ordering::Relaxed));
        self.metrics
            .cache_event(if from_redis.load(Ordering::Relaxed) {
                "shared_hit"
            } else {
                outcome.header_value()
            });
        Ok(Read { entry, outcome })
    }

    /// The copy for a local miss: another replica's from Redis, else the
    /// vendor's answer (read by one replica at a time), shared.
    async fn fill<F>(&self, id: &str, fetch: F) -> Result<(Arc<Entry>, Filled), Error>
    where
        F: Future<Output = Result<Fetched, Error>>,
    {
        let Some(shared) = &self.shared else {
            return Ok((self.entry(&fetch.await?), Filled::Vendor));
        };
        let lock = match shared.claim(id).await {
            Claim::Copy(entry) => return Ok((self.admit(id, entry), Filled::Redis)),
            Claim::Vendor(lock) => lock,
        };
        // A failed read lets go of the lock as it drops.
        let entry = self.entry(&fetch.await?);
        // Shared before the lock goes, so the replicas waiting find it.
        shared.store(id, &entry).await;
        if let Some(lock) = lock {
            lock.release().await;
        }
        Ok((entry, Filled::Vendor))
    }

    /// Hold a session the gateway has just read or written at the vendor,
    /// in both tiers (the other replicas drop their older copy).
    pub async fn insert(&self, id: String, fetched: &Fetched) -> Arc<Entry> {
        let entry = self.entry(fetched);
        // Local first: our own invalidation message then finds this write.
        self.inner.insert(id.clone(), entry.clone()).await;
        if let Some(shared) = &self.shared {
            shared.store(&id, &entry).await;
        }
        entry
    }

    /// A vendor listed this session with fewer fields than its get answers
    /// (so the listing cannot stand in for it): a cached copy whose status
    /// the listing contradicts is dropped, so the next read asks the vendor.
    /// Whether a copy was dropped.
    pub async fn contradicted(&self, session: &CheckoutSession) -> bool {
        let Some(entry) = self.inner.get(&session.id).await else {
            return false;
        };
        if entry.vendor_status == session.status {
            return false;
        }
        self.inner.invalidate(&session.id).await;
        if let Some(shared) = &self.shared {
            shared.forget(&session.id).await;
        }
        true
    }
}

/// Where a local miss was filled from.
enum Filled {
    Vendor,
    /// Another replica's copy.
    Redis,
}

/// Ends a read's flight when its leader is done or dropped.
struct Landing<'a> {
    flights: &'a Mutex<HashMap<String, Flight>>,
    id: &'a str,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        self.flights
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(self.id);
    }
}

/// moka owns its expiry policy; the cache keeps a handle to the same one.
struct ExpiryRef(Arc<TtlPolicy>);

impl Expiry<String, Arc<Entry>> for ExpiryRef {
    fn expire_after_create(&self, _: &String, entry: &Arc<Entry>, _: Instant) -> Option<Duration> {
        Some(self.0.lifetime(entry))
    }

    fn expire_after_update(
        &self,
        _: &String,
        entry: &Arc<Entry>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(self.0.lifetime(entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkout_core::Status;

    fn session(status: Status, expires_in: Option<chrono::Duration>) -> CheckoutSession {
        let body = br#"{"session":{"id":"che_1","customer_id":"cus_1","plan_version_id":"plv_1","status":"CREATED","checkout_type":"SELF_SERVE","created_at":"2026-01-19T10:00:00Z"}}"#;
        let mut s = adapter_meteroid::read::session_body("default", body).unwrap();
        s.status = status;
        s.expires_at = expires_in.map(|d| Utc::now() + d);
        s
    }

    #[test]
    fn a_copy_past_its_expiry_is_rendered_again_as_expired() {
        let open = session(Status::Open, Some(chrono::Duration::seconds(-10)));
        // Rendered while it was still open (status as the vendor said).
        let body = Bytes::from(serde_json::to_vec(&open).unwrap());
        let entry = Entry {
            body: body.clone(),
            rendered_status: Status::Open,
            vendor_status: Status::Open,
            expires_at: open.expires_at,
            stored_at: Instant::now(),
            fresh_for: Duration::ZERO,
            write: 0,
        };
        let now: serde_json::Value = serde_json::from_slice(&entry.body()).unwrap();
        assert_eq!(now["status"], "expired");
        assert_eq!(now["id"], open.id);

        let unchanged = Entry {
            rendered_status: Status::Expired,
            ..entry
        };
        assert_eq!(unchanged.body(), body, "the pre-rendered bytes, untouched");
    }

    #[test]
    fn ttl_by_status_and_never_past_expiry() {
        let p = TtlPolicy {
            open: Duration::from_secs(5),
            terminal: Duration::from_secs(3600),
            stale: Duration::ZERO,
        };
        assert_eq!(
            p.fresh_for(&session(Status::Complete, None)),
            Duration::from_secs(3600)
        );
        assert_eq!(
            p.fresh_for(&session(Status::Open, None)),
            Duration::from_secs(5)
        );
        assert_eq!(
            p.fresh_for(&session(Status::Open, Some(chrono::Duration::hours(1)))),
            Duration::from_secs(5)
        );
        let short = p.fresh_for(&session(Status::Open, Some(chrono::Duration::seconds(2))));
        assert!(
            short <= Duration::from_secs(2) && short > Duration::from_secs(1),
            "{short:?}"
        );
        assert_eq!(
            p.fresh_for(&session(
                Status::Processing,
                Some(chrono::Duration::seconds(-10))
            )),
            Duration::from_secs(5)
        );
    }
}
