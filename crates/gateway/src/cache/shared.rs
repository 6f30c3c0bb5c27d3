//! The shared tier (PRODUCT §10, `cache.redis_url`): Redis holds each
//! rendered session for as long as it is fresh, so a replica that misses
//! its own tier reads another replica's copy before asking the vendor.
//! A write is published, and the other replicas drop their local copy.
//! Of the replicas that miss both tiers, one reads the vendor (it holds
//! the id's lock, a token only it knows) while the others wait for its
//! copy. Every operation is bounded by `cache.redis_timeout_ms` and may
//! fail: the read then goes on from the local tier and the vendor.

mod health;
mod invalidation;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use checkout_core::Status;
use chrono::{DateTime, Utc};
use moka::future::Cache;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::RedisResult;

use super::Entry;
use crate::config::{CacheConfig, ConfigError};
use crate::telemetry::metrics::Metrics;
use health::Health;

/// Longest wait to connect or subscribe, off the request path.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Waits between connection attempts, doubling up to the second.
const RECONNECT_FIRST: Duration = Duration::from_millis(200);
const RECONNECT_MAX: Duration = Duration::from_secs(5);
/// Waits between looks while another replica reads the vendor.
const POLL_FIRST: Duration = Duration::from_millis(5);
const POLL_MAX: Duration = Duration::from_millis(50);

/// Deletes the lock only while it still holds the caller's token: a lock
/// that expired and was taken by another replica is not the caller's.
const COMPARE_AND_DELETE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
";

pub struct SharedTier {
    client: redis::Client,
    /// Set once the first connection is made; it reconnects by itself.
    conn: OnceLock<ConnectionManager>,
    prefix: String,
    timeout: Duration,
    /// How long one replica may hold an id's vendor read, and how long
    /// the others wait for it at most.
    lock_for: Duration,
    health: Health,
    metrics: Arc<Metrics>,
    started: AtomicBool,
}

/// What Redis holds for an id.
struct Look {
    copy: Option<Entry>,
    /// A replica is reading the vendor for it.
    locked: bool,
}

/// What a replica that missed its own tier does next.
pub enum Claim {
    /// Another replica's copy.
    Copy(Entry),
    /// Ask the vendor: holding the id's lock, or without it when Redis
    /// failed or the wait for another replica ran out.
    Vendor(Option<Lock>),
}

impl SharedTier {
    /// The tier `config` names, if any; nothing connects until
    /// [`SharedTier::start`].
    pub fn new(
        config: &CacheConfig,
        lock_for: Duration,
        metrics: Arc<Metrics>,
    ) -> Result<Option<Arc<SharedTier>>, ConfigError> {
        let Some(url) = &config.redis_url else {
            return Ok(None);
        };
        // Never echo the URL: it may hold a password.
        let client = redis::Client::open(url.expose()).map_err(|_| {
            ConfigError::invalid(
                "cache.redis_url",
                "expected `redis://[user:password@]host[:port][/db]`, `rediss://…` (TLS) \
                 or `redis+unix:///path`",
            )
        })?;
        Ok(Some(Arc::new(SharedTier {
            client,
            conn: OnceLock::new(),
            prefix: config.redis_prefix.clone(),
            timeout: Duration::from_millis(config.redis_timeout_ms),
            lock_for,
            health: Health::new(metrics.clone()),
            metrics,
            started: AtomicBool::new(false),
        })))
    }

    /// Connect and subscribe in the background (once): a Redis that is
    /// down at start is retried, and requests never wait for it.
    pub fn start(self: &Arc<Self>, local: Cache<String, Arc<Entry>>) {
        if self.started.swap(true, Ordering::Relaxed) {
            return;
        }
        tokio::spawn(connect(Arc::downgrade(self)));
        tokio::spawn(invalidation::listen(Arc::downgrade(self), local));
    }

    /// Whether Redis answered the last operation.
    pub fn is_up(&self) -> bool {
        self.health.is_up()
    }

    fn session_key(&self, id: &str) -> String {
        format!("{}:session:{id}", self.prefix)
    }

    fn lock_key(&self, id: &str) -> String {
        format!("{}:lock:{id}", self.prefix)
    }

    fn channel(&self) -> String {
        format!("{}:invalidate", self.prefix)
    }

