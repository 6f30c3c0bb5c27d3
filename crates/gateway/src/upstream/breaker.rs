//! A circuit breaker per vendor account. Closed, it counts healthy and
//! failed calls over a sliding window; when enough calls have been made
//! (`min_calls`) and enough of them failed (`failure_ratio`), it opens and
//! fails fast for a while. Then it half-opens: a fixed number of probes go
//! through, and all of them healthy close it (with a fresh window) while
//! one failed opens it again. One sick account never slows the others, and
//! a dead vendor is not hammered. A failure rate, unlike a run of
//! consecutive failures, means the same under many concurrent callers: one
//! success slipping in between failures does not hide a vendor failing
//! most of its calls.
//!
//! Every state change starts a new generation, and an outcome counts only
//! in the generation its call was admitted in: a call that left before the
//! breaker opened cannot close it by succeeding late, nor decide a probe.

use std::sync::Mutex;
use std::time::Duration;

use checkout_core::{Error, ErrorCode};
// tokio's clock is std's, except that a test can pause and advance it: the
// open period then passes at once instead of in real sleeps.
use tokio::time::Instant;

use crate::config::ResilienceConfig;
use crate::upstream::window::SlidingWindow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

/// When a breaker opens and how it recovers.
#[derive(Debug, Clone, Copy)]
pub struct BreakerPolicy {
    /// How far back outcomes count while closed.
    pub window: Duration,
    /// Fewer calls than this in the window never open it.
    pub min_calls: u32,
    /// Failed calls over calls (healthy and failed) that open it.
    pub failure_ratio: f64,
    /// How long it fails fast before probing.
    pub open_for: Duration,
    /// Calls let through while half-open.
    pub probes: u32,
}

impl BreakerPolicy {
    pub fn of(config: &ResilienceConfig) -> BreakerPolicy {
        BreakerPolicy {
            window: Duration::from_secs(config.breaker_window_secs),
            min_calls: config.breaker_min_calls,
            failure_ratio: config.breaker_failure_ratio,
            open_for: Duration::from_secs(config.breaker_open_secs),
            probes: config.breaker_half_open_probes,
        }
    }

    fn trips(&self, outcomes: Outcomes) -> bool {
        let calls = outcomes.healthy.saturating_add(outcomes.failed);
        calls >= self.min_calls.max(1)
            && f64::from(outcomes.failed) >= self.failure_ratio * f64::from(calls)
    }
}

/// Healthy and failed calls, in one bucket of the window or in all of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcomes {
    pub healthy: u32,
    pub failed: u32,
}

#[derive(Debug)]
enum Inner {
    Closed {
        outcomes: SlidingWindow<Outcomes>,
    },
    Open {
        until: Instant,
    },
    /// `admitted` probes are out, `healthy` of them came back healthy;
    /// everyone else fails fast. A probe that never reports back must not
    /// wedge it: once another open period has passed since the round began,
    /// a new round of probes may go.
    HalfOpen {
        since: Instant,
        admitted: u32,
        healthy: u32,
    },
}

#[derive(Debug)]
pub struct Breaker {
    policy: BreakerPolicy,
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
    /// choosing the request): counts as neither.
    Neutral,
}

/// A change of state an outcome caused, for the log and the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Closed → open, on these outcomes in the window.
    Opened(Outcomes),
    /// A probe failed: open again.
    Reopened,
    /// Every probe was healthy.
    Closed,
}

