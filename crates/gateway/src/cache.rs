//! Session cache (PRODUCT §5): moka, keyed by canonical id. Open sessions
//! live briefly, terminal ones long, and never past the moment `expires_at`
//! changes the derived status. Concurrent misses for one id share one
//! upstream call.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use checkout_core::{CheckoutSession, Error, Fetched};
use moka::future::Cache;
use moka::Expiry;

use crate::config::CacheConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    Miss,
    Bypass,
}

impl CacheOutcome {
    pub fn header_value(self) -> &'static str {
        match self {
            CacheOutcome::Hit => "hit",
            CacheOutcome::Miss => "miss",
            CacheOutcome::Bypass => "bypass",
        }
    }
}

#[derive(Clone)]
pub struct SessionCache {
    inner: Cache<String, Arc<Fetched>>,
}

struct TtlPolicy {
    open: Duration,
    terminal: Duration,
}

impl TtlPolicy {
    fn ttl(&self, session: &CheckoutSession) -> Duration {
        if session.status.is_terminal() {
            return self.terminal;
        }
        let until_expiry = session
            .expires_at
            .and_then(|at| (at - chrono::Utc::now()).to_std().ok())
            .filter(|left| !left.is_zero());
        match until_expiry {
            Some(left) => left.min(self.open),
            None => self.open,
        }
    }
}

impl Expiry<String, Arc<Fetched>> for TtlPolicy {
    fn expire_after_create(
        &self,
        _: &String,
        value: &Arc<Fetched>,
        _: Instant,
    ) -> Option<Duration> {
        Some(self.ttl(&value.session))
    }

    fn expire_after_update(
        &self,
        _: &String,
        value: &Arc<Fetched>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(self.ttl(&value.session))
    }
}

impl SessionCache {
    pub fn new(config: &CacheConfig) -> SessionCache {
        let policy = TtlPolicy {
            open: Duration::from_secs(config.open_ttl_secs),
            terminal: Duration::from_secs(config.terminal_ttl_secs),
        };
        SessionCache {
            inner: Cache::builder()
                .max_capacity(config.max_entries)
                .expire_after(policy)
                .build(),
        }
    }

    /// The cached session, or the result of `fetch` (shared by every
    /// concurrent caller of the same id; errors are never cached).
    pub async fn get_or_fetch<F>(
        &self,
        id: &str,
        fetch: F,
    ) -> Result<(Arc<Fetched>, CacheOutcome), Arc<Error>>
    where
        F: Future<Output = Result<Arc<Fetched>, Error>>,
    {
        let entry = self
            .inner
            .entry_by_ref(id)
            .or_try_insert_with(fetch)
            .await?;
        let outcome = if entry.is_fresh() {
            CacheOutcome::Miss
        } else {
            CacheOutcome::Hit
        };
        Ok((entry.into_value(), outcome))
    }

    pub async fn insert(&self, id: String, fetched: Arc<Fetched>) {
        self.inner.insert(id, fetched).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkout_core::Status;
    use chrono::Utc;

    fn session(status: Status, expires_in: Option<chrono::Duration>) -> CheckoutSession {
        let body = br#"{"session":{"id":"che_1","customer_id":"cus_1","plan_version_id":"plv_1","status":"CREATED","checkout_type":"SELF_SERVE","created_at":"2026-01-19T10:00:00Z"}}"#;
        let mut s = adapter_meteroid::convert::session_body("default", body).unwrap();
        s.status = status;
        s.expires_at = expires_in.map(|d| Utc::now() + d);
        s
    }

    #[test]
    fn ttl_by_status_and_never_past_expiry() {
        let p = TtlPolicy {
            open: Duration::from_secs(5),
            terminal: Duration::from_secs(3600),
        };
        assert_eq!(
            p.ttl(&session(Status::Complete, None)),
            Duration::from_secs(3600)
        );
        assert_eq!(p.ttl(&session(Status::Open, None)), Duration::from_secs(5));
        assert_eq!(
            p.ttl(&session(Status::Open, Some(chrono::Duration::hours(1)))),
            Duration::from_secs(5)
        );
        let short = p.ttl(&session(Status::Open, Some(chrono::Duration::seconds(2))));
        assert!(
            short <= Duration::from_secs(2) && short > Duration::from_secs(1),
            "{short:?}"
        );
        assert_eq!(
            p.ttl(&session(
                Status::Processing,
                Some(chrono::Duration::seconds(-10))
            )),
            Duration::from_secs(5)
        );
    }
}
