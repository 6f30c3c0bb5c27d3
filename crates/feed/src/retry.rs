//! The webhook retry schedule, Standard Webhooks style: a first attempt at
//! once, then retries after about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::later_by;

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
    next_attempt_on(&SCHEDULE, attempt, now, retry_after, jitter)
}

/// [`next_attempt`] on another schedule (an operator's, or a test's short
/// one): `schedule.len() + 1` attempts in all, `GiveUp` after the last.
pub fn next_attempt_on(
    schedule: &[Duration],
    attempt: u32,
    now: DateTime<Utc>,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Next {
    let index = attempt.max(1) as usize - 1;
    let Some(base) = schedule.get(index) else {
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
    Next::RetryAt(later_by(now, delay))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-04T13:20:00Z")
            .unwrap()
            .to_utc()
    }

    fn delay(next: Next) -> Duration {
        match next {
            Next::RetryAt(at) => (at - t0()).to_std().unwrap(),
            Next::GiveUp => panic!("gave up"),
        }
    }

    const MIDDLE: f64 = 0.5;

    #[test]
    fn middle_jitter_is_the_schedule_itself() {
        let expected = [5, 300, 1800, 7200, 18000, 36000, 36000].map(Duration::from_secs);
        for (attempt, expected) in (1..).zip(expected) {
            assert_eq!(
                delay(next_attempt(attempt, t0(), None, MIDDLE)),
                expected,
                "after attempt {attempt}"
            );
        }
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        for (index, base) in SCHEDULE.into_iter().enumerate() {
            let attempt = index as u32 + 1;
            let lowest = delay(next_attempt(attempt, t0(), None, 0.0));
            let highest = delay(next_attempt(attempt, t0(), None, 0.999_999));
            assert_eq!(lowest, base.mul_f64(0.8), "attempt {attempt}");
            assert!(
                highest < base.mul_f64(1.2),
                "attempt {attempt}: {highest:?}"
            );
            assert!(
                highest > base.mul_f64(1.199),
                "attempt {attempt}: {highest:?}"
            );
        }
    }

    #[test]
    fn jitter_out_of_range_is_clamped() {
        let base = SCHEDULE[1];
        assert_eq!(delay(next_attempt(2, t0(), None, -3.0)), base.mul_f64(0.8));
        assert_eq!(delay(next_attempt(2, t0(), None, 7.0)), base.mul_f64(1.2));
        assert_eq!(delay(next_attempt(2, t0(), None, f64::NAN)), base);
        assert_eq!(delay(next_attempt(2, t0(), None, f64::INFINITY)), base);
    }

    #[test]
    fn retry_after_longer_than_the_schedule_is_honoured() {
        let asked = Duration::from_secs(120);
        assert_eq!(delay(next_attempt(1, t0(), Some(asked), MIDDLE)), asked);
    }

    #[test]
    fn retry_after_shorter_than_the_schedule_does_not_hurry_it() {
        let asked = Duration::from_secs(1);
        assert_eq!(
            delay(next_attempt(3, t0(), Some(asked), MIDDLE)),
            SCHEDULE[2]
        );
    }

    #[test]
    fn retry_after_is_capped_at_a_day() {
        for asked in [Duration::from_secs(7 * 86400), Duration::MAX] {
            assert_eq!(
                delay(next_attempt(1, t0(), Some(asked), MIDDLE)),
                RETRY_AFTER_CAP
            );
        }
    }

    #[test]
    fn gives_up_once_the_last_retry_has_failed() {
        assert_eq!(MAX_ATTEMPTS, 8);
        assert!(matches!(
            next_attempt(MAX_ATTEMPTS - 1, t0(), None, MIDDLE),
            Next::RetryAt(_)
        ));
        for attempt in [MAX_ATTEMPTS, MAX_ATTEMPTS + 1, u32::MAX] {
            assert_eq!(
                next_attempt(attempt, t0(), Some(Duration::from_secs(5)), MIDDLE),
                Next::GiveUp,
                "attempt {attempt}"
            );
        }
    }

    #[test]
    fn another_schedule_gives_one_attempt_more_than_its_delays() {
        let short = [Duration::from_secs(1), Duration::from_secs(2)];
        let on = |attempt| next_attempt_on(&short, attempt, t0(), None, MIDDLE);
        assert_eq!(delay(on(1)), short[0]);
        assert_eq!(delay(on(2)), short[1]);
        assert_eq!(on(3), Next::GiveUp);
        assert_eq!(
            delay(next_attempt_on(
                &short,
                1,
                t0(),
                Some(Duration::from_secs(3)),
                MIDDLE
            )),
            Duration::from_secs(3)
        );
        // No delays: the first failure is the last.
        assert_eq!(next_attempt_on(&[], 1, t0(), None, MIDDLE), Next::GiveUp);
    }

    #[test]
    fn attempt_zero_counts_as_the_first() {
        assert_eq!(
            next_attempt(0, t0(), None, MIDDLE),
            next_attempt(1, t0(), None, MIDDLE)
        );
    }
}
