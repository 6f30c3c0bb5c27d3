//! Whether Redis answers. A failure is counted each time and logged once
//! per outage (and once when Redis is back); after one, Redis is left
//! alone for a moment, so that a Redis that hangs costs one request in
//! that moment a timeout, not every request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::telemetry::metrics::Metrics;

/// How long requests leave Redis alone after a failure; the next one
/// after that tries again.
const REST_AFTER_FAILURE: Duration = Duration::from_secs(1);

pub struct Health {
    metrics: Arc<Metrics>,
    /// Whether the last operation succeeded: the hot path's one read.
    up: AtomicBool,
    outage: Mutex<Outage>,
}

#[derive(Default)]
struct Outage {
    since: Option<Instant>,
    /// Requests skip Redis until then.
    rest_until: Option<Instant>,
    /// Whether Redis ever answered (the first success says so once).
    ever_up: bool,
}

impl Health {
    pub fn new(metrics: Arc<Metrics>) -> Health {
        Health {
            metrics,
            up: AtomicBool::new(false),
            outage: Mutex::default(),
        }
    }

    fn outage(&self) -> std::sync::MutexGuard<'_, Outage> {
        self.outage.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a request may use Redis now.
    pub fn may_try(&self) -> bool {
        self.is_up()
            || self
                .outage()
                .rest_until
                .is_none_or(|until| Instant::now() >= until)
    }

    /// Whether Redis answered the last operation.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// An operation failed (`why` never holds the password: redis-rs
    /// errors name the failure).
    pub fn failed(&self, op: &'static str, why: &str) {
        self.metrics.redis_error(op);
        // Under the lock, as in `ok`: the flag and the outage agree.
        let mut outage = self.outage();
        self.up.store(false, Ordering::Relaxed);
        let now = Instant::now();
        outage.rest_until = Some(now + REST_AFTER_FAILURE);
        if outage.since.is_none() {
            outage.since = Some(now);
            tracing::warn!(
                op,
                error = %why,
                "Redis unavailable: reads go on from the local cache and the vendor \
                 (counted in checkout_gateway_redis_errors_total)"
            );
        }
    }

    /// An operation succeeded.
    pub fn ok(&self) {
        if self.is_up() {
            return;
        }
        let mut outage = self.outage();
        self.up.store(true, Ordering::Relaxed);
        outage.rest_until = None;
        let first = !outage.ever_up;
        outage.ever_up = true;
        match outage.since.take() {
            Some(since) => tracing::info!(
                down_for_ms = u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX),
                "Redis answers again: the shared cache tier is back"
            ),
            None if first => tracing::info!("Redis connected: the shared cache tier is on"),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_rests_redis_and_a_success_ends_the_outage() {
        let metrics = Arc::new(Metrics::new());
        let health = Health::new(metrics.clone());
        assert!(health.may_try() && !health.is_up(), "untried");
        health.failed("read", "refused");
        health.failed("read", "refused");
        assert!(!health.may_try(), "resting after a failure");
        assert!(!health.is_up());
        let text = metrics.render();
        assert!(
            text.contains(r#"checkout_gateway_redis_errors_total{op="read"} 2"#),
            "{text}"
        );
        health.ok();
        assert!(health.may_try() && health.is_up());
    }
}
