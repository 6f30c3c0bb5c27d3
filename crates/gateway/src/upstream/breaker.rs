//! A circuit breaker per vendor account: after N consecutive failed calls
//! it fails fast for a while, then lets one probe through; the probe's
//! outcome closes it or opens it again. One sick account never slows the
//! others, and a dead vendor is not hammered.
//!
//! Every state change starts a new generation, and an outcome counts only
//! in the generation its call was admitted in: a call that left before the
//! breaker opened cannot close it by succeeding late.

use std::sync::Mutex;
use std::time::Duration;

use checkout_core::{Error, ErrorCode};
// tokio's clock is std's, except that a test can pause and advance it: the
// open period then passes at once instead of in real sleeps.
use tokio::time::Instant;

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
    inner: Mutex<Generation>,
}

#[derive(Debug)]
struct Generation {
    state: Inner,
    /// Bumped on every state change.
    number: u64,
}

/// Permission to make one call; report its outcome with [`Breaker::record`].
#[must_use]
pub struct Admission {
    generation: u64,
}

/// What one admitted call says about the vendor's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The vendor answered as a healthy vendor does (a "no" included).
    Healthy,
    /// The vendor failed.
    Failed,
    /// Says nothing either way (e.g. a failure a caller could provoke by
    /// choosing the request): neither counts nor resets.
    Neutral,
}

