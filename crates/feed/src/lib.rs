//! The change feed's pure rules (PRODUCT §11): which events an observation
//! of a session makes and what they look like, when to poll an open session
//! next, when to retry a webhook delivery, and Standard Webhooks signatures.
//!
//! Nothing here performs I/O or reads the clock: callers pass `now` (and
//! the jitter), so every rule is a plain function a test can pin down. The
//! store keeps the tracked sessions and events; the gateway polls vendors,
//! serves the feed and delivers webhooks.
//!
//! Durations are `std::time::Duration` (what config and HTTP headers give);
//! instants are `chrono::DateTime<Utc>`.

pub mod event;
pub mod retry;
pub mod schedule;
pub mod signature;

pub use event::{changes, event, new_event_id, Event, EventType, Seen, Sighting};
pub use retry::{next_attempt, next_attempt_on, Next};
pub use schedule::{after_failure, next_poll, PollPolicy};
pub use signature::{sign, signature_header, verify, Secret, SecretError, VerifyError};

/// `base + by`, saturating at chrono's range instead of panicking on a
/// duration too large for it (config values are the caller's, not ours).
pub(crate) fn later_by(
    base: chrono::DateTime<chrono::Utc>,
    by: std::time::Duration,
) -> chrono::DateTime<chrono::Utc> {
    chrono::TimeDelta::from_std(by)
        .ok()
        .and_then(|by| base.checked_add_signed(by))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
}
