//! The end-to-end tests: the real gateway in front of the real sandbox,
//! each on its own loopback socket. One binary, a module per concern: every
//! test binary links the whole gateway, so one binary builds and links once.

mod api;
mod drift;
/// The change feed's pages and stream (`/v1/events`).
mod events;
/// docs/resilience.md's fault matrix, walked and compared.
mod fault_matrix;
/// The change feed: tracking, polling, events from changes.
mod feed_poll;
mod hardening;
mod list;
mod operability;
mod quirks;
/// Several gateways sharing one Redis (`cache.redis_url`).
mod redis_tier;
mod reload;
mod resilience;
/// Migration routing: catalog, customer map, rules, fallback, explain.
mod routing;
mod security;
/// The Stripe-compatible facade: form bodies, objects, errors, id paging.
mod stripe;
mod unknown_outcomes;
/// Vendors' own webhooks (Flowglad's, signed) as hints to the change feed.
mod vendor_webhooks;
/// The checks every vendor passes, for every demo account (table-driven).
mod vendors;
/// Standard Webhooks delivery of the change feed's events.
mod webhooks;

/// Move this test's clock on by `by` at once, for periods the gateway
/// measures in tokio time (the breaker's open period). Time is paused only
/// for the jump: sockets and the sandbox's latency faults keep real time,
/// which `start_paused` would not (it skips ahead whenever every task
/// waits on a socket, firing deadlines early). Needs the current-thread
/// runtime `#[tokio::test]` gives, and tokio's `test-util` (a
/// dev-dependency, so it stays out of workspace builds).
pub async fn skip(by: std::time::Duration) {
    tokio::time::pause();
    tokio::time::advance(by).await;
    tokio::time::resume();
}
