//! A circuit breaker per vendor account: after N consecutive failed calls
//! it fails fast for a while, then lets one probe through; the probe's
//! outcome closes it or opens it again. One sick account never slows the
//! others, and a dead vendor is not hammered.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use checkout_core::{Error, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug)]
enum Inner {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is out; everyone else fails fast until it returns (or,
    /// if it never reports back, until another open period has passed).
    HalfOpen {
        since: Instant,
    },
}

#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    open_for: Duration,
    inner: Mutex<Inner>,
}

/// Permission to make one call; report its outcome with [`Breaker::record`].
#[must_use]
pub struct Admission;

impl Breaker {
    pub fn new(threshold: u32, open_for: Duration) -> Breaker {
        Breaker {
            threshold,
            open_for,
            inner: Mutex::new(Inner::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { .. } => BreakerState::Open,
            Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// May a call go out now? An open breaker answers 503 with `Retry-After`.
    pub fn admit(&self, provider: &str) -> Result<Admission, Error> {
        let mut inner = self.lock();
        match *inner {
            Inner::Closed { .. } => Ok(Admission),
            Inner::Open { until } => {
                let now = Instant::now();
                if now >= until {
                    *inner = Inner::HalfOpen { since: now };
                    Ok(Admission)
                } else {
                    Err(open_error(provider, until - now))
                }
            }
            Inner::HalfOpen { since } => {
                let now = Instant::now();
                if now >= since + self.open_for {
                    *inner = Inner::HalfOpen { since: now };
                    Ok(Admission)
                } else {
                    Err(open_error(provider, since + self.open_for - now))
                }
            }
        }
    }

    /// Count the outcome of an admitted call.
    pub fn record(&self, _admission: Admission, outcome: Result<(), &Error>) {
        let mut inner = self.lock();
        let failed = outcome.err().is_some_and(counts_as_failure);
        *inner = match (&*inner, failed) {
            (_, false) => Inner::Closed { failures: 0 },
            (Inner::Closed { failures }, true) if failures + 1 < self.threshold => Inner::Closed {
                failures: failures + 1,
            },
            (_, true) => Inner::Open {
                until: Instant::now() + self.open_for,
            },
        };
    }
}

/// The vendor failing, as opposed to refusing a request or rate limiting.
fn counts_as_failure(e: &Error) -> bool {
    matches!(
        e.code,
        ErrorCode::ProviderError
            | ErrorCode::ProviderUnavailable
            | ErrorCode::ProviderTimeout
            | ErrorCode::ProviderBadResponse
    )
}

fn open_error(provider: &str, retry_in: Duration) -> Error {
    Error::new(
        ErrorCode::ProviderUnavailable,
        format!("{provider} is failing; calls to this account are paused"),
    )
    .with_provider(provider)
    .with_retry_after(Some(Duration::from_secs(
        retry_in.as_secs_f64().ceil().max(1.0) as u64,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail() -> Error {
        Error::new(ErrorCode::ProviderError, "boom")
    }

    #[test]
    fn opens_after_threshold_then_half_opens_with_one_probe() {
        let b = Breaker::new(3, Duration::from_millis(50));
        for _ in 0..2 {
            let a = b.admit("x").unwrap();
            b.record(a, Err(&fail()));
        }
        assert_eq!(b.state(), BreakerState::Closed);
        let a = b.admit("x").unwrap();
        b.record(a, Err(&fail()));
        assert_eq!(b.state(), BreakerState::Open);
        let refused = b.admit("x").err().unwrap();
        assert_eq!(refused.http_status, 503);
        assert!(refused.retry_after.is_some());

        std::thread::sleep(Duration::from_millis(60));
        let probe = b.admit("x").unwrap();
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.admit("x").is_err(), "only one probe at a time");
        b.record(probe, Err(&fail()));
        assert_eq!(
            b.state(),
            BreakerState::Open,
            "a failed probe opens it again"
        );

        std::thread::sleep(Duration::from_millis(60));
        let probe = b.admit("x").unwrap();
        b.record(probe, Ok(()));
        assert_eq!(b.state(), BreakerState::Closed, "a good probe closes it");
    }

    #[test]
    fn caller_mistakes_and_rate_limits_do_not_count() {
        let b = Breaker::new(1, Duration::from_secs(60));
        for code in [
            ErrorCode::NotFound,
            ErrorCode::ProviderInvalidRequest,
            ErrorCode::RateLimited,
            ErrorCode::ProviderAuthFailed,
        ] {
            let a = b.admit("x").unwrap();
            b.record(a, Err(&Error::new(code, "no")));
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn a_success_resets_the_count() {
        let b = Breaker::new(2, Duration::from_secs(60));
        let a = b.admit("x").unwrap();
        b.record(a, Err(&fail()));
        let a = b.admit("x").unwrap();
        b.record(a, Ok(()));
        let a = b.admit("x").unwrap();
        b.record(a, Err(&fail()));
        assert_eq!(b.state(), BreakerState::Closed);
    }
}
