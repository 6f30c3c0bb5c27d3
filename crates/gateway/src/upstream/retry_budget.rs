//! A retry budget per account, as in Finagle and Linkerd: over the last
//! [`RETRY_BUDGET_WINDOW`], retries may add at most a share (`ratio`) of
//! the first attempts, plus a floor so that a quiet account can still
//! retry. Every caller of a sick vendor retries out of one budget, so
//! retries add at most that share to its load, however many callers fail.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::upstream::window::SlidingWindow;

/// How far back first attempts and retries count.
pub const RETRY_BUDGET_WINDOW: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, Default)]
struct Attempts {
    first: u32,
    retries: u32,
}

#[derive(Debug)]
pub struct RetryBudget {
    ratio: f64,
    /// Retries allowed in any window on top of the share.
    floor: f64,
    attempts: Mutex<SlidingWindow<Attempts>>,
}

impl RetryBudget {
    /// `ratio` retries per first attempt, and `min_per_sec` retries a
    /// second whatever the traffic.
    pub fn new(ratio: f64, min_per_sec: u32) -> RetryBudget {
        RetryBudget {
            ratio,
            floor: f64::from(min_per_sec) * RETRY_BUDGET_WINDOW.as_secs_f64(),
            attempts: Mutex::new(SlidingWindow::new(RETRY_BUDGET_WINDOW)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlidingWindow<Attempts>> {
        self.attempts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A first attempt went out to the vendor: the budget grows by `ratio`.
    pub fn first_attempt(&self) {
        let mut attempts = self.lock();
        let bucket = attempts.at(Instant::now());
        bucket.first = bucket.first.saturating_add(1);
    }

    /// May one retry go out now? If so it is spent from the budget.
    pub fn spend(&self) -> bool {
        let now = Instant::now();
        let mut attempts = self.lock();
        let (first, retries) = attempts.live(now).fold((0u32, 0u32), |(f, r), a| {
            (f.saturating_add(a.first), r.saturating_add(a.retries))
        });
        if f64::from(retries) + 1.0 > self.ratio * f64::from(first) + self.floor {
            return false;
        }
        let bucket = attempts.at(now);
        bucket.retries = bucket.retries.saturating_add(1);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn retries_are_a_share_of_first_attempts_plus_the_floor() {
        // A floor of 1 a second is 10 retries in the window.
        let budget = RetryBudget::new(0.2, 1);
        for _ in 0..100 {
            budget.first_attempt();
        }
        let granted = (0..100).filter(|_| budget.spend()).count();
        assert_eq!(granted, 30, "100 × 0.2 + 10");
        // As the window moves on, spent retries are forgotten.
        tokio::time::advance(RETRY_BUDGET_WINDOW).await;
        let granted = (0..100).filter(|_| budget.spend()).count();
        assert_eq!(granted, 10, "the floor alone");
    }

    #[test]
    fn without_a_floor_a_quiet_account_waits_for_calls() {
        let budget = RetryBudget::new(0.5, 0);
        budget.first_attempt();
        assert!(!budget.spend(), "half a retry is none");
        budget.first_attempt();
        assert!(budget.spend());
        assert!(!budget.spend());
    }
}
