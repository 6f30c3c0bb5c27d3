//! The flows behind the routes, without HTTP types: reading a session
//! (cache, coalescing, the vendor) and creating one (input checks,
//! idempotency, the vendor), listing across vendors, cancelling, and
//! polling tracked sessions for the change feed.

pub mod cancel;
pub mod create;
pub mod input;
pub mod list;
pub mod poll;
pub mod read;
pub mod resolve;
pub mod route;
pub mod stripe_list;
pub mod webhooks;