impl Breaker {
    pub fn new(threshold: u32, open_for: Duration) -> Breaker {
        Breaker {
            threshold,
            open_for,
            inner: Mutex::new(Generation {
                state: Inner::Closed { failures: 0 },
                number: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generation> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn state(&self) -> BreakerState {
        match self.lock().state {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { .. } => BreakerState::Open,
            Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// May a call go out now? An open breaker answers 503 with `Retry-After`.
    pub fn admit(&self, provider: &str) -> Result<Admission, Error> {
        let mut generation = self.lock();
        let now = Instant::now();
        let probe_from = match generation.state {
            Inner::Closed { .. } => {
                return Ok(Admission {
                    generation: generation.number,
                })
            }
            Inner::Open { until } => until,
            // A probe that never reported back: another may go after a period.
            Inner::HalfOpen { since } => since + self.open_for,
        };
        if now < probe_from {
            return Err(open_error(provider, probe_from - now));
        }
        generation.enter(Inner::HalfOpen { since: now });
        Ok(Admission {
            generation: generation.number,
        })
    }

    /// Count the outcome of an admitted call, if the breaker is still in
    /// the generation that admitted it.
    pub fn record(&self, admission: Admission, verdict: Verdict) {
        let mut generation = self.lock();
        if admission.generation != generation.number {
            return;
        }
        let next = match (&mut generation.state, verdict) {
            (_, Verdict::Neutral) => return,
            (Inner::Closed { failures }, Verdict::Healthy) => {
                *failures = 0;
                return;
            }
            (Inner::Closed { failures }, Verdict::Failed) if *failures + 1 < self.threshold => {
                *failures += 1;
                return;
            }
            (_, Verdict::Healthy) => Inner::Closed { failures: 0 },
            (_, Verdict::Failed) => Inner::Open {
                until: Instant::now() + self.open_for,
            },
        };
        generation.enter(next);
    }
}

impl Generation {
    /// A change of state: outcomes of calls admitted before it no longer count.
    fn enter(&mut self, state: Inner) {
        self.state = state;
        self.number += 1;
    }
}

impl Verdict {
    /// What a call's outcome says. `trusted` is false for a read of a
    /// session the gateway has never seen: whoever picks such ids can make
    /// a vendor fail on them (Frontier's legacy REST answers 500 for some),
    /// so there only failures no id can cause count — the vendor could not
    /// be reached, said it is unavailable, or did not answer in time.
    pub fn of(outcome: Result<(), &Error>, trusted: bool) -> Verdict {
        match outcome {
            Ok(()) => Verdict::Healthy,
            Err(e) if !counts_as_failure(e) => Verdict::Healthy,
            Err(e)
                if trusted
                    || e.not_sent
                    || matches!(
                        e.code,
                        ErrorCode::ProviderUnavailable | ErrorCode::ProviderTimeout
                    ) =>
            {
                Verdict::Failed
            }
            Err(_) => Verdict::Neutral,
        }
    }
}

/// The vendor failing, as opposed to refusing a request or rate limiting.
pub fn counts_as_failure(e: &Error) -> bool {
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

    // The open period passes on tokio's paused clock, not in real sleeps.
    #[tokio::test(start_paused = true)]
    async fn opens_after_threshold_then_half_opens_with_one_probe() {
        let b = Breaker::new(3, Duration::from_millis(50));
        for _ in 0..2 {
            let a = b.admit("x").unwrap();
            b.record(a, Verdict::of(Err(&fail()), true));
        }
        assert_eq!(b.state(), BreakerState::Closed);
        let a = b.admit("x").unwrap();
        b.record(a, Verdict::of(Err(&fail()), true));
        assert_eq!(b.state(), BreakerState::Open);
        let refused = b.admit("x").err().unwrap();
        assert_eq!(refused.http_status, 503);
        assert!(refused.retry_after.is_some());

        // Paused time makes the edge exact: still open just before it.
        tokio::time::advance(Duration::from_millis(40)).await;
        assert!(b.admit("x").is_err(), "open until the period ends");
        tokio::time::advance(Duration::from_millis(20)).await;
        let probe = b.admit("x").unwrap();
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.admit("x").is_err(), "only one probe at a time");
        b.record(probe, Verdict::of(Err(&fail()), true));
        assert_eq!(
            b.state(),
            BreakerState::Open,
            "a failed probe opens it again"
        );

        tokio::time::advance(Duration::from_millis(60)).await;
        let probe = b.admit("x").unwrap();
        b.record(probe, Verdict::of(Ok(()), true));
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
            b.record(a, Verdict::of(Err(&Error::new(code, "no")), true));
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn a_success_resets_the_count() {
        let b = Breaker::new(2, Duration::from_secs(60));
        let a = b.admit("x").unwrap();
        b.record(a, Verdict::of(Err(&fail()), true));
        let a = b.admit("x").unwrap();
        b.record(a, Verdict::of(Ok(()), true));
        let a = b.admit("x").unwrap();
        b.record(a, Verdict::of(Err(&fail()), true));
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn a_late_success_does_not_close_an_open_breaker() {
        let b = Breaker::new(1, Duration::from_secs(60));
        // Admitted while closed, answers after the breaker has opened.
        let early = b.admit("x").unwrap();
        let failing = b.admit("x").unwrap();
        b.record(failing, Verdict::of(Err(&fail()), true));
        assert_eq!(b.state(), BreakerState::Open);
        b.record(early, Verdict::of(Ok(()), true));
        assert_eq!(
            b.state(),
            BreakerState::Open,
            "a call admitted before the breaker opened does not close it"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stale_result_does_not_decide_the_probe() {
        let b = Breaker::new(1, Duration::from_millis(20));
        let early = b.admit("x").unwrap();
        let failing = b.admit("x").unwrap();
        b.record(failing, Verdict::of(Err(&fail()), true));
        tokio::time::advance(Duration::from_millis(30)).await;
        let probe = b.admit("x").unwrap();
        assert_eq!(b.state(), BreakerState::HalfOpen);
        b.record(early, Verdict::of(Ok(()), true));
        assert_eq!(b.state(), BreakerState::HalfOpen, "only the probe decides");
        b.record(probe, Verdict::of(Ok(()), true));
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn failures_on_unseen_sessions_count_only_when_no_id_could_cause_them() {
        let b = Breaker::new(1, Duration::from_secs(60));
        for code in [ErrorCode::ProviderError, ErrorCode::ProviderBadResponse] {
            let a = b.admit("x").unwrap();
            b.record(a, Verdict::of(Err(&Error::new(code, "no")), false));
        }
        assert_eq!(b.state(), BreakerState::Closed);
        let a = b.admit("x").unwrap();
        b.record(
            a,
            Verdict::of(
                Err(&Error::new(ErrorCode::ProviderUnavailable, "down")),
                false,
            ),
        );
        assert_eq!(b.state(), BreakerState::Open);
    }
}