impl Breaker {
    pub fn new(policy: BreakerPolicy) -> Breaker {
        Breaker {
            policy,
            inner: Mutex::new(Generation {
                state: Inner::Closed {
                    outcomes: SlidingWindow::new(policy.window),
                },
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

    /// Whether [`Breaker::admit`] would refuse a call now; admits nothing.
    pub fn would_refuse(&self) -> bool {
        let generation = self.lock();
        let next_round = match &generation.state {
            Inner::Closed { .. } => return false,
            Inner::HalfOpen { admitted, .. } if *admitted < self.policy.probes => return false,
            Inner::HalfOpen { since, .. } => *since + self.policy.open_for,
            Inner::Open { until } => *until,
        };
        Instant::now() < next_round
    }

    /// May a call go out now? An open breaker answers 503 with `Retry-After`.
    pub fn admit(&self, provider: &str) -> Result<Admission, Error> {
        let mut generation = self.lock();
        let current = Admission {
            generation: generation.number,
        };
        let next_round = match &mut generation.state {
            Inner::Closed { .. } => return Ok(current),
            Inner::HalfOpen { admitted, .. } if *admitted < self.policy.probes => {
                *admitted += 1;
                return Ok(current);
            }
            Inner::HalfOpen { since, .. } => *since + self.policy.open_for,
            Inner::Open { until } => *until,
        };
        let now = Instant::now();
        if now < next_round {
            return Err(open_error(provider, next_round - now));
        }
        generation.enter(Inner::HalfOpen {
            since: now,
            admitted: 1,
            healthy: 0,
        });
        Ok(Admission {
            generation: generation.number,
        })
    }

    /// Count the outcome of an admitted call, if the breaker is still in
    /// the generation that admitted it; says how the state changed, if it did.
    pub fn record(&self, admission: Admission, verdict: Verdict) -> Option<Change> {
        let mut generation = self.lock();
        if admission.generation != generation.number {
            return None;
        }
        let now = Instant::now();
        let change = match (&mut generation.state, verdict) {
            (Inner::Closed { .. }, Verdict::Neutral) => return None,
            (Inner::Closed { outcomes }, _) => {
                let bucket = outcomes.at(now);
                if verdict == Verdict::Failed {
                    bucket.failed = bucket.failed.saturating_add(1);
                } else {
                    bucket.healthy = bucket.healthy.saturating_add(1);
                }
                let total = outcomes
                    .live(now)
                    .fold(Outcomes::default(), |sum, b| Outcomes {
                        healthy: sum.healthy.saturating_add(b.healthy),
                        failed: sum.failed.saturating_add(b.failed),
                    });
                if !self.policy.trips(total) {
                    return None;
                }
                Change::Opened(total)
            }
            // Says nothing about the vendor: its place goes to another probe.
            (Inner::HalfOpen { admitted, .. }, Verdict::Neutral) => {
                *admitted = admitted.saturating_sub(1);
                return None;
            }
            (Inner::HalfOpen { healthy, .. }, Verdict::Healthy) => {
                *healthy += 1;
                if *healthy < self.policy.probes {
                    return None;
                }
                Change::Closed
            }
            (Inner::HalfOpen { .. }, Verdict::Failed) => Change::Reopened,
            // Nothing is admitted in an open generation.
            (Inner::Open { .. }, _) => return None,
        };
        generation.enter(match change {
            Change::Closed => Inner::Closed {
                outcomes: SlidingWindow::new(self.policy.window),
            },
            Change::Opened(_) | Change::Reopened => Inner::Open {
                until: now + self.policy.open_for,
            },
        });
        Some(change)
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

    /// Opens at half the calls failed once 10 calls are in a 30 s window;
    /// open for 1 s, then 3 probes.
    fn policy() -> BreakerPolicy {
        BreakerPolicy {
            window: Duration::from_secs(30),
            min_calls: 10,
            failure_ratio: 0.5,
            open_for: Duration::from_secs(1),
            probes: 3,
        }
    }

    fn call(b: &Breaker, verdict: Verdict) -> Option<Change> {
        let admission = b.admit("x").expect("admitted");
        b.record(admission, verdict)
    }

    /// `failed` of every `of` calls fail, spread out: S F S F F for 3 of 5.
    fn spread(failed: usize, of: usize, calls: usize) -> impl Iterator<Item = Verdict> {
        (0..calls).map(move |i| {
            if (i % of) * failed / of != ((i % of) + 1) * failed / of {
                Verdict::Failed
            } else {
                Verdict::Healthy
            }
        })
    }

    /// Open `b` by failing `min_calls` calls, then wait out the open period.
    async fn open_then_wait(b: &Breaker) {
        for _ in 0..policy().min_calls {
            let _ = call(b, Verdict::Failed);
        }
        assert_eq!(b.state(), BreakerState::Open);
        tokio::time::advance(policy().open_for).await;
    }

    // The window and the open period pass on tokio's paused clock, not in
    // real sleeps.
    #[tokio::test(start_paused = true)]
    async fn a_failure_rate_opens_it_though_successes_come_in_between() {
        let b = Breaker::new(policy());
        let verdicts: Vec<Verdict> = spread(3, 5, 10).collect();
        // Never more than two failures in a row: no consecutive rule with a
        // threshold above two would ever open on this.
        assert!(!verdicts
            .windows(3)
            .any(|w| w.iter().all(|v| *v == Verdict::Failed)));
        for (i, verdict) in verdicts.into_iter().enumerate() {
            assert_eq!(b.state(), BreakerState::Closed, "call {i}");
            let change = call(&b, verdict);
            tokio::time::advance(Duration::from_millis(100)).await;
            if i < 9 {
                assert_eq!(change, None, "call {i}: fewer than min_calls");
            } else {
                assert_eq!(
                    change,
                    Some(Change::Opened(Outcomes {
                        healthy: 4,
                        failed: 6
                    }))
                );
            }
        }
        assert_eq!(b.state(), BreakerState::Open);
        let refused = b.admit("x").err().expect("fails fast");
        assert_eq!(refused.http_status, 503);
        assert_eq!(refused.retry_after, Some(Duration::from_secs(1)));
    }

    #[tokio::test(start_paused = true)]
    async fn fewer_calls_than_the_minimum_never_open_it() {
        let b = Breaker::new(policy());
        for _ in 0..9 {
            assert_eq!(call(&b, Verdict::Failed), None);
        }
        assert_eq!(
            b.state(),
            BreakerState::Closed,
            "9 of 9 failed, below 10 calls"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_below_the_ratio_keeps_it_closed() {
        let b = Breaker::new(policy());
        for verdict in spread(2, 5, 200) {
            assert_eq!(call(&b, verdict), None);
            tokio::time::advance(Duration::from_millis(100)).await;
        }
        assert_eq!(b.state(), BreakerState::Closed, "40 % failed");
    }

    #[tokio::test(start_paused = true)]
    async fn the_window_forgets_old_failures() {
        let b = Breaker::new(policy());
        for _ in 0..9 {
            let _ = call(&b, Verdict::Failed);
        }
        tokio::time::advance(policy().window).await;
        // With the nine old failures this would be 13 of 19 failed.
        for verdict in spread(2, 5, 10) {
            assert_eq!(call(&b, verdict), None);
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn half_open_admits_exactly_the_probes_and_all_healthy_close_it() {
        let b = Breaker::new(policy());
        open_then_wait(&b).await;
        let probes: Vec<Admission> = (0..3).map(|_| b.admit("x").expect("a probe")).collect();
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let refused = b.admit("x").err().expect("a fourth call while three probe");
        assert_eq!(refused.http_status, 503);
        assert!(refused.retry_after.is_some());
        let mut probes = probes.into_iter();
        for probe in probes.by_ref().take(2) {
            assert_eq!(b.record(probe, Verdict::Healthy), None);
            assert_eq!(b.state(), BreakerState::HalfOpen, "not before every probe");
        }
        let last = probes.next().expect("the third probe");
        assert_eq!(b.record(last, Verdict::Healthy), Some(Change::Closed));
        assert_eq!(b.state(), BreakerState::Closed);
        // A fresh window: the failures that opened it are gone.
        for _ in 0..9 {
            let _ = call(&b, Verdict::Failed);
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn one_failed_probe_opens_it_again() {
        let b = Breaker::new(policy());
        open_then_wait(&b).await;
        let first = b.admit("x").expect("a probe");
        let second = b.admit("x").expect("a probe");
        let third = b.admit("x").expect("a probe");
        assert_eq!(b.record(first, Verdict::Healthy), None);
        assert_eq!(b.record(second, Verdict::Failed), Some(Change::Reopened));
        assert_eq!(b.state(), BreakerState::Open);
        // The round is over: its last probe, healthy, no longer counts.
        assert_eq!(b.record(third, Verdict::Healthy), None);
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.admit("x").is_err());
        tokio::time::advance(policy().open_for).await;
        assert!(b.admit("x").is_ok(), "probes again after another period");
    }

    #[tokio::test(start_paused = true)]
    async fn probes_that_never_report_back_do_not_wedge_it() {
        let b = Breaker::new(policy());
        open_then_wait(&b).await;
        let lost: Vec<Admission> = (0..3).map(|_| b.admit("x").expect("a probe")).collect();
        tokio::time::advance(Duration::from_millis(900)).await;
        assert!(b.admit("x").is_err(), "the round is still out");
        tokio::time::advance(Duration::from_millis(100)).await;
        let fresh: Vec<Admission> = (0..3).map(|_| b.admit("x").expect("a new round")).collect();
        // The lost round answers at last, all healthy: it decides nothing.
        for probe in lost {
            assert_eq!(b.record(probe, Verdict::Healthy), None);
        }
        assert_eq!(b.state(), BreakerState::HalfOpen);
        for probe in fresh {
            let _ = b.record(probe, Verdict::Healthy);
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_neutral_probe_gives_its_place_to_another() {
        let b = Breaker::new(policy());
        open_then_wait(&b).await;
        let probes: Vec<Admission> = (0..3).map(|_| b.admit("x").expect("a probe")).collect();
        let mut probes = probes.into_iter();
        let neutral = probes.next().expect("a probe");
        assert_eq!(b.record(neutral, Verdict::Neutral), None);
        let another = b.admit("x").expect("the neutral probe's place");
        assert!(b.admit("x").is_err());
        for probe in probes.chain([another]) {
            let _ = b.record(probe, Verdict::Healthy);
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn caller_mistakes_and_rate_limits_do_not_count() {
        let b = Breaker::new(BreakerPolicy {
            min_calls: 1,
            ..policy()
        });
        for code in [
            ErrorCode::NotFound,
            ErrorCode::ProviderInvalidRequest,
            ErrorCode::RateLimited,
            ErrorCode::ProviderAuthFailed,
        ] {
            let a = b.admit("x").unwrap();
            let _ = b.record(a, Verdict::of(Err(&Error::new(code, "no")), true));
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn a_late_success_does_not_close_an_open_breaker() {
        let b = Breaker::new(BreakerPolicy {
            min_calls: 1,
            ..policy()
        });
        // Admitted while closed, answers after the breaker has opened.
        let early = b.admit("x").unwrap();
        let failing = b.admit("x").unwrap();
        let _ = b.record(failing, Verdict::of(Err(&fail()), true));
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.record(early, Verdict::of(Ok(()), true)), None);
        assert_eq!(
            b.state(),
            BreakerState::Open,
            "a call admitted before the breaker opened does not close it"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stale_result_does_not_decide_the_probe() {
        let b = Breaker::new(BreakerPolicy {
            min_calls: 1,
            probes: 1,
            ..policy()
        });
        let early = b.admit("x").unwrap();
        let failing = b.admit("x").unwrap();
        let _ = b.record(failing, Verdict::of(Err(&fail()), true));
        tokio::time::advance(policy().open_for).await;
        let probe = b.admit("x").unwrap();
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let _ = b.record(early, Verdict::of(Ok(()), true));
        assert_eq!(b.state(), BreakerState::HalfOpen, "only the probe decides");
        let _ = b.record(probe, Verdict::of(Ok(()), true));
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn failures_on_unseen_sessions_count_only_when_no_id_could_cause_them() {
        let b = Breaker::new(BreakerPolicy {
            min_calls: 1,
            ..policy()
        });
        for code in [ErrorCode::ProviderError, ErrorCode::ProviderBadResponse] {
            let a = b.admit("x").unwrap();
            let verdict = Verdict::of(Err(&Error::new(code, "no")), false);
            assert_eq!(verdict, Verdict::Neutral);
            let _ = b.record(a, verdict);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        let a = b.admit("x").unwrap();
        let _ = b.record(
            a,
            Verdict::of(
                Err(&Error::new(ErrorCode::ProviderUnavailable, "down")),
                false,
            ),
        );
        assert_eq!(b.state(), BreakerState::Open, "one call, one failure");
    }
}
