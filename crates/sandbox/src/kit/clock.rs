//! "Now" as the vendors' databases keep it.

use chrono::{DateTime, SubsecRound, Utc};

/// Postgres `timestamptz` precision: microseconds.
pub(crate) fn now_micros() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// JavaScript's `Date.now()`: epoch milliseconds.
pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}
