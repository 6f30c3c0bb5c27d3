//! `POST /_sandbox/<vendor>/fill`: many sessions at once, for paging tests
//! and benchmarks. The kit reads the body and spreads creation times; each
//! vendor writes its own records (`Vendor::fill`), with its own statuses
//! and time rules.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::clock::now_micros;
use super::control::{Body, ControlError};
use super::mount::Vendor;

pub(crate) const MAX_COUNT: usize = 100_000;
pub(crate) const MAX_DAYS: u32 = 3650;
const DEFAULT_DAYS: i64 = 30;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FillBody {
    count: i64,
    #[serde(default)]
    days: Option<i64>,
}

/// What to make: `count` sessions created over the `days` before `now`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fill {
    pub count: usize,
    pub now: DateTime<Utc>,
    /// Between two consecutive creations (at least 864 ms: a day over
    /// 100 000), so every vendor's timestamp precision keeps them distinct.
    step: TimeDelta,
}

impl Fill {
    pub(crate) fn new(count: usize, days: u32, now: DateTime<Utc>) -> Fill {
        let span = TimeDelta::days(i64::from(days))
            .num_microseconds()
            .unwrap_or(i64::MAX);
        let per = i64::try_from(count.max(1)).unwrap_or(i64::MAX);
        Fill {
            count,
            now,
            step: TimeDelta::microseconds(span / per),
        }
    }

    /// The `i`-th session's creation (0 = oldest): evenly spread, the newest
    /// one step before now, so no two share a time and paging order is fixed.
    pub(crate) fn created_at(&self, i: usize) -> DateTime<Utc> {
        let back = i32::try_from(self.count - i).unwrap_or(i32::MAX);
        self.now - self.step * back
    }

    /// `at`, unless that is still to come: then now (a session cannot have
    /// been completed in the future).
    pub(crate) fn past(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        at.min(self.now)
    }
}

/// Session `i`'s place in every hundred (each value once per hundred, in a
/// scattered order): vendors split their status mix on it, so the mix is
/// exact and the same on every run, and no status clusters in time.
pub(crate) fn slot(i: usize) -> usize {
    (i * 37 + 11) % 100
}

/// The route, over any vendor.
pub(crate) fn router<V: Vendor>(vendor: Arc<V>) -> Router {
    Router::new()
        .route("/fill", post(fill::<V>))
        .with_state(vendor)
}

/// `count` and `days` within their bounds, or which one is not.
pub(crate) fn checked(count: usize, days: u32) -> Result<(usize, u32), String> {
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(format!("count: must be between 1 and {MAX_COUNT}"));
    }
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(format!("days: must be between 1 and {MAX_DAYS}"));
    }
    Ok((count, days))
}

/// The body's numbers, checked; negative or huge ones fail like others.
fn from_body(body: FillBody) -> Result<(usize, u32), ControlError> {
    let count = usize::try_from(body.count).unwrap_or(0);
    let days = u32::try_from(body.days.unwrap_or(DEFAULT_DAYS)).unwrap_or(0);
    checked(count, days).map_err(ControlError::bad_request)
}

async fn fill<V: Vendor>(
    State(vendor): State<Arc<V>>,
    Body(body): Body<FillBody>,
) -> Result<(StatusCode, Json<Value>), ControlError> {
    let (count, days) = from_body(body)?;
    let plan = Fill::new(count, days, now_micros());
    // Thousands of records under a store lock: off the async workers.
    let made = tokio::task::spawn_blocking(move || vendor.fill(&plan))
        .await
        .map_err(|e| ControlError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok((StatusCode::CREATED, Json(json!({ "created": made }))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_distinct_ascending_and_in_the_window() {
        let now = now_micros();
        let fill = Fill::new(100_000, 1, now);
        let first = fill.created_at(0);
        let last = fill.created_at(99_999);
        assert!(first >= now - TimeDelta::days(1) && last < now);
        assert!(fill.created_at(1) - first >= TimeDelta::milliseconds(864));
        assert!(first < fill.created_at(1));
    }

    #[test]
    fn slots_cover_each_hundred_once() {
        let mut seen: Vec<usize> = (0..100).map(slot).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn bounds_name_the_field() {
        let bad = |count, days| {
            from_body(FillBody { count, days })
                .err()
                .map(|e| format!("{e:?}"))
        };
        assert!(bad(0, None).is_some_and(|e| e.contains("count")));
        assert!(bad(100_001, None).is_some_and(|e| e.contains("count")));
        assert!(bad(1, Some(0)).is_some_and(|e| e.contains("days")));
        assert!(bad(1, Some(3651)).is_some_and(|e| e.contains("days")));
        assert!(bad(-1, None).is_some_and(|e| e.contains("count")));
        assert!(bad(1, Some(-5)).is_some_and(|e| e.contains("days")));
        assert_eq!(
            from_body(FillBody {
                count: 5,
                days: None
            })
            .ok(),
            Some((5, 30))
        );
    }
}