    /// One operation, bounded by the timeout; `None` when Redis is not
    /// connected, resting after a failure, failing or slow.
    async fn call<T, F, Fut>(&self, op: &'static str, run: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if !self.health.may_try() {
            return None;
        }
        // Not connected yet: the connection task counts its failures.
        let conn = self.conn.get()?.clone();
        match within(self.timeout, run(conn)).await {
            Ok(value) => {
                self.health.ok();
                Some(value)
            }
            Err(why) => {
                self.health.failed(op, &why);
                None
            }
        }
    }

    /// The copy Redis holds for `id`, and whether its lock is held.
    async fn look(&self, id: &str) -> Option<Look> {
        let (key, lock) = (self.session_key(id), self.lock_key(id));
        let (value, ttl_ms, locked): (Option<Vec<u8>>, i64, bool) = self
            .call("read", |mut conn| async move {
                redis::pipe()
                    .cmd("GET")
                    .arg(&key)
                    .cmd("PTTL")
                    .arg(&key)
                    .cmd("EXISTS")
                    .arg(&lock)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Some(Look {
            copy: value.and_then(|v| decode(&v, ttl_ms)),
            locked,
        })
    }

    /// Another replica's copy of `id`, or the right to read the vendor:
    /// one replica at a time holds the id's lock; the others wait for its
    /// copy, at most `lock_for`. A waiter whose wait runs out, or whose
    /// holder let go without a copy (its vendor read failed), reads the
    /// vendor itself: correctness over deduplication.
    pub async fn claim(self: &Arc<Self>, id: &str) -> Claim {
        match self.look(id).await {
            Some(Look { copy: Some(e), .. }) => return Claim::Copy(e),
            Some(_) => {}
            None => return Claim::Vendor(None),
        }
        match self.try_lock(id).await {
            None => return Claim::Vendor(None),
            Some(Some(lock)) => {
                // The previous holder may have written its copy and let go
                // between our look and our lock.
                return match self.look(id).await {
                    Some(Look { copy: Some(e), .. }) => {
                        lock.release().await;
                        Claim::Copy(e)
                    }
                    _ => Claim::Vendor(Some(lock)),
                };
            }
            Some(None) => {}
        }
        let give_up_at = Instant::now() + self.lock_for;
        let mut pause = POLL_FIRST;
        while Instant::now() < give_up_at {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(POLL_MAX);
            match self.look(id).await {
                Some(Look { copy: Some(e), .. }) => return Claim::Copy(e),
                Some(Look { locked: true, .. }) => {}
                Some(Look { locked: false, .. }) | None => break,
            }
        }
        Claim::Vendor(None)
    }

    /// `Some(Some(lock))` when taken, `Some(None)` when another replica
    /// holds it, `None` when Redis failed.
    async fn try_lock(self: &Arc<Self>, id: &str) -> Option<Option<Lock>> {
        let key = self.lock_key(id);
        let token = format!("{:032x}", rand::random::<u128>());
        let px = millis(self.lock_for).max(1);
        let (k, t) = (key.clone(), token.clone());
        let taken: Option<String> = self
            .call("lock", |mut conn| async move {
                redis::cmd("SET")
                    .arg(&k)
                    .arg(&t)
                    .arg("NX")
                    .arg("PX")
                    .arg(px)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Some(taken.map(|_| Lock {
            tier: self.clone(),
            key,
            token,
            released: false,
        }))
    }

    /// Delete the lock at `key` if it still holds `token`; whether it did.
    async fn unlock(&self, key: &str, token: &str) -> Option<bool> {
        let (key, token) = (key.to_owned(), token.to_owned());
        let deleted: i64 = self
            .call("unlock", |mut conn| async move {
                redis::Script::new(COMPARE_AND_DELETE)
                    .key(&key)
                    .arg(&token)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Some(deleted == 1)
    }

    /// Share `entry` for as long as it stays fresh, and tell the other
    /// replicas to drop their copy of `id`.
    pub async fn store(&self, id: &str, entry: &Entry) {
        let px = millis(entry.fresh_for.saturating_sub(entry.age()));
        // Nothing fresh to share (`open_ttl_secs = 0`): PX must be positive.
        if px == 0 {
            return;
        }
        let (key, channel) = (self.session_key(id), self.channel());
        let value = encode(entry);
        let message = invalidation::message(entry.write, id);
        self.call("write", |mut conn| async move {
            redis::pipe()
                .cmd("SET")
                .arg(&key)
                .arg(value)
                .arg("PX")
                .arg(px)
                .ignore()
                .cmd("PUBLISH")
                .arg(&channel)
                .arg(message)
                .ignore()
                .query_async::<()>(&mut conn)
                .await
        })
        .await;
    }

    /// Drop the shared copy of `id`, here and on every replica.
    pub async fn forget(&self, id: &str) {
        let (key, channel) = (self.session_key(id), self.channel());
        // A write id no copy has: every replica drops its copy.
        let message = invalidation::message(super::new_write_id(), id);
        self.call("write", |mut conn| async move {
            redis::pipe()
                .cmd("DEL")
                .arg(&key)
                .ignore()
                .cmd("PUBLISH")
                .arg(&channel)
                .arg(message)
                .ignore()
                .query_async::<()>(&mut conn)
                .await
        })
        .await;
    }
}

/// An id's vendor read, held by this replica until released (or dropped:
/// then released in the background, e.g. when the caller went away).
pub struct Lock {
    tier: Arc<SharedTier>,
    key: String,
    token: String,
    released: bool,
}

impl Lock {
    pub async fn release(mut self) {
        self.released = true;
        self.tier.unlock(&self.key, &self.token).await;
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let (tier, key, token) = (
            self.tier.clone(),
            std::mem::take(&mut self.key),
            std::mem::take(&mut self.token),
        );
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { tier.unlock(&key, &token).await });
        }
    }
}

/// Connect once; the connection manager reconnects by itself after that.
async fn connect(tier: std::sync::Weak<SharedTier>) {
    let mut pause = RECONNECT_FIRST;
    loop {
        let Some(t) = tier.upgrade() else {
            return;
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(t.timeout)
            .set_number_of_retries(1)
            .set_max_delay(millis(RECONNECT_MAX));
        let attempt = within(
            CONNECT_TIMEOUT,
            ConnectionManager::new_with_config(t.client.clone(), config),
        )
        .await;
        match attempt {
            Ok(conn) => {
                let _ = t.conn.set(conn);
                t.health.ok();
                return;
            }
            Err(why) => t.health.failed("connect", &why),
        }
        drop(t);
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RECONNECT_MAX);
    }
}

/// `attempt`, bounded by `limit`; a failure as text (Redis' own error,
/// which names the failure, never the password; or the bound).
async fn within<T>(
    limit: Duration,
    attempt: impl Future<Output = RedisResult<T>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, attempt).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("timed out after {} ms", limit.as_millis())),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What Redis holds besides the rendered body: enough to rebuild the
/// local entry.
#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    vendor_status: Status,
    rendered_status: Status,
    expires_at: Option<DateTime<Utc>>,
    fresh_for_ms: u64,
    write: u64,
}

/// The header's JSON, a newline, the body (compact JSON has no raw
/// newline).
fn encode(entry: &Entry) -> Vec<u8> {
    let header = Header {
        vendor_status: entry.vendor_status,
        rendered_status: entry.rendered_status,
        expires_at: entry.expires_at,
        fresh_for_ms: millis(entry.fresh_for),
        write: entry.write,
    };
    // Plain fields always serialise.
    let mut out = serde_json::to_vec(&header).unwrap_or_default();
    out.push(b'\n');
    out.extend_from_slice(&entry.body);
    out
}

/// The entry back, aged by what Redis says is left of its TTL (no clock
/// is compared across replicas); `None` for a value this version cannot
/// read, or one without a TTL (not written here).
fn decode(value: &[u8], ttl_ms: i64) -> Option<Entry> {
    let left = Duration::from_millis(u64::try_from(ttl_ms).ok().filter(|&ms| ms > 0)?);
    let newline = value.iter().position(|&b| b == b'\n')?;
    let header: Header = serde_json::from_slice(&value[..newline]).ok()?;
    let fresh_for = Duration::from_millis(header.fresh_for_ms);
    let age = fresh_for.saturating_sub(left);
    let now = Instant::now();
    Some(Entry {
        body: Bytes::copy_from_slice(&value[newline + 1..]),
        rendered_status: header.rendered_status,
        vendor_status: header.vendor_status,
        expires_at: header.expires_at,
        stored_at: now.checked_sub(age).unwrap_or(now),
        fresh_for,
        write: header.write,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(fresh_for: Duration) -> Entry {
        Entry {
            body: Bytes::from_static(br#"{"id":"meteroid:default:che_1","status":"open"}"#),
            rendered_status: Status::Open,
            vendor_status: Status::Open,
            expires_at: Some(Utc::now() + chrono::Duration::hours(1)),
            stored_at: Instant::now(),
            fresh_for,
            write: 42,
        }
    }

    #[test]
    fn an_entry_comes_back_as_written_aged_by_its_ttl() {
        let written = entry(Duration::from_secs(5));
        let read = decode(&encode(&written), 2_000).expect("readable");
        assert_eq!(read.body, written.body);
        assert_eq!(read.write, 42);
        assert_eq!(read.expires_at, written.expires_at);
        assert_eq!(read.fresh_for, Duration::from_secs(5));
        let age = read.age();
        assert!(
            age >= Duration::from_secs(3) && age < Duration::from_secs(4),
            "{age:?}"
        );
        assert!(read.is_fresh());
        assert!(decode(&encode(&written), -1).is_none(), "no TTL");
        assert!(decode(&encode(&written), -2).is_none(), "gone");
        assert!(
            decode(b"{\"other\":1}\n{}", 1_000).is_none(),
            "another format"
        );
        assert!(decode(b"no newline", 1_000).is_none());
    }

    /// A tier on the test Redis under a prefix of its own, connected.
    async fn tier() -> Option<Arc<SharedTier>> {
        let url = crate::testing::redis_url()?;
        let config = CacheConfig {
            redis_url: Some(checkout_core::Secret::new(url)),
            redis_prefix: crate::testing::unique_redis_prefix(),
            ..CacheConfig::default()
        };
        let tier = SharedTier::new(&config, Duration::from_secs(5), Arc::new(Metrics::new()))
            .expect("a valid URL")
            .expect("configured");
        let local = Cache::builder().max_capacity(10).build();
        tier.start(local);
        for _ in 0..100 {
            if tier.conn.get().is_some() {
                return Some(tier);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{}: Redis did not connect", crate::testing::REDIS_VAR);
    }

    #[tokio::test]
    async fn a_waiter_takes_the_holders_copy_or_reads_the_vendor_itself() {
        let Some(tier) = tier().await else {
            crate::testing::announce_redis_skip();
            return;
        };
        let id = "meteroid:default:che_1";
        let Claim::Vendor(Some(lock)) = tier.claim(id).await else {
            panic!("the first to miss holds the lock");
        };
        let waiter = tokio::spawn({
            let tier = tier.clone();
            async move { tier.claim(id).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "waits while the lock is held");
        tier.store(id, &entry(Duration::from_secs(5))).await;
        lock.release().await;
        match waiter.await.expect("the waiter ends") {
            Claim::Copy(copy) => assert_eq!(copy.write, 42),
            Claim::Vendor(_) => panic!("the holder's copy was there"),
        }

        // A holder that lets go without a copy (its vendor read failed).
        let id = "meteroid:default:che_2";
        let Claim::Vendor(Some(lock)) = tier.claim(id).await else {
            panic!("the first to miss holds the lock");
        };
        let waiter = tokio::spawn({
            let tier = tier.clone();
            async move { tier.claim(id).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        lock.release().await;
        // (Holding the lock itself, should it come after the release.)
        assert!(matches!(
            waiter.await.expect("the waiter ends"),
            Claim::Vendor(_)
        ));
    }

    #[tokio::test]
    async fn only_the_holder_s_token_deletes_a_lock() {
        let Some(tier) = tier().await else {
            crate::testing::announce_redis_skip();
            return;
        };
        let first = tier
            .try_lock("meteroid:default:che_1")
            .await
            .expect("Redis answers")
            .expect("free");
        assert!(
            tier.try_lock("meteroid:default:che_1")
                .await
                .expect("Redis answers")
                .is_none(),
            "held"
        );
        // The lock expired and another replica took it: the first holder's
        // release must leave the new holder's lock alone.
        let key = first.key.clone();
        let taken_over = "another-replica-token";
        tier.call("lock", |mut conn| {
            let key = key.clone();
            async move {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(taken_over)
                    .arg("PX")
                    .arg(5_000)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
        .expect("Redis answers");
        assert_eq!(tier.unlock(&key, &first.token).await, Some(false));
        assert_eq!(tier.unlock(&key, taken_over).await, Some(true));
        assert_eq!(tier.unlock(&key, taken_over).await, Some(false), "gone");
        // Released on drop as well (in the background).
        let dropped = tier
            .try_lock("meteroid:default:che_2")
            .await
            .expect("Redis answers")
            .expect("free");
        drop(dropped);
        let mut free = false;
        for _ in 0..50 {
            if let Some(Some(again)) = tier.try_lock("meteroid:default:che_2").await {
                again.release().await;
                free = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(free, "a dropped lock is released");
        first.release().await;
    }
}
