//! The webhook retry schedule, Standard Webhooks style: a first attempt at
//! once, then retries after about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::add;

/// Delay before retry `n` (the delay after failed attempt `n`, 1-based).
pub const SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// Attempts in all: the first, then one per [`SCHEDULE`] entry.
pub const MAX_ATTEMPTS: u32 = SCHEDULE.len() as u32 + 1;

/// The longest `Retry-After` honoured: a receiver cannot park a delivery for days.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(24 * 3600);

/// Jitter spreads retries over ±this share of the delay, so that endpoints
/// that failed together do not all come back together.
const JITTER_SHARE: f64 = 0.2;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    RetryAt(DateTime<Utc>),
    GiveUp,
}

/// After failed attempt number `attempt` (1-based): the schedule's delay
/// with ±20 % jitter (`jitter` in [0, 1), e.g. `rand::random()`; out of range
/// is clamped), but at least `retry_after` when the receiver sent one (capped
/// at [`RETRY_AFTER_CAP`]); `GiveUp` once attempt [`MAX_ATTEMPTS`] has failed.
pub fn next_attempt(
    attempt: u32,
    now: DateTime<Utc>,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Next {
    let index = attempt.max(1) as usize - 1;
    let Some(base) = SCHEDULE.get(index) else {
        return Next::GiveUp;
    };
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let factor = 1.0 - JITTER_SHARE + 2.0 * JITTER_SHARE * jitter;
    let mut delay = base.mul_f64(factor);
    if let Some(retry_after) = retry_after {
        delay = delay.max(retry_after.min(RETRY_AFTER_CAP));
    }
    Next::RetryAt(add(now, delay))
}
