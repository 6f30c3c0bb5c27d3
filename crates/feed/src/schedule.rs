//! When to poll an open session next: often while it is young (most
//! checkouts finish within minutes), then backing off, with one poll just
//! after it expires to catch a completion at the last moment.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::add;

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
    let mut at = add(now, every);
    if let Some(expires_at) = expires_at {
        let just_after = add(expires_at, policy.after_expiry);
        if just_after > now {
            at = at.min(just_after);
        }
    }
    at.max(add(now, MIN_GAP))
}

/// The next try after a failed poll: `min(2^failures × early_every,
/// slow_every)` from now (and never sooner than now + [`MIN_GAP`]).
pub fn after_failure(policy: &PollPolicy, failures: u32, now: DateTime<Utc>) -> DateTime<Utc> {
    let factor = 1u32.checked_shl(failures).unwrap_or(u32::MAX);
    let backoff = policy
        .early_every
        .saturating_mul(factor)
        .min(policy.slow_every);
    add(now, backoff.max(MIN_GAP))
}

/// Until when a session that became terminal at `terminal_at` stays tracked.
pub fn keep_terminal_until(policy: &PollPolicy, terminal_at: DateTime<Utc>) -> DateTime<Utc> {
    add(terminal_at, policy.terminal_grace)
}
