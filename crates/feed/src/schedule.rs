//! When to poll an open session next: often while it is young (most
//! checkouts finish within minutes), then backing off, with one poll just
//! after it expires to catch a completion at the last moment.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::later_by;

/// Age from which a session is polled every `slow_every`.
pub const SLOW_FROM_AGE: Duration = Duration::from_secs(3600);

/// No poll is planned sooner than this after now, whatever the policy says:
/// a tight loop against a vendor is never the answer.
pub const MIN_GAP: Duration = Duration::from_secs(1);

/// Poll intervals by a session's age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    /// Interval while the session is younger than `early_for`.
    pub early_every: Duration,
    pub early_for: Duration,
    /// Interval from `early_for` until [`SLOW_FROM_AGE`].
    pub later_every: Duration,
    /// Interval from [`SLOW_FROM_AGE`] on.
    pub slow_every: Duration,
    /// The poll after `expires_at` comes this long after it.
    pub after_expiry: Duration,
    /// A terminal session's tracked row is kept this long (for vendor
    /// webhook hints, and to know it was seen); terminal sessions are not polled.
    pub terminal_grace: Duration,
}

impl Default for PollPolicy {
    fn default() -> PollPolicy {
        PollPolicy {
            early_every: Duration::from_secs(10),
            early_for: Duration::from_secs(10 * 60),
            later_every: Duration::from_secs(60),
            slow_every: Duration::from_secs(5 * 60),
            after_expiry: Duration::from_secs(2),
            terminal_grace: Duration::from_secs(10 * 60),
        }
    }
}

/// The next poll of an open session: by age (from `created_at`), never later
/// than `expires_at + after_expiry` while that is still ahead (so one poll
/// lands just after expiry), never sooner than now + [`MIN_GAP`].
pub fn next_poll(
    policy: &PollPolicy,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    // A creation time ahead of our clock (vendor skew) counts as age zero.
    let age = (now - created_at).to_std().unwrap_or(Duration::ZERO);
    let every = if age < policy.early_for {
        policy.early_every
    } else if age < SLOW_FROM_AGE {
        policy.later_every
    } else {
        policy.slow_every
    };
    let mut at = later_by(now, every);
    if let Some(expires_at) = expires_at {
        let just_after = later_by(expires_at, policy.after_expiry);
        if just_after > now {
            at = at.min(just_after);
        }
    }
    at.max(later_by(now, MIN_GAP))
}

/// The next try after a failed poll: `min(2^failures × early_every,
/// slow_every)` from now (and never sooner than now + [`MIN_GAP`]).
pub fn after_failure(policy: &PollPolicy, failures: u32, now: DateTime<Utc>) -> DateTime<Utc> {
    let factor = 1u32.checked_shl(failures).unwrap_or(u32::MAX);
    let backoff = policy
        .early_every
        .saturating_mul(factor)
        .min(policy.slow_every);
    later_by(now, backoff.max(MIN_GAP))
}

/// Until when a session that became terminal at `terminal_at` stays tracked.
pub fn keep_terminal_until(policy: &PollPolicy, terminal_at: DateTime<Utc>) -> DateTime<Utc> {
    later_by(terminal_at, policy.terminal_grace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-04T13:20:00Z")
            .unwrap()
            .to_utc()
    }

    fn secs(n: i64) -> TimeDelta {
        TimeDelta::seconds(n)
    }

    /// The gap from now to the next poll of a session created `age` ago.
    fn gap_at_age(age: TimeDelta, expires_in: Option<TimeDelta>) -> TimeDelta {
        let now = t0();
        let policy = PollPolicy::default();
        next_poll(&policy, now - age, expires_in.map(|e| now + e), now) - now
    }

    #[test]
    fn polls_by_age_band() {
        for (age, gap) in [
            (secs(0), secs(10)),
            (secs(10 * 60 - 1), secs(10)),
            (secs(10 * 60), secs(60)),
            (secs(3600 - 1), secs(60)),
            (secs(3600), secs(300)),
            (TimeDelta::days(3), secs(300)),
        ] {
            assert_eq!(gap_at_age(age, None), gap, "age {age}");
        }
    }

    #[test]
    fn a_creation_time_ahead_of_the_clock_counts_as_new() {
        assert_eq!(gap_at_age(secs(-120), None), secs(10));
    }

    #[test]
    fn one_poll_lands_just_after_expiry() {
        // Early band (10 s) but expiry + 2 s comes first.
        assert_eq!(gap_at_age(secs(0), Some(secs(3))), secs(5));
        // Slow band (5 min): expiry in 1 min pulls the poll in to 62 s.
        assert_eq!(gap_at_age(TimeDelta::days(1), Some(secs(60))), secs(62));
        // Expiry further off than the band: the band rules.
        assert_eq!(gap_at_age(TimeDelta::days(1), Some(secs(600))), secs(300));
        // Expired a second ago: the after-expiry poll is a second ahead.
        assert_eq!(gap_at_age(secs(0), Some(secs(-1))), secs(1));
    }

    #[test]
    fn once_the_after_expiry_poll_has_passed_the_band_rules_again() {
        assert_eq!(gap_at_age(secs(0), Some(secs(-2))), secs(10));
        assert_eq!(gap_at_age(secs(0), Some(secs(-60))), secs(10));
        assert_eq!(gap_at_age(TimeDelta::days(1), Some(secs(-60))), secs(300));
    }

    #[test]
    fn never_sooner_than_a_second_from_now() {
        let now = t0();
        let policy = PollPolicy::default();
        // Expired 1.5 s ago: expiry + 2 s is 0.5 s ahead, moved to 1 s.
        let expires_at = now - TimeDelta::milliseconds(1500);
        assert_eq!(
            next_poll(&policy, now, Some(expires_at), now),
            now + secs(1)
        );
        let eager = PollPolicy {
            early_every: Duration::ZERO,
            after_expiry: Duration::ZERO,
            ..PollPolicy::default()
        };
        assert_eq!(next_poll(&eager, now, None, now), now + secs(1));
        assert_eq!(after_failure(&eager, 3, now), now + secs(1));
    }

    #[test]
    fn failures_back_off_doubling_up_to_the_slow_interval() {
        let now = t0();
        let policy = PollPolicy::default();
        for (failures, gap) in [
            (0, secs(10)),
            (1, secs(20)),
            (2, secs(40)),
            (4, secs(160)),
            (5, secs(300)),
            (31, secs(300)),
            (32, secs(300)),
            (u32::MAX, secs(300)),
        ] {
            assert_eq!(
                after_failure(&policy, failures, now) - now,
                gap,
                "{failures} failures"
            );
        }
    }

    #[test]
    fn terminal_rows_are_kept_for_the_grace() {
        let policy = PollPolicy::default();
        assert_eq!(keep_terminal_until(&policy, t0()), t0() + secs(600));
    }

    #[test]
    fn absurd_intervals_saturate_instead_of_panicking() {
        let now = t0();
        let policy = PollPolicy {
            early_every: Duration::MAX,
            slow_every: Duration::MAX,
            after_expiry: Duration::MAX,
            terminal_grace: Duration::MAX,
            ..PollPolicy::default()
        };
        assert_eq!(next_poll(&policy, now, None, now), DateTime::<Utc>::MAX_UTC);
        assert_eq!(
            next_poll(&policy, now, Some(now), now),
            DateTime::<Utc>::MAX_UTC
        );
        assert_eq!(after_failure(&policy, 9, now), DateTime::<Utc>::MAX_UTC);
        assert_eq!(keep_terminal_until(&policy, now), DateTime::<Utc>::MAX_UTC);
    }
}
