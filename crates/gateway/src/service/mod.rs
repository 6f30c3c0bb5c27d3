//! The flows behind the routes, without HTTP types: reading a session
//! (cache, coalescing, the vendor) and creating one (input checks,
//! idempotency, the vendor), listing across vendors, cancelling.

pub mod cancel;
pub mod create;
pub mod input;
pub mod list;
pub mod read;
pub mod resolve;
pub mod webhooks;
